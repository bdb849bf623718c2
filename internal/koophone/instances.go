package koophone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// InstancePageSize is how many phones ListInstances asks for per page of
// GET /v1/instances/batch-query. The largest page the API accepts is not
// documented; 100 is the limit of every other KooPhone list and is safe.
const InstancePageSize = 100

// MaxInstancePages bounds one ListInstances: 1,000 pages are 100,000
// phones. A server that keeps answering full pages past it (a total that
// never comes, a page number it ignores) gets an error instead of an
// endless read.
const MaxInstancePages = 1000

// maxInstancePages is MaxInstancePages, lowered by tests.
var maxInstancePages = MaxInstancePages

// InstanceFilter selects the phones ListInstances returns. Each non-empty
// field is sent as the query parameter of the same name and narrows the
// list; the zero value lists every phone of the tenant. How the API
// matches each one (exactly, or instance_name as a part of the name) is
// the API's business: the client passes the values through.
type InstanceFilter struct {
	InstanceID   string
	InstanceName string
	PoolName     string
	PoolSceneTag string
}

// Instance is one cloud phone as GET /v1/instances/batch-query reports it.
// Strings the API sent as null are empty; numbers it sent as null or left
// out are 0, and numbers it quoted are read as numbers. The status numbers
// are passed through as the API returns them: their meanings differ
// between versions of the API documentation.
type Instance struct {
	InstanceID   Text `json:"instance_id"`
	InstanceName Text `json:"instance_name"`
	// Region is the region code, such as cn-north-4.
	Region Text `json:"region"`
	// InstanceSKU is a display string, such as "pro | 8 cores | 16GB | ...".
	InstanceSKU   Text   `json:"instance_sku"`
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
	// Instances are the phones in the order the API returned them, each
	// instance id once: never nil, empty when no phone matched.
	Instances []Instance
	// Pages is how many pages were read successfully.
	Pages int
	// TotalCount is the total_count of the last page read, as the API
	// reported it; -1 when no page reported one. It can differ from
	// len(Instances) when phones came or went during the read.
	TotalCount int64
	// Duplicates counts the phones left out because an earlier page had
	// already listed their instance id: the list shifted between two
	// pages (a phone created or deleted while they were read).
	Duplicates int
	// Unidentified counts the items left out because they had no
	// instance_id.
	Unidentified int
}

// ListInstances lists the tenant's phones that match f: GET
// /v1/instances/batch-query, page after page of InstancePageSize, each
// through the client's pacing and retries. It reads until a page holds
// fewer than InstancePageSize phones or the phones read reach the
// total_count of the last page, and fails after MaxInstancePages full
// pages. An error code inside data (the answer has one besides the
// top-level one) is an *APIError like a top-level one.
//
// On error, the list holds what the pages before the failing one gave,
// and Pages says how many there were.
func (c *Client) ListInstances(ctx context.Context, f InstanceFilter) (InstanceList, error) {
	list := InstanceList{Instances: []Instance{}, TotalCount: -1}
	seen := make(map[string]bool)
	var read int64 // items on the pages read, duplicates included
	for pageNo := 1; ; pageNo++ {
		var page wireInstancePage
		reqID, err := c.do(ctx, call{
			method: http.MethodGet,
			path:   []string{"v1", "instances", "batch-query"},
			query:  func(requestID string) string { return instanceQuery(f, pageNo, requestID) },
			data: func(raw json.RawMessage) (err error) {
				page, err = decodeInstancePage(raw)
				return err
			},
		}, c.maxRetries)
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

// instanceQuery is the query string of one page, in the AK/SK signature's
// canonical form (names sorted, a space is %20, never +), so what is sent is
// exactly what is signed. x-request-id is a query parameter too, as the
// Huawei SDK sends it, with the value of the attempt's header of the same
// name.
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

// wireInstancePage is the data member of a batch-query answer. It carries
// an error code of its own, besides the envelope's.
type wireInstancePage struct {
	Result   []Instance `json:"result"`
	PageNo   Number     `json:"page_no"`
	PageSize Number     `json:"page_size"`
	// TotalCount is nil when the answer has none (or null): the listing
	// then ends at the first page that is not full.
	TotalCount *Number `json:"total_count"`
	ErrorCode  Text    `json:"error_code"`
	ErrorMsg   Text    `json:"error_msg"`
}

// decodeInstancePage parses the data member of a batch-query answer; an
// error code inside it is an *APIError (the client adds the request id).
func decodeInstancePage(raw json.RawMessage) (wireInstancePage, error) {
	var page wireInstancePage
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return page, errors.New("the response has no data member")
	}
	if err := json.Unmarshal(trimmed, &page); err != nil {
		return wireInstancePage{}, fmt.Errorf("the data member is not a page of phones: %w", err)
	}
	if code := string(page.ErrorCode); code != "" && code != CodeOK {
		return wireInstancePage{}, &APIError{HTTPStatus: http.StatusOK, Code: code, Message: string(page.ErrorMsg)}
	}
	return page, nil
}
