package emulator

import (
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// This file serves the apps installed on a phone, GET
// /v1/instances/{instance_id}/app-list: the phone's seeded apps (or
// DefaultApps), changed by the app installs submitted to it that have
// succeeded by the time of the request.

// maxAppPageSize is the largest page_size the API takes on this list.
const maxAppPageSize = 200

// App is an app installed on a phone. Its JSON names are those of the
// answer's result items, plus System.
type App struct {
	// AppPkg is the package name, such as "com.example.game". Required,
	// unique on the phone.
	AppPkg     string `json:"app_pkg"`
	AppName    string `json:"app_name,omitempty"`
	AppVersion string `json:"app_version,omitempty"`
	IconURL    string `json:"icon_url,omitempty"`
	// System makes it a system app, listed with app_type 1; else it is a
	// third-party app, listed with app_type 2.
	System bool `json:"system,omitempty"`
}

func (a App) validate() error {
	if n := utf8.RuneCountInString(a.AppPkg); n < 1 || n > maxPackageName {
		return fieldErr("app_pkg", "required, 1 to %d characters (as an install's object_name), got %d", maxPackageName, n)
	}
	return nil
}

// maxPackageName is the longest package name an install takes.
const maxPackageName = 100

// DefaultApps are the apps of a phone whose seed gives none, and of a
// phone known only by Options.Instances: system apps that every Android
// phone has, so that a list of third-party apps (app_type 2) can be empty
// and one of system apps (app_type 1) cannot.
func DefaultApps() []App {
	return []App{
		{AppPkg: "com.android.settings", AppName: "Settings", AppVersion: "14", System: true},
		{AppPkg: "com.android.launcher3", AppName: "Launcher3", AppVersion: "14", System: true},
		{AppPkg: "com.android.webview", AppName: "Android System WebView", AppVersion: "120.0.6099.230", System: true},
		{AppPkg: "com.android.phone", AppName: "Phone", AppVersion: "14", System: true},
	}
}

// installedApp is what a successful job of an install puts on a phone:
// the package object_name at object_version, named after file_name
// without its suffix ("game-1.2.3.apk" gives "game-1.2.3"), or after the
// package when that leaves nothing.
func installedApp(s submission) *App {
	name := strings.TrimSuffix(s.fileName, path.Ext(s.fileName))
	if name == "" {
		name = s.objectName
	}
	return &App{AppPkg: s.objectName, AppName: name, AppVersion: s.objectVersion}
}

// wireApp is one item of an app-list answer's result.
type wireApp struct {
	AppName    string `json:"app_name"`
	AppVersion string `json:"app_version"`
	AppPkg     string `json:"app_pkg"`
	IconURL    string `json:"icon_url"`
}

// wireAppPage is the data member of an app-list answer.
type wireAppPage struct {
	Result     []wireApp `json:"result"`
	PageNo     int       `json:"page_no"`
	PageSize   int       `json:"page_size"`
	TotalCount int       `json:"total_count"`
}

// handleAppList serves GET /v1/instances/{instance_id}/app-list: page_no
// (from 1) and page_size (1 to 200) are required, app_type is optional (1
// system apps, 2 third-party apps, left out for all). A phone that does not
// exist gets KOOPHONE.API.1001, "no permission on the instance", under
// HTTP 400, the status of the API's parameter errors on this page.
func (e *Emulator) handleAppList(w http.ResponseWriter, r *http.Request, instanceID string) {
	q := r.URL.Query()
	pageNo, err := pageParam(q, "page_no", 1<<30)
	var size int
	if err == nil {
		size, err = pageParam(q, "page_size", maxAppPageSize)
	}
	appType := q.Get("app_type")
	if err == nil && q.Has("app_type") && appType != "1" && appType != "2" {
		err = fmt.Errorf("app_type: must be 1 (system apps) or 2 (third-party apps), or left out for all, got %q", appType)
	}
	if err != nil {
		writeParamError(w, err.Error())
		return
	}
	apps, ok := e.appsOf(instanceID, e.now())
	if !ok {
		writeJSON(w, http.StatusBadRequest, envelope{
			ErrorCode: "KOOPHONE.API.1001",
			ErrorMsg:  fmt.Sprintf("No permission to operate the instance %s.", instanceID),
		})
		return
	}
	var listed []wireApp
	for _, a := range apps {
		if appType == "" || (appType == "1") == a.System {
			listed = append(listed, wireApp{AppName: a.AppName, AppVersion: a.AppVersion, AppPkg: a.AppPkg, IconURL: a.IconURL})
		}
	}
	from := min((pageNo-1)*size, len(listed))
	to := min(from+size, len(listed))
	page := wireAppPage{
		Result:     append([]wireApp{}, listed[from:to]...), // [] rather than null
		PageNo:     pageNo,
		PageSize:   size,
		TotalCount: len(listed),
	}
	writeJSON(w, http.StatusOK, envelope{ErrorCode: "0", ErrorMsg: "ok", Data: page})
}

// Apps returns the apps installed on a phone at the time of the call, in
// listing order, and whether the phone exists.
func (e *Emulator) Apps(instanceID string) ([]App, bool) {
	return e.appsOf(instanceID, e.now())
}

// appsOf returns the apps installed on a phone at now: its seeded apps
// (DefaultApps when it has none, or is known only by Options.Instances),
// then, in the order they finished (the task's creation plus its job's
// After; submit order among equals), the installs that have succeeded on
// it by now: each adds its package at the end, or sets the version of the
// package the phone has. Failed installs, and those not finished, change
// nothing. The second result is false for a phone that does not exist.
func (e *Emulator) appsOf(instanceID string, now time.Time) ([]App, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.instances != nil && !e.instances[instanceID] {
		return nil, false
	}
	apps := DefaultApps()
	if i, ok := e.phoneAt[instanceID]; ok && e.phones[i].Apps != nil {
		apps = slices.Clone(e.phones[i].Apps)
	}
	type install struct {
		done time.Time
		app  *App
	}
	var installs []install // in submit order, which SortStableFunc keeps among equals
	for _, id := range e.taskOrder {
		t := e.tasks[id]
		if t.app == nil {
			continue
		}
		for _, j := range t.spec.Jobs {
			done := t.created.Add(time.Duration(j.After))
			if j.InstanceID == instanceID && j.Status == StatusSucceeded && !now.Before(done) {
				installs = append(installs, install{done, t.app})
			}
		}
	}
	slices.SortStableFunc(installs, func(a, b install) int { return a.done.Compare(b.done) })
	for _, in := range installs {
		i := slices.IndexFunc(apps, func(a App) bool { return a.AppPkg == in.app.AppPkg })
		if i < 0 {
			apps = append(apps, *in.app)
			continue
		}
		apps[i].AppVersion = in.app.AppVersion
	}
	return apps, true
}
