package provider

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// Tests and benchmarks at the plugin protocol level: the provider served
// in-process through the framework's protocol 6 server, called as Terraform
// calls it (msgpack in and out, without the gRPC transport). In a
// testing/synctest bubble, with the emulator served in memory, they run on
// the bubble's fake clock, so timings are exact.

// protoRig is a provider server and the emulator it is configured for,
// served in memory; for tests in a synctest bubble.
type protoRig struct {
	emu    *emulator.Emulator
	server tfprotov6.ProviderServer
}

func newProtoRig(t *testing.T) *protoRig {
	t.Helper()
	emu, srv := serveInMemory(t)
	server := providerserver.NewProtocol6(New("test", WithDialContext(srv.DialContext))())()
	// The provider's client keeps connections open; stop the provider, as
	// Terraform does, and close them, so that every goroutine ends.
	t.Cleanup(func() { _, _ = server.StopProvider(context.Background(), &tfprotov6.StopProviderRequest{}) })
	return &protoRig{emu: emu, server: server}
}

// serveInMemory serves a new emulator in memory, for tests in a synctest
// bubble; the server closes at cleanup, after what the caller registers.
func serveInMemory(t *testing.T) (*emulator.Emulator, *emulator.InMemoryServer) {
	t.Helper()
	emu := emulator.New(emulator.Options{Token: accToken})
	srv := emulator.ServeInMemory(emu)
	t.Cleanup(srv.Close)
	return emu, srv
}

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
	vals["task_ids"] = tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, elems)
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
	resp, err := server.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &providerConfig})
	if err != nil {
		tb.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		// The in-memory endpoint is http:// and not loopback: its warning is expected.
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			tb.Fatalf("configure: %s: %s", d.Summary, d.Detail)
		}
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

// rate_limit paces every request of the provider instance, across tasks:
// at rate_limit = 1, a read of four tasks sends its four requests one
// second apart.
func TestProvider_rateLimitPacesRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newProtoRig(t)
		var ids []string
		for range 4 {
			id, err := r.emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded}}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		start := time.Now()
		newTasksFixture(t, r.server, emulator.InMemoryURL, 1, ids, nil).read(t)
		var times []time.Duration
		for _, req := range r.emu.Requests() {
			times = append(times, req.Time.Sub(start))
		}
		if want := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second}; fmt.Sprint(times) != fmt.Sprint(want) {
			t.Errorf("requests at %v, want %v: one per second at rate_limit = 1", times, want)
		}
	})
}

// After a read of many tasks with waiting, no goroutine of the wait
// engine, the rate limiter or the client is left running: the synctest
// bubble ends only when every goroutine started in it has.
func TestNoGoroutineOutlivesARead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newProtoRig(t)
		var ids []string
		for i := range 30 {
			id, err := r.emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{{Status: emulator.StatusSucceeded, AfterPolls: i % 4}}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		// A rate limit, so that polls queue.
		f := newTasksFixture(t, r.server, emulator.InMemoryURL, 50, ids,
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
	})
}
