package emulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// This file authenticates API requests: an IAM token in X-Auth-Token, or
// an AK/SK signature (SDK-HMAC-SHA256) as the Huawei API gateway checks it.
//
// The signature check is the emulator's own implementation of the
// algorithm, written apart from the provider's signer (which it must never
// import), so that a mistake in one is caught by the other; both are tested
// against the official Huawei Cloud SDK.

const (
	signingAlgorithm = "SDK-HMAC-SHA256"
	sdkDateLayout    = "20060102T150405Z"
	// maxDateSkew is how far X-Sdk-Date may be from the gateway's clock
	// (the emulator's: see Options.ClockOffset).
	maxDateSkew = 15 * time.Minute
	// maxSignedBody is the gateway's body limit for AK/SK-signed requests.
	maxSignedBody = 12 << 20
)

// Values of Request.Auth.
const (
	AuthToken = "token"
	AuthAKSK  = "aksk"
)

// authFailure is why a request was refused, as the gateway answers it.
type authFailure struct {
	status int
	code   string
	reason string
}

func unauthorized(format string, args ...any) *authFailure {
	return &authFailure{status: http.StatusUnauthorized, code: "APIGW.0301", reason: fmt.Sprintf(format, args...)}
}

// authenticate accepts or refuses r. A request with an Authorization header
// is an AK/SK request; any other must carry the token. It notes in rec
// what it saw (never a secret).
func (e *Emulator) authenticate(r *http.Request, rec *Request) *authFailure {
	if auth := r.Header.Get("Authorization"); auth != "" {
		rec.Auth = AuthAKSK
		if e.accessKey == "" {
			return unauthorized("the request is signed with an access key, but this emulator accepts only tokens (X-Auth-Token)")
		}
		return e.verifySignature(r, auth, rec)
	}
	token := r.Header.Get("X-Auth-Token") // header names are canonicalised: case-insensitive
	if token != "" {
		rec.Auth = AuthToken
	}
	switch {
	case e.token == "" && token == "":
		return unauthorized("the request is not signed: the SDK-HMAC-SHA256 Authorization header is missing")
	case e.token == "":
		return unauthorized("this emulator accepts only AK/SK-signed requests, not X-Auth-Token")
	case token == "":
		return unauthorized("the X-Auth-Token header is missing")
	case subtle.ConstantTimeCompare([]byte(token), []byte(e.token)) != 1:
		return unauthorized("token verification failed")
	}
	return nil
}

// sdkAuthorization is a parsed "SDK-HMAC-SHA256 Access=..., SignedHeaders=...,
// Signature=..." header.
type sdkAuthorization struct {
	access    string
	signed    []string
	signature string
}

func parseSDKAuthorization(v string) (sdkAuthorization, bool) {
	var a sdkAuthorization
	rest, ok := strings.CutPrefix(v, signingAlgorithm+" ")
	if !ok {
		return a, false
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(rest, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || val == "" || seen[key] {
			return a, false
		}
		seen[key] = true
		switch key {
		case "Access":
			a.access = val
		case "SignedHeaders":
			a.signed = strings.Split(val, ";")
		case "Signature":
			a.signature = val
		default:
			return a, false
		}
	}
	return a, len(seen) == 3
}

// verifySignature checks an AK/SK request: the access key, X-Sdk-Date
// (present, signed, within 15 minutes of the emulator's clock), the
// security token of temporary credentials, then the signature itself.
func (e *Emulator) verifySignature(r *http.Request, header string, rec *Request) *authFailure {
	a, ok := parseSDKAuthorization(header)
	if !ok {
		return unauthorized("the Authorization header is not of the form %q", signingAlgorithm+" Access=<AK>, SignedHeaders=<a;b>, Signature=<hex>")
	}
	rec.SignedHeaders = a.signed
	if subtle.ConstantTimeCompare([]byte(a.access), []byte(e.accessKey)) != 1 {
		return unauthorized("verify aksk signature fail: the access key does not exist")
	}
	signs := func(name string) bool { return slices.Contains(a.signed, name) }

	date := r.Header.Get("X-Sdk-Date")
	switch {
	case date == "":
		return unauthorized("the X-Sdk-Date header is missing; AK/SK-signed requests need it, signed")
	case !signs("x-sdk-date"):
		return unauthorized("X-Sdk-Date is not a signed header (SignedHeaders must include x-sdk-date)")
	}
	signedAt, err := time.Parse(sdkDateLayout, date)
	if err != nil {
		return unauthorized("X-Sdk-Date %q is not a UTC time in the format YYYYMMDDTHHMMSSZ", date)
	}
	now := e.now()
	if skew := now.Sub(signedAt); skew > maxDateSkew || skew < -maxDateSkew {
		dir := "behind"
		if skew < 0 {
			dir, skew = "ahead of", -skew
		}
		return unauthorized("X-Sdk-Date %s is %s %s the server time (%s); a request must be signed within 15 minutes of it: check the clock of the machine that signs",
			date, skew.Round(time.Second), dir, now.UTC().Format(sdkDateLayout))
	}

	token := r.Header.Get("X-Security-Token")
	switch {
	case e.securityToken == "" && token != "":
		return unauthorized("verify aksk signature fail: an X-Security-Token was sent, but the access key is a permanent one")
	case e.securityToken == "":
	case token == "":
		return unauthorized("the X-Security-Token header is missing; the access key is temporary and needs its security token")
	case !signs("x-security-token"):
		return unauthorized("X-Security-Token is not a signed header")
	case subtle.ConstantTimeCompare([]byte(token), []byte(e.securityToken)) != 1:
		return unauthorized("the security token is invalid or has expired")
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxSignedBody+1))
	if err != nil {
		return &authFailure{status: http.StatusBadRequest, code: "APIGW.0201", reason: "the request body could not be read"}
	}
	if len(body) > maxSignedBody {
		return &authFailure{status: http.StatusRequestEntityTooLarge, code: "APIGW.0201",
			reason: "AK/SK-signed requests are limited to 12 MB of body; use a token for larger ones"}
	}
	r.Body = io.NopCloser(bytes.NewReader(body)) // for the handler

	canonical, missing := e.canonicalRequest(r, a.signed, body)
	if missing != "" {
		return unauthorized("verify aksk signature fail: the signed header %q is not in the request", missing)
	}
	want := hmacSHA256(e.secretKey, signingAlgorithm+"\n"+date+"\n"+sha256Hex([]byte(canonical)))
	got, err := hex.DecodeString(a.signature)
	if err != nil || !hmac.Equal(got, want) {
		return unauthorized("verify aksk signature fail: the signature does not match the request (check the secret key)")
	}
	return nil
}

// canonicalRequest rebuilds what the client signed from what arrived. It
// returns the name of a signed header the request lacks, if any.
func (e *Emulator) canonicalRequest(r *http.Request, signed []string, body []byte) (string, string) {
	var b strings.Builder
	b.WriteString(r.Method + "\n")

	// Canonical URI: every byte escaped but unreserved ones and the
	// slashes between segments, ending with a slash.
	for i := 0; i < len(r.URL.Path); i++ {
		if r.URL.Path[i] == '/' {
			b.WriteByte('/')
		} else {
			b.WriteString(pctEncode(r.URL.Path[i]))
		}
	}
	if !strings.HasSuffix(r.URL.Path, "/") {
		b.WriteByte('/')
	}
	b.WriteByte('\n')

	// Canonical query: sorted keys, each key's values sorted, escaped.
	query, _ := url.ParseQuery(r.URL.RawQuery)
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(query)) {
		for _, v := range slices.Sorted(slices.Values(query[k])) {
			pairs = append(pairs, pctEncodeString(k)+"="+pctEncodeString(v))
		}
	}
	b.WriteString(strings.Join(pairs, "&") + "\n")

	// Canonical headers, in the order of SignedHeaders.
	for _, name := range signed {
		var values []string
		if name == "host" {
			values = []string{r.Host}
		} else {
			values = slices.Sorted(slices.Values(r.Header.Values(name)))
		}
		if len(values) == 0 {
			return "", name
		}
		for _, v := range values {
			b.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	b.WriteString("\n" + strings.Join(signed, ";") + "\n")

	if v := r.Header.Get("X-Sdk-Content-Sha256"); v != "" {
		b.WriteString(v) // UNSIGNED-PAYLOAD
	} else {
		b.WriteString(sha256Hex(body))
	}
	return b.String(), ""
}

// pctEncode escapes one byte for the canonical request: A-Z a-z 0-9 - _ . ~
// stay, everything else becomes %XX (upper-case hex).
func pctEncode(c byte) string {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-_.~", c) >= 0:
		return string(c)
	}
	return fmt.Sprintf("%%%02X", c)
}

func pctEncodeString(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString(pctEncode(s[i]))
	}
	return b.String()
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func hmacSHA256(key, data string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(data))
	return m.Sum(nil)
}
