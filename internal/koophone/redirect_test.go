package koophone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
)

// redirectTarget is where the redirects point: another host, with a path
// and a query that carries a token, neither of which may be quoted.
const (
	redirectHost   = "elsewhere.example.test:8443"
	redirectTarget = "http://" + redirectHost + "/x7-harvest/path?token=SECRET"
)

// The client never follows a redirect, whatever the request and whatever
// the 3xx: following it would send the credentials (and a submit's body,
// on 307 and 308) to another host. One request reaches the API, none the
// target; the error is a *RedirectError that names the status and the
// target host but not its path or query; it is not retried, and for a
// submit it is not an unknown outcome (the API did not act).
func TestRedirectsAreNeverFollowed(t *testing.T) {
	requests := map[string]func(ctx context.Context, c *Client) error{
		"GetTask": func(ctx context.Context, c *Client) error {
			_, err := c.GetTask(ctx, "t")
			return err
		},
		"SubmitCommand": func(ctx context.Context, c *Client) error {
			_, err := c.SubmitCommand(ctx, "reboot", []string{"p1"})
			return err
		},
		"InstallApp": func(ctx context.Context, c *Client) error {
			_, err := c.InstallApp(ctx, testInstallRequest)
			return err
		},
		"ListInstances": func(ctx context.Context, c *Client) error {
			_, err := c.ListInstances(ctx, InstanceFilter{})
			return err
		},
	}
	statuses := []int{
		http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect,
	}
	for name, send := range requests {
		for _, status := range statuses {
			t.Run(fmt.Sprintf("%s/%d", name, status), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					api := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("X-Request-Id", "redirect-1")
						http.Redirect(w, r, redirectTarget, status)
					})
					// The target answers every request with success, so
					// that a client that followed the redirect would not
					// fail.
					elsewhere := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
						jsonAnswer(200, okSubmission)(w, r)
					})
					// Connections to the API's host reach the API; any
					// other goes to the redirect's target.
					dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
						if addr == "koophone.emulator.test:80" {
							return api.srv.DialContext(ctx, network, addr)
						}
						return elsewhere.srv.DialContext(ctx, network, addr)
					}
					lim := &countingLimiter{}
					c, _ := newTestClient(t, api.URL, func(c *Config) {
						c.Transport.DialContext = dial
						c.MaxRetries = 4
						c.Limiter = lim
					})
					err := send(context.Background(), c)

					if n := elsewhere.count(); n != 0 {
						t.Errorf("the redirect's target got %d requests (first: %s %s)", n, elsewhere.request(0).Method, elsewhere.request(0).URL)
					}
					if n := api.count(); n != 1 {
						t.Errorf("the API got %d requests, want exactly 1 (no retry)", n)
					}
					if waits, _ := lim.counts(); waits != 1 {
						t.Errorf("%d turns taken, want 1", waits)
					}
					var redirect *RedirectError
					if !errors.As(err, &redirect) {
						t.Fatalf("err = %v (%T), want a *RedirectError", err, err)
					}
					if redirect.HTTPStatus != status || redirect.Host != redirectHost || redirect.RequestID != "redirect-1" {
						t.Errorf("redirect error %+v", redirect)
					}
					msg := err.Error()
					if !strings.Contains(msg, fmt.Sprint(status)) || !strings.Contains(msg, redirectHost) {
						t.Errorf("error %q does not name the status %d and the host %s", msg, status, redirectHost)
					}
					for _, leak := range []string{"/x7-harvest", "x7-harvest", "/path", "?", "token=", "SECRET"} {
						if strings.Contains(msg, leak) {
							t.Errorf("error %q quotes the Location's %q", msg, leak)
						}
					}
					if IsTransient(err) {
						t.Errorf("a redirect is transient: %v", err)
					}
					var unknown *OutcomeUnknownError
					if errors.As(err, &unknown) {
						t.Errorf("a redirected submit is an unknown outcome: %v", err)
					}
				})
			})
		}
	}
}
