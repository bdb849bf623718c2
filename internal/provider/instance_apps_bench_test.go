package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// typedApp is one app as a typed model struct would hold it: the shape
// koophone_instance_apps' hand-built apps are measured against.
type typedApp struct {
	AppPkg     string `tfsdk:"app_pkg"`
	AppName    string `tfsdk:"app_name"`
	AppVersion string `tfsdk:"app_version"`
	IconURL    string `tfsdk:"icon_url"`
}

// BenchmarkAppsMap sets koophone_instance_apps' apps to 1,000 phones of
// ten apps each, by hand (as the data source does) and through typed
// structs: why the data source builds them by hand.
func BenchmarkAppsMap(b *testing.B) {
	phones := make(map[string][]koophone.App, 1000)
	for i := range 1000 {
		apps := make([]koophone.App, 10)
		for j := range apps {
			apps[j] = koophone.App{AppPkg: fmt.Sprintf("com.example.app%02d", j), AppName: fmt.Sprintf("App %d", j), AppVersion: "1.0.0"}
		}
		phones[fmt.Sprintf("phone-%04d", i)] = apps
	}
	byHand := func() any {
		m := make(map[string]attr.Value, len(phones))
		for id, apps := range phones {
			m[id] = appsValue(apps)
		}
		return types.MapValueMust(appListType, m)
	}
	byTypedStructs := func() any {
		m := make(map[string][]typedApp, len(phones))
		for id, apps := range phones {
			typed := make([]typedApp, len(apps))
			for i, a := range apps {
				typed[i] = typedApp{AppPkg: a.AppPkg, AppName: a.AppName, AppVersion: a.AppVersion, IconURL: a.IconURL}
			}
			m[id] = typed
		}
		return m
	}
	benchBothWays(b, emptyState(b, newInstanceAppsDataSource()), "apps", byHand, byTypedStructs)
}
