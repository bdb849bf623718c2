package koophone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// emulatorFleet returns an emulator with n phones p0001..., listed in
// that order, in pool "fleet".
func emulatorFleet(t *testing.T, n int) *emulator.Emulator {
	t.Helper()
	emu := emulator.New(emulator.Options{Token: testToken})
	if err := emu.AddPhones(fleetPhones("p", 0, n)...); err != nil {
		t.Fatal(err)
	}
	return emu
}

// fleetPhones returns n phones prefix0001... numbered from first+1.
func fleetPhones(prefix string, first, n int) []emulator.Phone {
	phones := make([]emulator.Phone, n)
	for i := range phones {
		phones[i] = emulator.Phone{
			InstanceID: fmt.Sprintf("%s%04d", prefix, first+i+1), InstanceName: fmt.Sprintf("name %04d", (first+i)*7919%1000),
			RunningStatus: (first + i) % 6, PoolName: "fleet",
		}
	}
	return phones
}

func phoneIDsFrom(phones []emulator.Phone) []string {
	ids := make([]string, len(phones))
	for i, p := range phones {
		ids[i] = p.InstanceID
	}
	return ids
}

// inFlight counts the requests a handler is serving, and the most at once.
type inFlight struct {
	mu       sync.Mutex
	now, max int
}

func (f *inFlight) enter() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now++
	f.max = max(f.max, f.now)
}

func (f *inFlight) leave() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now--
}

// The pages after the first are read concurrently, at most as many at once
// as the client allows, each exactly once; their answers come back in a
// scrambled order, and the phones are still in the emulator's order, with
// or without order and order_by.
func TestListInstancesConcurrentPagesKeepOrder(t *testing.T) {
	const phones = 2950 // 30 pages, the last one not full
	for _, c := range []struct {
		name   string
		filter InstanceFilter
	}{
		{"the API's order", InstanceFilter{}},
		{"order_by instance_name, desc", InstanceFilter{OrderBy: "instance_name", Order: "desc"}},
		{"order_by running_status", InstanceFilter{OrderBy: "running_status", PoolName: "fleet"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				emu := emulatorFleet(t, phones)
				// What the emulator lists in one page of all of them.
				want := emulatorOrder(t, emu, c.filter, phones)
				var flight inFlight
				ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
					flight.enter()
					defer flight.leave()
					// Later pages answer sooner: the answers arrive out of order.
					pageNo, _ := strconv.Atoi(r.URL.Query().Get("page_no"))
					time.Sleep(time.Duration(31-pageNo) * 100 * time.Millisecond)
					emu.ServeHTTP(w, r)
				})
				client, _ := ts.client(t)
				start := time.Now()
				list, err := client.ListInstances(context.Background(), c.filter)
				if err != nil {
					t.Fatal(err)
				}
				if got := idsOf(list); !slices.Equal(got, want) {
					t.Fatalf("%d phones, not in the emulator's order:\n got %v\nwant %v", len(got), head(got), head(want))
				}
				wantPages := make([]string, 30)
				for i := range wantPages {
					wantPages[i] = strconv.Itoa(i + 1)
				}
				if got := pageNos(ts); !slices.Equal(got, wantPages) {
					t.Errorf("pages requested %v, want each of 1 to 30 once, 1 first", got)
				}
				if flight.max != DefaultMaxConcurrentRequests {
					t.Errorf("at most %d requests in flight, want the client's cap, %d", flight.max, DefaultMaxConcurrentRequests)
				}
				// Page 1 (3 s), then pages 2 to 17 at once (2.9 s for page
				// 2, the slowest), and 18 to 30 as slots free up, which
				// are done sooner: page 18+k starts when page 17-k
				// answers, 1.4 s + k x 0.1 s after page 1, and takes
				// 1.3 s - k x 0.1 s.
				if elapsed := time.Since(start); elapsed != 3*time.Second+2900*time.Millisecond {
					t.Errorf("the read took %v, want 5.9s", elapsed)
				}
				if list.Pages != 30 || list.TotalCount != phones || list.FirstTotalCount != phones || list.CountChanged || list.Duplicates != 0 {
					t.Errorf("list %+v", summary(list))
				}
				for i := range ts.count() {
					q := ts.request(i).URL.Query()
					if q.Get("order") != c.filter.Order || q.Get("order_by") != c.filter.OrderBy {
						t.Errorf("request %d: order %q, order_by %q", i, q.Get("order"), q.Get("order_by"))
					}
				}
			})
		})
	}
}

// emulatorOrder reads the first n phones of emu's listing under f.
func emulatorOrder(t *testing.T, emu *emulator.Emulator, f InstanceFilter, n int) []string {
	t.Helper()
	ts := newTestServer(t, emu.ServeHTTP)
	client, _ := ts.client(t)
	var ids []string
	for pageNo := 1; len(ids) < n; pageNo++ {
		page, err := client.readPage(context.Background(), f, pageNo)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Result) == 0 {
			t.Fatalf("page %d empty after %d phones", pageNo, len(ids))
		}
		for _, in := range page.Result {
			ids = append(ids, string(in.InstanceID))
		}
	}
	return ids
}

func head(ids []string) []string { return ids[:min(len(ids), 5)] }

func summary(l InstanceList) string {
	return fmt.Sprintf("phones %d, pages %d, total %d (first %d, changed %v), duplicates %d, failed page %d",
		len(l.Instances), l.Pages, l.TotalCount, l.FirstTotalCount, l.CountChanged, l.Duplicates, l.FailedPage)
}

// A page that fails after its retries fails the read: the page in flight
// is cancelled, and no request starts after the failure, although pages
// were left to read.
func TestListInstancesFailingPageStopsTheRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := emulatorFleet(t, 1000)
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("page_no") == "3" {
				// Fails while page 2 is still being answered.
				time.Sleep(time.Second / 2)
				pageAnswer(w, r, nil, 0, "KOOPHONE.API.1000", "page_no: bad")
				return
			}
			time.Sleep(time.Second)
			emu.ServeHTTP(w, r)
		})
		// Two at a time: pages 4 to 10 wait for a slot.
		client, _ := ts.client(t, func(c *Config) { c.MaxConcurrentRequests = 2 })
		list, err := client.ListInstances(context.Background(), InstanceFilter{})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Code != "KOOPHONE.API.1000" {
			t.Fatalf("err %v, want page 3's KOOPHONE.API.1000", err)
		}
		if got := pageNos(ts); !slices.Equal(got, []string{"1", "2", "3"}) {
			t.Errorf("pages requested %v, want 1, 2 and 3 only", got)
		}
		if list.FailedPage != 3 || list.Pages != 1 || len(list.Instances) != 100 {
			t.Errorf("list %s; want page 3 failed, page 1's 100 phones kept (page 2 was cancelled)", summary(list))
		}
	})
}

// Phones created while the pages are read: a later page's larger
// total_count makes the read go on to the pages it adds; the list has each
// phone once, in order, and says that the count changed.
func TestListInstancesCountChangesDuringTheRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		emu := emulatorFleet(t, 250)
		added := fleetPhones("p", 250, 60)
		var once sync.Once
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("page_no") != "1" {
				// Once page 1 has said 250 phones, 60 more are created.
				once.Do(func() {
					if err := emu.AddPhones(added...); err != nil {
						t.Error(err)
					}
				})
			}
			emu.ServeHTTP(w, r)
		})
		client, _ := ts.client(t)
		list, err := client.ListInstances(context.Background(), InstanceFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := idsOf(list), phoneIDsFrom(emu.Phones()); !slices.Equal(got, want) {
			t.Errorf("%d phones, want the %d of the grown fleet in order", len(got), len(want))
		}
		if got := pageNos(ts); !slices.Equal(got, []string{"1", "2", "3", "4"}) {
			t.Errorf("pages requested %v, want 1 to 4 once each (page 4 for the phones created)", got)
		}
		if !list.CountChanged || list.FirstTotalCount != 250 || list.TotalCount != 310 || list.Duplicates != 0 {
			t.Errorf("list %s; want the count changed from 250 to 310", summary(list))
		}
	})
}

// A server that says total_count grew on a page beyond the pages planned
// is read to the end of that total, and no further than MaxInstancePages.
func TestListInstancesGrowingTotalIsBounded(t *testing.T) {
	maxInstancePages = 6
	t.Cleanup(func() { maxInstancePages = MaxInstancePages })
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			// Every page is full and reports 100 more phones than it lists.
			pageNo, _ := strconv.Atoi(r.URL.Query().Get("page_no"))
			pageAnswer(w, r, phoneIDs(fmt.Sprintf("p%d-", pageNo), 100), (pageNo+1)*100, "", "")
		})
		client, _ := ts.client(t)
		list, err := client.ListInstances(context.Background(), InstanceFilter{})
		var respErr *ResponseError
		if !errors.As(err, &respErr) || respErr.RequestID != "srv-6" {
			t.Fatalf("err %v, want a ResponseError after page 6", err)
		}
		if got := pageNos(ts); !slices.Equal(got, []string{"1", "2", "3", "4", "5", "6"}) {
			t.Errorf("pages requested %v", got)
		}
		if len(list.Instances) != 600 || !list.CountChanged || list.FirstTotalCount != 200 || list.TotalCount != 700 {
			t.Errorf("list %s", summary(list))
		}
	})
}
