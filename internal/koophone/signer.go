package koophone

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// This file signs requests with Huawei Cloud AK/SK (SDK-HMAC-SHA256), as the
// API gateway in front of KooPhone verifies them. The official signer
// (huaweicloud-sdk-go-v3, core/auth/signer) signs the SDK's own request type,
// which would link the SDK's request model and its dependencies into the
// binary; so this follows it rule for rule instead, and signer_sdk_test.go
// (where the SDK is a test-only dependency) proves the two byte-identical.

// Names and formats of the AK/SK signature.
const (
	SigningAlgorithm    = "SDK-HMAC-SHA256"
	HeaderSdkDate       = "X-Sdk-Date" // the signing time, always signed
	SdkDateLayout       = "20060102T150405Z"
	HeaderSecurityToken = "X-Security-Token"
	HeaderProjectID     = "X-Project-Id"

	headerContentSha256 = "X-Sdk-Content-Sha256"
	unsignedPayload     = "UNSIGNED-PAYLOAD"
)

// AKSKCredentials sign every request with an access key and secret key. The
// client calls Apply on every attempt, after setting x-request-id, so every
// retry is signed afresh with its own date and request id.
type AKSKCredentials struct {
	AccessKey string
	SecretKey string
	// SecurityToken, for temporary AK/SK, and ProjectID are sent (and signed)
	// as X-Security-Token and X-Project-Id when set.
	SecurityToken string
	ProjectID     string
}

// Apply adds X-Security-Token and X-Project-Id (when set), X-Sdk-Date and
// Authorization. It signs the request as it is: call it last.
func (c AKSKCredentials) Apply(req *http.Request) error {
	if c.AccessKey == "" || c.SecretKey == "" {
		return errors.New("no KooPhone access key and secret key configured")
	}
	req.Header.Del("Authorization")
	if c.SecurityToken != "" {
		req.Header.Set(HeaderSecurityToken, c.SecurityToken)
	}
	if c.ProjectID != "" {
		req.Header.Set(HeaderProjectID, c.ProjectID)
	}
	// The gateway rejects a date more than 15 minutes from its own.
	return signRequest(req, c.AccessKey, c.SecretKey, time.Now())
}

// Secrets returns the secret key, the security token and the access key,
// which is not secret but is marked sensitive all the same.
func (c AKSKCredentials) Secrets() []string {
	var s []string
	for _, v := range []string{c.SecretKey, c.SecurityToken, c.AccessKey} {
		if v != "" {
			s = append(s, v)
		}
	}
	return s
}

// withSignature returns secrets plus the signature in req's Authorization
// header, if any, so that a server echoing it cannot get it quoted in an
// error. secrets itself is not modified.
func withSignature(secrets []string, req *http.Request) []string {
	auth := req.Header.Get("Authorization")
	if !strings.HasPrefix(auth, SigningAlgorithm+" ") {
		return secrets
	}
	if _, sig, ok := strings.Cut(auth, "Signature="); ok && sig != "" {
		return append(append(make([]string, 0, len(secrets)+1), secrets...), sig)
	}
	return secrets
}

// signRequest sets X-Sdk-Date to t and signs req in its Authorization
// header. It signs every header but Content-Type and names with an
// underscore, plus host: the Host the request goes to.
func signRequest(req *http.Request, ak, sk string, t time.Time) error {
	req.Header.Set(HeaderSdkDate, t.UTC().Format(SdkDateLayout))
	// A non-JSON body is not hashed: the official signer marks it so.
	if ct, ok := req.Header["Content-Type"]; ok && len(ct) > 0 &&
		!strings.Contains(ct[0], "application/json") && !strings.Contains(ct[0], "application/bson") {
		req.Header.Set(headerContentSha256, unsignedPayload)
	}
	payloadHash, err := requestPayloadHash(req)
	if err != nil {
		return err
	}
	query, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("sign request: the query string cannot be parsed: %w", err)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	headers := make(map[string][]string, len(req.Header)+1)
	for name, values := range req.Header {
		lower := strings.ToLower(name)
		if lower == "host" {
			continue // net/http never sends it: req.Host is what goes out
		}
		headers[lower] = append(headers[lower], values...)
	}
	headers["host"] = []string{host}
	auth := signature(signingInput{
		method: req.Method, path: req.URL.Path, query: query, headers: headers, payloadHash: payloadHash,
		date: t,
	}, ak, sk)
	req.Header.Set("Authorization", auth)
	return nil
}

// requestPayloadHash is the hex SHA-256 of the body, or the value of
// X-Sdk-Content-Sha256 when the request has one. A body that cannot be
// read twice is buffered and put back.
func requestPayloadHash(req *http.Request) (string, error) {
	if v, ok := req.Header[headerContentSha256]; ok && len(v) > 0 {
		return v[0], nil
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		rc := req.Body
		var err error
		if req.GetBody != nil {
			if rc, err = req.GetBody(); err != nil {
				return "", fmt.Errorf("sign request: read body: %w", err)
			}
		}
		body, err = io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			return "", fmt.Errorf("sign request: read body: %w", err)
		}
		if req.GetBody == nil {
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

// signingInput is what a signature covers: the unescaped path and query,
// and the headers keyed by lower-case name.
type signingInput struct {
	method      string
	path        string
	query       map[string][]string
	headers     map[string][]string
	payloadHash string
	date        time.Time
}

// signature returns the Authorization header value for in.
func signature(in signingInput, ak, sk string) string {
	signed := signedHeaderNames(in.headers)
	sts := stringToSign(canonicalRequest(in, signed), in.date)
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(sts))
	return fmt.Sprintf("%s Access=%s, SignedHeaders=%s, Signature=%s",
		SigningAlgorithm, ak, strings.Join(signed, ";"), hex.EncodeToString(mac.Sum(nil)))
}

// stringToSign is "SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex sha256(canonical request)>".
func stringToSign(canonical string, t time.Time) string {
	sum := sha256.Sum256([]byte(canonical))
	return SigningAlgorithm + "\n" + t.UTC().Format(SdkDateLayout) + "\n" + hex.EncodeToString(sum[:])
}

// canonicalRequest is the method, URI, query, headers, signed header names
// and payload hash, one per line.
func canonicalRequest(in signingInput, signed []string) string {
	var headers strings.Builder
	for _, name := range signed {
		values := append([]string(nil), in.headers[name]...)
		sort.Strings(values)
		for _, v := range values {
			headers.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	if len(signed) == 0 {
		headers.WriteByte('\n')
	}
	return strings.Join([]string{
		in.method, canonicalURI(in.path), canonicalQuery(in.query), headers.String(), strings.Join(signed, ";"), in.payloadHash,
	}, "\n")
}

// signedHeaderNames lists the headers a signature covers, sorted: all but
// Content-Type (any name starting with content-type) and names containing
// an underscore, which some proxies drop.
func signedHeaderNames(headers map[string][]string) []string {
	var names []string
	for name := range headers {
		if !strings.HasPrefix(name, "content-type") && !strings.Contains(name, "_") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// canonicalURI escapes each segment of the path and ends it with a slash.
func canonicalURI(path string) string {
	segments := strings.Split(path, "/")
	for i, s := range segments {
		segments[i] = signerEscape(s)
	}
	uri := strings.Join(segments, "/")
	if !strings.HasSuffix(uri, "/") {
		uri += "/"
	}
	return uri
}

// canonicalQuery sorts the keys (keeping their case), then each key's
// values, escapes both and joins the pairs with &.
func canonicalQuery(query map[string][]string) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		values := append([]string(nil), query[k]...)
		sort.Strings(values)
		for _, v := range values {
			pairs = append(pairs, signerEscape(k)+"="+signerEscape(v))
		}
	}
	return strings.Join(pairs, "&")
}

// signerEscape percent-encodes, in upper-case hex, every byte but A-Z a-z
// 0-9 - _ . ~: unlike url.PathEscape and url.QueryEscape it keeps no
// sub-delimiter and writes no '+' for a space.
func signerEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	out := make([]byte, 0, len(s))
	for _, c := range []byte(s) {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			out = append(out, c)
		} else {
			out = append(out, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(out)
}
