package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/clockctx"
	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

// The wait-efficiency benchmark runs in virtual time: the provider's
// poller (internal/taskwait, with the real client, rate limiter and the
// emulator over loopback HTTP) on a fake clock that jumps to each pause's
// end, so a twenty-minute wait takes milliseconds and every timestamp is
// exact.

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

var waitT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// virtualEnv is an emulator and a client sharing one auto-advancing fake
// clock.
type virtualEnv struct {
	clock  *clockctx.AutoClock
	emu    *emulator.Emulator
	server *httptest.Server
	client *koophone.Client
}

func newVirtualEnv() (*virtualEnv, error) {
	c := clockctx.NewAutoClock(waitT0)
	emu := emulator.New(emulator.Options{Token: benchToken, Clock: c})
	srv := httptest.NewServer(emu)
	lim, err := ratelimit.New(0, c)
	if err != nil {
		srv.Close()
		return nil, err
	}
	client, err := koophone.New(koophone.Config{
		Endpoint: srv.URL, Credentials: koophone.TokenCredentials{Token: benchToken},
		Clock: c, Limiter: lim, MaxRetries: 4,
	})
	if err != nil {
		srv.Close()
		return nil, err
	}
	return &virtualEnv{clock: c, emu: emu, server: srv, client: client}, nil
}

// task adds a task of one job that finishes after finish, and returns its
// id and when it finishes.
func (v *virtualEnv) task(finish time.Duration) (string, time.Time, error) {
	start := v.clock.Now()
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
	defer v.server.Close()
	id, at, err := v.task(finish)
	if err != nil {
		return strategyResult{}, err
	}
	random := func() float64 { return 0 }
	if seed != 0 {
		random = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Float64
	}
	res := taskwait.Read(ctx, v.client, []string{id}, taskwait.Options{
		Clock: v.clock, Wait: true, PollInterval: waitPollInterval, Random: random,
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
	defer v.server.Close()
	id, at, err := v.task(finish)
	if err != nil {
		return strategyResult{}, err
	}
	if err := clockctx.Sleep(ctx, v.clock, delay); err != nil {
		return strategyResult{}, err
	}
	pause := first
	for {
		t, err := v.client.GetTask(ctx, id)
		if err != nil {
			return strategyResult{}, err
		}
		if t.Summary().Done() {
			return v.outcome(at)
		}
		if err := clockctx.Sleep(ctx, v.clock, pause); err != nil {
			return strategyResult{}, err
		}
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

func benchWaitEfficiency(ctx context.Context) (*waitResult, error) {
	res := &waitResult{PollInterval: waitPollInterval, JitterRuns: waitJitterRuns, Phases: waitPhases}
	for _, finish := range waitFinishes {
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
