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
	// planRateLimit lifts the provider's default rate limit (10 requests
	// per second, which alone would spread 200 reads over 20 s) so that the
	// benchmark measures the provider's overhead, not its pacing. The
	// default is measured too, for the record.
	planRateLimit = 1000
)

type planResult struct {
	Runs             int
	Ours             []time.Duration
	Baseline         []time.Duration
	NoLatency        []time.Duration // ours with the emulator answering at once
	DefaultRateLimit time.Duration
	Requests         int // API requests per plan
	Floor            time.Duration
	// CPU time per plan (medians): everything Terraform ran, and the
	// provider processes alone.
	OursCPU, OursProviderCPU, BaselineCPU []time.Duration
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
// reads against the emulator at 20 ms latency, alternating with a plan of
// 200 terraform_remote_state reads of a local state file.
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
	oursConfig := func(rateLimit string) string {
		return requiredProviders + rateLimit + fmt.Sprintf(`
locals {
  ids = jsondecode(file("${path.module}/ids.json"))
}

data "koophone_instance_task" "t" {
  count   = %d
  task_id = local.ids[count.index]
}
`, planReads)
	}
	ours, err := workspace(work, "plan-ours", map[string]string{
		"main.tf":  oursConfig(fmt.Sprintf("\nprovider \"koophone\" {\n  rate_limit = %d\n}\n", planRateLimit)),
		"ids.json": jsonIDs(ids),
	})
	if err != nil {
		return nil, err
	}
	defaults, err := workspace(work, "plan-default-rate", map[string]string{"main.tf": oursConfig(""), "ids.json": jsonIDs(ids)})
	if err != nil {
		return nil, err
	}
	baseline, err := workspace(work, "plan-baseline", map[string]string{
		"main.tf": fmt.Sprintf(`data "terraform_remote_state" "r" {
  count   = %d
  backend = "local"
  config = {
    path = "${path.module}/base.tfstate"
  }
}
`, planReads),
		"base.tfstate": `{"version":4,"terraform_version":"1.6.0","serial":1,"lineage":"5b9c3f4e-0000-4000-8000-000000000001",` +
			`"outputs":{"phase":{"value":"ready","type":"string"}},"resources":[],"check_results":null}`,
	})
	if err != nil {
		return nil, err
	}

	res := &planResult{Runs: runs, Floor: planReads * planLatency / 10}
	url := srv.server.URL
	// Warm up both (file cache, Go runtime of the provider binary).
	for _, dir := range []string{ours, baseline} {
		if _, err := tfr.plan(ctx, dir, url); err != nil {
			return nil, err
		}
	}
	for i := range runs {
		before := len(srv.emu.Requests())
		r, err := tfr.plan(ctx, ours, url)
		if err != nil {
			return nil, err
		}
		res.Ours = append(res.Ours, r.Wall)
		res.OursCPU = append(res.OursCPU, r.TotalCPU)
		res.OursProviderCPU = append(res.OursProviderCPU, r.ProviderCPU)
		res.Requests = len(srv.emu.Requests()) - before
		b, err := tfr.plan(ctx, baseline, url)
		if err != nil {
			return nil, err
		}
		res.Baseline = append(res.Baseline, b.Wall)
		res.BaselineCPU = append(res.BaselineCPU, b.TotalCPU)
		n, err := tfr.plan(ctx, ours, fast.server.URL)
		if err != nil {
			return nil, err
		}
		res.NoLatency = append(res.NoLatency, n.Wall)
		logf("  run %d: ours %v (cpu %v, provider %v), no latency %v, baseline %v (cpu %v)", i+1, r.Wall.Round(time.Millisecond),
			r.TotalCPU.Round(time.Millisecond), r.ProviderCPU.Round(time.Millisecond), n.Wall.Round(time.Millisecond),
			b.Wall.Round(time.Millisecond), b.TotalCPU.Round(time.Millisecond))
	}
	d, err := tfr.plan(ctx, defaults, url)
	if err != nil {
		return nil, err
	}
	res.DefaultRateLimit = d.Wall
	logf("  default rate_limit: %v", d.Wall.Round(time.Millisecond))
	return res, nil
}

func strp(s string) *string { return &s }
