package provider

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func envOf(vars map[string]string) lookupEnv {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func nullModel() providerModel {
	return providerModel{
		Endpoint:       types.StringNull(),
		Token:          types.StringNull(),
		RequestTimeout: types.StringNull(),
		MaxRetries:     types.Int64Null(),
		CACertPEM:      types.StringNull(),
		CACertFile:     types.StringNull(),
		Insecure:       types.BoolNull(),
	}
}

func TestResolveSettingsPrecedence(t *testing.T) {
	env := envOf(map[string]string{"KOOPHONE_ENDPOINT": "https://env.example", "KOOPHONE_TOKEN": "env-token"})

	s, diags := resolveSettings(nullModel(), env)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if s.Endpoint != "https://env.example" || s.Auth.Token != "env-token" {
		t.Errorf("environment not used: %+v", s)
	}
	if s.RequestTimeout != 30*time.Second || s.MaxRetries != 4 {
		t.Errorf("defaults = %v, %d", s.RequestTimeout, s.MaxRetries)
	}

	m := nullModel()
	m.Endpoint = types.StringValue("https://config.example/")
	m.Token = types.StringValue("config-token")
	m.RequestTimeout = types.StringValue("45s")
	m.MaxRetries = types.Int64Value(0)
	s, diags = resolveSettings(m, env)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if s.Endpoint != "https://config.example/" || s.Auth.Token != "config-token" || s.RequestTimeout != 45*time.Second || s.MaxRetries != 0 {
		t.Errorf("configuration did not win: %+v", s)
	}

	s, diags = resolveSettings(func() providerModel { m := nullModel(); m.Token = types.StringValue("t"); return m }(), envOf(nil))
	if diags.HasError() || s.Endpoint != "https://koophone.myhuaweicloud.com" {
		t.Errorf("default endpoint = %q, %v", s.Endpoint, diags)
	}
}

func TestResolveSettingsErrors(t *testing.T) {
	cases := []struct {
		name    string
		model   func(*providerModel)
		env     map[string]string
		summary string
		detail  string
	}{
		{"no credentials", nil, nil, "Missing KooPhone credentials", "KOOPHONE_TOKEN"},
		{"empty env token", nil, map[string]string{"KOOPHONE_TOKEN": ""}, "Missing KooPhone credentials", "token"},
		{"env token with newline", nil, map[string]string{"KOOPHONE_TOKEN": "abc\n"}, "Invalid KOOPHONE_TOKEN", "white space"},
		{"bad env endpoint", func(m *providerModel) { m.Token = types.StringValue("t") }, map[string]string{"KOOPHONE_ENDPOINT": "ftp://x"}, "Invalid KOOPHONE_ENDPOINT", "https://"},
		{"bad configured endpoint", func(m *providerModel) { m.Token = types.StringValue("t"); m.Endpoint = types.StringValue("x") }, nil, "Invalid KooPhone endpoint", "https://"},
		{"short timeout", func(m *providerModel) {
			m.Token = types.StringValue("t")
			m.RequestTimeout = types.StringValue("1ms")
		}, nil, "Duration too short", "at least 1s"},
		{"timeout not a duration", func(m *providerModel) {
			m.Token = types.StringValue("t")
			m.RequestTimeout = types.StringValue("30")
		}, nil, "Invalid duration", `request_timeout is "30", which is not a Go duration`},
		{"too many retries", func(m *providerModel) { m.Token = types.StringValue("t"); m.MaxRetries = types.Int64Value(99) }, nil, "Invalid max_retries", "between 0 and 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := nullModel()
			if c.model != nil {
				c.model(&m)
			}
			_, diags := resolveSettings(m, envOf(c.env))
			if !diags.HasError() {
				t.Fatal("no error")
			}
			d := diags.Errors()[0]
			if d.Summary() != c.summary || !strings.Contains(d.Detail(), c.detail) {
				t.Errorf("got %q / %q", d.Summary(), d.Detail())
			}
			if strings.Contains(d.Detail(), "abc\n") {
				t.Error("the token is quoted in the error")
			}
		})
	}
}

func TestResolveRateLimit(t *testing.T) {
	cases := []struct {
		name   string
		config types.Float64
		env    map[string]string
		want   float64
		err    string
	}{
		{"no cap by default", types.Float64Null(), nil, 0, ""},
		{"from the environment", types.Float64Null(), map[string]string{"KOOPHONE_RATE_LIMIT": " 2.5 "}, 2.5, ""},
		{"an empty variable means no cap", types.Float64Null(), map[string]string{"KOOPHONE_RATE_LIMIT": ""}, 0, ""},
		{"configuration wins", types.Float64Value(50), map[string]string{"KOOPHONE_RATE_LIMIT": "2"}, 50, ""},
		{"configuration out of range", types.Float64Value(0), nil, 0, "must be between 0.01 and 10000"},
		{"variable not a number", types.Float64Null(), map[string]string{"KOOPHONE_RATE_LIMIT": "fast"}, 0, `its value "fast" is not a number`},
		{"variable out of range", types.Float64Null(), map[string]string{"KOOPHONE_RATE_LIMIT": "-1"}, 0, "must be between"},
		{"variable NaN", types.Float64Null(), map[string]string{"KOOPHONE_RATE_LIMIT": "NaN"}, 0, "must be between"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, diags := resolveRateLimit(c.config, envOf(c.env))
			if c.err == "" {
				if diags.HasError() || got != c.want {
					t.Errorf("got %v, %v; want %v", got, diags, c.want)
				}
				return
			}
			if !diags.HasError() {
				t.Fatalf("no error, got %v", got)
			}
			if d := diags.Errors()[0].Detail(); !strings.Contains(d, c.err) {
				t.Errorf("detail %q lacks %q", d, c.err)
			}
		})
	}
}
