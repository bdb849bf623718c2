package koophone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"golang.org/x/sync/errgroup"
)

const (
	// InstancePageSize is the page size of ListInstances. The API's largest
	// is not documented; 100 is every other KooPhone list's limit.
	InstancePageSize = 100
	// MaxInstancePages (100,000 phones) bounds one ListInstances, so that a
	// server that keeps answering full pages gets an error, not an endless
	// read.
	MaxInstancePages = 1000
	// AppPageSize is the page size of ReadInstanceApps: the largest the
	// API takes, so that most phones are one request.
	AppPageSize = 200
	// MaxAppPages (20,000 apps) bounds the read of one phone, so that a
	// server that keeps answering full pages gets an error, not an endless
	// read.
	MaxAppPages = 100
)

// maxInstancePages and maxAppPages are MaxInstancePages and MaxAppPages,
// lowered by tests.
var (
	maxInstancePages = MaxInstancePages
	maxAppPages      = MaxAppPages
)

// InstanceFilter selects the phones ListInstances returns and their order:
// each non-empty field is passed through as the query parameter of the
// same name, and the zero value lists every phone of the tenant in the
// API's default order.
type InstanceFilter struct {
	InstanceID   string
	InstanceName string
	PoolName     string
	PoolSceneTag string
	// Order is "asc" or "desc"; OrderBy a field of a listed phone. The API
	// documents both parameters but not which fields it sorts by.
	Order   string
	OrderBy string
}

// Instance is one cloud phone as GET /v1/instances/batch-query reports it,
// with null strings as "" and null or missing numbers as 0. The statuses are
// passed through: their meanings differ between versions of the API's
// documentation.
type Instance struct {
	InstanceID    Text   `json:"instance_id"`
	InstanceName  Text   `json:"instance_name"`
	Region        Text   `json:"region"`       // such as cn-north-4
	InstanceSKU   Text   `json:"instance_sku"` // such as "pro | 8 cores | 16GB | ..."
	FrozenStatus  Number `json:"frozen_status"`
	RunningStatus Number `json:"running_status"`
	LoginStatus   Number `json:"login_status"`
	AssignStatus  Number `json:"assign_status"`
	AssignUser    Text   `json:"assign_user"`
	BillingMode   Text   `json:"billing_mode"`
	ProjectID     Text   `json:"project_id"`
	ProjectName   Text   `json:"project_name"`
	PhoneID       Text   `json:"phone_id"`
	MemberName    Text   `json:"member_name"`
	AccountName   Text   `json:"account_name"`
	RegionName    Text   `json:"region_name"`
	RegionNameEn  Text   `json:"region_name_en"`
	// BackupStatus and RestoreStatus: 0 preparing, 1 running, 2
	// successful, 3 failed, 4 other (per the SDK's documentation).
	BackupStatus  Number `json:"backup_status"`
	BackupTime    Text   `json:"backup_time"`
	RestoreStatus Number `json:"restore_status"`
	RestoreTime   Text   `json:"restore_time"`
}

// InstanceList is the outcome of ListInstances.
type InstanceList struct {
	// Instances are in the API's order, each instance id once; never nil.
	// On error, they are those of the pages before the first page that was
	// not read.
	Instances []Instance
	// Pages is how many pages, from page 1 on, were read successfully
	// before the first one that was not.
	Pages int
	// TotalCount is the total_count of the last page (in page order) that
	// had one, -1 when none had one; FirstTotalCount is page 1's, -1 when
	// it had none. TotalCount can differ from len(Instances) when phones
	// came or went meanwhile.
	TotalCount, FirstTotalCount int64
	// CountChanged reports that the pages did not all give the same
	// total_count: phones were created or deleted while the list was read,
	// so some may be missing from it.
	CountChanged bool
	// Duplicates counts the phones an earlier page had already listed (the
	// list shifted between two pages); Unidentified those without an
	// instance_id. Both are left out.
	Duplicates, Unidentified int
	// FailedPage is the page whose error ended the read, 0 when none did.
	FailedPage int
}

// pageError is a page's failure, with its page number.
type pageError struct {
	pageNo int
	err    error
}

func (e *pageError) Error() string { return fmt.Sprintf("page %d: %v", e.pageNo, e.err) }
func (e *pageError) Unwrap() error { return e.err }

// readPage is one page as read, with the request id of its answer.
type readPage struct {
	page[Instance]
	requestID string
}

// ListInstances lists the tenant's phones that match f (GET
// /v1/instances/batch-query). It reads page 1, which gives total_count,
// then the other pages concurrently, each through the client's pacing,
// retries and cap on requests in flight, and puts the phones together in
// page order, so the API's order is kept whatever it is. Without a
// total_count, it reads one page after the other.
//
// The read ends when the last page read is not full or the phones read
// reach its total_count. When a later page reports a larger total (phones
// were created meanwhile), or the last page is full, the pages after it
// are read too; the read fails after MaxInstancePages full pages. A page
// that fails after its retries fails the read: the requests in flight are
// cancelled and no new one starts.
func (c *Client) ListInstances(ctx context.Context, f InstanceFilter) (InstanceList, error) {
	var pages []readPage
	failed := 0
	var err error
	for {
		from := len(pages) + 1
		to := from
		if from > 1 {
			last := pages[len(pages)-1]
			if last.ends(InstancePageSize, itemsRead(pages)) {
				break
			}
			if from > maxInstancePages {
				list := assemble(pages)
				return list, &ResponseError{
					HTTPStatus: http.StatusOK,
					Reason: fmt.Sprintf("GET /v1/instances/batch-query gave %d full pages of %d phones (%d phones) without reaching the end "+
						"of the list (total_count %d); the listing stopped there", len(pages), InstancePageSize, itemsRead(pages), list.TotalCount),
					RequestID: last.requestID,
				}
			}
			if total, ok := largestTotal(pages); ok {
				to = max(from, min(int((total+InstancePageSize-1)/InstancePageSize), maxInstancePages))
			}
		}
		var batch []readPage
		batch, failed, err = c.readPages(ctx, f, from, to)
		pages = append(pages, batch...)
		if err != nil {
			break
		}
	}
	list := assemble(pages)
	list.FailedPage = failed
	return list, err
}

// itemsRead counts the items of pages, duplicates and items without an id
// included.
func itemsRead(pages []readPage) int64 {
	var n int64
	for _, p := range pages {
		n += int64(len(p.Result))
	}
	return n
}

// largestTotal is the largest total_count of pages, if any had one: the
// fleet as large as it was seen.
func largestTotal(pages []readPage) (int64, bool) {
	total, ok := int64(0), false
	for _, p := range pages {
		if p.TotalCount != nil {
			total, ok = max(total, int64(*p.TotalCount)), true
		}
	}
	return total, ok
}

// readPages reads pages from to to concurrently, at most as many at once as
// the client has requests in flight. It returns the pages read from from
// on, up to the first that was not; on error, also the number of the page
// that failed.
func (c *Client) readPages(ctx context.Context, f InstanceFilter, from, to int) ([]readPage, int, error) {
	got := make([]readPage, to-from+1)
	ok := make([]bool, len(got))
	g, gctx := errgroup.WithContext(ctx)
	// The group's own limit, on top of the client's: a page starts only
	// once another has returned, and errgroup cancels gctx before it lets
	// the next one start, so no request starts after a failure.
	g.SetLimit(c.cfg.MaxConcurrentRequests)
	for pageNo := from; pageNo <= to; pageNo++ {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			page, err := c.readPage(c.fork(gctx, "page", pageNo), f, pageNo)
			if err != nil {
				return &pageError{pageNo: pageNo, err: err}
			}
			got[pageNo-from], ok[pageNo-from] = page, true
			return nil
		})
	}
	err := g.Wait()
	n := 0
	for n < len(ok) && ok[n] {
		n++
	}
	if pe, isPage := errors.AsType[*pageError](err); isPage {
		return got[:n], pe.pageNo, pe.err
	}
	if n < len(ok) {
		// ctx ended before a page could start.
		return got[:n], from + n, &StoppedError{Cause: context.Cause(ctx)}
	}
	return got, 0, nil
}

// readPage reads one page through the client's retry loop.
func (c *Client) readPage(ctx context.Context, f InstanceFilter, pageNo int) (readPage, error) {
	var p page[Instance]
	reqID, err := c.do(ctx, call{
		method: http.MethodGet,
		path:   []string{"v1", "instances", "batch-query"},
		query:  func(requestID string) string { return instanceQuery(f, pageNo, requestID) },
		data: func(raw json.RawMessage) (err error) {
			p, err = decodePage[Instance](raw, "phones")
			return err
		},
	}, c.cfg.MaxRetries)
	return readPage{page: p, requestID: reqID}, err
}

// assemble puts pages together in page order: each instance id once, the
// first time it is listed.
func assemble(pages []readPage) InstanceList {
	list := InstanceList{Instances: []Instance{}, Pages: len(pages), TotalCount: -1, FirstTotalCount: -1}
	seen := make(map[string]bool)
	for i, p := range pages {
		if p.TotalCount != nil {
			total := int64(*p.TotalCount)
			if i == 0 {
				list.FirstTotalCount = total
			} else if list.TotalCount >= 0 && total != list.TotalCount {
				list.CountChanged = true
			}
			list.TotalCount = total
		}
		for _, w := range p.Result {
			id := string(w.InstanceID)
			switch {
			case id == "":
				list.Unidentified++
			case seen[id]:
				list.Duplicates++
			default:
				seen[id] = true
				list.Instances = append(list.Instances, w)
			}
		}
	}
	return list
}

// instanceQuery is the query string of one page in the signature's
// canonical form, so that what is sent is exactly what is signed. The
// Huawei SDK sends x-request-id in the query too.
func instanceQuery(f InstanceFilter, pageNo int, requestID string) string {
	params := map[string][]string{
		"page_no":      {strconv.Itoa(pageNo)},
		"page_size":    {strconv.Itoa(InstancePageSize)},
		"x-request-id": {requestID},
	}
	for name, v := range map[string]string{
		"instance_id":    f.InstanceID,
		"instance_name":  f.InstanceName,
		"pool_name":      f.PoolName,
		"pool_scene_tag": f.PoolSceneTag,
		"order":          f.Order,
		"order_by":       f.OrderBy,
	} {
		if v != "" {
			params[name] = []string{v}
		}
	}
	return canonicalQuery(params)
}

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

// page is the data of a paged answer (a page of phones, of apps), which has
// an error code of its own besides the envelope's. The API documents none
// for the app list, but the phone list has one, so it is read for both.
type page[T any] struct {
	Result     []T     `json:"result"`
	TotalCount *Number `json:"total_count"` // nil when absent or null
	ErrorCode  Text    `json:"error_code"`
	ErrorMsg   Text    `json:"error_msg"`
}

// ends reports whether p is the last page, given the number of items read
// so far, p's included: it is not full, or they reach its total_count.
func (p page[T]) ends(size int, read int64) bool {
	return len(p.Result) < size || (p.TotalCount != nil && read >= int64(*p.TotalCount))
}

// decodePage parses the data of a paged answer: an error code inside it is
// an *APIError (the client adds the request id).
func decodePage[T any](raw json.RawMessage, of string) (page[T], error) {
	var p page[T]
	if isNull(raw) {
		return page[T]{}, errors.New("the response has no data member")
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return page[T]{}, fmt.Errorf("the data member is not a page of %s: %w", of, err)
	}
	if p.ErrorCode != "" && p.ErrorCode != CodeOK {
		return page[T]{}, &APIError{HTTPStatus: http.StatusOK, Code: string(p.ErrorCode), Message: string(p.ErrorMsg)}
	}
	return p, nil
}
