package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func appListPath(id string) string { return "/v1/instances/" + id + "/app-list" }

// apps reads one page of a phone's apps and returns it with the items as
// "app_pkg@app_version".
func (v *env) apps(id string, params ...string) (listPage, []string) {
	v.t.Helper()
	p := v.page(appListPath(id), params...)
	items := make([]string, len(p.Data.Result))
	for i, a := range p.Data.Result {
		items[i] = str(v.t, a["app_pkg"]) + "@" + str(v.t, a["app_version"])
	}
	return p, items
}

func manyApps(prefix string, n int, system bool) []App {
	apps := make([]App, n)
	for i := range apps {
		apps[i] = App{AppPkg: fmt.Sprintf("%s.app%03d", prefix, i), AppName: fmt.Sprintf("App %d", i), AppVersion: "1.0", System: system}
	}
	return apps
}

// pkgsAt lists apps as "app_pkg@1.0", the version manyApps gives them.
func pkgsAt(apps []App) []string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = a.AppPkg + "@1.0"
	}
	return out
}

var defaultAppItems = []string{
	"com.android.settings@14", "com.android.launcher3@14", "com.android.webview@120.0.6099.230", "com.android.phone@14",
}

// Seeded apps are listed in order, page by page, filtered by app_type; a
// phone without apps has DefaultApps, as has a phone known only by
// Options.Instances.
func TestAppListPagesAndTypes(t *testing.T) {
	system := manyApps("com.vendor", 150, true)
	third := manyApps("com.example", 300, false)
	mixed := slices.Concat(system[:1], third[:2], system[1:2])
	v := newEnv(t, Options{
		Instances: []string{"only-id"},
		Phones: []Phone{
			{InstanceID: "big", Apps: slices.Concat(system, third)},
			{InstanceID: "mixed", Apps: mixed},
			{InstanceID: "bare"},
			{InstanceID: "empty", Apps: []App{}},
		},
	})
	all := slices.Concat(pkgsAt(system), pkgsAt(third))
	cases := []struct {
		phone     string
		params    []string
		want      []string
		wantTotal int
	}{
		{"big", []string{"page_no", "1", "page_size", "200"}, all[:200], 450},
		{"big", []string{"page_no", "3", "page_size", "200"}, all[400:], 450},
		{"big", []string{"page_no", "4", "page_size", "200"}, []string{}, 450},
		{"big", []string{"page_no", "2", "page_size", "200", "app_type", "2"}, pkgsAt(third[200:]), 300},
		{"big", []string{"page_no", "1", "page_size", "200", "app_type", "1"}, pkgsAt(system), 150},
		{"mixed", []string{"page_no", "1", "page_size", "10", "app_type", "1"}, []string{"com.vendor.app000@1.0", "com.vendor.app001@1.0"}, 2},
		{"mixed", []string{"page_no", "1", "page_size", "10", "app_type", "2"}, []string{"com.example.app000@1.0", "com.example.app001@1.0"}, 2},
		{"mixed", []string{"page_no", "2", "page_size", "3"}, []string{"com.vendor.app001@1.0"}, 4},
		{"bare", []string{"page_no", "1", "page_size", "200"}, defaultAppItems, 4},
		{"bare", []string{"page_no", "1", "page_size", "200", "app_type", "2"}, []string{}, 0},
		{"only-id", []string{"page_no", "1", "page_size", "200", "app_type", "1"}, defaultAppItems, 4},
		{"empty", []string{"page_no", "1", "page_size", "200"}, []string{}, 0},
	}
	for _, c := range cases {
		t.Run(c.phone+" "+strings.Join(c.params, " "), func(t *testing.T) {
			p, got := v.apps(c.phone, c.params...)
			if !slices.Equal(got, c.want) || p.Data.TotalCount != c.wantTotal {
				t.Errorf("apps %v total %d, want %v total %d", got, p.Data.TotalCount, c.want, c.wantTotal)
			}
		})
	}

	// One app, every documented field, and nothing else.
	v2 := newEnv(t, Options{Phones: []Phone{{InstanceID: "p", Apps: []App{
		{AppPkg: "com.example.game", AppName: "Game", AppVersion: "1.2.3", IconURL: "https://icons.example/game.png"},
	}}}})
	r := v2.do(http.MethodGet, appListPath("p")+"?page_no=1&page_size=20", nil)
	want := `{"error_code":"0","error_msg":"ok","data":{"result":[{"app_name":"Game","app_version":"1.2.3",` +
		`"app_pkg":"com.example.game","icon_url":"https://icons.example/game.png"}],"page_no":1,"page_size":20,"total_count":1}}`
	if string(r.body) != want {
		t.Errorf("answer\n%s\nwant\n%s", r.body, want)
	}
}

// Bad parameters are KOOPHONE.API.1000 (HTTP 400) naming the parameter; a
// phone that does not exist is KOOPHONE.API.1001 (HTTP 400); any id exists
// when the tenant has no phones.
func TestAppListErrors(t *testing.T) {
	v := newEnv(t, Options{Phones: pool(2)})
	for q, want := range map[string]string{
		"page_size=200":                      "page_no: required",
		"page_no=0&page_size=200":            "page_no: must be an integer from 1",
		"page_no=1":                          "page_size: required",
		"page_no=1&page_size=201":            `page_size: must be an integer from 1 to 200, got "201"`,
		"page_no=1&page_size=0":              `page_size: must be an integer from 1 to 200, got "0"`,
		"page_no=1&page_size=10&app_type=0":  `app_type: must be 1 (system apps) or 2 (third-party apps), or left out for all, got "0"`,
		"page_no=1&page_size=10&app_type=":   `app_type: must be 1`,
		"page_no=1&page_size=10&app_type=3":  `got "3"`,
		"page_no=1&page_size=10&app_type=ab": `got "ab"`,
	} {
		m := wantErr(t, v.do(http.MethodGet, appListPath("gt-001")+"?"+q, nil), http.StatusBadRequest, "KOOPHONE.API.1000")
		if msg := str(t, m["error_msg"]); !strings.Contains(msg, want) {
			t.Errorf("%s: error_msg %q, want %q", q, msg, want)
		}
	}
	m := wantErr(t, v.do(http.MethodGet, appListPath("ghost")+"?page_no=1&page_size=10", nil), http.StatusBadRequest, "KOOPHONE.API.1001")
	if msg := str(t, m["error_msg"]); !strings.Contains(msg, "ghost") {
		t.Errorf("error_msg %q does not name the phone", msg)
	}
	for _, p := range []string{"/v1/instances//app-list", "/v1/instances/a/b/app-list"} {
		wantErr(t, v.do(http.MethodGet, p+"?page_no=1&page_size=10", nil), http.StatusNotFound, "APIGW.0101")
	}
	wantErr(t, v.do(http.MethodPost, appListPath("gt-001")+"?page_no=1&page_size=10", nil), http.StatusNotFound, "APIGW.0101")
	wantErr(t, v.do(http.MethodGet, appListPath("gt-001")+"?page_no=1&page_size=10", nil, noToken()), http.StatusUnauthorized, "APIGW.0301")
	wantErr(t, v.do(http.MethodGet, appListPath("gt-001")+"?page_no=1&page_size=10", nil, noRequestID()), http.StatusOK, "KOOPHONE.API.0002")

	anyPhone := newEnv(t, Options{})
	if _, got := anyPhone.apps("whatever", "page_no", "1", "page_size", "10"); !slices.Equal(got, defaultAppItems) {
		t.Errorf("without phones: %v", got)
	}
}

// A fault matched by one phone's app-list path hits that phone only, and
// the request log records every app-list request, faulted or not.
func TestAppListFaultOnOnePhone(t *testing.T) {
	v := newEnv(t, Options{Phones: pool(3)})
	v.addFault(Fault{Match: appListPath("gt-002"), Count: -1, Kind: FaultError, Status: http.StatusInternalServerError})
	v.apps("gt-001", "page_no", "1", "page_size", "10")
	wantErr(t, v.do(http.MethodGet, appListPath("gt-002")+"?page_no=1&page_size=10", nil), http.StatusInternalServerError, "KOOPHONE.API.9999")
	v.apps("gt-003", "page_no", "1", "page_size", "10")
	var got []string
	for _, r := range v.emu.Requests() {
		got = append(got, fmt.Sprintf("%s %d %s", r.Path, r.Status, r.Fault))
	}
	want := []string{
		appListPath("gt-001") + " 200 ",
		appListPath("gt-002") + " 500 error",
		appListPath("gt-003") + " 200 ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("requests\n%v\nwant\n%v", got, want)
	}
}

// Installs that succeeded by the time of the request are on the phone, in
// the order they finished: a new package at the end, a package the phone
// has at its new version; failed and unfinished installs change nothing.
func TestAppListReflectsInstalls(t *testing.T) {
	synctest.Test(t, testAppListReflectsInstalls)
}

func testAppListReflectsInstalls(t *testing.T) {
	v := bubbleEnv(t, Options{JobDuration: 10 * time.Second, Phones: []Phone{
		{InstanceID: "p1"},
		{InstanceID: "p2"},
		{InstanceID: "p3", Apps: []App{{AppPkg: "com.example.game", AppName: "Game", AppVersion: "1.0.0"}}},
	}})
	if err := v.emu.AddRules(
		Rule{Kind: RuleAppInstall, ObjectName: "com.example.game", Phones: []string{"p2"}, Status: intPtr(StatusInstallFailed)},
		Rule{Kind: RuleAppInstall, ObjectName: "com.example.fast", Status: intPtr(StatusSucceeded), After: durPtr(time.Second)},
	); err != nil {
		t.Fatal(err)
	}
	install := func(pkg, file, version string, phones ...string) {
		body := validInstall()
		body["object_name"], body["file_name"], body["object_version"], body["instance_id_list"] = pkg, file, version, phones
		submitData(t, v.do(http.MethodPost, pathInstall, body))
	}
	list := func(id string, params ...string) []string {
		_, got := v.apps(id, append([]string{"page_no", "1", "page_size", "200"}, params...)...)
		return got
	}
	install("com.example.game", "game-1.2.3.apk", "1.2.3", "p1", "p2", "p3")
	time.Sleep(5 * time.Second) // the game: running
	install("com.example.fast", "fast", "9", "p1")
	if got := list("p1"); !slices.Equal(got, defaultAppItems) {
		t.Errorf("p1 before any install finished: %v", got)
	}
	time.Sleep(time.Second) // fast finished first
	if got := list("p1", "app_type", "2"); !slices.Equal(got, []string{"com.example.fast@9"}) {
		t.Errorf("p1 after the fast install: %v", got)
	}
	time.Sleep(4 * time.Second) // the game finished
	if got := list("p1", "app_type", "2"); !slices.Equal(got, []string{"com.example.fast@9", "com.example.game@1.2.3"}) {
		t.Errorf("p1 in the order the installs finished: %v", got)
	}
	if got := list("p2"); !slices.Equal(got, defaultAppItems) {
		t.Errorf("p2, whose install failed: %v", got)
	}
	if got := list("p3"); !slices.Equal(got, []string{"com.example.game@1.2.3"}) {
		t.Errorf("p3, updated in place: %v", got)
	}
	r := v.do(http.MethodGet, appListPath("p1")+"?page_no=1&page_size=200&app_type=2", nil)
	var p listPage
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if names := []any{p.Data.Result[0]["app_name"], p.Data.Result[1]["app_name"]}; names[0] != "fast" || names[1] != "game-1.2.3" {
		t.Errorf("app names %v: want the file name without its suffix", names)
	}
	if apps, ok := v.emu.Apps("p3"); !ok || len(apps) != 1 || apps[0].AppName != "Game" || apps[0].AppVersion != "1.2.3" {
		t.Errorf("Apps(p3) = %+v, %v", apps, ok)
	}
	if _, ok := v.emu.Apps("ghost"); ok {
		t.Error("Apps(ghost) says it exists")
	}
}

func intPtr(n int) *int { return &n }

func durPtr(d time.Duration) *Duration { x := Duration(d); return &x }

// A seed's apps are strictly decoded and validated, and the phones of a
// range each get the entry's apps.
func TestSeedApps(t *testing.T) {
	s, err := ParseSeed([]byte(`{"phones": [{"instance_id": "p-{1..3}", "apps": [
		{"app_pkg": "com.example.game", "app_name": "Game", "app_version": "1.0", "icon_url": "https://i.example/g.png"},
		{"app_pkg": "com.vendor.tool", "system": true}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Token: testToken})
	if _, err := e.ApplySeed(s); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p-1", "p-2", "p-3"} {
		apps, ok := e.Apps(id)
		if !ok || len(apps) != 2 || apps[0].IconURL != "https://i.example/g.png" || !apps[1].System {
			t.Errorf("%s: %+v", id, apps)
		}
	}
	for seed, want := range map[string]string{
		`{"phones": [{"instance_id": "p", "apps": [{"app_pkg": "a", "is_system": true}]}]}`: `unknown field "is_system"`,
		`{"phones": [{"instance_id": "p", "apps": [{"app_name": "no package"}]}]}`:          "phones[0].apps[0].app_pkg: required",
		`{"phones": [{"instance_id": "p", "apps": [{"app_pkg": "a"}, {"app_pkg": "a"}]}]}`:  `phones[0].apps[1].app_pkg: "a" duplicates apps[0]`,
	} {
		s, err := ParseSeed([]byte(seed))
		if err == nil {
			_, err = New(Options{Token: testToken}).ApplySeed(s)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", seed, err, want)
		}
	}
}
