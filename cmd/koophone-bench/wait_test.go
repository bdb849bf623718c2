package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

// TestWaitEfficiency measures the wait strategies in synctest bubbles. With
// KOOPHONE_BENCH_WAIT_OUT set (make bench), it runs every finish time and
// writes the results there as JSON; otherwise it runs the shortest one and
// checks what every row of BENCHMARKS.md relies on: the lag never exceeds
// the poll interval, and every strategy saw the task finish.
func TestWaitEfficiency(t *testing.T) {
	out := os.Getenv(waitOutEnv)
	finishes := waitFinishes
	if out == "" {
		finishes = waitFinishes[:1]
	}
	bubble := func(f func()) { synctest.Test(t, func(*testing.T) { f() }) }
	res, err := measureWaitEfficiency(context.Background(), finishes, bubble)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range res.Rows {
		if row.Ours.Lag > waitPollInterval || row.OursJitterMaxLag > waitPollInterval {
			t.Errorf("finish %v: lag %v (jittered max %v) exceeds the poll interval %v", row.Finish, row.Ours.Lag, row.OursJitterMaxLag, waitPollInterval)
		}
		if row.Ours.Requests == 0 || row.Fixed.Requests == 0 || row.Doubling.Requests == 0 {
			t.Errorf("finish %v: a strategy sent no request: %+v", row.Finish, row)
		}
	}
	if want := (time.Second); len(res.Rows) > 0 && res.Rows[0].Finish == 2*time.Second && res.Rows[0].Ours.Lag != want {
		t.Errorf("a task finishing after 2s is seen after %v, want %v (polls at 0s, 1s, 3s)", res.Rows[0].Ours.Lag, want)
	}
	if out == "" {
		return
	}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
