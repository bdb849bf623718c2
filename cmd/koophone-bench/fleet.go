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
	fleetPollInterval = 10 * time.Second
	fleetLatency      = 20 * time.Millisecond
	// fleetCappedRate is the rate_limit of the capped run: below the
	// demand of a thousand tasks polled every poll_interval, to show what
	// a cap does to lag.
	fleetCappedRate = 50
	// fleetMemoryTarget is the most the provider may take at the default
	// include_jobs, in bytes.
	fleetMemoryTarget = 150e6
)

// fleetCase is one configuration of the fleet read.
type fleetCase struct {
	Name        string
	IncludeJobs string // "" for the default
	RateLimit   int    // 0 for none
}

var fleetCases = []fleetCase{
	{Name: "defaults"},
	{Name: `include_jobs = "all"`, IncludeJobs: "all"},
	{Name: fmt.Sprintf("rate_limit = %d", fleetCappedRate), RateLimit: fleetCappedRate},
}

type fleetResult struct {
	fleetCase
	Tasks, Jobs         int
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
	// MinGap is the shortest time between two consecutive requests at the
	// emulator, and Closer how many were closer than 1 / RateLimit.
	MinGap time.Duration
	Closer int
}

// benchFleet runs the fleet read in each of fleetCases.
func benchFleet(ctx context.Context, tfr *tfRunner, work string) ([]*fleetResult, error) {
	var out []*fleetResult
	for i, c := range fleetCases {
		r, err := benchFleetCase(ctx, tfr, work, fmt.Sprintf("fleet-%d", i), c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// benchFleetCase waits on 1,000 tasks of 100 jobs each in one
// koophone_instance_tasks read, the tasks finishing at times spread evenly
// over 60 s.
func benchFleetCase(ctx context.Context, tfr *tfRunner, work, name string, c fleetCase) (*fleetResult, error) {
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
	providerBlock, include := "", ""
	if c.RateLimit > 0 {
		providerBlock = fmt.Sprintf("\nprovider \"koophone\" {\n  rate_limit = %d\n}\n", c.RateLimit)
	}
	if c.IncludeJobs != "" {
		include = fmt.Sprintf("\n  include_jobs        = %q", c.IncludeJobs)
	}
	dir, err := workspace(work, name, map[string]string{
		"main.tf": requiredProviders + providerBlock + fmt.Sprintf(`
data "koophone_instance_tasks" "fleet" {
  task_ids            = jsondecode(file("${path.module}/ids.json"))
  wait_for_completion = true
  poll_interval       = %q%s

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
`, fleetPollInterval.String(), include),
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
		fleetCase: c, Tasks: fleetTasks, Jobs: fleetJobs, PollInterval: fleetPollInterval, Latency: fleetLatency,
		Slowest: fleetSpread, Wall: wall, ProviderPeakRSS: run.ProviderPeakRSS, TerraformPeakRSS: run.TerraformPeakRSS,
		Connections: srv.emu.Connections(),
	}
	reqs := srv.emu.Requests()
	res.Requests = len(reqs)
	for _, n := range srv.emu.RequestsPerSecond() {
		res.PeakPerSecond = max(res.PeakPerSecond, n)
	}
	res.PeakSliding, _ = srv.emu.PeakRequests(time.Second)
	for i := 1; i < len(reqs); i++ {
		gap := reqs[i].Time.Sub(reqs[i-1].Time)
		if i == 1 || gap < res.MinGap {
			res.MinGap = gap
		}
		if c.RateLimit > 0 && gap < time.Second/time.Duration(c.RateLimit) {
			res.Closer++
		}
	}

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
	logf("  %s: wall %v (slowest task %v), %d requests, peak %d/s (sliding %d), %d connections, provider peak RSS %.0f MiB",
		c.Name, wall.Round(time.Millisecond), fleetSpread, res.Requests, res.PeakPerSecond, res.PeakSliding, res.Connections, mib(res.ProviderPeakRSS))
	return res, nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
