package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"
)

const (
	pathAsync   = "/v1/instances/async-command"
	pathInstall = "/v1/instances/app/install"
)

// submitData checks a successful submit response and returns task id and
// cmd_jobs.
func submitData(t *testing.T, r resp) (string, []map[string]any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var env struct {
		ErrorCode string `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
		Data      struct {
			TaskID  string           `json:"task_id"`
			CmdJobs []map[string]any `json:"cmd_jobs"`
		} `json:"data"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if env.ErrorCode != "0" || env.ErrorMsg != "ok" {
		t.Fatalf("envelope: %s", r.body)
	}
	return env.Data.TaskID, env.Data.CmdJobs
}

func TestAsyncCommandLifecycle(t *testing.T) {
	synctest.Test(t, testAsyncCommandLifecycle)
}

func testAsyncCommandLifecycle(t *testing.T) {
	v := bubbleEnv(t, Options{JobDuration: 30 * time.Second, Instances: []string{"phone-a", "phone-b"}})
	r := v.do(http.MethodPost, pathAsync, map[string]any{"command": "ls -l /system", "instance_ids": []string{"phone-b", "ghost", "phone-a"}})
	taskID, cmdJobs := submitData(t, r)
	if !hex32Re.MatchString(taskID) {
		t.Errorf("task_id %q", taskID)
	}
	if got := r.header.Get("Content-Type"); got != jsonContentType {
		t.Errorf("Content-Type %q", got)
	}
	wantInst := []string{"phone-b", "ghost", "phone-a"}
	if len(cmdJobs) != 3 {
		t.Fatalf("cmd_jobs %v", cmdJobs)
	}
	for i, cj := range cmdJobs {
		if len(cj) != 2 || cj["instance_id"] != wantInst[i] || !hex32Re.MatchString(str(t, cj["job_id"])) {
			t.Errorf("cmd_jobs[%d] = %v", i, cj)
		}
	}
	// Running for JobDuration.
	time.Sleep(30*time.Second - time.Millisecond)
	r = v.getTask(taskID)
	for i, j := range jobsOf(t, r) {
		if j["job_id"] != cmdJobs[i]["job_id"] || !strings.Contains(jobJSON(t, r, i), runningJSON) {
			t.Errorf("job %d before JobDuration: %s", i, jobJSON(t, r, i))
		}
	}
	time.Sleep(time.Millisecond)
	r = v.getTask(taskID)
	jobs := jobsOf(t, r)
	for _, i := range []int{0, 2} {
		msg, _ := jobs[i]["execute_msg"].(string)
		if fmt.Sprint(jobs[i]["status"]) != "2" || jobs[i]["error_code"] != "" || jobs[i]["error_msg"] != "" ||
			msg == "" || len(msg) > 1024 {
			t.Errorf("succeeded job %d: %s", i, jobJSON(t, r, i))
		}
	}
	if got := jobJSON(t, r, 1); got != fmt.Sprintf(`{"job_id":"%s","status":-1,"error_code":"CPS0005","error_msg":"Phone not found.","execute_msg":null}`, cmdJobs[1]["job_id"]) {
		t.Errorf("unknown instance job: %s", got)
	}
	// The output is deterministic per command and instance.
	r2 := v.do(http.MethodPost, pathAsync, map[string]any{"command": "ls -l /system", "instance_ids": []string{"phone-a"}})
	task2, _ := submitData(t, r2)
	time.Sleep(time.Minute)
	if a, b := jobsOf(t, v.getTask(task2))[0]["execute_msg"], jobs[2]["execute_msg"]; a != b {
		t.Errorf("execute_msg not deterministic: %q vs %q", a, b)
	}
	if task2 == taskID {
		t.Error("task ids repeat")
	}
}

func TestJobDurationOption(t *testing.T) {
	cases := []struct {
		name      string
		opt       time.Duration
		runningAt time.Duration // still running after this (-1: never checked)
		finalAt   time.Duration
	}{
		{"default 5s", 0, 5*time.Second - 1, 5 * time.Second},
		{"custom", 2 * time.Minute, 2*time.Minute - 1, 2 * time.Minute},
		{"negative: at once", -1, -1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := bubbleEnv(t, Options{JobDuration: c.opt})
				r := v.do(http.MethodPost, pathAsync, map[string]any{"command": "whoami", "instance_ids": []string{"p"}})
				id, _ := submitData(t, r)
				start := time.Now()
				if c.runningAt >= 0 {
					time.Sleep(c.runningAt)
					if s := jobsOf(t, v.getTask(id))[0]["status"]; s != json.Number("1") {
						t.Errorf("status %v at %s", s, c.runningAt)
					}
				}
				time.Sleep(c.finalAt - time.Since(start))
				if s := jobsOf(t, v.getTask(id))[0]["status"]; s != json.Number("2") {
					t.Errorf("status %v at %s", s, c.finalAt)
				}
			})
		})
	}
}

func TestAsyncCommandValidation(t *testing.T) {
	v := newEnv(t, Options{})
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("p%d", i)
		}
		return out
	}
	cases := []struct {
		name string
		body any
		want string // substring of error_msg; "" means success
	}{
		{"ok", map[string]any{"command": "ls -l /system", "instance_ids": []string{"a"}}, ""},
		{"all allowed chars", map[string]any{"command": "aZ09 _./:-", "instance_ids": []string{"a"}}, ""},
		{"1024 bytes", map[string]any{"command": strings.Repeat("a", 1024), "instance_ids": []string{"a"}}, ""},
		{"100 ids", map[string]any{"command": "ls", "instance_ids": ids(100)}, ""},
		{"32-char id", map[string]any{"command": "ls", "instance_ids": []string{strings.Repeat("i", 32)}}, ""},
		{"32-char multibyte id", map[string]any{"command": "ls", "instance_ids": []string{strings.Repeat("é", 32)}}, ""},
		{"missing command", map[string]any{"instance_ids": []string{"a"}}, "command: must be 1 to 1024 bytes, got 0"},
		{"empty command", map[string]any{"command": "", "instance_ids": []string{"a"}}, "command:"},
		{"1025 bytes", map[string]any{"command": strings.Repeat("a", 1025), "instance_ids": []string{"a"}}, "got 1025"},
		{"newline", map[string]any{"command": "ls\nrm", "instance_ids": []string{"a"}}, `command: control character '\n' at byte 2`},
		{"missing ids", map[string]any{"command": "ls"}, "instance_ids: must contain 1 to 100 instance ids, got 0"},
		{"empty ids", map[string]any{"command": "ls", "instance_ids": []string{}}, "got 0"},
		{"101 ids", map[string]any{"command": "ls", "instance_ids": ids(101)}, "got 101"},
		{"empty id", map[string]any{"command": "ls", "instance_ids": []string{"a", ""}}, "instance_ids[1]: must be 1 to 32 characters, got 0"},
		{"33-char id", map[string]any{"command": "ls", "instance_ids": []string{strings.Repeat("i", 33)}}, "instance_ids[0]: must be 1 to 32 characters, got 33"},
		{"duplicate id", map[string]any{"command": "ls", "instance_ids": []string{"a", "b", "a"}}, `instance_ids[2]: duplicate of instance_ids[0] ("a")`},
		{"command not a string", `{"command":5,"instance_ids":["a"]}`, "command: must be a JSON string, got number"},
		{"ids not an array", `{"command":"ls","instance_ids":"a"}`, "instance_ids: must be a JSON array, got string"},
		{"unknown field", `{"command":"ls","instance_ids":["a"],"instanceIds":["b"]}`, `unknown field "instanceIds"`},
		{"not JSON", `command=ls`, "not valid JSON"},
		{"array body", `["ls"]`, "must be a JSON object"},
		{"empty body", ``, "request body is empty"},
		{"trailing data", `{"command":"ls","instance_ids":["a"]} {}`, "data after the JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := v.do(http.MethodPost, pathAsync, c.body)
			if c.want == "" {
				submitData(t, r)
				return
			}
			m := wantErr(t, r, http.StatusBadRequest, "KOOPHONE.API.1000")
			if msg := str(t, m["error_msg"]); !strings.Contains(msg, c.want) {
				t.Errorf("error_msg %q, want containing %q", msg, c.want)
			}
			if _, has := m["request_id"]; has {
				t.Errorf("KooPhone error has request_id: %s", r.body)
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	v := newEnv(t, Options{})
	big := `{"command":"ls","instance_ids":["a"],"x":"` + strings.Repeat("a", 1<<20) + `"}`
	for _, path := range []string{pathAsync, pathInstall} {
		r := v.do(http.MethodPost, path, big)
		m := wantErr(t, r, http.StatusRequestEntityTooLarge, "APIGW.0201")
		if m["request_id"] != r.header.Get("X-Request-Id") {
			t.Errorf("request_id %v", m["request_id"])
		}
	}
	// Without a Content-Length (chunked) the limit still holds.
	req := v.newRequest(http.MethodPost, pathAsync, nil)
	req.Body = http.NoBody
	pr := strings.NewReader(big)
	req.Body = readCloser{pr}
	req.ContentLength = -1
	res, err := v.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked: status %d", res.StatusCode)
	}
	// Exactly 1 MiB is allowed (then fails validation on the unknown field, not size).
	exact := `{"command":"ls","instance_ids":["a"],"x":"` + strings.Repeat("a", 1<<20-len(`{"command":"ls","instance_ids":["a"],"x":""}`)) + `"}`
	if len(exact) != 1<<20 {
		t.Fatalf("len %d", len(exact))
	}
	wantErr(t, v.do(http.MethodPost, pathAsync, exact), http.StatusBadRequest, "KOOPHONE.API.1000")
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func validInstall() map[string]any {
	return map[string]any{
		"object_name":         "com.example.app",
		"file_name":           "app.apk",
		"object_version":      "1.2.3",
		"object_size":         "12.5",
		"biz_type":            "apk",
		"content_type":        "obs",
		"content_md5":         "",
		"install_package_url": "https://bucket.obs.cn-south-1.myhuaweicloud.com/app.apk",
		"instance_id_list":    []string{"p1", "p2"},
	}
}

// App installs go 0 (not started) -> 1 (running) -> 2 or 3, as the real
// API reports them.
func TestInstallAppLifecycle(t *testing.T) {
	synctest.Test(t, testInstallAppLifecycle)
}

func testInstallAppLifecycle(t *testing.T) {
	v := bubbleEnv(t, Options{JobDuration: 2 * time.Second, Instances: []string{"p1"}})
	r := v.do(http.MethodPost, pathInstall, validInstall())
	taskID, cmdJobs := submitData(t, r)
	if !installRe.MatchString(taskID) {
		t.Errorf("task_id %q", taskID)
	}
	if len(cmdJobs) != 2 || cmdJobs[0]["instance_id"] != "p1" || cmdJobs[1]["instance_id"] != "p2" {
		t.Errorf("cmd_jobs %v", cmdJobs)
	}
	statuses := func() string {
		var out []string
		for _, j := range jobsOf(t, v.getTask(taskID)) {
			out = append(out, fmt.Sprint(j["status"]))
		}
		return strings.Join(out, ",")
	}
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{
		{0, "0,0"},
		{time.Second - time.Millisecond, "0,0"},
		{time.Millisecond, "1,1"},
		{time.Second - time.Millisecond, "1,1"},
		{time.Millisecond, "2,3"},
	} {
		time.Sleep(step.advance)
		if got := statuses(); got != step.want {
			t.Fatalf("statuses %s after %v more, want %s", got, step.advance, step.want)
		}
	}
	r = v.getTask(taskID)
	if got, want := jobJSON(t, r, 0), fmt.Sprintf(`{"job_id":"%s","status":2,"error_code":"","error_msg":"","execute_msg":"Success"}`, cmdJobs[0]["job_id"]); got != want {
		t.Errorf("job 0: %s\nwant %s", got, want)
	}
	if got := jobJSON(t, r, 1); !strings.Contains(got, `"status":3,"error_code":"CPS0005","error_msg":"Phone not found.","execute_msg":null`) {
		t.Errorf("job 1: %s", got)
	}
}

func TestInstallAppValidation(t *testing.T) {
	v := newEnv(t, Options{})
	with := func(k string, val any) map[string]any {
		m := validInstall()
		if val == nil {
			delete(m, k)
		} else {
			m[k] = val
		}
		return m
	}
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name   string
		body   any
		status int    // 0: success
		code   string // expected error_code
		want   string // substring of error_msg
	}{
		{"valid", validInstall(), 0, "", ""},
		{"fast_install 0", with("fast_install", "0"), 0, "", ""},
		{"fast_install 1", with("fast_install", "1"), 0, "", ""},
		{"no content_md5", with("content_md5", nil), 0, "", ""},
		{"100-char object_name", with("object_name", long(100)), 0, "", ""},
		{"object_size integer string", with("object_size", "30"), 0, "", ""},
		{"fast_install 2", with("fast_install", "2"), 200, "KOOPHONE.API.3008", `got "2"`},
		{"fast_install empty", with("fast_install", ""), 200, "KOOPHONE.API.3008", "fast_install"},
		{"fast_install yes", with("fast_install", "yes"), 200, "KOOPHONE.API.3008", "fast_install"},
		{"fast_install number", with("fast_install", 1), 400, "KOOPHONE.API.1000", "fast_install: must be a JSON string, got number"},
		{"missing object_name", with("object_name", nil), 400, "KOOPHONE.API.1000", "object_name: required"},
		{"long object_name", with("object_name", long(101)), 400, "KOOPHONE.API.1000", "object_name: must be 1 to 100 characters, got 101"},
		{"missing file_name", with("file_name", nil), 400, "KOOPHONE.API.1000", "file_name: required"},
		{"long file_name", with("file_name", long(101)), 400, "KOOPHONE.API.1000", "file_name"},
		{"missing object_version", with("object_version", nil), 400, "KOOPHONE.API.1000", "object_version: required"},
		{"missing object_size", with("object_size", nil), 400, "KOOPHONE.API.1000", "object_size: required"},
		{"object_size not numeric", with("object_size", "big"), 400, "KOOPHONE.API.1000", "object_size: must be a non-negative decimal"},
		{"object_size negative", with("object_size", "-1"), 400, "KOOPHONE.API.1000", "object_size"},
		{"object_size as number", with("object_size", 12), 400, "KOOPHONE.API.1000", "object_size: must be a JSON string"},
		{"biz_type xapk", with("biz_type", "xapk"), 400, "KOOPHONE.API.1000", `biz_type: must be "apk", got "xapk"`},
		{"missing biz_type", with("biz_type", nil), 400, "KOOPHONE.API.1000", "biz_type"},
		{"missing content_type", with("content_type", nil), 400, "KOOPHONE.API.1000", "content_type: required"},
		{"long content_type", with("content_type", long(65)), 400, "KOOPHONE.API.1000", "content_type"},
		{"long content_md5", with("content_md5", long(201)), 400, "KOOPHONE.API.1000", "content_md5: must be 0 to 200 characters, got 201"},
		{"missing url", with("install_package_url", nil), 400, "KOOPHONE.API.1000", "install_package_url: required"},
		{"relative url", with("install_package_url", "app.apk"), 400, "KOOPHONE.API.1000", "install_package_url: must be an absolute http(s) URL"},
		{"ftp url", with("install_package_url", "ftp://h/app.apk"), 400, "KOOPHONE.API.1000", "install_package_url"},
		{"long url", with("install_package_url", "https://h/"+long(2000)), 400, "KOOPHONE.API.1000", "install_package_url: must be 1 to 2000"},
		{"missing list", with("instance_id_list", nil), 400, "KOOPHONE.API.1000", "instance_id_list: must contain 1 to 100"},
		{"long id", with("instance_id_list", []string{long(33)}), 400, "KOOPHONE.API.1000", "instance_id_list[0]"},
		{"dup id", with("instance_id_list", []string{"a", "a"}), 400, "KOOPHONE.API.1000", "instance_id_list[1]: duplicate"},
		{"instance_ids spelling", with("instance_ids", []string{"a"}), 400, "KOOPHONE.API.1000", `unknown field "instance_ids"`},
		// Parameter validation comes before the fast_install business check.
		{"bad field and fast_install", with("biz_type", "zip"), 400, "KOOPHONE.API.1000", "biz_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := c.body
			if m, ok := body.(map[string]any); ok && c.name == "bad field and fast_install" {
				m["fast_install"] = "9"
			}
			r := v.do(http.MethodPost, pathInstall, body)
			if c.status == 0 {
				id, _ := submitData(t, r)
				if !installRe.MatchString(id) {
					t.Errorf("task id %q", id)
				}
				return
			}
			m := wantErr(t, r, c.status, c.code)
			if msg := str(t, m["error_msg"]); !strings.Contains(msg, c.want) {
				t.Errorf("error_msg %q, want containing %q", msg, c.want)
			}
		})
	}
}

func TestCommandOutput(t *testing.T) {
	for _, cmd := range []string{"ls", "echo hello world", "getprop ro.build.version.release", "pm list packages", "whoami", "reboot", strings.Repeat("a", 1024), "echo " + strings.Repeat("b", 1100)} {
		for _, inst := range []string{"p1", strings.Repeat("é", 32)} {
			out := commandOutput(cmd, inst)
			if out == "" || len(out) > 1024 || !utf8.ValidString(out) {
				t.Errorf("commandOutput(%.20q, %q) = %d bytes %.40q", cmd, inst, len(out), out)
			}
			if out != commandOutput(cmd, inst) {
				t.Error("not deterministic")
			}
		}
	}
	if got := commandOutput("echo hi there", "p"); got != "hi there\n" {
		t.Errorf("echo: %q", got)
	}
	if got := truncateUTF8("aé", 2); got != "a" {
		t.Errorf("truncateUTF8 split a rune: %q", got)
	}
}

// The emulator accepts exactly the commands the provider promises to send
// as written (see validateCommand): anything but control characters and
// invalid UTF-8, up to 1024 bytes.
func TestCommandRules(t *testing.T) {
	v := newEnv(t, Options{})
	cases := []struct {
		name string
		cmd  string
		want string // substring of the validation error; "" means accepted
	}{
		{"space", "ls -l /system", ""},
		{"pipe and redirection", "ps -A | grep phone > /sdcard/ps.txt", ""},
		{"semicolon, ampersand, dollar", "cd /sdcard; ls && echo $HOME", ""},
		{"quotes", `echo "it's" 'ok' \"x\"`, ""},
		{"equals and brackets", "settings put global a=b; [ -f x ] && (echo {y})", ""},
		{"unicode", "echo 日本語 é 🙂", ""},
		{"encoded U+FFFD", "echo \uFFFD", ""},
		{"C1 control", "echo \u0085", ""},
		{"exactly 1024 bytes", strings.Repeat("é", 512), ""},
		{"empty", "", "command: must be 1 to 1024 bytes, got 0"},
		{"1025 bytes", strings.Repeat("a", 1025), "command: must be 1 to 1024 bytes, got 1025"},
		{"newline", "ls\nrm -rf /", `command: control character '\n' at byte 2`},
		{"carriage return", "ls\r", `'\r' at byte 2`},
		{"tab", "ls\t-l", `'\t' at byte 2`},
		{"NUL", "ls\x00", `'\x00' at byte 2`},
		{"escape", "echo \x1b[31m", `'\x1b' at byte 5`},
		{"unit separator", "a\x1f", `'\x1f' at byte 1`},
		{"DEL", "ls\x7f", `'\x7f' at byte 2`},
		{"control after multibyte", "é\n", `'\n' at byte 2`},
		{"invalid UTF-8", "echo \xff", "command: byte 0xff at byte 5 is not valid UTF-8"},
		{"truncated sequence", "echo \xc3", "command: byte 0xc3 at byte 5 is not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validateCommand(c.cmd)
			if c.want == "" {
				if err != nil {
					t.Fatalf("validateCommand(%q) = %v, want accepted", c.cmd, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("validateCommand(%q) = %v, want containing %q", c.cmd, err, c.want)
			}
			// Over the wire: encoding/json would turn invalid UTF-8 into
			// U+FFFD, so build the body by hand to send the bytes as they are.
			body := `{"command":"` + jsonEscapeKeepInvalid(c.cmd) + `","instance_ids":["a"]}`
			r := v.do(http.MethodPost, pathAsync, body)
			switch {
			case c.want == "":
				submitData(t, r)
			case !utf8.ValidString(c.cmd):
				m := wantErr(t, r, http.StatusBadRequest, "KOOPHONE.API.1000")
				if msg := str(t, m["error_msg"]); !strings.Contains(msg, "request body is not valid UTF-8: byte ") {
					t.Errorf("error_msg %q", msg)
				}
			default:
				m := wantErr(t, r, http.StatusBadRequest, "KOOPHONE.API.1000")
				if msg := str(t, m["error_msg"]); !strings.Contains(msg, c.want) {
					t.Errorf("error_msg %q, want containing %q", msg, c.want)
				}
			}
		})
	}
}

// jsonEscapeKeepInvalid returns s as the inside of a JSON string, escaping
// what JSON requires but leaving bytes that are not valid UTF-8 as they are.
func jsonEscapeKeepInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Both shapes of the app-install answer (Huawei changed it in SDK
// 3.1.207); the async-command answer stays flat either way.
func TestInstallResponseShapes(t *testing.T) {
	cases := []struct {
		opt    string
		nested bool
	}{
		{"", false},
		{InstallResponseFlat, false},
		{InstallResponseNested, true},
	}
	for _, c := range cases {
		t.Run("option "+c.opt, func(t *testing.T) {
			v := newEnv(t, Options{InstallResponse: c.opt})
			r := v.do(http.MethodPost, pathInstall, validInstall())
			var env struct {
				ErrorCode string          `json:"error_code"`
				Data      json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(r.body, &env); err != nil || r.status != http.StatusOK || env.ErrorCode != "0" {
				t.Fatalf("%d %s: %v", r.status, r.body, err)
			}
			type submit struct {
				TaskID  string       `json:"task_id"`
				CmdJobs []wireCmdJob `json:"cmd_jobs"`
			}
			var outer struct {
				submit
				Data *submit `json:"data"`
			}
			if err := json.Unmarshal(env.Data, &outer); err != nil {
				t.Fatalf("data %s: %v", env.Data, err)
			}
			got := outer.submit
			if c.nested {
				if outer.TaskID != "" || outer.CmdJobs != nil || outer.Data == nil {
					t.Fatalf("nested: want only data.data, got %s", env.Data)
				}
				got = *outer.Data
			} else if outer.Data != nil {
				t.Fatalf("flat: unexpected data.data in %s", env.Data)
			}
			if !installRe.MatchString(got.TaskID) || len(got.CmdJobs) != 2 || got.CmdJobs[1].InstanceID != "p2" {
				t.Fatalf("submit data %+v from %s", got, r.body)
			}
			if ids := v.emu.TaskIDs(); len(ids) != 1 || ids[0] != got.TaskID {
				t.Errorf("TaskIDs %v, want [%s]", ids, got.TaskID)
			}
			if jobs := jobsOf(t, v.getTask(got.TaskID)); len(jobs) != 2 || jobs[0]["job_id"] != got.CmdJobs[0].JobID {
				t.Errorf("task jobs %v, cmd_jobs %+v", jobs, got.CmdJobs)
			}
			// The async-command answer is flat whatever the option.
			taskID, cmdJobs := submitData(t, v.do(http.MethodPost, pathAsync, map[string]any{"command": "ls", "instance_ids": []string{"a"}}))
			if !hex32Re.MatchString(taskID) || len(cmdJobs) != 1 {
				t.Errorf("async-command answer: task %q, cmd_jobs %v", taskID, cmdJobs)
			}
		})
	}
}

func TestInstallResponseOptionPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `Options.InstallResponse "Nested"`) {
			t.Errorf("recovered %v, want a panic naming the bad value", r)
		}
	}()
	New(Options{Token: testToken, InstallResponse: "Nested"})
}

// A submit for a phone that is not among Options.Instances is accepted
// and gives a job that fails with CPS0005, for commands (-1) and installs
// (3) alike.
func TestSubmitUnknownInstanceFails(t *testing.T) {
	v := newEnv(t, Options{Instances: []string{"known"}, JobDuration: -1})
	for _, c := range []struct {
		path       string
		body       any
		wantStatus string
	}{
		{pathAsync, map[string]any{"command": "ls", "instance_ids": []string{"ghost"}}, "-1"},
		{pathInstall, func() map[string]any { m := validInstall(); m["instance_id_list"] = []string{"ghost"}; return m }(), "3"},
	} {
		id, _ := submitData(t, v.do(http.MethodPost, c.path, c.body))
		r := v.getTask(id)
		j := jobsOf(t, r)[0]
		if fmt.Sprint(j["status"]) != c.wantStatus || j["error_code"] != "CPS0005" || j["error_msg"] != "Phone not found." {
			t.Errorf("%s: job %s", c.path, jobJSON(t, r, 0))
		}
	}
}
