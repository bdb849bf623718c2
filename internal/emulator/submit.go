package emulator

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	maxBodyBytes    = 1 << 20 // request bodies above this get HTTP 413 APIGW.0201
	maxCommandBytes = 1024
	maxInstanceIDs  = 100
	maxInstanceID   = 32
	maxExecuteMsg   = 1024
)

// errTooLarge marks a body over maxBodyBytes.
var errTooLarge = errors.New("request body too large")

// readBody reads at most maxBodyBytes of the request body.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBodyBytes {
		return nil, errTooLarge
	}
	return b, nil
}

// readRequest reads and strictly decodes a POST body into v, writing the
// error response itself and returning false on failure.
func readRequest(w http.ResponseWriter, r *http.Request, respID string, v any) bool {
	b, err := readBody(r)
	if errors.Is(err, errTooLarge) {
		writeJSON(w, http.StatusRequestEntityTooLarge, envelope{
			ErrorCode: "APIGW.0201",
			ErrorMsg:  fmt.Sprintf("Request entity too large (limit %d bytes)", maxBodyBytes),
			RequestID: respID,
		})
		return false
	}
	if err == nil {
		err = checkUTF8(b)
	}
	if err == nil {
		err = decodeStrict(b, v)
	}
	if err != nil {
		writeParamError(w, err.Error())
		return false
	}
	return true
}

// checkUTF8 refuses a body that is not valid UTF-8, as JSON text must be
// (RFC 8259). What the real service does with such bytes is unknown, but
// encoding/json would silently turn each into U+FFFD and so accept a
// command the provider promises never to send (see validateCommand) as a
// different one.
func checkUTF8(b []byte) error {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("request body is not valid UTF-8: byte %#x at byte %d", b[i], i)
		}
		i += size
	}
	return nil
}

func writeParamError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, envelope{ErrorCode: "KOOPHONE.API.1000", ErrorMsg: msg})
}

// validateCommand accepts exactly the commands the provider promises to
// send as written: 1 to 1024 bytes of valid UTF-8 without control
// characters (C0, i.e. below U+0020, and DEL). Everything else (| ; = $
// quotes, non-ASCII) is allowed. The documented character set ("letters,
// digits, _ . / : -") cannot be the real rule: it has no space, yet every
// documented example ("ls -l /system") contains one, and an adb shell
// command without spaces, pipes or quotes is of little use. The emulator
// enforces the provider's promise to its users, so a test against it
// fails if the provider ever sends what it said it would refuse.
func validateCommand(cmd string) error {
	if len(cmd) == 0 || len(cmd) > maxCommandBytes {
		return fmt.Errorf("command: must be 1 to %d bytes, got %d", maxCommandBytes, len(cmd))
	}
	for i, r := range cmd {
		switch {
		case r == utf8.RuneError:
			// An encoded U+FFFD is fine; an invalid byte decodes to
			// RuneError of width 1.
			if _, size := utf8.DecodeRuneInString(cmd[i:]); size == 1 {
				return fmt.Errorf("command: byte %#x at byte %d is not valid UTF-8", cmd[i], i)
			}
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("command: control character %q at byte %d is not allowed (no C0 control characters such as newline, tab or NUL, and no DEL)", r, i)
		}
	}
	return nil
}

// validateInstanceIDs enforces 1..100 ids of 1..32 characters, no
// duplicates.
func validateInstanceIDs(field string, ids []string) error {
	if len(ids) == 0 || len(ids) > maxInstanceIDs {
		return fmt.Errorf("%s: must contain 1 to %d instance ids, got %d", field, maxInstanceIDs, len(ids))
	}
	seen := make(map[string]int, len(ids))
	for i, id := range ids {
		n := utf8.RuneCountInString(id)
		if n == 0 || n > maxInstanceID {
			return fmt.Errorf("%s[%d]: must be 1 to %d characters, got %d", field, i, maxInstanceID, n)
		}
		if prev, dup := seen[id]; dup {
			return fmt.Errorf("%s[%d]: duplicate of %s[%d] (%q)", field, i, field, prev, id)
		}
		seen[id] = i
	}
	return nil
}

func validateLen(field, v string, lo, hi int) error {
	n := utf8.RuneCountInString(v)
	if n < lo || n > hi {
		if lo > 0 && n == 0 {
			return fmt.Errorf("%s: required, must be 1 to %d characters", field, hi)
		}
		return fmt.Errorf("%s: must be %d to %d characters, got %d", field, lo, hi, n)
	}
	return nil
}

func (e *Emulator) handleAsyncCommand(w http.ResponseWriter, r *http.Request, respID string) {
	var req asyncCommandRequest
	if !readRequest(w, r, respID, &req) {
		return
	}
	if err := validateCommand(req.Command); err != nil {
		writeParamError(w, err.Error())
		return
	}
	if err := validateInstanceIDs("instance_ids", req.InstanceIDs); err != nil {
		writeParamError(w, err.Error())
		return
	}
	data := e.submit(newTaskID, submission{kind: RuleCommand, command: req.Command}, req.InstanceIDs)
	writeJSON(w, http.StatusOK, envelope{ErrorCode: "0", ErrorMsg: "ok", Data: data})
}

func (e *Emulator) handleInstallApp(w http.ResponseWriter, r *http.Request, respID string) {
	var req installAppRequest
	if !readRequest(w, r, respID, &req) {
		return
	}
	if err := validateInstall(&req); err != nil {
		writeParamError(w, err.Error())
		return
	}
	if req.FastInstall != nil && *req.FastInstall != "0" && *req.FastInstall != "1" {
		// A business error: the real service reports it with HTTP 200.
		writeJSON(w, http.StatusOK, envelope{
			ErrorCode: "KOOPHONE.API.3008",
			ErrorMsg:  fmt.Sprintf("fast_install must be \"0\" or \"1\", got %q", *req.FastInstall),
		})
		return
	}
	data := e.submit(newInstallTaskID, submission{
		kind: RuleAppInstall, objectName: req.ObjectName, objectVersion: req.ObjectVersion, fileName: req.FileName,
	}, req.InstanceIDList)
	if e.nestedInstall {
		writeJSON(w, http.StatusOK, envelope{ErrorCode: "0", ErrorMsg: "ok", Data: wireNestedSubmitData{Data: data}})
		return
	}
	writeJSON(w, http.StatusOK, envelope{ErrorCode: "0", ErrorMsg: "ok", Data: data})
}

func validateInstall(req *installAppRequest) error {
	checks := []error{
		validateLen("object_name", req.ObjectName, 1, 100),
		validateLen("file_name", req.FileName, 1, 100),
		validateLen("object_version", req.ObjectVersion, 1, 100),
		validateObjectSize(req.ObjectSize),
		validateBizType(req.BizType),
		validateLen("content_type", req.ContentType, 1, 64),
		validateLen("content_md5", req.ContentMD5, 0, 200),
		validatePackageURL(req.InstallPackageURL),
		validateInstanceIDs("instance_id_list", req.InstanceIDList),
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

func validateObjectSize(s string) error {
	if s == "" {
		return errors.New("object_size: required, the package size in MB as a decimal string")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || len(s) > 32 {
		return fmt.Errorf("object_size: must be a non-negative decimal number of MB as a string, got %q", s)
	}
	return nil
}

func validateBizType(s string) error {
	if s != "apk" {
		return fmt.Errorf("biz_type: must be \"apk\", got %q", s)
	}
	return nil
}

func validatePackageURL(s string) error {
	if err := validateLen("install_package_url", s, 1, 2000); err != nil {
		return err
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("install_package_url: must be an absolute http(s) URL of the package in OBS, got %q", s)
	}
	return nil
}

// submit creates the task for a successful POST, with an id from newID
// that is not in use yet: one job per instance, as jobFor says.
func (e *Emulator) submit(newID func() string, s submission, instances []string) wireSubmitData {
	e.mu.Lock()
	defer e.mu.Unlock()
	spec, data, _ := e.jobsFor(s, instances)
	if t := e.storeSubmitted(newID, &spec, &data, e.now()); s.install() {
		t.app = installedApp(s)
	}
	return data
}

// jobsFor decides the jobs of a submit, one per instance, and returns them
// with the answer's cmd_jobs and, for each instance, the rule that decided
// (nil: none). The caller holds e.mu.
func (e *Emulator) jobsFor(s submission, instances []string) (TaskSpec, wireSubmitData, []*rule) {
	spec := TaskSpec{Jobs: make([]JobSpec, len(instances))}
	data := wireSubmitData{CmdJobs: make([]wireCmdJob, len(instances))}
	rules := make([]*rule, len(instances))
	for i, inst := range instances {
		spec.Jobs[i], rules[i] = e.jobFor(s, inst)
		data.CmdJobs[i] = wireCmdJob{InstanceID: inst, JobID: spec.Jobs[i].JobID}
	}
	return spec, data, rules
}

// storeSubmitted stores the jobs of a submit as a new task created at now,
// under an id from newID that is not in use yet, and sets that id in spec
// and data. The caller holds e.mu.
func (e *Emulator) storeSubmitted(newID func() string, spec *TaskSpec, data *wireSubmitData, now time.Time) *task {
	taskID := newID()
	for e.tasks[taskID] != nil {
		// Practically impossible with random ids, but a reused id
		// would silently replace an existing task.
		taskID = newID()
	}
	spec.TaskID, data.TaskID = taskID, taskID
	t := &task{spec: *spec, created: now}
	e.storeTask(taskID, t)
	return t
}

// jobFor decides how the job of a submit on one phone goes: as the first
// rule that matches says (returned with the job; nil for none); without
// one, it succeeds after JobDuration, or, for a phone that does not exist,
// fails with CPS0005. App-install jobs report the install statuses: 0 (not
// started) for the first half of their time, then 1, then 2 or 3; command
// and reset jobs 1, then 2 or -1. The caller holds e.mu.
func (e *Emulator) jobFor(s submission, instance string) (JobSpec, *rule) {
	j := JobSpec{JobID: newJobID(), InstanceID: instance, After: Duration(e.jobDuration)}
	if s.install() {
		j.StartAfter = j.After / 2
	}
	if r, i := e.ruleFor(s, instance); r != nil {
		r.decide(&j, i, s)
		return j, r
	}
	if e.instances == nil || e.instances[instance] {
		j.Status = StatusSucceeded
		j.ErrorCode, j.ErrorMsg, j.ExecuteMsg = strPtr(""), strPtr(""), strPtr(s.output(instance))
		return j, nil
	}
	j.Status = StatusFailed
	if s.install() {
		j.Status = StatusInstallFailed
	}
	j.ErrorCode, j.ErrorMsg = strPtr("CPS0005"), strPtr("Phone not found.")
	return j, nil
}

// ruleFor returns the first rule that matches the submission on the phone
// instance, with its index; nil when none does. The caller holds e.mu.
func (e *Emulator) ruleFor(s submission, instance string) (*rule, int) {
	for i := range e.rules {
		if r := &e.rules[i]; r.matches(s, instance) {
			return r, i
		}
	}
	return nil, -1
}

// commandOutput fakes deterministic, plausible output of an ADB shell
// command on a phone, capped at the documented 1024 bytes.
func commandOutput(command, instance string) string {
	sum := sha256.Sum256([]byte(instance + "\x00" + command))
	fields := strings.Fields(command)
	var out string
	switch {
	case len(fields) == 0:
		out = ""
	case fields[0] == "echo":
		out = strings.Join(fields[1:], " ") + "\n"
	case fields[0] == "getprop":
		out = fmt.Sprintf("%d\n", 10+int(sum[0])%5)
	case fields[0] == "ls":
		out = "acct\napex\nbin\ncache\nconfig\ndata\ndev\netc\nproduct\nsdcard\nstorage\nsystem\nvendor\n"
	case fields[0] == "pm":
		out = "package:com.android.settings\npackage:com.android.phone\npackage:com.huawei.koophone.agent\n"
	case fields[0] == "whoami":
		out = "shell\n"
	default:
		out = fmt.Sprintf("%s: done (phone %s, run %x)\n", fields[0], instance, sum[:4])
	}
	return truncateUTF8(out, maxExecuteMsg)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
