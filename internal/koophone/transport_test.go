package koophone

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/http/httpproxy"
)

func serverCAPEM(ts *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
}

func TestTLSWithExtraCA(t *testing.T) {
	ts := httptest.NewTLSServer(jsonAnswer(200, okTwoJobs))
	defer ts.Close()

	t.Run("untrusted certificate fails at once", func(t *testing.T) {
		c, _ := newTestClient(t, ts.URL, func(c *Config) { c.MaxRetries = 4 })
		_, err := c.GetTask(context.Background(), "t")
		var tErr *TransportError
		if !errors.As(err, &tErr) || !tErr.Certificate || !IsCertificateError(err) {
			t.Fatalf("err = %v, want a certificate TransportError", err)
		}
		if IsTransient(err) {
			t.Error("an untrusted certificate must not be retried")
		}
	})
	t.Run("extra CA", func(t *testing.T) {
		c, _ := newTestClient(t, ts.URL, func(c *Config) { c.Transport.ExtraCAPEM = serverCAPEM(ts) })
		mustGetTask(t, c, "t")
	})
	t.Run("insecure", func(t *testing.T) {
		c, _ := newTestClient(t, ts.URL, func(c *Config) { c.Transport.InsecureSkipVerify = true })
		mustGetTask(t, c, "t")
	})
}

func TestParseCAPEM(t *testing.T) {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	defer ts.Close()
	good := serverCAPEM(ts)
	if certs, err := ParseCAPEM(append(append([]byte{}, good...), good...)); err != nil || len(certs) != 2 {
		t.Errorf("two certificates: %d, %v", len(certs), err)
	}
	bad := map[string]string{
		"":            "no PEM certificate found",
		"not pem":     "no PEM certificate found",
		"private key": "only CERTIFICATE blocks",
		"garbage":     "cannot be parsed",
	}
	inputs := map[string][]byte{
		"":            nil,
		"not pem":     []byte("hello"),
		"private key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}}),
		"garbage":     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}}),
	}
	for name, want := range bad {
		if _, err := ParseCAPEM(inputs[name]); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", name, err, want)
		}
	}
	if _, err := New(Config{Endpoint: "https://x.example", Credentials: TokenCredentials{Token: "t"},
		Transport: TransportOptions{ExtraCAPEM: []byte("nope")}}); err == nil {
		t.Error("New accepted an unusable CA")
	}
}

func TestProxyFromEnvironmentRules(t *testing.T) {
	transport, err := newTransport(TransportOptions{ProxyEnv: &httpproxy.Config{
		HTTPProxy:  "http://proxy.internal:3128",
		HTTPSProxy: "http://secure-proxy.internal:3128",
		NoProxy:    "koophone.direct.example,.corp.example",
	}}, DefaultMaxConcurrentRequests)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"https://koophone.myhuaweicloud.com/v1/instances/tasks/x": "http://secure-proxy.internal:3128",
		"http://emulator.example:8765/v1":                         "http://proxy.internal:3128",
		"https://koophone.direct.example/v1":                      "",
		"https://api.corp.example/v1":                             "",
	}
	for target, want := range cases {
		u, _ := url.Parse(target)
		got, err := transport.Proxy(&http.Request{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		gotStr := ""
		if got != nil {
			gotStr = got.String()
		}
		if gotStr != want {
			t.Errorf("proxy for %s = %q, want %q", target, gotStr, want)
		}
	}
}
