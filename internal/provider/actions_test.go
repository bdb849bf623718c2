package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// The actions at the plugin protocol level, as Terraform 1.14 calls them
// (ValidateActionConfig, PlanAction, InvokeAction), against the emulator in
// memory, in a synctest bubble: these need no Terraform 1.14 binary, and
// run on the bubble's fake clock.

// invocation is what one InvokeAction streamed.
type invocation struct {
	progress []string
	diags    []*tfprotov6.Diagnostic
}

func (inv invocation) errors() []string   { return inv.severity(tfprotov6.DiagnosticSeverityError) }
func (inv invocation) warnings() []string { return inv.severity(tfprotov6.DiagnosticSeverityWarning) }

func (inv invocation) severity(s tfprotov6.DiagnosticSeverity) []string {
	var out []string
	for _, d := range inv.diags {
		if d.Severity == s {
			out = append(out, d.Summary+": "+d.Detail)
		}
	}
	return out
}

// actionRig is a configured provider server, its action schemas and the
// emulator in memory.
type actionRig struct {
	*protoRig
	actions tfprotov6.ActionServer
	schemas *tfprotov6.GetProviderSchemaResponse
}

func newActionRig(t *testing.T) *actionRig {
	t.Helper()
	return newActionRigFor(t, emulator.New(emulator.Options{Token: accToken}))
}

// newActionRigFor serves emu in memory to a configured provider server.
func newActionRigFor(t *testing.T, emu *emulator.Emulator) *actionRig {
	t.Helper()
	srv := emulator.ServeInMemory(emu)
	t.Cleanup(srv.Close)
	server := providerserver.NewProtocol6(New("test", WithDialContext(srv.DialContext))())()
	t.Cleanup(func() { _, _ = server.StopProvider(context.Background(), &tfprotov6.StopProviderRequest{}) })
	actions, ok := server.(tfprotov6.ActionServer)
	if !ok {
		t.Fatal("the provider server does not serve actions")
	}
	r := &protoRig{emu: emu, server: server}
	return &actionRig{protoRig: r, actions: actions, schemas: configureServer(t, server, emulator.InMemoryURL, 0)}
}

// config is the configuration of an action: args set, the rest null.
func (r *actionRig) config(t *testing.T, typeName string, args map[string]tftypes.Value) *tfprotov6.DynamicValue {
	t.Helper()
	s, ok := r.schemas.ActionSchemas[typeName]
	if !ok {
		t.Fatalf("no action %s in the provider's schemas", typeName)
	}
	typ, ok := s.Schema.ValueType().(tftypes.Object)
	if !ok {
		t.Fatal("the action's type is not an object")
	}
	vals := nullAttributes(typ)
	for name, v := range args {
		if _, ok := vals[name]; !ok {
			t.Fatalf("action %s has no argument %s", typeName, name)
		}
		vals[name] = v
	}
	config, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		t.Fatal(err)
	}
	return &config
}

// validate runs ValidateActionConfig and PlanAction, as Terraform does at
// plan time, and returns their diagnostics; neither may call the API.
func (r *actionRig) validate(t *testing.T, typeName string, config *tfprotov6.DynamicValue) []*tfprotov6.Diagnostic {
	t.Helper()
	ctx := context.Background()
	before := len(r.emu.Requests())
	v, err := r.actions.ValidateActionConfig(ctx, &tfprotov6.ValidateActionConfigRequest{ActionType: typeName, Config: config})
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.actions.PlanAction(ctx, &tfprotov6.PlanActionRequest{ActionType: typeName, Config: config})
	if err != nil {
		t.Fatal(err)
	}
	if after := len(r.emu.Requests()); after != before {
		t.Errorf("validation and plan sent %d API requests, want none", after-before)
	}
	return append(v.Diagnostics, p.Diagnostics...)
}

// invoke validates, plans and invokes the action, and collects its events.
func (r *actionRig) invoke(ctx context.Context, t *testing.T, typeName string, args map[string]tftypes.Value) invocation {
	t.Helper()
	config := r.config(t, typeName, args)
	if diags := r.validate(t, typeName, config); len(diags) > 0 {
		t.Fatalf("validation: %v", diagTexts(diags))
	}
	stream, err := r.actions.InvokeAction(ctx, &tfprotov6.InvokeActionRequest{ActionType: typeName, Config: config})
	if err != nil {
		t.Fatal(err)
	}
	var inv invocation
	for ev := range stream.Events {
		switch e := ev.Type.(type) {
		case tfprotov6.ProgressInvokeActionEventType:
			inv.progress = append(inv.progress, e.Message)
		case tfprotov6.CompletedInvokeActionEventType:
			inv.diags = e.Diagnostics
		}
	}
	return inv
}

func diagTexts(diags []*tfprotov6.Diagnostic) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary+": "+d.Detail)
	}
	return out
}

func strVal(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
func numVal(n int) tftypes.Value    { return tftypes.NewValue(tftypes.Number, n) }
func phoneIDs(n int) []string       { return phoneRange(1, n+1) }

func stringList(ids []string) tftypes.Value {
	elems := make([]tftypes.Value, len(ids))
	for i, id := range ids {
		elems[i] = strVal(id)
	}
	return tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, elems)
}

func countRequests(emu *emulator.Emulator, method, path string) int {
	n := 0
	for _, r := range emu.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func mustMatch(t *testing.T, what string, texts []string, patterns ...string) {
	t.Helper()
	all := strings.Join(texts, "\n")
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(all) {
			t.Errorf("%s does not match %q:\n%s", what, p, all)
		}
	}
}

// 250 phones go out in three waves of at most 100, one after another; a
// failure within the budget is a warning that names the phone; progress
// comes whenever the counts change, and the last line gives the counts and
// every task.
func TestActionCommand_wavesProgressAndOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newActionRig(t)
		fail := emulator.StatusFailed
		code, msg, out := "E42", "disk full", "no space left"
		if err := r.emu.AddRules(emulator.Rule{Kind: emulator.RuleCommand, Phones: []string{"phone-007"}, Status: &fail,
			ErrorCode: &code, ErrorMsg: &msg, ExecuteMsg: &out}); err != nil {
			t.Fatal(err)
		}
		inv := r.invoke(t.Context(), t, "koophone_instance_command", map[string]tftypes.Value{
			"command": strVal("pm list packages"), "instance_ids": stringList(phoneIDs(250)), "max_failed_phones": numVal(1),
		})
		if errs := inv.errors(); len(errs) > 0 {
			t.Fatalf("errors: %v", errs)
		}
		mustMatch(t, "warnings", inv.warnings(), `failed on 1 phone`, `phone-007: failed \(status -1\), error_code "E42", error_msg "disk full", execute_msg "no space left"`)
		if n := countRequests(r.emu, "POST", "/v1/instances/async-command"); n != 3 {
			t.Errorf("%d submits, want 3 waves", n)
		}
		seen := map[string]int{}
		for _, id := range r.emu.TaskIDs() {
			for _, phone := range r.emu.TaskInstances(id) {
				seen[phone]++
			}
		}
		if len(seen) != 250 {
			t.Errorf("%d phones got the command, want 250", len(seen))
		}
		for phone, n := range seen {
			if n != 1 {
				t.Errorf("%s got the command %d times", phone, n)
			}
		}
		last := inv.progress[len(inv.progress)-1]
		wantLast := fmt.Sprintf("Done: 250/250 phones finished (249 successful, 1 failed), 0 running; tasks: %s", strings.Join(r.emu.TaskIDs(), ", "))
		if last != wantLast {
			t.Errorf("last progress event %q, want %q", last, wantLast)
		}
		mustMatch(t, "progress", inv.progress, `^0/250 phones finished \(0 successful, 0 failed\), 100 running, 150 not sent yet; tasks: `,
			`(?m)^100/250 phones finished \(99 successful, 1 failed\), 0 running, 150 not sent yet`)
		for i := 1; i < len(inv.progress)-1; i++ {
			if inv.progress[i] == inv.progress[i-1] {
				t.Errorf("progress event %d repeats %q, though the counts did not change within a minute", i, inv.progress[i])
			}
		}
	})
}

// With fail_on_job_failure (the default) and no budget, the first failure
// stops the next waves and fails the invocation with every failed phone
// and every task.
func TestActionCommand_failureStopsTheNextWaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newActionRig(t)
		fail := emulator.StatusFailed
		if err := r.emu.AddRules(emulator.Rule{Kind: emulator.RuleCommand, Phones: []string{"phone-00[12]"}, Status: &fail}); err != nil {
			t.Fatal(err)
		}
		inv := r.invoke(t.Context(), t, "koophone_instance_command", map[string]tftypes.Value{
			"command": strVal("reboot"), "instance_ids": stringList(phoneIDs(150)),
		})
		tasks := r.emu.TaskIDs()
		if len(tasks) != 1 {
			t.Fatalf("%d tasks, want 1: the failures of wave 1 stop wave 2", len(tasks))
		}
		mustMatch(t, "errors", inv.errors(), `adb command failed on 2 phone`, `phone-001: failed`, `phone-002: failed`,
			`wave 2 of 2 \(50 phones\) was not submitted`, regexp.QuoteMeta(fmt.Sprintf(`task_ids = [%q]`, tasks[0])),
			`An action keeps nothing in state`)
	})
}

// The timeout ends the wait at once and says which it was, with its value,
// and what had not finished; Ctrl-C (Terraform stopping the provider) says
// the run was interrupted.
func TestActionCommand_timeoutAndInterrupt(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   map[string]tftypes.Value
		stop   bool
		want   []string
		within time.Duration
	}{
		{name: "timeout", args: map[string]tftypes.Value{"timeout": strVal("90s")},
			want: []string{`Timed out waiting for KooPhone adb command`, `(?i)timeout \(1m30s\) ran out while waiting for task`, `phone-001: running`}, within: 90 * time.Second},
		{name: "interrupt", stop: true,
			want: []string{`Wait for KooPhone adb command interrupted`, `interrupted`}, within: 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newActionRig(t)
				running := emulator.StatusRunning
				if err := r.emu.AddRules(emulator.Rule{Kind: emulator.RuleCommand, Status: &running}); err != nil {
					t.Fatal(err)
				}
				if tc.stop {
					go func() {
						time.Sleep(tc.within)
						_, _ = r.server.StopProvider(context.Background(), &tfprotov6.StopProviderRequest{})
					}()
				}
				args := map[string]tftypes.Value{"command": strVal("sleep 1000"), "instance_ids": stringList(phoneIDs(2))}
				for k, v := range tc.args {
					args[k] = v
				}
				start := time.Now()
				inv := r.invoke(t.Context(), t, "koophone_instance_command", args)
				if took := time.Since(start); took != tc.within {
					t.Errorf("the invocation ended after %s, want %s: at once when stopped", took, tc.within)
				}
				mustMatch(t, "errors", inv.errors(), tc.want...)
			})
		})
	}
}

// A long wait sends its progress at least once a minute, even when nothing
// changes.
func TestActionCommand_progressAtLeastEveryMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newActionRig(t)
		ok := emulator.StatusSucceeded
		after := emulator.Duration(10 * time.Minute)
		if err := r.emu.AddRules(emulator.Rule{Kind: emulator.RuleCommand, Status: &ok, After: &after}); err != nil {
			t.Fatal(err)
		}
		inv := r.invoke(t.Context(), t, "koophone_instance_command", map[string]tftypes.Value{
			"command": strVal("pm trim-caches 1G"), "instance_ids": stringList(phoneIDs(3)), "poll_interval": strVal("5m"),
		})
		if errs := inv.errors(); len(errs) > 0 {
			t.Fatal(errs)
		}
		running := 0
		for _, p := range inv.progress {
			if strings.HasPrefix(p, "0/3 phones finished") {
				running++
			}
		}
		if running < 10 {
			t.Errorf("%d progress events during a 10-minute wait, want one a minute: %q", running, inv.progress)
		}
	})
}

// A submit that may have reached the API is never sent again: the
// invocation says the outcome is unknown and gives the request id.
func TestActionCommand_neverSubmitsTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newActionRig(t)
		if err := r.emu.AddFault(emulator.Fault{Match: "/v1/instances/async-command", Kind: emulator.FaultError, Status: 502, Process: true}); err != nil {
			t.Fatal(err)
		}
		inv := r.invoke(t.Context(), t, "koophone_instance_command", map[string]tftypes.Value{
			"command": strVal("reboot"), "instance_ids": stringList(phoneIDs(120)), "wave_size": numVal(60),
		})
		if n := countRequests(r.emu, "POST", "/v1/instances/async-command"); n != 1 {
			t.Errorf("%d submits, want 1: a submit that may have been accepted is never sent again, nor the next wave", n)
		}
		reqID := r.emu.Requests()[0].RequestID
		mustMatch(t, "errors", inv.errors(), `Outcome of the KooPhone adb command unknown`, regexp.QuoteMeta(reqID),
			`Wave 1 of 2 of the adb command \(60 phones\)`, `wave 2 of 2 \(60 phones\) was not submitted`)
	})
}

// Validation refuses, at plan time and without calling the API, what the
// resources refuse, with the same rules.
func TestActions_validation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newActionRig(t)
		for _, tc := range []struct {
			action string
			args   map[string]tftypes.Value
			want   string
		}{
			{"koophone_instance_command", map[string]tftypes.Value{"command": strVal("ls\nrm"), "instance_ids": stringList(phoneIDs(1))}, `control character`},
			{"koophone_instance_command", map[string]tftypes.Value{"command": strVal("ls"), "instance_ids": stringList(nil)}, `at least 1`},
			{"koophone_instance_reboot", map[string]tftypes.Value{"instance_ids": stringList(phoneIDs(1)), "wave_size": numVal(101)}, `between 1 and 100`},
			{"koophone_instance_reset", map[string]tftypes.Value{"instance_ids": stringList(phoneIDs(1)), "poll_interval": strVal("10ms")}, `at least 1s`},
			{"koophone_instance_reset", map[string]tftypes.Value{"instance_ids": stringList(phoneIDs(1)), "timeout": strVal("soon")}, `Go duration`},
			{"koophone_instance_app_install", map[string]tftypes.Value{
				"instance_ids": stringList(phoneIDs(1)), "object_name": strVal("com.example.game"), "file_name": strVal("game.apk"),
				"object_version": strVal("1.2.3"), "object_size": strVal("12 MB"), "install_package_url": strVal("https://obs.example.com/game.apk"),
			}, `whole MB`},
			{"koophone_instance_app_install", map[string]tftypes.Value{
				"instance_ids": stringList(phoneIDs(1)), "object_name": strVal("com.example.game"), "file_name": strVal("game.apk"),
				"object_version": strVal("1.2.3"), "object_size": strVal("12"), "install_package_url": strVal("ftp://obs.example.com/game.apk"),
			}, `https`},
		} {
			diags := r.validate(t, tc.action, r.config(t, tc.action, tc.args))
			mustMatch(t, tc.action+" validation", diagTexts(diags), tc.want)
		}
	})
}

// The install action sends the resource's request, with its defaults.
func TestActionAppInstall_installs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newActionRig(t)
		inv := r.invoke(t.Context(), t, "koophone_instance_app_install", map[string]tftypes.Value{
			"instance_ids": stringList(phoneIDs(130)), "object_name": strVal("com.example.game"), "file_name": strVal("game.apk"),
			"object_version": strVal("1.2.3"), "object_size": strVal("12"),
			"install_package_url": strVal("https://bucket.obs.example.com/game.apk?Signature=s3cr3t"),
		})
		if errs := inv.errors(); len(errs) > 0 || len(inv.warnings()) > 0 {
			t.Fatalf("diagnostics: %v", diagTexts(inv.diags))
		}
		if n := countRequests(r.emu, "POST", "/v1/instances/app/install"); n != 2 {
			t.Errorf("%d installs sent, want 2 waves", n)
		}
		mustMatch(t, "progress", inv.progress, `(?m)^Done: 130/130 phones finished \(130 successful, 0 failed\), 0 running; tasks: ZGCA`)
		for _, p := range inv.progress {
			if strings.Contains(p, "s3cr3t") {
				t.Errorf("progress shows the package URL: %q", p)
			}
		}
	})
}

// A reboot of 120 phones goes out in waves of 100 and 20, each followed
// through the phones' status (a reboot has no task): a phone that was
// starting and then reports stopped has failed, and is named; the others
// are done once they report running again.
func TestActionReboot_followsPhoneStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newActionRig(t)
		fail, ok := emulator.StatusFailed, emulator.StatusSucceeded
		slow := emulator.Duration(2 * time.Minute)
		if err := r.emu.AddRules(
			emulator.Rule{Kind: emulator.RuleReboot, Phones: []string{"phone-007"}, Status: &fail},
			emulator.Rule{Kind: emulator.RuleReboot, Phones: []string{"phone-1*"}, Status: &ok, After: &slow},
		); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		inv := r.invoke(t.Context(), t, "koophone_instance_reboot", map[string]tftypes.Value{
			"instance_ids": stringList(phoneIDs(120)), "max_failed_phones": numVal(1),
		})
		if errs := inv.errors(); len(errs) > 0 {
			t.Fatalf("errors: %v", errs)
		}
		if n := countRequests(r.emu, "POST", "/v1/instances/reboot"); n != 2 {
			t.Errorf("%d reboot requests, want 2 waves", n)
		}
		if n := countRequests(r.emu, "GET", ""); n != 0 {
			t.Errorf("%d GET requests: a reboot has no task to read", n)
		}
		mustMatch(t, "warnings", inv.warnings(), `reboot failed on 1 of 120 phones`,
			`phone-007: failed \(status -1\), error_code "", error_msg "The phone was starting, then reported stopped \(1\): it did not come back\."`)
		mustMatch(t, "progress", inv.progress, `(?m)^Done: 120/120 phones finished \(119 successful, 1 failed\), 0 running$`)
		if took := time.Since(start); took < 2*time.Minute {
			t.Errorf("the invocation ended after %s, before the slow phones were back (2m)", took)
		}
		for _, id := range phoneIDs(120) {
			if status, _ := r.emu.PhoneStatus(id); status != 2 && id != "phone-007" {
				t.Errorf("%s has status %d after the invocation, want 2 (running)", id, status)
			}
		}
	})
}

// A reboot refused because a phone is not running (KOOPHONE.API.5005)
// stops the invocation, named, and nothing further is sent.
func TestActionReboot_refusedWhenAPhoneIsNotRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newActionRig(t)
		if err := r.emu.AddPhones(emulator.Phone{InstanceID: "phone-001", RunningStatus: 2}, emulator.Phone{InstanceID: "phone-002", RunningStatus: 1}); err != nil {
			t.Fatal(err)
		}
		inv := r.invoke(t.Context(), t, "koophone_instance_reboot", map[string]tftypes.Value{"instance_ids": stringList(phoneIDs(2))})
		mustMatch(t, "errors", inv.errors(), `KOOPHONE\.API\.5005`, `Nothing was submitted`)
		if n := countRequests(r.emu, "POST", "/v1/instances/reboot"); n != 1 {
			t.Errorf("%d reboot requests, want 1", n)
		}
	})
}

// A reset follows its task when the API answers with one, and its phones'
// status when it answers without (older API versions); a failed phone
// fails the invocation, named, with the task to read.
func TestActionReset_withAndWithoutTask(t *testing.T) {
	for _, shape := range []string{emulator.ResetResponseTask, emulator.ResetResponseNone} {
		t.Run(shape, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu := emulator.New(emulator.Options{Token: accToken, ResetResponse: shape})
				r := newActionRigFor(t, emu)
				fail := emulator.StatusFailed
				if err := r.emu.AddRules(emulator.Rule{Kind: emulator.RuleReset, Phones: []string{"phone-003"}, Status: &fail}); err != nil {
					t.Fatal(err)
				}
				inv := r.invoke(t.Context(), t, "koophone_instance_reset", map[string]tftypes.Value{"instance_ids": stringList(phoneIDs(3))})
				reads := countRequests(r.emu, "POST", "/v1/instances/batch-query-status")
				tasks := r.emu.TaskIDs()
				if shape == emulator.ResetResponseTask {
					if len(tasks) != 1 || !strings.HasPrefix(tasks[0], "RM_") || reads != 0 {
						t.Fatalf("tasks %v, %d status reads: want one RM_ task followed through the task query", tasks, reads)
					}
					mustMatch(t, "errors", inv.errors(), `reset failed on 1 phone`, `phone-003: failed`, regexp.QuoteMeta(tasks[0]))
					return
				}
				if len(tasks) != 0 || reads == 0 {
					t.Fatalf("tasks %v, %d status reads: want no task, and the phones' status read", tasks, reads)
				}
				mustMatch(t, "errors", inv.errors(), `reset failed on 1 phone`, `phone-003: failed`, `did not come back`)
			})
		})
	}
}

// When the task query does not know a reset's task, the invocation follows
// the phones' status instead.
func TestActionReset_taskNotFoundFallsBackOnPhoneStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newActionRig(t)
		go func() {
			for len(r.emu.TaskIDs()) == 0 {
				time.Sleep(100 * time.Millisecond)
			}
			if err := r.emu.AddFault(emulator.Fault{Match: r.emu.TaskIDs()[0], Count: -1, Kind: emulator.FaultError, Status: 400,
				Code: "KOOPHONE.API.1323"}); err != nil {
				t.Error(err)
			}
		}()
		inv := r.invoke(t.Context(), t, "koophone_instance_reset", map[string]tftypes.Value{"instance_ids": stringList(phoneIDs(3))})
		if errs := inv.errors(); len(errs) > 0 {
			t.Fatalf("errors: %v", errs)
		}
		if n := countRequests(r.emu, "POST", "/v1/instances/batch-query-status"); n == 0 {
			t.Error("the phones' status was never read")
		}
		mustMatch(t, "progress", inv.progress, `(?m)^Done: 3/3 phones finished \(3 successful, 0 failed\), 0 running; tasks: RM_`)
	})
}

// A phone that is down from the first poll on (its reboot failed before
// the wait saw it starting) has failed once statusGiveUp has passed.
func TestActionReboot_phoneThatStaysDownFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newActionRigFor(t, emulator.New(emulator.Options{Token: accToken, JobDuration: -1}))
		fail := emulator.StatusFailed
		if err := r.emu.AddRules(emulator.Rule{Kind: emulator.RuleReboot, Phones: []string{"phone-002"}, Status: &fail}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		inv := r.invoke(t.Context(), t, "koophone_instance_reboot", map[string]tftypes.Value{"instance_ids": stringList(phoneIDs(2))})
		mustMatch(t, "errors", inv.errors(), `reboot failed on 1 phone`, `phone-002: failed .*reported stopped \(1\) 5m[0-9]+s after the request`)
		if took := time.Since(start); took < statusGiveUp || took > statusGiveUp+taskwait.DefaultPollInterval {
			t.Errorf("the failure was seen after %s, want within a poll of %s", took, statusGiveUp)
		}
	})
}
