package provider

import (
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// tasksFixture is a configured provider server and the configuration of a
// koophone_instance_tasks read of the emulator's tasks.
type tasksFixture struct {
	server tfprotov6.ProviderServer
	config tfprotov6.DynamicValue
	typ    tftypes.Object
}

// newTasksFixture configures server (the framework's, or the provider's)
// against endpoint and prepares a read of ids, with more arguments of the
// data source from args.
func newTasksFixture(tb testing.TB, server tfprotov6.ProviderServer, endpoint string, rateLimit float64, ids []string, args map[string]tftypes.Value) *tasksFixture {
	tb.Helper()
	schemas := configureServer(tb, server, endpoint, rateLimit)
	typ, ok := schemas.DataSourceSchemas[instanceTasksTypeName].ValueType().(tftypes.Object)
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
	args["rate_limit"] = tftypes.NewValue(tftypes.Number, rateLimit)
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
	resp, err := f.server.ReadDataSource(context.Background(), &tfprotov6.ReadDataSourceRequest{TypeName: instanceTasksTypeName, Config: &f.config})
	if err != nil || len(resp.Diagnostics) > 0 {
		tb.Fatalf("read: %v %v", err, resp.Diagnostics)
	}
	return resp.State
}

// The provider's server writes the tasks of koophone_instance_tasks into
// the state itself; the state must be exactly what the framework makes of
// the same tasks through the shared task mapping.
func TestProviderServerEncodesTasksAsTheFrameworkDoes(t *testing.T) {
	emu := emulator.New(emulator.Options{Token: accToken})
	outputs := []*string{nil, str(""), str("Success"), str("多字节 output é 😀"), str(strings.Repeat("x", 40)),
		str(strings.Repeat("line\n", 60)), str(strings.Repeat("y", 1024)), str("\u0000 nul and \"quotes\"")}
	statuses := []int{emulator.StatusSucceeded, emulator.StatusFailed, emulator.StatusRunning, 7, -3, 0, 1 << 40, -1 << 40}
	var ids []string
	for i := range 40 {
		jobs := make([]emulator.JobSpec, i%20)
		for j := range jobs {
			jobs[j] = emulator.JobSpec{
				Status: statuses[(i+j)%len(statuses)], ExecuteMsg: outputs[(i*7+j)%len(outputs)],
				ErrorCode: outputs[(i+j*3)%len(outputs)], ErrorMsg: outputs[(i*5+j)%len(outputs)],
			}
		}
		spec := emulator.TaskSpec{Jobs: jobs}
		if i%5 == 0 {
			spec.TaskID = fmt.Sprintf("ZGCA%028d", i)
		}
		id, err := emu.AddTask(spec)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// Many tasks, beyond the 16-element array form, and one of 300 jobs.
	big := make([]emulator.JobSpec, 300)
	for j := range big {
		big[j] = emulator.JobSpec{Status: emulator.StatusSucceeded, ExecuteMsg: str("ok")}
	}
	id, err := emu.AddTask(emulator.TaskSpec{Jobs: big})
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, id)
	srv := httptest.NewServer(emu)
	defer srv.Close()

	framework := newTasksFixture(t, providerserver.NewProtocol6(New("test")())(), srv.URL, 10000, ids, nil)
	ours := newTasksFixture(t, NewProtocol6Server(New("test")())(), srv.URL, 10000, ids, nil)
	want, err := framework.read(t).Unmarshal(framework.typ)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ours.read(t).Unmarshal(ours.typ)
	if err != nil {
		t.Fatalf("the provider server's state does not decode: %v", err)
	}
	if !got.Equal(want) {
		diffs, _ := got.Diff(want)
		for i, d := range diffs {
			if i == 5 {
				break
			}
			t.Errorf("differs at %s: %v vs %v", d.Path, d.Value1, d.Value2)
		}
		t.Fatal("the provider server's state differs from the framework's")
	}
}

// BenchmarkInstanceTasksRead is one koophone_instance_tasks read of 1,000
// finished tasks of 100 jobs each, through a protocol 6 server as
// Terraform calls it (msgpack in and out, without the gRPC transport),
// against the emulator on loopback: through the framework alone, and
// through the provider's server. It reports the peak heap seen during the
// read, a lower bound of the provider's peak memory.
func BenchmarkInstanceTasksRead(b *testing.B) {
	const tasks, jobs = 1000, 100
	emu := emulator.New(emulator.Options{Token: accToken})
	ids := make([]string, tasks)
	for i := range ids {
		specs := make([]emulator.JobSpec, jobs)
		for j := range specs {
			specs[j] = emulator.JobSpec{Status: emulator.StatusSucceeded, ExecuteMsg: str("Success")}
		}
		id, err := emu.AddTask(emulator.TaskSpec{Jobs: specs})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	for _, c := range []struct {
		name   string
		server tfprotov6.ProviderServer
	}{
		{"framework", providerserver.NewProtocol6(New("bench")())()},
		{"provider-server", NewProtocol6Server(New("bench")())()},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := newTasksFixture(b, c.server, srv.URL, 10000, ids, nil)
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
