package main

import (
	"flag"
	"strings"

	"github.com/koophone/terraform-provider-koophone/internal/emulator"
)

// akskFlags are the AK/SK credentials the emulator accepts signatures of.
type akskFlags struct {
	accessKey     string
	secretKey     string
	securityToken string
	// source says where they came from, for the start-up line: "flags",
	// "KOOPHONE_*" or "HW_*"; "" when there are none.
	source string
}

func (a *akskFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.accessKey, "access-key", "", "accept AK/SK signatures made with this access key (default $KOOPHONE_ACCESS_KEY, then $HW_ACCESS_KEY)")
	fs.StringVar(&a.secretKey, "secret-key", "", "the secret key of -access-key (default $KOOPHONE_SECRET_KEY, then $HW_SECRET_KEY)")
	fs.StringVar(&a.securityToken, "security-token", "", "make -access-key temporary: require this X-Security-Token (default $KOOPHONE_SECURITY_TOKEN, then $HW_SECURITY_TOKEN)")
}

// resolve fills unset values from the environment, as the provider does:
// the flags if any is given, else the KOOPHONE_ variables if any is set,
// else the HW_ ones, never mixing two places. haveToken says whether a
// token is configured: without one, an access key is required.
func (a *akskFlags) resolve(getenv func(string) string, haveToken bool) error {
	if a.accessKey != "" || a.secretKey != "" || a.securityToken != "" {
		a.source = "flags"
		return a.check("-access-key", "-secret-key", "-security-token")
	}
	for _, prefix := range []string{"KOOPHONE_", "HW_"} {
		a.accessKey = getenv(prefix + "ACCESS_KEY")
		a.secretKey = getenv(prefix + "SECRET_KEY")
		a.securityToken = getenv(prefix + "SECURITY_TOKEN")
		if a.accessKey != "" || a.secretKey != "" || a.securityToken != "" {
			a.source = prefix + "*"
			return a.check(prefix+"ACCESS_KEY", prefix+"SECRET_KEY", prefix+"SECURITY_TOKEN")
		}
	}
	if !haveToken {
		return usageError{"no credentials: pass -token (or set KOOPHONE_TOKEN), or -access-key and -secret-key " +
			"(or set KOOPHONE_ACCESS_KEY and KOOPHONE_SECRET_KEY, or HW_ACCESS_KEY and HW_SECRET_KEY)"}
	}
	return nil
}

func (a *akskFlags) check(ak, sk, st string) error {
	switch {
	case a.accessKey == "" && a.secretKey == "":
		return usageError{st + " is set, but " + ak + " and " + sk + " are not: a security token needs its access key"}
	case a.accessKey == "":
		return usageError{sk + " is set, but " + ak + " is not"}
	case a.secretKey == "":
		return usageError{ak + " is set, but " + sk + " is not"}
	}
	return nil
}

// apply adds the credentials to the emulator's options.
func (a *akskFlags) apply(opts *emulator.Options) {
	opts.AccessKey, opts.SecretKey, opts.SecurityToken = a.accessKey, a.secretKey, a.securityToken
}

// describeAuth says which credential kinds are accepted, without any value.
func describeAuth(token bool, a akskFlags) string {
	var kinds []string
	if token {
		kinds = append(kinds, "X-Auth-Token")
	}
	if a.accessKey != "" {
		kind := "AK/SK signatures (access key from " + a.source + ")"
		if a.securityToken != "" {
			kind = "temporary AK/SK signatures with X-Security-Token (from " + a.source + ")"
		}
		kinds = append(kinds, kind)
	}
	return strings.Join(kinds, " and ")
}
