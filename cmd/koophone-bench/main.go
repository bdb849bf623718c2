// Command koophone-bench runs the provider's benchmarks and writes them to
// BENCHMARKS.md (`make bench`).
//
// It drives the real Terraform CLI with the provider built from this
// repository (through a dev_overrides CLI configuration, so nothing is
// downloaded) against the KooPhone emulator served in this process, and
// the provider's poller in virtual time:
//
//  1. plan overhead: 200 koophone_instance_task reads at 20 ms simulated
//     latency, against 200 reads of the floor provider's data source
//     (./floor: the same GET, the plainest way), interleaved;
//  2. wait efficiency, in virtual time: detection lag and requests of the
//     wait engine against fixed 10 s polling and 100 ms doubling to 10 s;
//  3. fleet: 1,000 tasks of 100 jobs in one koophone_instance_tasks read, at
//     the defaults, with include_jobs = "all", and under a rate_limit;
//  4. fan-in: 100 tasks of 30 s through 100 singular data sources against
//     one plural read;
//  5. Go benchmarks of response decoding;
//  6. Go benchmarks of large lists set in state, built by hand or through
//     typed structs;
//  7. rollout: one koophone_instance_command applied to 10,000 phones in
//     100 waves, at 50 ms latency and jobs of 1 s, one wave after another
//     and ten at a time;
//  8. fleet listing: one koophone_instances reading 10,000 phones (100
//     pages), at 50 ms latency and with none, against the floor
//     provider's floor_instances (the same schema, the same phones from
//     memory, set through typed structs), alternated;
//  9. app gates: one koophone_instance_apps read of 1,000 phones at 50 ms
//     latency, against what the client's requests in flight allow, and with
//     one phone failing (no request may start after its failure).
//
// Usage:
//
//	koophone-bench -terraform PATH [-out BENCHMARKS.md] [-only plan,wait,fleet,fanin,go,rollout,listing,apps] [-runs 21]
//
// Targets are printed next to the measurements, and every verdict and
// every number of the report is computed from the measurements; the
// program does not fail when a target is missed (a benchmark reports, a
// test asserts).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type options struct {
	terraform string
	out       string
	only      map[string]bool
	runs      int
	keep      bool
	repo      string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "koophone-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	var (
		o    options
		only string
	)
	fs := flag.NewFlagSet("koophone-bench", flag.ContinueOnError)
	fs.StringVar(&o.terraform, "terraform", "terraform", "the terraform binary to drive")
	fs.StringVar(&o.out, "out", "BENCHMARKS.md", "where to write the report (- for stdout)")
	fs.StringVar(&only, "only", "plan,wait,fleet,fanin,go,rollout,listing,apps", "comma-separated benchmarks to run")
	fs.IntVar(&o.runs, "runs", 21, "timed runs of each plan in the plan-overhead benchmark")
	fs.BoolVar(&o.keep, "keep", false, "keep the working directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.only = map[string]bool{}
	for _, name := range strings.Split(only, ",") {
		if name = strings.TrimSpace(name); name != "" {
			o.only[name] = true
		}
	}
	tf, err := exec.LookPath(o.terraform)
	if err != nil {
		return fmt.Errorf("terraform not found: %w", err)
	}
	o.terraform = tf
	if o.repo, err = os.Getwd(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(o.repo, "go.mod")); err != nil {
		return fmt.Errorf("run from the repository root (make bench): %w", err)
	}

	work, err := os.MkdirTemp("", "koophone-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		logf("working directory: %s", work)
	} else {
		defer os.RemoveAll(work)
	}

	rep := &report{started: time.Now().UTC(), command: "make bench", args: args}
	rep.machine = describeMachine()
	rep.loadStart = loadAverage()
	rep.goVersion = goVersion(ctx)
	rep.terraformVersion = terraformVersion(ctx, o.terraform)
	rep.commit = gitCommit(ctx, o.repo)

	var tfr *tfRunner
	needTF := o.only["plan"] || o.only["fleet"] || o.only["fanin"] || o.only["rollout"] || o.only["listing"] || o.only["apps"]
	if needTF {
		logf("building the provider")
		if tfr, err = newTFRunner(ctx, o.terraform, o.repo, work); err != nil {
			return err
		}
	}
	if o.only["plan"] {
		logf("1/7 plan overhead")
		if rep.plan, err = benchPlanOverhead(ctx, tfr, work, o.runs); err != nil {
			return fmt.Errorf("plan overhead: %w", err)
		}
	}
	if o.only["wait"] {
		logf("2/7 wait efficiency (virtual time)")
		if rep.wait, err = benchWaitEfficiency(ctx); err != nil {
			return fmt.Errorf("wait efficiency: %w", err)
		}
	}
	if o.only["fleet"] {
		logf("3/7 fleet")
		if rep.fleet, err = benchFleet(ctx, tfr, work); err != nil {
			return fmt.Errorf("fleet: %w", err)
		}
	}
	if o.only["fanin"] {
		logf("4/7 fan-in")
		if rep.fanIn, err = benchFanIn(ctx, tfr, work); err != nil {
			return fmt.Errorf("fan-in: %w", err)
		}
	}
	if o.only["go"] {
		logf("5-6/7 Go benchmarks")
		if rep.goBench, err = benchGo(ctx, o.repo, decodeBenchPattern, decodeBenchPackage); err != nil {
			return fmt.Errorf("go benchmarks: %w", err)
		}
		if rep.listBench, err = benchGo(ctx, o.repo, listsBenchPattern, listsBenchPackage); err != nil {
			return fmt.Errorf("go benchmarks: %w", err)
		}
	}
	if o.only["rollout"] {
		logf("7/7 rollout")
		if rep.rollout, err = benchRollout(ctx, tfr, work); err != nil {
			return fmt.Errorf("rollout: %w", err)
		}
	}
	if o.only["listing"] {
		logf("8. fleet listing")
		if rep.listing, err = benchListing(ctx, tfr, work); err != nil {
			return fmt.Errorf("fleet listing: %w", err)
		}
	}
	if o.only["apps"] {
		logf("9. app gates")
		if rep.apps, err = benchApps(ctx, tfr, work); err != nil {
			return fmt.Errorf("app gates: %w", err)
		}
	}
	rep.finished = time.Now().UTC()
	rep.loadEnd = loadAverage()

	text := rep.markdown()
	if o.out == "-" {
		fmt.Print(text)
		return nil
	}
	if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
		return err
	}
	logf("wrote %s", o.out)
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "koophone-bench: "+format+"\n", args...)
}
