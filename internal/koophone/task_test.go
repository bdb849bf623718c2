package koophone

import "testing"

func jobs(statuses ...int64) []Job {
	out := make([]Job, len(statuses))
	for i, s := range statuses {
		out[i] = Job{JobID: string(rune('a' + i)), Status: s}
	}
	return out
}

func TestSummary(t *testing.T) {
	cases := []struct {
		name     string
		statuses []int64
		want     Summary
	}{
		{"no jobs yet", nil, Summary{State: TaskRunning}},
		{"all running", []int64{1, 1}, Summary{Jobs: 2, Running: 2, State: TaskRunning}},
		{"all succeeded", []int64{2, 2, 2}, Summary{Jobs: 3, Successful: 3, State: TaskSuccessful}},
		{"one failed, rest done", []int64{2, -1, 2}, Summary{Jobs: 3, Successful: 2, Failed: 1, State: TaskFailed}},
		{"failed but still running", []int64{-1, 1}, Summary{Jobs: 2, Running: 1, Failed: 1, State: TaskRunning}},
		{"unknown status keeps it running", []int64{2, 7}, Summary{Jobs: 2, Successful: 1, Unknown: 1, State: TaskRunning}},
		{"all failed", []int64{-1, -1}, Summary{Jobs: 2, Failed: 2, State: TaskFailed}},
		// App installs: 0 not started yet, 1 running, 2 succeeded, 3 failed.
		{"install not started", []int64{0, 0}, Summary{Jobs: 2, Pending: 2, State: TaskRunning}},
		{"install under way", []int64{0, 1, 2}, Summary{Jobs: 3, Pending: 1, Running: 1, Successful: 1, State: TaskRunning}},
		{"install failed on one phone", []int64{2, 3}, Summary{Jobs: 2, Successful: 1, Failed: 1, State: TaskFailed}},
		{"both failure conventions", []int64{3, -1}, Summary{Jobs: 2, Failed: 2, State: TaskFailed}},
		{"failed install, others pending", []int64{3, 0}, Summary{Jobs: 2, Pending: 1, Failed: 1, State: TaskRunning}},
		{"undocumented status", []int64{4, -2}, Summary{Jobs: 2, Unknown: 2, State: TaskRunning}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Task{Jobs: jobs(c.statuses...)}.Summary()
			if got != c.want {
				t.Errorf("Summary = %+v, want %+v", got, c.want)
			}
			if got.Done() != (c.want.State != TaskRunning) {
				t.Errorf("Done = %v", got.Done())
			}
		})
	}
}

func TestFailedJobs(t *testing.T) {
	failed := Task{Jobs: jobs(2, -1, 1, 3, 0)}.FailedJobs()
	if len(failed) != 2 || failed[0].JobID != "b" || failed[1].JobID != "d" {
		t.Errorf("FailedJobs = %+v", failed)
	}
}

func TestTaskTypeOf(t *testing.T) {
	for id, want := range map[string]string{
		"ZGCA0123":                         TaskTypeAppInstall,
		"FULFILL-42":                       TaskTypeAppInstall,
		"6837531fd3f54550927b930180a706bf": TaskTypeCommand,
		"zgca0123":                         TaskTypeCommand,
	} {
		if got := TaskTypeOf(id); got != want {
			t.Errorf("TaskTypeOf(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestSafeExcerpt(t *testing.T) {
	long := make([]byte, 5000)
	for i := range long {
		long[i] = 'x'
	}
	if got := safeExcerpt(long, nil); len([]rune(got)) != excerptMax+1 {
		t.Errorf("excerpt of %d runes", len([]rune(got)))
	}
	if got := safeExcerpt([]byte("a\n\n\t b\x00\xffc secret"), []string{"secret"}); got != "a b\uFFFD\uFFFDc [REDACTED]" {
		t.Errorf("got %q", got)
	}
}
