package koophone

import (
	"testing"
)

// FuzzDecodeTask feeds arbitrary bodies to the response decoding. It must
// never panic, and whatever it accepts must make a consistent summary.
func FuzzDecodeTask(f *testing.F) {
	for _, seed := range []string{
		okTwoJobs,
		`{"error_code":"0","error_msg":"ok","data":{"jobs":[]}}`,
		`{"error_code":0,"data":{"jobs":[{"job_id":null,"status":"2"}]}}`,
		`{"error_code":"KOOPHONE.API.1323","error_msg":"The app installation task does not exist."}`,
		`{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"x"}`,
		`<html><body>502 Bad Gateway</body></html>`,
		`{"error_code":"0","data":{"jobs":[{`,
		`{"error_code":"0","data":{"jobs":[{"job_id":"a","status":9223372036854775807}]}}`,
		`{"error_code":"0","data":{"jobs":[{"job_id":"a","status":-1,"execute_msg":"\u0000\ud800"}]}}`,
		``,
	} {
		f.Add([]byte(seed), "application/json")
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		env, err := decodeEnvelope(200, contentType, body, []string{"secret"})
		if err != nil {
			if _, ok := err.(*ResponseError); !ok {
				t.Fatalf("decodeEnvelope returned %T, want *ResponseError", err)
			}
			return
		}
		jobs, err := decodeTaskData(env.Data)
		if err != nil {
			return
		}
		s := Task{Jobs: jobs}.Summary()
		if s.Running+s.Successful+s.Failed+s.Unknown != s.Jobs || s.Jobs != len(jobs) {
			t.Fatalf("inconsistent summary %+v for %d jobs", s, len(jobs))
		}
	})
}
