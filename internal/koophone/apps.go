package koophone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

const (
	// AppPageSize is the page size of ReadInstanceApps: the largest the
	// API takes, so that most phones are one request.
	AppPageSize = 200
	// MaxAppPages (20,000 apps) bounds the read of one phone, so that a
	// server that keeps answering full pages gets an error, not an endless
	// read.
	MaxAppPages = 100
)

// maxAppPages is MaxAppPages, lowered by tests.
var maxAppPages = MaxAppPages

// AppType selects the apps ReadInstanceApps lists: the API's app_type.
type AppType int

// The values of AppType.
const (
	AllApps        AppType = 0 // app_type left out
	SystemApps     AppType = 1
	ThirdPartyApps AppType = 2
)

// App is one app installed on a phone, as GET
// /v1/instances/{instance_id}/app-list reports it, with null strings as "".
type App struct {
	AppPkg     string // package name, such as com.example.game
	AppName    string
	AppVersion string
	IconURL    string
}

// AppList is the outcome of ReadInstanceApps.
type AppList struct {
	// Apps are in the API's order, each package once; never nil.
	Apps []App
	// Pages is how many pages were read successfully; Requests how many
	// requests were sent for them, retries included.
	Pages, Requests int
	// TotalCount is the last page's total_count, -1 when none had one.
	TotalCount int64
}

// ReadInstanceApps lists the apps installed on one phone (GET
// /v1/instances/{instance_id}/app-list): it reads page 1 and then, while
// total_count says there are more (or, without total_count, while the
// pages are full), the next pages, one request each through the client's
// pacing and retries. An app that a shift of the pages lists twice is kept
// once. It fails after MaxAppPages full pages. On error, the list holds
// what the pages before the failing one gave, and Pages says which failed.
func (c *Client) ReadInstanceApps(ctx context.Context, instanceID string, appType AppType) (AppList, error) {
	list := AppList{Apps: []App{}, TotalCount: -1}
	if instanceID == "" {
		return list, errors.New("instance id is empty")
	}
	seen := make(map[string]bool)
	var read int64 // items on the pages read, duplicates included
	for pageNo := 1; ; pageNo++ {
		var p page[wireApp]
		reqID, err := c.do(ctx, call{
			method: http.MethodGet,
			path:   []string{"v1", "instances", instanceID, "app-list"},
			query: func(requestID string) string {
				// Called once for each attempt, just before it is sent.
				list.Requests++
				return appQuery(pageNo, appType, requestID)
			},
			data: func(raw json.RawMessage) (err error) {
				p, err = decodePage[wireApp](raw, "apps")
				return err
			},
		}, c.cfg.MaxRetries)
		if err != nil {
			return list, err
		}
		list.Pages++
		for _, w := range p.Result {
			app := App{AppPkg: string(w.AppPkg), AppName: string(w.AppName), AppVersion: string(w.AppVersion), IconURL: string(w.IconURL)}
			if app.AppPkg != "" && seen[app.AppPkg] {
				continue
			}
			seen[app.AppPkg] = app.AppPkg != ""
			list.Apps = append(list.Apps, app)
		}
		read += int64(len(p.Result))
		if p.TotalCount != nil {
			list.TotalCount = int64(*p.TotalCount)
		}
		if p.ends(AppPageSize, read) {
			return list, nil
		}
		if pageNo == maxAppPages {
			return list, &ResponseError{
				HTTPStatus: http.StatusOK,
				Reason: fmt.Sprintf("GET /v1/instances/%s/app-list gave %d full pages of %d apps without reaching the end of the list "+
					"(total_count %d); the listing stopped there", instanceID, pageNo, AppPageSize, list.TotalCount),
				RequestID: reqID,
			}
		}
	}
}

// appQuery is the query string of one page in the signature's canonical
// form, so that what is sent is exactly what is signed.
func appQuery(pageNo int, appType AppType, requestID string) string {
	params := map[string][]string{
		"page_no":      {strconv.Itoa(pageNo)},
		"page_size":    {strconv.Itoa(AppPageSize)},
		"x-request-id": {requestID},
	}
	if appType != AllApps {
		params["app_type"] = []string{strconv.Itoa(int(appType))}
	}
	return canonicalQuery(params)
}

// wireApp is one item of an app-list answer.
type wireApp struct {
	AppPkg     Text `json:"app_pkg"`
	AppName    Text `json:"app_name"`
	AppVersion Text `json:"app_version"`
	IconURL    Text `json:"icon_url"`
}
