package provider

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// BenchmarkInstanceTaskRead is one koophone_instance_task read of a
// finished task of two jobs, through the framework's protocol 6 server as
// Terraform calls it (msgpack in and out, without the gRPC transport),
// against the emulator on loopback: the provider's cost per data source
// in a plan.
func BenchmarkInstanceTaskRead(b *testing.B) {
	emu := emulator.New(emulator.Options{Token: accToken})
	id, err := emu.AddTask(emulator.TaskSpec{Jobs: []emulator.JobSpec{
		{Status: emulator.StatusSucceeded, ExecuteMsg: str("Success")}, {Status: emulator.StatusSucceeded},
	}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	defer srv.Close()
	ctx := context.Background()
	server := providerserver.NewProtocol6(New("bench")())()
	schemas := configureServer(b, server, srv.URL, 0)
	typ, ok := schemas.DataSourceSchemas["koophone_instance_task"].ValueType().(tftypes.Object)
	if !ok {
		b.Fatal("not an object")
	}
	vals := nullAttributes(typ)
	vals["task_id"] = tftypes.NewValue(tftypes.String, id)
	config, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := server.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{TypeName: "koophone_instance_task", Config: &config})
		if err != nil || len(resp.Diagnostics) > 0 {
			b.Fatalf("read: %v %v", err, resp.Diagnostics)
		}
	}
}
