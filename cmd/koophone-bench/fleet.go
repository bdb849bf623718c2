package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

const (
	fleetTasks        = 1000
	fleetJobs         = 100
	fleetSpread       = 60 * time.Second
	fleetRateLimit    = 50
	fleetPollInterval = 10 * time.Second
	fleetLatency      = 20 * time.Millisecond
)

type fleetResult struct {
	Tasks, Jobs         int
	RateLimit           int
	PollInterval        time.Duration
	Latency             time.Duration
	Slowest             time.Duration // when the last task finishes, after the start
	Wall                time.Duration // from the start to the end of terraform plan
	Requests            int
	PeakPerSecond       int // most requests in one whole second of the emulator's clock
	PeakSliding         int // most requests in any one-second window
	Connections         int
	ProviderPeakRSS     uint64
	TerraformPeakRSS    uint64
	MaxLag, MeanLag     time.Duration // from a task finishing to its last poll
	MaxPolls            int
	MeanPolls           float64
	MaxGapFirstToSecond time.Duration
}

// benchFleet waits on 1,000 tasks of 100 jobs each in one
// koophone_instance_tasks read, the tasks finishing at times spread evenly
// over 60 s, at rate_limit = 50.
func benchFleet(ctx context.Context, tfr *tfRunner, work string) (*fleetResult, error) {
	srv := newEmulatorServer(fleetLatency, nil)
	defer srv.close()
	rng := rand.New(rand.NewPCG(1, 2))
	finishes := make([]time.Duration, fleetTasks)
	for i := range finishes {
		finishes[i] = time.Duration(i+1) * fleetSpread / fleetTasks
	}
	rng.Shuffle(len(finishes), func(i, j int) { finishes[i], finishes[j] = finishes[j], finishes[i] })

	ids := make([]string, fleetTasks)
	finishOf := map[string]time.Duration{}
	start := time.Now()
	for i := range ids {
		jobs := make([]emulator.JobSpec, fleetJobs)
		for j := range jobs {
			// Jobs finish one after another; the last one when the task does.
			jobs[j] = emulator.JobSpec{
				Status: emulator.StatusSucceeded, ExecuteMsg: strp("Success"),
				After: emulator.Duration(finishes[i] * time.Duration(j+1) / fleetJobs),
			}
		}
		id, err := srv.emu.AddTask(emulator.TaskSpec{Jobs: jobs})
		if err != nil {
			return nil, err
		}
		ids[i] = id
		finishOf[id] = finishes[i] + time.Since(start)
	}
	dir, err := workspace(work, "fleet", map[string]string{
		"main.tf": requiredProviders + fmt.Sprintf(`
provider "koophone" {
  rate_limit = %d
}

data "koophone_instance_tasks" "fleet" {
  task_ids            = jsondecode(file("${path.module}/ids.json"))
  wait_for_completion = true
  poll_interval       = %q

  timeouts = {
    read = "10m"
  }
}

output "state" {
  value = data.koophone_instance_tasks.fleet.state
}

output "jobs" {
  value = data.koophone_instance_tasks.fleet.successful_count
}
`, fleetRateLimit, fleetPollInterval.String()),
		"ids.json": jsonIDs(ids),
	})
	if err != nil {
		return nil, err
	}
	run, err := tfr.plan(ctx, dir, srv.server.URL)
	if err != nil {
		return nil, err
	}
	wall := time.Since(start)
	if !regexp.MustCompile(`state\s+=\s+"successful"`).MatchString(run.Output) ||
		!regexp.MustCompile(fmt.Sprintf(`jobs\s+=\s+%d\b`, fleetTasks*fleetJobs)).MatchString(run.Output) {
		return nil, fmt.Errorf("the plan did not see every task succeed:\n%s", tail(run.Output, 30))
	}

	res := &fleetResult{
		Tasks: fleetTasks, Jobs: fleetJobs, RateLimit: fleetRateLimit, PollInterval: fleetPollInterval, Latency: fleetLatency,
		Slowest: fleetSpread, Wall: wall, ProviderPeakRSS: run.ProviderPeakRSS, TerraformPeakRSS: run.TerraformPeakRSS,
		Connections: srv.emu.Connections(),
	}
	reqs := srv.emu.Requests()
	res.Requests = len(reqs)
	for _, n := range srv.emu.RequestsPerSecond() {
		res.PeakPerSecond = max(res.PeakPerSecond, n)
	}
	res.PeakSliding, _ = srv.emu.PeakRequests(time.Second)

	// Per task: polls, and the lag from finishing to the poll that saw it
	// finished (its last one: finished tasks are not polled again).
	polls := map[string][]time.Time{}
	for _, r := range reqs {
		id := r.Path[strings.LastIndex(r.Path, "/")+1:]
		polls[id] = append(polls[id], r.Time)
	}
	var lags []time.Duration
	var total time.Duration
	pollCount := 0
	for _, id := range ids {
		p := polls[id]
		if len(p) == 0 {
			return nil, fmt.Errorf("task %s was never polled", id)
		}
		sort.Slice(p, func(i, j int) bool { return p[i].Before(p[j]) })
		lag := p[len(p)-1].Sub(start) - finishOf[id]
		lags = append(lags, lag)
		total += lag
		res.MaxLag = max(res.MaxLag, lag)
		res.MaxPolls = max(res.MaxPolls, len(p))
		pollCount += len(p)
		if len(p) > 1 {
			res.MaxGapFirstToSecond = max(res.MaxGapFirstToSecond, p[1].Sub(p[0]))
		}
	}
	res.MeanLag = total / time.Duration(len(lags))
	res.MeanPolls = float64(pollCount) / float64(len(ids))
	logf("  wall %v (slowest task %v), %d requests, peak %d/s (sliding %d), %d connections, provider peak RSS %.0f MiB",
		wall.Round(time.Millisecond), fleetSpread, res.Requests, res.PeakPerSecond, res.PeakSliding, res.Connections, mib(res.ProviderPeakRSS))
	return res, nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
