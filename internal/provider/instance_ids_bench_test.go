package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// BenchmarkCommandPlanLargePool is the provider's part of planning one
// koophone_instance_command for a pool of 10,000 phones: the config's
// validation and the create's plan, through the framework's protocol 6
// server as Terraform calls them. No request is sent: a create's plan
// needs none. It is why instance_ids is a list: as a set, the framework
// compared its elements pairwise here, seconds per plan.
func BenchmarkCommandPlanLargePool(b *testing.B) {
	const resourceType = "koophone_instance_command"
	ctx := context.Background()
	server := providerserver.NewProtocol6(New("bench")())()
	schemas := configureServer(b, server, "http://127.0.0.1:1", 0)
	typ, ok := schemas.ResourceSchemas[resourceType].ValueType().(tftypes.Object)
	if !ok {
		b.Fatal("the resource's type is not an object")
	}
	ids := make([]tftypes.Value, 10_000)
	for i := range ids {
		ids[i] = tftypes.NewValue(tftypes.String, fmt.Sprintf("phone-%05d", i))
	}
	vals := nullAttributes(typ)
	vals["instance_ids"] = tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, ids)
	vals["command"] = tftypes.NewValue(tftypes.String, "echo hi")
	config, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, vals))
	if err != nil {
		b.Fatal(err)
	}
	prior, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, nil))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := server.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: resourceType, Config: &config})
		if err != nil || len(v.Diagnostics) > 0 {
			b.Fatalf("validate: %v %v", err, v.Diagnostics)
		}
		p, err := server.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{
			TypeName: resourceType, Config: &config, PriorState: &prior, ProposedNewState: &config,
		})
		if err != nil || len(p.Diagnostics) > 0 {
			b.Fatalf("plan: %v %v", err, p.Diagnostics)
		}
	}
}
