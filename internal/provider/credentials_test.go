package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// Distinctive values, so a test can tell where each came from and check
// that no message quotes a secret.
const (
	cfgToken = "cfg-TOKEN"
	cfgAK    = "cfg-AK"
	cfgSK    = "cfg-SK-secret"
	cfgST    = "cfg-ST-secret"
	kpToken  = "kp-TOKEN"
	kpAK     = "kp-AK"
	kpSK     = "kp-SK-secret"
	kpST     = "kp-ST-secret"
	hwAK     = "hw-AK"
	hwSK     = "hw-SK-secret"
	hwST     = "hw-ST-secret"
)

// modelWith is a null model with the given credentials set.
func modelWith(token, ak, sk, st string) providerModel {
	m := nullModel()
	for _, f := range []struct {
		v  string
		to *types.String
	}{{token, &m.Token}, {ak, &m.AccessKey}, {sk, &m.SecretKey}, {st, &m.SecurityToken}} {
		if f.v == "" {
			*f.to = types.StringNull()
		} else {
			*f.to = types.StringValue(f.v)
		}
	}
	m.ProjectID = types.StringNull()
	return m
}

var (
	envKP    = map[string]string{"KOOPHONE_ACCESS_KEY": kpAK, "KOOPHONE_SECRET_KEY": kpSK}
	envHW    = map[string]string{"HW_ACCESS_KEY": hwAK, "HW_SECRET_KEY": hwSK}
	envHWTmp = map[string]string{"HW_ACCESS_KEY": hwAK, "HW_SECRET_KEY": hwSK, "HW_SECURITY_TOKEN": hwST}
)

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestCredentialPrecedence(t *testing.T) {
	everything := merge(envKP, envHWTmp, map[string]string{"KOOPHONE_TOKEN": kpToken, "KOOPHONE_SECURITY_TOKEN": ""})
	cases := []struct {
		name  string
		model providerModel
		env   map[string]string
		want  authSettings
	}{
		{"token in the block wins over every variable", modelWith(cfgToken, "", "", ""), everything,
			authSettings{authSummary: authSummary{authToken, "the provider block"}, Token: cfgToken}},
		{"AK/SK in the block wins over every variable", modelWith("", cfgAK, cfgSK, ""), everything,
			authSettings{authSummary: authSummary{authAKSK, "the provider block"}, AccessKey: cfgAK, SecretKey: cfgSK}},
		{"temporary AK/SK in the block", modelWith("", cfgAK, cfgSK, cfgST), everything,
			authSettings{authSummary: authSummary{authTemporary, "the provider block"}, AccessKey: cfgAK, SecretKey: cfgSK, SecurityToken: cfgST}},
		{"KOOPHONE_TOKEN wins over HW_*", nullModel(), merge(envHW, map[string]string{"KOOPHONE_TOKEN": kpToken}),
			authSettings{authSummary: authSummary{authToken, "the KOOPHONE_* environment variables"}, Token: kpToken}},
		{"KOOPHONE_ACCESS_KEY wins over HW_*", nullModel(), merge(envHWTmp, envKP),
			authSettings{authSummary: authSummary{authAKSK, "the KOOPHONE_* environment variables"}, AccessKey: kpAK, SecretKey: kpSK}},
		{"temporary KOOPHONE_*", nullModel(), merge(envKP, map[string]string{"KOOPHONE_SECURITY_TOKEN": kpST}),
			authSettings{authSummary: authSummary{authTemporary, "the KOOPHONE_* environment variables"}, AccessKey: kpAK, SecretKey: kpSK, SecurityToken: kpST}},
		{"HW_* alone", nullModel(), envHW,
			authSettings{authSummary: authSummary{authAKSK, "the HW_* environment variables"}, AccessKey: hwAK, SecretKey: hwSK}},
		{"temporary HW_*", nullModel(), envHWTmp,
			authSettings{authSummary: authSummary{authTemporary, "the HW_* environment variables"}, AccessKey: hwAK, SecretKey: hwSK, SecurityToken: hwST}},
		{"empty variables count as unset", nullModel(),
			merge(envHW, map[string]string{"KOOPHONE_TOKEN": "", "KOOPHONE_ACCESS_KEY": "", "KOOPHONE_SECRET_KEY": "", "KOOPHONE_SECURITY_TOKEN": ""}),
			authSettings{authSummary: authSummary{authAKSK, "the HW_* environment variables"}, AccessKey: hwAK, SecretKey: hwSK}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, diags := resolveCredentials(c.model, envOf(c.env))
			if diags.HasError() {
				t.Fatal(diags)
			}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestProjectIDPrecedence(t *testing.T) {
	both := map[string]string{"KOOPHONE_PROJECT_ID": "kp-project", "HW_PROJECT_ID": "hw-project"}
	m := modelWith("", cfgAK, cfgSK, "")
	m.ProjectID = types.StringValue("cfg-project")
	for _, c := range []struct {
		model providerModel
		env   map[string]string
		want  string
	}{
		{m, both, "cfg-project"},
		{modelWith("", cfgAK, cfgSK, ""), both, "kp-project"},
		{modelWith("", cfgAK, cfgSK, ""), map[string]string{"KOOPHONE_PROJECT_ID": "", "HW_PROJECT_ID": "hw-project"}, "hw-project"},
		// The project id is not a credential: it is found on its own,
		// whatever place the credentials come from.
		{nullModel(), merge(envKP, map[string]string{"HW_PROJECT_ID": "hw-project"}), "hw-project"},
		{modelWith("", cfgAK, cfgSK, ""), nil, ""},
	} {
		got, diags := resolveCredentials(c.model, envOf(c.env))
		if diags.HasError() || got.ProjectID != c.want {
			t.Errorf("project id %q, want %q (%v)", got.ProjectID, c.want, diags)
		}
	}
}

func TestAuthSettingsCredentials(t *testing.T) {
	tok := authSettings{authSummary: authSummary{Method: authToken}, Token: "t", ProjectID: "p"}
	if got, ok := tok.credentials().(koophone.TokenCredentials); !ok || got.Token != "t" {
		t.Errorf("token credentials = %#v", tok.credentials())
	}
	aksk := authSettings{authSummary: authSummary{Method: authTemporary}, AccessKey: "a", SecretKey: "s", SecurityToken: "st", ProjectID: "p"}
	got, ok := aksk.credentials().(koophone.AKSKCredentials)
	if !ok || got.AccessKey != "a" || got.SecretKey != "s" || got.SecurityToken != "st" || got.ProjectID != "p" {
		t.Errorf("AK/SK credentials = %#v", aksk.credentials())
	}
	if s := got.Secrets(); !contains(s, "s") || !contains(s, "st") {
		t.Errorf("Secrets %v lack the secret key or security token", s)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Every error of the credential rules: its summary, the argument it is
// reported against, and phrases of its detail, none quoting a secret.
func TestCredentialErrors(t *testing.T) {
	cases := []struct {
		name    string
		model   providerModel
		env     map[string]string
		summary string
		path    string // "" for an error not tied to an argument
		detail  []string
	}{
		{"nothing anywhere", nullModel(), nil, "Missing KooPhone credentials", "", []string{
			`an IAM token: token in the provider "koophone" block, or the KOOPHONE_TOKEN environment variable`,
			"an access key (AK/SK): access_key and secret_key in the provider block, or the KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY environment variables, or HW_ACCESS_KEY and HW_SECRET_KEY",
			"temporary credentials: an access key as above plus its security token, in security_token, KOOPHONE_SECURITY_TOKEN or HW_SECURITY_TOKEN",
			"The provider block takes precedence over the KOOPHONE_* variables, which take precedence over the HW_* variables",
		}},
		{"token and AK/SK in the block", modelWith(cfgToken, cfgAK, cfgSK, ""), envHW, "Conflicting KooPhone credentials", "token", []string{
			"The provider block sets token and also access_key and secret_key, but only one way of authenticating can be used.",
			"Remove token to sign requests with the access key (AK/SK), or remove access_key and secret_key to authenticate with the token.",
		}},
		{"token and temporary AK/SK in the block", modelWith(cfgToken, cfgAK, cfgSK, cfgST), nil, "Conflicting KooPhone credentials", "token", []string{
			"or remove access_key, secret_key and security_token to authenticate with the token",
		}},
		{"token and AK/SK in KOOPHONE_*", nullModel(), merge(envKP, map[string]string{"KOOPHONE_TOKEN": kpToken}), "Conflicting KooPhone credentials", "token", []string{
			"The provider block sets no credentials, and the environment sets KOOPHONE_TOKEN and also KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY",
			"Unset KOOPHONE_TOKEN to sign requests with the access key (AK/SK), or unset KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY to authenticate with the token.",
			"Or set credentials in the provider block, which take precedence over the environment.",
		}},
		{"access key without secret key in the block", modelWith("", cfgAK, "", ""), envHW, "Missing KooPhone secret_key", "secret_key", []string{
			"access_key is set in the provider block, but secret_key is not: an access key is used together with its secret key.",
			"Set secret_key too (from a sensitive variable), or remove access_key.",
			"Credentials from the provider block are never combined with credentials from the environment.",
		}},
		{"secret key without access key in the block", modelWith("", "", cfgSK, ""), envHW, "Missing KooPhone access_key", "access_key", []string{
			"secret_key is set in the provider block, but access_key is not", "Set access_key too, or remove secret_key.",
		}},
		{"security token alone in the block", modelWith("", "", "", cfgST), envHW, "Security token without access key", "security_token", []string{
			"security_token is set in the provider block, but access_key and secret_key are not",
			"Set access_key and secret_key too, or remove security_token.",
		}},
		{"security token with a token in the block", modelWith(cfgToken, "", "", cfgST), nil, "Security token without access key", "security_token", []string{
			"A security token is not used with token.",
		}},
		{"KOOPHONE_ACCESS_KEY alone (HW_SECRET_KEY is not borrowed)", nullModel(), map[string]string{"KOOPHONE_ACCESS_KEY": kpAK, "HW_SECRET_KEY": hwSK}, "Missing KOOPHONE_SECRET_KEY", "secret_key", []string{
			"KOOPHONE_ACCESS_KEY is set in the environment, but KOOPHONE_SECRET_KEY is not",
			"Set KOOPHONE_SECRET_KEY too, or unset KOOPHONE_ACCESS_KEY.",
			"Credentials are taken from one place only: the provider block, else the KOOPHONE_* variables, else the HW_* variables.",
		}},
		{"HW_SECRET_KEY alone", nullModel(), map[string]string{"HW_SECRET_KEY": hwSK}, "Missing HW_ACCESS_KEY", "access_key", []string{
			"HW_SECRET_KEY is set in the environment, but HW_ACCESS_KEY is not", "Set HW_ACCESS_KEY too, or unset HW_SECRET_KEY.",
		}},
		{"HW_SECURITY_TOKEN alone", nullModel(), map[string]string{"HW_SECURITY_TOKEN": hwST}, "Security token without access key", "security_token", []string{
			"HW_SECURITY_TOKEN is set in the environment, but HW_ACCESS_KEY and HW_SECRET_KEY are not",
		}},
		{"KOOPHONE_SECURITY_TOKEN does not pair with HW_*", nullModel(), merge(envHW, map[string]string{"KOOPHONE_SECURITY_TOKEN": kpST}), "Security token without access key", "security_token", []string{
			"KOOPHONE_SECURITY_TOKEN is set in the environment, but KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY are not",
		}},
		{"secret key with a newline in the block", modelWith("", cfgAK, cfgSK+"\n", ""), nil, "Invalid KooPhone secret_key", "secret_key", []string{
			"The configured secret_key contains white space or a control character", "trimspace()",
		}},
		{"HW_SECRET_KEY with a space", nullModel(), map[string]string{"HW_ACCESS_KEY": hwAK, "HW_SECRET_KEY": hwSK + " x"}, "Invalid HW_SECRET_KEY", "secret_key", []string{
			"The HW_SECRET_KEY environment variable is used because the provider block sets no credentials, but it contains white space",
		}},
		{"security token with a NUL in the block", modelWith("", cfgAK, cfgSK, "\x00"), nil, "Invalid KooPhone security_token", "security_token", []string{
			"control character",
		}},
		{"project id with a space", func() providerModel {
			m := modelWith("", cfgAK, cfgSK, "")
			m.ProjectID = types.StringValue("a b")
			return m
		}(), nil,
			"Invalid KooPhone project_id", "project_id", []string{"The configured project_id contains white space"}},
		{"HW_PROJECT_ID with a newline", modelWith("", cfgAK, cfgSK, ""), map[string]string{"HW_PROJECT_ID": "p\n"},
			"Invalid HW_PROJECT_ID", "project_id", []string{"The HW_PROJECT_ID environment variable is used because project_id is not set"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := resolveCredentials(c.model, envOf(c.env))
			d := findError(t, diags, c.summary)
			wantPath := path.Empty()
			if c.path != "" {
				wantPath = path.Root(c.path)
			}
			if got := pathOf(d); !got.Equal(wantPath) {
				t.Errorf("reported against %q, want %q", got, wantPath)
			}
			for _, phrase := range c.detail {
				if !strings.Contains(d.Detail(), phrase) {
					t.Errorf("detail lacks %q:\n%s", phrase, d.Detail())
				}
			}
			for _, e := range diags.Errors() {
				for _, secret := range []string{cfgToken, cfgSK, cfgST, kpToken, kpSK, kpST, hwSK, hwST} {
					if strings.Contains(e.Summary()+e.Detail(), secret) {
						t.Errorf("%q quotes a secret", e.Summary())
					}
				}
			}
		})
	}
}

func findError(t *testing.T, diags diag.Diagnostics, summary string) diag.Diagnostic {
	t.Helper()
	for _, d := range diags.Errors() {
		if d.Summary() == summary {
			return d
		}
	}
	t.Fatalf("no error %q in %v", summary, diags)
	return nil
}

func pathOf(d diag.Diagnostic) path.Path {
	if wp, ok := d.(diag.DiagnosticWithPath); ok {
		return wp.Path()
	}
	return path.Empty()
}

// The settings carry the credentials in force through resolveSettings.
func TestResolveSettingsUsesCredentials(t *testing.T) {
	s, diags := resolveSettings(nullModel(), envOf(envHWTmp))
	if diags.HasError() {
		t.Fatal(diags)
	}
	if s.Auth.Method != authTemporary || s.Auth.AccessKey != hwAK || s.Auth.SecurityToken != hwST {
		t.Errorf("auth = %+v", s.Auth)
	}
}

// At plan time, ValidateConfig checks the provider block's credentials,
// leaving values not known yet (from resources) alone.
func TestValidateConfigCredentials(t *testing.T) {
	p := &koophoneProvider{}
	var sr provider.SchemaResponse
	p.Schema(context.Background(), provider.SchemaRequest{}, &sr)
	objType, ok := sr.Schema.Type().TerraformType(context.Background()).(tftypes.Object)
	if !ok {
		t.Fatal("the schema is not an object")
	}
	config := func(vals map[string]tftypes.Value) tfsdk.Config {
		attrs := map[string]tftypes.Value{}
		for name, typ := range objType.AttributeTypes {
			attrs[name] = tftypes.NewValue(typ, nil)
		}
		for k, v := range vals {
			attrs[k] = v
		}
		return tfsdk.Config{Schema: sr.Schema, Raw: tftypes.NewValue(objType, attrs)}
	}
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	unknown := tftypes.NewValue(tftypes.String, tftypes.UnknownValue)
	cases := []struct {
		name string
		vals map[string]tftypes.Value
		want string // "" for no error
	}{
		{"nothing (the environment may have them)", nil, ""},
		{"token", map[string]tftypes.Value{"token": str("t")}, ""},
		{"AK/SK", map[string]tftypes.Value{"access_key": str("a"), "secret_key": str("s")}, ""},
		{"token and AK/SK", map[string]tftypes.Value{"token": str("t"), "access_key": str("a"), "secret_key": str("s")}, "Conflicting KooPhone credentials"},
		{"AK alone", map[string]tftypes.Value{"access_key": str("a")}, "Missing KooPhone secret_key"},
		{"AK, SK not known yet", map[string]tftypes.Value{"access_key": str("a"), "secret_key": unknown}, ""},
		{"token not known yet, AK/SK", map[string]tftypes.Value{"token": unknown, "access_key": str("a"), "secret_key": str("s")}, ""},
		{"security token alone", map[string]tftypes.Value{"security_token": str("st")}, "Security token without access key"},
		{"security token, AK/SK not known yet", map[string]tftypes.Value{"security_token": str("st"), "access_key": unknown, "secret_key": unknown}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var resp provider.ValidateConfigResponse
			p.ValidateConfig(context.Background(), provider.ValidateConfigRequest{Config: config(c.vals)}, &resp)
			switch {
			case c.want == "" && resp.Diagnostics.HasError():
				t.Errorf("unexpected error: %v", resp.Diagnostics)
			case c.want != "":
				findError(t, resp.Diagnostics, c.want)
			}
		})
	}
}

// What the "credentials rejected" diagnostic advises depends on the way of
// authenticating.
func TestRejectionAdvice(t *testing.T) {
	cases := map[authSummary][]string{
		{authToken, "the KOOPHONE_* environment variables"}: {
			"Check the provider's token argument or the KOOPHONE_TOKEN environment variable (the token in use comes from the KOOPHONE_* environment variables)",
			"tokens expire after 24 hours", "use an access key (access_key and secret_key) instead",
		},
		{authAKSK, "the HW_* environment variables"}: {
			"signed (SDK-HMAC-SHA256) with the access key from the HW_* environment variables",
			"the secret key is the one issued with it", "more than 15 minutes",
		},
		{authTemporary, "the provider block"}: {"the temporary credentials (the security token with them) have not expired"},
	}
	for a, phrases := range cases {
		got := a.rejectionAdvice()
		for _, p := range phrases {
			if !strings.Contains(got, p) {
				t.Errorf("%v: advice lacks %q:\n%s", a, p, got)
			}
		}
	}
	if got := (authSummary{authAKSK, "x"}).rejectionAdvice(); strings.Contains(got, "security token") {
		t.Errorf("permanent AK/SK advice mentions the security token: %s", got)
	}
}
