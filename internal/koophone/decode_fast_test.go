package koophone

import (
	"encoding/json"
	"testing"
)

// FuzzUnquoteJSONMatchesEncodingJSON: whenever the fast path decodes a
// string literal, it decodes it exactly as encoding/json does.
func FuzzUnquoteJSONMatchesEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`""`, `"plain"`, `"line\nnext\ttab \"quoted\" back\\slash \/ \b\f\r"`,
		`"\u00e9t\u00E9 \ud83d\ude00 \u4e2d"`, `"é 中 😀"`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00"`,
		`"a\u0000b"`, "\"\xff\"", `"\x"`, `"unterminated`, `"\u12"`, `"tab	raw"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := unquoteJSON(b)
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("fast path accepted %q, which encoding/json rejects: %v", b, err)
		}
		if got != want {
			t.Fatalf("unquoteJSON(%q) = %q, encoding/json gives %q", b, got, want)
		}
	})
}

func TestUnquoteJSONFallsBackOnOddInput(t *testing.T) {
	for _, in := range []string{`"\ud800"`, `"\udc00x"`, "\"\xff\"", `"\q"`, `x`, `"`} {
		if _, ok := unquoteJSON([]byte(in)); ok {
			t.Errorf("fast path took %q", in)
		}
	}
	for in, want := range map[string]string{`"a\nb"`: "a\nb", `"\ud83d\ude00"`: "😀", `"\/"`: "/", `"é"`: "é"} {
		if got, ok := unquoteJSON([]byte(in)); !ok || got != want {
			t.Errorf("unquoteJSON(%s) = %q, %v", in, got, ok)
		}
	}
}
