package koophone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/ratelimit"
)

// phoneIDs returns n ids: prefix001, prefix002, ...
func phoneIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s%03d", prefix, i+1)
	}
	return ids
}

// pageAnswer writes a batch-query answer: the phones with the given ids,
// total_count total (omitted when negative), and an error inside data when
// code is set.
func pageAnswer(w http.ResponseWriter, r *http.Request, ids []string, total int, code, msg string) {
	items := make([]map[string]any, len(ids))
	for i, id := range ids {
		items[i] = map[string]any{"instance_id": id, "instance_name": "name-" + id, "running_status": 1}
	}
	data := map[string]any{"result": items, "page_no": r.URL.Query().Get("page_no"), "page_size": 100}
	if total >= 0 {
		data["total_count"] = total
	}
	if code != "" {
		data["error_code"], data["error_msg"] = code, msg
	}
	body, _ := json.Marshal(map[string]any{"error_code": "0", "error_msg": "ok", "data": data})
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("X-Request-Id", "srv-"+r.URL.Query().Get("page_no"))
	_, _ = w.Write(body)
}

// pagedFleet serves the ids of fleet() page by page, as the API does, with
// total_count (omitted when withTotal is false). fleet is called for each
// request, so a test can change the fleet between pages.
func pagedFleet(fleet func(pageNo int) []string, withTotal bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pageNo, _ := strconv.Atoi(r.URL.Query().Get("page_no"))
		size, _ := strconv.Atoi(r.URL.Query().Get("page_size"))
		ids := fleet(pageNo)
		from := min((pageNo-1)*size, len(ids))
		to := min(from+size, len(ids))
		total := -1
		if withTotal {
			total = len(ids)
		}
		pageAnswer(w, r, ids[from:to], total, "", "")
	}
}

func idsOf(list InstanceList) []string {
	ids := make([]string, len(list.Instances))
	for i, in := range list.Instances {
		ids[i] = string(in.InstanceID)
	}
	return ids
}

// pageNos returns the pages requested: page 1 first, as it was sent, then
// the others in page order, since they are read concurrently.
func pageNos(ts *testServer) []string {
	var out []string
	for i := range ts.count() {
		out = append(out, ts.request(i).URL.Query().Get("page_no"))
	}
	if len(out) > 1 {
		slices.SortFunc(out[1:], func(a, b string) int {
			x, _ := strconv.Atoi(a)
			y, _ := strconv.Atoi(b)
			return x - y
		})
	}
	return out
}

// Page 1 comes first; then every page up to total_count is read once, and
// the read ends when the last one is not full or the phones read reach
// total_count; without total_count, pages are read one after the other
// until one is not full.
func TestListInstancesReadsEveryPage(t *testing.T) {
	cases := []struct {
		name      string
		phones    int
		withTotal bool
		wantPages []string
	}{
		{"250 phones", 250, true, []string{"1", "2", "3"}},
		{"a multiple of the page size ends at total_count", 200, true, []string{"1", "2"}},
		{"without total_count, until a page is not full", 200, false, []string{"1", "2", "3"}},
		{"one page", 7, true, []string{"1"}},
		{"none", 0, true, []string{"1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fleet := phoneIDs("phone-", c.phones)
				ts := newTestServer(t, pagedFleet(func(int) []string { return fleet }, c.withTotal))
				client, _ := ts.client(t)
				list, err := client.ListInstances(context.Background(), InstanceFilter{PoolName: "game-test"})
				if err != nil {
					t.Fatal(err)
				}
				if got := idsOf(list); !slices.Equal(got, fleet) || list.Instances == nil {
					t.Errorf("ids = %v (nil: %v), want %d phones in order", got, list.Instances == nil, c.phones)
				}
				if got := pageNos(ts); !slices.Equal(got, c.wantPages) {
					t.Errorf("pages requested %v, want %v", got, c.wantPages)
				}
				if list.Pages != len(c.wantPages) || list.Duplicates != 0 {
					t.Errorf("pages %d, duplicates %d", list.Pages, list.Duplicates)
				}
				wantTotal := int64(c.phones)
				if !c.withTotal {
					wantTotal = -1
				}
				if list.TotalCount != wantTotal {
					t.Errorf("total count %d, want %d", list.TotalCount, wantTotal)
				}
				for i := range ts.count() {
					if q := ts.request(i).URL.Query(); q.Get("page_size") != "100" || q.Get("pool_name") != "game-test" {
						t.Errorf("request %d: query %v", i, q)
					}
				}
			})
		})
	}
}

// A fleet that changes while it is read: each phone is listed once, in the
// order it was first seen, the read ends without error, and the change of
// total_count is reported.
func TestListInstancesShiftingPages(t *testing.T) {
	fleet := phoneIDs("p", 250)
	cases := []struct {
		name string
		// before returns the fleet as it is when page pageNo is read.
		before         func(pageNo int) []string
		want           []string
		wantDuplicates int
	}{
		{
			// A phone created at the front pushes p100 onto page 2 again;
			// p000 itself is never seen (it came after page 1).
			name: "phone created",
			before: func(pageNo int) []string {
				if pageNo == 1 {
					return fleet
				}
				return append([]string{"p000"}, fleet...)
			},
			want:           fleet,
			wantDuplicates: 1,
		},
		{
			// Two phones of page 1 deleted: page 2 starts two phones later,
			// and the two phones that moved onto page 1 are missed.
			name: "phones deleted",
			before: func(pageNo int) []string {
				if pageNo == 1 {
					return fleet
				}
				return slices.Concat(fleet[:10], fleet[12:])
			},
			want: slices.Concat(fleet[:100], fleet[102:]),
		},
		{
			// The total shrinks below what was read: the read stops there.
			name: "total shrinks",
			before: func(pageNo int) []string {
				if pageNo == 1 {
					return fleet
				}
				return fleet[:150]
			},
			want: fleet[:150],
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, pagedFleet(c.before, true))
				client, _ := ts.client(t)
				list, err := client.ListInstances(context.Background(), InstanceFilter{})
				if err != nil {
					t.Fatal(err)
				}
				if got := idsOf(list); !slices.Equal(got, c.want) {
					t.Errorf("ids = %v\nwant %v", got, c.want)
				}
				if list.Duplicates != c.wantDuplicates {
					t.Errorf("duplicates %d, want %d", list.Duplicates, c.wantDuplicates)
				}
				if !list.CountChanged || list.FirstTotalCount != 250 || list.TotalCount == 250 {
					t.Errorf("count changed %v, first total %d, last %d: want the change reported", list.CountChanged, list.FirstTotalCount, list.TotalCount)
				}
			})
		})
	}
}

// An error code inside data is an API error with the request id, like a
// top-level one: not retried unless transient, and the pages before it
// are kept.
func TestListInstancesErrorInsideData(t *testing.T) {
	full := phoneIDs("p", 100)
	t.Run("permanent, on page 2", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			page3 := make(chan struct{})
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Query().Get("page_no") {
				case "2":
					// Once page 3 is in flight, so that it is always sent.
					<-page3
					pageAnswer(w, r, nil, 0, "KOOPHONE.API.1012", "The instance does not belong to the tenant.")
					return
				case "3":
					// It answers after page 2 has failed: it is cancelled.
					close(page3)
					time.Sleep(time.Second)
				}
				pageAnswer(w, r, full, 250, "", "")
			})
			client, _ := ts.client(t)
			list, err := client.ListInstances(context.Background(), InstanceFilter{})
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want an *APIError", err, err)
			}
			if apiErr.Code != "KOOPHONE.API.1012" || apiErr.Message != "The instance does not belong to the tenant." ||
				apiErr.RequestID != "srv-2" || apiErr.HTTPStatus != http.StatusOK {
				t.Errorf("API error %+v", apiErr)
			}
			if !strings.Contains(err.Error(), "KOOPHONE.API.1012") || !strings.Contains(err.Error(), "[request id srv-2]") {
				t.Errorf("error text %q", err)
			}
			if ts.count() != 3 || list.Pages != 1 || len(list.Instances) != 100 || list.FailedPage != 2 {
				t.Errorf("%d requests, %d pages, %d phones, failed page %d; want 3, 1, 100, 2", ts.count(), list.Pages, len(list.Instances), list.FailedPage)
			}
		})
	})
	t.Run("transient, retried", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t,
				func(w http.ResponseWriter, r *http.Request) { pageAnswer(w, r, nil, 0, CodeInternalError, "busy") },
				func(w http.ResponseWriter, r *http.Request) { pageAnswer(w, r, full[:3], 3, "0", "ok") })
			client, logs := ts.client(t)
			list, err := client.ListInstances(context.Background(), InstanceFilter{})
			if err != nil || len(list.Instances) != 3 || ts.count() != 2 {
				t.Fatalf("err %v, %d phones, %d requests; want a retry then 3 phones", err, len(list.Instances), ts.count())
			}
			if !strings.Contains(logs.all(), "retrying") {
				t.Errorf("the retry was not logged:\n%s", logs.all())
			}
		})
	})
	t.Run("transient, retries exhausted", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) { pageAnswer(w, r, nil, 0, CodeInternalError, "busy") })
			client, _ := ts.client(t, func(c *Config) { c.MaxRetries = 2 })
			_, err := client.ListInstances(context.Background(), InstanceFilter{})
			var retryErr *RetryError
			if !errors.As(err, &retryErr) || retryErr.Attempts != 3 || ts.count() != 3 {
				t.Fatalf("err %v, %d requests; want a RetryError after 3 attempts", err, ts.count())
			}
		})
	})
}

// The listing's error inside data goes through the one retry loop of
// Client.do, like any other answer: a throttling code there slows the
// shared limiter and is retried when the limiter lets it; KooPhone's
// internal error is retried MaxRetries times with the usual backoff, never
// more (no retry loop nested in another); any other code fails at once.
func TestListInstancesErrorInsideDataGoesThroughTheOneLoop(t *testing.T) {
	const maxRetries = 3
	t.Run("APIGW.0308 slows the limiter and is retried", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			throttled := func(w http.ResponseWriter, r *http.Request) {
				pageAnswer(w, r, nil, 0, CodeGatewayThrottled, "policy user over ratelimit")
			}
			ts := newTestServer(t, throttled, throttled, func(w http.ResponseWriter, r *http.Request) {
				pageAnswer(w, r, phoneIDs("p", 3), 3, "0", "ok")
			})
			lim := &countingLimiter{}
			client, _ := ts.client(t, func(c *Config) { c.MaxRetries = maxRetries; c.Limiter = lim })
			start := time.Now()
			list, err := client.ListInstances(context.Background(), InstanceFilter{})
			if err != nil || len(list.Instances) != 3 {
				t.Fatalf("err %v, %d phones; want the third answer's 3 phones", err, len(list.Instances))
			}
			waits, throttles := lim.counts()
			if ts.count() != 3 || waits != 3 {
				t.Errorf("%d requests, %d waits for the limiter; want 3 of each", ts.count(), waits)
			}
			if len(throttles) != 2 || throttles[0] < throttleMinDelay || throttles[1] < throttleMinDelay {
				t.Errorf("Throttled called with %v, want once per throttling answer (2), each pause at least %v", throttles, throttleMinDelay)
			}
			// The pause is the limiter's to enforce: the client does not
			// sleep on its own as well.
			if slept := time.Since(start); slept != 0 {
				t.Errorf("the client slept %v on its own after a throttling answer", slept)
			}
		})
	})
	t.Run("APIGW.0308 holds back the shared limiter", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			var (
				mu    sync.Mutex
				times []time.Duration
			)
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				first := len(times) == 0
				times = append(times, time.Since(start))
				mu.Unlock()
				if first {
					pageAnswer(w, r, nil, 0, CodeGatewayThrottled, "throttled")
					return
				}
				pageAnswer(w, r, nil, 0, "", "")
			})
			lim, err := ratelimit.New(0)
			if err != nil {
				t.Fatal(err)
			}
			client, _ := ts.client(t, func(c *Config) { c.Limiter = lim })
			if _, err := client.ListInstances(context.Background(), InstanceFilter{}); err != nil {
				t.Fatal(err)
			}
			// The retry waited out the limiter's pause: the 2 s minimum for
			// a throttling answer without Retry-After.
			if fmt.Sprint(times) != "[0s 2s]" {
				t.Errorf("requests at %v, want [0s 2s]", times)
			}
			if s := lim.Stats(); s.Throttles != 1 {
				t.Errorf("limiter stats %+v, want one throttle", s)
			}
		})
	})
	t.Run("KOOPHONE.API.9999 is retried MaxRetries times", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				pageAnswer(w, r, nil, 0, CodeInternalError, "internal error")
			})
			lim := &countingLimiter{}
			client, _ := ts.client(t, func(c *Config) { c.MaxRetries = maxRetries; c.Limiter = lim })
			start := time.Now()
			list, err := client.ListInstances(context.Background(), InstanceFilter{})
			var retryErr *RetryError
			if !errors.As(err, &retryErr) || retryErr.Attempts != maxRetries+1 {
				t.Fatalf("err %v, want a RetryError of %d attempts", err, maxRetries+1)
			}
			var apiErr *APIError
			if !errors.As(retryErr.Last, &apiErr) || apiErr.Code != CodeInternalError || apiErr.RequestID != "srv-1" ||
				apiErr.Message != "internal error" {
				t.Errorf("last error %#v, want the in-data %s with request id srv-1", retryErr.Last, CodeInternalError)
			}
			if ts.count() != 1+maxRetries {
				t.Errorf("%d requests, want exactly 1 + MaxRetries = %d", ts.count(), 1+maxRetries)
			}
			if _, throttles := lim.counts(); len(throttles) != 0 {
				t.Errorf("an internal error was reported as throttling: %v", throttles)
			}
			// The usual backoff, 3/4 of 0.5 s, 1 s and 2 s with the pinned jitter.
			if slept := time.Since(start); slept != 375*time.Millisecond+750*time.Millisecond+1500*time.Millisecond {
				t.Errorf("backoff took %v, want 2.625s", slept)
			}
			if list.Pages != 0 || len(list.Instances) != 0 {
				t.Errorf("list %+v, want nothing", list)
			}
		})
	})
	t.Run("a non-transient code fails at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				pageAnswer(w, r, nil, 0, "KOOPHONE.API.1004", "Service not subscribed.")
			})
			client, _ := ts.client(t, func(c *Config) { c.MaxRetries = maxRetries })
			_, err := client.ListInstances(context.Background(), InstanceFilter{})
			var apiErr *APIError
			var retryErr *RetryError
			if !errors.As(err, &apiErr) || apiErr.Code != "KOOPHONE.API.1004" || apiErr.RequestID != "srv-1" || errors.As(err, &retryErr) {
				t.Fatalf("err %v, want the in-data KOOPHONE.API.1004 with request id srv-1, not retried", err)
			}
			if ts.count() != 1 {
				t.Errorf("%d requests, want 1", ts.count())
			}
		})
	})
}

// A top-level error ends the listing with the API's code and request id.
func TestListInstancesTopLevelError(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		code   string
	}{
		{http.StatusOK, `{"error_code":"KOOPHONE.API.1004","error_msg":"Service not subscribed."}`, "KOOPHONE.API.1004"},
		{http.StatusBadRequest, `{"error_code":"KOOPHONE.API.1000","error_msg":"page_size: must be 1 to 100"}`, "KOOPHONE.API.1000"},
		{http.StatusUnauthorized, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}`, "APIGW.0301"},
	} {
		t.Run(c.code, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ts := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("X-Request-Id", "gw-1")
					jsonAnswer(c.status, c.body)(w, nil)
				})
				client, _ := ts.client(t)
				list, err := client.ListInstances(context.Background(), InstanceFilter{})
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.Code != c.code || apiErr.RequestID != "gw-1" || apiErr.HTTPStatus != c.status {
					t.Fatalf("err %v, want %s with request id gw-1", err, c.code)
				}
				if ts.count() != 1 || list.Pages != 0 || list.Instances == nil || len(list.Instances) != 0 {
					t.Errorf("%d requests, list %+v", ts.count(), list)
				}
			})
		})
	}
}

// An empty result is an empty list, whether result is [] or null.
func TestListInstancesEmpty(t *testing.T) {
	for _, body := range []string{
		`{"error_code":"0","error_msg":"ok","data":{"result":[],"page_no":1,"page_size":100,"total_count":0,"error_code":"0","error_msg":"ok"}}`,
		`{"error_code":"0","error_msg":"ok","data":{"result":null,"total_count":null,"error_code":null,"error_msg":null}}`,
		`{"error_code":"0","error_msg":"ok","data":{"error_code":""}}`,
	} {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, jsonAnswer(http.StatusOK, body))
			client, _ := ts.client(t)
			list, err := client.ListInstances(context.Background(), InstanceFilter{InstanceID: "nope"})
			if err != nil || list.Instances == nil || len(list.Instances) != 0 || ts.count() != 1 {
				t.Errorf("%s: err %v, list %+v, %d requests", body, err, list, ts.count())
			}
		})
	}
}

// The filters and the paging parameters are sent as query parameters,
// escaped so that the server reads back exactly the values given (a space
// as %20, never +), empty filters are left out, and x-request-id is both
// a header and a query parameter.
func TestListInstancesQueryParameters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var raw []string
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			raw = append(raw, r.URL.RawQuery)
			mu.Unlock()
			pageAnswer(w, r, nil, 0, "", "")
		})
		client, _ := ts.client(t)
		filter := InstanceFilter{InstanceName: "game phone #1 & co/100%+é", PoolName: "pool=a?b", PoolSceneTag: "CLOUD_PHONE"}
		if _, err := client.ListInstances(context.Background(), filter); err != nil {
			t.Fatal(err)
		}
		r := ts.request(0)
		q := r.URL.Query()
		want := map[string]string{
			"page_no": "1", "page_size": "100", "instance_name": filter.InstanceName, "pool_name": filter.PoolName, "pool_scene_tag": "CLOUD_PHONE",
		}
		for k, v := range want {
			if q.Get(k) != v {
				t.Errorf("%s = %q, want %q", k, q.Get(k), v)
			}
		}
		if q.Has("instance_id") {
			t.Errorf("an empty filter was sent: %q", raw[0])
		}
		uuidRe := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
		if !uuidRe.MatchString(q.Get("x-request-id")) || q.Get("x-request-id") != r.Header.Get("X-Request-Id") {
			t.Errorf("x-request-id query %q, header %q: want one UUID in both", q.Get("x-request-id"), r.Header.Get("X-Request-Id"))
		}
		if strings.Contains(raw[0], "+") || !strings.Contains(raw[0], "game%20phone%20%231%20%26%20co%2F100%25%2B%C3%A9") {
			t.Errorf("raw query %q: want strict percent-encoding", raw[0])
		}
		if r.URL.Path != "/v1/instances/batch-query" || r.Method != http.MethodGet {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
	})
}

// A server that keeps answering full pages is not read forever.
func TestListInstancesStopsAtThePageCap(t *testing.T) {
	maxInstancePages = 12 // MaxInstancePages requests take seconds under -race
	t.Cleanup(func() { maxInstancePages = MaxInstancePages })
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			pageAnswer(w, r, phoneIDs("p"+r.URL.Query().Get("page_no")+"-", 100), -1, "", "")
		})
		client, _ := ts.client(t)
		list, err := client.ListInstances(context.Background(), InstanceFilter{})
		var respErr *ResponseError
		if !errors.As(err, &respErr) || !strings.Contains(err.Error(), "12 full pages of 100 phones (1200 phones)") || respErr.RequestID != "srv-12" {
			t.Fatalf("err %v, want a ResponseError after 12 pages", err)
		}
		if ts.count() != 12 || list.Pages != 12 || len(list.Instances) != 1200 {
			t.Errorf("%d requests, %d pages", ts.count(), list.Pages)
		}
	})
}

// Nulls, quoted numbers and items without an id are tolerated; a data
// member that is missing or not a page is an unexpected response.
func TestListInstancesDecoding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		body := `{"error_code":"0","error_msg":"ok","data":{"total_count":"3","result":[` +
			`{"instance_id":"a","instance_name":null,"region":"cn-north-4","instance_sku":"pro | 8 cores | 16GB","frozen_status":"0",` +
			`"running_status":" 2 ","login_status":null,"assign_status":1,"assign_user":"u1","billing_mode":"prePaid","project_id":"pid",` +
			`"project_name":"cn-north-4","phone_id":"ph-1","member_name":"m","account_name":"acc","region_name":"华北-北京四",` +
			`"region_name_en":"CN North-Beijing4","backup_status":2,"backup_time":"2026-01-02 03:04:05","restore_status":-1,"restore_time":null},` +
			`{"instance_name":"no id"},{"instance_id":"b"}]}}`
		ts := newTestServer(t, jsonAnswer(http.StatusOK, body))
		client, _ := ts.client(t)
		list, err := client.ListInstances(context.Background(), InstanceFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := Instance{
			InstanceID: "a", Region: "cn-north-4", InstanceSKU: "pro | 8 cores | 16GB", RunningStatus: 2, AssignStatus: 1,
			AssignUser: "u1", BillingMode: "prePaid", ProjectID: "pid", ProjectName: "cn-north-4", PhoneID: "ph-1", MemberName: "m",
			AccountName: "acc", RegionName: "华北-北京四", RegionNameEn: "CN North-Beijing4", BackupStatus: 2,
			BackupTime: "2026-01-02 03:04:05", RestoreStatus: -1,
		}
		if len(list.Instances) != 2 || list.Instances[0] != want || list.Instances[1].InstanceID != "b" {
			t.Errorf("instances %+v", list.Instances)
		}
		if list.Unidentified != 1 || list.TotalCount != 3 {
			t.Errorf("unidentified %d, total %d", list.Unidentified, list.TotalCount)
		}
	})

	for _, bad := range []string{
		`{"error_code":"0","error_msg":"ok"}`,
		`{"error_code":"0","error_msg":"ok","data":null}`,
		`{"error_code":"0","error_msg":"ok","data":{"result":{"instance_id":"a"}}}`,
		`{"error_code":"0","error_msg":"ok","data":{"result":[{"running_status":"running"}]}}`,
	} {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, jsonAnswer(http.StatusOK, bad))
			client, _ := ts.client(t)
			_, err := client.ListInstances(context.Background(), InstanceFilter{})
			var respErr *ResponseError
			if !errors.As(err, &respErr) || respErr.RequestID == "" || IsTransient(err) {
				t.Errorf("%s: err %v, want a permanent ResponseError with a request id", bad, err)
			}
			if ts.count() != 1 {
				t.Errorf("%s: %d requests, want 1", bad, ts.count())
			}
		})
	}
}

// Cancelling the read stops it between pages.
func TestListInstancesCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			cancel()
			pageAnswer(w, r, phoneIDs("p", 100), 1000, "", "")
		})
		client, _ := ts.client(t)
		_, err := client.ListInstances(ctx, InstanceFilter{})
		if !errors.Is(err, context.Canceled) || ts.count() > 1 {
			t.Fatalf("err %v after %d requests, want context.Canceled after at most 1", err, ts.count())
		}
		var stopped *StoppedError
		if !errors.As(err, &stopped) || stopped.Cause != context.Canceled {
			t.Errorf("err %#v, want a StoppedError caused by the cancellation", err)
		}
	})
}

// FuzzDecodeInstancePage feeds arbitrary data members to the page
// decoding: it must never panic; a page it accepts carries no error code
// and its phones (ids included) survive a round trip through JSON; a page
// with an error code is an *APIError with that code.
func FuzzDecodeInstancePage(f *testing.F) {
	for _, seed := range []string{
		`{"result":[{"instance_id":"a","running_status":"2"},{"instance_id":null}],"total_count":2,"error_code":"0"}`,
		`{"result":null,"total_count":null}`,
		`{"result":[{"instance_id":1,"backup_status":null}],"total_count":"1"}`,
		`{"error_code":"KOOPHONE.API.1012","error_msg":"no"}`,
		`{"error_code":5005,"result":[{"instance_id":"a"}]}`,
		`null`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		page, err := decodePage[Instance](data, "phones")
		if err != nil {
			var apiErr *APIError
			if errors.As(err, &apiErr) && (apiErr.Code == "" || apiErr.Code == CodeOK) {
				t.Fatalf("API error without an error code: %+v", apiErr)
			}
			return
		}
		if code := string(page.ErrorCode); code != "" && code != CodeOK {
			t.Fatalf("page with error code %q accepted", code)
		}
		for i, in := range page.Result {
			raw, err := json.Marshal(in)
			if err != nil {
				t.Fatalf("item %d: %v", i, err)
			}
			var back Instance
			if err := json.Unmarshal(raw, &back); err != nil || back != in {
				t.Fatalf("item %d: %+v became %+v (%v) through %s", i, in, back, err, raw)
			}
		}
	})
}
