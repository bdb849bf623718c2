package koophone

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

const (
	testAK = "HPUAEXAMPLEACCESSKEY"
	testSK = "sk-SECRET-0123456789abcdefghijklmnopqrstuv"
	testST = "st-SECURITY-TOKEN-temporary-credentials-xyz"
)

// The two vectors of the official SDK's own signer tests
// (huaweicloud-sdk-go-v3 v0.1.207, core/auth/signer/signer_test.go,
// TestSigner_Sign), fed to the same internal entry point our requests use.
func TestSignatureOfficialSDKVectors(t *testing.T) {
	date := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	emptyHash := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// The SDK JSON-encodes the body with a trailing newline.
	jsonBody := sha256Hex(`{"Name":"test","Id":1}` + "\n")
	cases := []struct {
		name string
		in   signingInput
		want string
	}{
		{"test1", signingInput{
			method: "GET", path: "/path", query: map[string][]string{"limit": {"1"}},
			headers:     map[string][]string{"x-sdk-date": {"20060102T150405Z"}, "test_underscore": {"TEST_VALUE"}},
			payloadHash: emptyHash, date: date,
		}, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, " +
			"Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"},
		{"test2", signingInput{
			method: "POST", path: "/path", query: map[string][]string{"key": {"value"}},
			headers: map[string][]string{
				"x-sdk-date": {"20060102T150405Z"}, "test_underscore": {"TEST_VALUE"}, "content-type": {"application/json"},
			},
			payloadHash: jsonBody, date: date,
		}, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, " +
			"Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := signature(c.in, "AccessKey", "SecretKey"); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// A KooPhone task read, signed end to end through AKSKCredentials: the
// canonical request is spelled out, and the signature is the one the
// official signer gives for it (see signer_sdk_test.go, which recomputes it).
// Apply signs with time.Now(): the bubble's fake clock is moved to the
// vector's date (2000-01-01 plus the fake time slept).
func TestAKSKCredentialsSignTaskRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		signingTime := time.Date(2026, 3, 14, 15, 9, 26, 535, time.FixedZone("CST", 8*3600))
		time.Sleep(time.Until(signingTime))
		now := time.Now()
		if !now.Equal(signingTime) {
			t.Fatalf("fake clock at %v, want %v", now, signingTime)
		}
		req, err := http.NewRequest(http.MethodGet, "https://koophone.myhuaweicloud.com/v1/instances/tasks/6837531fd3f54550927b930180a706bf", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("x-request-id", "0f8fad5b-d9cb-469f-a165-70867728950e")
		req.Header.Set("User-Agent", "terraform-provider-koophone/0.1.0 Terraform/1.11.4")
		req.Header.Set("Authorization", "stale") // from nowhere: must not be signed
		creds := AKSKCredentials{
			AccessKey: testAK, SecretKey: testSK, SecurityToken: testST, ProjectID: "0123456789abcdef0123456789abcdef",
		}
		if err := creds.Apply(req); err != nil {
			t.Fatal(err)
		}
		if got := req.Header.Get("X-Sdk-Date"); got != "20260314T070926Z" {
			t.Errorf("X-Sdk-Date = %q, want the UTC time", got)
		}
		if req.Header.Get("X-Security-Token") != testST || req.Header.Get("X-Project-Id") != "0123456789abcdef0123456789abcdef" {
			t.Errorf("headers = %v", req.Header)
		}

		wantSigned := "accept;host;user-agent;x-project-id;x-request-id;x-sdk-date;x-security-token"
		wantCanonical := "GET\n" +
			"/v1/instances/tasks/6837531fd3f54550927b930180a706bf/\n" +
			"\n" +
			"accept:application/json\n" +
			"host:koophone.myhuaweicloud.com\n" +
			"user-agent:terraform-provider-koophone/0.1.0 Terraform/1.11.4\n" +
			"x-project-id:0123456789abcdef0123456789abcdef\n" +
			"x-request-id:0f8fad5b-d9cb-469f-a165-70867728950e\n" +
			"x-sdk-date:20260314T070926Z\n" +
			"x-security-token:" + testST + "\n" +
			"\n" +
			wantSigned + "\n" +
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
		in := signingInput{
			method: "GET", path: req.URL.Path, query: map[string][]string{},
			headers:     lowerHeaders(req),
			payloadHash: sha256Hex(""), date: signingTime,
		}
		delete(in.headers, "authorization")
		in.headers["host"] = []string{"koophone.myhuaweicloud.com"}
		if got := canonicalRequest(in, signedHeaderNames(in.headers)); got != wantCanonical {
			t.Errorf("canonical request:\n%s\nwant:\n%s", got, wantCanonical)
		}
		wantSTS := "SDK-HMAC-SHA256\n20260314T070926Z\n" + sha256Hex(wantCanonical)
		if got := stringToSign(wantCanonical, signingTime); got != wantSTS {
			t.Errorf("string to sign:\n%s\nwant:\n%s", got, wantSTS)
		}
		want := "SDK-HMAC-SHA256 Access=" + testAK + ", SignedHeaders=" + wantSigned +
			", Signature=" + taskReadSignature
		if got := req.Header.Get("Authorization"); got != want {
			t.Errorf("Authorization:\n%s\nwant:\n%s", got, want)
		}
	})
}

// Apply signs with the current time: at the bubble's start, 2000-01-01,
// and, after fake time passes, that much later; what it puts in the
// Authorization header is signRequest's signature for that time.
func TestAKSKCredentialsSignWithTheCurrentTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		creds := AKSKCredentials{AccessKey: testAK, SecretKey: testSK}
		newReq := func() *http.Request {
			req, _ := http.NewRequest(http.MethodGet, "https://koophone.myhuaweicloud.com/v1/instances/tasks/t", nil)
			req.Header.Set("X-Request-Id", "id-1")
			return req
		}
		for _, want := range []string{"20000101T000000Z", "20000101T000130Z"} {
			req := newReq()
			if err := creds.Apply(req); err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get("X-Sdk-Date"); got != want {
				t.Errorf("X-Sdk-Date = %q, want %q", got, want)
			}
			ref := newReq()
			if err := signRequest(ref, testAK, testSK, time.Now()); err != nil {
				t.Fatal(err)
			}
			if got, want := req.Header.Get("Authorization"), ref.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization = %s, want %s", got, want)
			}
			time.Sleep(90 * time.Second)
		}
	})
}

// taskReadSignature is the official signer's signature of the request of
// TestAKSKCredentialsSignTaskRead.
const taskReadSignature = "b5b71571a12cc7a95dbcde9ef12fa06118b5b34a63cf5a139b522a404e6e617e"

func lowerHeaders(req *http.Request) map[string][]string {
	m := map[string][]string{}
	for k, v := range req.Header {
		m[strings.ToLower(k)] = v
	}
	return m
}

func TestSignerEscapeAndCanonicalURI(t *testing.T) {
	funcs := map[string]struct {
		f     func(string) string
		cases map[string]string
	}{
		"signerEscape": {signerEscape, map[string]string{
			"":                    "",
			"AZaz09-_.~":          "AZaz09-_.~",
			"a b":                 "a%20b",
			"a+b":                 "a%2Bb",
			"/":                   "%2F",
			"%41":                 "%2541",
			"!$&'()*,;=:@":        "%21%24%26%27%28%29%2A%2C%3B%3D%3A%40",
			"é中":                  "%C3%A9%E4%B8%AD",
			"\x00\x7f\xff":        "%00%7F%FF",
			"ZGCA6837531fd3f5455": "ZGCA6837531fd3f5455",
		}},
		"canonicalURI": {canonicalURI, map[string]string{
			"":                        "/",
			"/":                       "/",
			"/v1/instances/tasks/abc": "/v1/instances/tasks/abc/",
			"/v1/instances/tasks/":    "/v1/instances/tasks/",
			"/proxy/v1/a b/..":        "/proxy/v1/a%20b/../",
			"//x":                     "//x/",
			"/a%2Fb":                  "/a%252Fb/",
		}},
	}
	for name, fn := range funcs {
		for in, want := range fn.cases {
			if got := fn.f(in); got != want {
				t.Errorf("%s(%q) = %q, want %q", name, in, got, want)
			}
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	cases := map[string]string{
		"":                        "",
		"b=2&a=3&a=1":             "a=1&a=3&b=2",
		"B=1&a=2":                 "B=1&a=2", // keys keep their case; upper case sorts first
		"x&y=":                    "x=&y=",
		"q=a+b&q=a%20c&r=%2F%3D~": "q=a%20b&q=a%20c&r=%2F%3D~",
		"k=v&k=v":                 "k=v&k=v",
	}
	for raw, want := range cases {
		req, err := http.NewRequest(http.MethodGet, "https://h/p?"+raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := canonicalQuery(req.URL.Query()); got != want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", raw, got, want)
		}
	}
}

// Content-Type is never signed, nor are names with an underscore; a
// non-JSON body is sent as UNSIGNED-PAYLOAD, as the official signer does.
func TestSignedHeadersAndUnsignedPayload(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:8765/v1/instances/app/install", strings.NewReader("binary"))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header["My_Header"] = []string{"x"}
	if err := signRequest(req, testAK, testSK, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	if !strings.Contains(auth, "SignedHeaders=host;x-sdk-content-sha256;x-sdk-date,") {
		t.Errorf("Authorization = %s", auth)
	}
	if req.Header.Get("X-Sdk-Content-Sha256") != "UNSIGNED-PAYLOAD" {
		t.Errorf("headers = %v", req.Header)
	}
	if req.Header.Get("X-Sdk-Date") != "19700101T000000Z" {
		t.Errorf("X-Sdk-Date = %q", req.Header.Get("X-Sdk-Date"))
	}

	// A JSON body is hashed, and a body without GetBody is put back.
	req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1:8765/v1/instances/async-command", io.NopCloser(strings.NewReader(`{"command":"ls"}`)))
	req.Header.Set("Content-Type", "application/json")
	if err := signRequest(req, testAK, testSK, time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("X-Sdk-Content-Sha256") != "" {
		t.Error("a JSON body was marked unsigned")
	}
	body, _ := io.ReadAll(req.Body)
	if string(body) != `{"command":"ls"}` {
		t.Errorf("body after signing = %q", body)
	}
}

// The signature covers the method, path, query, signed headers and body:
// changing any of them changes it.
func TestSignatureCoversEveryPart(t *testing.T) {
	base := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "https://h.example/v1/x?a=1", strings.NewReader(`{}`))
		req.Header.Set("X-Request-Id", "id-1")
		return req
	}
	sign := func(req *http.Request) string {
		t.Helper()
		if err := signRequest(req, testAK, testSK, time.Unix(1700000000, 0)); err != nil {
			t.Fatal(err)
		}
		return req.Header.Get("Authorization")
	}
	ref := sign(base())
	if ref != sign(base()) {
		t.Fatal("signing is not deterministic")
	}
	mutations := map[string]func(*http.Request){
		"method":     func(r *http.Request) { r.Method = http.MethodPut },
		"path":       func(r *http.Request) { r.URL.Path = "/v1/y" },
		"query":      func(r *http.Request) { r.URL.RawQuery = "a=2" },
		"host":       func(r *http.Request) { r.Host = "other.example" },
		"request id": func(r *http.Request) { r.Header.Set("X-Request-Id", "id-2") },
		"body": func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"a":1}`))
			r.GetBody = nil
		},
	}
	for name, mutate := range mutations {
		req := base()
		mutate(req)
		if sign(req) == ref {
			t.Errorf("changing the %s does not change the signature", name)
		}
	}
	// A different secret key gives a different signature.
	req := base()
	_ = signRequest(req, testAK, testSK+"x", time.Unix(1700000000, 0))
	if req.Header.Get("Authorization") == ref {
		t.Error("the secret key does not change the signature")
	}
}

func TestAKSKCredentialsRequireBothKeys(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://h/", nil)
	for _, c := range []AKSKCredentials{{AccessKey: testAK}, {SecretKey: testSK}} {
		if err := c.Apply(req); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if got := (AKSKCredentials{AccessKey: testAK, SecretKey: testSK}).Secrets(); len(got) != 2 || got[0] != testSK {
		t.Errorf("Secrets = %v", got)
	}
	if got := (AKSKCredentials{AccessKey: testAK, SecretKey: testSK, SecurityToken: testST}).Secrets(); len(got) != 3 || got[1] != testST {
		t.Errorf("Secrets = %v", got)
	}
}

// Every attempt is signed afresh: a retry has its own request id and date,
// and each signature is valid (checked by the official signer on the
// server side, see verifyWithOfficialSigner).
func TestRetriesAreSignedAfresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			mu       sync.Mutex
			verified []string
		)
		verify := func(r *http.Request) {
			v := verifyWithOfficialSigner(t, r, testAK, testSK)
			mu.Lock()
			verified = append(verified, v)
			mu.Unlock()
		}
		fail := func(w http.ResponseWriter, r *http.Request) {
			verify(r)
			jsonAnswer(503, `{"error_code":"","error_msg":""}`)(w, r)
		}
		ok := func(w http.ResponseWriter, r *http.Request) {
			verify(r)
			jsonAnswer(200, okTwoJobs)(w, r)
		}
		ts := newTestServer(t, fail, fail, ok)
		c, _ := ts.client(t, func(cfg *Config) {
			cfg.Credentials = AKSKCredentials{AccessKey: testAK, SecretKey: testSK, SecurityToken: testST}
			cfg.RetryBaseDelay = 2 * time.Second
		})
		mustGetTask(t, c, "t")
		if ts.count() != 3 {
			t.Fatalf("%d requests, want 3", ts.count())
		}
		dates, ids, sigs := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for i := range 3 {
			r := ts.request(i)
			dates[r.Header.Get("X-Sdk-Date")] = true
			ids[r.Header.Get("X-Request-Id")] = true
			sigs[r.Header.Get("Authorization")] = true
			if !strings.Contains(r.Header.Get("Authorization"), "x-request-id;x-sdk-date;x-security-token") {
				t.Errorf("attempt %d: x-request-id or the security token is not signed: %s", i+1, r.Header.Get("Authorization"))
			}
		}
		if len(dates) != 3 || len(ids) != 3 || len(sigs) != 3 {
			t.Errorf("retries were not signed afresh: %d dates, %d request ids, %d signatures", len(dates), len(ids), len(sigs))
		}
		// The backoff steps are 1.5 s and 3 s (3/4 of 2 s and 4 s): the
		// dates are those of the bubble's clock when each attempt left.
		if d := ts.request(2).Header.Get("X-Sdk-Date"); d != "20000101T000004Z" {
			t.Errorf("third attempt signed at %s, want 20000101T000004Z (4.5 s in)", d)
		}
		mu.Lock()
		defer mu.Unlock()
		for i, v := range verified {
			if v != "" {
				t.Errorf("attempt %d: %s", i+1, v)
			}
		}
	})
}
