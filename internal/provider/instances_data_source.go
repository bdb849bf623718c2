package provider

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/datasource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

var _ datasource.DataSourceWithConfigure = (*instancesDataSource)(nil)

// Filter lengths: instance_id is at most 32 characters everywhere in the
// API, which documents no limit for the others; theirs only catches a
// mistake, such as a whole file pasted in.
const (
	maxInstanceIDLength = 32
	maxFilterLength     = 255
)

// instancesDataSource lists the tenant's phones.
type instancesDataSource struct{ dataSource }

// instancesModel's Instances and IDs are built by hand (see the package
// doc).
type instancesModel struct {
	InstanceID   types.String   `tfsdk:"instance_id"`
	InstanceName types.String   `tfsdk:"instance_name"`
	PoolName     types.String   `tfsdk:"pool_name"`
	PoolSceneTag types.String   `tfsdk:"pool_scene_tag"`
	Timeouts     timeouts.Value `tfsdk:"timeouts"`
	Instances    types.List     `tfsdk:"instances"`
	IDs          types.List     `tfsdk:"ids"`
	TotalCount   types.Int64    `tfsdk:"total_count"`
	ID           types.String   `tfsdk:"id"`
}

func newInstancesDataSource() datasource.DataSource {
	return &instancesDataSource{dataSource{typeSuffix: "_instances"}}
}

var instanceElementType = objectTypeOf(instanceAttributes())

// instanceAttributes are those of one phone of GET
// /v1/instances/batch-query.
func instanceAttributes() map[string]schema.Attribute {
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{MarkdownDescription: desc + " Empty when the API gives none.", Computed: true}
	}
	status := func(desc string) schema.Attribute {
		return schema.Int64Attribute{MarkdownDescription: desc + " `0` when the API gives none.", Computed: true}
	}
	const asReturned = "a number passed through as the API returns it: its meanings are not documented, or differ between versions of the KooPhone documentation."
	return map[string]schema.Attribute{
		"instance_id": schema.StringAttribute{
			MarkdownDescription: "The phone's instance id, as the KooPhone job APIs take it (`instance_ids` of an async command, `instance_id_list` of an app install).",
			Computed:            true,
		},
		"instance_name":  str("The phone's name."),
		"region":         str("Region code, such as `cn-north-4`."),
		"instance_sku":   str("The phone's specification, as a display string such as `pro | 8 cores | 16GB | ...`."),
		"running_status": status("Running status, " + asReturned),
		"frozen_status":  status("Frozen status, " + asReturned),
		"login_status":   status("Login status, " + asReturned),
		"assign_status":  status("Assignment status, " + asReturned),
		"assign_user":    str("The user the phone is assigned to."),
		"billing_mode":   str("Billing mode, as the API names it."),
		"project_id":     str("Id of the project the phone belongs to."),
		"project_name":   str("Name of the project the phone belongs to."),
		"phone_id":       str("The phone id of the underlying cloud phone (the API's `phone_id`)."),
		"member_name":    str("Member name, as the API returns it."),
		"account_name":   str("Account name, as the API returns it."),
		"region_name":    str("Display name of the region."),
		"region_name_en": str("English display name of the region, such as `CN North-Beijing4`."),
		"backup_status":  status("Status of the phone's backup: `0` preparing, `1` running, `2` successful, `3` failed, `4` other."),
		"backup_time":    str("When the backup status last changed, as the API formats it."),
		"restore_status": status("Status of the phone's restore: `0` preparing, `1` running, `2` successful, `3` failed, `4` other."),
		"restore_time":   str("When the restore status last changed, as the API formats it."),
	}
}

func (d *instancesDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	filter := func(desc string, maxLen int) schema.Attribute {
		return schema.StringAttribute{
			MarkdownDescription: fmt.Sprintf("%s 1 to %d characters; unset lists phones whatever their value.", desc, maxLen),
			Optional:            true,
			Validators:          []validator.String{stringvalidator.LengthBetween(1, maxLen)},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the tenant's KooPhone cloud phones (`GET /v1/instances/batch-query`), all of them or those " +
			"that match the filters, in the order the API returns them, reading every page. Feed `ids` to the job APIs, " +
			"in waves of at most 100 phones each.",
		Attributes: map[string]schema.Attribute{
			"instance_id": filter("Only the phone with this instance id.", maxInstanceIDLength),
			"instance_name": filter("Only the phones with this name. Whether the API matches it exactly or as a part of the "+
				"name is not documented (the bundled emulator matches a part, case-sensitively): check `instances` when it matters.", maxFilterLength),
			"pool_name":      filter("Only the phones of this pool (node group).", maxFilterLength),
			"pool_scene_tag": filter("Only the phones of pools with this scene tag, such as `CLOUD_PHONE` or `CLOUD_APP`.", maxFilterLength),
			"timeouts":       timeouts.Attributes(ctx),
			"instances": schema.ListNestedAttribute{
				MarkdownDescription: "The phones, in the order the API returns them, each once. Never null: `[]` when no phone matches.",
				Computed:            true,
				NestedObject:        schema.NestedAttributeObject{Attributes: instanceAttributes()},
			},
			"ids": schema.ListAttribute{
				MarkdownDescription: "The `instance_id` of each element of `instances`, in the same order. Never null: `[]` when no phone matches.",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"total_count": schema.Int64Attribute{
				MarkdownDescription: "Number of phones listed: the length of `instances` and `ids`. It is counted by the " +
					"provider, not taken from the API's `total_count`, which may differ when phones are created or deleted " +
					"while the pages are read (a phone that a shift of the pages shows twice is listed once).",
				Computed: true,
			},
			"id": schema.StringAttribute{
				MarkdownDescription: "An identifier of the filters: the same for the same filters, different for others.",
				Computed:            true,
			},
		},
	}
}

func (d *instancesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m instancesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !clientReady(d.data, &resp.Diagnostics) {
		return
	}
	timeout, diags := readTimeout(ctx, m.Timeouts, "5m")
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	filter := koophone.InstanceFilter{
		InstanceID:   m.InstanceID.ValueString(),
		InstanceName: m.InstanceName.ValueString(),
		PoolName:     m.PoolName.ValueString(),
		PoolSceneTag: m.PoolSceneTag.ValueString(),
	}

	ctx = withSecretsMasked(ctx, d.data.secrets)
	tflog.Info(ctx, "Listing KooPhone phones", map[string]any{"filters": describeFilter(filter), "timeout": timeout.String()})
	readCtx, cancel := withTimeout(ctx, "timeouts.read", timeout)
	defer cancel()
	list, err := d.data.client.ListInstances(readCtx, filter)
	if err != nil {
		resp.Diagnostics.AddError(describeListFailure(err, list, filter, d.data))
		return
	}
	fields := map[string]any{
		"phones": len(list.Instances), "pages": list.Pages, "api_total_count": list.TotalCount,
		"duplicates_dropped": list.Duplicates, "items_without_id": list.Unidentified,
	}
	if list.Duplicates > 0 || list.Unidentified > 0 {
		tflog.Warn(ctx, "The KooPhone phone list changed while it was read, or had items without an instance_id: those were left out; "+
			"phones created or deleted during the read may be missing", fields)
	}
	tflog.Info(ctx, "Listed KooPhone phones", fields)

	elems := make([]attr.Value, len(list.Instances))
	ids := make([]attr.Value, len(list.Instances))
	for i, in := range list.Instances {
		elems[i] = instanceValue(in)
		ids[i] = types.StringValue(string(in.InstanceID))
	}
	m.Instances = types.ListValueMust(instanceElementType, elems)
	m.IDs = types.ListValueMust(types.StringType, ids)
	m.TotalCount = types.Int64Value(int64(len(list.Instances)))
	m.ID = types.StringValue(filterID(filter))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func instanceValue(in koophone.Instance) attr.Value {
	return types.ObjectValueMust(instanceElementType.AttrTypes, map[string]attr.Value{
		"instance_id":    types.StringValue(string(in.InstanceID)),
		"instance_name":  types.StringValue(string(in.InstanceName)),
		"region":         types.StringValue(string(in.Region)),
		"instance_sku":   types.StringValue(string(in.InstanceSKU)),
		"running_status": types.Int64Value(int64(in.RunningStatus)),
		"frozen_status":  types.Int64Value(int64(in.FrozenStatus)),
		"login_status":   types.Int64Value(int64(in.LoginStatus)),
		"assign_status":  types.Int64Value(int64(in.AssignStatus)),
		"assign_user":    types.StringValue(string(in.AssignUser)),
		"billing_mode":   types.StringValue(string(in.BillingMode)),
		"project_id":     types.StringValue(string(in.ProjectID)),
		"project_name":   types.StringValue(string(in.ProjectName)),
		"phone_id":       types.StringValue(string(in.PhoneID)),
		"member_name":    types.StringValue(string(in.MemberName)),
		"account_name":   types.StringValue(string(in.AccountName)),
		"region_name":    types.StringValue(string(in.RegionName)),
		"region_name_en": types.StringValue(string(in.RegionNameEn)),
		"backup_status":  types.Int64Value(int64(in.BackupStatus)),
		"backup_time":    types.StringValue(string(in.BackupTime)),
		"restore_status": types.Int64Value(int64(in.RestoreStatus)),
		"restore_time":   types.StringValue(string(in.RestoreTime)),
	})
}

// filterID is the data source's id: a hash of the filters.
func filterID(f koophone.InstanceFilter) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{f.InstanceID, f.InstanceName, f.PoolName, f.PoolSceneTag}, "\x00")))
	return fmt.Sprintf("instances-%x", sum[:8])
}

// describeFilter names the filters in force, such as `pool_name
// "game-test"`, or "no filter".
func describeFilter(f koophone.InstanceFilter) string {
	var parts []string
	for _, p := range []struct{ name, value string }{
		{"instance_id", f.InstanceID}, {"instance_name", f.InstanceName}, {"pool_name", f.PoolName}, {"pool_scene_tag", f.PoolSceneTag},
	} {
		if p.value != "" {
			parts = append(parts, fmt.Sprintf("%s %q", p.name, p.value))
		}
	}
	if len(parts) == 0 {
		return "no filter"
	}
	return strings.Join(parts, ", ")
}
