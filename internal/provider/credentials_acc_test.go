package provider

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// Acceptance tests of AK/SK signing, temporary credentials and the
// credential precedence, with the real Terraform CLI against an emulator
// that verifies signatures with its own implementation.

// Distinctive AK/SK values, to search logs and state for.
const (
	accAK = "ACCEXAMPLEACCESSKEY7"
	accSK = "acc-SECRET-KEY-3b1f0c2e-do-not-leak"
	accST = "acc-SECURITY-TOKEN-91d2-do-not-leak"
)

// clearCredentialEnv unsets every credential variable for the test, so
// that the machine's own environment cannot interfere.
func clearCredentialEnv(t *testing.T) {
	for _, name := range []string{
		"KOOPHONE_TOKEN", "KOOPHONE_ACCESS_KEY", "KOOPHONE_SECRET_KEY", "KOOPHONE_SECURITY_TOKEN", "KOOPHONE_PROJECT_ID",
		"HW_ACCESS_KEY", "HW_SECRET_KEY", "HW_SECURITY_TOKEN", "HW_PROJECT_ID",
	} {
		t.Setenv(name, "")
	}
}

// akskProvider configures the provider for the emulator with the AK/SK,
// extra arguments appended.
func (e *accEnv) akskProvider(extra ...string) string {
	return fmt.Sprintf("provider \"koophone\" {\n  endpoint   = %q\n  access_key = %q\n  secret_key = %q\n  %s\n}\n",
		e.server.URL, accAK, accSK, strings.Join(extra, "\n  "))
}

// checkSigned fails unless every API request was AK/SK-signed, covering
// host, x-request-id and X-Sdk-Date (and the project id when given).
func (e *accEnv) checkSigned(projectID string) {
	e.t.Helper()
	reqs := e.emu.Requests()
	if len(reqs) == 0 {
		e.t.Fatal("no API request")
	}
	for i, r := range reqs {
		if r.Auth != emulator.AuthAKSK || r.HasToken {
			e.t.Errorf("request %d: auth %q (token %v), want AK/SK only", i, r.Auth, r.HasToken)
		}
		for _, h := range []string{"host", "x-request-id", "x-sdk-date"} {
			if !slices.Contains(r.SignedHeaders, h) {
				e.t.Errorf("request %d: %s not signed (%v)", i, h, r.SignedHeaders)
			}
		}
		if r.ProjectID != projectID || (projectID != "" && !slices.Contains(r.SignedHeaders, "x-project-id")) {
			e.t.Errorf("request %d: project id %q (signed: %v), want %q", i, r.ProjectID, r.SignedHeaders, projectID)
		}
	}
}

// AK/SK from the provider block sign every request, retries included (each
// with its own request id, verified again by the emulator).
func TestAccCredentials_akskFromConfiguration(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{AccessKey: accAK, SecretKey: accSK}) // no token accepted
	id := e.addSucceededTask()
	e.addFault(emulator.Fault{Match: id, Kind: emulator.FaultError, Status: 503})
	e.parallelTest(resource.TestStep{
		Config:            e.akskProvider(`project_id = "proj-0123"`) + taskBlock(id),
		ConfigStateChecks: expectState("successful"),
	})
	e.checkSigned("proj-0123")
	reqs := e.emu.Requests()
	if reqs[0].Status != 503 || reqs[1].Status != 200 || reqs[0].RequestID == reqs[1].RequestID {
		t.Errorf("want a 503 then a re-signed retry with a new request id, got %+v", reqs[:2])
	}
}

// HW_* variables alone, as exported for the huaweicloud provider, are enough.
func TestAccCredentials_akskFromHWEnvironment(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{AccessKey: accAK, SecretKey: accSK})
	id := e.addSucceededTask()
	clearCredentialEnv(t)
	t.Setenv("KOOPHONE_ENDPOINT", e.server.URL)
	t.Setenv("HW_ACCESS_KEY", accAK)
	t.Setenv("HW_SECRET_KEY", accSK)
	t.Setenv("HW_PROJECT_ID", "hw-project")
	e.serialTest(resource.TestStep{
		Config:            taskBlock(id),
		ConfigStateChecks: expectState("successful"),
	})
	e.checkSigned("hw-project")
}

// A token in the provider block wins over AK/SK in the environment (here
// unusable ones), and the KOOPHONE_* variables win over HW_*.
func TestAccCredentials_precedence(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, AccessKey: accAK, SecretKey: accSK})
	id := e.addSucceededTask()
	clearCredentialEnv(t)
	t.Setenv("KOOPHONE_ENDPOINT", e.server.URL)
	t.Setenv("HW_ACCESS_KEY", "WRONGACCESSKEY")
	t.Setenv("HW_SECRET_KEY", "wrong-secret")
	check := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			reqs := e.emu.Requests()
			if got := reqs[len(reqs)-1].Auth; got != want {
				return fmt.Errorf("last request authenticated with %q, want %q", got, want)
			}
			return nil
		}
	}
	e.serialTest(
		resource.TestStep{
			Config: fmt.Sprintf("provider \"koophone\" {\n  token = %q\n}\n", accToken) + taskBlock(id),
			Check:  check(emulator.AuthToken),
		},
		resource.TestStep{
			PreConfig: func() {
				t.Setenv("KOOPHONE_ACCESS_KEY", accAK)
				t.Setenv("KOOPHONE_SECRET_KEY", accSK)
			},
			Config: taskBlock(id),
			Check:  check(emulator.AuthAKSK),
		},
	)
}

// Temporary credentials send their security token, signed; a wrong one is
// refused with a clear error.
func TestAccCredentials_temporary(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{AccessKey: accAK, SecretKey: accSK, SecurityToken: accST})
	id := e.addSucceededTask()
	block := func(st string) string {
		return e.akskProvider(fmt.Sprintf("security_token = %q", st))
	}
	e.parallelTest(
		resource.TestStep{
			Config:            block(accST) + taskBlock(id),
			ConfigStateChecks: expectState("successful"),
			Check: func(*terraform.State) error {
				for _, r := range e.emu.Requests() {
					if !slices.Contains(r.SignedHeaders, "x-security-token") {
						return fmt.Errorf("X-Security-Token not signed: %v", r.SignedHeaders)
					}
				}
				return nil
			},
		},
		resource.TestStep{
			Config: block("expired-security-token") + taskBlock(id),
			ExpectError: errRE("KooPhone rejected the credentials", "error code APIGW.0301, HTTP 401",
				"the security token is invalid or has expired",
				"with the access key from the provider block", "the temporary credentials (the security token with them) have not expired"),
		},
	)
}

// A wrong secret key gives a clear authentication error. Neither secret
// nor any signature reaches Terraform's log (at TRACE), output or state.
func TestAccCredentials_wrongSecretAndNoLeaks(t *testing.T) {
	var mu sync.Mutex
	var signatures []string // every signature sent, to look for
	capture := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, sig, ok := strings.Cut(r.Header.Get("Authorization"), "Signature="); ok {
				mu.Lock()
				signatures = append(signatures, sig)
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
	e := newAccEnvWith(t, emulator.Options{AccessKey: accAK, SecretKey: accSK, SecurityToken: accST}, capture)
	id := e.addSucceededTask()
	logPath := t.TempDir() + "/terraform.log"
	clearCredentialEnv(t)
	// From the environment, so that the configuration (which the test
	// harness logs) holds no secret.
	t.Setenv("KOOPHONE_ENDPOINT", e.server.URL)
	t.Setenv("KOOPHONE_ACCESS_KEY", accAK)
	t.Setenv("KOOPHONE_SECRET_KEY", "wrong-"+accSK)
	t.Setenv("KOOPHONE_SECURITY_TOKEN", accST)
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	var stateDump string
	e.serialTest(
		resource.TestStep{
			Config: taskBlock(id),
			ExpectError: errRE("KooPhone rejected the credentials", "error code APIGW.0301, HTTP 401",
				"verify aksk signature fail: the signature does not match the request (check the secret key)",
				"signed (SDK-HMAC-SHA256) with the access key from the KOOPHONE_* environment variables",
				"the secret key is the one issued with it"),
		},
		resource.TestStep{
			PreConfig: func() { t.Setenv("KOOPHONE_SECRET_KEY", accSK) },
			Config:    taskBlock(id),
			Check: func(s *terraform.State) error {
				stateDump = s.String()
				return nil
			},
		},
	)
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("read log: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(signatures) < 2 {
		t.Fatalf("%d signatures captured; want the refused one and the accepted ones", len(signatures))
	}
	for name, text := range map[string]string{"log": string(logs), "state": stateDump} {
		for _, secret := range append([]string{accSK, accST, "Signature="}, signatures...) {
			if i := strings.Index(text, secret); i >= 0 {
				t.Errorf("a secret or signature appears in the %s, near: %q", name, text[max(0, i-200):i])
			}
		}
	}
	if !strings.Contains(string(logs), "temporary AK/SK signature (SDK-HMAC-SHA256) with the access key from the KOOPHONE_* environment variables") {
		t.Error("the log does not say how the provider authenticates")
	}
	if n := len(e.emu.Requests()); n < 2 {
		t.Errorf("%d requests; want the refused one and the accepted one", n)
	}
}

// Signatures are dated by the machine's clock: one 20 minutes off the
// gateway's (here the emulator's clock is off instead) is refused with an
// error that says so. (The same configuration with the clocks in step
// succeeds in TestAccCredentials_akskFromConfiguration.)
func TestAccCredentials_clockSkew(t *testing.T) {
	for name, gatewayOffset := range map[string]time.Duration{"ahead of": -20 * time.Minute, "behind": 20 * time.Minute} {
		t.Run(name, func(t *testing.T) {
			e := newAccEnvWith(t, emulator.Options{AccessKey: accAK, SecretKey: accSK, ClockOffset: gatewayOffset})
			id := e.addSucceededTask()
			e.parallelTest(resource.TestStep{
				Config: e.akskProvider() + taskBlock(id),
				ExpectError: errRE("KooPhone rejected the credentials", "X-Sdk-Date", name+" the server time",
					"a request must be signed within 15 minutes of it", "this machine's clock is right"),
			})
			if n := len(e.emu.Requests()); n != 1 {
				t.Errorf("%d requests; an authentication failure must not be retried", n)
			}
		})
	}
}

// Credentials that do not fit together are rejected at plan time, before
// any request, with the argument at fault.
func TestAccCredentials_rejectedAtPlan(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{AccessKey: accAK, SecretKey: accSK})
	block := func(args string) string {
		return fmt.Sprintf("provider \"koophone\" {\n  endpoint = %q\n%s\n}\n", e.server.URL, args) + taskBlock("abc")
	}
	e.parallelTest(
		rejectedAtPlan(block(fmt.Sprintf("token = %q\naccess_key = %q\nsecret_key = %q", accToken, accAK, accSK)),
			"Conflicting KooPhone credentials", "sets token and also access_key and secret_key", "Remove token", "or remove access_key and secret_key"),
		rejectedAtPlan(block(fmt.Sprintf("access_key = %q", accAK)),
			"Missing KooPhone secret_key", "access_key is set in the provider block, but secret_key is not"),
		rejectedAtPlan(block(fmt.Sprintf("secret_key = %q", accSK)),
			"Missing KooPhone access_key", "secret_key is set in the provider block, but access_key is not"),
		rejectedAtPlan(block(fmt.Sprintf("security_token = %q", accST)),
			"Security token without access key", "security_token is set in the provider block, but access_key and secret_key are not"),
		rejectedAtPlan(block(fmt.Sprintf("access_key = %q\nsecret_key = \"%s\\n\"", accAK, accSK)),
			"Invalid KooPhone credential", "secret_key contains white space or a control character"),
		rejectedAtPlan(block(fmt.Sprintf("access_key = %q\nsecret_key = %q\nproject_id = \"a b\"", accAK, accSK)),
			"Invalid KooPhone project_id", "white space"),
	)
	e.checkNoRequests()
}

// A token and an access key in the same environment place is an error
// that says which to unset.
func TestAccCredentials_conflictInEnvironment(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, AccessKey: accAK, SecretKey: accSK})
	clearCredentialEnv(t)
	t.Setenv("KOOPHONE_ENDPOINT", e.server.URL)
	t.Setenv("KOOPHONE_TOKEN", accToken)
	t.Setenv("KOOPHONE_ACCESS_KEY", accAK)
	t.Setenv("KOOPHONE_SECRET_KEY", accSK)
	e.serialTest(resource.TestStep{
		Config: taskBlock("abc"),
		ExpectError: errRE("Conflicting KooPhone credentials", "the environment sets KOOPHONE_TOKEN and also KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY",
			"Unset KOOPHONE_TOKEN", "or unset KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY"),
	})
	e.checkNoRequests()
}

// AK/SK that are unknown during plan (from a resource) are not an error; the
// read happens at apply, signed with the known values.
func TestAccCredentials_unknownAtPlan(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{AccessKey: accAK, SecretKey: accSK})
	id := e.addSucceededTask()
	e.parallelTest(resource.TestStep{
		Config: fmt.Sprintf(`
resource "terraform_data" "creds" {
  input = { access_key = %q, secret_key = %q, task_id = %q }
}

provider "koophone" {
  endpoint   = %q
  access_key = terraform_data.creds.output.access_key
  secret_key = terraform_data.creds.output.secret_key
}

data "koophone_instance_task" "t" {
  task_id = terraform_data.creds.output.task_id
}
`, accAK, accSK, id, e.server.URL),
		ConfigStateChecks: expectState("successful"),
	})
	e.checkSigned("")
}

// The AK/SK and temporary-credential examples of the documentation work as
// written.
func TestAccExamples_providerAuthentication(t *testing.T) {
	cases := map[string]struct {
		opts emulator.Options
		vars map[string]string
	}{
		"provider/aksk": {emulator.Options{AccessKey: accAK, SecretKey: accSK},
			map[string]string{"TF_VAR_access_key": accAK, "TF_VAR_secret_key": accSK}},
		"provider/temporary-credentials": {emulator.Options{AccessKey: accAK, SecretKey: accSK, SecurityToken: accST},
			map[string]string{"TF_VAR_temporary_credentials": fmt.Sprintf(`{access = %q, secret = %q, securitytoken = %q}`, accAK, accSK, accST)}},
	}
	for dir, c := range cases {
		t.Run(dir, func(t *testing.T) {
			e := newAccEnvWith(t, c.opts)
			id := e.addSucceededTask()
			clearCredentialEnv(t)
			t.Setenv("KOOPHONE_ENDPOINT", e.server.URL)
			for k, v := range c.vars {
				t.Setenv(k, v)
			}
			e.serialTest(resource.TestStep{
				Config:            readExamples(t, dir) + taskBlock(id),
				ConfigStateChecks: expectState("successful"),
			})
			e.checkSigned("")
		})
	}
}
