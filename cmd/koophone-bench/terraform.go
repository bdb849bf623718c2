package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// benchToken is the emulator's token.
const benchToken = "bench-token-0123456789"

// tfRunner runs the Terraform CLI with the provider built from the
// repository, and the floor provider of the plan-overhead benchmark,
// through a dev_overrides CLI configuration: no download, no terraform
// init.
type tfRunner struct {
	terraform string
	// providerBins are the plugin binaries: the provider's, the floor's.
	providerBins []string
	env          []string
}

func newTFRunner(ctx context.Context, terraform, repo, work string) (*tfRunner, error) {
	r := &tfRunner{terraform: terraform}
	var overrides strings.Builder
	for _, p := range []struct{ source, name, pkg string }{
		{"koophone/koophone", "koophone", "."},
		{"bench/floor", "floor", "./cmd/koophone-bench/floor"},
	} {
		dir := filepath.Join(work, "plugins", p.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		bin := filepath.Join(dir, "terraform-provider-"+p.name)
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, p.pkg)
		build.Dir = repo
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("go build %s: %w", p.pkg, err)
		}
		r.providerBins = append(r.providerBins, bin)
		fmt.Fprintf(&overrides, "    %q = %q\n", p.source, dir)
	}
	cliConfig := filepath.Join(work, "terraformrc")
	rc := fmt.Sprintf("provider_installation {\n  dev_overrides {\n%s  }\n  direct {}\n}\n", overrides.String())
	if err := os.WriteFile(cliConfig, []byte(rc), 0o644); err != nil {
		return nil, err
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TF_") || strings.HasPrefix(kv, "KOOPHONE_") {
			continue
		}
		r.env = append(r.env, kv)
	}
	r.env = append(r.env, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_CLI_CONFIG_FILE="+cliConfig, "KOOPHONE_TOKEN="+benchToken)
	return r, nil
}

// runResult is one timed Terraform command.
type runResult struct {
	Wall time.Duration
	// ProviderPeakRSS is the largest peak resident set (VmHWM) of any
	// provider process the command started; TerraformPeakRSS the
	// command's own.
	ProviderPeakRSS  uint64
	TerraformPeakRSS uint64
	// TotalCPU is the CPU time (user + system) of Terraform and every
	// process it started and waited for; ProviderCPU that of the provider
	// processes alone (sampled from /proc, so it may miss their last 20 ms).
	TotalCPU    time.Duration
	ProviderCPU time.Duration
	Output      string
}

// plan runs `terraform plan` in dir against endpoint and times it, sampling
// the memory of the processes it starts.
func (r *tfRunner) plan(ctx context.Context, dir, endpoint string) (runResult, error) {
	return r.timed(ctx, dir, endpoint, "plan", "-input=false", "-lock=false", "-no-color")
}

// apply runs `terraform apply` in dir against endpoint, with the state in
// dir, and times it as plan does.
func (r *tfRunner) apply(ctx context.Context, dir, endpoint string) (runResult, error) {
	return r.timed(ctx, dir, endpoint, "apply", "-auto-approve", "-input=false", "-lock=false", "-no-color")
}

// timed runs one Terraform command in dir against endpoint and times it,
// sampling the memory and CPU of the processes it starts.
func (r *tfRunner) timed(ctx context.Context, dir, endpoint string, args ...string) (runResult, error) {
	cmd := exec.CommandContext(ctx, r.terraform, args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string(nil), r.env...), "KOOPHONE_ENDPOINT="+endpoint)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	sampler := newRSSSampler(r.providerBins)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return runResult{}, err
	}
	sampler.start(cmd.Process.Pid)
	err := cmd.Wait()
	wall := time.Since(start)
	provider, terraform, providerCPU := sampler.stop()
	res := runResult{Wall: wall, ProviderPeakRSS: provider, TerraformPeakRSS: terraform, ProviderCPU: providerCPU, Output: out.String()}
	if ps := cmd.ProcessState; ps != nil {
		res.TotalCPU = ps.UserTime() + ps.SystemTime()
	}
	if err != nil {
		return res, fmt.Errorf("terraform %s in %s: %w\n%s", args[0], dir, err, tail(out.String(), 40))
	}
	return res, nil
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// rssSampler follows the peak resident set size of the provider processes
// and of the Terraform process, by reading VmHWM from /proc every 20 ms
// (VmHWM is a high-water mark, so sampling only has to catch each process
// before it exits).
type rssSampler struct {
	providerBins []string
	done         chan struct{}
	wg           sync.WaitGroup
	mu           sync.Mutex
	provider     uint64
	terraform    uint64
	cpuTicks     map[int]uint64 // latest utime+stime of each provider process
}

func newRSSSampler(providerBins []string) *rssSampler {
	return &rssSampler{providerBins: providerBins, done: make(chan struct{}), cpuTicks: map[int]uint64{}}
}

func (s *rssSampler) start(terraformPID int) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			s.sample(terraformPID)
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
		}
	}()
}

func (s *rssSampler) sample(terraformPID int) {
	tf := vmHWM(terraformPID)
	var prov uint64
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || !slices.Contains(s.providerBins, exe) {
			continue
		}
		prov = max(prov, vmHWM(pid))
		if ticks, ok := cpuTicks(pid); ok {
			s.mu.Lock()
			s.cpuTicks[pid] = max(s.cpuTicks[pid], ticks)
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	s.provider = max(s.provider, prov)
	s.terraform = max(s.terraform, tf)
	s.mu.Unlock()
}

func (s *rssSampler) stop() (provider, terraform uint64, providerCPU time.Duration) {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	var ticks uint64
	for _, t := range s.cpuTicks {
		ticks += t
	}
	// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ).
	return s.provider, s.terraform, time.Duration(ticks) * 10 * time.Millisecond
}

// cpuTicks returns a process's user + system CPU time in clock ticks, from
// /proc/<pid>/stat (fields 14 and 15, after the parenthesised name).
func cpuTicks(pid int) (uint64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return u + st, true
}

// vmHWM returns a process's peak resident set size in bytes, or 0.
func vmHWM(pid int) uint64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "VmHWM:") {
			fields := strings.Fields(line)
			if len(fields) >= 2 {
				kb, _ := strconv.ParseUint(fields[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// emulatorServer serves an emulator (possibly wrapped) on loopback and
// counts connections.
type emulatorServer struct {
	emu    *emulator.Emulator
	server *httptest.Server
}

func newEmulatorServer(latency time.Duration, wrap func(*emulator.Emulator) http.Handler) *emulatorServer {
	return serveEmulator(emulator.New(emulator.Options{Token: benchToken}), latency, wrap)
}

// serveEmulator serves emu as newEmulatorServer does, for an emulator with
// options of its own.
func serveEmulator(emu *emulator.Emulator, latency time.Duration, wrap func(*emulator.Emulator) http.Handler) *emulatorServer {
	var h http.Handler = emu
	if wrap != nil {
		h = wrap(emu)
	}
	srv := httptest.NewUnstartedServer(emulator.WithLatency(h, latency))
	srv.Config.ConnState = emu.ConnState
	srv.Start()
	return &emulatorServer{emu: emu, server: srv}
}

func (s *emulatorServer) close() { s.server.Close() }

// workspace writes a Terraform configuration into a new directory under
// work.
func workspace(work, name string, files map[string]string) (string, error) {
	dir := filepath.Join(work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for file, content := range files {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func jsonIDs(ids []string) string {
	b, err := json.Marshal(ids)
	if err != nil {
		panic(err)
	}
	return string(b)
}

const requiredProviders = `terraform {
  required_providers {
    koophone = {
      source = "koophone/koophone"
    }
  }
}
`
