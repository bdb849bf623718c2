package provider

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
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

// phoneObject checks every attribute of an element of instances.
func phoneObject(p emulator.Phone) knownvalue.Check {
	s, n := knownvalue.StringExact, func(v int) knownvalue.Check { return knownvalue.Int64Exact(int64(v)) }
	return knownvalue.ObjectExact(map[string]knownvalue.Check{
		"instance_id": s(p.InstanceID), "instance_name": s(p.InstanceName), "region": s(p.Region), "instance_sku": s(p.InstanceSKU),
		"frozen_status": n(p.FrozenStatus), "running_status": n(p.RunningStatus), "login_status": n(p.LoginStatus),
		"assign_status": n(p.AssignStatus), "assign_user": s(p.AssignUser), "billing_mode": s(p.BillingMode),
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
// for exactly the pages 1 to pages, in order, with the filter given.
func checkReadsPaged(e *accEnv, since *int, pages int, filter, value string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		reqs := listRequests(e, *since)
		if len(reqs) == 0 || len(reqs)%pages != 0 {
			return fmt.Errorf("%d batch-query requests, want a multiple of %d (one read is %d pages)", len(reqs), pages, pages)
		}
		for i, q := range reqs {
			if want := fmt.Sprint(i%pages + 1); q.Get("page_no") != want || q.Get("page_size") != "100" || q.Get(filter) != value || q.Get("x-request-id") == "" {
				return fmt.Errorf("request %d: query %v, want page_no %s, page_size 100, %s %q and x-request-id", i, q, want, filter, value)
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
				expectInstances(at("instances"), knownvalue.ListExact([]knownvalue.Check{phoneObject(full)}))),
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
		rejectedAtPlan(instancesConfig(e, fmt.Sprintf("pool_scene_tag = %q", strings.Repeat("T", 256))), "pool_scene_tag", "string length must be between 1 and 255"),
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
