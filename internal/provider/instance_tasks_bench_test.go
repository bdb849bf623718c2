package provider

import (
	"context"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"go.uber.org/goleak"

	"github.com/koophone/terraform-provider-koophone/internal/clockctx"
	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// tasksFixture is a configured provider server and the configuration of a
// koophone_instance_tasks read of the emulator's tasks.
type tasksFixture struct {
	server tfprotov6.ProviderServer
	config tfprotov6.DynamicValue
	typ    tftypes.Object
}

// newTasksFixture configures server against endpoint (rateLimit 0: no
// cap) and prepares a read of ids, with more arguments of the data source
// from args.
func newTasksFixture(tb testing.TB, server tfprotov6.ProviderServer, endpoint string, rateLimit float64, ids []string, args map[string]tftypes.Value) *tasksFixture {
	tb.Helper()
	schemas := configureServer(tb, server, endpoint, rateLimit)
	typ, ok := schemas.DataSourceSchemas["koophone_instance_tasks"].ValueType().(tftypes.Object)
	if !ok {
		tb.Fatal("the data source's type is not an object")
	}
	vals := nullAttributes(typ)
	elems := make([]tftypes.Value, len(ids))
	for i, id := range ids {
		elems[i] = tftypes.NewValue(tftypes.String, id)
	}
	vals["task_ids"] = tftypes.NewValue(tftypes.Set{ElementType: tftypes.String}, elems)
	for name, v := range args {
		vals[name] = v
	}
	config, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		tb.Fatal(err)
	}
	return &tasksFixture{server: server, config: config, typ: typ}
}

// nullAttributes returns a value for every attribute of typ, all null: a
// configuration where nothing is set, for a test to fill in.
func nullAttributes(typ tftypes.Object) map[string]tftypes.Value {
	vals := make(map[string]tftypes.Value, len(typ.AttributeTypes))
	for name, t := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(t, nil)
	}
	return vals
}

// configureServer configures the provider of server for the emulator at
// endpoint and returns the provider's schemas.
func configureServer(tb testing.TB, server tfprotov6.ProviderServer, endpoint string, rateLimit float64) *tfprotov6.GetProviderSchemaResponse {
	tb.Helper()
	ctx := context.Background()
	schemas, err := server.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		tb.Fatal(err)
	}
	providerType, ok := schemas.Provider.ValueType().(tftypes.Object)
	if !ok {
		tb.Fatal("the provider's type is not an object")
	}
	// Every argument null, except those the test sets.
	args := nullAttributes(providerType)
	args["endpoint"] = tftypes.NewValue(tftypes.String, endpoint)
	args["token"] = tftypes.NewValue(tftypes.String, accToken)
	if rateLimit > 0 {
		args["rate_limit"] = tftypes.NewValue(tftypes.Number, rateLimit)
	}
	providerConfig, err := tfprotov6.NewDynamicValue(providerType, tftypes.NewValue(providerType, args))
	if err != nil {
		tb.Fatal(err)
	}
	if resp, err := server.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &providerConfig}); err != nil || len(resp.Diagnostics) > 0 {
		tb.Fatalf("configure: %v %v", err, resp.Diagnostics)
	}
	return schemas
}

func (f *tasksFixture) read(tb testing.TB) *tfprotov6.DynamicValue {
	tb.Helper()
	resp, err := f.server.ReadDataSource(context.Background(), &tfprotov6.ReadDataSourceRequest{TypeName: "koophone_instance_tasks", Config: &f.config})
	if err != nil || len(resp.Diagnostics) > 0 {
		tb.Fatalf("read: %v %v", err, resp.Diagnostics)
	}
	return resp.State
}

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
// framework's handling of the id set costs (see task_ids_type.go).
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

// After a read of many tasks with waiting, no goroutine of the wait
// engine, the rate limiter or the client is left running.
func TestNoGoroutineOutlivesARead(t *testing.T) {
	ignoreEarlier := goleak.IgnoreCurrent()
	emu := emulator.New(emulator.Options{Token: accToken})
	var ids []string
	for i := range 30 {
		id, err := emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: i % 4}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	// An auto-advancing clock: pauses take no time; and a rate limit, so
	// that polls queue.
	f := newTasksFixture(t, providerserver.NewProtocol6(New("test", WithClock(clockctx.NewAutoClock(time.Now())))())(), srv.URL, 50, ids,
		map[string]tftypes.Value{"wait_for_completion": tftypes.NewValue(tftypes.Bool, true)})
	state, err := f.read(t).Unmarshal(f.typ)
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]tftypes.Value
	if err := state.As(&attrs); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := attrs["state"].As(&got); err != nil || got != "successful" {
		t.Fatalf("state = %q, %v", got, err)
	}
	srv.CloseClientConnections()
	goleak.VerifyNone(t, ignoreEarlier, goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"), goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}
