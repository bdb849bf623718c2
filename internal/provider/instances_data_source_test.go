package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

const instancesAddr = "data.koophone_instances.t"

var expectInstances = expectAt(instancesAddr)

// instancesConfig is the provider block and a koophone_instances block
// with the given arguments.
func instancesConfig(e *accEnv, args string) string {
	return e.providerBlock() + fmt.Sprintf("data \"koophone_instances\" \"t\" {\n  %s\n}\n", args)
}

// poolPhones returns n phones prefix001... of pool name.
func poolPhones(prefix, pool string, n int) []emulator.Phone {
	phones := make([]emulator.Phone, n)
	for i := range phones {
		phones[i] = emulator.Phone{
			InstanceID: fmt.Sprintf("%s%03d", prefix, i+1), InstanceName: fmt.Sprintf("%s %03d", pool, i+1),
			PoolName: pool, PoolSceneTag: "CLOUD_PHONE", RunningStatus: 2,
		}
	}
	return phones
}

func phoneIDsOf(phones []emulator.Phone) []string {
	ids := make([]string, len(phones))
	for i, p := range phones {
		ids[i] = p.InstanceID
	}
	return ids
}

// expectIDs checks ids, total_count and the instance ids of instances.
func expectIDs(ids []string) []statecheck.StateCheck {
	idChecks := make([]knownvalue.Check, len(ids))
	objects := make([]knownvalue.Check, len(ids))
	for i, id := range ids {
		idChecks[i] = knownvalue.StringExact(id)
		objects[i] = knownvalue.ObjectPartial(map[string]knownvalue.Check{"instance_id": knownvalue.StringExact(id)})
	}
	return []statecheck.StateCheck{
		expectInstances(at("ids"), knownvalue.ListExact(idChecks)),
		expectInstances(at("instances"), knownvalue.ListExact(objects)),
		expectInstances(at("total_count"), knownvalue.Int64Exact(int64(len(ids)))),
	}
}

// phoneObject checks every attribute of an element of instances; words
// are the expected running_state, frozen_state, login_state and
// assign_state.
func phoneObject(p emulator.Phone, words [4]string) knownvalue.Check {
	s, n := knownvalue.StringExact, func(v int) knownvalue.Check { return knownvalue.Int64Exact(int64(v)) }
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"instance_id": s(p.InstanceID), "instance_name": s(p.InstanceName), "region": s(p.Region), "instance_sku": s(p.InstanceSKU),
		"frozen_status": n(p.FrozenStatus), "running_status": n(p.RunningStatus), "login_status": n(p.LoginStatus),
		"assign_status": n(p.AssignStatus), "running_state": s(words[0]), "frozen_state": s(words[1]), "login_state": s(words[2]),
		"assign_state": s(words[3]), "assign_user": s(p.AssignUser), "billing_mode": s(p.BillingMode),
		"project_id": s(p.ProjectID), "project_name": s(p.ProjectName), "phone_id": s(p.PhoneID), "member_name": s(p.MemberName),
		"account_name": s(p.AccountName), "region_name": s(p.RegionName), "region_name_en": s(p.RegionNameEn),
		"backup_status": n(p.BackupStatus), "backup_time": s(p.BackupTime), "restore_status": n(p.RestoreStatus),
		"restore_time": s(p.RestoreTime),
	})
}

// listRequests returns the query parameters of the batch-query requests
// the emulator has seen since request number since.
func listRequests(e *accEnv, since int) []url.Values {
	var out []url.Values
	for _, r := range e.emu.Requests()[since:] {
		if r.Path == "/v1/instances/batch-query" {
			q, _ := url.ParseQuery(r.Query)
			out = append(out, q)
		}
	}
	return out
}

// checkReadsPaged checks that every read since request number since asked
// for page 1, then for each of the pages 2 to pages exactly once, in any
// order (they are read concurrently), each with the filters given as
// name, value pairs.
func checkReadsPaged(e *accEnv, since *int, pages int, filters ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		reqs := listRequests(e, *since)
		if len(reqs) == 0 || len(reqs)%pages != 0 {
			return fmt.Errorf("%d batch-query requests, want a multiple of %d (one read is %d pages)", len(reqs), pages, pages)
		}
		for read := range len(reqs) / pages {
			var got []int
			for i, q := range reqs[read*pages : (read+1)*pages] {
				n, _ := strconv.Atoi(q.Get("page_no"))
				if (i == 0) != (n == 1) || q.Get("page_size") != "100" || q.Get("x-request-id") == "" {
					return fmt.Errorf("read %d, request %d: query %v, want page 1 first, page_size 100 and x-request-id", read, i, q)
				}
				for f := 0; f < len(filters); f += 2 {
					if q.Get(filters[f]) != filters[f+1] {
						return fmt.Errorf("read %d, request %d: query %v, want %s %q", read, i, q, filters[f], filters[f+1])
					}
				}
				got = append(got, n)
			}
			slices.Sort(got)
			for i, n := range got {
				if n != i+1 {
					return fmt.Errorf("read %d: pages %v, want 1 to %d once each", read, got, pages)
				}
			}
		}
		return nil
	}
}

// The filters, each on its own and combined, paging through a pool of 250
// phones, an empty result, AK/SK signing of the query, and filters known
// only at apply, on one emulator.
func TestAccInstances_filtersAndPages(t *testing.T) {
	clearCredentialEnv(t)
	full := emulator.Phone{
		InstanceID: "phone-a", InstanceName: "alpha one", Region: "cn-north-4", InstanceSKU: "pro | 8 cores | 16GB | 128GB",
		FrozenStatus: 1, RunningStatus: 2, LoginStatus: 3, AssignStatus: 1, AssignUser: "alice", BillingMode: "prePaid",
		ProjectID: "0a1b2c3d", ProjectName: "cn-north-4", PhoneID: "ph-0001", MemberName: "member-1", AccountName: "acct-1",
		RegionName: "华北-北京四", RegionNameEn: "CN North-Beijing4", BackupStatus: 2, BackupTime: "2026-11-02 03:00:00",
		RestoreStatus: 3, RestoreTime: "2026-11-03 04:00:00", PoolName: "demo", PoolSceneTag: "CLOUD_APP",
	}
	odd := emulator.Phone{InstanceID: "phone-b", InstanceName: "alpha two & co/50% +1", PoolName: "demo", PoolSceneTag: "CLOUD_PHONE"}
	gameTest := poolPhones("phone-gt-", "game-test", 250)
	e := newAccEnvWith(t, emulator.Options{
		Token: accToken, AccessKey: accAK, SecretKey: accSK,
		Phones: slices.Concat(gameTest[:120], []emulator.Phone{full, odd}, gameTest[120:]),
	})
	var since int
	mark := func() { since = len(e.emu.Requests()) }
	e.serialTest(
		resource.TestStep{
			// 250 phones are three pages, read in order, each phone once.
			PreConfig: mark,
			Config:    instancesConfig(e, `pool_name = "game-test"`),
			ConfigStateChecks: append(expectIDs(phoneIDsOf(gameTest)),
				expectInstances(at("pool_name"), knownvalue.StringExact("game-test")),
				expectInstances(at("instance_id"), knownvalue.Null()),
				expectInstances(at("id"), knownvalue.StringRegexp(regexp.MustCompile(`^instances-[0-9a-f]{16}$`)))),
			Check: checkReadsPaged(e, &since, 3, "pool_name", "game-test"),
		},
		resource.TestStep{
			// One phone by id, every attribute as the API gave it.
			PreConfig: mark,
			Config:    instancesConfig(e, `instance_id = "phone-a"`),
			ConfigStateChecks: append(expectIDs([]string{"phone-a"}),
				expectInstances(at("instances"), knownvalue.ListExact([]knownvalue.Check{
					// login_status 3 has no word: it is itself.
					phoneObject(full, [4]string{"running", "frozen", "3", "assigned"}),
				}))),
			Check: checkReadsPaged(e, &since, 1, "instance_id", "phone-a"),
		},
		resource.TestStep{
			// The emulator matches a part of the name.
			Config:            instancesConfig(e, `instance_name = "alpha"`),
			ConfigStateChecks: expectIDs([]string{"phone-a", "phone-b"}),
		},
		resource.TestStep{
			Config:            instancesConfig(e, `pool_scene_tag = "CLOUD_APP"`),
			ConfigStateChecks: expectIDs([]string{"phone-a"}),
		},
		resource.TestStep{
			// No phone matches: empty lists, not null.
			Config: instancesConfig(e, `pool_name = "empty-pool"`),
			ConfigStateChecks: []statecheck.StateCheck{
				expectInstances(at("instances"), knownvalue.ListExact([]knownvalue.Check{})),
				expectInstances(at("ids"), knownvalue.ListExact([]knownvalue.Check{})),
				expectInstances(at("total_count"), knownvalue.Int64Exact(0)),
			},
		},
		resource.TestStep{
			// Filters combine; a value with & / % + and spaces reaches
			// the API intact, in an AK/SK-signed query the emulator
			// verifies.
			PreConfig:         mark,
			Config:            e.akskProvider() + "data \"koophone_instances\" \"t\" {\n  pool_name     = \"demo\"\n  instance_name = \"alpha two & co/50% +1\"\n}\n",
			ConfigStateChecks: expectIDs([]string{"phone-b"}),
			Check: func(s *terraform.State) error {
				for _, r := range e.emu.Requests()[since:] {
					if r.Auth != emulator.AuthAKSK || r.Status != 200 {
						return fmt.Errorf("request %+v: want AK/SK-signed and accepted", r)
					}
				}
				return checkReadsPaged(e, &since, 1, "instance_name", "alpha two & co/50% +1")(s)
			},
		},
		resource.TestStep{
			// A filter known only at apply: the read waits for it.
			Config: e.providerBlock() + `
resource "terraform_data" "pool" {
  input = "game-test"
}

data "koophone_instances" "t" {
  pool_name = terraform_data.pool.output
}
`,
			ConfigPlanChecks:  unknownAtPlan(instancesAddr, "ids"),
			ConfigStateChecks: []statecheck.StateCheck{expectInstances(at("total_count"), knownvalue.Int64Exact(250))},
		},
	)
}

// uuidInText matches "request id" followed by a UUID, wherever Terraform
// wrapped the line.
const uuidInText = `request\s+id\s+[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

// Errors from the API, top-level or inside data, fail the read with the
// code, the message and the request id; transient ones are retried.
func TestAccInstances_apiErrors(t *testing.T) {
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: poolPhones("phone-", "demo", 3)})
	inData := func(code, msg string) string {
		return fmt.Sprintf(`{"error_code":"0","error_msg":"ok","data":{"result":[],"page_no":1,"page_size":100,"total_count":0,`+
			`"error_code":%q,"error_msg":%q}}`, code, msg)
	}
	fault := func(faults ...emulator.Fault) func() {
		return func() {
			for _, f := range faults {
				f.Match = "/v1/instances/batch-query"
				e.addFault(f)
			}
		}
	}
	config := instancesConfig(e, `pool_name = "demo"`)
	e.parallelTest(
		resource.TestStep{
			PreConfig: fault(emulator.Fault{Kind: emulator.FaultRaw, Body: inData("KOOPHONE.API.1012", "The instance does not belong to the tenant.")}),
			Config:    config,
			ExpectError: regexp.MustCompile(`(?s)KooPhone API error.*page\s+1.*error\s+code\s+KOOPHONE\.API\.1012,\s+HTTP\s+200,\s+message\s+"The\s+instance\s+does\s+not\s+belong\s+to\s+the\s+tenant\.",\s+` +
				uuidInText + `.*KooPhone\s+error\s+codes`),
		},
		resource.TestStep{
			PreConfig:   fault(emulator.Fault{Kind: emulator.FaultError, Status: 200, Code: "KOOPHONE.API.1004", Message: "Service not subscribed."}),
			Config:      config,
			ExpectError: regexp.MustCompile(`(?s)KooPhone API error.*error\s+code\s+KOOPHONE\.API\.1004,\s+HTTP\s+200,\s+message\s+"Service\s+not\s+subscribed\.",\s+` + uuidInText),
		},
		resource.TestStep{
			PreConfig:   fault(emulator.Fault{Kind: emulator.FaultError, Status: 401}),
			Config:      config,
			ExpectError: errRE("KooPhone rejected the credentials", "error code APIGW.0301, HTTP 401", "KOOPHONE_TOKEN"),
		},
		resource.TestStep{
			// timeouts.read bounds the whole read, a slow answer included.
			PreConfig:   fault(emulator.Fault{Kind: emulator.FaultDelay, Delay: emulator.Duration(time.Hour)}),
			Config:      instancesConfig(e, "pool_name = \"demo\"\n  timeouts = { read = \"2s\" }"),
			ExpectError: errRE("Timed out listing KooPhone phones", `pool_name "demo"`, "on page 1 did not finish: timeouts.read (2s) ran out", "Raise timeouts.read"),
		},
		resource.TestStep{
			// A transient error at the top level, then one inside data:
			// both retried, and the read succeeds.
			PreConfig: fault(
				emulator.Fault{Kind: emulator.FaultError, Status: 503},
				emulator.Fault{Kind: emulator.FaultRaw, Body: inData("KOOPHONE.API.9999", "Internal service error.")},
			),
			Config:            config,
			ConfigStateChecks: expectIDs([]string{"phone-001", "phone-002", "phone-003"}),
		},
	)
	if pending := e.emu.PendingFaults(); len(pending) != 0 {
		t.Errorf("faults not used: %+v", pending)
	}
}

// Bad filters are rejected at plan time, before any request.
func TestAccInstances_invalidFiltersRejectedAtPlan(t *testing.T) {
	e := newAccEnv(t)
	e.parallelTest(
		rejectedAtPlan(instancesConfig(e, `instance_id = ""`), "Invalid Attribute Value", "instance_id", "string length must be between 1 and 32"),
		rejectedAtPlan(instancesConfig(e, fmt.Sprintf("instance_id = %q", strings.Repeat("x", 33))), "instance_id", "string length must be between 1 and 32, got: 33"),
		rejectedAtPlan(instancesConfig(e, `instance_name = ""`), "instance_name", "string length must be between 1 and 255"),
		rejectedAtPlan(instancesConfig(e, `pool_name = ""`), "pool_name", "string length must be between 1 and 255"),
		rejectedAtPlan(instancesConfig(e, `pool_name = ["game-test"]`), "Incorrect attribute value type", "pool_name"),
		rejectedAtPlan(instancesConfig(e, `no_such_filter = "x"`), "Unsupported argument", "no_such_filter"),
		rejectedAtPlan(instancesConfig(e, `timeouts = { read = "soon" }`), "Invalid Attribute Value Time Duration", `"soon" must be a string containing`),
		rejectedAtPlan(instancesConfig(e, `timeouts = { read = "-1m" }`), "Invalid read timeout", "must be positive"),
	)
	e.checkNoRequests()
}

// The example lists the demo seed's phones.
func TestAccExamples_instances(t *testing.T) {
	e := newAccEnv(t)
	seed := e.applyDemoSeed()
	e.applyExample("data-sources/koophone_instances", resource.TestStep{
		ConfigStateChecks: []statecheck.StateCheck{
			statecheck.ExpectKnownOutputValue("game_test_phone_count", knownvalue.Int64Exact(120)),
			statecheck.ExpectKnownOutputValue("game_test_canary", knownvalue.ListExact([]knownvalue.Check{
				knownvalue.StringExact("phone-gt-001"), knownvalue.StringExact("phone-gt-002"), knownvalue.StringExact("phone-gt-003"),
			})),
			statecheck.ExpectKnownOutputValue("demo_running", knownvalue.ListExact([]knownvalue.Check{
				knownvalue.StringExact("phone-001"), knownvalue.StringExact("phone-002"), knownvalue.StringExact("phone-003"),
				knownvalue.StringExact("phone-004"),
			})),
			statecheck.ExpectKnownOutputValue("demo_unassigned", knownvalue.ListExact([]knownvalue.Check{
				knownvalue.StringExact("phone-003"), knownvalue.StringExact("phone-004"),
			})),
			// The rollout: one install to 120 phones in waves of 1 (the
			// canary), 100 and 19, then the command on every phone.
			statecheck.ExpectKnownValue("koophone_instance_app_install.game", at("successful_count"), knownvalue.Int64Exact(120)),
			statecheck.ExpectKnownValue("koophone_instance_app_install.game", at("not_submitted_count"), knownvalue.Int64Exact(0)),
			statecheck.ExpectKnownOutputValue("install_waves", knownvalue.Int64Exact(3)),
			statecheck.ExpectKnownValue("koophone_instance_command.start_game", at("task_ids"), knownvalue.ListSizeExact(3)),
			statecheck.ExpectKnownOutputValue("rollout", knownvalue.StringExact("120 of 120 phones started the game")),
		},
		Check: e.expectWaves("koophone_instance_app_install.game",
			[]string{"phone-gt-001"}, idRange("phone-gt-%03d", 2, 102), idRange("phone-gt-%03d", 102, 121)),
	})
	// Three install waves, then three command waves, each submitted once,
	// and the commands only after every install had finished.
	if err := e.expectCounts(6, 6+len(seed.Tasks))(nil); err != nil {
		t.Error(err)
	}
	var lastInstallRead, firstCommand time.Time
	for _, r := range e.emu.Requests() {
		switch {
		case r.Path == "/v1/instances/async-command" && firstCommand.IsZero():
			firstCommand = r.Time
		case strings.HasPrefix(r.Path, "/v1/instances/tasks/ZGCA"):
			lastInstallRead = r.Time
		}
	}
	if firstCommand.IsZero() || firstCommand.Before(lastInstallRead) {
		t.Errorf("the first command was submitted at %s, the last install poll was at %s", firstCommand, lastInstallRead)
	}
}

// Each status number has its word; a number without one is itself in
// decimal, negative numbers included.
func TestInstancesStateWords(t *testing.T) {
	for _, c := range []struct {
		words []string
		n     koophone.Number
		want  string
	}{
		{runningStates, 0, "unknown"}, {runningStates, 1, "stopped"}, {runningStates, 2, "running"},
		{runningStates, 3, "going_offline"}, {runningStates, 4, "starting"}, {runningStates, 5, "shut_down"},
		{runningStates, 6, "6"}, {runningStates, 7, "7"}, {runningStates, -1, "-1"},
		{frozenStates, 0, "normal"}, {frozenStates, 1, "frozen"}, {frozenStates, 2, "2"},
		{loginStates, 0, "logged_out"}, {loginStates, 1, "logged_in"}, {loginStates, 3, "3"},
		{assignStates, 0, "unassigned"}, {assignStates, 1, "assigned"}, {assignStates, 12, "12"},
	} {
		if got := stateWord(c.words, c.n); got != c.want {
			t.Errorf("stateWord(%v, %d) = %q, want %q", c.words, c.n, got, c.want)
		}
	}
}

// The id and the log's description of the filters change with each filter,
// order and order_by included.
func TestInstancesFilterIDAndDescription(t *testing.T) {
	base := koophone.InstanceFilter{PoolName: "p"}
	seen := map[string]koophone.InstanceFilter{filterID(base): base}
	for _, f := range []koophone.InstanceFilter{
		{PoolName: "p", Order: "desc"}, {PoolName: "p", OrderBy: "instance_name"},
		{PoolName: "p", Order: "asc", OrderBy: "instance_name"}, {PoolName: "p", PoolSceneTag: "CLOUD_APP"},
	} {
		id := filterID(f)
		if prev, dup := seen[id]; dup {
			t.Errorf("filters %+v and %+v have the same id %s", prev, f, id)
		}
		seen[id] = f
	}
	f := koophone.InstanceFilter{PoolName: "p", Order: "desc", OrderBy: "instance_name"}
	if got, want := describeFilter(f), `pool_name "p", order "desc", order_by "instance_name"`; got != want {
		t.Errorf("describeFilter = %s, want %s", got, want)
	}
}

// The status words beside the numbers, for every documented number and for
// numbers the documentation does not give, which are themselves.
func TestAccInstances_stateWords(t *testing.T) {
	type row struct {
		running, frozen, login, assign int
		words                          [4]string
	}
	rows := []row{
		{0, 0, 0, 0, [4]string{"unknown", "normal", "logged_out", "unassigned"}},
		{1, 1, 1, 1, [4]string{"stopped", "frozen", "logged_in", "assigned"}},
		{2, 0, 1, 0, [4]string{"running", "normal", "logged_in", "unassigned"}},
		{3, 0, 0, 0, [4]string{"going_offline", "normal", "logged_out", "unassigned"}},
		{4, 0, 0, 0, [4]string{"starting", "normal", "logged_out", "unassigned"}},
		{5, 0, 0, 0, [4]string{"shut_down", "normal", "logged_out", "unassigned"}},
		// Undocumented numbers.
		{7, 2, 5, 9, [4]string{"7", "2", "5", "9"}},
		{-1, -2, 10, 100, [4]string{"-1", "-2", "10", "100"}},
	}
	phones := make([]emulator.Phone, len(rows))
	objects := make([]knownvalue.Check, len(rows))
	for i, r := range rows {
		phones[i] = emulator.Phone{
			InstanceID: fmt.Sprintf("phone-%d", i), PoolName: "words",
			RunningStatus: r.running, FrozenStatus: r.frozen, LoginStatus: r.login, AssignStatus: r.assign,
		}
		objects[i] = phoneObject(phones[i], r.words)
	}
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: phones})
	e.parallelTest(resource.TestStep{
		Config: instancesConfig(e, `pool_name = "words"`) + `
output "running" {
  value = [for p in data.koophone_instances.t.instances : p.instance_id if p.running_state == "running"]
}
`,
		ConfigStateChecks: []statecheck.StateCheck{
			expectInstances(at("instances"), knownvalue.ListExact(objects)),
			statecheck.ExpectKnownOutputValue("running", knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("phone-2")})),
		},
	})
}

// concurrentPages holds the answer to page 2 of every batch-query read
// until that read's page 3 has arrived: a read that asked for its pages one
// after the other would never get page 2 (the wait ends after a minute, and
// the test fails). Page 3 is answered first, so the answers also come back
// out of order.
func concurrentPages(t *testing.T) func(http.Handler) http.Handler {
	var (
		mu     sync.Mutex
		page3  = sync.NewCond(&mu)
		counts = map[string]int{}
	)
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/instances/batch-query" {
				pageNo := r.URL.Query().Get("page_no")
				mu.Lock()
				counts[pageNo]++
				switch pageNo {
				case "3":
					page3.Broadcast()
				case "2":
					read := counts["2"]
					timer := time.AfterFunc(time.Minute, func() {
						mu.Lock()
						defer mu.Unlock()
						page3.Broadcast()
					})
					start := time.Now()
					for counts["3"] < read && time.Since(start) < time.Minute {
						page3.Wait()
					}
					timer.Stop()
					if counts["3"] < read {
						t.Errorf("read %d asked for page 2 and never for page 3 while page 2 was unanswered: the pages were not read concurrently", read)
					}
				}
				mu.Unlock()
			}
			h.ServeHTTP(w, r)
		})
	}
}

// A pool of 250 phones among others, sorted by order_by in each order:
// three pages, the pages after the first read concurrently and answered out
// of order, and the phones in the order the emulator sorted them.
func TestAccInstances_orderAndPages(t *testing.T) {
	sorted := make([]emulator.Phone, 250)
	for i := range sorted {
		sorted[i] = emulator.Phone{
			InstanceID: fmt.Sprintf("phone-s%03d", i+1), InstanceName: fmt.Sprintf("n%03d", (i*37)%100),
			RunningStatus: []int{2, 10, 1}[i%3], PoolName: "sorted", PoolSceneTag: "CLOUD_APP",
		}
	}
	others := poolPhones("phone-o", "others", 30)
	e := newAccEnvWith(t, emulator.Options{Token: accToken, Phones: slices.Concat(others[:10], sorted, others[10:])}, concurrentPages(t))
	// The orders, worked out here: stable sorts of the pool, in the order
	// the phones were added.
	byName := slices.Clone(sorted)
	slices.SortStableFunc(byName, func(a, b emulator.Phone) int { return -strings.Compare(a.InstanceName, b.InstanceName) })
	byStatus := slices.Clone(sorted)
	slices.SortStableFunc(byStatus, func(a, b emulator.Phone) int { return a.RunningStatus - b.RunningStatus })
	var since int
	mark := func() { since = len(e.emu.Requests()) }
	e.parallelTest(
		resource.TestStep{
			PreConfig: mark,
			Config:    instancesConfig(e, "pool_name = \"sorted\"\n  order_by  = \"instance_name\"\n  order     = \"desc\""),
			ConfigStateChecks: append(expectIDs(phoneIDsOf(byName)),
				expectInstances(at("order"), knownvalue.StringExact("desc")),
				expectInstances(at("order_by"), knownvalue.StringExact("instance_name"))),
			Check: checkReadsPaged(e, &since, 3, "pool_name", "sorted", "order_by", "instance_name", "order", "desc"),
		},
		resource.TestStep{
			// Numbers sort numerically (10 after 2); order is left to the
			// API's default, ascending on the emulator.
			PreConfig:         mark,
			Config:            instancesConfig(e, "pool_scene_tag = \"CLOUD_APP\"\n  order_by       = \"running_status\""),
			ConfigStateChecks: expectIDs(phoneIDsOf(byStatus)),
			Check:             checkReadsPaged(e, &since, 3, "pool_scene_tag", "CLOUD_APP", "order_by", "running_status", "order", ""),
		},
		resource.TestStep{
			// Without order_by, the emulator's order: the order the phones
			// were added in.
			PreConfig:         mark,
			Config:            instancesConfig(e, `pool_name = "sorted"`),
			ConfigStateChecks: expectIDs(phoneIDsOf(sorted)),
			Check:             checkReadsPaged(e, &since, 3, "pool_name", "sorted", "order_by", ""),
		},
	)
}

// order, order_by and pool_scene_tag take only the documented values: any
// other is an error at plan time that names the attribute and the values
// allowed, before any request.
func TestAccInstances_orderAndSceneRejectedAtPlan(t *testing.T) {
	e := newAccEnv(t)
	e.parallelTest(
		rejectedAtPlan(instancesConfig(e, `order = "DESC"`), "Invalid Attribute Value Match", `Attribute order value must be one of: ["asc" "desc"], got: "DESC"`),
		rejectedAtPlan(instancesConfig(e, `order = ""`), `Attribute order value must be one of: ["asc" "desc"], got: ""`),
		rejectedAtPlan(instancesConfig(e, `order_by = "pool_name"`), "Invalid Attribute Value Match",
			`Attribute order_by value must be one of: ["instance_id" "instance_name" "region" "instance_sku" "frozen_status" `+
				`"running_status" "login_status" "assign_status" "assign_user" "billing_mode" "project_id" "project_name" "phone_id" `+
				`"member_name" "account_name" "region_name" "region_name_en" "backup_status" "backup_time" "restore_status" `+
				`"restore_time"], got: "pool_name"`),
		rejectedAtPlan(instancesConfig(e, `order_by = "running_state"`), `Attribute order_by value must be one of:`, `got: "running_state"`),
		rejectedAtPlan(instancesConfig(e, `pool_scene_tag = "cloud_phone"`), "Invalid Attribute Value Match",
			`Attribute pool_scene_tag value must be one of: ["CLOUD_PHONE" "CLOUD_APP"], got: "cloud_phone"`),
	)
	e.checkNoRequests()
}

// Phones created while the pages are read: the read goes on to the pages
// they add, lists every phone once, and warns that the count changed,
// with the first and the last total_count.
func TestAccInstances_countChangeWarned(t *testing.T) {
	var (
		e    *accEnv
		once sync.Once
	)
	grow := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/instances/batch-query" && r.URL.Query().Get("page_no") != "1" {
				// Once the first read's page 1 has said 250 phones.
				once.Do(func() {
					if err := e.emu.AddPhones(poolPhones("phone-new-", "grows", 60)...); err != nil {
						t.Error(err)
					}
				})
			}
			h.ServeHTTP(w, r)
		})
	}
	first := poolPhones("phone-", "grows", 250)
	e = newAccEnvWith(t, emulator.Options{Token: accToken, Phones: first}, grow)
	logPath := t.TempDir() + "/terraform.log"
	t.Setenv("TF_LOG", "WARN")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	e.serialTest(resource.TestStep{
		Config:            instancesConfig(e, `pool_name = "grows"`),
		ConfigStateChecks: expectIDs(phoneIDsOf(slices.Concat(first, poolPhones("phone-new-", "grows", 60)))),
	})
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// One line, whose fields come in any order.
	warning := grepLines(string(logs), "The number of KooPhone phones changed while the list was read")
	if !strings.Contains(warning, "first_total_count=250") || !strings.Contains(warning, "last_total_count=310") {
		t.Errorf("the log has no warning that the count went from 250 to 310:\n%s", grepLines(string(logs), "KooPhone"))
	}
	if n := strings.Count(string(logs), "The number of KooPhone phones changed"); n != 1 {
		t.Errorf("%d warnings, want 1: only the first read saw the fleet grow", n)
	}
}

// grepLines returns the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "")
}
