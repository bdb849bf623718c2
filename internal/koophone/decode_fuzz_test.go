package koophone

import (
	"testing"
)

// FuzzDecodeTask feeds arbitrary bodies to the response decoding. It must
// never panic, and whatever it accepts must make a consistent summary.
func FuzzDecodeTask(f *testing.F) {
	// The seed corpus is checked in under testdata/fuzz/FuzzDecodeTask.
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
