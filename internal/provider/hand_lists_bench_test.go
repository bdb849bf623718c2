package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// The two benchmarks below measure why koophone_instances' phones and
// koophone_instance_tasks' tasks are built by hand (attr.Value by attr.Value)
// rather than through typed element structs: each sets the list attribute
// of an empty state both ways, from the client's values, and
// cmd/koophone-bench reports the two side by side in BENCHMARKS.md.

// typedInstance is one phone as a typed model struct would hold it: the
// shape the hand path is measured against.
type typedInstance struct {
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

// typedTask is one element of koophone_instance_tasks' tasks as a typed
// model struct would hold it.
type typedTask struct {
	TaskID   string     `tfsdk:"task_id"`
	TaskType string     `tfsdk:"task_type"`
	State    string     `tfsdk:"state"`
	Jobs     []jobModel `tfsdk:"jobs"`
	countsModel
}

// emptyState is a null state of a data source's schema.
func emptyState(b *testing.B, ds datasource.DataSource) tfsdk.State {
	b.Helper()
	var resp datasource.SchemaResponse
	ds.Schema(context.Background(), datasource.SchemaRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		b.Fatal(resp.Diagnostics)
	}
	return tfsdk.State{Schema: resp.Schema, Raw: tftypes.NewValue(resp.Schema.Type().TerraformType(context.Background()), nil)}
}

// setAttribute sets one attribute of a fresh copy of the empty state.
func setAttribute(b *testing.B, empty tfsdk.State, name string, v any) {
	b.Helper()
	state := empty
	if diags := state.SetAttribute(context.Background(), path.Root(name), v); diags.HasError() {
		b.Fatal(diags)
	}
}

// benchBothWays runs a sub-benchmark for each way of building the value of
// the list attribute name: by hand, and as a slice of typed structs.
func benchBothWays(b *testing.B, empty tfsdk.State, name string, byHand, byTypedStructs func() any) {
	ways := []struct {
		name  string
		build func() any
	}{{"hand", byHand}, {"typed-struct", byTypedStructs}}
	for _, way := range ways {
		b.Run("by="+way.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				setAttribute(b, empty, name, way.build())
			}
		})
	}
}

// BenchmarkInstancesList sets koophone_instances' instances to a fleet of
// 10,000 phones.
func BenchmarkInstancesList(b *testing.B) {
	phones := make([]koophone.Instance, 10_000)
	for i := range phones {
		phones[i] = koophone.Instance{
			InstanceID: koophone.Text(fmt.Sprintf("phone-%05d", i)), InstanceName: "game-test", Region: "cn-north-4",
			InstanceSKU: "pro | 8 cores | 16GB", RunningStatus: 1, ProjectID: "0a1b2c3d", RegionNameEn: "CN North-Beijing4",
		}
	}
	byHand := func() any {
		elems := make([]attr.Value, len(phones))
		for i, in := range phones {
			elems[i] = instanceValue(in)
		}
		return types.ListValueMust(instanceElementType, elems)
	}
	byTypedStructs := func() any {
		typed := make([]typedInstance, len(phones))
		for i, in := range phones {
			typed[i] = typedInstance{
				InstanceID: string(in.InstanceID), InstanceName: string(in.InstanceName), Region: string(in.Region),
				InstanceSKU: string(in.InstanceSKU), RunningStatus: int64(in.RunningStatus),
				RunningState: stateWord(runningStates, in.RunningStatus), FrozenStatus: int64(in.FrozenStatus),
				FrozenState: stateWord(frozenStates, in.FrozenStatus), LoginStatus: int64(in.LoginStatus),
				LoginState: stateWord(loginStates, in.LoginStatus), AssignStatus: int64(in.AssignStatus),
				AssignState: stateWord(assignStates, in.AssignStatus), AssignUser: string(in.AssignUser),
				BillingMode: string(in.BillingMode), ProjectID: string(in.ProjectID),
				ProjectName: string(in.ProjectName), PhoneID: string(in.PhoneID), MemberName: string(in.MemberName),
				AccountName: string(in.AccountName), RegionName: string(in.RegionName),
				RegionNameEn: string(in.RegionNameEn), BackupStatus: int64(in.BackupStatus),
				BackupTime: string(in.BackupTime), RestoreStatus: int64(in.RestoreStatus),
				RestoreTime: string(in.RestoreTime),
			}
		}
		return typed
	}
	benchBothWays(b, emptyState(b, newInstancesDataSource()), "instances", byHand, byTypedStructs)
}

// BenchmarkTasksList sets koophone_instance_tasks' tasks to 1,000 tasks
// of 100 jobs each, with include_jobs = "all".
func BenchmarkTasksList(b *testing.B) {
	tasks := make([]koophone.Task, 1000)
	for i := range tasks {
		jobs := make([]koophone.Job, 100)
		for j := range jobs {
			jobs[j] = koophone.Job{JobID: fmt.Sprintf("job-%d-%d", i, j), Status: koophone.StatusSucceeded, ExecuteMsg: "Success"}
		}
		tasks[i] = koophone.Task{ID: fmt.Sprintf("task-%04d", i), Jobs: jobs}
	}
	byHand := func() any {
		elems := make([]attr.Value, len(tasks))
		for i, t := range tasks {
			elems[i] = taskElement(t, t.Tally(), includeAllJobs)
		}
		return types.ListValueMust(taskElementType, elems)
	}
	byTypedStructs := func() any {
		typed := make([]typedTask, len(tasks))
		for i, t := range tasks {
			tally := t.Tally()
			typed[i] = typedTask{
				TaskID: t.ID, TaskType: koophone.TaskTypeOf(t.ID), State: string(tally.Outcome()),
				Jobs: jobsOf(t, false), countsModel: countsOf(tally),
			}
		}
		return typed
	}
	benchBothWays(b, emptyState(b, newInstanceTasksDataSource()), "tasks", byHand, byTypedStructs)
}
