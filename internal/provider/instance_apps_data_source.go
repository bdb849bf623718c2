package provider

import (
	"context"
	"crypto/sha256"
	"errors"
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
	"golang.org/x/sync/errgroup"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

var _ datasource.DataSourceWithConfigure = (*instanceAppsDataSource)(nil)

// The values of app_type, and the API's app_type each stands for.
const (
	appTypeAll        = "all"
	appTypeSystem     = "system"
	appTypeThirdParty = "third_party"
)

var appTypes = map[string]koophone.AppType{
	appTypeAll: koophone.AllApps, appTypeSystem: koophone.SystemApps, appTypeThirdParty: koophone.ThirdPartyApps,
}

// maxPackageNameLength is an app install's limit on object_name.
const maxPackageNameLength = 100

// instanceAppsDataSource lists the apps installed on phones, reading the
// phones concurrently.
type instanceAppsDataSource struct{ dataSource }

// instanceAppsModel's Apps, Versions and MissingInstanceIDs are built by
// hand: a thousand phones of ten apps each are ten thousand objects, which
// the framework's reflection over typed structs sets in state several times
// slower, with several times the memory (BenchmarkAppsMap). instance_ids is
// a list used as a set (see idSet).
type instanceAppsModel struct {
	InstanceIDs        types.List     `tfsdk:"instance_ids"`
	AppType            types.String   `tfsdk:"app_type"`
	PackageName        types.String   `tfsdk:"package_name"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
	Apps               types.Map      `tfsdk:"apps"`
	Versions           types.Map      `tfsdk:"versions"`
	MissingInstanceIDs types.List     `tfsdk:"missing_instance_ids"`
	InstanceCount      types.Int64    `tfsdk:"instance_count"`
	ID                 types.String   `tfsdk:"id"`
}

func newInstanceAppsDataSource() datasource.DataSource {
	return &instanceAppsDataSource{dataSource{typeSuffix: "_instance_apps"}}
}

var (
	appElementType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"app_pkg": types.StringType, "app_name": types.StringType, "app_version": types.StringType, "icon_url": types.StringType,
	}}
	appListType = types.ListType{ElemType: appElementType}
)

func (d *instanceAppsDataSource) Schema(ctx context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the apps installed on cloud phones (`GET /v1/instances/{instance_id}/app-list`), every page of " +
			"each phone, the phones read concurrently; with `package_name`, which version of one package each phone has, and " +
			"which phones lack it, to gate a deployment on what a rollout left on the phones.",
		Attributes: map[string]schema.Attribute{
			// A list used as a set, read with idSet, which says why.
			"instance_ids": schema.ListAttribute{
				MarkdownDescription: fmt.Sprintf("The cloud phones (instance ids) to read: one or more ids of 1 to %d characters, any number "+
					"of them, such as `data.koophone_instances.pool.ids`. It is a list used as a set: an id listed twice is read once, "+
					"and the order does not matter. A set (`toset(...)`) works as well.", maxInstanceIDLength),
				ElementType: types.StringType,
				Required:    true,
				Validators:  instanceIDsRules,
			},
			"app_type": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Which apps to list: `%q` (the default), `%q` (the API's system apps) or `%q` "+
					"(the apps installed on top of the system, as an app install does).", appTypeAll, appTypeSystem, appTypeThirdParty),
				Optional:   true,
				Computed:   true,
				Validators: []validator.String{stringvalidator.OneOf(appTypeAll, appTypeSystem, appTypeThirdParty)},
			},
			"package_name": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("A package to look for, such as `com.example.game` (an app install's `object_name`), "+
					"1 to %d characters: `versions` and `missing_instance_ids` say which version each phone has of it, among the "+
					"apps `app_type` lists.", maxPackageNameLength),
				Optional:   true,
				Validators: []validator.String{stringvalidator.UTF8LengthBetween(1, maxPackageNameLength)},
			},
			"timeouts": timeouts.Attributes(ctx),
			"apps": schema.MapAttribute{
				MarkdownDescription: "For each phone of `instance_ids` (by instance id), its apps as the API lists them, in its order, " +
					"every page read: objects of `app_pkg` (package name), `app_name`, `app_version` and `icon_url`, each `\"\"` when " +
					"the API gives none. A phone without apps has `[]`.",
				ElementType: appListType,
				Computed:    true,
			},
			"versions": schema.MapAttribute{
				MarkdownDescription: "With `package_name`: for each phone, the `app_version` of that package on it, or null where " +
					"it is not installed. Null without `package_name`. Gate on it, as in " +
					"`alltrue([for v in values(self.versions) : v == \"1.2.3\"])`.",
				ElementType: types.StringType,
				Computed:    true,
			},
			"missing_instance_ids": schema.ListAttribute{
				MarkdownDescription: "With `package_name`: the phones that do not have that package, sorted; `[]` when every phone " +
					"has it. Null without `package_name`.",
				ElementType: types.StringType,
				Computed:    true,
			},
			"instance_count": schema.Int64Attribute{
				MarkdownDescription: "Number of phones read: the distinct ids of `instance_ids`.",
				Computed:            true,
			},
			"id": schema.StringAttribute{
				MarkdownDescription: "An identifier of the arguments: the same for the same phones, `app_type` and `package_name`.",
				Computed:            true,
			},
		},
	}
}

// phoneApps is the outcome of the read of one phone's apps.
type phoneApps struct {
	list koophone.AppList
	err  error
}

func (d *instanceAppsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m instanceAppsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !clientReady(d.data, &resp.Diagnostics) {
		return
	}
	ids, diags := idSet(ctx, m.InstanceIDs)
	resp.Diagnostics.Append(diags...)
	timeout, diags := readTimeout(ctx, m.Timeouts, "5m")
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	if m.AppType.IsNull() {
		m.AppType = types.StringValue(appTypeAll)
	}
	appType := appTypes[m.AppType.ValueString()]

	ctx = withSecretsMasked(ctx, d.data.secrets)
	tflog.Info(ctx, "Listing the apps of KooPhone phones", map[string]any{
		"phones": len(ids), "app_type": m.AppType.ValueString(), "package_name": m.PackageName.ValueString(), "timeout": timeout.String(),
	})
	readCtx, cancel := withTimeout(ctx, "timeouts.read", timeout)
	defer cancel()
	results, failed := readPhonesApps(readCtx, d.data.client, ids, appType)
	var pages, requests, apps int
	var denied []int
	for i, r := range results {
		pages, requests, apps = pages+r.list.Pages, requests+r.list.Requests, apps+len(r.list.Apps)
		if r.err != nil && deniedPhone(r.err) {
			denied = append(denied, i)
		}
	}
	fields := map[string]any{"phones": len(ids), "pages": pages, "requests": requests, "apps": apps, "phones_refused": len(denied)}
	if failed >= 0 {
		fields["failed_phone"] = ids[failed]
		tflog.Warn(ctx, "Listing the apps of KooPhone phones failed; no request was started after the failure", fields)
		resp.Diagnostics.AddError(describeAppsFailure(ids, results, failed, d.data))
		return
	}
	if len(denied) > 0 {
		tflog.Warn(ctx, "The KooPhone API refused some phones", fields)
		resp.Diagnostics.AddError(describeRefusedPhones(ids, results, denied))
		return
	}
	tflog.Info(ctx, "Listed the apps of KooPhone phones", fields)

	appsByPhone := make(map[string]attr.Value, len(ids))
	versions := make(map[string]attr.Value, len(ids))
	missing := []attr.Value{}
	pkg := m.PackageName.ValueString()
	for i, id := range ids {
		appsByPhone[id] = appsValue(results[i].list.Apps)
		if !m.PackageName.IsNull() {
			versions[id] = types.StringNull()
			for _, a := range results[i].list.Apps {
				if a.AppPkg == pkg {
					versions[id] = types.StringValue(a.AppVersion)
					break
				}
			}
			if versions[id].IsNull() {
				missing = append(missing, types.StringValue(id))
			}
		}
		results[i].list.Apps = nil // mapped: let the garbage collector have them
	}
	m.Apps = types.MapValueMust(appListType, appsByPhone)
	m.Versions, m.MissingInstanceIDs = types.MapNull(types.StringType), types.ListNull(types.StringType)
	if !m.PackageName.IsNull() {
		m.Versions = types.MapValueMust(types.StringType, versions)
		m.MissingInstanceIDs = types.ListValueMust(types.StringType, missing)
	}
	m.InstanceCount = types.Int64Value(int64(len(ids)))
	m.ID = types.StringValue(appsID(ids, m.AppType.ValueString(), pkg))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// readPhonesApps reads the apps of each phone, up to the client's limit of
// requests in flight at once (more goroutines would only wait for a slot).
// A phone the API refuses (deniedPhone) does not stop the others; any other
// failure cancels the rest, so that no request starts after it, and is
// returned as the index of its phone (-1 for none). A phone that was not
// read because of it has the cancellation as its error.
func readPhonesApps(ctx context.Context, client *koophone.Client, ids []string, appType koophone.AppType) ([]phoneApps, int) {
	results := make([]phoneApps, len(ids))
	failed := make(chan int, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(koophone.DefaultMaxConcurrentRequests)
	for i, id := range ids {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			// A context of its own: tflog masks secrets in place in the
			// fields of the context it logs with, which goroutines must not
			// share (SetField copies them).
			list, err := client.ReadInstanceApps(tflog.SetField(gctx, "instance_id", id), id, appType)
			results[i] = phoneApps{list: list, err: err}
			if err == nil || deniedPhone(err) {
				return nil
			}
			select {
			case failed <- i: // the first failure; the others are its consequence
			default:
			}
			return err
		})
	}
	_ = g.Wait() // each phone's error is in results
	select {
	case i := <-failed:
		return results, i
	default:
		return results, -1
	}
}

// deniedPhone reports whether the API refused a phone as not the tenant's
// to read: one bad id among many, reported with the others at the end.
func deniedPhone(err error) bool {
	apiErr, ok := errors.AsType[*koophone.APIError](err)
	return ok && (apiErr.Code == koophone.CodeNoPermission || apiErr.Code == koophone.CodeNotTenants)
}

// appsValue is one phone's element of apps.
func appsValue(apps []koophone.App) attr.Value {
	elems := make([]attr.Value, len(apps))
	for i, a := range apps {
		elems[i] = types.ObjectValueMust(appElementType.AttrTypes, map[string]attr.Value{
			"app_pkg": types.StringValue(a.AppPkg), "app_name": types.StringValue(a.AppName),
			"app_version": types.StringValue(a.AppVersion), "icon_url": types.StringValue(a.IconURL),
		})
	}
	return types.ListValueMust(appElementType, elems)
}

// appsID is the data source's id: a hash of its arguments.
func appsID(ids []string, appType, pkg string) string {
	sum := sha256.Sum256([]byte(strings.Join(ids, "\x00") + "\x01" + appType + "\x01" + pkg))
	return fmt.Sprintf("instance-apps-%x", sum[:8])
}

// describeAppsFailure explains the read that failed on ids[failed].
func describeAppsFailure(ids []string, results []phoneApps, failed int, pd *providerData) (string, string) {
	r := results[failed]
	id := ids[failed]
	read := 0
	for _, x := range results {
		if x.err == nil {
			read++
		}
	}
	what := fmt.Sprintf("Listing the apps of phone %q (GET /v1/instances/%s/app-list, page %d)", id, id, r.list.Pages+1)
	after := fmt.Sprintf("\n\nNo request was started after this failure: %d of the %d phones had been read, and the data source "+
		"gives no partial answer.", read, len(ids))
	stopped, isStopped := errors.AsType[*koophone.StoppedError](r.err)
	switch {
	case isStopped && errors.Is(stopped.Cause, context.DeadlineExceeded):
		return "Timed out listing the apps of KooPhone phones", fmt.Sprintf("%s did not finish: %s.%s\n\n"+
			"Raise timeouts.read (for example timeouts = { read = \"30m\" }), or read fewer phones at once.", what, stopReason(stopped.Cause), after)
	case isStopped:
		return "Listing the apps of KooPhone phones interrupted", fmt.Sprintf("%s was interrupted: %s.", what, stopReason(stopped.Cause))
	}
	summary, detail := describeAPIFailure(what, r.err, pd)
	return summary, detail + after
}

// describeRefusedPhones names every phone the API refused, with what its
// code means.
func describeRefusedPhones(ids []string, results []phoneApps, denied []int) (string, string) {
	var b strings.Builder
	fmt.Fprintf(&b, "The KooPhone API refused %s of the %d in instance_ids:\n", nPhones(len(denied)), len(ids))
	for n, i := range denied {
		if n == maxListedFailedJobs {
			fmt.Fprintf(&b, "  ... and %d more\n", len(denied)-n)
			break
		}
		fmt.Fprintf(&b, "  - %s: %s\n", ids[i], apiRef(results[i].err))
	}
	b.WriteString("\n" + koophone.CodeNoPermission + " means no permission on the instance: no phone of the tenant has this id, " +
		"or the credentials may not act on it. " + koophone.CodeNotTenants + " means the instance does not belong to the tenant " +
		"(the account and project of the credentials).\n\nCheck instance_ids: take them from the tenant's phones, for example " +
		"data.koophone_instances.pool.ids, rather than typing them, and check that the credentials are the tenant's.")
	return fmt.Sprintf("KooPhone phones not found or not accessible (%d)", len(denied)), b.String()
}
