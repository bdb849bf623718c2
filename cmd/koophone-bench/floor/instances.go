package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// fleetSize is how many phones floor_instances lists: the fleet the
// listing benchmark seeds its emulator with.
const fleetSize = 10_000

// instancesDataSource is floor_instances, the yardstick of the listing
// benchmark: koophone_instances' schema, status words and filters
// included, with the benchmark's fleet built in memory (no request) and
// set in state the plainest way, a typed model through the framework's
// reflection.
type instancesDataSource struct{}

type instanceModel struct {
	InstanceID    string `tfsdk:"instance_id"`
	InstanceName  string `tfsdk:"instance_name"`
	Region        string `tfsdk:"region"`
	InstanceSKU   string `tfsdk:"instance_sku"`
	RunningStatus int64  `tfsdk:"running_status"`
	RunningState  string `tfsdk:"running_state"`
	FrozenStatus  int64  `tfsdk:"frozen_status"`
	FrozenState   string `tfsdk:"frozen_state"`
	LoginStatus   int64  `tfsdk:"login_status"`
	LoginState    string `tfsdk:"login_state"`
	AssignStatus  int64  `tfsdk:"assign_status"`
	AssignState   string `tfsdk:"assign_state"`
	AssignUser    string `tfsdk:"assign_user"`
	BillingMode   string `tfsdk:"billing_mode"`
	ProjectID     string `tfsdk:"project_id"`
	ProjectName   string `tfsdk:"project_name"`
	PhoneID       string `tfsdk:"phone_id"`
	MemberName    string `tfsdk:"member_name"`
	AccountName   string `tfsdk:"account_name"`
	RegionName    string `tfsdk:"region_name"`
	RegionNameEn  string `tfsdk:"region_name_en"`
	BackupStatus  int64  `tfsdk:"backup_status"`
	BackupTime    string `tfsdk:"backup_time"`
	RestoreStatus int64  `tfsdk:"restore_status"`
	RestoreTime   string `tfsdk:"restore_time"`
}

type instancesModel struct {
	InstanceID   types.String    `tfsdk:"instance_id"`
	InstanceName types.String    `tfsdk:"instance_name"`
	PoolName     types.String    `tfsdk:"pool_name"`
	PoolSceneTag types.String    `tfsdk:"pool_scene_tag"`
	Order        types.String    `tfsdk:"order"`
	OrderBy      types.String    `tfsdk:"order_by"`
	Timeouts     timeouts.Value  `tfsdk:"timeouts"`
	Instances    []instanceModel `tfsdk:"instances"`
	IDs          []string        `tfsdk:"ids"`
	TotalCount   types.Int64     `tfsdk:"total_count"`
	ID           types.String    `tfsdk:"id"`
}

func (instancesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instances"
}

func (instancesDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := schema.StringAttribute{Computed: true}
	num := schema.Int64Attribute{Computed: true}
	filter := schema.StringAttribute{Optional: true}
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"instance_id": filter, "instance_name": filter, "pool_name": filter, "pool_scene_tag": filter, "order": filter, "order_by": filter,
		"timeouts": timeouts.Attributes(ctx),
		"instances": schema.ListNestedAttribute{Computed: true, NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"instance_id": str, "instance_name": str, "region": str, "instance_sku": str,
			"running_status": num, "running_state": str, "frozen_status": num, "frozen_state": str,
			"login_status": num, "login_state": str, "assign_status": num, "assign_state": str,
			"assign_user": str, "billing_mode": str, "project_id": str, "project_name": str, "phone_id": str,
			"member_name": str, "account_name": str, "region_name": str, "region_name_en": str,
			"backup_status": num, "backup_time": str, "restore_status": num, "restore_time": str,
		}}},
		"ids":         schema.ListAttribute{ElementType: types.StringType, Computed: true},
		"total_count": num,
		"id":          str,
	}}
}

func word(words []string, n int64) string {
	if n >= 0 && n < int64(len(words)) {
		return words[n]
	}
	return strconv.FormatInt(n, 10)
}

var (
	runningStates = []string{"unknown", "stopped", "running", "going_offline", "starting", "shut_down"}
	frozenStates  = []string{"normal", "frozen"}
	loginStates   = []string{"logged_out", "logged_in"}
	assignStates  = []string{"unassigned", "assigned"}
)

// fleetPhone is phone i of the benchmark's fleet. cmd/koophone-bench
// seeds its emulator with the same phones (listingPhone, a copy of this
// formula, as the two are separate programs) and checks that both data
// sources list the same.
func fleetPhone(i int) instanceModel {
	p := instanceModel{
		InstanceID: fmt.Sprintf("phone-%05d", i+1), InstanceName: fmt.Sprintf("fleet %05d", i+1), Region: "cn-south-1",
		InstanceSKU: "pro | 8 cores | 16GB", RunningStatus: int64(i % 7), FrozenStatus: int64(i % 2), LoginStatus: int64(i / 2 % 2),
		AssignStatus: int64(i / 3 % 2), BillingMode: "PERIOD", ProjectID: "0123456789abcdef0123456789abcdef", ProjectName: "cn-south-1",
		PhoneID: fmt.Sprintf("cph-%05d", i+1), MemberName: "member", AccountName: "account", RegionName: "华南-广州",
		RegionNameEn: "CN South-Guangzhou", BackupStatus: int64(i % 5), BackupTime: "2026-01-01 08:00:00",
	}
	if p.AssignStatus == 1 {
		p.AssignUser = fmt.Sprintf("user-%05d", i+1)
	}
	p.RunningState, p.FrozenState = word(runningStates, p.RunningStatus), word(frozenStates, p.FrozenStatus)
	p.LoginState, p.AssignState = word(loginStates, p.LoginStatus), word(assignStates, p.AssignStatus)
	return p
}

func (instancesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m instancesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	m.Instances = make([]instanceModel, fleetSize)
	m.IDs = make([]string, fleetSize)
	for i := range m.Instances {
		m.Instances[i] = fleetPhone(i)
		m.IDs[i] = m.Instances[i].InstanceID
	}
	m.TotalCount = types.Int64Value(fleetSize)
	m.ID = types.StringValue("floor-instances")
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
