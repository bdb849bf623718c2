// Command floor is the yardstick of the plan-overhead benchmark (make
// bench), not part of the provider: a terraform-plugin-framework provider
// with one data source, floor_task, that does what koophone_instance_task
// does on a plain read, the plainest way. It sends the same GET to the
// same API (KOOPHONE_ENDPOINT, with KOOPHONE_TOKEN) through net/http's
// default client, decodes it with encoding/json, and sets the same jobs
// attribute. Whatever koophone_instance_task costs beyond this is the
// provider's overhead.
//
// Its second data source, floor_instances, is the yardstick of the fleet
// listing benchmark: koophone_instances' schema, with the benchmark's
// 10,000 phones built in memory and set in state through typed structs
// (see instances.go).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	provschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func main() {
	err := providerserver.Serve(context.Background(), func() provider.Provider { return floorProvider{} },
		providerserver.ServeOpts{Address: "registry.terraform.io/bench/floor"})
	if err != nil {
		log.Fatal(err)
	}
}

type floorProvider struct{}

func (floorProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "floor"
}

func (floorProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = provschema.Schema{}
}

func (floorProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (floorProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		func() datasource.DataSource { return taskDataSource{} },
		func() datasource.DataSource { return instancesDataSource{} },
	}
}

func (floorProvider) Resources(context.Context) []func() resource.Resource { return nil }

type taskDataSource struct{}

type jobModel struct {
	JobID      string `tfsdk:"job_id" json:"job_id"`
	Status     int64  `tfsdk:"status" json:"status"`
	State      string `tfsdk:"state" json:"-"`
	ErrorCode  string `tfsdk:"error_code" json:"error_code"`
	ErrorMsg   string `tfsdk:"error_msg" json:"error_msg"`
	ExecuteMsg string `tfsdk:"execute_msg" json:"execute_msg"`
}

type taskModel struct {
	TaskID types.String `tfsdk:"task_id"`
	Jobs   []jobModel   `tfsdk:"jobs"`
}

func (taskDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_task"
}

func (taskDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"task_id": schema.StringAttribute{Required: true},
		"jobs": schema.ListNestedAttribute{Computed: true, NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"job_id":      schema.StringAttribute{Computed: true},
			"status":      schema.Int64Attribute{Computed: true},
			"state":       schema.StringAttribute{Computed: true},
			"error_code":  schema.StringAttribute{Computed: true},
			"error_msg":   schema.StringAttribute{Computed: true},
			"execute_msg": schema.StringAttribute{Computed: true},
		}}},
	}}
}

var states = map[int64]string{0: "pending", 1: "running", 2: "successful", 3: "failed", -1: "failed"}

func (taskDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m taskModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, os.Getenv("KOOPHONE_ENDPOINT")+"/v1/instances/tasks/"+m.TaskID.ValueString(), nil)
	if err != nil {
		resp.Diagnostics.AddError("request", err.Error())
		return
	}
	r.Header.Set("X-Auth-Token", os.Getenv("KOOPHONE_TOKEN"))
	r.Header.Set("X-Request-Id", uuid.NewString())
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		resp.Diagnostics.AddError("request", err.Error())
		return
	}
	defer res.Body.Close()
	var body struct {
		ErrorCode string `json:"error_code"`
		Data      struct {
			Jobs []jobModel `json:"jobs"`
		} `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body.ErrorCode != "0" {
		resp.Diagnostics.AddError("response", fmt.Sprintf("HTTP %d, error_code %q, %v", res.StatusCode, body.ErrorCode, err))
		return
	}
	m.Jobs = body.Data.Jobs
	for i := range m.Jobs {
		if m.Jobs[i].State = states[m.Jobs[i].Status]; m.Jobs[i].State == "" {
			m.Jobs[i].State = "unknown"
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
