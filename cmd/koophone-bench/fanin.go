package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

const (
	fanInTasks    = 100
	fanInJobs     = 10
	fanInDuration = 30 * time.Second
	fanInLatency  = 20 * time.Millisecond
)

// fanInRun is one way of gating on the tasks.
type fanInRun struct {
	Wall     time.Duration
	LastDone time.Duration // when the last task finished, after the start
	Requests int
}

type fanInScenario struct {
	Name     string
	Singular fanInRun
	Plural   fanInRun
}

type fanInResult struct {
	Tasks, Jobs int
	Duration    time.Duration
	Scenarios   []fanInScenario
}

// lazyTasks creates each task the first time it is read, so that its 30 s
// start then: it models tasks submitted in the same run, just before the
// data source that gates on them is read.
type lazyTasks struct {
	emu     *emulator.Emulator
	mu      sync.Mutex
	pending map[string]emulator.TaskSpec
	started map[string]time.Time
}

func (l *lazyTasks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "/v1/instances/tasks/"
	if id, ok := strings.CutPrefix(r.URL.Path, prefix); ok {
		l.mu.Lock()
		if spec, ok := l.pending[id]; ok {
			delete(l.pending, id)
			if _, err := l.emu.AddTask(spec); err == nil {
				l.started[id] = time.Now()
			}
		}
		l.mu.Unlock()
	}
	l.emu.ServeHTTP(w, r)
}

func fanInSpec(id string) emulator.TaskSpec {
	jobs := make([]emulator.JobSpec, fanInJobs)
	for j := range jobs {
		jobs[j] = emulator.JobSpec{Status: emulator.StatusSucceeded, After: emulator.Duration(fanInDuration), ExecuteMsg: strp("Success")}
	}
	return emulator.TaskSpec{TaskID: id, Jobs: jobs}
}

// benchFanIn gates on 100 tasks of 30 s with 100 koophone_instance_task
// data sources (Terraform reads ten at a time) and with one
// koophone_instance_tasks, in two cases: every task started before the
// run, and every task starting when it is first read.
func benchFanIn(ctx context.Context, tfr *tfRunner, work string) (*fanInResult, error) {
	res := &fanInResult{Tasks: fanInTasks, Jobs: fanInJobs, Duration: fanInDuration}
	for _, sc := range []struct {
		name string
		lazy bool
	}{
		{"tasks started before the run", false},
		{"each task starts when it is first read (submitted in the same run)", true},
	} {
		scenario := fanInScenario{Name: sc.name}
		for _, plural := range []bool{false, true} {
			run, err := fanInOnce(ctx, tfr, work, sc.lazy, plural)
			if err != nil {
				return nil, err
			}
			kind := "100 x koophone_instance_task"
			if plural {
				scenario.Plural = run
				kind = "1 x koophone_instance_tasks"
			} else {
				scenario.Singular = run
			}
			logf("  %s, %s: wall %v (last task done at %v), %d requests", sc.name, kind,
				run.Wall.Round(time.Millisecond), run.LastDone.Round(time.Millisecond), run.Requests)
		}
		res.Scenarios = append(res.Scenarios, scenario)
	}
	return res, nil
}

func fanInOnce(ctx context.Context, tfr *tfRunner, work string, lazy, plural bool) (fanInRun, error) {
	l := &lazyTasks{pending: map[string]emulator.TaskSpec{}, started: map[string]time.Time{}}
	srv := newEmulatorServer(fanInLatency, func(emu *emulator.Emulator) http.Handler {
		l.emu = emu
		return l
	})
	defer srv.close()
	ids := make([]string, fanInTasks)
	start := time.Now()
	for i := range ids {
		ids[i] = fmt.Sprintf("%032x", uint64(start.UnixNano())+uint64(i))
		if lazy {
			l.pending[ids[i]] = fanInSpec(ids[i])
			continue
		}
		if _, err := srv.emu.AddTask(fanInSpec(ids[i])); err != nil {
			return fanInRun{}, err
		}
		l.started[ids[i]] = time.Now()
	}
	name := "fanin-singular"
	body := fmt.Sprintf(`
data "koophone_instance_task" "t" {
  count               = %d
  task_id             = local.ids[count.index]
  wait_for_completion = true
}

output "successful" {
  value = sum(data.koophone_instance_task.t[*].successful_count)
}
`, fanInTasks)
	if plural {
		name = "fanin-plural"
		body = `
data "koophone_instance_tasks" "t" {
  task_ids            = local.ids
  wait_for_completion = true
}

output "successful" {
  value = data.koophone_instance_tasks.t.successful_count
}
`
	}
	if lazy {
		name += "-lazy"
	}
	dir, err := workspace(work, name, map[string]string{
		"main.tf":  requiredProviders + "\nlocals {\n  ids = jsondecode(file(\"${path.module}/ids.json\"))\n}\n" + body,
		"ids.json": jsonIDs(ids),
	})
	if err != nil {
		return fanInRun{}, err
	}
	run, err := tfr.plan(ctx, dir, srv.server.URL)
	if err != nil {
		return fanInRun{}, err
	}
	wall := time.Since(start)
	if !strings.Contains(run.Output, fmt.Sprintf("successful = %d", fanInTasks*fanInJobs)) {
		return fanInRun{}, fmt.Errorf("the plan did not see every task succeed:\n%s", tail(run.Output, 30))
	}
	var last time.Time
	l.mu.Lock()
	for _, t := range l.started {
		if t.After(last) {
			last = t
		}
	}
	started := len(l.started)
	l.mu.Unlock()
	if started != fanInTasks {
		return fanInRun{}, fmt.Errorf("only %d of %d tasks were read", started, fanInTasks)
	}
	return fanInRun{Wall: wall, LastDone: last.Add(fanInDuration).Sub(start), Requests: len(srv.emu.Requests())}, nil
}
