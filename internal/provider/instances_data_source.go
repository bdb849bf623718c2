package provider

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
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
	Order        types.String   `tfsdk:"order"`
	OrderBy      types.String   `tfsdk:"order_by"`
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

// The words of the phone statuses, indexed by the number, as Huawei's
// ListInstances page (zh, 2025-12-31) gives them. The API may add
// numbers, and its docs have given other meanings before: stateWord shows
// any number it does not know as itself.
var (
	runningStates = []string{"unknown", "stopped", "running", "going_offline", "starting", "shut_down"}
	frozenStates  = []string{"normal", "frozen"}
	loginStates   = []string{"logged_out", "logged_in"}
	assignStates  = []string{"unassigned", "assigned"}
)

// stateWord is the word for status n, or n in decimal when it has none.
func stateWord(words []string, n koophone.Number) string {
	if n >= 0 && int(n) < len(words) {
		return words[n]
	}
	return strconv.FormatInt(int64(n), 10)
}

// describeWords lists words as "`0` `unknown`, `1` `stopped`, ...".
func describeWords(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = fmt.Sprintf("`%s` for `%d`", w, i)
	}
	return strings.Join(parts, ", ")
}

// poolSceneTags are the documented values of pool_scene_tag.
var poolSceneTags = []string{"CLOUD_PHONE", "CLOUD_APP"}

// orderByFields are the documented fields of a listed phone, which
// order_by takes.
var orderByFields = []string{
	"instance_id", "instance_name", "region", "instance_sku", "frozen_status", "running_status", "login_status", "assign_status",
	"assign_user", "billing_mode", "project_id", "project_name", "phone_id", "member_name", "account_name", "region_name",
	"region_name_en", "backup_status", "backup_time", "restore_status", "restore_time",
}

// quoted lists values as "`a`, `b` or `c`".
func quoted(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "`" + v + "`"
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// instanceAttributes are those of one phone of GET
// /v1/instances/batch-query.
func instanceAttributes() map[string]schema.Attribute {
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{MarkdownDescription: desc + " Empty when the API gives none.", Computed: true}
	}
	status := func(desc string) schema.Attribute {
		return schema.Int64Attribute{MarkdownDescription: desc + " `0` when the API gives none.", Computed: true}
	}
	number := func(what, word string, words []string) schema.Attribute {
		meanings := make([]string, len(words))
		for i, w := range words {
			meanings[i] = fmt.Sprintf("`%d` %s", i, strings.ReplaceAll(w, "_", " "))
		}
		return status(fmt.Sprintf("%s, as the API returns it: %s, per Huawei's ListInstances page (zh, 2025-12-31); "+
			"other numbers are passed through as they come. `%s` has it in words.", what, strings.Join(meanings, ", "), word))
	}
	word := func(what, num string, words []string) schema.Attribute {
		return schema.StringAttribute{
			MarkdownDescription: fmt.Sprintf("%s in words, from `%s`: %s (the meanings of Huawei's ListInstances page, zh, "+
				"2025-12-31). Any other number is given as itself in decimal, such as `\"7\"`, so that nothing is hidden.",
				what, num, describeWords(words)),
			Computed: true,
		}
	}
	return map[string]schema.Attribute{
		"instance_id": schema.StringAttribute{
			MarkdownDescription: "The phone's instance id, as the KooPhone job APIs take it (`instance_ids` of an async command, `instance_id_list` of an app install).",
			Computed:            true,
		},
		"instance_name":  str("The phone's name."),
		"region":         str("Region code, such as `cn-north-4`."),
		"instance_sku":   str("The phone's specification, as a display string such as `pro | 8 cores | 16GB | ...`."),
		"running_status": number("Running status", "running_state", runningStates),
		"running_state":  word("Running status", "running_status", runningStates),
		"frozen_status":  number("Frozen status", "frozen_state", frozenStates),
		"frozen_state":   word("Frozen status", "frozen_status", frozenStates),
		"login_status":   number("Login status", "login_state", loginStates),
		"login_state":    word("Login status", "login_status", loginStates),
		"assign_status":  number("Assignment status", "assign_state", assignStates),
		"assign_state":   word("Assignment status", "assign_status", assignStates),
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
			"pool_name": filter("Only the phones of this pool (node group).", maxFilterLength),
			"pool_scene_tag": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Only the phones of pools with this scene tag: %s, the values the API documents; "+
					"unset lists phones whatever their pool's scene.", quoted(poolSceneTags)),
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(poolSceneTags...)},
			},
			"order": schema.StringAttribute{
				MarkdownDescription: "The direction of `order_by`: `asc` (ascending) or `desc` (descending), passed to the API " +
					"as the query parameter `order`. Unset, the API's default; whether the API's default is ascending, and " +
					"what `order` does without `order_by`, is not documented.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf("asc", "desc")},
			},
			"order_by": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Sort the phones by this field of a listed phone, passed to the API as the "+
					"query parameter `order_by`: one of %s. The API documents the parameter but not which fields it sorts by: "+
					"check `instances` when the order matters (the bundled emulator sorts by any of them, numbers numerically, "+
					"strings bytewise). Unset, the phones come in the API's default order. Either way, `instances` keeps the "+
					"API's order, although the pages are read concurrently.", quoted(orderByFields)),
				Optional:   true,
				Validators: []validator.String{stringvalidator.OneOf(orderByFields...)},
			},
			"timeouts": timeouts.Attributes(ctx),
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
		Order:        m.Order.ValueString(),
		OrderBy:      m.OrderBy.ValueString(),
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
	if list.CountChanged {
		tflog.Warn(ctx, "The number of KooPhone phones changed while the list was read: phones were created or deleted "+
			"meanwhile, and some may be missing from it or be listed although gone; read it again for a settled list",
			map[string]any{"first_total_count": list.FirstTotalCount, "last_total_count": list.TotalCount, "phones": len(list.Instances)})
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
		"running_state":  types.StringValue(stateWord(runningStates, in.RunningStatus)),
		"frozen_status":  types.Int64Value(int64(in.FrozenStatus)),
		"frozen_state":   types.StringValue(stateWord(frozenStates, in.FrozenStatus)),
		"login_status":   types.Int64Value(int64(in.LoginStatus)),
		"login_state":    types.StringValue(stateWord(loginStates, in.LoginStatus)),
		"assign_status":  types.Int64Value(int64(in.AssignStatus)),
		"assign_state":   types.StringValue(stateWord(assignStates, in.AssignStatus)),
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
	sum := sha256.Sum256([]byte(strings.Join([]string{f.InstanceID, f.InstanceName, f.PoolName, f.PoolSceneTag, f.Order, f.OrderBy}, "\x00")))
	return fmt.Sprintf("instances-%x", sum[:8])
}

// describeFilter names the filters and the order in force, such as
// `pool_name "game-test", order_by "instance_name"`, or "no filter".
func describeFilter(f koophone.InstanceFilter) string {
	var parts []string
	for _, p := range []struct{ name, value string }{
		{"instance_id", f.InstanceID}, {"instance_name", f.InstanceName}, {"pool_name", f.PoolName}, {"pool_scene_tag", f.PoolSceneTag},
		{"order", f.Order}, {"order_by", f.OrderBy},
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
