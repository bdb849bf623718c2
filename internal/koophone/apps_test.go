package koophone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// emulatorServer serves an emulator in memory (inside a synctest bubble)
// and returns it with a client of it.
func emulatorServer(t *testing.T, opts emulator.Options) (*emulator.Emulator, *Client) {
	t.Helper()
	opts.Token = testToken
	emu := emulator.New(opts)
	srv := emulator.ServeInMemory(emu)
	t.Cleanup(srv.Close) // registered first, so it runs after the client's cleanup
	client, _ := newTestClient(t, emulator.InMemoryURL, func(c *Config) { c.Transport.DialContext = srv.DialContext })
	return emu, client
}

func numberedApps(n int, system func(i int) bool) []emulator.App {
	apps := make([]emulator.App, n)
	for i := range apps {
		apps[i] = emulator.App{AppPkg: fmt.Sprintf("com.example.app%04d", i), AppName: fmt.Sprintf("App %d", i), AppVersion: fmt.Sprint(i), System: system(i)}
	}
	return apps
}

func appQueries(emu *emulator.Emulator) []url.Values {
	var out []url.Values
	for _, r := range emu.Requests() {
		q, _ := url.ParseQuery(r.Query)
		q.Del("x-request-id")
		q.Set("path", r.Path)
		out = append(out, q)
	}
	return out
}

// Every page is read, one request each, in order; app_type goes into the
// query only when it selects.
func TestListInstanceAppsPages(t *testing.T) {
	cases := []struct {
		name      string
		apps      int
		appType   AppType
		want      func(all []emulator.App) []emulator.App
		wantPages int
	}{
		{"one page", 7, AllApps, func(a []emulator.App) []emulator.App { return a }, 1},
		{"exactly one full page", 200, AllApps, func(a []emulator.App) []emulator.App { return a }, 1},
		{"three pages", 401, AllApps, func(a []emulator.App) []emulator.App { return a }, 3},
		{"system apps", 450, SystemApps, func(a []emulator.App) []emulator.App {
			return slices.DeleteFunc(slices.Clone(a), func(x emulator.App) bool { return !x.System })
		}, 1},
		{"third-party apps", 450, ThirdPartyApps, func(a []emulator.App) []emulator.App {
			return slices.DeleteFunc(slices.Clone(a), func(x emulator.App) bool { return x.System })
		}, 2},
		{"none", 0, AllApps, func(a []emulator.App) []emulator.App { return a }, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				all := numberedApps(c.apps, func(i int) bool { return i%3 == 0 })
				emu, client := emulatorServer(t, emulator.Options{Phones: []emulator.Phone{{InstanceID: "phone-1", Apps: all}}})
				list, err := client.ReadInstanceApps(context.Background(), "phone-1", c.appType)
				if err != nil {
					t.Fatal(err)
				}
				want := c.want(all)
				if len(list.Apps) != len(want) || list.Apps == nil {
					t.Fatalf("%d apps (nil: %v), want %d", len(list.Apps), list.Apps == nil, len(want))
				}
				for i, a := range want {
					if got := list.Apps[i]; got != (App{AppPkg: a.AppPkg, AppName: a.AppName, AppVersion: a.AppVersion}) {
						t.Fatalf("app %d = %+v, want %+v", i, got, a)
					}
				}
				if list.Pages != c.wantPages || list.Requests != c.wantPages || list.TotalCount != int64(len(want)) {
					t.Errorf("pages %d, requests %d, total %d; want %d, %d, %d", list.Pages, list.Requests, list.TotalCount, c.wantPages, c.wantPages, len(want))
				}
				qs := appQueries(emu)
				if len(qs) != c.wantPages {
					t.Fatalf("%d requests, want %d (one per page)", len(qs), c.wantPages)
				}
				for i, q := range qs {
					wantType := ""
					if c.appType != AllApps {
						wantType = fmt.Sprint(int(c.appType))
					}
					if q.Get("path") != "/v1/instances/phone-1/app-list" || q.Get("page_no") != fmt.Sprint(i+1) ||
						q.Get("page_size") != "200" || q.Get("app_type") != wantType || q.Has("app_type") != (wantType != "") {
						t.Errorf("request %d: %v", i, q)
					}
				}
				again, err := client.ReadInstanceApps(context.Background(), "phone-1", c.appType)
				if err != nil || len(again.Apps) != len(want) {
					t.Errorf("ReadInstanceApps again: %d apps, %v", len(again.Apps), err)
				}
			})
		})
	}
}

// Nulls are "", total_count may be missing (then pages are read until one
// is not full), an app a shift of pages lists twice is kept once, and a
// server that never ends gets an error after MaxAppPages.
func TestListInstanceAppsTolerantDecoding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			page := r.URL.Query().Get("page_no")
			var items []string
			n, offset := 200, 0
			if page == "2" {
				n, offset = 3, 1000
			}
			for i := range n {
				items = append(items, fmt.Sprintf(`{"app_pkg":"pkg.%d","app_name":null,"app_version":7,"icon_url":null}`, offset+i))
			}
			if page == "2" {
				items = append(items, `{"app_pkg":"pkg.0","app_name":"again","app_version":"1","icon_url":""}`)
			}
			jsonAnswer(200, `{"error_code":"0","error_msg":"ok","data":{"result":[`+strings.Join(items, ",")+`],"total_count":null}}`)(w, r)
		})
		c, _ := ts.client(t)
		list, err := c.ReadInstanceApps(context.Background(), "p", AllApps)
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Apps) != 203 || list.Pages != 2 || list.TotalCount != -1 {
			t.Fatalf("%d apps, %d pages, total %d", len(list.Apps), list.Pages, list.TotalCount)
		}
		if a := list.Apps[0]; a != (App{AppPkg: "pkg.0", AppVersion: "7"}) {
			t.Errorf("app 0 = %+v", a)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		old := maxAppPages
		maxAppPages = 3
		t.Cleanup(func() { maxAppPages = old })
		ts := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
			page := r.URL.Query().Get("page_no")
			items := make([]string, 200)
			for i := range items {
				items[i] = fmt.Sprintf(`{"app_pkg":"pkg.%s.%d"}`, page, i)
			}
			jsonAnswer(200, `{"error_code":"0","error_msg":"ok","data":{"result":[`+strings.Join(items, ",")+`]}}`)(w, r)
		})
		c, _ := ts.client(t)
		list, err := c.ReadInstanceApps(context.Background(), "p", AllApps)
		var respErr *ResponseError
		if !errors.As(err, &respErr) || !strings.Contains(err.Error(), "3 full pages") || list.Pages != 3 || ts.count() != 3 {
			t.Errorf("err %v, pages %d, requests %d", err, list.Pages, ts.count())
		}
	})
}

// Errors: a phone the API refuses (KOOPHONE.API.1001, under HTTP 400) is an
// *APIError with the code, message and request id, not retried; an error
// code inside data is one too; a 5xx is retried, and one that lasts ends
// in a *RetryError; an error on page 2 keeps page 1's apps.
func TestListInstanceAppsErrors(t *testing.T) {
	t.Run("unknown phone", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			emu, client := emulatorServer(t, emulator.Options{Phones: []emulator.Phone{{InstanceID: "phone-1"}}})
			_, err := client.ReadInstanceApps(context.Background(), "ghost", AllApps)
			apiErr, ok := errors.AsType[*APIError](err)
			if !ok || apiErr.Code != CodeNoPermission || apiErr.HTTPStatus != http.StatusBadRequest || !strings.Contains(apiErr.Message, "ghost") ||
				apiErr.RequestID == "" || apiErr.RequestID != emu.Requests()[0].RequestID {
				t.Errorf("err = %#v", err)
			}
			if n := len(emu.Requests()); n != 1 {
				t.Errorf("%d requests, want 1 (not retried)", n)
			}
		})
	})
	t.Run("error inside data", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ts := newTestServer(t, jsonAnswer(200, `{"error_code":"0","error_msg":"ok","data":{"result":[],"error_code":"KOOPHONE.API.1012","error_msg":"not yours"}}`))
			c, _ := ts.client(t)
			_, err := c.ReadInstanceApps(context.Background(), "p", AllApps)
			if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.Code != CodeNotTenants || apiErr.Message != "not yours" || ts.count() != 1 {
				t.Errorf("err = %v, %d requests", err, ts.count())
			}
		})
	})
	t.Run("5xx retried until it passes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			emu, client := emulatorServer(t, emulator.Options{Phones: []emulator.Phone{{InstanceID: "phone-1"}}})
			if err := emu.AddFault(emulator.Fault{Match: "/v1/instances/phone-1/app-list", Count: 2, Kind: emulator.FaultError}); err != nil {
				t.Fatal(err)
			}
			list, err := client.ReadInstanceApps(context.Background(), "phone-1", AllApps)
			if err != nil || len(list.Apps) != 4 || list.Pages != 1 || list.Requests != 3 {
				t.Errorf("err %v, %d apps, %d pages, %d requests", err, len(list.Apps), list.Pages, list.Requests)
			}
		})
	})
	t.Run("5xx past the retries", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			emu, client := emulatorServer(t, emulator.Options{Phones: []emulator.Phone{{InstanceID: "phone-1"}}})
			if err := emu.AddFault(emulator.Fault{Match: "/v1/instances/phone-1/app-list", Count: -1, Kind: emulator.FaultError}); err != nil {
				t.Fatal(err)
			}
			list, err := client.ReadInstanceApps(context.Background(), "phone-1", AllApps)
			retryErr, ok := errors.AsType[*RetryError](err)
			if !ok || retryErr.Attempts != 5 || !strings.Contains(err.Error(), "KOOPHONE.API.9999") {
				t.Errorf("err = %v", err)
			}
			if list.Pages != 0 || list.Requests != 5 || len(emu.Requests()) != 5 {
				t.Errorf("pages %d, requests %d (emulator %d)", list.Pages, list.Requests, len(emu.Requests()))
			}
		})
	})
	t.Run("error on page 2 keeps page 1", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			page1 := make([]string, 200)
			for i := range page1 {
				page1[i] = fmt.Sprintf(`{"app_pkg":"pkg.%d"}`, i)
			}
			ts := newTestServer(t,
				jsonAnswer(200, `{"error_code":"0","error_msg":"ok","data":{"result":[`+strings.Join(page1, ",")+`],"total_count":300}}`),
				jsonAnswer(400, `{"error_code":"KOOPHONE.API.1000","error_msg":"bad page"}`))
			c, _ := ts.client(t)
			list, err := c.ReadInstanceApps(context.Background(), "p", AllApps)
			if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.Code != "KOOPHONE.API.1000" || list.Pages != 1 || len(list.Apps) != 200 || ts.count() != 2 {
				t.Errorf("err %v, pages %d, apps %d, requests %d", err, list.Pages, len(list.Apps), ts.count())
			}
		})
	})
	t.Run("canceled before it starts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			emu, client := emulatorServer(t, emulator.Options{})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := client.ReadInstanceApps(ctx, "p", AllApps)
			if !errors.Is(err, context.Canceled) || len(emu.Requests()) != 0 {
				t.Errorf("err %v, %d requests", err, len(emu.Requests()))
			}
			if _, err := client.ReadInstanceApps(context.Background(), "", AllApps); err == nil {
				t.Error("an empty instance id is accepted")
			}
		})
	})
}
