package koophone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// envelope is the common shape of every KooPhone answer, and of the API
// gateway's error answers (which add request_id).
type envelope struct {
	ErrorCode Text            `json:"error_code"`
	ErrorMsg  Text            `json:"error_msg"`
	RequestID Text            `json:"request_id"`
	Data      json.RawMessage `json:"data"`
}

type taskData struct {
	Jobs []wireJob `json:"jobs"`
}

type wireJob struct {
	JobID      Text   `json:"job_id"`
	Status     Number `json:"status"`
	ErrorCode  Text   `json:"error_code"`
	ErrorMsg   Text   `json:"error_msg"`
	ExecuteMsg Text   `json:"execute_msg"`
}

// Text is a string of the API that accepts a JSON string, null (as ""), or
// a number (as its text). The API documents strings, but its examples show
// null, and error codes are sometimes numbers in the wild.
type Text string

func (s *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = Text(v)
		return nil
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*s = Text(n.String())
		return nil
	default:
		return fmt.Errorf("expected a string, got %s", excerptBytes(b, 40))
	}
}

// Number is an integer of the API that accepts a JSON integer, a string
// holding one, or null (as 0). A status is documented as an integer; a
// quoted one is tolerated rather than failing a whole read.
type Number int64

func (n *Number) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*n = 0
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
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

// decodeEnvelope parses a response body into the common envelope. It
// returns a ResponseError for anything that is not a JSON object.
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
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil, fmt.Errorf("the response has no data member")
	}
	var d taskData
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

// excerptMax bounds how much of an unexpected body is quoted in an error.
const excerptMax = 120

// safeExcerpt returns the start of body as a short, printable, valid UTF-8
// string, with any of the secrets blanked out, so that an error message can
// show what came back without flooding the terminal or leaking a credential
// that a misbehaving server echoed.
func safeExcerpt(body []byte, secrets []string) string {
	text := strings.ToValidUTF8(string(body), "\uFFFD")
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "[REDACTED]")
		}
	}
	var b strings.Builder
	space := false
	runes := 0
	for _, r := range text {
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
