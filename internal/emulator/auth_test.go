package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	sdksigner "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/signer"
	sdkrequest "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

// The emulator's signature check is tested against requests signed by the
// official Huawei Cloud SDK signer, not by the provider's signer: the two
// implementations under test never meet except through the SDK.

const (
	testAK = "EMUEXAMPLEACCESSKEY1"
	testSK = "emu-SECRET-key-0123456789abcdefghijklmn"
	testST = "emu-SECURITY-token-temporary"
)

// sdkSign signs r in place with the official signer, as the SDK's own HTTP
// client would send it: every header of r is signed, plus host.
func sdkSign(t *testing.T, r *http.Request, ak, sk string, date time.Time) {
	t.Helper()
	b := sdkrequest.NewHttpRequestBuilder().WithMethod(r.Method).WithEndpoint(r.URL.Scheme + "://" + r.URL.Host).WithPath(r.URL.Path)
	for k, vs := range r.URL.Query() {
		b.AddQueryParam(k, reflect.ValueOf(vs))
	}
	for k := range r.Header {
		b.AddHeaderParam(k, r.Header.Get(k))
	}
	b.AddHeaderParam("Host", r.URL.Host)
	b.AddHeaderParam("X-Sdk-Date", date.UTC().Format(sdkDateLayout))
	switch {
	case r.GetBody != nil:
		rc, err := r.GetBody()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		b.WithBody("body", string(body))
	case r.Body != nil && r.Body != http.NoBody:
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		b.WithBody("body", string(body))
	}
	req := b.Build()
	added, err := sdksigner.Signer{}.Sign(req, ak, sk)
	if err != nil {
		t.Fatalf("official signer: %v", err)
	}
	for k, v := range req.GetHeaderParams() { // X-Sdk-Date, maybe X-Sdk-Content-Sha256
		if k != "Host" {
			r.Header.Set(k, v)
		}
	}
	for k, v := range added {
		r.Header.Set(k, v)
	}
}

// signed signs the request as it stands (options after it tamper with the
// signed request); the token header is removed first.
func signed(t *testing.T, ak, sk string, date time.Time, extra ...reqOpt) reqOpt {
	return func(r *http.Request) {
		r.Header.Del("X-Auth-Token")
		for _, o := range extra {
			o(r)
		}
		sdkSign(t, r, ak, sk, date)
	}
}

// akskEnv is bubbleEnv for an emulator that accepts AK/SK signatures, and
// a token only if opts has one. Its clock reads epoch, the date the tests
// sign with.
func akskEnv(t *testing.T, opts Options) *env {
	t.Helper()
	opts.AccessKey, opts.SecretKey = testAK, testSK
	return bubbleEnv(t, opts)
}

// wantAuthErr asserts an APIGW.0301 whose message contains want.
func wantAuthErr(t *testing.T, r resp, want string) {
	t.Helper()
	m := wantErr(t, r, http.StatusUnauthorized, "APIGW.0301")
	msg := str(t, m["error_msg"])
	if !strings.HasPrefix(msg, "Incorrect IAM authentication information: ") || !strings.Contains(msg, want) {
		t.Errorf("error_msg %q, want it to contain %q", msg, want)
	}
	for _, secret := range []string{testSK, testST} {
		if strings.Contains(string(r.body), secret) {
			t.Errorf("the answer quotes a secret: %s", r.body)
		}
	}
}

func TestAKSKSignedRequestsAccepted(t *testing.T) {
	synctest.Test(t, testAKSKSignedRequestsAccepted)
}

func testAKSKSignedRequestsAccepted(t *testing.T) {
	v := akskEnv(t, Options{Token: testToken})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded}}})

	jobsOf(t, v.getTask(id, signed(t, testAK, testSK, epoch)))
	rec := lastRequest(t, v.emu)
	if rec.Auth != AuthAKSK || rec.HasToken {
		t.Errorf("record %+v, want an AK/SK request without token", rec)
	}
	for _, h := range []string{"host", "x-request-id", "x-sdk-date", "user-agent"} {
		if !slices.Contains(rec.SignedHeaders, h) {
			t.Errorf("SignedHeaders %v lack %s", rec.SignedHeaders, h)
		}
	}

	// The token keeps working alongside.
	jobsOf(t, v.getTask(id))
	if rec := lastRequest(t, v.emu); rec.Auth != AuthToken || rec.SignedHeaders != nil {
		t.Errorf("token request recorded as %+v", rec)
	}

	// A signed POST: the body is hashed, verified, and still reaches the
	// handler.
	body := map[string]any{"command": "ls", "instance_ids": []string{"p1"}}
	r := v.do(http.MethodPost, "/v1/instances/async-command", body, signed(t, testAK, testSK, epoch),
		withHeader("X-Project-Id", "proj-1"))
	if r.status != http.StatusOK || r.obj(t)["error_code"] != "0" {
		t.Fatalf("signed POST: %d %s", r.status, r.body)
	}
	// The project id was added after signing: recorded, yet unsigned.
	if rec := lastRequest(t, v.emu); rec.ProjectID != "proj-1" {
		t.Errorf("ProjectID %q", rec.ProjectID)
	}

	// A non-JSON payload is not hashed (X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD).
	jobsOf(t, v.do(http.MethodGet, "/v1/instances/tasks/"+id, "opaque", signed(t, testAK, testSK, epoch,
		withHeader("Content-Type", "application/octet-stream"))))
}

// akskRejection is a request that an AK/SK emulator refuses: sent with
// opts, it gets an APIGW.0301 whose message contains want.
type akskRejection struct {
	name string
	opts []reqOpt
	want string
}

// akskRejections are built for the t of the bubble they are sent in, as
// their signing options report to it.
func akskRejections(t *testing.T) []akskRejection {
	del := func(h string) reqOpt { return func(r *http.Request) { r.Header.Del(h) } }
	set := func(h, val string) reqOpt { return func(r *http.Request) { r.Header.Set(h, val) } }
	editAuth := func(old, replacement string) reqOpt {
		return func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, replacement, 1))
		}
	}
	return []akskRejection{
		{"wrong secret key", []reqOpt{signed(t, testAK, testSK+"x", epoch)}, "verify aksk signature fail: the signature does not match the request (check the secret key)"},
		{"unknown access key", []reqOpt{signed(t, "OTHERAK", testSK, epoch)}, "the access key does not exist"},
		{"no X-Sdk-Date", []reqOpt{signed(t, testAK, testSK, epoch), del("X-Sdk-Date")}, "the X-Sdk-Date header is missing"},
		{"X-Sdk-Date not signed", []reqOpt{signed(t, testAK, testSK, epoch), editAuth(";x-sdk-date", "")}, "X-Sdk-Date is not a signed header"},
		{"X-Sdk-Date malformed", []reqOpt{signed(t, testAK, testSK, epoch), set("X-Sdk-Date", "2026-01-02T03:04:05Z")}, "not a UTC time in the format YYYYMMDDTHHMMSSZ"},
		{"date 16 minutes behind", []reqOpt{signed(t, testAK, testSK, epoch.Add(-16*time.Minute))}, "X-Sdk-Date 20260102T024805Z is 16m0s behind the server time (20260102T030405Z)"},
		{"date 20 minutes ahead", []reqOpt{signed(t, testAK, testSK, epoch.Add(20*time.Minute))}, "is 20m0s ahead of the server time"},
		{"date changed after signing", []reqOpt{signed(t, testAK, testSK, epoch), set("X-Sdk-Date", "20260102T030406Z")}, "signature does not match"},
		{"request id changed after signing", []reqOpt{signed(t, testAK, testSK, epoch), set("X-Request-Id", "other")}, "signature does not match"},
		{"query added after signing", []reqOpt{signed(t, testAK, testSK, epoch), func(r *http.Request) { r.URL.RawQuery = "a=1" }}, "signature does not match"},
		{"signed header dropped", []reqOpt{signed(t, testAK, testSK, epoch, set("X-Extra", "1")), del("X-Extra")}, `the signed header "x-extra" is not in the request`},
		{"signature not hex", []reqOpt{signed(t, testAK, testSK, epoch), func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, "Signature=")]+"Signature=zz")
		}}, "signature does not match"},
		{"other scheme", []reqOpt{noToken(), set("Authorization", "Bearer abc")}, "is not of the form"},
		{"no signature", []reqOpt{signed(t, testAK, testSK, epoch), editAuth(", Signature=", ", Sig=")}, "is not of the form"},
		{"a token instead", nil, "this emulator accepts only AK/SK-signed requests"},
		{"nothing", []reqOpt{noToken()}, "the request is not signed"},
		{"a security token for a permanent key", []reqOpt{signed(t, testAK, testSK, epoch, set("X-Security-Token", testST))}, "the access key is a permanent one"},
	}
}

func TestAKSKRejections(t *testing.T) {
	for i, c := range akskRejections(t) {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := akskEnv(t, Options{})
				id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded}}})
				wantAuthErr(t, v.do(http.MethodGet, "/v1/instances/tasks/"+id, nil, akskRejections(t)[i].opts...), c.want)
				if v.emu.Reads(id) != 0 {
					t.Errorf("Reads = %d: a refused request reached the handler", v.emu.Reads(id))
				}
			})
		})
	}
	synctest.Test(t, testAKSKChangedBody)
}

// A changed body breaks the signature too.
func testAKSKChangedBody(t *testing.T) {
	v := akskEnv(t, Options{})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded}}})
	r := v.do(http.MethodPost, "/v1/instances/async-command", map[string]any{"command": "ls", "instance_ids": []string{"p"}},
		signed(t, testAK, testSK, epoch), func(r *http.Request) {
			b := []byte(`{"command":"rm","instance_ids":["p"]}`)
			r.Body, r.ContentLength, r.GetBody = io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
		})
	wantAuthErr(t, r, "signature does not match")
	if v.emu.Reads(id) != 0 {
		t.Errorf("Reads = %d: a refused request reached the handler", v.emu.Reads(id))
	}
}

// The 15-minute window is inclusive, on the emulator's clock.
func TestAKSKDateWindow(t *testing.T) {
	synctest.Test(t, testAKSKDateWindow)
}

func testAKSKDateWindow(t *testing.T) {
	v := akskEnv(t, Options{})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded}}})
	for _, d := range []time.Duration{-15 * time.Minute, -time.Second, 0, 15 * time.Minute} {
		jobsOf(t, v.getTask(id, signed(t, testAK, testSK, epoch.Add(d))))
	}
	signedNow := signed(t, testAK, testSK, epoch)
	time.Sleep(15*time.Minute + time.Second)
	wantAuthErr(t, v.getTask(id, signedNow), "is 15m1s behind")
}

func TestAKSKTemporaryCredentials(t *testing.T) {
	synctest.Test(t, testAKSKTemporaryCredentials)
}

func testAKSKTemporaryCredentials(t *testing.T) {
	v := akskEnv(t, Options{SecurityToken: testST})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded}}})
	withST := func(st string) reqOpt { return func(r *http.Request) { r.Header.Set("X-Security-Token", st) } }

	jobsOf(t, v.getTask(id, signed(t, testAK, testSK, epoch, withST(testST))))
	if rec := lastRequest(t, v.emu); !slices.Contains(rec.SignedHeaders, "x-security-token") {
		t.Errorf("SignedHeaders %v", rec.SignedHeaders)
	}
	wantAuthErr(t, v.getTask(id, signed(t, testAK, testSK, epoch)), "the X-Security-Token header is missing")
	wantAuthErr(t, v.getTask(id, signed(t, testAK, testSK, epoch, withST("expired-token"))), "the security token is invalid or has expired")
	wantAuthErr(t, v.getTask(id, signed(t, testAK, testSK, epoch), withST(testST)), "X-Security-Token is not a signed header")
}

// With ClockOffset the emulator's clock is off, as a gateway's can be: a
// request signed by the machine's clock is refused, with a message that
// says so, and everything the emulator reads the time for shifts along.
func TestClockOffset(t *testing.T) {
	// In a bubble, the machine's clock starts at 2000-01-01 00:00:00 UTC.
	for _, c := range []struct {
		offset time.Duration
		want   string
	}{
		{20 * time.Minute, "Incorrect IAM authentication information: X-Sdk-Date 20000101T000000Z is 20m0s behind the server time (20000101T002000Z); " +
			"a request must be signed within 15 minutes of it: check the clock of the machine that signs"},
		{-16 * time.Minute, "Incorrect IAM authentication information: X-Sdk-Date 20000101T000000Z is 16m0s ahead of the server time (19991231T234400Z); " +
			"a request must be signed within 15 minutes of it: check the clock of the machine that signs"},
	} {
		t.Run(c.offset.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testClockOffset(t, c.offset, c.want) })
		})
	}
}

func testClockOffset(t *testing.T, offset time.Duration, want string) {
	v := akskEnv(t, Options{ClockOffset: offset})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded, After: Duration(5 * time.Second)}}})
	gateway := func() time.Time { return time.Now().Add(offset) }

	r := v.getTask(id, signed(t, testAK, testSK, time.Now()))
	if m := wantErr(t, r, http.StatusUnauthorized, "APIGW.0301"); m["error_msg"] != want {
		t.Errorf("error_msg %q\nwant %q", m["error_msg"], want)
	}
	if rq := lastRequest(t, v.emu); !rq.Time.Equal(gateway()) || rq.Time.Location() != time.UTC {
		t.Errorf("Request.Time %v, want %v in UTC", rq.Time, gateway())
	}
	if got, want := r.header.Get("Date"), gateway().UTC().Format(http.TimeFormat); got != want {
		t.Errorf("Date %q, want the emulator's %q", got, want)
	}

	// Signed by the gateway's clock, the request is accepted, and the job's
	// progress is as without an offset.
	time.Sleep(5*time.Second - time.Nanosecond)
	if s := jobsOf(t, v.getTask(id, signed(t, testAK, testSK, gateway())))[0]["status"]; s != json.Number("1") {
		t.Errorf("status %v before After, want 1", s)
	}
	time.Sleep(time.Nanosecond)
	if s := jobsOf(t, v.getTask(id, signed(t, testAK, testSK, gateway())))[0]["status"]; s != json.Number("2") {
		t.Errorf("status %v at After, want 2", s)
	}
}

func TestTokenOnlyEmulatorRefusesSignatures(t *testing.T) {
	v := newEnv(t, Options{})
	id := v.addTask(TaskSpec{Jobs: []JobSpec{{Status: StatusSucceeded}}})
	wantAuthErr(t, v.getTask(id, signed(t, testAK, testSK, epoch)), "this emulator accepts only tokens")
	if rec := lastRequest(t, v.emu); rec.Auth != AuthAKSK {
		t.Errorf("Auth %q", rec.Auth)
	}
}

func TestSignedBodyLimit(t *testing.T) {
	synctest.Test(t, testSignedBodyLimit)
}

func testSignedBodyLimit(t *testing.T) {
	emu := New(Options{AccessKey: testAK, SecretKey: testSK, ClockOffset: atEpoch()})
	r := httptest.NewRequest(http.MethodPost, "http://koophone.example/v1/instances/async-command", strings.NewReader(strings.Repeat("x", maxSignedBody+1)))
	r.Header.Set("X-Request-Id", "big")
	sdkSign(t, r, testAK, testSK, epoch)
	f := emu.authenticate(r, &Request{})
	if f == nil || f.status != http.StatusRequestEntityTooLarge || f.code != "APIGW.0201" {
		t.Errorf("got %+v, want 413 APIGW.0201", f)
	}
	// At the limit, the body is checked and given back to the handler.
	r = httptest.NewRequest(http.MethodPost, "http://koophone.example/v1/instances/async-command", strings.NewReader(`{"command":"ls"}`))
	sdkSign(t, r, testAK, testSK, epoch)
	if f := emu.authenticate(r, &Request{}); f != nil {
		t.Fatalf("refused: %+v", f)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != `{"command":"ls"}` {
		t.Errorf("body after verification = %q", b)
	}
}

func TestNewPanicsOnIncompleteCredentials(t *testing.T) {
	for name, opts := range map[string]Options{
		"nothing":                 {},
		"access key alone":        {AccessKey: "a"},
		"secret key alone":        {Token: "t", SecretKey: "s"},
		"security token alone":    {Token: "t", SecurityToken: "st"},
		"security token and a sk": {SecretKey: "s", SecurityToken: "st"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New did not panic")
				}
			}()
			New(opts)
		})
	}
	New(Options{AccessKey: "a", SecretKey: "s"})
	New(Options{AccessKey: "a", SecretKey: "s", SecurityToken: "st"})
}

// Over the wire, the emulator accepts what the official signer signs, for
// hundreds of generated requests (odd paths, repeated query keys, padded
// and non-ASCII header values, bodies of any bytes), and refuses each of
// them signed with another secret.
func TestVerifierAcceptsOfficialSignaturesOverTheWire(t *testing.T) {
	synctest.Test(t, testVerifierAcceptsOfficialSignaturesOverTheWire)
}

func testVerifierAcceptsOfficialSignaturesOverTheWire(t *testing.T) {
	emu := New(Options{AccessKey: testAK, SecretKey: testSK, ClockOffset: atEpoch()})
	srv := ServeInMemory(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rec Request
		if f := emu.authenticate(r, &rec); f != nil {
			http.Error(w, f.reason, f.status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	tr := &http.Transport{DialContext: srv.DialContext}
	client := &http.Client{Transport: tr}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})

	rng := rand.New(rand.NewPCG(7, 11))
	const n = 400
	for i := range n {
		sdkReq := randomSDKRequest(rng, InMemoryURL)
		ak, sk := testAK, testSK
		if i%2 == 1 {
			sk += "-wrong"
		}
		added, err := sdksigner.Signer{}.Sign(sdkReq, ak, sk)
		if err != nil {
			t.Fatal(err)
		}
		req, err := sdkReq.ConvertRequest() // the SDK's own wire form
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range added {
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		msg, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		want := http.StatusNoContent
		if i%2 == 1 {
			want = http.StatusUnauthorized
		}
		if res.StatusCode != want {
			t.Fatalf("case %d (%s %s?%s): status %d, want %d: %s", i, req.Method, req.URL.Path, req.URL.RawQuery, res.StatusCode, want, msg)
		}
	}
}

func randomSDKRequest(rng *rand.Rand, endpoint string) *sdkrequest.DefaultHttpRequest {
	pick := func(alphabet string, maxLen int) string {
		runes := []rune(alphabet)
		var b strings.Builder
		for range rng.IntN(maxLen + 1) {
			b.WriteRune(runes[rng.IntN(len(runes))])
		}
		return b.String()
	}
	const chars = "abcXYZ019-_.~ %+?#=&;:@!$'()*,[]é中"
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH"}
	var segs []string
	for range 1 + rng.IntN(5) {
		segs = append(segs, pick(chars, 10))
	}
	b := sdkrequest.NewHttpRequestBuilder().WithMethod(methods[rng.IntN(len(methods))]).
		WithEndpoint(endpoint).WithPath("/" + strings.Join(segs, "/"))
	for range rng.IntN(4) {
		key := "k" + pick(chars, 6)
		var vals []string
		for range 1 + rng.IntN(3) {
			vals = append(vals, pick(chars, 8))
		}
		b.AddQueryParam(key, reflect.ValueOf(vals))
	}
	host := strings.TrimPrefix(endpoint, "http://")
	b.AddHeaderParam("Host", host)
	b.AddHeaderParam("X-Sdk-Date", epoch.Add(time.Duration(rng.IntN(1800)-900)*time.Second).UTC().Format(sdkDateLayout))
	b.AddHeaderParam("X-Request-Id", fmt.Sprintf("req-%d", rng.Int64()))
	for _, h := range []string{"X-Custom", "x-lower", "Accept-Language", "X-Project-Id"} {
		if rng.IntN(2) == 0 {
			b.AddHeaderParam(h, "  "+pick("abc XYZ019-_.~;:é中/", 15)+" ")
		}
	}
	if rng.IntN(3) == 0 {
		b.AddHeaderParam("Content-Type", []string{"application/json", "text/plain"}[rng.IntN(2)])
	}
	if rng.IntN(2) == 0 {
		body := make([]byte, rng.IntN(200))
		for i := range body {
			body[i] = byte(rng.IntN(256))
		}
		b.WithBody("body", string(body))
	}
	return b.Build()
}
