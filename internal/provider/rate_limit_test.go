package provider

import (
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/koophone/terraform-provider-koophone/internal/clock"
	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

func TestResolveRateLimit(t *testing.T) {
	cases := []struct {
		name   string
		config types.Float64
		env    map[string]string
		want   float64
		err    string
	}{
		{"default", types.Float64Null(), nil, 10, ""},
		{"from the environment", types.Float64Null(), map[string]string{"KOOPHONE_RATE_LIMIT": " 2.5 "}, 2.5, ""},
		{"empty variable means the default", types.Float64Null(), map[string]string{"KOOPHONE_RATE_LIMIT": ""}, 10, ""},
		{"configuration wins", types.Float64Value(50), map[string]string{"KOOPHONE_RATE_LIMIT": "2"}, 50, ""},
		{"configuration out of range", types.Float64Value(0), nil, 0, "must be between 0.01 and 10000"},
		{"variable not a number", types.Float64Null(), map[string]string{"KOOPHONE_RATE_LIMIT": "fast"}, 0, `its value "fast" is not a number`},
		{"variable out of range", types.Float64Null(), map[string]string{"KOOPHONE_RATE_LIMIT": "-1"}, 0, "must be between"},
		{"variable NaN", types.Float64Null(), map[string]string{"KOOPHONE_RATE_LIMIT": "NaN"}, 0, "must be between"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, diags := resolveRateLimit(c.config, envOf(c.env))
			if c.err == "" {
				if diags.HasError() || got != c.want {
					t.Errorf("got %v, %v; want %v", got, diags, c.want)
				}
				return
			}
			if !diags.HasError() {
				t.Fatalf("no error, got %v", got)
			}
			if d := diags.Errors()[0].Detail(); !strings.Contains(d, c.err) {
				t.Errorf("detail %q lacks %q", d, c.err)
			}
		})
	}
}

// After a read of many tasks with waiting, no goroutine of the poller, the
// rate limiter or the clock is left running.
func TestNoGoroutineOutlivesARead(t *testing.T) {
	emu := emulator.New(emulator.Options{Token: accToken})
	var ids []string
	for i := range 30 {
		id, err := emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: i % 4}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	// A fast clock, and a rate limit low enough that polls queue.
	f := newTasksFixture(t, NewProtocol6Server(New("test", WithClock(clock.Scaled(100)))())(), srv.URL, 5, ids,
		map[string]tftypes.Value{"wait_for_completion": tftypes.NewValue(tftypes.Bool, true)})
	state, err := f.read(t).Unmarshal(f.typ)
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]tftypes.Value
	if err := state.As(&attrs); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := attrs["state"].As(&got); err != nil || got != "successful" {
		t.Fatalf("state = %q, %v", got, err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		leaked := ourGoroutines()
		if leaked == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after the read:\n%s", leaked)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ourGoroutines returns the stacks of goroutines running code of the
// poller, the limiter, the clock or the task waiter of this module (the
// leading slash keeps Go's own internal/poll out).
func ourGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, pkg := range []string{"/internal/taskwait.", "/internal/ratelimit.", "/internal/poll.", "/internal/clock."} {
			if strings.Contains(g, pkg) && !strings.Contains(g, "TestNoGoroutineOutlivesARead") {
				found = append(found, g)
				break
			}
		}
	}
	return strings.Join(found, "\n\n")
}
