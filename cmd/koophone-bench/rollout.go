package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

const (
	rolloutPhones   = 10000
	rolloutWaveSize = 100
	rolloutJob      = time.Second
	// rolloutPoll is the shortest poll_interval allowed, so that the poll
	// that sees a wave finished comes at most 1 s after it did.
	rolloutPoll     = taskwait.MinPollInterval
	rolloutLatency  = 50 * time.Millisecond
	rolloutParallel = 10
	// A wave costs at most its job, one poll interval, and
	// rolloutLatencies round trips (the submit and up to three reads);
	// the wall-time targets allow rolloutSlack times that per wave run
	// one after another.
	rolloutLatencies = 4
	rolloutSlack     = 1.2
	// rolloutMaxReads is the most task reads a wave may take.
	rolloutMaxReads = 4
)

const (
	pathAsyncCommand = "/v1/instances/async-command"
	pathTasks        = "/v1/instances/tasks/"
)

// rolloutWaves is the number of waves of the rollout.
func rolloutWaves() int { return (rolloutPhones + rolloutWaveSize - 1) / rolloutWaveSize }

// rolloutPerWave is the most one wave may take (see rolloutLatencies).
func rolloutPerWave() time.Duration {
	return rolloutJob + rolloutPoll + rolloutLatencies*rolloutLatency
}

// rolloutRounds is how many waves run one after another with parallel
// waves at once.
func rolloutRounds(parallel int) int { return (rolloutWaves() + parallel - 1) / parallel }

// rolloutTarget is the longest an apply with parallel waves at once may take.
func rolloutTarget(parallel int) time.Duration {
	return time.Duration(rolloutSlack * float64(rolloutRounds(parallel)) * float64(rolloutPerWave()))
}

type rolloutResult struct {
	Parallel         int
	Wall             time.Duration
	ProviderPeakRSS  uint64
	TerraformPeakRSS uint64
	ProviderCPU      time.Duration
	TotalCPU         time.Duration
	Submits, Reads   int
	Others           int // requests that are neither
	MaxReads         int // task reads of the wave read most
	MeanReads        float64
	// MaxInFlight is the most waves between their submit and the read
	// that saw them finished at any moment.
	MaxInFlight int
	// Early counts the submits that arrived before the jobs of the wave
	// submitted just before had finished (its submit + rolloutJob), and
	// MinIdle, MeanIdle, MaxIdle are the time from those jobs finishing to
	// the next submit; computed for sequential waves only.
	Early                      int
	MinIdle, MeanIdle, MaxIdle time.Duration
	// Span is the waves alone: from the first submit to the last request
	// (the read that saw the last wave finished). FirstSubmit is when the
	// first submit arrived, and Tail the time from the last request to the
	// end of the apply: the rest of the apply, outside the waves.
	Span, FirstSubmit, Tail time.Duration
	Connections             int
}

// benchRollout applies one koophone_instance_command to 10,000 phones in
// waves of 100, with sequential waves and with parallel_waves = 10.
func benchRollout(ctx context.Context, tfr *tfRunner, work string) ([]*rolloutResult, error) {
	var out []*rolloutResult
	for _, parallel := range []int{1, rolloutParallel} {
		r, err := benchRolloutOnce(ctx, tfr, work, parallel)
		if err != nil {
			return nil, fmt.Errorf("parallel_waves = %d: %w", parallel, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func benchRolloutOnce(ctx context.Context, tfr *tfRunner, work string, parallel int) (*rolloutResult, error) {
	// Every instance id exists: each job succeeds after rolloutJob.
	srv := serveEmulator(emulator.New(emulator.Options{Token: benchToken, JobDuration: rolloutJob}), rolloutLatency, nil)
	defer srv.close()
	ids := make([]string, rolloutPhones)
	for i := range ids {
		ids[i] = fmt.Sprintf("phone-%05d", i)
	}
	// The default run leaves parallel_waves out, to measure the default.
	parallelLine := ""
	if parallel != 1 {
		parallelLine = fmt.Sprintf("\n  parallel_waves      = %d", parallel)
	}
	dir, err := workspace(work, fmt.Sprintf("rollout-%d", parallel), map[string]string{
		"main.tf": requiredProviders + fmt.Sprintf(`
resource "koophone_instance_command" "rollout" {
  command             = "reboot"
  instance_ids        = jsondecode(file("${path.module}/ids.json"))
  wave_size           = %d%s
  poll_interval       = %q
  wait_for_completion = true

  timeouts = {
    create = "30m"
  }
}

output "state" {
  value = koophone_instance_command.rollout.state
}

output "successful" {
  value = koophone_instance_command.rollout.successful_count
}

output "tasks" {
  value = length(koophone_instance_command.rollout.task_ids)
}
`, rolloutWaveSize, parallelLine, rolloutPoll.String()),
		"ids.json": jsonIDs(ids),
	})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	run, err := tfr.apply(ctx, dir, srv.server.URL)
	if err != nil {
		return nil, err
	}
	waves := rolloutWaves()
	if !regexp.MustCompile(`state\s+=\s+"successful"`).MatchString(run.Output) ||
		!regexp.MustCompile(fmt.Sprintf(`successful\s+=\s+%d\b`, rolloutPhones)).MatchString(run.Output) ||
		!regexp.MustCompile(fmt.Sprintf(`tasks\s+=\s+%d\b`, waves)).MatchString(run.Output) {
		return nil, fmt.Errorf("the apply did not see every phone succeed in %d tasks:\n%s", waves, tail(run.Output, 30))
	}
	// Every phone got exactly one job, in a task of at most a wave's size.
	tasks := srv.emu.TaskIDs()
	phones := map[string]bool{}
	for _, id := range tasks {
		inst := srv.emu.TaskInstances(id)
		if len(inst) > rolloutWaveSize {
			return nil, fmt.Errorf("task %s went to %d phones, more than wave_size = %d", id, len(inst), rolloutWaveSize)
		}
		for _, p := range inst {
			if phones[p] {
				return nil, fmt.Errorf("phone %s was submitted to twice", p)
			}
			phones[p] = true
		}
	}
	if len(tasks) != waves || len(phones) != rolloutPhones {
		return nil, fmt.Errorf("%d tasks to %d phones, want %d to %d", len(tasks), len(phones), waves, rolloutPhones)
	}

	res := &rolloutResult{
		Parallel: parallel, Wall: run.Wall, ProviderPeakRSS: run.ProviderPeakRSS, TerraformPeakRSS: run.TerraformPeakRSS,
		ProviderCPU: run.ProviderCPU, TotalCPU: run.TotalCPU, Connections: srv.emu.Connections(),
	}
	reqs := srv.emu.Requests()
	slices.SortFunc(reqs, func(a, b emulator.Request) int { return a.Time.Compare(b.Time) })
	var submits []time.Time
	lastRead := map[string]time.Time{}
	readsOf := map[string]int{}
	for _, r := range reqs {
		id, isRead := strings.CutPrefix(r.Path, pathTasks)
		switch {
		case r.Method == http.MethodPost && r.Path == pathAsyncCommand:
			submits = append(submits, r.Time)
		case r.Method == http.MethodGet && isRead:
			res.Reads++
			readsOf[id]++
			lastRead[id] = r.Time
		default:
			res.Others++
		}
	}
	res.Submits = len(submits)
	last := reqs[len(reqs)-1].Time
	res.Span, res.FirstSubmit, res.Tail = last.Sub(submits[0]), submits[0].Sub(start), start.Add(run.Wall).Sub(last)
	for _, id := range tasks {
		if readsOf[id] == 0 {
			return nil, fmt.Errorf("task %s was never read", id)
		}
		res.MaxReads = max(res.MaxReads, readsOf[id])
	}
	res.MeanReads = float64(res.Reads) / float64(len(tasks))

	// Waves in flight: +1 at each submit, -1 at each task's last read (the
	// one that saw it finished). The most at once does not depend on
	// which submit made which task.
	type event struct {
		at    time.Time
		delta int
	}
	var events []event
	for _, t := range submits {
		events = append(events, event{t, 1})
	}
	for _, t := range lastRead {
		events = append(events, event{t, -1})
	}
	slices.SortFunc(events, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // an end before a start at the same instant
	})
	inFlight := 0
	for _, e := range events {
		inFlight += e.delta
		res.MaxInFlight = max(res.MaxInFlight, inFlight)
	}

	// One wave after another: the emulator starts a task's jobs when its
	// submit arrives, so the wave before the k-th submit finished at the
	// (k-1)-th submit + rolloutJob.
	if parallel == 1 {
		var total time.Duration
		for k := 1; k < len(submits); k++ {
			idle := submits[k].Sub(submits[k-1].Add(rolloutJob))
			if idle < 0 {
				res.Early++
			}
			if k == 1 || idle < res.MinIdle {
				res.MinIdle = idle
			}
			res.MaxIdle = max(res.MaxIdle, idle)
			total += idle
		}
		if len(submits) > 1 {
			res.MeanIdle = total / time.Duration(len(submits)-1)
		}
	}
	logf("  parallel_waves = %d: wall %v, waves %v (target %v), %d submits, %d reads (at most %d per wave, mean %.2f), at most %d waves in flight, provider peak RSS %.0f MiB, CPU %v",
		parallel, run.Wall.Round(time.Millisecond), res.Span.Round(time.Millisecond), rolloutTarget(parallel).Round(time.Millisecond), res.Submits, res.Reads,
		res.MaxReads, res.MeanReads, res.MaxInFlight, mib(res.ProviderPeakRSS), res.ProviderCPU.Round(time.Millisecond))
	return res, nil
}
