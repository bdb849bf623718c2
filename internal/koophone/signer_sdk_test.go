package koophone

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	sdksigner "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	sdkrequest "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

// This file compares our signer with the official one of the Huawei Cloud
// Go SDK (a test-only dependency: see the comment at the top of signer.go).

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// sdkCase is one request, described the way the SDK builds requests.
type sdkCase struct {
	method   string
	endpoint string // scheme://host[:port]
	path     string // unescaped
	query    [][2]string
	headers  [][2]string // names unique case-insensitively
	body     *string
	ak, sk   string
	date     time.Time
}

// sdkRequest builds the SDK's request for c. It signs the host: the SDK
// does when its caller adds a Host header parameter, as ours always does.
func (c sdkCase) sdkRequest() *sdkrequest.DefaultHttpRequest {
	b := sdkrequest.NewHttpRequestBuilder().WithMethod(c.method).WithEndpoint(c.endpoint).WithPath(c.path)
	grouped := map[string][]string{}
	var order []string
	for _, kv := range c.query {
		if _, ok := grouped[kv[0]]; !ok {
			order = append(order, kv[0])
		}
		grouped[kv[0]] = append(grouped[kv[0]], kv[1])
	}
	for _, k := range order {
		b.AddQueryParam(k, reflect.ValueOf(grouped[k]))
	}
	for _, kv := range c.headers {
		b.AddHeaderParam(kv[0], kv[1])
	}
	b.AddHeaderParam("X-Sdk-Date", c.date.UTC().Format(SdkDateLayout))
	b.AddHeaderParam("Host", strings.SplitN(c.endpoint, "://", 2)[1])
	if c.body != nil {
		b.WithBody("body", *c.body)
	}
	return b.Build()
}

// officialSign signs c with the official signer and returns its
// Authorization header, and whether it marked the payload unsigned.
func officialSign(t *testing.T, c sdkCase) (string, bool) {
	t.Helper()
	req := c.sdkRequest()
	headers, err := sdksigner.Signer{}.Sign(req, c.ak, c.sk)
	if err != nil {
		t.Fatalf("official signer: %v", err)
	}
	_, unsigned := req.GetHeaderParams()["X-Sdk-Content-Sha256"]
	return headers["Authorization"], unsigned
}

// ourSign converts c to the *http.Request the SDK would send (its own
// ConvertRequest: the same path, query encoding and headers) and signs that
// with our signer.
func ourSign(t *testing.T, c sdkCase) (string, *http.Request) {
	t.Helper()
	req, err := c.sdkRequest().ConvertRequest()
	if err != nil {
		t.Fatalf("ConvertRequest: %v", err)
	}
	if err := signRequest(req, c.ak, c.sk, c.date); err != nil {
		t.Fatalf("signRequest: %v", err)
	}
	return req.Header.Get("Authorization"), req
}

// Our signature of a task read is the official one.
func TestTaskReadSignatureIsTheOfficialOne(t *testing.T) {
	c := sdkCase{
		method: "GET", endpoint: "https://koophone.myhuaweicloud.com", path: "/v1/instances/tasks/6837531fd3f54550927b930180a706bf",
		headers: [][2]string{
			{"Accept", "application/json"}, {"X-Request-Id", "0f8fad5b-d9cb-469f-a165-70867728950e"},
			{"User-Agent", "terraform-provider-koophone/0.1.0 Terraform/1.11.4"},
			{"X-Security-Token", testST}, {"X-Project-Id", "0123456789abcdef0123456789abcdef"},
		},
		ak: testAK, sk: testSK, date: time.Date(2026, 3, 14, 7, 9, 26, 0, time.UTC),
	}
	official, _ := officialSign(t, c)
	if !strings.HasSuffix(official, ", Signature="+taskReadSignature) {
		t.Errorf("official signer gives %s; taskReadSignature is %s", official, taskReadSignature)
	}
}

// signerComparisons is how many generated requests the comparison signs.
const signerComparisons = 3000

// Our signer is byte-identical to the official one over thousands of
// generated requests: methods, hosts with and without ports, paths with
// every kind of character to escape (and empty, dot and dot-dot segments),
// queries with repeated keys and empty values, header sets with mixed case,
// padding, non-ASCII values, Content-Type (JSON or not), underscores and
// X-Sdk-Content-Sha256, and bodies of any bytes.
func TestSignerMatchesOfficialSDK(t *testing.T) {
	rng := rand.New(rand.NewPCG(20260314, 3))
	cases := []sdkCase{allBytesCase()}
	for len(cases) < signerComparisons {
		cases = append(cases, randomCase(rng))
	}
	unsignedSeen := 0
	for i, c := range cases {
		official, unsigned := officialSign(t, c)
		ours, req := ourSign(t, c)
		if ours != official {
			t.Fatalf("case %d differs (%+v):\nofficial %s\nours     %s", i, c, official, ours)
		}
		if _, ours := req.Header["X-Sdk-Content-Sha256"]; ours != unsigned {
			t.Fatalf("case %d: UNSIGNED-PAYLOAD marking differs: official %v, ours %v", i, unsigned, ours)
		}
		if unsigned {
			unsignedSeen++
		}
	}
	// The generator must exercise both body conventions.
	if unsignedSeen == 0 || unsignedSeen == len(cases) {
		t.Errorf("%d of %d cases had an unsigned payload; the generator is too narrow", unsignedSeen, len(cases))
	}
}

// allBytesCase puts every byte value (but '/') in a path segment, a query
// key and a query value, to pin down the escaping of each.
func allBytesCase() sdkCase {
	var all []byte
	for b := 0; b < 256; b++ {
		if b != '/' {
			all = append(all, byte(b))
		}
	}
	s := string(all)
	return sdkCase{
		method: "GET", endpoint: "https://koophone.myhuaweicloud.com", path: "/v1/" + s + "/x",
		query: [][2]string{{"k" + s, s}, {"k" + s, "0"}}, ak: testAK, sk: testSK,
		date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

const (
	// pathAlphabet mixes unreserved characters with everything that must be
	// escaped, including multi-byte UTF-8.
	pathAlphabet        = "abcXYZ019-_.~ %+?#=&;:@!$'()*,[]{}|\\^`\"<>é中\t"
	valueAlphabet       = pathAlphabet
	headerValueAlphabet = "abcXYZ019-_.~ %+=&;:@!$'()*,/é中"
)

var headerNames = []string{
	"Accept", "User-Agent", "X-Request-Id", "X-Project-Id", "X-Security-Token", "X-Custom-Header",
	"x-lower-case", "X-MIXED-case", "Test_Underscore", "If-Match", "X-Domain-Id", "Accept-Language",
}

func randomString(rng *rand.Rand, alphabet string, maxLen int) string {
	runes := []rune(alphabet)
	n := rng.IntN(maxLen + 1)
	var b strings.Builder
	for range n {
		b.WriteRune(runes[rng.IntN(len(runes))])
	}
	return b.String()
}

func randomCase(rng *rand.Rand) sdkCase {
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}
	endpoints := []string{
		"https://koophone.myhuaweicloud.com", "http://127.0.0.1:8765", "https://example.com:8443",
		"http://[::1]:9000", "https://proxy.example.internal",
	}
	c := sdkCase{
		method:   methods[rng.IntN(len(methods))],
		endpoint: endpoints[rng.IntN(len(endpoints))],
		ak:       randomString(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 24),
		sk:       randomString(rng, "abcdefghijklmnopqrstuvwxyz0123456789+/=", 48),
		date:     time.Unix(rng.Int64N(4102444800), 0).UTC(), // 1970 to 2100
	}
	if c.ak == "" {
		c.ak = "AK"
	}
	if c.sk == "" {
		c.sk = "SK"
	}

	// Paths: 0 to 5 segments, some empty or dots, maybe a trailing slash.
	var segs []string
	for range rng.IntN(6) {
		switch rng.IntN(8) {
		case 0:
			segs = append(segs, "")
		case 1:
			segs = append(segs, []string{".", ".."}[rng.IntN(2)])
		default:
			segs = append(segs, randomString(rng, pathAlphabet, 12))
		}
	}
	c.path = "/" + strings.Join(segs, "/")
	if rng.IntN(4) == 0 {
		c.path += "/"
	}

	// Queries: 0 to 4 distinct non-empty keys, each with 1 to 3 values,
	// repeated and empty values included. (An empty key is left out: the
	// SDK itself cannot send one, it trims the leading '='.)
	for range rng.IntN(5) {
		k := randomString(rng, valueAlphabet, 8)
		if k == "" {
			k = "k"
		}
		for range 1 + rng.IntN(3) {
			v := randomString(rng, valueAlphabet, 10)
			if rng.IntN(5) == 0 && len(c.query) > 0 {
				v = c.query[len(c.query)-1][1] // a repeated value
			}
			c.query = append(c.query, [2]string{k, v})
		}
	}

	// Headers: a random subset of distinct names, values with padding.
	used := map[string]bool{}
	for range rng.IntN(len(headerNames)) {
		name := headerNames[rng.IntN(len(headerNames))]
		if used[strings.ToLower(name)] {
			continue
		}
		used[strings.ToLower(name)] = true
		v := randomString(rng, headerValueAlphabet, 20)
		if rng.IntN(4) == 0 {
			v = "  " + v + " "
		}
		c.headers = append(c.headers, [2]string{name, v})
	}
	switch rng.IntN(4) {
	case 0:
		c.headers = append(c.headers, [2]string{"Content-Type", "application/json;charset=UTF-8"})
	case 1:
		c.headers = append(c.headers, [2]string{"Content-Type", []string{"text/plain", "application/octet-stream", "application/bson", ""}[rng.IntN(4)]})
	}
	if rng.IntN(20) == 0 {
		c.headers = append(c.headers, [2]string{"X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"})
	}

	// Bodies: none, empty, text or arbitrary bytes.
	switch rng.IntN(4) {
	case 1:
		s := ""
		c.body = &s
	case 2:
		s := randomString(rng, `{}":,abc 0123é中`, 200)
		c.body = &s
	case 3:
		buf := make([]byte, rng.IntN(300))
		for i := range buf {
			buf[i] = byte(rng.IntN(256))
		}
		s := string(buf)
		c.body = &s
	}
	return c
}

// verifyWithOfficialSigner checks, on the server side, the signature of a
// request our client sent, by signing what arrived with the official
// signer. It returns "" when the signature is valid, else why not. The body
// is put back for the handler.
func verifyWithOfficialSigner(t *testing.T, r *http.Request, ak, sk string) string {
	t.Helper()
	auth := r.Header.Get("Authorization")
	var gotAK, signedList, gotSig string
	if _, err := fmt.Sscanf(strings.ReplaceAll(auth, ",", ""), "SDK-HMAC-SHA256 Access=%s SignedHeaders=%s Signature=%s", &gotAK, &signedList, &gotSig); err != nil {
		return fmt.Sprintf("Authorization %q does not parse: %v", auth, err)
	}
	if gotAK != ak {
		return "wrong access key " + gotAK
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err.Error()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	b := sdkrequest.NewHttpRequestBuilder().WithMethod(r.Method).WithEndpoint("http://" + r.Host).WithPath(r.URL.Path)
	for k, vs := range r.URL.Query() {
		b.AddQueryParam(k, reflect.ValueOf(vs))
	}
	for _, name := range strings.Split(signedList, ";") {
		if name == "host" {
			b.AddHeaderParam("Host", r.Host)
			continue
		}
		b.AddHeaderParam(http.CanonicalHeaderKey(name), r.Header.Get(name))
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		b.AddHeaderParam("Content-Type", ct)
	}
	b.WithBody("body", string(body))
	headers, err := sdksigner.Signer{}.Sign(b.Build(), ak, sk)
	if err != nil {
		return err.Error()
	}
	if headers["Authorization"] != auth {
		return fmt.Sprintf("signature mismatch:\nsent     %s\nofficial %s", auth, headers["Authorization"])
	}
	return ""
}
