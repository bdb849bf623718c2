package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
	"github.com/koophone/terraform-provider-koophone/internal/taskwait"
)

type report struct {
	started, finished  time.Time
	command            string
	args               []string
	machine            string
	loadStart, loadEnd string
	goVersion          string
	terraformVersion   string
	commit             string

	plan      *planResult
	wait      *waitResult
	fleet     []*fleetResult
	fanIn     *fanInResult
	goBench   []goBenchResult
	listBench []goBenchResult
	rollout   []*rolloutResult
	listing   *listingResult
	apps      *appsResult
}

func describeMachine() string {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := ""
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "MemTotal:") {
				var kb uint64
				if _, err := fmt.Sscanf(strings.TrimPrefix(sc.Text(), "MemTotal:"), "%d", &kb); err == nil {
					mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
				}
				break
			}
		}
		f.Close()
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = ", Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%s, %d cores%s%s (%s/%s)", cpu, runtime.NumCPU(), mem, kernel, runtime.GOOS, runtime.GOARCH)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func goVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(strings.TrimPrefix(string(out), "go version "))
}

func terraformVersion(ctx context.Context, tf string) string {
	cmd := exec.CommandContext(ctx, tf, "version", "-json")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	var v struct {
		Version  string `json:"terraform_version"`
		Platform string `json:"platform"`
	}
	if json.Unmarshal(out, &v) != nil {
		return "unknown"
	}
	return v.Version + " (" + v.Platform + ")"
}

func gitCommit(ctx context.Context, repo string) string {
	cmd := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty", "--abbrev=12")
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func status(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

// pollTimes lists when the wait engine polls a task that never finishes,
// up to the first poll at the full poll interval, from its own constants.
func pollTimes(interval time.Duration) string {
	var at []string
	t, pause := time.Duration(0), taskwait.FirstPause
	for {
		at = append(at, t.String())
		if pause >= interval {
			break
		}
		t += pause
		pause = min(2*pause, interval)
	}
	return strings.Join(at, ", ")
}

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("Written by `%s` (`go run ./cmd/koophone-bench %s`); regenerate with `make bench`. ", r.command, strings.Join(r.args, " "))
	w("Every number and every verdict below is computed by the run that wrote this file; targets are reported here, " +
		"never asserted by tests.\n\n")
	w("| | |\n|---|---|\n")
	w("| date | %s (%s) |\n", r.started.Format("2006-01-02 15:04 MST"), r.finished.Sub(r.started).Round(time.Second))
	w("| machine | %s |\n", r.machine)
	w("| load average (1, 5, 15 min) | %s at the start, %s at the end |\n", r.loadStart, r.loadEnd)
	w("| Terraform | %s |\n", r.terraformVersion)
	w("| Go | %s |\n", r.goVersion)
	w("| commit | `%s` |\n", r.commit)
	w("\nTerraform runs the provider built from this commit through a `dev_overrides` CLI configuration; the KooPhone " +
		"emulator runs in the benchmark's process on loopback. Wall-clock numbers move with the machine's load.\n")

	if p := r.plan; p != nil {
		r.planSection(w, p)
	}
	if wr := r.wait; wr != nil {
		r.waitSection(w, wr)
	}
	if len(r.fleet) > 0 {
		r.fleetSection(w, r.fleet)
	}
	if fi := r.fanIn; fi != nil {
		r.fanInSection(w, fi)
	}
	if len(r.goBench) > 0 {
		r.goSection(w, r.goBench)
	}
	if len(r.listBench) > 0 {
		r.listsSection(w, r.listBench)
	}
	if len(r.rollout) > 0 {
		r.rolloutSection(w, r.rollout)
	}
	if l := r.listing; l != nil {
		r.listingSection(w, l)
	}
	if r.apps != nil {
		r.appsSection(w, r.apps)
	}
	return b.String()
}

type writer func(format string, args ...any)

// pairedRatio is the median of the ratios a[i] / b[i] of runs made one
// after the other: each pair shares the machine's load of its moment.
func pairedRatio(a, b []time.Duration) float64 {
	rs := make([]float64, len(a))
	for i := range a {
		rs[i] = ratio(a[i], b[i])
	}
	sort.Float64s(rs)
	return rs[len(rs)/2]
}

func (r *report) planSection(w writer, p *planResult) {
	ours, floor := median(p.Ours.Wall), median(p.Floor.Wall)
	paired := pairedRatio(p.Ours.Wall, p.Floor.Wall)
	w("\n## 1. Plan overhead\n\n")
	w("`terraform plan` of %d `koophone_instance_task` reads (`count = %d`, provider at its defaults) against %d reads of "+
		"`floor_task`, the data source of `cmd/koophone-bench/floor`: a terraform-plugin-framework provider that does the same "+
		"work the plainest way (the same GET against the same emulator, `net/http`'s default client, `encoding/json`, the same "+
		"`jobs` attribute). The two plans alternate in one run, %d times each after a warm-up, at %v of simulated latency per "+
		"request and with the emulator answering at once; Terraform's default `-parallelism` (10). The ratio is the median of "+
		"the %d ratios of a plan of ours to the plan of the floor next to it (the two share the machine's load of their "+
		"moment); the table shows medians.\n\n",
		planReads, planReads, planReads, p.Runs, planLatency, p.Runs)
	w("| plan of %d reads | wall | fastest | provider CPU | Terraform CPU |\n|---|---|---|---|---|\n", planReads)
	row := func(name string, s planSeries) {
		total, prov := median(s.TotalCPU), median(s.ProviderCPU)
		w("| %s | %s | %s | %s | %s |\n", name, secs(median(s.Wall)), secs(minimum(s.Wall)), secs(prov), secs(total-prov))
	}
	row(fmt.Sprintf("`koophone_instance_task`, %v latency (%d requests)", planLatency, p.Requests), p.Ours)
	row(fmt.Sprintf("`floor_task`, %v latency", planLatency), p.Floor)
	row("`koophone_instance_task`, no latency", p.OursFast)
	row("`floor_task`, no latency", p.FloorFast)
	met := paired <= planTargetRatio
	w("\n| measure | value | target | |\n|---|---|---|---|\n")
	w("| plan time at the default pacing (no `rate_limit`), as a ratio to the floor's, at %v latency | %.3fx (of the medians: %.3fx) | at most %.2fx | %s |\n",
		planLatency, paired, ratio(ours, floor), planTargetRatio, status(met))
	w("| ratio with no latency, for the record | %.3fx (of the medians: %.3fx) | | |\n",
		pairedRatio(p.OursFast.Wall, p.FloorFast.Wall), ratio(median(p.OursFast.Wall), median(p.FloorFast.Wall)))
	w("| the same %d reads at `rate_limit = %d` (the default before this release), for the record | %s | | |\n",
		planReads, planFormerRateLimit, secs(p.FormerDefault))
	dProv := median(p.Ours.ProviderCPU) - median(p.Floor.ProviderCPU)
	dTF := (median(p.Ours.TotalCPU) - median(p.Ours.ProviderCPU)) - (median(p.Floor.TotalCPU) - median(p.Floor.ProviderCPU))
	verdict := "The target is met"
	if !met {
		verdict = fmt.Sprintf("The target is missed by %.1f%% of the floor's plan", 100*(paired-planTargetRatio))
	}
	w("\n%s. Per plan (medians), the provider's wall time minus the floor's is %v; the provider process's CPU minus the "+
		"floor's is %v, and Terraform's CPU minus its CPU with the floor is %v",
		verdict, (ours - floor).Round(time.Millisecond), dProv.Round(time.Millisecond), dTF.Round(time.Millisecond))
	if dTF > 0 {
		w(" (Terraform encodes, decodes and checks the larger schema of `koophone_instance_task`: its wait arguments, " +
			"timeouts, counts and state besides `jobs`)")
	}
	w(".\n")
}

func (r *report) waitSection(w writer, wr *waitResult) {
	w("\n## 2. Wait efficiency (virtual time)\n\n")
	w("One task of one job finishing after the given time, waited for in virtual time (a `testing/synctest` bubble, whose clock "+
		"jumps to the end of each pause) through the real client, rate limiter and emulator over in-memory HTTP connections. *Lag* is the time from the task finishing to the poll "+
		"that saw it finished; *req* counts requests. All three strategies have the same lag bound, %v.\n\n", wr.PollInterval)
	w("- **ours**: the provider's wait engine with `poll_interval = \"%v\"`: polls at %s, then every %v; "+
		"shown without jitter, then the largest lag and the mean requests over %d runs with the default jitter.\n",
		wr.PollInterval, pollTimes(wr.PollInterval), wr.PollInterval, wr.JitterRuns)
	w("- **fixed 10 s**: the huaweicloud provider's CPH job waits (`Delay` 10 s, then every 10 s).\n")
	w("- **100 ms doubling**: the plugin SDK's `StateChangeConf` default (at once, then 100 ms doubling up to 10 s).\n\n")
	w("| task finishes after | ours: lag / req | ours, jittered: max lag / mean req | fixed 10 s: lag / req | 100 ms doubling: lag / req |\n")
	w("|---|---|---|---|---|\n")
	for _, row := range wr.Rows {
		w("| %v | %v / %d | %v / %.1f | %v / %d | %v / %d |\n", row.Finish,
			row.Ours.Lag, row.Ours.Requests, row.OursJitterMaxLag.Round(time.Millisecond), row.OursJitterMeanRequests,
			row.Fixed.Lag, row.Fixed.Requests, row.Doubling.Lag, row.Doubling.Requests)
	}
	w("\nA finish time that is a multiple of 10 s falls on the fixed poller's grid, so one finish time says little about lag. "+
		"Averaged over %d finish times, T + 0 s to T + %d s (mean lag, worst lag, mean requests; ours without jitter):\n\n", wr.Phases, wr.Phases-1)
	w("| T | ours | fixed 10 s | 100 ms doubling | ours: lag <= %v | ours: req <= both references |\n|---|---|---|---|---|---|\n", wr.PollInterval)
	lagAllMet := true
	for _, row := range wr.Rows {
		lagOK := row.PhaseOurs.MaxLag <= wr.PollInterval && row.OursJitterMaxLag <= wr.PollInterval && row.Ours.Lag <= wr.PollInterval
		lagAllMet = lagAllMet && lagOK
		reqOK := row.PhaseOurs.Requests <= row.PhaseFixed.Requests && row.PhaseOurs.Requests <= row.PhaseDoubling.Requests
		cell := func(m meanResult) string {
			return fmt.Sprintf("%v (max %v) / %.1f", m.Lag.Round(10*time.Millisecond), m.MaxLag.Round(10*time.Millisecond), m.Requests)
		}
		w("| %v | %s | %s | %s | %s | %s |\n", row.Finish, cell(row.PhaseOurs), cell(row.PhaseFixed), cell(row.PhaseDoubling), status(lagOK), status(reqOK))
	}
	last := wr.Rows[len(wr.Rows)-1]
	lagVerdict := "The lag bound is met in every row"
	if !lagAllMet {
		lagVerdict = "The lag bound is **missed** in at least one row"
	}
	w("\n%s, jitter included (pauses are only ever shortened). On the longest task (%v), ours "+
		"sends %.1f requests more than the fixed poller and %.1f fewer than the SDK's doubling, and the jitter costs %.1f%% more "+
		"requests than exact pauses; in exchange a task that finishes in %v is seen after %v, where the fixed poller sees it after %v.\n",
		lagVerdict, last.Finish, last.PhaseOurs.Requests-last.PhaseFixed.Requests, last.PhaseDoubling.Requests-last.PhaseOurs.Requests,
		100*(last.OursJitterMeanRequests/float64(last.Ours.Requests)-1),
		wr.Rows[0].Finish, wr.Rows[0].Ours.Lag, wr.Rows[0].Fixed.Lag)
}

func (r *report) fleetSection(w writer, runs []*fleetResult) {
	f0 := runs[0]
	limit := f0.Slowest + 2*f0.PollInterval
	w("\n## 3. Fleet\n\n")
	w("One `terraform plan` of one `koophone_instance_tasks` read of %d tasks x %d jobs (%d jobs, each with a short output), "+
		"`wait_for_completion = true`, `poll_interval = \"%v\"`, emulator latency %v, in three configurations: the defaults "+
		"(`include_jobs = \"failed\"`, no `rate_limit`), `include_jobs = \"all\"`, and a `rate_limit` below the demand. The "+
		"tasks finish at times spread evenly over %v (in random id order), their jobs one after another. Times are from the "+
		"creation of the tasks, just before Terraform starts.\n\n", f0.Tasks, f0.Jobs, f0.Tasks*f0.Jobs, f0.PollInterval, f0.Latency, f0.Slowest)
	w("| measure |")
	for _, f := range runs {
		w(" %s |", f.Name)
	}
	w(" target |\n|---|")
	for range runs {
		w("---|")
	}
	w("---|\n")
	cells := func(name, target string, cell func(f *fleetResult) string) {
		w("| %s |", name)
		for _, f := range runs {
			w(" %s |", cell(f))
		}
		w(" %s |\n", target)
	}
	cells("wall time of the plan", fmt.Sprintf("at most slowest task + 2 x poll_interval = %s", secs(limit)), func(f *fleetResult) string {
		return fmt.Sprintf("%s (%s)", secs(f.Wall), status(f.Wall <= limit))
	})
	cells("detection lag per task (last poll - finish)", fmt.Sprintf("poll_interval (%v) plus queueing", f0.PollInterval), func(f *fleetResult) string {
		return fmt.Sprintf("max %s, mean %s", secs(f.MaxLag), secs(f.MeanLag))
	})
	cells("API requests", "", func(f *fleetResult) string {
		return fmt.Sprintf("%d (%.1f per task, at most %d)", f.Requests, f.MeanPolls, f.MaxPolls)
	})
	cells("most requests in one second", "at most rate_limit, when set", func(f *fleetResult) string {
		if f.RateLimit > 0 {
			return fmt.Sprintf("%d (%s)", f.PeakPerSecond, status(f.PeakPerSecond <= f.RateLimit))
		}
		return fmt.Sprint(f.PeakPerSecond)
	})
	cells("new TCP connections seen by the emulator", fmt.Sprintf("at most %d, reused", koophone.DefaultMaxConcurrentRequests), func(f *fleetResult) string {
		return fmt.Sprintf("%d (%s)", f.Connections, status(f.Connections <= koophone.DefaultMaxConcurrentRequests))
	})
	cells("provider peak memory (VmHWM)", fmt.Sprintf("under %.0f MB (%.0f MiB) with the default include_jobs", fleetMemoryTarget/1e6, mib(uint64(fleetMemoryTarget))),
		func(f *fleetResult) string {
			if f.IncludeJobs == "" {
				return fmt.Sprintf("%.0f MiB (%s)", mib(f.ProviderPeakRSS), status(f.ProviderPeakRSS < fleetMemoryTarget))
			}
			return fmt.Sprintf("%.0f MiB", mib(f.ProviderPeakRSS))
		})
	cells("Terraform's own peak memory, for context", "", func(f *fleetResult) string { return fmt.Sprintf("%.0f MiB", mib(f.TerraformPeakRSS)) })
	for _, f := range runs[1:] {
		switch {
		case f.IncludeJobs != "":
			w("\nWith `include_jobs = %q`, every one of the %d jobs goes through the framework into the state: the provider peaks "+
				"at %.0f MiB (%.1fx the default's %.0f MiB), Terraform at %.0f MiB (%.1fx), and the plan takes %s (%s with the default).\n",
				f.IncludeJobs, f.Tasks*f.Jobs, mib(f.ProviderPeakRSS), float64(f.ProviderPeakRSS)/float64(f0.ProviderPeakRSS), mib(f0.ProviderPeakRSS),
				mib(f.TerraformPeakRSS), float64(f.TerraformPeakRSS)/float64(f0.TerraformPeakRSS), secs(f.Wall), secs(f0.Wall))
		case f.RateLimit > 0:
			demand := float64(f.Tasks) / f.PollInterval.Seconds()
			w("\nWith `rate_limit = %d`, the cap is below the steady demand of %d tasks polled every %v (%.0f requests per second): "+
				"polls queue behind it, and the worst lag is %s instead of %s without a cap, against a `poll_interval` of %v.",
				f.RateLimit, f.Tasks, f.PollInterval, demand, secs(f.MaxLag), secs(f0.MaxLag), f.PollInterval)
			spacing := time.Second / time.Duration(f.RateLimit)
			w(" The limiter gives each request a turn %v after the one before (exactly so on a fake clock: "+
				"`TestACapSpacesRequestsEvenly`); on the wall clock a turn's timer can fire late while the next fires on time, and "+
				"the requests then cross two processes, so %d of the %d arrived less than %v after the one before (the closest %v "+
				"after it): the busiest whole second of the emulator's clock counted %d requests, the busiest sliding second %d.\n",
				spacing, f.Closer, f.Requests, spacing, f.MinGap.Round(time.Microsecond), f.PeakPerSecond, f.PeakSliding)
		}
	}
}

func (r *report) fanInSection(w writer, fi *fanInResult) {
	w("\n## 4. Fan-in\n\n")
	w("%d tasks of %d jobs, each finishing %v after it starts, gated with `wait_for_completion = true` by %d `koophone_instance_task` "+
		"data sources (`count`, read ten at a time by Terraform) or by one `koophone_instance_tasks`; the provider's defaults "+
		"and Terraform's `-parallelism` (10), emulator latency %v. Wall time of `terraform plan`, from the start.\n\n",
		fi.Tasks, fi.Jobs, fi.Duration, fi.Tasks, fanInLatency)
	w("| case | %d x singular | 1 x plural | speed-up | target (plural at least 5x faster) |\n|---|---|---|---|---|\n", fi.Tasks)
	for _, sc := range fi.Scenarios {
		rt := ratio(sc.Singular.Wall, sc.Plural.Wall)
		w("| %s | %s (last task done at %s, %d requests) | %s (last task done at %s, %d requests) | %.1fx | %s |\n", sc.Name,
			secs(sc.Singular.Wall), secs(sc.Singular.LastDone), sc.Singular.Requests,
			secs(sc.Plural.Wall), secs(sc.Plural.LastDone), sc.Plural.Requests, rt, status(rt >= 5))
	}
	w("\nWhen every task started before the run, the singular data sources lose little: after the first ten have waited, the " +
		"others find their tasks finished and read them once each. The trap is the second case, tasks submitted in the same " +
		"run as their gate, where each task only starts when its turn comes among ten concurrent reads.\n")
}

func (r *report) goSection(w writer, gb []goBenchResult) {
	w("\n## 5. Response decoding (Go benchmarks)\n\n")
	w("`go test -run '^$' -bench '%s' -benchmem -count %d %s`, median of the runs. "+
		"The answer is a task of 100 jobs with 1 KiB outputs (the API's largest: 100 phones per request, `execute_msg` capped at "+
		"1,024 bytes), %.0f KB of JSON. Decoding is `encoding/json`'s.\n\n", decodeBenchPattern, goBenchCount, decodeBenchPackage,
		gb[0].MBPerSec*gb[0].NsPerOp/1e6)
	w("| benchmark | time/op | throughput | bytes/op | allocs/op |\n|---|---|---|---|---|\n")
	for _, g := range gb {
		w("| `%s` | %.2f ms | %.1f MB/s | %.0f KiB | %.0f |\n", g.Name, g.NsPerOp/1e6, g.MBPerSec, g.BytesPerOp/1024, g.AllocsPerOp)
	}
	w("\n`BenchmarkDecodeTask` is the envelope and the jobs; `BenchmarkGetTask` the whole read through the client over loopback HTTP.\n")
}

// listsSection compares the two ways of setting a large list in state: the
// hand-built attr.Values the provider uses for koophone_instances and
// koophone_instance_tasks, and the typed element structs it uses elsewhere.
func (r *report) listsSection(w writer, lb []goBenchResult) {
	w("\n## 6. Large lists in state: built by hand or through typed structs (Go benchmarks)\n\n")
	w("`go test -run '^$' -bench '%s' -benchmem -count %d %s`, median of the runs. Each sets one list attribute of an empty "+
		"state of the data source's schema, from the client's values: `instances` of `koophone_instances` with 10,000 phones, "+
		"`tasks` of `koophone_instance_tasks` with 1,000 tasks of 100 jobs (`include_jobs = \"all\"`). *by=hand* builds each "+
		"element's `attr.Value`s, as the provider does for these two lists; *by=typed-struct* hands the framework a slice of "+
		"`tfsdk`-tagged structs, which it maps by reflection, as the provider does for every other model.\n\n",
		listsBenchPattern, goBenchCount, listsBenchPackage)
	w("| benchmark | time/op | bytes/op | allocs/op |\n|---|---|---|---|\n")
	byName := map[string]goBenchResult{}
	for _, g := range lb {
		byName[g.Name] = g
		w("| `%s` | %.0f ms | %.0f MiB | %.0f |\n", g.Name, g.NsPerOp/1e6, g.BytesPerOp/(1<<20), g.AllocsPerOp)
	}
	w("\n")
	for _, list := range []string{"BenchmarkInstancesList", "BenchmarkTasksList"} {
		hand, typed := byName[list+"/by=hand"], byName[list+"/by=typed-struct"]
		if hand.NsPerOp == 0 || typed.NsPerOp == 0 {
			continue
		}
		w("- `%s`: typed structs take %.1fx the time and %.1fx the memory of the hand-built list.\n", list,
			typed.NsPerOp/hand.NsPerOp, typed.BytesPerOp/hand.BytesPerOp)
	}
}

func (r *report) rolloutSection(w writer, runs []*rolloutResult) {
	waves, perWave := rolloutWaves(), rolloutPerWave()
	w("\n## 7. Rollout\n\n")
	w("One `terraform apply` of one `koophone_instance_command` (`command = \"reboot\"`) on %d phones, `wave_size = %d` "+
		"(%d waves), `poll_interval = \"%v\"` (the shortest allowed), `wait_for_completion = true`, `timeouts = { create = \"30m\" }`, "+
		"against the emulator with jobs of %v on every phone and %v of latency per request: once at the default "+
		"`parallel_waves` (1, left out of the configuration), once with `parallel_waves = %d`, each in a new workspace and "+
		"state. A wave takes at most its job (%v), one poll interval (the read that sees it finished comes at most %v after "+
		"it did) and %d round trips of latency (the submit and up to three reads): %v. The wall-time targets allow %.0f%% "+
		"more than that for each wave that runs after another: %.1f x %d x (%v + %v + %d x %v) = %s one wave after "+
		"another, %.1f x %d x %v = %s with %d at a time. Times below are from the start of Terraform.\n\n",
		rolloutPhones, rolloutWaveSize, waves, rolloutPoll, rolloutJob, rolloutLatency, rolloutParallel,
		rolloutJob, rolloutPoll, rolloutLatencies, perWave, 100*(rolloutSlack-1),
		rolloutSlack, rolloutRounds(1), rolloutJob, rolloutPoll, rolloutLatencies, rolloutLatency, secs(rolloutTarget(1)),
		rolloutSlack, rolloutRounds(rolloutParallel), perWave, secs(rolloutTarget(rolloutParallel)), rolloutParallel)
	w("| measure |")
	for _, ro := range runs {
		w(" `parallel_waves = %d` |", ro.Parallel)
	}
	w(" target |\n|---|")
	for range runs {
		w("---|")
	}
	w("---|\n")
	cells := func(name, target string, cell func(ro *rolloutResult) string) {
		w("| %s |", name)
		for _, ro := range runs {
			w(" %s |", cell(ro))
		}
		w(" %s |\n", target)
	}
	cells("wall time of the apply", fmt.Sprintf("at most %.1f x waves in a row x %v", rolloutSlack, perWave), func(ro *rolloutResult) string {
		target := rolloutTarget(ro.Parallel)
		return fmt.Sprintf("%s (target %s: %s)", secs(ro.Wall), secs(target), status(ro.Wall <= target))
	})
	cells("the waves alone: from the first submit to the read that saw the last wave finished", "the same", func(ro *rolloutResult) string {
		target := rolloutTarget(ro.Parallel)
		return fmt.Sprintf("%s (%s)", secs(ro.Span), status(ro.Span <= target))
	})
	cells("the waves alone, per wave in a row", fmt.Sprintf("job + poll_interval = %v, for the record", rolloutJob+rolloutPoll), func(ro *rolloutResult) string {
		return fmt.Sprintf("%s (%d in a row)", secs(ro.Span/time.Duration(rolloutRounds(ro.Parallel))), rolloutRounds(ro.Parallel))
	})
	cells("outside the waves: before the first submit / after the last request", "", func(ro *rolloutResult) string {
		return fmt.Sprintf("%s / %s", secs(ro.FirstSubmit), secs(ro.Tail))
	})
	cells("submits (`POST /v1/instances/async-command`)", "one per wave", func(ro *rolloutResult) string {
		return fmt.Sprintf("%d (%s)", ro.Submits, status(ro.Submits == waves))
	})
	cells("task reads (`GET /v1/instances/tasks/{id}`)", fmt.Sprintf("at most %d per wave", rolloutMaxReads), func(ro *rolloutResult) string {
		return fmt.Sprintf("%d: at most %d per wave, mean %.2f (%s)", ro.Reads, ro.MaxReads, ro.MeanReads, status(ro.MaxReads <= rolloutMaxReads))
	})
	cells("other requests", "none", func(ro *rolloutResult) string { return fmt.Sprintf("%d (%s)", ro.Others, status(ro.Others == 0)) })
	cells("most waves in flight at once (from the submit to the read that saw the wave finished)", "at most parallel_waves", func(ro *rolloutResult) string {
		return fmt.Sprintf("%d (%s)", ro.MaxInFlight, status(ro.MaxInFlight <= ro.Parallel))
	})
	cells("submits that came before the previous wave's jobs finished", "none, one wave after another", func(ro *rolloutResult) string {
		if ro.Parallel != 1 {
			return ""
		}
		return fmt.Sprintf("%d of %d (%s)", ro.Early, ro.Submits-1, status(ro.Early == 0))
	})
	cells("from a wave's jobs finishing to the next submit", "", func(ro *rolloutResult) string {
		if ro.Parallel != 1 {
			return ""
		}
		return fmt.Sprintf("min %s, mean %s, max %s", secs(ro.MinIdle), secs(ro.MeanIdle), secs(ro.MaxIdle))
	})
	cells("new TCP connections seen by the emulator", "", func(ro *rolloutResult) string { return fmt.Sprint(ro.Connections) })
	cells("provider peak memory (VmHWM) / CPU", "", func(ro *rolloutResult) string {
		return fmt.Sprintf("%.0f MiB / %s", mib(ro.ProviderPeakRSS), secs(ro.ProviderCPU))
	})
	cells("Terraform's own peak memory / CPU (with the provider's), for context", "", func(ro *rolloutResult) string {
		return fmt.Sprintf("%.0f MiB / %s", mib(ro.TerraformPeakRSS), secs(ro.TotalCPU))
	})
	seq := runs[0]
	if seq.Parallel != 1 {
		return
	}
	estimate := time.Duration(waves) * (rolloutJob + rolloutPoll)
	w("\nOne wave after another, the waves took %.2fx the %d x (job + poll_interval) = %s of the issue's estimate, and the "+
		"apply %.2fx. Between a wave's jobs finishing and the next submit, the provider spent %s on average: the wait for "+
		"the read that sees the wave finished (reads come 1 s apart, less a jitter of up to a tenth) and the round trips "+
		"of that read and of the submit.", ratio(seq.Span, estimate), waves, secs(estimate), ratio(seq.Wall, estimate), secs(seq.MeanIdle))
	if len(runs) > 1 {
		par := runs[1]
		w(" With `parallel_waves = %d` the waves took %s, %.1fx faster, and the apply %s.", par.Parallel, secs(par.Span),
			ratio(seq.Span, par.Span), secs(par.Wall))
	}
	w("\n\nOutside the waves, one wave after another: %s before the first submit (validation and the plans of %d phones) "+
		"and %s after the last request (the provider writing the state of %d phones, Terraform checking and saving it), "+
		"with the provider at %s of CPU and Terraform at %s over the whole apply.",
		secs(seq.FirstSubmit), rolloutPhones, secs(seq.Tail), rolloutPhones, secs(seq.ProviderCPU), secs(seq.TotalCPU-seq.ProviderCPU))
	w("\n")
}
