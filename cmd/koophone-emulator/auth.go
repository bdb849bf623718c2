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
// else the HW_ ones, never mixing two places. It leaves them empty when
// none is set: the seed file may have some (see useSeed).
func (a *akskFlags) resolve(getenv func(string) string) error {
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
	return nil
}

// useSeed takes the seed file's access key, secret key and security token
// (which emulator.ParseSeed has checked go together) when neither the flags
// nor the environment set any.
func (a *akskFlags) useSeed(c *emulator.Credentials) {
	if a.source != "" || c == nil || c.AccessKey == "" {
		return
	}
	a.accessKey, a.secretKey, a.securityToken = c.AccessKey, c.SecretKey, c.SecurityToken
	a.source = "the seed file"
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

// describeAuth says which credential kinds are accepted and where they
// come from, without any value. tokenSource is "" when no token is.
func describeAuth(tokenSource string, a akskFlags) string {
	var kinds []string
	if tokenSource != "" {
		kinds = append(kinds, "X-Auth-Token (from "+tokenSource+")")
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
