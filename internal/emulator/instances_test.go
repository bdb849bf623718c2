package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

const pathList = "/v1/instances/batch-query"

// listPage is a paged answer (of phones, of apps) as a client sees it.
type listPage struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
	Data      struct {
		Result     []map[string]any `json:"result"`
		PageNo     int              `json:"page_no"`
		PageSize   int              `json:"page_size"`
		TotalCount int              `json:"total_count"`
		// Only the phone list has an error code inside its data.
		ErrorCode string `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
	} `json:"data"`
}

// page sends GET path with the query parameters (name, value pairs),
// checks that it succeeded and returns the page.
func (v *env) page(path string, params ...string) listPage {
	v.t.Helper()
	r := v.do(http.MethodGet, path+"?"+query(params...), nil)
	if r.status != http.StatusOK {
		v.t.Fatalf("status %d: %s", r.status, r.body)
	}
	var p listPage
	if err := json.Unmarshal(r.body, &p); err != nil {
		v.t.Fatalf("%v: %s", err, r.body)
	}
	if p.ErrorCode != "0" || p.Data.Result == nil {
		v.t.Fatalf("not a successful page (result must be an array): %s", r.body)
	}
	return p
}

// list reads a page of phones and returns it with their ids.
func (v *env) list(params ...string) (listPage, []string) {
	v.t.Helper()
	p := v.page(pathList, params...)
	if p.Data.ErrorCode != "0" {
		v.t.Fatalf("not a successful page: data.error_code %q", p.Data.ErrorCode)
	}
	ids := make([]string, len(p.Data.Result))
	for i, item := range p.Data.Result {
		ids[i] = str(v.t, item["instance_id"])
	}
	return p, ids
}

func query(params ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	return q.Encode()
}

// pool returns n phones gt-001... of pool "game-test".
func pool(n int) []Phone {
	phones := make([]Phone, n)
	for i := range phones {
		phones[i] = Phone{InstanceID: fmt.Sprintf("gt-%03d", i+1), InstanceName: fmt.Sprintf("game %03d", i+1), PoolName: "game-test", PoolSceneTag: "CLOUD_PHONE"}
	}
	return phones
}

func TestListInstancesPagesAndFilters(t *testing.T) {
	full := Phone{
		InstanceID: "demo-1", InstanceName: "Demo phone one", Region: "cn-north-4", InstanceSKU: "pro | 8 cores | 16GB",
		FrozenStatus: 1, RunningStatus: 2, LoginStatus: 3, AssignStatus: 4, AssignUser: "alice", BillingMode: "prePaid",
		ProjectID: "p-1", ProjectName: "cn-north-4", PhoneID: "ph-1", MemberName: "m", AccountName: "acc",
		RegionName: "华北-北京四", RegionNameEn: "CN North-Beijing4", BackupStatus: 2, BackupTime: "2026-01-02 03:04:05",
		RestoreStatus: 3, RestoreTime: "2026-01-03 03:04:05", PoolName: "demo", PoolSceneTag: "CLOUD_APP",
	}
	v := newEnv(t, Options{Phones: append(pool(250), full, Phone{InstanceID: "demo-2", InstanceName: "Demo phone two", PoolName: "demo"})})
	cases := []struct {
		name      string
		params    []string
		wantIDs   []string
		wantTotal int
	}{
		{"first page", []string{"page_no", "1", "page_size", "100"}, ids(pool(100)), 252},
		{"last page of a pool", []string{"page_no", "3", "page_size", "100", "pool_name", "game-test"}, ids(pool(250)[200:]), 250},
		{"past the end", []string{"page_no", "4", "page_size", "100", "pool_name", "game-test"}, []string{}, 250},
		{"small pages", []string{"page_no", "2", "page_size", "2", "pool_name", "demo"}, []string{}, 2},
		{"instance_id exact", []string{"page_no", "1", "page_size", "10", "instance_id", "gt-007"}, []string{"gt-007"}, 1},
		{"instance_id is not a prefix", []string{"page_no", "1", "page_size", "10", "instance_id", "gt-00"}, []string{}, 0},
		{"instance_name part", []string{"page_no", "1", "page_size", "10", "instance_name", "phone"}, []string{"demo-1", "demo-2"}, 2},
		{"instance_name case-sensitive", []string{"page_no", "1", "page_size", "10", "instance_name", "PHONE"}, []string{}, 0},
		{"pool_scene_tag exact", []string{"page_no", "1", "page_size", "10", "pool_scene_tag", "CLOUD_APP"}, []string{"demo-1"}, 1},
		{"pool_name exact", []string{"page_no", "1", "page_size", "10", "pool_name", "dem"}, []string{}, 0},
		{"filters combine", []string{"page_no", "1", "page_size", "10", "pool_name", "game-test", "instance_name", "game 12"}, ids(pool(129)[119:129]), 10},
		{"empty filter is no filter", []string{"page_no", "2", "page_size", "100", "instance_id", "", "x-request-id", "q-1"}, ids(pool(200)[100:]), 252},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, got := v.list(c.params...)
			if !slices.Equal(got, c.wantIDs) || p.Data.TotalCount != c.wantTotal {
				t.Errorf("ids %v total %d, want %v total %d", got, p.Data.TotalCount, c.wantIDs, c.wantTotal)
			}
		})
	}

	// One phone, every documented field, and nothing else.
	r := v.do(http.MethodGet, pathList+"?page_no=1&page_size=1&instance_id=demo-1", nil)
	want := `{"error_code":"0","error_msg":"ok","data":{"result":[{"instance_id":"demo-1","instance_name":"Demo phone one",` +
		`"region":"cn-north-4","instance_sku":"pro | 8 cores | 16GB","frozen_status":1,"running_status":2,"login_status":3,` +
		`"assign_status":4,"assign_user":"alice","billing_mode":"prePaid","project_id":"p-1","project_name":"cn-north-4",` +
		`"phone_id":"ph-1","member_name":"m","account_name":"acc","region_name":"华北-北京四","region_name_en":"CN North-Beijing4",` +
		`"backup_status":2,"backup_time":"2026-01-02 03:04:05","restore_status":3,"restore_time":"2026-01-03 03:04:05"}],` +
		`"page_no":1,"page_size":1,"total_count":1,"error_code":"0","error_msg":"ok"}}`
	if string(r.body) != want {
		t.Errorf("answer\n%s\nwant\n%s", r.body, want)
	}
	if rec := lastRequest(t, v.emu); rec.Path != pathList || rec.Query != "page_no=1&page_size=1&instance_id=demo-1" {
		t.Errorf("recorded %s ? %s", rec.Path, rec.Query)
	}
}

func ids(phones []Phone) []string {
	out := make([]string, len(phones))
	for i, p := range phones {
		out[i] = p.InstanceID
	}
	return out
}

// Bad paging parameters or filters are KOOPHONE.API.1000 (HTTP 400) with a
// message naming the parameter.
func TestListInstancesValidation(t *testing.T) {
	v := newEnv(t, Options{Phones: pool(3)})
	for q, want := range map[string]string{
		"page_size=100":             "page_no: required",
		"page_no=0&page_size=100":   `page_no: must be an integer from 1`,
		"page_no=one&page_size=100": `page_no: must be an integer from 1 to 1073741824, got "one"`,
		"page_no=1":                 "page_size: required",
		"page_no=1&page_size=0":     `page_size: must be an integer from 1 to 100, got "0"`,
		"page_no=1&page_size=101":   `page_size: must be an integer from 1 to 100, got "101"`,
		"page_no=1&page_size=-1":    `page_size: must be an integer from 1 to 100`,
		"page_no=1&page_size=10&instance_id=" + strings.Repeat("x", 33): "instance_id: must be at most 32 characters, got 33",
	} {
		r := v.do(http.MethodGet, pathList+"?"+q, nil)
		m := wantErr(t, r, http.StatusBadRequest, "KOOPHONE.API.1000")
		if msg := str(t, m["error_msg"]); !strings.Contains(msg, want) {
			t.Errorf("%s: error_msg %q, want %q", q, msg, want)
		}
	}
	for _, method := range []string{http.MethodPost, http.MethodDelete} {
		wantErr(t, v.do(method, pathList+"?page_no=1&page_size=1", nil), http.StatusNotFound, "APIGW.0101")
	}
}

// Faults match the listing by its path; a raw fault programs an error
// inside data.
func TestListInstancesFaults(t *testing.T) {
	v := newEnv(t, Options{Phones: pool(3)})
	body := `{"error_code":"0","error_msg":"ok","data":{"result":[],"total_count":0,"error_code":"KOOPHONE.API.1001","error_msg":"No permission."}}`
	v.addFault(Fault{Match: pathList, Kind: FaultRaw, Body: body})
	v.addFault(Fault{Match: pathList, Kind: FaultError, Status: http.StatusOK, Code: "KOOPHONE.API.1004"})
	if r := v.do(http.MethodGet, pathList+"?page_no=1&page_size=10", nil); string(r.body) != body {
		t.Errorf("raw fault answer %s", r.body)
	}
	wantErr(t, v.do(http.MethodGet, pathList+"?page_no=1&page_size=10", nil), http.StatusOK, "KOOPHONE.API.1004")
	if _, got := v.list("page_no", "1", "page_size", "10"); len(got) != 3 {
		t.Errorf("after the faults: %v", got)
	}
	if len(v.emu.PendingFaults()) != 0 {
		t.Errorf("faults left: %+v", v.emu.PendingFaults())
	}
}

// Phones come from Options, the seed and AddPhones, in that order, with
// their ids checked; once there are phones, they (with Options.Instances)
// are the ids that exist for submitted jobs, and Reset keeps them.
func TestPhonesAreTheInstancesThatExist(t *testing.T) {
	synctest.Test(t, testPhonesAreTheInstancesThatExist)
}

func testPhonesAreTheInstancesThatExist(t *testing.T) {
	v := bubbleEnv(t, Options{Phones: []Phone{{InstanceID: "p1"}}, Instances: []string{"legacy"}})
	seed, err := ParseSeed([]byte(`{"phones": [{"instance_id": "p2", "pool_name": "game-test"}, {"instance_id": "p3"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.emu.ApplySeed(seed); err != nil {
		t.Fatal(err)
	}
	if err := v.emu.AddPhones(Phone{InstanceID: "p4"}); err != nil {
		t.Fatal(err)
	}
	v.emu.Reset()
	if _, got := v.list("page_no", "1", "page_size", "10"); !slices.Equal(got, []string{"p1", "p2", "p3", "p4"}) {
		t.Errorf("listed %v", got)
	}
	r := v.do(http.MethodPost, pathAsync, map[string]any{"command": "ls", "instance_ids": []string{"p1", "p3", "legacy", "ghost"}})
	taskID, _ := submitData(t, r)
	time.Sleep(defaultJobDuration)
	var codes []string
	for _, j := range jobsOf(t, v.getTask(taskID)) {
		code, _ := j["error_code"].(string)
		codes = append(codes, code)
	}
	if !slices.Equal(codes, []string{"", "", "", "CPS0005"}) {
		t.Errorf("job error codes %v, want only the unknown phone to fail", codes)
	}
}

func TestAddPhonesValidation(t *testing.T) {
	v := newEnv(t, Options{Phones: []Phone{{InstanceID: "taken"}}})
	for _, c := range []struct {
		phones []Phone
		want   string
	}{
		{[]Phone{{InstanceID: "ok"}, {}}, "emulator: phones[1].instance_id: required, 1 to 32 characters"},
		{[]Phone{{InstanceID: strings.Repeat("é", 33)}}, "phones[0].instance_id: " + fmt.Sprintf("%q", strings.Repeat("é", 33)) + ": must be 1 to 32 characters of valid UTF-8, got 33"},
		{[]Phone{{InstanceID: "a"}, {InstanceID: "b"}, {InstanceID: "a"}}, `emulator: phones[2].instance_id: "a" duplicates phones[0]`},
		{[]Phone{{InstanceID: "new"}, {InstanceID: "taken"}}, `phones[1].instance_id: "taken": the emulator already has a phone with this id`},
	} {
		err := v.emu.AddPhones(c.phones...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("AddPhones(%v) = %v, want %q", c.phones, err, c.want)
		}
	}
	if got := ids(v.emu.Phones()); !slices.Equal(got, []string{"taken"}) {
		t.Errorf("a failed AddPhones added phones: %v", got)
	}
	if _, err := ParseSeed([]byte(`{"phones": [{"instance_id": "x", "pool": "typo"}]}`)); err == nil || !strings.Contains(err.Error(), `unknown field "pool"`) {
		t.Errorf("ParseSeed with a misspelt phone field: %v", err)
	}
	if _, err := v.emu.ApplySeed(Seed{Phones: []Phone{{InstanceID: "z"}, {InstanceID: "z"}}}); err == nil || !strings.Contains(err.Error(), "phones[1]") {
		t.Errorf("ApplySeed with duplicate phones: %v", err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "phones[0].instance_id: required") {
			t.Errorf("New with an invalid phone: recovered %v", r)
		}
	}()
	New(Options{Token: "t", Phones: []Phone{{}}})
}

// order_by sorts stably by the field named, numbers numerically and
// strings bytewise; order desc reverses the comparison, so phones that
// compare equal keep the order they were added in; without order_by, order
// changes nothing. Pages are pages of the sorted list.
func TestListInstancesOrder(t *testing.T) {
	v := newEnv(t, Options{Phones: []Phone{
		{InstanceID: "p1", InstanceName: "b", RunningStatus: 10, PoolName: "x"},
		{InstanceID: "p2", InstanceName: "B", RunningStatus: 2, PoolName: "x"},
		{InstanceID: "p3", InstanceName: "a", RunningStatus: 7, PoolName: "y"},
		{InstanceID: "p4", InstanceName: "b", RunningStatus: 2, PoolName: "x"},
		{InstanceID: "p5", InstanceName: "é", RunningStatus: -1, PoolName: "x"},
	}})
	for _, c := range []struct {
		name   string
		params []string
		want   []string
	}{
		{"no order_by", nil, []string{"p1", "p2", "p3", "p4", "p5"}},
		{"order alone changes nothing", []string{"order", "desc"}, []string{"p1", "p2", "p3", "p4", "p5"}},
		{"numbers numerically, ties in added order", []string{"order_by", "running_status"}, []string{"p5", "p2", "p4", "p3", "p1"}},
		{"asc is the default", []string{"order_by", "running_status", "order", "asc"}, []string{"p5", "p2", "p4", "p3", "p1"}},
		{"desc, ties still in added order", []string{"order_by", "running_status", "order", "desc"}, []string{"p1", "p3", "p2", "p4", "p5"}},
		{"strings bytewise", []string{"order_by", "instance_name"}, []string{"p2", "p3", "p1", "p4", "p5"}},
		{"strings desc", []string{"order_by", "instance_name", "order", "desc"}, []string{"p5", "p1", "p4", "p3", "p2"}},
		{"an empty field sorts first", []string{"order_by", "region", "order", "desc"}, []string{"p1", "p2", "p3", "p4", "p5"}},
		{"after the filters", []string{"order_by", "instance_id", "order", "desc", "pool_name", "x"}, []string{"p5", "p4", "p2", "p1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, got := v.list(append([]string{"page_no", "1", "page_size", "100"}, c.params...)...)
			if !slices.Equal(got, c.want) {
				t.Errorf("ids %v, want %v", got, c.want)
			}
			// The same order, two phones a page.
			var paged []string
			for pageNo := 1; pageNo <= 3; pageNo++ {
				_, ids := v.list(append([]string{"page_no", fmt.Sprint(pageNo), "page_size", "2"}, c.params...)...)
				paged = append(paged, ids...)
			}
			if !slices.Equal(paged, c.want) {
				t.Errorf("paged ids %v, want %v", paged, c.want)
			}
		})
	}
	// Every documented field of a listed phone is accepted.
	for by := range phoneOrder {
		if _, got := v.list("page_no", "1", "page_size", "10", "order_by", by, "order", "desc"); len(got) != 5 {
			t.Errorf("order_by %s: %d phones", by, len(got))
		}
	}
	if len(phoneOrder) != 21 {
		t.Errorf("%d order_by fields, want the 21 documented fields of a listed phone", len(phoneOrder))
	}
	for q, want := range map[string]string{
		"order=DESC":              `order: must be asc or desc, got "DESC"`,
		"order=up":                `order: must be asc or desc, got "up"`,
		"order_by=pool_name":      `order_by: must be one of account_name, assign_status, assign_user, backup_status, backup_time, billing_mode, frozen_status, instance_id, instance_name, instance_sku, login_status, member_name, phone_id, project_id, project_name, region, region_name, region_name_en, restore_status, restore_time, running_status, got "pool_name"`,
		"order_by=Instance_ID":    `order_by: must be one of account_name`,
		"order_by=x&order=desc":   `order_by: must be one of`,
		"order_by=region&order=?": `order: must be asc or desc, got "?"`,
	} {
		r := v.do(http.MethodGet, pathList+"?page_no=1&page_size=10&"+q, nil)
		m := wantErr(t, r, http.StatusBadRequest, "KOOPHONE.API.1000")
		if msg := str(t, m["error_msg"]); !strings.Contains(msg, want) {
			t.Errorf("%s: error_msg %q, want %q", q, msg, want)
		}
	}
}
