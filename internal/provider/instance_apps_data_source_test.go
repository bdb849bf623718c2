package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

const appsAddr = "data.koophone_instance_apps.t"

var expectApps = expectAt(appsAddr)

// appsConfig is the provider block (with extra arguments) and a
// koophone_instance_apps block with the given arguments.
func appsConfig(e *accEnv, args string, providerArgs ...string) string {
	return e.providerBlock(providerArgs...) + fmt.Sprintf("data \"koophone_instance_apps\" \"t\" {\n  %s\n}\n", args)
}

func appsOf(phone string) tfjsonpath.Path { return tfjsonpath.New("apps").AtMapKey(phone) }

// appObject checks every attribute of an element of apps.
func appObject(a emulator.App) knownvalue.Check {
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"app_pkg": knownvalue.StringExact(a.AppPkg), "app_name": knownvalue.StringExact(a.AppName),
		"app_version": knownvalue.StringExact(a.AppVersion), "icon_url": knownvalue.StringExact(a.IconURL),
	})
}

func appObjects(apps ...emulator.App) knownvalue.Check {
	checks := make([]knownvalue.Check, len(apps))
	for i, a := range apps {
		checks[i] = appObject(a)
	}
	return knownvalue.ListExact(checks)
}

// gatePhones are four phones with the emulator's default apps.
func gatePhones() []emulator.Phone {
	return []emulator.Phone{{InstanceID: "phone-001"}, {InstanceID: "phone-002"}, {InstanceID: "phone-003"}, {InstanceID: "phone-004"}}
}

// gateConfig installs com.example.game 1.2.3 on the four phones without
// failing on a failed phone, then reads the phones' apps with gate (a
// lifecycle block inside the data source, or blocks after it).
func gateConfig(e *accEnv, inside, after string) string {
	return installConfig(e, installBody(`"phone-001", "phone-002", "phone-003", "phone-004"`, "fail_on_job_failure = false")) + `
data "koophone_instance_apps" "t" {
  instance_ids = koophone_instance_app_install.a.instance_ids
  package_name = "com.example.game"
` + inside + `
}
` + after
}

const gatePostcondition = `
  lifecycle {
    postcondition {
      condition     = alltrue([for v in values(self.versions) : v == "1.2.3"])
      error_message = "com.example.game 1.2.3 is missing on: ${join(", ", self.missing_instance_ids)}."
    }
  }`

const gateCheck = `
check "game_everywhere" {
  assert {
    condition     = length(data.koophone_instance_apps.t.missing_instance_ids) == 0
    error_message = "com.example.game is missing on: ${join(", ", data.koophone_instance_apps.t.missing_instance_ids)}."
  }
}
`

// The post-rollout gate: an install that fails on one phone without
// failing the apply, then a postcondition on what the phones have fails
// the apply and names the phone; as a check block, it warns and the apply
// goes on, with the phone in missing_instance_ids.
func TestAccInstanceApps_gateFails(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: gatePhones()})
	if err := e.emu.AddRules(emulator.Rule{Kind: emulator.RuleAppInstall, ObjectName: "com.example.game", Phones: []string{"phone-003"},
		Status: statusPtr(emulator.StatusInstallFailed)}); err != nil {
		t.Fatal(err)
	}
	installed := knownvalue.StringExact("1.2.3")
	e.parallelTest(
		resource.TestStep{
			Config:      gateConfig(e, gatePostcondition, ""),
			ExpectError: errRE("Resource postcondition failed", "com.example.game 1.2.3 is missing on: phone-003."),
		},
		resource.TestStep{
			// The install is in state from the step before: only the gate runs.
			Config: gateConfig(e, "", gateCheck),
			ConfigStateChecks: []statecheck.StateCheck{
				expectApps(at("versions"), knownvalue.MapExact(map[string]knownvalue.Check{
					"phone-001": installed, "phone-002": installed, "phone-003": knownvalue.Null(), "phone-004": installed,
				})),
				expectApps(at("missing_instance_ids"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("phone-003")})),
				expectApps(appsOf("phone-003").AtSliceIndex(3).AtMapKey("app_pkg"), knownvalue.StringExact("com.android.phone")),
				expectApps(at("apps"), knownvalue.MapSizeExact(4)),
				expectApps(appsOf("phone-001"), knownvalue.ListSizeExact(5)),
				expectApps(appsOf("phone-001").AtSliceIndex(4), appObject(emulator.App{
					AppPkg: "com.example.game", AppName: "game-1.2.3", AppVersion: "1.2.3",
				})),
			},
		},
	)
}

// The gate passes when every phone has the version.
func TestAccInstanceApps_gatePasses(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: gatePhones()})
	e.parallelTest(resource.TestStep{
		Config: gateConfig(e, gatePostcondition, gateCheck),
		ConfigStateChecks: []statecheck.StateCheck{
			expectApps(at("missing_instance_ids"), knownvalue.ListExact([]knownvalue.Check{})),
			expectApps(at("versions").AtMapKey("phone-004"), knownvalue.StringExact("1.2.3")),
			expectApps(at("instance_count"), knownvalue.Int64Exact(4)),
		},
	})
}

var (
	vendorTool = emulator.App{AppPkg: "com.vendor.tool", AppName: "Tool", AppVersion: "3.1", IconURL: "https://icons.example/tool.png", System: true}
	gameApp    = emulator.App{AppPkg: "com.example.game", AppName: "Game", AppVersion: "1.0.0"}
	chatApp    = emulator.App{AppPkg: "com.example.chat", AppName: "Chat", AppVersion: "8.0.58"}
)

// app_type selects system or third-party apps; without it, every app is
// listed, as "all"; a phone without seeded apps has the emulator's system
// apps; an id given twice is read once; without package_name, versions and
// missing_instance_ids are null.
func TestAccInstanceApps_appType(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: []emulator.Phone{
		{InstanceID: "mixed", Apps: []emulator.App{gameApp, vendorTool, chatApp}},
		{InstanceID: "bare"},
	}})
	ids := `instance_ids = ["mixed", "bare", "mixed"]`
	defaults := emulator.DefaultApps()
	e.parallelTest(
		resource.TestStep{
			Config: appsConfig(e, ids),
			ConfigStateChecks: []statecheck.StateCheck{
				expectApps(at("app_type"), knownvalue.StringExact("all")),
				expectApps(appsOf("mixed"), appObjects(gameApp, vendorTool, chatApp)),
				expectApps(appsOf("bare"), appObjects(defaults...)),
				expectApps(at("instance_count"), knownvalue.Int64Exact(2)),
				expectApps(at("versions"), knownvalue.Null()),
				expectApps(at("missing_instance_ids"), knownvalue.Null()),
				expectApps(at("id"), knownvalue.StringRegexp(regexp.MustCompile(`^instance-apps-[0-9a-f]{16}$`))),
			},
		},
		resource.TestStep{
			Config: appsConfig(e, ids+"\n  app_type = \"system\"\n  package_name = \"com.example.game\""),
			ConfigStateChecks: []statecheck.StateCheck{
				expectApps(appsOf("mixed"), appObjects(vendorTool)),
				expectApps(appsOf("bare"), appObjects(defaults...)),
				// A third-party package is not among the system apps.
				expectApps(at("missing_instance_ids"), knownvalue.ListExact([]knownvalue.Check{
					knownvalue.StringExact("bare"), knownvalue.StringExact("mixed"),
				})),
			},
		},
		resource.TestStep{
			Config: appsConfig(e, ids+"\n  app_type = \"third_party\"\n  package_name = \"com.example.chat\""),
			ConfigStateChecks: []statecheck.StateCheck{
				expectApps(appsOf("mixed"), appObjects(gameApp, chatApp)),
				expectApps(appsOf("bare"), knownvalue.ListExact([]knownvalue.Check{})),
				expectApps(at("versions"), knownvalue.MapExact(map[string]knownvalue.Check{
					"mixed": knownvalue.StringExact("8.0.58"), "bare": knownvalue.Null(),
				})),
				expectApps(at("missing_instance_ids"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("bare")})),
			},
			Check: func(*terraform.State) error {
				for _, r := range e.emu.Requests() {
					q, _ := url.ParseQuery(r.Query)
					if !strings.HasSuffix(r.Path, "/app-list") || q.Get("page_size") != "200" || q.Get("page_no") != "1" {
						return fmt.Errorf("request %s?%s: want page 1 of 200 apps", r.Path, r.Query)
					}
				}
				return nil
			},
		},
	)
}

// A phone of more than 200 apps is read page by page, one request each,
// and every app is listed, in order.
func TestAccInstanceApps_pages(t *testing.T) {
	big := make([]emulator.App, 450)
	for i := range big {
		big[i] = emulator.App{AppPkg: fmt.Sprintf("com.example.app%03d", i), AppName: fmt.Sprintf("App %d", i), AppVersion: fmt.Sprint(i)}
	}
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: []emulator.Phone{{InstanceID: "big", Apps: big}, {InstanceID: "small"}}})
	e.parallelTest(resource.TestStep{
		Config: appsConfig(e, `instance_ids = ["big", "small"]`+"\n  package_name = \"com.example.app449\""),
		ConfigStateChecks: []statecheck.StateCheck{
			expectApps(appsOf("big"), knownvalue.ListSizeExact(450)),
			expectApps(appsOf("big"), knownvalue.ListPartial(map[int]knownvalue.Check{
				0: appObject(big[0]), 199: appObject(big[199]), 200: appObject(big[200]), 449: appObject(big[449]),
			})),
			expectApps(at("versions").AtMapKey("big"), knownvalue.StringExact("449")),
			expectApps(at("missing_instance_ids"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("small")})),
		},
		Check: func(*terraform.State) error {
			var pages []string
			for _, r := range e.emu.Requests() {
				if r.Path == "/v1/instances/big/app-list" {
					q, _ := url.ParseQuery(r.Query)
					pages = append(pages, q.Get("page_no"))
				}
			}
			// Every read (plan, apply, refresh) is pages 1, 2 and 3, once each.
			if len(pages) == 0 || len(pages)%3 != 0 {
				return fmt.Errorf("pages requested %v: want reads of pages 1 to 3", pages)
			}
			for i, p := range pages {
				if p != fmt.Sprint(i%3+1) {
					return fmt.Errorf("pages requested %v: want reads of pages 1 to 3, each once", pages)
				}
			}
			return nil
		},
	})
}

// Phones the API refuses (KOOPHONE.API.1001) are named together in one
// error, after the other phones were read.
func TestAccInstanceApps_unknownPhones(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: gatePhones()})
	e.parallelTest(resource.TestStep{
		Config: appsConfig(e, `instance_ids = ["phone-001", "ghost-2", "phone-002", "ghost-1"]`),
		ExpectError: errRE("KooPhone phones not found or not accessible (2)", "refused 2 phones of the 4 in instance_ids",
			"ghost-1: error code KOOPHONE.API.1001", "request id", "ghost-2: error code KOOPHONE.API.1001",
			"KOOPHONE.API.1001 means no permission on the instance", "data.koophone_instances.pool.ids"),
	})
	for _, id := range []string{"phone-001", "phone-002", "ghost-1", "ghost-2"} {
		if n := e.apiRequests("/" + id + "/app-list"); n == 0 {
			t.Errorf("%s was not read", id)
		}
	}
}

// appListGate records when app-list requests arrive, before the emulator
// sees them. It holds the failing phone's first answer until inFlight
// requests have arrived (the client's limit: every slot taken), and every
// other phone's request until the client gives up on it, so that when the
// failing phone's answer is written no request is on its way: any that
// arrives after it was started after it.
type appListGate struct {
	failing  string // the path of the failing phone's app list
	inFlight int
	full     chan struct{} // closed once inFlight requests have arrived
	mu       sync.Mutex
	arrived  []time.Time
	paths    []string
	failed   time.Time // when the failing phone's last answer was written
}

func newAppListGate(failing string, inFlight int) *appListGate {
	return &appListGate{failing: failing, inFlight: inFlight, full: make(chan struct{})}
}

func (g *appListGate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/app-list") {
			h.ServeHTTP(w, r)
			return
		}
		g.mu.Lock()
		g.arrived, g.paths = append(g.arrived, time.Now()), append(g.paths, r.URL.Path)
		if len(g.arrived) == g.inFlight {
			close(g.full)
		}
		g.mu.Unlock()
		if r.URL.Path == g.failing {
			select {
			case <-g.full:
			case <-r.Context().Done():
				return
			}
			h.ServeHTTP(w, r)
			g.mu.Lock()
			g.failed = time.Now()
			g.mu.Unlock()
			return
		}
		// A test that fails to cancel waits this long, and fails.
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
			h.ServeHTTP(w, r)
		}
	})
}

// A phone that fails for good (an error that is not retried, or 5xx past
// the retries) fails the read with an error that names it, the API's code
// and the request id; no app-list request starts after its failure: the
// phones held in flight are cancelled and no other phone is read.
func TestAccInstanceApps_failureStopsTheRead(t *testing.T) {
	cases := []struct {
		name     string
		fault    emulator.Fault
		provider []string
		want     []string
	}{
		{
			name:  "not retryable",
			fault: emulator.Fault{Kind: emulator.FaultError, Status: http.StatusOK, Code: "KOOPHONE.API.1004", Message: "Service not subscribed."},
			want: []string{"KooPhone API error", `Listing the apps of phone "phone-000" (GET /v1/instances/phone-000/app-list, page 1)`,
				"error code KOOPHONE.API.1004", `message "Service not subscribed."`, "request id", "No request was started after this failure"},
		},
		{
			name:     "5xx past the retries",
			fault:    emulator.Fault{Kind: emulator.FaultError, Count: -1},
			provider: []string{"max_retries = 1"},
			want: []string{"KooPhone API unavailable", `phone "phone-000"`, "failed 2 times in a row", "KOOPHONE.API.9999",
				"request id", "No request was started after this failure"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The client's 16 requests in flight: phone-000 to phone-015.
			gate := newAppListGate("/v1/instances/phone-000/app-list", 16)
			phones := make([]emulator.Phone, 40)
			for i := range phones {
				phones[i] = emulator.Phone{InstanceID: fmt.Sprintf("phone-%03d", i)}
			}
			e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: phones}, gate.wrap)
			c.fault.Match = gate.failing
			e.addFault(c.fault)
			e.parallelTest(resource.TestStep{
				Config:      appsConfig(e, "instance_ids = "+pool(40), c.provider...),
				ExpectError: errRE(c.want...),
			})
			gate.mu.Lock()
			defer gate.mu.Unlock()
			if gate.failed.IsZero() {
				t.Fatalf("phone-000 was not read; requests: %v", gate.paths)
			}
			for i, at := range gate.arrived {
				if at.After(gate.failed) {
					t.Errorf("%s arrived %s after phone-000's failing answer", gate.paths[i], at.Sub(gate.failed))
				}
			}
			if others := len(gate.arrived) - e.apiRequests(gate.failing); others != 15 {
				t.Errorf("%d other phones were read, want the 15 in flight with phone-000: %v", others, gate.paths)
			}
		})
	}
}

// Bad arguments are rejected at plan time, before any request.
func TestAccInstanceApps_validation(t *testing.T) {
	e := newAccEnv(t)
	long := strings.Repeat("x", 33)
	e.parallelTest(
		rejectedAtPlan(appsConfig(e, `instance_ids = ["phone-1"]`+"\n  app_type = \"games\""),
			"Invalid Attribute Value Match", "app_type", "value must be one of", "games"),
		rejectedAtPlan(appsConfig(e, `instance_ids = ["phone-1", ""]`), "Invalid instance id", `instance_ids[1] is "", 0 characters long`,
			"1 to 32 characters"),
		rejectedAtPlan(appsConfig(e, `instance_ids = ["`+long+`"]`), "Invalid instance id", `instance_ids[0] is "`+long+`", 33 characters long`),
		rejectedAtPlan(appsConfig(e, `instance_ids = []`), "instance_ids", "at least 1"),
		rejectedAtPlan(appsConfig(e, `instance_ids = ["phone-1"]`+"\n  package_name = \"\""), "package_name", "between 1 and 100"),
		resource.TestStep{
			Config:             appsConfig(e, `instance_ids = ["phone-1"]`+"\n  timeouts = { read = \"0s\" }"),
			ExpectError:        errRE("Invalid read timeout"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		},
	)
	e.checkNoRequests()
}

// The token never reaches the state, the diagnostics or the TRACE log, from
// the phones read concurrently, even when an answer echoes it; the log
// counts the phones, pages and requests of a read.
func TestAccInstanceApps_secretHygiene(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: gatePhones()})
	e.addFault(emulator.Fault{Match: "/v1/instances/phone-002/app-list", Kind: emulator.FaultError, Status: http.StatusUnauthorized,
		Code: "APIGW.0301", Message: "token " + accToken + " expired"})
	logPath := t.TempDir() + "/terraform.log"
	e.configureFromEnvironment()
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	config := `data "koophone_instance_apps" "t" {
  instance_ids = ["phone-001", "phone-002", "phone-003", "phone-004"]
  package_name = "com.android.settings"
}
`
	e.serialTest(
		resource.TestStep{Config: config, ExpectError: errRE("KooPhone rejected the credentials", `phone "phone-002"`, "token [REDACTED] expired")},
		resource.TestStep{
			Config:            config,
			ConfigStateChecks: []statecheck.StateCheck{noSecretInState{secrets: []string{accToken}}, expectApps(at("instance_count"), knownvalue.Int64Exact(4))},
		},
	)
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if idx := strings.Index(string(logs), accToken); idx >= 0 {
		t.Errorf("the token appears in the TRACE log, after: %q", logs[max(0, idx-200):idx])
	}
	for _, want := range []string{"Listing the apps of KooPhone phones", "Listed the apps of KooPhone phones", "phones=4", "pages=4", "requests=4",
		"X-Auth-Token: [REDACTED]", "instance_id=phone-003"} {
		if !strings.Contains(string(logs), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}

// gamePool is the pool of the examples of koophone_instance_apps: 20
// phones of pool game-test, with the failing ones failing the install.
func gamePool(t *testing.T, failing ...string) *accEnv {
	t.Helper()
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: poolPhones("gp-", "game-test", 20)})
	if len(failing) > 0 {
		if err := e.emu.AddRules(emulator.Rule{Kind: emulator.RuleAppInstall, ObjectName: "com.example.game", Phones: failing,
			Status: statusPtr(emulator.StatusInstallFailed)}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// The examples' gate: one phone of twenty without the game is a warning,
// and the command starts the game on the nineteen others.
func TestAccExamples_instanceAppsGate(t *testing.T) {
	e := gamePool(t, "gp-003")
	others := make([]knownvalue.Check, 0, 19)
	for _, id := range phoneIDsOf(poolPhones("gp-", "game-test", 20)) {
		if id != "gp-003" {
			others = append(others, knownvalue.StringExact(id))
		}
	}
	e.applyExample("data-sources/koophone_instance_apps", resource.TestStep{
		// data-source.tf's listing, which does not depend on the install,
		// was read before it: the next plan's outputs show the game.
		ExpectNonEmptyPlan: true,
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownValue("data.koophone_instance_apps.after_rollout", at("missing_instance_ids"),
				knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("gp-003")})),
			statecheck.ExpectKnownValue("koophone_instance_command.start_game", at("instance_ids"), knownvalue.ListExact(others)),
			statecheck.ExpectKnownValue("data.koophone_instance_apps.after_rollout", at("versions").AtMapKey("gp-001"), knownvalue.StringExact("1.2.3")),
		},
	})
}

// The examples' gate stops the apply when more than a tenth of the pool
// lacks the game, naming the phones, and the command is not run.
func TestAccExamples_instanceAppsGateStops(t *testing.T) {
	e := gamePool(t, "gp-003", "gp-011", "gp-017")
	e.applyExample("data-sources/koophone_instance_apps", resource.TestStep{
		ExpectError: errRE("Resource postcondition failed", "com.example.game 1.2.3 is missing on more than a tenth of the pool: gp-003, gp-011, gp-017."),
	})
	if n := e.apiRequests("/async-command"); n != 0 {
		t.Errorf("%d commands were submitted; want none after the gate stopped the apply", n)
	}
}

// An id known only at apply is validated once it is known (Terraform
// validates the data source's configuration again then), before any
// request.
func TestAccInstanceApps_idUnknownAtPlan(t *testing.T) {
	e := newAccEnv(t)
	e.parallelTest(resource.TestStep{
		Config: e.providerBlock() + `
resource "terraform_data" "id" {
  input = ""
}

data "koophone_instance_apps" "t" {
  instance_ids = [terraform_data.id.output]
}
`,
		ExpectError: errRE("Invalid instance id", `instance_ids[0] is "", 0 characters long`),
	})
	e.checkNoRequests()
}
