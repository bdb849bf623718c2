package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// goBenchResult is the median of several runs of one Go benchmark.
type goBenchResult struct {
	Name        string
	NsPerOp     float64
	MBPerSec    float64
	BytesPerOp  float64
	AllocsPerOp float64
	Runs        int
}

const goBenchCount = 5

// The Go benchmarks the report shows: a -bench pattern and a package.
const (
	decodeBenchPattern = "^(BenchmarkDecodeTask|BenchmarkGetTask)$"
	decodeBenchPackage = "./internal/koophone/"
	listsBenchPattern  = "^(BenchmarkInstancesList|BenchmarkTasksList)$"
	listsBenchPackage  = "./internal/provider/"
)

// benchGo runs the Go benchmarks that match pattern in pkg, goBenchCount
// times, and returns the median of each.
func benchGo(ctx context.Context, repo, pattern, pkg string) ([]goBenchResult, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", pattern,
		"-benchmem", "-count", strconv.Itoa(goBenchCount), pkg)
	cmd.Dir = repo
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, out.String())
	}
	samples := map[string][]goBenchResult{}
	var order []string
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i]
		}
		r := goBenchResult{Name: name}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				r.NsPerOp = v
			case "MB/s":
				r.MBPerSec = v
			case "B/op":
				r.BytesPerOp = v
			case "allocs/op":
				r.AllocsPerOp = v
			}
		}
		if _, ok := samples[name]; !ok {
			order = append(order, name)
		}
		samples[name] = append(samples[name], r)
	}
	var res []goBenchResult
	for _, name := range order {
		s := samples[name]
		med := func(get func(goBenchResult) float64) float64 {
			v := make([]float64, len(s))
			for i, r := range s {
				v[i] = get(r)
			}
			sort.Float64s(v)
			return v[len(v)/2]
		}
		res = append(res, goBenchResult{
			Name:        name,
			NsPerOp:     med(func(r goBenchResult) float64 { return r.NsPerOp }),
			MBPerSec:    med(func(r goBenchResult) float64 { return r.MBPerSec }),
			BytesPerOp:  med(func(r goBenchResult) float64 { return r.BytesPerOp }),
			AllocsPerOp: med(func(r goBenchResult) float64 { return r.AllocsPerOp }),
			Runs:        len(s),
		})
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("no benchmark result in:\n%s", out.String())
	}
	return res, nil
}
