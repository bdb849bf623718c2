package provider

import (
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// BenchmarkInstanceTasksRead is one koophone_instance_tasks read of 1,000
// finished tasks of 100 jobs each, through the framework's protocol 6
// server as Terraform calls it (msgpack in and out, without the gRPC
// transport), against the emulator on loopback, for each include_jobs. It
// reports the peak heap seen during the read, a lower bound of the
// provider's peak memory, and the size of the state.
func BenchmarkInstanceTasksRead(b *testing.B) {
	const tasks, jobs = 1000, 100
	emu := emulator.New(emulator.Options{Token: accToken})
	ids := make([]string, tasks)
	for i := range ids {
		specs := make([]emulator.JobSpec, jobs)
		for j := range specs {
			specs[j] = emulator.JobSpec{Status: emulator.StatusSucceeded, ExecuteMsg: str("Success")}
		}
		if i%10 == 0 {
			specs[0] = emulator.JobSpec{Status: emulator.StatusFailed, ErrorCode: str("CPS0005"), ErrorMsg: str("Phone not found.")}
		}
		id, err := emu.AddTask(emulator.TaskSpec{Jobs: specs})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	for _, include := range []string{includeFailedJobs, includeAllJobs, includeNoJobs} {
		b.Run("include_jobs="+include, func(b *testing.B) {
			f := newTasksFixture(b, providerserver.NewProtocol6(New("bench")())(), srv.URL, 0, ids,
				map[string]tftypes.Value{"include_jobs": tftypes.NewValue(tftypes.String, include)})
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				runtime.GC()
				stop := sampleHeap(&peak)
				state := f.read(b)
				stop()
				b.ReportMetric(float64(len(state.MsgPack))/(1<<20), "state-MiB")
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// BenchmarkInstanceTasksReadThousandIDs is a read of the largest task_ids,
// 1,000 finished tasks of one job, include_jobs = "none": what the
// framework's handling of the ids costs (see instanceTasksModel).
func BenchmarkInstanceTasksReadThousandIDs(b *testing.B) {
	emu := emulator.New(emulator.Options{Token: accToken})
	ids := make([]string, maxTaskIDs)
	for i := range ids {
		id, err := emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	f := newTasksFixture(b, providerserver.NewProtocol6(New("bench")())(), srv.URL, 0, ids,
		map[string]tftypes.Value{"include_jobs": tftypes.NewValue(tftypes.String, includeNoJobs)})
	b.ReportAllocs()
	for b.Loop() {
		f.read(b)
	}
}

// sampleHeap records the largest HeapInuse seen until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			*peak = max(*peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
