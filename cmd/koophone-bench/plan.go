package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sort"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

const (
	planReads   = 200
	planLatency = 20 * time.Millisecond
	// planFormerRateLimit was the provider's default rate limit before it
	// stopped pacing by default: the plan is measured with it, for the
	// record.
	planFormerRateLimit = 10
	// planTargetRatio is the most the provider's plan may take, as a
	// multiple of the floor's.
	planTargetRatio = 1.05
)

// planSeries is the runs of one kind of plan, with their CPU split.
type planSeries struct {
	Wall        []time.Duration
	TotalCPU    []time.Duration // Terraform and every process it started
	ProviderCPU []time.Duration // the provider processes alone
}

func (s *planSeries) add(r runResult) {
	s.Wall = append(s.Wall, r.Wall)
	s.TotalCPU = append(s.TotalCPU, r.TotalCPU)
	s.ProviderCPU = append(s.ProviderCPU, r.ProviderCPU)
}

type planResult struct {
	Runs     int
	Requests int // API requests per plan of ours
	// Ours is koophone_instance_task at the provider's defaults; Floor the
	// floor provider's floor_task; both at planLatency, interleaved.
	Ours, Floor planSeries
	// OursFast and FloorFast are the same with the emulator answering at
	// once.
	OursFast, FloorFast planSeries
	// FormerDefault is ours at rate_limit = planFormerRateLimit.
	FormerDefault time.Duration
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func minimum(ds []time.Duration) time.Duration {
	m := ds[0]
	for _, d := range ds[1:] {
		m = min(m, d)
	}
	return m
}

// benchPlanOverhead times `terraform plan` of 200 koophone_instance_task
// reads at the provider's defaults against 200 reads of the floor
// provider's floor_task (the same GET, the plainest way), alternating them
// in one run, against the emulator at 20 ms latency and answering at once.
func benchPlanOverhead(ctx context.Context, tfr *tfRunner, work string, runs int) (*planResult, error) {
	srv := newEmulatorServer(planLatency, nil)
	defer srv.close()
	fast := &emulatorServer{emu: srv.emu, server: httptest.NewUnstartedServer(srv.emu)}
	fast.server.Config.ConnState = srv.emu.ConnState
	fast.server.Start()
	defer fast.close()
	ids := make([]string, planReads)
	for i := range ids {
		id, err := srv.emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
			{Status: emulator.StatusSucceeded, ExecuteMsg: strp("Success")},
			{Status: emulator.StatusSucceeded, ExecuteMsg: strp("Success")},
		}})
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	idsFile := map[string]string{"ids.json": jsonIDs(ids)}
	oursConfig := func(providerBlock string) map[string]string {
		return withFile(idsFile, "main.tf", requiredProviders+providerBlock+fmt.Sprintf(`
locals {
  ids = jsondecode(file("${path.module}/ids.json"))
}

data "koophone_instance_task" "t" {
  count   = %d
  task_id = local.ids[count.index]
}
`, planReads))
	}
	ours, err := workspace(work, "plan-ours", oursConfig(""))
	if err != nil {
		return nil, err
	}
	former, err := workspace(work, "plan-former-default", oursConfig(fmt.Sprintf("\nprovider \"koophone\" {\n  rate_limit = %d\n}\n", planFormerRateLimit)))
	if err != nil {
		return nil, err
	}
	floor, err := workspace(work, "plan-floor", withFile(idsFile, "main.tf", fmt.Sprintf(`terraform {
  required_providers {
    floor = {
      source = "bench/floor"
    }
  }
}

locals {
  ids = jsondecode(file("${path.module}/ids.json"))
}

data "floor_task" "t" {
  count   = %d
  task_id = local.ids[count.index]
}
`, planReads)))
	if err != nil {
		return nil, err
	}

	res := &planResult{Runs: runs}
	slow, quick := srv.server.URL, fast.server.URL
	// Warm up both (file cache, Go runtime of the plugin binaries).
	for _, dir := range []string{ours, floor} {
		if _, err := tfr.plan(ctx, dir, slow); err != nil {
			return nil, err
		}
	}
	for i := range runs {
		// Alternate which goes first, so neither always runs on a machine
		// the other has just warmed or loaded.
		order := []string{ours, floor}
		if i%2 == 1 {
			order = []string{floor, ours}
		}
		for _, dir := range order {
			before := len(srv.emu.Requests())
			r, err := tfr.plan(ctx, dir, slow)
			if err != nil {
				return nil, err
			}
			q, err := tfr.plan(ctx, dir, quick)
			if err != nil {
				return nil, err
			}
			if dir == ours {
				res.Ours.add(r)
				res.OursFast.add(q)
				res.Requests = (len(srv.emu.Requests()) - before) / 2
			} else {
				res.Floor.add(r)
				res.FloorFast.add(q)
			}
		}
		logf("  run %d: ours %v (provider cpu %v), floor %v (provider cpu %v); at once: ours %v, floor %v", i+1,
			res.Ours.Wall[i].Round(time.Millisecond), res.Ours.ProviderCPU[i].Round(time.Millisecond),
			res.Floor.Wall[i].Round(time.Millisecond), res.Floor.ProviderCPU[i].Round(time.Millisecond),
			res.OursFast.Wall[i].Round(time.Millisecond), res.FloorFast.Wall[i].Round(time.Millisecond))
	}
	d, err := tfr.plan(ctx, former, slow)
	if err != nil {
		return nil, err
	}
	res.FormerDefault = d.Wall
	logf("  rate_limit = %d: %v", planFormerRateLimit, d.Wall.Round(time.Millisecond))
	return res, nil
}

// withFile returns files plus one more.
func withFile(files map[string]string, name, content string) map[string]string {
	out := map[string]string{name: content}
	for k, v := range files {
		out[k] = v
	}
	return out
}

func strp(s string) *string { return &s }
