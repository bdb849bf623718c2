package provider

import (
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// This file decides which credentials are in force: an IAM token, an access
// key (AK/SK, requests signed with SDK-HMAC-SHA256) or temporary AK/SK (with
// a security token), from the provider block or the environment.
//
// Credentials come from exactly one place, the first of these that sets
// any credential at all, and are never mixed across places:
//
//  1. the provider block: token, or access_key + secret_key (+ security_token);
//  2. KOOPHONE_TOKEN, or KOOPHONE_ACCESS_KEY + KOOPHONE_SECRET_KEY
//     (+ KOOPHONE_SECURITY_TOKEN);
//  3. HW_ACCESS_KEY + HW_SECRET_KEY (+ HW_SECURITY_TOKEN), the variables the
//     huaweicloud provider reads.
//
// Within one place, a token together with an access key is an error that
// says which to remove, and an access key without its secret key (or the
// reverse), or a security token without them, is an error on that
// argument. KOOPHONE_* ranks above HW_* so that a pipeline that exports
// HW_* for the huaweicloud provider can still give this provider its own
// token or key.

// Environment variables of the AK/SK credentials and the project id.
const (
	envAccessKey       = "KOOPHONE_ACCESS_KEY"
	envSecretKey       = "KOOPHONE_SECRET_KEY"
	envSecurityToken   = "KOOPHONE_SECURITY_TOKEN"
	envProjectID       = "KOOPHONE_PROJECT_ID"
	envHWAccessKey     = "HW_ACCESS_KEY"
	envHWSecretKey     = "HW_SECRET_KEY"
	envHWSecurityToken = "HW_SECURITY_TOKEN"
	envHWProjectID     = "HW_PROJECT_ID"
)

// authMethod is a way of authenticating.
type authMethod string

const (
	authToken     authMethod = "token"
	authAKSK      authMethod = "AK/SK"
	authTemporary authMethod = "temporary AK/SK"
)

// authSummary says how the provider authenticates, without any secret: for
// logs and for the advice given when the gateway refuses the credentials.
type authSummary struct {
	Method authMethod
	// Source is the place the credentials come from, such as "the
	// provider block".
	Source string
}

func (a authSummary) String() string {
	if a.Method == authToken {
		return "IAM token from " + a.Source
	}
	return string(a.Method) + " signature (SDK-HMAC-SHA256) with the access key from " + a.Source
}

// rejectionAdvice says what to check when the API gateway refuses the
// credentials (APIGW.0301).
func (a authSummary) rejectionAdvice() string {
	switch a.Method {
	case authAKSK, authTemporary:
		advice := "The request was signed (SDK-HMAC-SHA256) with the access key from " + a.Source + ". Check that the access key " +
			"exists and is enabled, that the secret key is the one issued with it"
		if a.Method == authTemporary {
			advice += ", that the temporary credentials (the security token with them) have not expired"
		}
		return advice + ", and that this machine's clock is right: the gateway refuses a signature dated more than 15 minutes " +
			"from its own time (X-Sdk-Date)."
	default:
		from := ""
		if a.Source != "" {
			from = " (the token in use comes from " + a.Source + ")"
		}
		return "Check the provider's token argument or the KOOPHONE_TOKEN environment variable" + from + ": it must be a valid, " +
			"unexpired, project-scoped Huawei Cloud IAM token (tokens expire after 24 hours). For credentials that do not " +
			"expire daily, use an access key (access_key and secret_key) instead."
	}
}

// authSettings are the credentials in force.
type authSettings struct {
	authSummary
	Token         string
	AccessKey     string
	SecretKey     string
	SecurityToken string
	// ProjectID is sent as X-Project-Id on signed requests when set.
	ProjectID string
}

// credentials returns the client credentials.
func (a authSettings) credentials() koophone.Credentials {
	if a.Method == authToken {
		return koophone.TokenCredentials{Token: a.Token}
	}
	return koophone.AKSKCredentials{
		AccessKey: a.AccessKey, SecretKey: a.SecretKey, SecurityToken: a.SecurityToken, ProjectID: a.ProjectID,
	}
}

// credentialPlace is one place credentials can come from, with the names
// its four credentials have there ("" for one it cannot hold).
type credentialPlace struct {
	where                                      string
	inConfig                                   bool
	token, accessKey, secretKey, securityToken string
}

var (
	configPlace = credentialPlace{
		where: "the provider block", inConfig: true,
		token: "token", accessKey: "access_key", secretKey: "secret_key", securityToken: "security_token",
	}
	envPlaces = []credentialPlace{
		{
			where: "the KOOPHONE_* environment variables",
			token: envToken, accessKey: envAccessKey, secretKey: envSecretKey, securityToken: envSecurityToken,
		},
		{
			where:     "the HW_* environment variables",
			accessKey: envHWAccessKey, secretKey: envHWSecretKey, securityToken: envHWSecurityToken,
		},
	}
)

// argument is the provider argument a credential name of p stands for.
func (p credentialPlace) argument(name string) string {
	switch name {
	case p.token:
		return "token"
	case p.accessKey:
		return "access_key"
	case p.secretKey:
		return "secret_key"
	default:
		return "security_token"
	}
}

// presence is whether a credential is set: absent (null or, in the
// environment, empty), set, or not known yet (plan time).
type presence int

const (
	absent presence = iota
	set
	unknownYet
)

func configPresence(v types.String) presence {
	switch {
	case v.IsUnknown():
		return unknownYet
	case v.IsNull():
		return absent
	}
	return set
}

// credentialPresence is which credentials a place sets.
type credentialPresence struct {
	token, accessKey, secretKey, securityToken presence
}

func (c credentialPresence) anySet() bool {
	return c.token == set || c.accessKey == set || c.secretKey == set || c.securityToken == set
}

// checkCredentialSet reports an inconsistent set of credentials at one
// place. Values not known yet are given the benefit of the doubt.
func checkCredentialSet(p credentialPlace, c credentialPresence) diag.Diagnostics {
	var diags diag.Diagnostics
	remove, where := "remove", "in the provider block"
	if !p.inConfig {
		remove, where = "unset", "in the environment"
	}
	either := func(a, b presence) bool { return a == set || b == set }

	if c.token == set && either(c.accessKey, c.secretKey) {
		keys := joinSet(c, p)
		subject := "The provider block sets"
		if !p.inConfig {
			subject = "The provider block sets no credentials, and the environment sets"
		}
		diags.AddAttributeError(path.Root("token"), "Conflicting KooPhone credentials",
			fmt.Sprintf("%s %s and also %s, but only one way of authenticating can be used.\n\n"+
				"%s %s to sign requests with the access key (AK/SK), or %s %s to authenticate with the token.%s",
				subject, p.token, keys, capitalize(remove), p.token, remove, keys, precedenceNote(p)))
	}
	switch {
	case c.accessKey == set && c.secretKey == absent:
		diags.AddAttributeError(path.Root("secret_key"), "Missing "+missingName(p, p.secretKey),
			fmt.Sprintf("%s is set %s, but %s is not: an access key is used together with its secret key.\n\n"+
				"Set %s too%s, or %s %s.%s",
				p.accessKey, where, p.secretKey, p.secretKey, sensitiveHint(p), remove, p.accessKey, noMixingNote(p)))
	case c.secretKey == set && c.accessKey == absent:
		diags.AddAttributeError(path.Root("access_key"), "Missing "+missingName(p, p.accessKey),
			fmt.Sprintf("%s is set %s, but %s is not: a secret key is used together with its access key.\n\n"+
				"Set %s too, or %s %s.%s",
				p.secretKey, where, p.accessKey, p.accessKey, remove, p.secretKey, noMixingNote(p)))
	case c.securityToken == set && c.accessKey == absent && c.secretKey == absent:
		detail := fmt.Sprintf("%s is set %s, but %s and %s are not: a security token only works together with the "+
			"temporary access key and secret key it was issued with.\n\nSet %s and %s too, or %s %s.",
			p.securityToken, where, p.accessKey, p.secretKey, p.accessKey, p.secretKey, remove, p.securityToken)
		if c.token == set {
			detail += fmt.Sprintf(" A security token is not used with %s.", p.token)
		}
		diags.AddAttributeError(path.Root("security_token"), "Security token without access key", detail+noMixingNote(p))
	}
	return diags
}

// joinSet names the access key and secret key that c sets at p.
func joinSet(c credentialPresence, p credentialPlace) string {
	var names []string
	if c.accessKey == set {
		names = append(names, p.accessKey)
	}
	if c.secretKey == set {
		names = append(names, p.secretKey)
	}
	if c.securityToken == set {
		names = append(names, p.securityToken)
	}
	if len(names) == 3 {
		return names[0] + ", " + names[1] + " and " + names[2]
	}
	return strings.Join(names, " and ")
}

func missingName(p credentialPlace, name string) string {
	if p.inConfig {
		return "KooPhone " + name
	}
	return name
}

func sensitiveHint(p credentialPlace) string {
	if p.inConfig {
		return " (from a sensitive variable)"
	}
	return ""
}

func precedenceNote(p credentialPlace) string {
	if p.inConfig {
		return ""
	}
	return " Or set credentials in the provider block, which take precedence over the environment."
}

func noMixingNote(p credentialPlace) string {
	if p.inConfig {
		return " Credentials from the provider block are never combined with credentials from the environment."
	}
	return " Credentials are taken from one place only: the provider block, else the KOOPHONE_* variables, else the HW_* variables."
}

// missingCredentialsDetail lists every way to provide credentials.
const missingCredentialsDetail = "The provider needs credentials to call the KooPhone API, and none are configured. Provide one of:\n\n" +
	"  - an IAM token: token in the provider \"koophone\" block, or the KOOPHONE_TOKEN environment variable;\n" +
	"  - an access key (AK/SK): access_key and secret_key in the provider block, or the KOOPHONE_ACCESS_KEY and " +
	"KOOPHONE_SECRET_KEY environment variables, or HW_ACCESS_KEY and HW_SECRET_KEY (as for the huaweicloud provider);\n" +
	"  - temporary credentials: an access key as above plus its security token, in security_token, " +
	"KOOPHONE_SECURITY_TOKEN or HW_SECURITY_TOKEN.\n\n" +
	"The provider block takes precedence over the KOOPHONE_* variables, which take precedence over the HW_* variables. " +
	"Set credentials from sensitive variables or the environment, never as literals."

// resolveCredentials picks the credentials in force (see the top of this
// file) from a fully known configuration and the environment.
func resolveCredentials(m providerModel, env lookupEnv) (authSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	var a authSettings

	cfg := map[string]types.String{"token": m.Token, "access_key": m.AccessKey, "secret_key": m.SecretKey, "security_token": m.SecurityToken}
	values := map[string]string{}
	var place credentialPlace
	var found credentialPresence
	if c := configCredentials(m); c.anySet() {
		place, found = configPlace, c
		for arg, v := range cfg {
			if v.IsNull() {
				continue
			}
			values[arg] = v.ValueString()
			if msg := credentialProblem(v.ValueString()); msg != "" {
				diags.AddAttributeError(path.Root(arg), "Invalid KooPhone "+arg, fmt.Sprintf("The configured %s %s.", arg, msg))
			}
		}
	} else {
		for _, p := range envPlaces {
			var c credentialPresence
			for _, slot := range []struct {
				name string
				to   *presence
			}{{p.token, &c.token}, {p.accessKey, &c.accessKey}, {p.secretKey, &c.secretKey}, {p.securityToken, &c.securityToken}} {
				if slot.name == "" {
					continue
				}
				if v, ok := env(slot.name); ok && v != "" {
					*slot.to = set
					values[p.argument(slot.name)] = v
					if msg := credentialProblem(v); msg != "" {
						diags.AddAttributeError(path.Root(p.argument(slot.name)), "Invalid "+slot.name,
							fmt.Sprintf("The %s environment variable is used because the provider block sets no credentials, but it %s.", slot.name, msg))
					}
				}
			}
			if c.anySet() {
				place, found = p, c
				break
			}
		}
	}
	if !found.anySet() {
		diags.AddError("Missing KooPhone credentials", missingCredentialsDetail)
		return a, diags
	}
	diags.Append(checkCredentialSet(place, found)...)

	a.Source = place.where
	a.Token, a.AccessKey, a.SecretKey, a.SecurityToken = values["token"], values["access_key"], values["secret_key"], values["security_token"]
	switch {
	case a.Token != "":
		a.Method = authToken
	case a.SecurityToken != "":
		a.Method = authTemporary
	default:
		a.Method = authAKSK
	}

	switch {
	case !m.ProjectID.IsNull():
		a.ProjectID = m.ProjectID.ValueString()
		if msg := credentialProblem(a.ProjectID); msg != "" {
			diags.AddAttributeError(path.Root("project_id"), "Invalid KooPhone project_id", fmt.Sprintf("The configured project_id %s.", msg))
		}
	default:
		for _, name := range []string{envProjectID, envHWProjectID} {
			if v, ok := env(name); ok && v != "" {
				a.ProjectID = v
				if msg := credentialProblem(v); msg != "" {
					diags.AddAttributeError(path.Root("project_id"), "Invalid "+name,
						fmt.Sprintf("The %s environment variable is used because project_id is not set, but it %s.", name, msg))
				}
				break
			}
		}
	}
	return a, diags
}

func configCredentials(m providerModel) credentialPresence {
	return credentialPresence{
		token: configPresence(m.Token), accessKey: configPresence(m.AccessKey),
		secretKey: configPresence(m.SecretKey), securityToken: configPresence(m.SecurityToken),
	}
}
