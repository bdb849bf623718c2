package emulator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
)

// InMemoryServer serves an http.Handler over in-memory connections
// (net.Pipe) instead of the network. Tests that run in a testing/synctest
// bubble use it: a goroutine blocked on a real socket is not "durably
// blocked", so the bubble's fake clock would never advance while a client
// keeps a keep-alive connection open; a pipe is. Everything else is real:
// the client's http.Transport, the server's HTTP/1.1, the bytes on the wire.
type InMemoryServer struct {
	server *http.Server
	ln     *pipeListener
	done   chan struct{}
	// stop ends the context of every request, so handlers that wait on it
	// (a delay fault, even on a request whose body was never read, which
	// net/http does not end when the connection closes) return on Close.
	stop context.CancelFunc
	// running counts the connections being served and the handlers
	// running, for Close to wait on.
	running sync.WaitGroup
}

// InMemoryURL is the base URL under which an InMemoryServer is reached: any
// request dialled through its DialContext reaches the handler, whatever
// the host.
const InMemoryURL = "http://koophone.emulator.test"

// ServeInMemory starts serving h. Close it before the test (or the
// synctest bubble) ends, after closing the client's idle connections.
func ServeInMemory(h http.Handler) *InMemoryServer {
	ctx, stop := context.WithCancel(context.Background())
	s := &InMemoryServer{
		ln:   &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})},
		done: make(chan struct{}),
		stop: stop,
	}
	s.server = &http.Server{ //nolint:gosec // in-memory pipes: no slow client to guard against
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Counted apart from its connection, which a handler that
			// hijacks it (a drop or truncate fault) hands over before
			// it returns.
			s.running.Add(1)
			defer s.running.Done()
			h.ServeHTTP(w, r)
		}),
		BaseContext: func(net.Listener) context.Context { return ctx },
		ConnState: func(_ net.Conn, state http.ConnState) {
			switch state {
			case http.StateNew:
				s.running.Add(1)
			case http.StateHijacked, http.StateClosed:
				s.running.Done()
			}
		},
	}
	go func() {
		defer close(s.done)
		_ = s.server.Serve(s.ln)
	}()
	return s
}

// DialContext opens a new connection to the server, for
// http.Transport.DialContext. The network and address are ignored.
func (s *InMemoryServer) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // select would pick at random between it and a ready Accept
	}
	client, server := net.Pipe()
	var err error
	select {
	case s.ln.conns <- server:
		return client, nil
	case <-s.ln.closed:
		err = errors.New("in-memory server closed")
	case <-ctx.Done():
		err = ctx.Err()
	}
	client.Close()
	server.Close()
	return nil, err
}

// Close stops the server: it closes every connection, ends the context of
// the requests in progress, and waits for the goroutines that serve them
// (handlers included) to end, so that nothing runs the handler once it
// returns. A handler that ignores its request's context can keep it
// waiting. Calling Close again does nothing.
func (s *InMemoryServer) Close() {
	_ = s.server.Close()
	s.stop() // after: a handler that returns now cannot answer any more
	<-s.done // Serve has returned: no connection is added any more
	s.running.Wait()
}

// pipeListener is a net.Listener whose connections come from DialContext.
type pipeListener struct {
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "koophone.emulator.test:80" }
