package koophone

import (
	"strings"
	"testing"
)

// FuzzDecodeTask feeds arbitrary bodies to the response decoding. It must
// never panic, never quote the secret it was given, and whatever it
// accepts must make a consistent tally.
func FuzzDecodeTask(f *testing.F) {
	// The seed corpus is checked in under testdata/fuzz/FuzzDecodeTask.
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		env, respErr := decodeEnvelope(200, contentType, body, []string{"secret"})
		if respErr != nil {
			if respErr.Reason == "" || respErr.HTTPStatus != 200 {
				t.Fatalf("incomplete ResponseError %+v", respErr)
			}
			if strings.Contains(respErr.Excerpt, "secret") {
				t.Fatalf("the excerpt %q quotes the secret", respErr.Excerpt)
			}
			return
		}
		jobs, err := decodeTaskData(env.Data)
		if err != nil {
			return
		}
		s := Task{Jobs: jobs}.Tally()
		if s.Pending+s.Running+s.Successful+s.Failed+s.Unknown != s.Total || s.Total != len(jobs) {
			t.Fatalf("inconsistent tally %+v for %d jobs", s, len(jobs))
		}
	})
}
