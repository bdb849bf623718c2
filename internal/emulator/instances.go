package emulator

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file serves the phone list, GET /v1/instances/batch-query, from the
// phones of Options.Phones, Seed.Phones and AddPhones.

// maxPageSize is the largest page_size the emulator accepts. The API's own
// limit is not documented; 100 is what the provider asks for.
const maxPageSize = 100

// Phone is a cloud phone of the tenant: what GET /v1/instances/batch-query
// lists. Its fields are the documented fields of one listed phone (JSON
// names as on the wire, so a seed file reads like an answer), plus
// PoolName and PoolSceneTag, which the listing filters on. Fields left out
// of a seed file are "" or 0 in the answer. RunningStatus is the status
// the phone starts at: a reboot or reset changes what the API reports, not
// the field (see phoneops.go).
type Phone struct {
	// InstanceID identifies the phone: 1 to 32 characters, unique.
	InstanceID   string `json:"instance_id"`
	InstanceName string `json:"instance_name,omitempty"`
	// Region is a region code, such as "cn-north-4".
	Region string `json:"region,omitempty"`
	// InstanceSKU is a display string, such as "pro | 8 cores | 16GB".
	InstanceSKU   string `json:"instance_sku,omitempty"`
	FrozenStatus  int    `json:"frozen_status,omitempty"`
	RunningStatus int    `json:"running_status,omitempty"`
	LoginStatus   int    `json:"login_status,omitempty"`
	AssignStatus  int    `json:"assign_status,omitempty"`
	AssignUser    string `json:"assign_user,omitempty"`
	BillingMode   string `json:"billing_mode,omitempty"`
	ProjectID     string `json:"project_id,omitempty"`
	ProjectName   string `json:"project_name,omitempty"`
	PhoneID       string `json:"phone_id,omitempty"`
	MemberName    string `json:"member_name,omitempty"`
	AccountName   string `json:"account_name,omitempty"`
	RegionName    string `json:"region_name,omitempty"`
	RegionNameEn  string `json:"region_name_en,omitempty"`
	// BackupStatus and RestoreStatus: 0 preparing, 1 running, 2
	// successful, 3 failed, 4 other.
	BackupStatus  int    `json:"backup_status,omitempty"`
	BackupTime    string `json:"backup_time,omitempty"`
	RestoreStatus int    `json:"restore_status,omitempty"`
	RestoreTime   string `json:"restore_time,omitempty"`
	// PoolName is the phone's pool (node group), matched exactly by the
	// pool_name filter.
	PoolName string `json:"pool_name,omitempty"`
	// PoolSceneTag is the pool's scene, such as "CLOUD_PHONE" or
	// "CLOUD_APP", matched exactly by the pool_scene_tag filter.
	PoolSceneTag string `json:"pool_scene_tag,omitempty"`
	// Apps are the apps installed on the phone when it is added, listed by
	// GET /v1/instances/{instance_id}/app-list in this order (see
	// apps.go). nil (left out) means DefaultApps; an empty list, none.
	Apps []App `json:"apps,omitempty"`
}

// wirePhone is one item of the answer's result: exactly the documented
// fields. pool_name and pool_scene_tag are deliberately not echoed: the
// API documents them as filters only, not as fields of a listed phone,
// and a fake that sent them would let the provider come to depend on
// something the real API may never send.
type wirePhone struct {
	InstanceID    string `json:"instance_id"`
	InstanceName  string `json:"instance_name"`
	Region        string `json:"region"`
	InstanceSKU   string `json:"instance_sku"`
	FrozenStatus  int    `json:"frozen_status"`
	RunningStatus int    `json:"running_status"`
	LoginStatus   int    `json:"login_status"`
	AssignStatus  int    `json:"assign_status"`
	AssignUser    string `json:"assign_user"`
	BillingMode   string `json:"billing_mode"`
	ProjectID     string `json:"project_id"`
	ProjectName   string `json:"project_name"`
	PhoneID       string `json:"phone_id"`
	MemberName    string `json:"member_name"`
	AccountName   string `json:"account_name"`
	RegionName    string `json:"region_name"`
	RegionNameEn  string `json:"region_name_en"`
	BackupStatus  int    `json:"backup_status"`
	BackupTime    string `json:"backup_time"`
	RestoreStatus int    `json:"restore_status"`
	RestoreTime   string `json:"restore_time"`
}

// wirePhonePage is the data member of a batch-query answer, with its own
// error_code and error_msg, as the API's.
type wirePhonePage struct {
	Result     []wirePhone `json:"result"`
	PageNo     int         `json:"page_no"`
	PageSize   int         `json:"page_size"`
	TotalCount int         `json:"total_count"`
	ErrorCode  string      `json:"error_code"`
	ErrorMsg   string      `json:"error_msg"`
}

func (p Phone) wire() wirePhone {
	return wirePhone{
		InstanceID: p.InstanceID, InstanceName: p.InstanceName, Region: p.Region, InstanceSKU: p.InstanceSKU,
		FrozenStatus: p.FrozenStatus, RunningStatus: p.RunningStatus, LoginStatus: p.LoginStatus, AssignStatus: p.AssignStatus,
		AssignUser: p.AssignUser, BillingMode: p.BillingMode, ProjectID: p.ProjectID, ProjectName: p.ProjectName,
		PhoneID: p.PhoneID, MemberName: p.MemberName, AccountName: p.AccountName, RegionName: p.RegionName,
		RegionNameEn: p.RegionNameEn, BackupStatus: p.BackupStatus, BackupTime: p.BackupTime,
		RestoreStatus: p.RestoreStatus, RestoreTime: p.RestoreTime,
	}
}

// AddPhones adds phones to the tenant, after those it has, in order: the
// order in which the listing returns them. It adds all of them or, when
// one is invalid (an instance_id empty, longer than 32 characters, or
// already used), none, with an error that names the phone's index.
//
// Once the tenant has phones, their ids, with those of Options.Instances,
// are the phones that exist for submitted jobs: a job for any other id
// fails with CPS0005. Reset keeps the phones.
func (e *Emulator) AddPhones(phones ...Phone) error {
	if err := e.addPhones(phones, nil); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	return nil
}

// addPhones is AddPhones with errors that name the field (see fieldError):
// phones[entries[i]] for phones[i] (entries nil: phones[i]), so that the
// phones of a seed's range are named by the entry they come from.
func (e *Emulator) addPhones(phones []Phone, entries []int) error {
	if len(phones) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	known := make(map[string]int, len(e.phones))
	for i, p := range e.phones {
		known[p.InstanceID] = i
	}
	entry := func(i int) int {
		if entries == nil {
			return i
		}
		return entries[i]
	}
	added := make(map[string]int, len(phones))
	for i, p := range phones {
		field := fmt.Sprintf("phones[%d].instance_id", entry(i))
		if n := utf8.RuneCountInString(p.InstanceID); n == 0 || n > maxInstanceID || !utf8.ValidString(p.InstanceID) {
			if n == 0 {
				return fieldErr(field, "required, 1 to %d characters", maxInstanceID)
			}
			return fieldErr(field, "%q: must be 1 to %d characters of valid UTF-8, got %d", p.InstanceID, maxInstanceID, n)
		}
		if prev, dup := added[p.InstanceID]; dup {
			return fieldErr(field, "%q duplicates phones[%d]", p.InstanceID, prev)
		}
		if _, dup := known[p.InstanceID]; dup {
			return fieldErr(field, "%q: the emulator already has a phone with this id", p.InstanceID)
		}
		added[p.InstanceID] = entry(i)
		pkgs := make(map[string]int, len(p.Apps))
		for j, a := range p.Apps {
			field := fmt.Sprintf("phones[%d].apps[%d]", entry(i), j)
			if err := a.validate(); err != nil {
				return inField(field, err)
			}
			if prev, dup := pkgs[a.AppPkg]; dup {
				return fieldErr(field+".app_pkg", "%q duplicates apps[%d]", a.AppPkg, prev)
			}
			pkgs[a.AppPkg] = j
		}
	}
	for i, p := range phones {
		e.phoneAt[p.InstanceID] = len(e.phones) + i
	}
	e.phones = append(e.phones, phones...)
	// Submits read e.instances under e.mu, which the caller holds.
	instances := make(map[string]bool, len(e.instances)+len(phones))
	for id := range e.instances {
		instances[id] = true
	}
	for _, p := range phones {
		instances[p.InstanceID] = true
	}
	e.instances = instances
	return nil
}

// Phones returns a copy of the tenant's phones, in listing order.
func (e *Emulator) Phones() []Phone {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Phone(nil), e.phones...)
}

// handleListInstances serves GET /v1/instances/batch-query: the phones
// that match every filter given (instance_id, pool_name and pool_scene_tag
// exactly; instance_name as a part of the name, case-sensitive, since the
// API does not say whether it matches names exactly and a partial match is
// what a name search usually does), in the order they were added or, with
// order_by, sorted by that field (see phoneOrder), one page of them.
// page_no (from 1) and page_size (1 to 100) are required. Other documented
// parameters (query_start_time, ...) and the x-request-id query parameter
// are accepted and ignored.
func (e *Emulator) handleListInstances(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pageNo, err := pageParam(q, "page_no", 1<<30)
	var size int
	if err == nil {
		size, err = pageParam(q, "page_size", maxPageSize)
	}
	if err == nil {
		err = validateFilter(q)
	}
	if err != nil {
		writeParamError(w, err.Error())
		return
	}
	e.writePhonePage(w, q, pageNo, size)
}

// phoneOrder compares two phones by each field order_by accepts: the
// documented fields of a listed phone. Numbers compare numerically,
// strings bytewise. The API does not document which fields it sorts by;
// the emulator sorts by any of them.
var phoneOrder = map[string]func(a, b *Phone) int{
	"instance_id":    byText(func(p *Phone) string { return p.InstanceID }),
	"instance_name":  byText(func(p *Phone) string { return p.InstanceName }),
	"region":         byText(func(p *Phone) string { return p.Region }),
	"instance_sku":   byText(func(p *Phone) string { return p.InstanceSKU }),
	"frozen_status":  byNumber(func(p *Phone) int { return p.FrozenStatus }),
	"running_status": byNumber(func(p *Phone) int { return p.RunningStatus }),
	"login_status":   byNumber(func(p *Phone) int { return p.LoginStatus }),
	"assign_status":  byNumber(func(p *Phone) int { return p.AssignStatus }),
	"assign_user":    byText(func(p *Phone) string { return p.AssignUser }),
	"billing_mode":   byText(func(p *Phone) string { return p.BillingMode }),
	"project_id":     byText(func(p *Phone) string { return p.ProjectID }),
	"project_name":   byText(func(p *Phone) string { return p.ProjectName }),
	"phone_id":       byText(func(p *Phone) string { return p.PhoneID }),
	"member_name":    byText(func(p *Phone) string { return p.MemberName }),
	"account_name":   byText(func(p *Phone) string { return p.AccountName }),
	"region_name":    byText(func(p *Phone) string { return p.RegionName }),
	"region_name_en": byText(func(p *Phone) string { return p.RegionNameEn }),
	"backup_status":  byNumber(func(p *Phone) int { return p.BackupStatus }),
	"backup_time":    byText(func(p *Phone) string { return p.BackupTime }),
	"restore_status": byNumber(func(p *Phone) int { return p.RestoreStatus }),
	"restore_time":   byText(func(p *Phone) string { return p.RestoreTime }),
}

func byText(field func(*Phone) string) func(a, b *Phone) int {
	return func(a, b *Phone) int { return strings.Compare(field(a), field(b)) }
}

func byNumber(field func(*Phone) int) func(a, b *Phone) int {
	return func(a, b *Phone) int { return cmp.Compare(field(a), field(b)) }
}

func (e *Emulator) writePhonePage(w http.ResponseWriter, q url.Values, pageNo, size int) {
	id, name, pool, tag := q.Get("instance_id"), q.Get("instance_name"), q.Get("pool_name"), q.Get("pool_scene_tag")
	e.mu.Lock()
	// Indexes, not copies: a page of a large fleet is read often.
	var matched []int
	for i := range e.phones {
		p := &e.phones[i]
		if (id == "" || p.InstanceID == id) && (name == "" || strings.Contains(p.InstanceName, name)) &&
			(pool == "" || p.PoolName == pool) && (tag == "" || p.PoolSceneTag == tag) {
			matched = append(matched, i)
		}
	}
	if compare := phoneOrder[q.Get("order_by")]; compare != nil {
		sign := 1
		if q.Get("order") == "desc" {
			sign = -1
		}
		// Stable: phones that compare equal keep the order they were
		// added in, whichever the direction, so pages never overlap.
		slices.SortStableFunc(matched, func(a, b int) int { return sign * compare(&e.phones[a], &e.phones[b]) })
	}
	from := min((pageNo-1)*size, len(matched))
	to := min(from+size, len(matched))
	result := make([]wirePhone, 0, to-from) // [] rather than null
	for _, i := range matched[from:to] {
		result = append(result, e.listed(e.phones[i]))
	}
	e.mu.Unlock()
	page := wirePhonePage{
		Result:     result,
		PageNo:     pageNo,
		PageSize:   size,
		TotalCount: len(matched),
		ErrorCode:  "0",
		ErrorMsg:   "ok",
	}
	writeJSON(w, http.StatusOK, envelope{ErrorCode: "0", ErrorMsg: "ok", Data: page})
}

// pageParam reads a required integer query parameter in [1, hi].
func pageParam(q url.Values, name string, hi int) (int, error) {
	raw := q.Get(name)
	if raw == "" {
		return 0, fmt.Errorf("%s: required query parameter, an integer from 1 to %d", name, hi)
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < 1 || v > hi {
		return 0, fmt.Errorf("%s: must be an integer from 1 to %d, got %q", name, hi, raw)
	}
	return v, nil
}

// validateFilter checks the filters the emulator knows a limit of:
// instance_id is at most 32 characters, as everywhere in the API; order is
// asc or desc, order_by a field of a listed phone (the API's own answer to
// other values is not documented: the emulator's is a bad parameter).
func validateFilter(q url.Values) error {
	if id := q.Get("instance_id"); utf8.RuneCountInString(id) > maxInstanceID {
		return fmt.Errorf("instance_id: must be at most %d characters, got %d", maxInstanceID, utf8.RuneCountInString(id))
	}
	if order := q.Get("order"); order != "" && order != "asc" && order != "desc" {
		return fmt.Errorf("order: must be asc or desc, got %q", order)
	}
	if by := q.Get("order_by"); by != "" && phoneOrder[by] == nil {
		return fmt.Errorf("order_by: must be one of %s, got %q", strings.Join(slices.Sorted(maps.Keys(phoneOrder)), ", "), by)
	}
	return nil
}
