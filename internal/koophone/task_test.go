package koophone

import "testing"

func jobs(statuses ...int64) []Job {
	out := make([]Job, len(statuses))
	for i, s := range statuses {
		out[i] = Job{JobID: string(rune('a' + i)), Status: s}
	}
	return out
}

func TestTaskTally(t *testing.T) {
	cases := []struct {
		name     string
		statuses []int64
		want     Tally
		outcome  State
	}{
		{"no jobs yet", nil, Tally{}, Running},
		{"all running", []int64{1, 1}, Tally{Total: 2, Running: 2}, Running},
		{"all succeeded", []int64{2, 2, 2}, Tally{Total: 3, Successful: 3}, Successful},
		{"one failed, rest done", []int64{2, -1, 2}, Tally{Total: 3, Successful: 2, Failed: 1}, Failed},
		{"failed but still running", []int64{-1, 1}, Tally{Total: 2, Running: 1, Failed: 1}, Running},
		{"unknown status keeps it running", []int64{2, 7}, Tally{Total: 2, Successful: 1, Unknown: 1}, Running},
		{"all failed", []int64{-1, -1}, Tally{Total: 2, Failed: 2}, Failed},
		// App installs: 0 not started yet, 1 running, 2 succeeded, 3 failed.
		{"install not started", []int64{0, 0}, Tally{Total: 2, Pending: 2}, Running},
		{"install under way", []int64{0, 1, 2}, Tally{Total: 3, Pending: 1, Running: 1, Successful: 1}, Running},
		{"install failed on one phone", []int64{2, 3}, Tally{Total: 2, Successful: 1, Failed: 1}, Failed},
		{"both failure conventions", []int64{3, -1}, Tally{Total: 2, Failed: 2}, Failed},
		{"failed install, others pending", []int64{3, 0}, Tally{Total: 2, Pending: 1, Failed: 1}, Running},
		{"undocumented status", []int64{4, -2}, Tally{Total: 2, Unknown: 2}, Running},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Task{Jobs: jobs(c.statuses...)}.Tally()
			if got != c.want {
				t.Errorf("Tally = %+v, want %+v", got, c.want)
			}
			if o := got.Outcome(); o != c.outcome {
				t.Errorf("Outcome = %v, want %v", o, c.outcome)
			}
			if got.Finished() != c.want.Successful+c.want.Failed {
				t.Errorf("Finished = %d", got.Finished())
			}
		})
	}
}

// The jobs that failed are those whose status is either failure
// convention: -1 (commands) or 3 (app installs).
func TestFailedJobs(t *testing.T) {
	var failed []string
	for _, j := range (Task{Jobs: jobs(2, -1, 1, 3, 0)}).Jobs {
		if j.State() == Failed {
			failed = append(failed, j.JobID)
		}
	}
	if len(failed) != 2 || failed[0] != "b" || failed[1] != "d" {
		t.Errorf("failed jobs = %v, want [b d]", failed)
	}
}

// Outcome is the one rule for every outcome: Running while there is
// nothing yet or anything is unfinished (pending, running or unknown);
// once everything finished, Failed if anything failed (a missing job
// counts as failed), else Successful. Merging tallies decides the outcome
// of many tasks the same way.
func TestTallyOutcome(t *testing.T) {
	tally := func(states ...State) Tally {
		var t Tally
		for _, s := range states {
			t.Add(s)
		}
		return t
	}
	cases := []struct {
		name   string
		tally  Tally
		want   State
		failed int
	}{
		{"zero items", tally(), Running, 0},
		{"all successful", tally(Successful, Successful), Successful, 0},
		{"one failed", tally(Successful, Failed), Failed, 1},
		{"missing counts as failed", tally(Successful, Missing), Failed, 1},
		{"only missing", tally(Missing, Missing), Failed, 2},
		{"unknown keeps it running", tally(Successful, Unknown), Running, 0},
		{"unknown keeps a failure running", tally(Failed, Unknown), Running, 1},
		{"an unnamed state is unknown", tally(Successful, State("rebooting")), Running, 0},
		{"pending keeps it running", tally(Successful, Pending), Running, 0},
		{"pending keeps a failure running", tally(Missing, Pending), Running, 1},
		{"running", tally(Running, Successful), Running, 0},
		{"merge of two successes", merged(tally(Successful), tally(Successful, Successful)), Successful, 0},
		{"merge with a failure", merged(tally(Successful), tally(Failed)), Failed, 1},
		{"merge with a missing job", merged(tally(Successful), tally(Missing)), Failed, 1},
		{"merge with an unfinished tally", merged(tally(Failed), tally(Pending)), Running, 1},
		{"merge with an empty tally", merged(tally(Successful), tally()), Successful, 0},
		{"merge of empty tallies", merged(tally(), tally()), Running, 0},
	}
	for _, c := range cases {
		if got := c.tally.Outcome(); got != c.want {
			t.Errorf("%s: %+v.Outcome() = %v, want %v", c.name, c.tally, got, c.want)
		}
		if c.tally.Failed != c.failed {
			t.Errorf("%s: %+v counts %d failed, want %d", c.name, c.tally, c.tally.Failed, c.failed)
		}
	}
	// Merge adds every count.
	a := tally(Pending, Running, Successful)
	a.Merge(tally(Failed, Missing, Unknown, Successful))
	if want := (Tally{Total: 7, Pending: 1, Running: 1, Successful: 2, Failed: 2, Unknown: 1}); a != want {
		t.Errorf("merged tally %+v, want %+v", a, want)
	}
	if a.Finished() != 4 {
		t.Errorf("Finished = %d, want 4", a.Finished())
	}
}

// merged returns a with b merged into it.
func merged(a, b Tally) Tally {
	a.Merge(b)
	return a
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
