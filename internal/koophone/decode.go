package koophone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// envelope is the shape of every KooPhone answer, and of the API gateway's
// error answers (which add request_id).
type envelope struct {
	ErrorCode Text            `json:"error_code"`
	ErrorMsg  Text            `json:"error_msg"`
	RequestID Text            `json:"request_id"`
	Data      json.RawMessage `json:"data"`
}

// Text is a string of the API that accepts a JSON string, null (as ""), or
// a number (as its text): the API documents strings, but its examples show
// null, and error codes are sometimes numbers in the wild.
type Text string

func (s *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case isNull(b):
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = Text(v)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*s = Text(n.String())
	default:
		return fmt.Errorf("expected a string, got %s", excerptBytes(b, 40))
	}
	return nil
}

// Number is an integer of the API that accepts a JSON integer, a string
// holding one, or null (as 0): a quoted status is tolerated rather than
// failing a whole read.
type Number int64

func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isNull(b) {
		*n = 0
		return nil
	}
	text := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		text = strings.TrimSpace(text)
	}
	v, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return fmt.Errorf("expected an integer status, got %s", excerptBytes(b, 40))
	}
	*n = Number(v)
	return nil
}

// isNull reports whether a JSON value is null, or absent altogether.
func isNull(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// decodeEnvelope parses a response body into the envelope, or returns a
// ResponseError for anything that is not a JSON object.
func decodeEnvelope(status int, contentType string, body []byte, secrets []string) (envelope, *ResponseError) {
	var env envelope
	trimmed := bytes.TrimSpace(body)
	fail := func(reason string) *ResponseError {
		return &ResponseError{HTTPStatus: status, ContentType: contentType, Reason: reason, Excerpt: safeExcerpt(trimmed, secrets)}
	}
	switch {
	case len(trimmed) == 0:
		return env, fail("the body is empty")
	case strings.Contains(strings.ToLower(contentType), "html") || trimmed[0] == '<':
		return env, fail("got an HTML page instead of JSON (a proxy or gateway error page, or an endpoint that is not the KooPhone API)")
	}
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return env, fail("the body is not valid KooPhone JSON: " + err.Error())
	}
	return env, nil
}

// decodeTaskData parses the data member of a GET task answer.
func decodeTaskData(raw json.RawMessage) ([]Job, error) {
	if isNull(raw) {
		return nil, errors.New("the response has no data member")
	}
	var d struct {
		Jobs []struct {
			JobID      Text   `json:"job_id"`
			Status     Number `json:"status"`
			ErrorCode  Text   `json:"error_code"`
			ErrorMsg   Text   `json:"error_msg"`
			ExecuteMsg Text   `json:"execute_msg"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("the data member is not a task: %w", err)
	}
	jobs := make([]Job, 0, len(d.Jobs))
	for _, w := range d.Jobs {
		jobs = append(jobs, Job{
			JobID:      string(w.JobID),
			Status:     int64(w.Status),
			ErrorCode:  string(w.ErrorCode),
			ErrorMsg:   string(w.ErrorMsg),
			ExecuteMsg: string(w.ExecuteMsg),
		})
	}
	return jobs, nil
}

// excerptMax bounds how much of an unexpected body an error quotes.
const excerptMax = 120

// safeExcerpt returns the start of body as a short, printable, valid UTF-8
// string without the secrets, so that an error can show what came back
// without flooding the terminal or leaking a credential a server echoed.
func safeExcerpt(body []byte, secrets []string) string {
	var b strings.Builder
	space := false
	runes := 0
	for _, r := range redact(strings.ToValidUTF8(string(body), "\uFFFD"), secrets) {
		if unicode.IsSpace(r) {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
				runes++
			}
			space = true
			continue
		}
		space = false
		if !unicode.IsPrint(r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		runes++
		if runes >= excerptMax {
			return strings.TrimSpace(b.String()) + "…"
		}
	}
	return strings.TrimSpace(b.String())
}

func excerptBytes(b []byte, n int) string {
	text := string(b)
	if len(text) > n {
		text = text[:n] + "…"
	}
	return strings.ToValidUTF8(text, "\uFFFD")
}
