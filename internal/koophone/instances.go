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
	// InstancePageSize is the page size of ListInstances. The API's largest
	// is not documented; 100 is every other KooPhone list's limit.
	InstancePageSize = 100
	// MaxInstancePages (100,000 phones) bounds one ListInstances, so that a
	// server that keeps answering full pages gets an error, not an endless
	// read.
	MaxInstancePages = 1000
)

// maxInstancePages is MaxInstancePages, lowered by tests.
var maxInstancePages = MaxInstancePages

// InstanceFilter selects the phones ListInstances returns: each non-empty
// field is passed through as the query parameter of the same name, and the
// zero value lists every phone of the tenant.
type InstanceFilter struct {
	InstanceID   string
	InstanceName string
	PoolName     string
	PoolSceneTag string
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
	Instances []Instance
	// Pages is how many pages were read successfully.
	Pages int
	// TotalCount is the last page's total_count, -1 when none had one. It
	// can differ from len(Instances) when phones came or went meanwhile.
	TotalCount int64
	// Duplicates counts the phones an earlier page had already listed (the
	// list shifted between two pages); Unidentified those without an
	// instance_id. Both are left out.
	Duplicates, Unidentified int
}

// ListInstances lists the tenant's phones that match f (GET
// /v1/instances/batch-query), page after page, each through the client's
// pacing and retries, until a page is not full or the phones read reach the
// last total_count; it fails after MaxInstancePages full pages. On error,
// the list holds what the pages before the failing one gave.
func (c *Client) ListInstances(ctx context.Context, f InstanceFilter) (InstanceList, error) {
	list := InstanceList{Instances: []Instance{}, TotalCount: -1}
	seen := make(map[string]bool)
	var read int64 // items on the pages read, duplicates included
	for pageNo := 1; ; pageNo++ {
		var page instancePage
		reqID, err := c.do(ctx, call{
			method: http.MethodGet,
			path:   []string{"v1", "instances", "batch-query"},
			query:  func(requestID string) string { return instanceQuery(f, pageNo, requestID) },
			data: func(raw json.RawMessage) (err error) {
				page, err = decodeInstancePage(raw)
				return err
			},
		}, c.cfg.MaxRetries)
		if err != nil {
			return list, err
		}
		list.Pages++
		for _, w := range page.Result {
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
		read += int64(len(page.Result))
		if page.TotalCount != nil {
			list.TotalCount = int64(*page.TotalCount)
		}
		if len(page.Result) < InstancePageSize || (page.TotalCount != nil && read >= int64(*page.TotalCount)) {
			return list, nil
		}
		if pageNo == maxInstancePages {
			return list, &ResponseError{
				HTTPStatus: http.StatusOK,
				Reason: fmt.Sprintf("GET /v1/instances/batch-query gave %d full pages of %d phones (%d phones) without reaching the end "+
					"of the list (total_count %d); the listing stopped there", pageNo, InstancePageSize, read, list.TotalCount),
				RequestID: reqID,
			}
		}
	}
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
	} {
		if v != "" {
			params[name] = []string{v}
		}
	}
	return canonicalQuery(params)
}

// instancePage is the data of a batch-query answer, which has an error code
// of its own besides the envelope's.
type instancePage struct {
	Result     []Instance `json:"result"`
	TotalCount *Number    `json:"total_count"` // nil when absent or null
	ErrorCode  Text       `json:"error_code"`
	ErrorMsg   Text       `json:"error_msg"`
}

// decodeInstancePage parses the data of a batch-query answer; an error code
// inside it is an *APIError (the client adds the request id).
func decodeInstancePage(raw json.RawMessage) (instancePage, error) {
	var page instancePage
	if isNull(raw) {
		return page, errors.New("the response has no data member")
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return instancePage{}, fmt.Errorf("the data member is not a page of phones: %w", err)
	}
	if code := string(page.ErrorCode); code != "" && code != CodeOK {
		return instancePage{}, &APIError{HTTPStatus: http.StatusOK, Code: code, Message: string(page.ErrorMsg)}
	}
	return page, nil
}
