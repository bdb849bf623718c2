package provider

import (
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

func (e *accEnv) caPEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.server.Certificate().Raw}))
}

// An HTTPS endpoint signed by a private CA fails with a clear error, and
// works once that CA is trusted through ca_cert_pem, ca_cert_file or (with
// a warning) insecure.
func TestAccProvider_tlsPrivateCA(t *testing.T) {
	e := newAccEnvTLS(t)
	id := e.addSucceededTask()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(e.caPEM()), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := expectState("successful")
	e.parallelTest(
		resource.TestStep{
			Config:      e.providerBlock() + taskBlock(id),
			ExpectError: errRE("KooPhone endpoint's TLS certificate is not trusted", "certificate", "set ca_cert_pem or ca_cert_file"),
		},
		resource.TestStep{Config: e.providerBlock(fmt.Sprintf("ca_cert_pem = %q", e.caPEM())) + taskBlock(id), ConfigStateChecks: ok},
		resource.TestStep{Config: e.providerBlock(fmt.Sprintf("ca_cert_file = %q", caFile)) + taskBlock(id), ConfigStateChecks: ok},
		resource.TestStep{Config: e.providerBlock("insecure = true") + taskBlock(id), ConfigStateChecks: ok},
	)
}

// Bad CA arguments are rejected with the reason, before any request.
func TestAccProvider_invalidCAArguments(t *testing.T) {
	e := newAccEnvTLS(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	notPEM := filepath.Join(t.TempDir(), "notpem.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.parallelTest(
		rejectedAtPlan(e.providerBlock(`ca_cert_pem = "not a certificate"`)+taskBlock("abc"), "Invalid CA certificate", "No PEM certificate found"),
		rejectedAtPlan(e.providerBlock(`ca_cert_pem = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"`)+taskBlock("abc"),
			"Invalid CA certificate", `contains a "RSA PRIVATE KEY" block`),
		rejectedAtPlan(e.providerBlock(fmt.Sprintf("ca_cert_pem = %q", e.caPEM()), fmt.Sprintf("ca_cert_file = %q", notPEM))+taskBlock("abc"),
			"Invalid Attribute Combination", "ca_cert_file"),
		resource.TestStep{
			Config:      e.providerBlock(fmt.Sprintf("ca_cert_file = %q", missing)) + taskBlock("abc"),
			ExpectError: errRE("Cannot read CA certificate file", "missing.pem", "no such file"),
		},
		resource.TestStep{
			Config:      e.providerBlock(fmt.Sprintf("ca_cert_file = %q", notPEM)) + taskBlock("abc"),
			ExpectError: errRE("Invalid CA certificate file", "notpem.pem", "no PEM certificate found"),
		},
	)
	e.checkNoRequests()
}

// connectProxy is a forward proxy that tunnels every CONNECT to one
// upstream address, counting tunnels: enough to prove that the provider
// honours HTTPS_PROXY.
type connectProxy struct {
	upstream string
	tunnels  atomic.Int32
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "this test proxy only tunnels", http.StatusMethodNotAllowed)
		return
	}
	upstream, err := net.Dial("tcp", p.upstream)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	client, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		_ = upstream.Close()
		return
	}
	p.tunnels.Add(1)
	_, _ = client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() {
		_, _ = io.Copy(upstream, buf)
		_ = upstream.Close()
	}()
	_, _ = io.Copy(client, upstream)
	_ = client.Close()
}

// HTTPS_PROXY is honoured: the provider reaches https://example.com (a host
// this machine cannot resolve) only through the proxy, which tunnels to the
// emulator.
func TestAccProvider_httpsProxy(t *testing.T) {
	e := newAccEnvTLS(t)
	id := e.addSucceededTask()
	proxy := &connectProxy{upstream: e.server.Listener.Addr().String()}
	proxyServer := httptest.NewServer(proxy)
	t.Cleanup(proxyServer.Close)
	t.Setenv("HTTPS_PROXY", proxyServer.URL)
	t.Setenv("https_proxy", proxyServer.URL)
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	e.serialTest(resource.TestStep{
		Config:            tokenProvider("https://example.com", fmt.Sprintf("ca_cert_pem = %q", e.caPEM())) + taskBlock(id),
		ConfigStateChecks: expectState("successful"),
	})
	if proxy.tunnels.Load() == 0 {
		t.Error("no request went through the proxy")
	}
}

func TestTransportSettingsWarnings(t *testing.T) {
	m := nullModel()
	m.Insecure = types.BoolValue(true)
	_, diags := transportSettings(m, "https://koophone.myhuaweicloud.com")
	if diags.HasError() || diags.WarningsCount() != 1 || diags.Warnings()[0].Summary() != "TLS verification is disabled" {
		t.Errorf("insecure: %v", diags)
	}

	for endpoint, warn := range map[string]bool{
		"http://koophone.example.com":  true,
		"http://10.0.0.8:8765":         true,
		"http://127.0.0.1:8765":        false,
		"http://[::1]:8765":            false,
		"http://localhost:8765":        false,
		"http://emulator.localhost:80": false,
		"https://koophone.example.com": false,
	} {
		_, diags := transportSettings(nullModel(), endpoint)
		got := diags.WarningsCount() == 1 && diags.Warnings()[0].Summary() == "Credentials sent in clear text"
		if got != warn {
			t.Errorf("%s: clear-text warning = %v, want %v (%v)", endpoint, got, warn, diags)
		}
	}
}

// The KooPhone API never redirects, so the provider never follows a
// redirect: a read, a submit and the phone listing that get a 3xx fail with
// an error naming the status and the target host (not its query), and the
// target host receives nothing (no token). A redirected submit was not
// accepted, so it is not an "outcome unknown".
func TestAccProvider_redirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(target.Close)
	t.Cleanup(func() { // after the parallel subtests
		if n := elsewhere.Load(); n != 0 {
			t.Errorf("the redirect's target received %d requests, want none", n)
		}
	})
	host := target.Listener.Addr().String()
	location := target.URL + "/v1/collect?token=SECRET-QUERY-do-not-show"
	cases := []struct {
		name, match, config string
		status              int
		wantErr             []string
	}{
		{"read", "", "data \"koophone_instance_task\" \"t\" {\n  task_id = \"abc\"\n}\n", http.StatusFound,
			[]string{"KooPhone API answered with a redirect", `Reading task "abc" failed`, "HTTP 302 Found", "a redirect to " + host, "does not follow redirects"}},
		{"submit", "/v1/instances/async-command", "resource \"koophone_instance_command\" \"c\" {\n  command = \"reboot\"\n  instance_ids = [\"phone-1\"]\n}\n",
			http.StatusTemporaryRedirect, []string{"KooPhone API answered with a redirect", "HTTP 307 Temporary Redirect", "a redirect to " + host, "Nothing was submitted"}},
		{"install", "/v1/instances/app/install", "resource \"koophone_instance_app_install\" \"a\" {\n" + installBody(`"phone-1"`, "") + "}\n",
			http.StatusPermanentRedirect, []string{"KooPhone API answered with a redirect", "HTTP 308 Permanent Redirect", "a redirect to " + host, "Nothing was submitted"}},
		{"listing", "/v1/instances/batch-query", "data \"koophone_instances\" \"all\" {}\n", http.StatusMovedPermanently,
			[]string{"KooPhone API answered with a redirect", "GET /v1/instances/batch-query", "HTTP 301 Moved Permanently", "a redirect to " + host}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newAccEnv(t)
			e.addFault(emulator.Fault{Match: c.match, Count: -1, Kind: emulator.FaultRedirect, Status: c.status, Location: location})
			e.parallelTest(resource.TestStep{Config: e.providerBlock() + c.config, ExpectError: errRE(c.wantErr...)})
			if n := len(e.emu.Requests()); n != 1 {
				t.Errorf("%d requests reached the endpoint, want 1: a redirect is not retried", n)
			}
			if n := len(e.emu.TaskIDs()); n != 0 {
				t.Errorf("%d tasks were created", n)
			}
		})
	}
}
