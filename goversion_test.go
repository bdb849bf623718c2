package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The documents that tell users which Go they need say what go.mod says:
// "Go (1.26 or newer)" with go.mod's "go 1.26.0".
func TestDocumentsNameTheGoOfGoMod(t *testing.T) {
	data, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	directive := regexp.MustCompile(`(?m)^go ([0-9]+)\.([0-9]+)(\.[0-9]+)?\s*$`).FindStringSubmatch(string(data))
	if directive == nil {
		t.Fatal("go.mod: no go directive")
	}
	goMod := strings.TrimPrefix(directive[0], "go ")
	want := directive[1] + "." + directive[2]

	files := []string{"README.md", "CONTRIBUTING.md"}
	templates, err := filepath.Glob(filepath.Join("templates", "*", "*.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, templates...)
	mention := regexp.MustCompile(`Go \(([0-9]+\.[0-9]+) or newer`)
	found := 0
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mention.FindAllStringSubmatch(string(text), -1) {
			found++
			if m[1] != want {
				t.Errorf("%s says %q, but go.mod says go %s", f, m[0]+")", strings.TrimSpace(goMod))
			}
		}
	}
	if found == 0 {
		t.Errorf("no document says which Go it needs (\"Go (%s or newer)\")", want)
	}
}
