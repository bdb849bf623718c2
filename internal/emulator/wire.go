package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// This file holds the emulator's own wire structs. They are deliberately
// independent of the provider's client package so that a decoding bug in
// the client cannot be masked by sharing types with the fake.

const jsonContentType = "application/json;charset=UTF-8"

// envelope is the common KooPhone response body. RequestID is only filled
// for gateway-style (APIGW.*) errors, which carry it in the real service;
// Data is omitted when nil.
type envelope struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
	RequestID string `json:"request_id,omitempty"`
	Data      any    `json:"data,omitempty"`
}

type wireJob struct {
	JobID      string  `json:"job_id"`
	Status     int     `json:"status"`
	ErrorCode  *string `json:"error_code"`
	ErrorMsg   *string `json:"error_msg"`
	ExecuteMsg *string `json:"execute_msg"`
}

type wireJobsData struct {
	Jobs []wireJob `json:"jobs"`
}

type wireCmdJob struct {
	InstanceID string `json:"instance_id"`
	JobID      string `json:"job_id"`
}

type wireSubmitData struct {
	TaskID  string       `json:"task_id"`
	CmdJobs []wireCmdJob `json:"cmd_jobs"`
}

// wireNestedSubmitData is the older app-install answer's data (Huawei SDK
// 3.1.164 to 3.1.206, RmInstallAppResp): the flat data one level deeper.
type wireNestedSubmitData struct {
	Data wireSubmitData `json:"data"`
}

type asyncCommandRequest struct {
	Command     string   `json:"command"`
	InstanceIDs []string `json:"instance_ids"`
}

type installAppRequest struct {
	ObjectName        string   `json:"object_name"`
	FileName          string   `json:"file_name"`
	ObjectVersion     string   `json:"object_version"`
	ObjectSize        string   `json:"object_size"`
	BizType           string   `json:"biz_type"`
	ContentType       string   `json:"content_type"`
	ContentMD5        string   `json:"content_md5"`
	InstallPackageURL string   `json:"install_package_url"`
	FastInstall       *string  `json:"fast_install"`
	InstanceIDList    []string `json:"instance_id_list"`
}

// marshalJSON encodes v without HTML escaping (like a typical Java backend)
// and without the trailing newline json.Encoder adds.
func marshalJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only emulator-built values reach here; they always encode.
		panic("emulator: encoding response: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// writeJSON writes v as a complete JSON response with an exact
// Content-Length.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body := marshalJSON(v)
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func strPtr(s string) *string { return &s }

// bufferWriter is a minimal in-memory http.ResponseWriter used when a fault
// needs the complete normal answer before deciding how to (mis)deliver it.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferWriter() *bufferWriter { return &bufferWriter{header: make(http.Header)} }

func (b *bufferWriter) Header() http.Header { return b.header }

func (b *bufferWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferWriter) statusCode() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}
