package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// The wait-efficiency benchmark runs in virtual time: the provider's
// poller (internal/taskwait, with the real client, rate limiter and the
// emulator over in-memory HTTP connections) in a testing/synctest bubble,
// whose fake clock jumps to each pause's end, so a twenty-minute wait takes
// milliseconds and every timestamp is exact. A bubble needs a test, so
// make bench runs TestWaitEfficiency (wait_test.go), which calls
// measureWaitEfficiency and hands the results over as JSON.

var waitFinishes = []time.Duration{2 * time.Second, 10 * time.Second, time.Minute, 5 * time.Minute, 20 * time.Minute}

const (
	waitPollInterval = 10 * time.Second
	waitJitterRuns   = 100
	waitPhases       = 10
)

// strategyResult is how one strategy saw one task finish.
type strategyResult struct {
	Lag      time.Duration
	Requests int
}

type waitRow struct {
	Finish time.Duration
	// Ours is the provider's poller without jitter (exact pauses).
	Ours strategyResult
	// OursJitterMaxLag and OursJitterMeanRequests are over waitJitterRuns
	// runs with the default jitter (pauses shortened by up to 10%).
	OursJitterMaxLag       time.Duration
	OursJitterMeanRequests float64
	Fixed                  strategyResult
	Doubling               strategyResult
	// Phase-averaged: the means over finish times Finish + k s, k = 0..9,
	// so that no strategy is favoured by the finish falling on its grid.
	PhaseOurs, PhaseFixed, PhaseDoubling meanResult
}

// meanResult averages strategy results.
type meanResult struct {
	Lag      time.Duration
	MaxLag   time.Duration
	Requests float64
}

func averaged(ctx context.Context, finish time.Duration, strategy func(context.Context, time.Duration) (strategyResult, error)) (meanResult, error) {
	var m meanResult
	var lag time.Duration
	req := 0
	for k := range waitPhases {
		r, err := strategy(ctx, finish+time.Duration(k)*time.Second)
		if err != nil {
			return m, err
		}
		lag += r.Lag
		req += r.Requests
		m.MaxLag = max(m.MaxLag, r.Lag)
	}
	m.Lag = lag / waitPhases
	m.Requests = float64(req) / waitPhases
	return m, nil
}

type waitResult struct {
	PollInterval time.Duration
	JitterRuns   int
	Phases       int
	Rows         []waitRow
}

// virtualEnv is an emulator served in memory and a client of it, with a
// rate limiter: the provider's parts, for one run in a synctest bubble.
type virtualEnv struct {
	emu    *emulator.Emulator
	server *emulator.InMemoryServer
	client *koophone.Client
}

func newVirtualEnv() (*virtualEnv, error) {
	emu := emulator.New(emulator.Options{Token: benchToken})
	srv := emulator.ServeInMemory(emu)
	lim, err := ratelimit.New(0)
	if err != nil {
		srv.Close()
		return nil, err
	}
	client, err := koophone.New(koophone.Config{
		Endpoint: emulator.InMemoryURL, Credentials: koophone.TokenCredentials{Token: benchToken},
		Transport: koophone.TransportOptions{DialContext: srv.DialContext}, Limiter: lim, MaxRetries: 4,
	})
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &virtualEnv{emu: emu, server: srv, client: client}, nil
}

func (v *virtualEnv) close() {
	v.client.CloseIdleConnections()
	v.server.Close()
}

// task adds a task of one job that finishes after finish, and returns its
// id and when it finishes.
func (v *virtualEnv) task(finish time.Duration) (string, time.Time, error) {
	start := time.Now()
	id, err := v.emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, After: emulator.Duration(finish)}}})
	return id, start.Add(finish), err
}

// outcome reads the lag and request count from the emulator's log.
func (v *virtualEnv) outcome(finishAt time.Time) (strategyResult, error) {
	reqs := v.emu.Requests()
	if len(reqs) == 0 {
		return strategyResult{}, fmt.Errorf("no request")
	}
	last := reqs[len(reqs)-1].Time
	if last.Before(finishAt) {
		return strategyResult{}, fmt.Errorf("the last poll, at %v, came before the task finished at %v", last, finishAt)
	}
	return strategyResult{Lag: last.Sub(finishAt), Requests: len(reqs)}, nil
}

// runOurs waits for a task finishing after finish with the provider's wait
// engine. seed 0 means exact pauses, any other seeds the jitter.
func runOurs(ctx context.Context, finish time.Duration, seed uint64) (strategyResult, error) {
	v, err := newVirtualEnv()
	if err != nil {
		return strategyResult{}, err
	}
	defer v.close()
	id, at, err := v.task(finish)
	if err != nil {
		return strategyResult{}, err
	}
	random := func() float64 { return 0 }
	if seed != 0 {
		random = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Float64
	}
	res := taskwait.Read(ctx, v.client, []taskwait.Target{{TaskID: id}}, taskwait.Options{
		Wait: true, PollInterval: waitPollInterval, Random: random,
	})[0]
	if res.Err != nil {
		return strategyResult{}, res.Err
	}
	return v.outcome(at)
}

// runSchedule waits for the task with a reference strategy: a first delay,
// then pauses given by next(previous pause).
func runSchedule(ctx context.Context, finish, delay, first time.Duration, next func(time.Duration) time.Duration) (strategyResult, error) {
	v, err := newVirtualEnv()
	if err != nil {
		return strategyResult{}, err
	}
	defer v.close()
	id, at, err := v.task(finish)
	if err != nil {
		return strategyResult{}, err
	}
	time.Sleep(delay)
	pause := first
	for {
		t, err := v.client.GetTask(ctx, id)
		if err != nil {
			return strategyResult{}, err
		}
		if t.Tally().Outcome() != koophone.Running {
			return v.outcome(at)
		}
		time.Sleep(pause)
		pause = next(pause)
	}
}

// fixedTen is the huaweicloud provider's CPH job wait: StateChangeConf with
// Delay 10 s and a 10 s interval.
func fixedTen(ctx context.Context, finish time.Duration) (strategyResult, error) {
	return runSchedule(ctx, finish, 10*time.Second, 10*time.Second, func(time.Duration) time.Duration { return 10 * time.Second })
}

// doubling is the plugin SDK's StateChangeConf default: poll at once, then
// pauses from 100 ms doubling up to 10 s.
func doubling(ctx context.Context, finish time.Duration) (strategyResult, error) {
	return runSchedule(ctx, finish, 0, 100*time.Millisecond, func(d time.Duration) time.Duration { return min(2*d, 10*time.Second) })
}

// measureWaitEfficiency runs every strategy for every finish time; bubble
// runs each measurement in a synctest bubble of its own.
func measureWaitEfficiency(ctx context.Context, finishes []time.Duration, bubble func(func())) (*waitResult, error) {
	inBubble := func(strategy func(context.Context, time.Duration) (strategyResult, error)) func(context.Context, time.Duration) (strategyResult, error) {
		return func(ctx context.Context, d time.Duration) (r strategyResult, err error) {
			bubble(func() { r, err = strategy(ctx, d) })
			return r, err
		}
	}
	fixedTen, doubling := inBubble(fixedTen), inBubble(doubling)
	runOurs := func(ctx context.Context, d time.Duration, seed uint64) (strategyResult, error) {
		return inBubble(func(ctx context.Context, d time.Duration) (strategyResult, error) { return runOurs(ctx, d, seed) })(ctx, d)
	}
	res := &waitResult{PollInterval: waitPollInterval, JitterRuns: waitJitterRuns, Phases: waitPhases}
	for _, finish := range finishes {
		row := waitRow{Finish: finish}
		var err error
		if row.Ours, err = runOurs(ctx, finish, 0); err != nil {
			return nil, err
		}
		total := 0
		for seed := range uint64(waitJitterRuns) {
			r, err := runOurs(ctx, finish, seed+1)
			if err != nil {
				return nil, err
			}
			row.OursJitterMaxLag = max(row.OursJitterMaxLag, r.Lag)
			total += r.Requests
		}
		row.OursJitterMeanRequests = float64(total) / waitJitterRuns
		if row.Fixed, err = fixedTen(ctx, finish); err != nil {
			return nil, err
		}
		if row.Doubling, err = doubling(ctx, finish); err != nil {
			return nil, err
		}
		exactOurs := func(ctx context.Context, d time.Duration) (strategyResult, error) { return runOurs(ctx, d, 0) }
		if row.PhaseOurs, err = averaged(ctx, finish, exactOurs); err != nil {
			return nil, err
		}
		if row.PhaseFixed, err = averaged(ctx, finish, fixedTen); err != nil {
			return nil, err
		}
		if row.PhaseDoubling, err = averaged(ctx, finish, doubling); err != nil {
			return nil, err
		}
		logf("  finish %v: ours %v/%d, fixed %v/%d, doubling %v/%d", finish,
			row.Ours.Lag, row.Ours.Requests, row.Fixed.Lag, row.Fixed.Requests, row.Doubling.Lag, row.Doubling.Requests)
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// waitOutEnv names the file TestWaitEfficiency writes the results to.
const waitOutEnv = "KOOPHONE_BENCH_WAIT_OUT"

// benchWaitEfficiency runs TestWaitEfficiency, which measures in synctest
// bubbles, and reads its results.
func benchWaitEfficiency(ctx context.Context) (*waitResult, error) {
	out := filepath.Join(os.TempDir(), fmt.Sprintf("koophone-bench-wait-%d.json", os.Getpid()))
	defer os.Remove(out)
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^TestWaitEfficiency$", "-count=1", "./cmd/koophone-bench")
	cmd.Env = append(os.Environ(), waitOutEnv+"="+out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var res waitResult
	return &res, json.Unmarshal(data, &res)
}
