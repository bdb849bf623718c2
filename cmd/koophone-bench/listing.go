package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

const (
	listingPhones  = 10_000
	listingLatency = 50 * time.Millisecond
	listingRuns    = 7
	// listingTargetAdded is the most the latency may add to the plan: page
	// 1, then the other pages 16 at a time, a round trip each, with room to
	// spare.
	listingTargetAdded = 600 * time.Millisecond
	// listingTargetRatio is the most the plan may take without latency, as
	// a multiple of the floor's.
	listingTargetRatio = 0.75
)

// listingPages is how many pages the fleet is.
func listingPages() int {
	return (listingPhones + koophone.InstancePageSize - 1) / koophone.InstancePageSize
}

// listingPhone is phone i of the fleet: the same formula as the floor
// provider's fleetPhone (the two are separate programs), checked by the
// benchmark before it times anything.
func listingPhone(i int) emulator.Phone {
	p := emulator.Phone{
		InstanceID: fmt.Sprintf("phone-%05d", i+1), InstanceName: fmt.Sprintf("fleet %05d", i+1), Region: "cn-south-1",
		InstanceSKU: "pro | 8 cores | 16GB", RunningStatus: i % 7, FrozenStatus: i % 2, LoginStatus: i / 2 % 2,
		AssignStatus: i / 3 % 2, BillingMode: "PERIOD", ProjectID: "0123456789abcdef0123456789abcdef", ProjectName: "cn-south-1",
		PhoneID: fmt.Sprintf("cph-%05d", i+1), MemberName: "member", AccountName: "account", RegionName: "华南-广州",
		RegionNameEn: "CN South-Guangzhou", BackupStatus: i % 5, BackupTime: "2026-01-01 08:00:00",
		PoolName: "fleet", PoolSceneTag: "CLOUD_PHONE",
	}
	if p.AssignStatus == 1 {
		p.AssignUser = fmt.Sprintf("user-%05d", i+1)
	}
	return p
}

type listingResult struct {
	Runs int
	// Slow is koophone_instances at listingLatency, Fast without latency,
	// Floor the floor's floor_instances; alternated in one run.
	Slow, Fast, Floor planSeries
	// SlowRead and FastRead are the reads of Slow and Fast as the emulator
	// saw them: from the arrival of the first page's request to the answer
	// to the last.
	SlowRead, FastRead []time.Duration
	// Requests is the batch-query requests of each plan of ours; Pages
	// whether each plan asked for every page exactly once.
	Requests []int
	Pages    []bool
}

// listingConfig is a configuration of one data source of the given type
// listing the fleet; with digest, it outputs a hash of what it listed.
func listingConfig(typ string, digest bool) string {
	source := "koophone/koophone"
	if typ == "floor" {
		source = "bench/floor"
	}
	out := fmt.Sprintf(`terraform {
  required_providers {
    %[1]s = {
      source = %[2]q
    }
  }
}

data "%[1]s_instances" "fleet" {
  pool_name = "fleet"
}

output "count" {
  value = data.%[1]s_instances.fleet.total_count
}
`, typ, source)
	if digest {
		out += fmt.Sprintf(`
output "digest" {
  value = sha256(jsonencode(data.%[1]s_instances.fleet.instances))
}

output "running" {
  value = length([for p in data.%[1]s_instances.fleet.instances : p if p.running_state == "running"])
}
`, typ)
	}
	return out
}

var (
	countOutput  = regexp.MustCompile(`count\s+=\s+(\d+)`)
	digestOutput = regexp.MustCompile(`digest\s+=\s+"([0-9a-f]{64})"`)
)

// benchListing times `terraform plan` of one koophone_instances reading
// 10,000 phones from the emulator at listingLatency per request and with
// no latency, against the floor's floor_instances, which sets the same
// phones from memory through typed structs; the three alternate.
func benchListing(ctx context.Context, tfr *tfRunner, work string) (*listingResult, error) {
	// The fleet, and other pools' phones, which the filter leaves out.
	phones := make([]emulator.Phone, 0, listingPhones+50)
	for i := range listingPhones {
		phones = append(phones, listingPhone(i))
	}
	for i := range 50 {
		phones = append(phones, emulator.Phone{InstanceID: fmt.Sprintf("other-%03d", i), PoolName: "other"})
	}
	emu := emulator.New(emulator.Options{Token: benchToken, Phones: phones})
	slowSpan, fastSpan := &readSpan{latency: listingLatency}, &readSpan{}
	slow := serveEmulator(emu, listingLatency, slowSpan.wrap)
	defer slow.close()
	fast := serveEmulator(emu, 0, fastSpan.wrap)
	defer fast.close()

	dirs := map[string]string{}
	for _, w := range []struct {
		name, typ string
		digest    bool
	}{
		{"listing-ours", "koophone", false}, {"listing-floor", "floor", false},
		{"listing-ours-check", "koophone", true}, {"listing-floor-check", "floor", true},
	} {
		dir, err := workspace(work, w.name, map[string]string{"main.tf": listingConfig(w.typ, w.digest)})
		if err != nil {
			return nil, err
		}
		dirs[w.name] = dir
	}

	// Both list the same phones, words included; the plans also warm up
	// the caches and the plugin binaries.
	var digests []string
	for _, name := range []string{"listing-ours-check", "listing-floor-check"} {
		r, err := tfr.plan(ctx, dirs[name], fast.server.URL)
		if err != nil {
			return nil, err
		}
		m := digestOutput.FindStringSubmatch(r.Output)
		if m == nil || !hasCount(r.Output, listingPhones) {
			return nil, fmt.Errorf("%s: the plan does not show %d phones and their digest:\n%s", name, listingPhones, tail(r.Output, 30))
		}
		digests = append(digests, m[1])
	}
	if digests[0] != digests[1] {
		return nil, fmt.Errorf("koophone_instances and floor_instances list different phones (digests %s and %s)", digests[0], digests[1])
	}

	res := &listingResult{Runs: listingRuns}
	kinds := []string{"slow", "fast", "floor"}
	for i := range listingRuns {
		// Rotate which goes first, so that none always runs on a machine
		// another has just warmed or loaded.
		order := append(slices.Clone(kinds[i%3:]), kinds[:i%3]...)
		for _, kind := range order {
			dir, endpoint, series := dirs["listing-ours"], slow.server.URL, &res.Slow
			switch kind {
			case "fast":
				endpoint, series = fast.server.URL, &res.Fast
			case "floor":
				dir, endpoint, series = dirs["listing-floor"], fast.server.URL, &res.Floor
			}
			before := len(emu.Requests())
			slowSpan.reset()
			fastSpan.reset()
			r, err := tfr.plan(ctx, dir, endpoint)
			if err != nil {
				return nil, err
			}
			if !hasCount(r.Output, listingPhones) {
				return nil, fmt.Errorf("%s plan: no count = %d in its output:\n%s", kind, listingPhones, tail(r.Output, 30))
			}
			series.add(r)
			switch kind {
			case "slow":
				res.SlowRead = append(res.SlowRead, slowSpan.span())
			case "fast":
				res.FastRead = append(res.FastRead, fastSpan.span())
			}
			if kind != "floor" {
				n, once := pagesRequested(emu.Requests()[before:])
				res.Requests = append(res.Requests, n)
				res.Pages = append(res.Pages, once)
			}
		}
		logf("  run %d: %v latency %v (read %v, provider cpu %v), no latency %v (read %v, provider cpu %v), floor %v (provider cpu %v)", i+1,
			listingLatency, res.Slow.Wall[i].Round(time.Millisecond), res.SlowRead[i].Round(time.Millisecond), res.Slow.ProviderCPU[i].Round(time.Millisecond),
			res.Fast.Wall[i].Round(time.Millisecond), res.FastRead[i].Round(time.Millisecond), res.Fast.ProviderCPU[i].Round(time.Millisecond),
			res.Floor.Wall[i].Round(time.Millisecond), res.Floor.ProviderCPU[i].Round(time.Millisecond))
	}
	return res, nil
}

// readSpan follows the batch-query requests one server answers: the
// earliest arrival and the latest answer since reset.
type readSpan struct {
	latency     time.Duration // the server's, which the handler runs after
	mu          sync.Mutex
	first, last time.Time
}

// wrap is the handler the server runs once its latency has passed.
func (s *readSpan) wrap(emu *emulator.Emulator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now().Add(-s.latency)
		emu.ServeHTTP(w, r)
		if r.URL.Path != "/v1/instances/batch-query" {
			return
		}
		answered := time.Now()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.first.IsZero() || arrived.Before(s.first) {
			s.first = arrived
		}
		if answered.After(s.last) {
			s.last = answered
		}
	})
}

func (s *readSpan) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.first, s.last = time.Time{}, time.Time{}
}

func (s *readSpan) span() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.Sub(s.first)
}

func hasCount(output string, n int) bool {
	m := countOutput.FindStringSubmatch(output)
	return m != nil && m[1] == strconv.Itoa(n)
}

// pagesRequested counts the batch-query requests of one read, and reports
// whether they asked for each page of the fleet exactly once.
func pagesRequested(reqs []emulator.Request) (int, bool) {
	seen := map[string]int{}
	n := 0
	for _, r := range reqs {
		if r.Path != "/v1/instances/batch-query" {
			continue
		}
		n++
		q, _ := url.ParseQuery(r.Query)
		seen[q.Get("page_no")]++
	}
	for p := 1; p <= listingPages(); p++ {
		if seen[strconv.Itoa(p)] != 1 {
			return n, false
		}
	}
	return n, len(seen) == listingPages()
}

// pairedDiff is the median of the differences a[i] - b[i] of runs made one
// after the other.
func pairedDiff(a, b []time.Duration) time.Duration {
	ds := make([]time.Duration, len(a))
	for i := range a {
		ds[i] = a[i] - b[i]
	}
	return median(ds)
}

func (r *report) listingSection(w writer, l *listingResult) {
	pages := listingPages()
	rounds := 1 + (pages-1+koophone.DefaultMaxConcurrentRequests-1)/koophone.DefaultMaxConcurrentRequests
	w("\n## 8. Fleet listing\n\n")
	w("`terraform plan` of one `data \"koophone_instances\"` (`pool_name = \"fleet\"`, provider at its defaults) reading %d "+
		"phones (%d pages of %d) from the emulator, seeded in this process, at %v of latency per request and with no latency; "+
		"and of `floor_instances`, the data source of `cmd/koophone-bench/floor` with the same schema (status words and filters "+
		"included), which sets the same %d phones from memory, without a request, through a typed model and the framework's "+
		"reflection (`resp.State.Set(ctx, &model)`). A check before the timed runs found both listing the same phones (a hash "+
		"of `instances` in an output). The three plans alternate, %d times each after that warm-up; the table shows medians, "+
		"and the measures are medians of the differences and ratios of plans run one after the other.\n\n",
		listingPhones, pages, koophone.InstancePageSize, listingLatency, listingPhones, l.Runs)
	w("| plan of %d phones | wall | fastest | provider CPU | Terraform CPU |\n|---|---|---|---|---|\n", listingPhones)
	row := func(name string, s planSeries) {
		total, prov := median(s.TotalCPU), median(s.ProviderCPU)
		w("| %s | %s | %s | %s | %s |\n", name, secs(median(s.Wall)), secs(minimum(s.Wall)), secs(prov), secs(total-prov))
	}
	row(fmt.Sprintf("`koophone_instances`, %v latency", listingLatency), l.Slow)
	row("`koophone_instances`, no latency", l.Fast)
	row("`floor_instances` (no request)", l.Floor)

	added := pairedDiff(l.SlowRead, l.FastRead)
	planAdded := pairedDiff(l.Slow.Wall, l.Fast.Wall)
	rt := pairedRatio(l.Fast.Wall, l.Floor.Wall)
	minReq, maxReq := slices.Min(l.Requests), slices.Max(l.Requests)
	allOnce := !slices.Contains(l.Pages, false)
	reqMet := allOnce && minReq == pages && maxReq == pages
	reqCell := fmt.Sprint(minReq)
	if minReq != maxReq {
		reqCell = fmt.Sprintf("%d to %d", minReq, maxReq)
	}
	once := "each page once"
	if !allOnce {
		once = "**not** each page once"
	}
	w("\n| measure | value | target | |\n|---|---|---|---|\n")
	w("| what %v of latency adds to the read: the read as the emulator saw it (first page's request to the last answer), "+
		"at %v minus without latency | %s (%s against %s) | at most %s: page 1, then the other %d pages %d at a time, %d round trips of %v | %s |\n",
		listingLatency, listingLatency, secs(added), secs(median(l.SlowRead)), secs(median(l.FastRead)), secs(listingTargetAdded),
		pages-1, koophone.DefaultMaxConcurrentRequests, rounds, listingLatency, status(added <= listingTargetAdded))
	w("| what it adds to the whole plan, for the record | %s (of the medians: %s) | | |\n",
		secs(planAdded), secs(median(l.Slow.Wall)-median(l.Fast.Wall)))
	w("| batch-query requests per plan, in %d plans | %s (%s) | exactly one per page: %d | %s |\n",
		len(l.Requests), reqCell, once, pages, status(reqMet))
	w("| plan time with no latency, as a ratio to the floor's | %.3fx (of the medians: %.3fx) | at most %.2fx | %s |\n",
		rt, ratio(median(l.Fast.Wall), median(l.Floor.Wall)), listingTargetRatio, status(rt <= listingTargetRatio))
	oneByOne := time.Duration(pages) * listingLatency
	w("\nRead one page after the other, the %d round trips alone would take %s; read concurrently, the latency added %s to "+
		"the read. The plan's wall time moves with the machine's load by more than that: the difference of whole plans is "+
		"given for the record only. Without latency, the provider process used %s of CPU against the floor's %s: it "+
		"fetches and decodes %d pages, and builds the list by hand where the floor has the framework reflect over typed structs.\n",
		pages, secs(oneByOne), secs(added), secs(median(l.Fast.ProviderCPU)), secs(median(l.Floor.ProviderCPU)), pages)
}
