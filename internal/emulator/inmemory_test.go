package emulator

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// memClient is a client of srv that counts the connections it dials.
func memClient(srv *InMemoryServer, dials *atomic.Int64) (*http.Client, *http.Transport) {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return srv.DialContext(ctx, network, addr)
	}}
	return &http.Client{Transport: tr}, tr
}

// Over in-memory connections, time in a bubble passes while a keep-alive
// connection waits idle, and the connection is reused after it.
func TestServeInMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := ServeInMemory(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			_, _ = io.WriteString(w, r.Method+" "+r.Host+r.URL.Path+" "+string(body))
		}))
		var dials atomic.Int64
		client, tr := memClient(srv, &dials)
		defer srv.Close()
		defer tr.CloseIdleConnections()

		for i, req := range []struct{ method, body, want string }{
			{http.MethodGet, "", "GET koophone.emulator.test/a "},
			{http.MethodPost, "hello", "POST koophone.emulator.test/a hello"},
			{http.MethodGet, "", "GET koophone.emulator.test/a "},
		} {
			if i == 2 {
				start := time.Now()
				time.Sleep(time.Hour) // would never return over a real socket
				if d := time.Since(start); d != time.Hour {
					t.Errorf("slept %s", d)
				}
			}
			r, err := http.NewRequest(req.method, InMemoryURL+"/a", strings.NewReader(req.body))
			if err != nil {
				t.Fatal(err)
			}
			res, err := client.Do(r)
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || string(b) != req.want {
				t.Errorf("request %d: %q %v, want %q", i, b, err, req.want)
			}
		}
		if n := dials.Load(); n != 1 {
			t.Errorf("%d connections dialled, want 1 kept alive", n)
		}
	})
}

// Close ends the requests in progress, also those whose handler waits on
// its context before reading the body (which closing the connection
// alone would not end), and returns once their handlers have returned.
func TestInMemoryCloseEndsHandlers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var started, returned atomic.Int64
		srv := ServeInMemory(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			started.Add(1)
			defer returned.Add(1)
			<-r.Context().Done()
		}))
		var dials atomic.Int64
		client, tr := memClient(srv, &dials)
		defer tr.CloseIdleConnections()
		errc := make(chan error, 2)
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			go func() {
				r, _ := http.NewRequest(method, InMemoryURL+"/hang", strings.NewReader("an unread body"))
				res, err := client.Do(r)
				if err == nil {
					res.Body.Close()
				}
				errc <- err
			}()
		}
		synctest.Wait()
		if n := started.Load(); n != 2 {
			t.Fatalf("%d handlers started, want 2", n)
		}
		srv.Close()
		if n := returned.Load(); n != 2 {
			t.Errorf("Close returned while %d of 2 handlers ran", 2-n)
		}
		for range 2 {
			if err := <-errc; err == nil {
				t.Error("a request cut short by Close got an answer")
			}
		}
		srv.Close() // again: nothing happens
	})
}

// A hijacked connection (a drop fault) is handed over by the server:
// Close waits for its handler all the same, and the emulator still works.
func TestInMemoryServesFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := bubbleEnv(t, Options{})
		id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded}}})
		v.addFault(Fault{Kind: FaultDrop, Match: pathAsync})
		v.addFault(Fault{Kind: FaultTruncate, Match: id})
		if _, err := v.send(http.MethodPost, pathAsync, `{"command":"ls","instance_ids":["a"]}`); err == nil {
			t.Error("drop: the client got an answer")
		}
		if r, err := v.send(http.MethodGet, "/v1/instances/tasks/"+id, nil); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("truncate: %d %q, err %v, want unexpected EOF", r.status, r.body, err)
		}
		jobsOf(t, v.getTask(id))
	})
}

// DialContext fails once the server is closed, and when its context ends
// before the server takes the connection.
func TestInMemoryDialErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := ServeInMemory(http.NotFoundHandler())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if c, err := srv.DialContext(ctx, "tcp", "koophone.emulator.test:80"); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled dial: %v %v", c, err)
		}
		srv.Close()
		if c, err := srv.DialContext(context.Background(), "tcp", "koophone.emulator.test:80"); err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("dial after Close: %v %v", c, err)
		}
	})
}
