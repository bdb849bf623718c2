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
// key (AK/SK) or temporary AK/SK. They come from one place, the first of
// credentialPlaces that sets any, and are never mixed across places.
// KOOPHONE_* ranks above HW_*, the huaweicloud provider's variables, so that
// a pipeline that exports HW_* can still give this provider its own
// credentials.

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

// authSummary says how the provider authenticates, without any secret.
type authSummary struct {
	Method authMethod
	Source string // the place, such as "the provider block"
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
	ProjectID     string // sent as X-Project-Id on signed requests
}

func (a authSettings) credentials() koophone.Credentials {
	if a.Method == authToken {
		return koophone.TokenCredentials{Token: a.Token}
	}
	return koophone.AKSKCredentials{
		AccessKey: a.AccessKey, SecretKey: a.SecretKey, SecurityToken: a.SecurityToken, ProjectID: a.ProjectID,
	}
}

// credentialPlace is one place credentials can come from, with the names
// its credentials have there ("" for one it cannot hold), and how messages
// speak of it.
type credentialPlace struct {
	where                                                 string
	inConfig                                              bool
	token, accessKey, secretKey, securityToken, projectID string
	placeWording
}

type placeWording struct {
	in, remove, subject, missingPrefix, sensitiveHint, precedence, noMixing string
}

var (
	configPlace = credentialPlace{
		where: "the provider block", inConfig: true,
		token: "token", accessKey: "access_key", secretKey: "secret_key", securityToken: "security_token", projectID: "project_id",
		placeWording: placeWording{
			in:            "in the provider block",
			remove:        "remove",
			subject:       "The provider block sets",
			missingPrefix: "KooPhone ",
			sensitiveHint: " (from a sensitive variable)",
			noMixing:      " Credentials from the provider block are never combined with credentials from the environment.",
		},
	}
	envWording = placeWording{
		in:         "in the environment",
		remove:     "unset",
		subject:    "The provider block sets no credentials, and the environment sets",
		precedence: " Or set credentials in the provider block, which take precedence over the environment.",
		noMixing:   " Credentials are taken from one place only: the provider block, else the KOOPHONE_* variables, else the HW_* variables.",
	}
	credentialPlaces = []credentialPlace{
		configPlace,
		{
			where: "the KOOPHONE_* environment variables", token: envToken, accessKey: envAccessKey, secretKey: envSecretKey,
			securityToken: envSecurityToken, projectID: envProjectID, placeWording: envWording,
		},
		{
			where: "the HW_* environment variables", accessKey: envHWAccessKey, secretKey: envHWSecretKey,
			securityToken: envHWSecurityToken, projectID: envHWProjectID, placeWording: envWording,
		},
	}
)

// lookup reads a value at p by its name there: an argument is set when it
// is not null, an environment variable when it is not empty.
func (p credentialPlace) lookup(m providerModel, env lookupEnv) lookupEnv {
	if !p.inConfig {
		return func(name string) (string, bool) {
			v, ok := env(name)
			return v, ok && v != ""
		}
	}
	arguments := map[string]types.String{
		"token": m.Token, "access_key": m.AccessKey, "secret_key": m.SecretKey, "security_token": m.SecurityToken, "project_id": m.ProjectID,
	}
	return func(name string) (string, bool) {
		v := arguments[name]
		return v.ValueString(), !v.IsNull()
	}
}

// checkValue reports a value, read at p under name for the argument arg,
// that cannot be sent in a header; why says why an environment variable is
// used.
func (p credentialPlace) checkValue(arg, name, why, value string) diag.Diagnostics {
	var diags diag.Diagnostics
	switch msg := credentialProblem(value); {
	case msg == "":
	case p.inConfig:
		diags.AddAttributeError(path.Root(arg), "Invalid KooPhone "+arg, fmt.Sprintf("The configured %s %s.", arg, msg))
	default:
		diags.AddAttributeError(path.Root(arg), "Invalid "+name,
			fmt.Sprintf("The %s environment variable is used because %s, but it %s.", name, why, msg))
	}
	return diags
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
// place; values not known yet get the benefit of the doubt.
func checkCredentialSet(p credentialPlace, c credentialPresence) diag.Diagnostics {
	var diags diag.Diagnostics
	if c.token == set && (c.accessKey == set || c.secretKey == set) {
		keys := joinSet(c, p)
		diags.AddAttributeError(path.Root("token"), "Conflicting KooPhone credentials",
			fmt.Sprintf("%s %s and also %s, but only one way of authenticating can be used.\n\n"+
				"%s %s to sign requests with the access key (AK/SK), or %s %s to authenticate with the token.%s",
				p.subject, p.token, keys, capitalize(p.remove), p.token, p.remove, keys, p.precedence))
	}
	switch {
	case c.accessKey == set && c.secretKey == absent:
		diags.AddAttributeError(path.Root("secret_key"), "Missing "+p.missingPrefix+p.secretKey,
			fmt.Sprintf("%s is set %s, but %s is not: an access key is used together with its secret key.\n\n"+
				"Set %s too%s, or %s %s.%s",
				p.accessKey, p.in, p.secretKey, p.secretKey, p.sensitiveHint, p.remove, p.accessKey, p.noMixing))
	case c.secretKey == set && c.accessKey == absent:
		diags.AddAttributeError(path.Root("access_key"), "Missing "+p.missingPrefix+p.accessKey,
			fmt.Sprintf("%s is set %s, but %s is not: a secret key is used together with its access key.\n\n"+
				"Set %s too, or %s %s.%s",
				p.secretKey, p.in, p.accessKey, p.accessKey, p.remove, p.secretKey, p.noMixing))
	case c.securityToken == set && c.accessKey == absent && c.secretKey == absent:
		detail := fmt.Sprintf("%s is set %s, but %s and %s are not: a security token only works together with the "+
			"temporary access key and secret key it was issued with.\n\nSet %s and %s too, or %s %s.",
			p.securityToken, p.in, p.accessKey, p.secretKey, p.accessKey, p.secretKey, p.remove, p.securityToken)
		if c.token == set {
			detail += fmt.Sprintf(" A security token is not used with %s.", p.token)
		}
		diags.AddAttributeError(path.Root("security_token"), "Security token without access key", detail+p.noMixing)
	}
	return diags
}

// joinSet names the access key, secret key and security token that c sets
// at p.
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

// missingCredentialsDetail lists every way to provide credentials.
const missingCredentialsDetail = "The provider needs credentials to call the KooPhone API, and none are configured. Provide one of:\n\n" +
	"  - an IAM token: token in the provider \"koophone\" block, or the KOOPHONE_TOKEN environment variable;\n" +
	"  - an access key (AK/SK): access_key and secret_key in the provider block, or the KOOPHONE_ACCESS_KEY and " +
	"KOOPHONE_SECRET_KEY environment variables, or HW_ACCESS_KEY and HW_SECRET_KEY (as for the huaweicloud provider);\n" +
	"  - temporary credentials: an access key as above plus its security token, in security_token, " +
	"KOOPHONE_SECURITY_TOKEN or HW_SECURITY_TOKEN.\n\n" +
	"The provider block takes precedence over the KOOPHONE_* variables, which take precedence over the HW_* variables. " +
	"Set credentials from sensitive variables or the environment, never as literals."

// resolveCredentials picks the credentials in force from a fully known
// configuration and the environment.
func resolveCredentials(m providerModel, env lookupEnv) (authSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	var a authSettings
	var place credentialPlace
	var found credentialPresence
	values := map[string]string{}
	for _, p := range credentialPlaces {
		lookup := p.lookup(m, env)
		for _, slot := range []struct {
			argument, name string
			to             *presence
		}{
			{"token", p.token, &found.token},
			{"access_key", p.accessKey, &found.accessKey},
			{"secret_key", p.secretKey, &found.secretKey},
			{"security_token", p.securityToken, &found.securityToken},
		} {
			v, ok := lookup(slot.name)
			if slot.name == "" || !ok {
				continue
			}
			*slot.to = set
			values[slot.argument] = v
			diags.Append(p.checkValue(slot.argument, slot.name, "the provider block sets no credentials", v)...)
		}
		if found.anySet() {
			place = p
			break
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

	// The project id is looked up on its own: it may come from another
	// place than the credentials.
	for _, p := range credentialPlaces {
		if v, ok := p.lookup(m, env)(p.projectID); ok {
			a.ProjectID = v
			diags.Append(p.checkValue("project_id", p.projectID, "project_id is not set", v)...)
			break
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
