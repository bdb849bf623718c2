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

// This file signs requests with Huawei Cloud AK/SK ("SDK-HMAC-SHA256"), the
// way the API gateway in front of KooPhone verifies them.
//
// Why not the official signer (github.com/huaweicloud/huaweicloud-sdk-go-v3,
// package core/auth/signer)? It signs the SDK's own request type, not an
// *http.Request, and that type links the SDK's request model into the
// binary, with its dependencies (a BSON driver, SM2/SM3 cryptography, a
// second JSON library, an INI parser). The algorithm is some 150 lines, so
// it is written here, following the official signer rule for rule
// (escaping, sorting, which headers are signed, trimming, the
// UNSIGNED-PAYLOAD convention). signer_sdk_test.go proves the two
// byte-identical over thousands of generated requests; the SDK is a
// test-only dependency and never reaches the provider binary.

// Names and formats of the AK/SK signature.
const (
	// SigningAlgorithm is the algorithm name in the Authorization header.
	SigningAlgorithm = "SDK-HMAC-SHA256"
	// HeaderSdkDate carries the signing time; it is always signed.
	HeaderSdkDate = "X-Sdk-Date"
	// SdkDateLayout is the time.Layout of X-Sdk-Date (UTC).
	SdkDateLayout = "20060102T150405Z"
	// HeaderSecurityToken carries the security token of temporary AK/SK.
	HeaderSecurityToken = "X-Security-Token"
	// HeaderProjectID carries the project id on signed requests.
	HeaderProjectID = "X-Project-Id"

	headerContentSha256 = "X-Sdk-Content-Sha256"
	unsignedPayload     = "UNSIGNED-PAYLOAD"
)

// AKSKCredentials sign every request with an access key and secret key
// (SDK-HMAC-SHA256). Since the client calls Apply once per attempt, after
// x-request-id is set, every attempt (retries included) is signed afresh,
// with its own date and request id.
type AKSKCredentials struct {
	// AccessKey (AK) and SecretKey (SK) are required.
	AccessKey string
	SecretKey string
	// SecurityToken, for temporary AK/SK, is sent (and signed) as
	// X-Security-Token when set.
	SecurityToken string
	// ProjectID is sent (and signed) as X-Project-Id when set.
	ProjectID string
}

var _ Credentials = AKSKCredentials{}

// Apply adds X-Security-Token and X-Project-Id (when set), X-Sdk-Date and
// the Authorization header. It signs the request as it is: call it last.
func (c AKSKCredentials) Apply(req *http.Request) error {
	if c.AccessKey == "" || c.SecretKey == "" {
		return errors.New("no KooPhone access key and secret key configured")
	}
	// The gateway rejects a date more than 15 minutes from its own.
	now := time.Now()
	req.Header.Del("Authorization")
	if c.SecurityToken != "" {
		req.Header.Set(HeaderSecurityToken, c.SecurityToken)
	}
	if c.ProjectID != "" {
		req.Header.Set(HeaderProjectID, c.ProjectID)
	}
	return signRequest(req, c.AccessKey, c.SecretKey, now)
}

// Secrets returns the secret key and the security token, and the access
// key, which is not secret but is marked sensitive all the same.
func (c AKSKCredentials) Secrets() []string {
	var s []string
	for _, v := range []string{c.SecretKey, c.SecurityToken, c.AccessKey} {
		if v != "" {
			s = append(s, v)
		}
	}
	return s
}

// withSignature returns secrets plus the signature that Apply put in req's
// Authorization header, if any, so that a server echoing it cannot get it
// quoted in an error. secrets itself is not modified.
func withSignature(secrets []string, req *http.Request) []string {
	auth := req.Header.Get("Authorization")
	if !strings.HasPrefix(auth, SigningAlgorithm+" ") {
		return secrets
	}
	_, sig, ok := strings.Cut(auth, "Signature=")
	if !ok || sig == "" {
		return secrets
	}
	out := make([]string, 0, len(secrets)+1)
	return append(append(out, secrets...), sig)
}

// signRequest sets X-Sdk-Date to t and signs req in its Authorization
// header. Every header of req is signed except Content-Type and names with
// an underscore (as the official signer does), plus host (the Host the
// request goes to).
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
	switch {
	case req.Body == nil || req.Body == http.NoBody:
	case req.GetBody != nil:
		rc, err := req.GetBody()
		if err != nil {
			return "", fmt.Errorf("sign request: read body: %w", err)
		}
		body, err = io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			return "", fmt.Errorf("sign request: read body: %w", err)
		}
	default:
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return "", fmt.Errorf("sign request: read body: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

// signingInput is what a signature covers.
type signingInput struct {
	method string
	// path is the unescaped URL path.
	path string
	// query holds the unescaped query parameters.
	query map[string][]string
	// headers are keyed by lower-case name; the signed ones are chosen by
	// signedHeaderNames.
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

// canonicalRequest is METHOD, canonical URI, canonical query, canonical
// headers, signed headers and the payload hash, one per line.
func canonicalRequest(in signingInput, signed []string) string {
	var b strings.Builder
	b.WriteString(in.method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(in.path))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(in.query))
	b.WriteByte('\n')
	for _, name := range signed {
		values := append([]string(nil), in.headers[name]...)
		sort.Strings(values)
		for _, v := range values {
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
		}
	}
	if len(signed) == 0 {
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(in.payloadHash)
	return b.String()
}

// signedHeaderNames lists the headers a signature covers, sorted: all but
// Content-Type (any name starting with content-type) and names containing
// an underscore, which some proxies drop.
func signedHeaderNames(headers map[string][]string) []string {
	names := make([]string, 0, len(headers))
	for name := range headers {
		if strings.HasPrefix(name, "content-type") || strings.Contains(name, "_") {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// canonicalURI escapes each segment of the path and makes sure the result
// ends with a slash.
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

// canonicalQuery sorts the keys, then each key's values, escapes both and
// joins the pairs with &. Keys keep their case.
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

// signerEscape percent-encodes every byte but the unreserved characters
// A-Z a-z 0-9 - _ . ~, with upper-case hex digits. Unlike url.PathEscape
// and url.QueryEscape it leaves nothing else alone (no '+' for a space, no
// sub-delimiters kept).
func signerEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	out := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(out)
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
