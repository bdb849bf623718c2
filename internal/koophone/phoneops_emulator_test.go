package koophone

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// These tests run the phone operations against the emulator itself (in
// memory, inside a synctest bubble), so the client and the fake agree on
// the wire format and on what a fault does to a submit.

const emulatedJob = 30 * time.Second

// emulatedClient returns an emulator configured by opts (token and job
// duration filled in) and a client of it.
func emulatedClient(t *testing.T, opts emulator.Options) (*emulator.Emulator, *Client) {
	t.Helper()
	opts.Token, opts.JobDuration = testToken, emulatedJob
	emu := emulator.New(opts)
	srv := emulator.ServeInMemory(emu)
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, emulator.InMemoryURL, func(c *Config) { c.Transport.DialContext = srv.DialContext })
	return emu, c
}

func runningPhones(ids ...string) []emulator.Phone {
	phones := make([]emulator.Phone, len(ids))
	for i, id := range ids {
		phones[i] = emulator.Phone{InstanceID: id, RunningStatus: emulator.PhoneStatusRunning}
	}
	return phones
}

func wantStatuses(t *testing.T, c *Client, want map[string]int64) {
	t.Helper()
	got, err := c.InstanceStatuses(context.Background(), slices.Collect(maps.Keys(want)))
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
}

func TestRebootAgainstTheEmulator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu, c := emulatedClient(t, emulator.Options{Phones: append(runningPhones("a", "b"), emulator.Phone{InstanceID: "off", RunningStatus: 1})})
		if _, err := c.RebootInstances(context.Background(), []string{"a", "b"}); err != nil {
			t.Fatal(err)
		}
		wantStatuses(t, c, map[string]int64{"a": PhoneStatusStarting, "b": PhoneStatusStarting, "off": PhoneStatusStopped})
		time.Sleep(emulatedJob)
		wantStatuses(t, c, map[string]int64{"a": PhoneStatusRunning, "b": PhoneStatusRunning})

		reqID, err := c.RebootInstances(context.Background(), []string{"a", "off"})
		apiErr, ok := errors.AsType[*APIError](err)
		if !ok || apiErr.Code != "KOOPHONE.API.5005" || apiErr.HTTPStatus != http.StatusBadRequest || reqID == "" {
			t.Fatalf("err = %v, want the 5005 APIError", err)
		}
		wantStatuses(t, c, map[string]int64{"a": PhoneStatusRunning, "off": PhoneStatusStopped})
		if n := len(emu.Requests()); n != 5 {
			t.Errorf("%d requests, want 5: a refused reboot is not sent again", n)
		}
	})
}

func TestResetAgainstTheEmulator(t *testing.T) {
	for _, shape := range []string{emulator.ResetResponseTask, emulator.ResetResponseNone} {
		t.Run(shape, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, c := emulatedClient(t, emulator.Options{Phones: runningPhones("a", "b"), ResetResponse: shape})
				sub, err := c.ResetInstances(context.Background(), []string{"a", "b"})
				if err != nil {
					t.Fatal(err)
				}
				if sub.RequestID == "" {
					t.Error("no request id")
				}
				wantStatuses(t, c, map[string]int64{"a": PhoneStatusStarting, "b": PhoneStatusStarting})
				time.Sleep(emulatedJob)
				wantStatuses(t, c, map[string]int64{"a": PhoneStatusRunning, "b": PhoneStatusRunning})
				if shape == emulator.ResetResponseNone {
					if sub.TaskID != "" || len(sub.Jobs) != 0 {
						t.Errorf("submission %+v, want no task", sub)
					}
					return
				}
				if !regexp.MustCompile(`^RM_[0-9a-f]{32}$`).MatchString(sub.TaskID) || len(sub.Jobs) != 2 || sub.Jobs[1].InstanceID != "b" {
					t.Fatalf("submission %+v", sub)
				}
				task := mustGetTask(t, c, sub.TaskID)
				if len(task.Jobs) != 2 || task.Jobs[0].JobID != sub.Jobs[0].JobID || task.Jobs[0].Status != 2 || task.Jobs[1].Status != 2 {
					t.Errorf("task %+v, want both jobs succeeded", task)
				}
			})
		})
	}
}

// A fault that leaves open whether the emulator acted ends a reboot or a
// reset in an unknown outcome after one request; the status query, a read,
// is retried through the same faults.
func TestPhoneOperationFaultsAgainstTheEmulator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu, c := emulatedClient(t, emulator.Options{Phones: runningPhones("a", "b")})
		add := func(f emulator.Fault) {
			t.Helper()
			if err := emu.AddFault(f); err != nil {
				t.Fatal(err)
			}
		}
		add(emulator.Fault{Match: "/v1/instances/reboot", Kind: emulator.FaultError, Status: 502, Count: -1})
		_, err := c.RebootInstances(context.Background(), []string{"a"})
		if _, ok := errors.AsType[*OutcomeUnknownError](err); !ok {
			t.Errorf("reboot after a 502: err = %v, want an unknown outcome", err)
		}
		if s, _ := emu.PhoneStatus("a"); s != emulator.PhoneStatusRunning {
			t.Errorf("the faulted reboot rebooted a: %d", s)
		}

		add(emulator.Fault{Match: "/v1/instances/batch-reset", Kind: emulator.FaultDrop, Process: true, Count: -1})
		_, err = c.ResetInstances(context.Background(), []string{"b"})
		if _, ok := errors.AsType[*OutcomeUnknownError](err); !ok {
			t.Errorf("reset dropped after acting: err = %v, want an unknown outcome", err)
		}
		if n := len(emu.TaskIDs()); n != 1 {
			t.Errorf("%d reset tasks, want the one the dropped request made", n)
		}

		add(emulator.Fault{Match: "/v1/instances/batch-query-status", Kind: emulator.FaultError, Status: 503, Count: 2})
		wantStatuses(t, c, map[string]int64{"a": PhoneStatusRunning, "b": PhoneStatusStarting})
		perPath := make(map[string]int)
		for _, r := range emu.Requests() {
			perPath[r.Path]++
		}
		want := map[string]int{"/v1/instances/reboot": 1, "/v1/instances/batch-reset": 1, "/v1/instances/batch-query-status": 3}
		if !maps.Equal(perPath, want) {
			t.Errorf("requests per path %v, want %v", perPath, want)
		}
	})
}

func TestInstanceStatusesOf250PhonesAgainstTheEmulator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ids := make([]string, 250)
		for i := range ids {
			ids[i] = fmt.Sprintf("phone-%03d", i)
		}
		emu, c := emulatedClient(t, emulator.Options{Phones: runningPhones(ids...)})
		got, err := c.InstanceStatuses(context.Background(), ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 250 || got["phone-249"] != PhoneStatusRunning {
			t.Errorf("%d statuses", len(got))
		}
		if n := len(emu.Requests()); n != 3 {
			t.Errorf("%d requests, want 3 (the emulator refuses more than 100 ids)", n)
		}
	})
}
