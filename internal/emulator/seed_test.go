package emulator

import (
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Every error in a seed file names the field, with its indexes, whether
// ParseSeed (the JSON, the credentials) or ApplySeed (the entries) finds it.
func TestSeedErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name, seed, want string
	}{
		{"nested unknown field", `{"tasks":[{},{"jobs":[{},{"stat":1}]}]}`, `tasks[1].jobs[1]: unknown field "stat"`},
		{"top-level unknown field", `{"taks":[]}`, `unknown field "taks"`},
		{"unknown credential", `{"credentials":{"tokn":"x"}}`, `credentials: unknown field "tokn"`},
		{"type error", `{"phones":[{"instance_id":"a"},{"instance_id":1}]}`, `phones[1].instance_id: must be a JSON string, got number`},
		{"type error of a list", `{"tasks":{}}`, `tasks: must be a JSON array, got object`},
		{"type error of an object", `{"credentials":"t"}`, `credentials: must be a JSON object, got string`},
		{"invalid duration", `{"faults":[{"kind":"delay","delay":"soon"}]}`, `faults[0].delay: invalid duration "soon"`},
		{"syntax error", "{\n  \"tasks\": [\n    {\"task_id\": \"a\",}\n  ]\n}", `the file is not valid JSON: invalid character '}' looking for beginning of object key string (line 3, column 21)`},
		{"empty", ``, `the file is empty; want a JSON object`},
		{"not an object", `[]`, `the file must be a JSON object, got array`},
		{"trailing data", `{} {}`, `the file has data after the JSON object`},
		{"empty credentials", `{"credentials":{}}`, `credentials: set token, or access_key and secret_key, or leave credentials out`},
		{"access key alone", `{"credentials":{"access_key":"a"}}`, `credentials.secret_key: required with access_key`},
		{"secret key alone", `{"credentials":{"token":"t","secret_key":"s"}}`, `credentials.access_key: required with secret_key`},
		{"security token alone", `{"credentials":{"token":"t","security_token":"s"}}`, `credentials.access_key: required with security_token`},
		{"invalid phone", `{"phones":[{"instance_id":"a"},{}]}`, `phones[1].instance_id: required, 1 to 32 characters`},
		{"two ranges", `{"phones":[{"instance_id":"p-{1..2}-{1..2}"}]}`, `phones[0].instance_id: "p-{1..2}-{1..2}": at most one range {A..B}, got 2`},
		{"reversed range", `{"phones":[{"instance_id":"a"},{"instance_id":"p-{5..1}"}]}`, `phones[1].instance_id: range {5..1}: the first number must not be greater than the second`},
		{"huge range", `{"phones":[{"instance_id":"p-{1..1000000}"}]}`, `phones[0].instance_id: range {1..1000000}: 1000000 phones, more than the 100000 one range may stand for`},
		{"long number", `{"phones":[{"instance_id":"p-{1..12345678901}"}]}`, `phones[0].instance_id: range {1..12345678901}: numbers of at most 9 digits`},
		{"other range in the name", `{"phones":[{"instance_id":"p-{1..3}","instance_name":"p {1..4}"}]}`, `phones[0].instance_name: range {1..4} differs from instance_id's {1..3}`},
		{"range in the name only", `{"phones":[{"instance_id":"p","instance_name":"p {1..4}"}]}`, `phones[0].instance_name: "p {1..4}" has the range {1..4}, but instance_id "p" has none`},
		{"range over a phone", `{"phones":[{"instance_id":"p-2"},{"instance_id":"p-{1..3}"}]}`, `phones[1].instance_id: "p-2" duplicates phones[0]`},
		{"range too long an id", `{"phones":[{"instance_id":"a-very-long-phone-id-of-pool-x-{8..10}"}]}`, `phones[0].instance_id: "a-very-long-phone-id-of-pool-x-10": must be 1 to 32 characters of valid UTF-8, got 33`},
		{"duplicate task", `{"tasks":[{"task_id":"a"},{"task_id":"a"}]}`, `tasks[1].task_id: a task "a" already exists`},
		{"invalid task id", `{"tasks":[{"task_id":"a/b"}]}`, `tasks[0].task_id: "a/b": character '/' at byte 1 is not allowed`},
		{"duplicate job", `{"tasks":[{"jobs":[{"job_id":"j"},{"job_id":"j"}]}]}`, `tasks[0].jobs[1].job_id: "j" duplicates jobs[0]`},
		{"negative job delay", `{"tasks":[{"jobs":[{"start_after_polls":-1}]}]}`, `tasks[0].jobs[0].start_after_polls: must not be negative`},
		{"invalid fault", `{"faults":[{"kind":"error"},{"kind":"boom"}]}`, `faults[1].kind: unknown fault kind "boom"`},
		{"fault field for another kind", `{"faults":[{"kind":"drop","status":500}]}`, `faults[0].status: fault status applies only to kinds error, html, raw and redirect, not drop`},
		{"invalid rule", `{"rules":[{"kind":"command","command":"(","status":2}]}`, `rules[0].command: invalid regular expression "(": missing closing )`},
		{"location for another kind", `{"faults":[{"kind":"error","location":"https://elsewhere.example/"}]}`, `faults[0].location: fault location applies only to kind redirect, not error`},
		{"redirect without location", `{"faults":[{"kind":"redirect","status":302}]}`, `faults[0].location: required for kind redirect`},
		{"redirect with process", `{"faults":[{"kind":"redirect","location":"https://elsewhere.example/","process":true}]}`, `faults[0].process: fault process does not apply to kind redirect`},
		{"negative listed_after", `{"tasks":[{"jobs":[{"listed_after":"-1s"}]}]}`, `tasks[0].jobs[0].listed_after: must not be negative`},
		{"negative listed_after_polls of a rule", `{"rules":[{"kind":"command","status":2,"listed_after_polls":-1}]}`, `rules[0].listed_after_polls: must not be negative, got -1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seed, err := ParseSeed([]byte(c.seed))
			if err == nil {
				_, err = New(Options{Token: testToken}).ApplySeed(seed)
			}
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("err %v\nwant it to start with %s", err, c.want)
			}
		})
	}
}

// A phone with a number range in its instance_id stands for one phone per
// number, in order, zero-padded as a shell's brace expansion pads; the
// same range in its name takes the same number, and every other field is
// copied.
func TestSeedPhoneRanges(t *testing.T) {
	seed, err := ParseSeed([]byte(`{"phones": [
		{"instance_id": "phone-{008..011}", "instance_name": "game {008..011} of {008..011}", "pool_name": "game", "running_status": 2},
		{"instance_id": "phone-x"},
		{"instance_id": "p{9..10}-b", "pool_name": "b"},
		{"instance_id": "q-{01..3}"},
		{"instance_id": "one-{7..7}"}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Token: testToken})
	if _, err := e.ApplySeed(seed); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range e.Phones() {
		ids = append(ids, p.InstanceID)
	}
	want := []string{"phone-008", "phone-009", "phone-010", "phone-011", "phone-x", "p9-b", "p10-b", "q-01", "q-02", "q-03", "one-7"}
	if !slices.Equal(ids, want) {
		t.Fatalf("phones %v\nwant %v", ids, want)
	}
	p := e.Phones()[2]
	if p.InstanceName != "game 010 of 010" || p.PoolName != "game" || p.RunningStatus != 2 {
		t.Errorf("phone-010: %+v", p)
	}
	if p := e.Phones()[6]; p.PoolName != "b" || p.InstanceName != "" {
		t.Errorf("p10-b: %+v", p)
	}
	// The expanded phones exist for submitted jobs; others do not.
	e.mu.Lock()
	exists, missing := e.instances["phone-010"], e.instances["phone-012"]
	e.mu.Unlock()
	if !exists || missing {
		t.Errorf("instances: phone-010 %v, phone-012 %v", exists, missing)
	}
	// The entries as written stay in the Seed, for whoever reads it again.
	if len(seed.Phones) != 5 || seed.Phones[0].InstanceID != "phone-{008..011}" {
		t.Errorf("seed.Phones changed: %+v", seed.Phones)
	}
}

// The reference seed file, examples/emulator/seed.json, loads, and does
// what the emulator's reference page says it does.
func TestReferenceSeed(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "emulator", "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := ParseSeed(data)
	if err != nil {
		t.Fatal(err)
	}
	if c := seed.Credentials; c == nil || c.Token == "" || c.AccessKey == "" || c.SecretKey == "" || c.SecurityToken == "" {
		t.Errorf("credentials %+v, want every field, as a reference", c)
	}
	if seed.Latency != Duration(10*time.Millisecond) {
		t.Errorf("latency %v, want 10ms", seed.Latency)
	}
	synctest.Test(t, func(t *testing.T) { testReferenceSeed(t, seed) })
}

func testReferenceSeed(t *testing.T, seed Seed) {
	v := bubbleEnv(t, Options{JobDuration: 5 * time.Second})
	ids, err := v.emu.ApplySeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"command-task-succeeds-after-3s", "install-task-starts-late", "task-never-finishes"}
	if !slices.Equal(ids, want) || len(v.emu.Phones()) != 4 || len(v.emu.rules) != 10 || len(v.emu.PendingFaults()) != 6 {
		t.Fatalf("task ids %v, %d phones, %d rules, %d faults", ids, len(v.emu.Phones()), len(v.emu.rules), len(v.emu.PendingFaults()))
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", what, got, want)
		}
	}
	// phone-canary-002 has its seeded apps, the others the default ones.
	if apps, _ := v.emu.Apps("phone-canary-002"); len(apps) != 2 || apps[1].AppPkg != "com.example.game" || apps[1].AppVersion != "1.2.2" || !apps[0].System {
		t.Errorf("apps of phone-canary-002: %+v", apps)
	}
	if apps, _ := v.emu.Apps("phone-canary-001"); len(apps) != len(DefaultApps()) {
		t.Errorf("apps of phone-canary-001: %+v", apps)
	}
	// The faults answer the first requests; the rules outlive a Reset.
	wantErr(t, v.do(http.MethodPost, pathAsync, map[string]any{"command": "whoami", "instance_ids": []string{"phone-canary-001"}}), 429, "APIGW.0308")
	v.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if r := v.getTask("task-that-moved-away"); r.status != http.StatusMovedPermanently ||
		r.header.Get("Location") != "https://koophone.elsewhere.example/v1/instances/tasks/task-that-moved-away" {
		t.Errorf("the moved task: %d, Location %q", r.status, r.header.Get("Location"))
	}
	// install-task-starts-late lists its job on phone-canary-001 from its
	// third read (not counting the one it was not visible for) and 3s on.
	wantErr(t, v.getTask("install-task-starts-late"), 400, "KOOPHONE.API.1323")
	lateTask := func(d time.Duration) []string {
		t.Helper()
		time.Sleep(d)
		return jobIDs(t, v.getTask("install-task-starts-late"))
	}
	check("listed at 1s", lateTask(time.Second), "install-job-canary-002")
	check("listed at 3s, read 2", lateTask(2*time.Second), "install-job-canary-002")
	check("listed at 3s, read 3", lateTask(0), "install-job-canary-002", "install-job-canary-001")
	v.emu.Reset()

	at := func(id string, d time.Duration, start time.Time) []string {
		t.Helper()
		time.Sleep(d - time.Since(start))
		return jobStates(t, v.getTask(id))
	}
	// A reboot fails everywhere after 1s (rules[0]), on the broken phone
	// too: the first matching rule decides.
	start := time.Now()
	id := v.submitWork(false, "reboot", []string{"phone-broken-001", "phone-canary-001"})
	rebootFails := doneJob(StatusFailed, "KOOPHONE.API.1001", "No permission to operate the instance.", sp("reboot: Operation not permitted\n"))
	check("reboot at 1s", at(id, time.Second, start), rebootFails, rebootFails)

	// getprop answers "14" on the canary phones after 500ms (rules[1]);
	// any command fails on the broken phone (rules[3]); others succeed
	// after -job-duration.
	start = time.Now()
	id = v.submitWork(false, "getprop ro.build.version.release", []string{"phone-canary-002", "phone-broken-001", "phone-offline-001"})
	check("getprop at 500ms", at(id, 500*time.Millisecond, start), doneJob(StatusSucceeded, "", "", sp("14\n")), runningJob, runningJob)
	check("getprop at 5s", at(id, 5*time.Second, start), doneJob(StatusSucceeded, "", "", sp("14\n")),
		doneJob(StatusFailed, "EMULATOR.0001", "Failed by rules[3] of the KooPhone emulator.", nil), doneJob(StatusSucceeded, "", "", sp(commandOutput("getprop ro.build.version.release", "phone-offline-001"))))

	// sleep never finishes (rules[2]).
	start = time.Now()
	id = v.submitWork(false, "sleep 60", []string{"phone-canary-001"})
	check("sleep at 1000h", at(id, 1000*time.Hour, start), runningJob)

	// com.example.too.big fails with INSTALL_FAILED_INSUFFICIENT_STORAGE
	// after 4s, having started after 1s (rules[4]).
	start = time.Now()
	id = v.submitWork(true, "com.example.too.big", []string{"phone-canary-001"})
	check("too big at 1s", at(id, time.Second, start), runningJob)
	check("too big at 4s", at(id, 4*time.Second, start), doneJob(StatusInstallFailed, "INSTALL_FAILED_INSUFFICIENT_STORAGE", "Not enough storage on the phone.", sp("Failure [INSTALL_FAILED_INSUFFICIENT_STORAGE]")))

	// Other installs never start on the offline phone (rules[5]), fail
	// after 2s on the broken phone and phone-canary-002 (rules[6]), succeed
	// on phone-canary-001, and an unlisted phone is not found.
	start = time.Now()
	id = v.submitWork(true, "com.example.app", []string{"phone-offline-001", "phone-broken-001", "phone-canary-002", "phone-canary-001", "phone-unlisted"})
	installFail := doneJob(StatusInstallFailed, "EMULATOR.0001", "Failed by rules[6] of the KooPhone emulator.", nil)
	check("install at 2s", at(id, 2*time.Second, start), pendingJob, installFail, installFail, pendingJob, pendingJob)
	check("install at 3s", at(id, 3*time.Second, start), pendingJob, installFail, installFail, runningJob, runningJob)
	check("install at 1000h", at(id, 1000*time.Hour, start), pendingJob, installFail, installFail,
		doneJob(StatusSucceeded, "", "", sp("Success")), doneJob(StatusInstallFailed, "CPS0005", "Phone not found.", nil))

	// pm commands on the canary phones are listed from the second query
	// and 2s after the submit on (rules[7]); elsewhere at once.
	start = time.Now()
	id = v.submitWork(false, "pm list packages", []string{"phone-canary-001", "phone-offline-001"})
	pmOut := func(phone string) string {
		return doneJob(StatusSucceeded, "", "", sp(commandOutput("pm list packages", phone)))
	}
	check("pm at 2s, read 1", at(id, 2*time.Second, start), runningJob)
	check("pm at 2s, read 2", at(id, 2*time.Second, start), runningJob, runningJob)
	check("pm at 5s", at(id, 5*time.Second, start), pmOut("phone-canary-001"), pmOut("phone-offline-001"))

	// A reboot of the broken phone fails after 10s and leaves it shut down
	// (rules[8]); elsewhere it takes -job-duration. The offline phone is
	// stopped: it cannot be rebooted.
	wantErr(t, v.do(http.MethodPost, pathReboot, phoneIDs("phone-canary-002", "phone-offline-001")), http.StatusBadRequest, "KOOPHONE.API.5005")
	wantOK(t, v.do(http.MethodPost, pathReboot, phoneIDs("phone-canary-002", "phone-broken-001")))
	time.Sleep(5 * time.Second)
	if got, want := v.statuses("phone-canary-002", "phone-broken-001"), map[string]int{"phone-canary-002": 2, "phone-broken-001": 4}; !maps.Equal(got, want) {
		t.Errorf("reboot at 5s: %v, want %v", got, want)
	}
	time.Sleep(5 * time.Second)
	if got, want := v.statuses("phone-canary-002", "phone-broken-001"), map[string]int{"phone-canary-002": 2, "phone-broken-001": 5}; !maps.Equal(got, want) {
		t.Errorf("reboot at 10s: %v, want %v", got, want)
	}

	// A reset of the broken phone fails after 3s with KPAPI.2209 and leaves
	// it stopped (rules[9]).
	id = resetData(t, v.do(http.MethodPost, pathReset, phoneIDs("phone-broken-001"))).TaskID
	time.Sleep(3 * time.Second)
	check("reset at 3s", jobStates(t, v.getTask(id)), doneJob(StatusFailed, "KPAPI.2209", "No device can be assigned.", nil))
	if got, _ := v.emu.PhoneStatus("phone-broken-001"); got != PhoneStatusStopped {
		t.Errorf("after the reset: %d, want 1", got)
	}
}

// The seed's latency is a duration, never negative; ApplySeed leaves it to
// whoever serves the emulator.
func TestSeedLatency(t *testing.T) {
	s, err := ParseSeed([]byte(`{"latency": "50ms"}`))
	if err != nil || s.Latency != Duration(50*time.Millisecond) {
		t.Fatalf("latency %v, err %v; want 50ms", s.Latency, err)
	}
	for body, want := range map[string]string{
		`{"latency": "-1s"}`: "latency: -1s: must not be negative",
		`{"latency": "50"}`:  `latency`,
		`{"latency": 50}`:    `latency`,
	} {
		if _, err := ParseSeed([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", body, err, want)
		}
	}
}

// A fleet of 10,000 phones from one range: every phone, in order, listed
// page by page.
func TestSeedTenThousandPhones(t *testing.T) {
	seed, err := ParseSeed([]byte(`{"phones": [{"instance_id": "phone-{00001..10000}", "instance_name": "phone {00001..10000}", "pool_name": "fleet"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	v := newEnv(t, Options{})
	if _, err := v.emu.ApplySeed(seed); err != nil {
		t.Fatal(err)
	}
	phones := v.emu.Phones()
	if len(phones) != 10000 || phones[0].InstanceID != "phone-00001" || phones[9999].InstanceID != "phone-10000" || phones[9999].InstanceName != "phone 10000" {
		t.Fatalf("%d phones, first %+v", len(phones), phones[0])
	}
	p, got := v.list("page_no", "100", "page_size", "100", "pool_name", "fleet")
	if p.Data.TotalCount != 10000 || len(got) != 100 || got[99] != "phone-10000" {
		t.Errorf("last page: total %d, %d phones", p.Data.TotalCount, len(got))
	}
}
