package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The GitHub workflows cannot be run here, so these tests check what can
// be checked offline: they are valid YAML with the shape GitHub expects,
// every action is pinned to a full commit SHA with its release in a
// comment (a tag can be moved; a SHA cannot), one action is pinned to one
// SHA everywhere, and every `make` target a workflow runs exists.

var (
	pinnedUses     = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)
	versionComment = regexp.MustCompile(`^#\s*v\d+(\.\d+){0,2}\b`)
	makeTarget     = regexp.MustCompile(`(?m)(?:^|[;&|(]\s*|\s)make\s+([a-z][a-z0-9_-]*)`)
	makefileTarget = regexp.MustCompile(`(?m)^([a-zA-Z0-9_-]+):`)
)

func workflowFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{".github/workflows/*.yml", ".github/workflows/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	return files
}

// mapValue returns the value node of key in a mapping node, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// usesNodes returns the value nodes of every `uses:` of a workflow: in
// steps, and in jobs that call a reusable workflow.
func usesNodes(jobs *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	for i := 1; i < len(jobs.Content); i += 2 {
		job := jobs.Content[i]
		if u := mapValue(job, "uses"); u != nil {
			out = append(out, u)
		}
		if steps := mapValue(job, "steps"); steps != nil && steps.Kind == yaml.SequenceNode {
			for _, step := range steps.Content {
				if u := mapValue(step, "uses"); u != nil {
					out = append(out, u)
				}
			}
		}
	}
	return out
}

func TestWorkflows(t *testing.T) {
	files := workflowFiles(t)
	for _, want := range []string{".github/workflows/release.yml", ".github/workflows/test.yml"} {
		found := false
		for _, f := range files {
			found = found || f == want
		}
		if !found {
			t.Errorf("%s is missing", want)
		}
	}

	makefile, err := os.ReadFile("GNUmakefile")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range makefileTarget.FindAllStringSubmatch(string(makefile), -1) {
		targets[m[1]] = true
	}

	shaOf := map[string]string{} // action -> SHA, across all workflows
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			content, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(content, &doc); err != nil {
				t.Fatalf("not valid YAML: %v", err)
			}
			if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
				t.Fatal("not a YAML mapping")
			}
			root := doc.Content[0]
			for _, key := range []string{"name", "on", "permissions", "jobs"} {
				if mapValue(root, key) == nil {
					t.Errorf("no top-level %q", key)
				}
			}
			jobs := mapValue(root, "jobs")
			if jobs == nil || jobs.Kind != yaml.MappingNode || len(jobs.Content) == 0 {
				t.Fatal("no jobs")
			}
			for i := 0; i+1 < len(jobs.Content); i += 2 {
				name, job := jobs.Content[i].Value, jobs.Content[i+1]
				if mapValue(job, "uses") != nil {
					continue // a reusable workflow: no runs-on or steps
				}
				if mapValue(job, "runs-on") == nil {
					t.Errorf("job %s: no runs-on", name)
				}
				if mapValue(job, "timeout-minutes") == nil {
					t.Errorf("job %s: no timeout-minutes", name)
				}
				steps := mapValue(job, "steps")
				if steps == nil || steps.Kind != yaml.SequenceNode || len(steps.Content) == 0 {
					t.Errorf("job %s: no steps", name)
					continue
				}
				for _, step := range steps.Content {
					run := mapValue(step, "run")
					if run == nil {
						continue
					}
					for _, m := range makeTarget.FindAllStringSubmatch(run.Value, -1) {
						if !targets[m[1]] {
							t.Errorf("job %s runs `make %s`, which is not a target of the GNUmakefile", name, m[1])
						}
					}
				}
			}

			uses := usesNodes(jobs)
			if len(uses) == 0 {
				t.Error("no `uses:` at all: expected at least actions/checkout")
			}
			for _, u := range uses {
				if strings.HasPrefix(u.Value, "./") {
					continue // an action or workflow in this repository
				}
				if !pinnedUses.MatchString(u.Value) {
					t.Errorf("line %d: uses %q is not pinned to a full 40-hex commit SHA", u.Line, u.Value)
					continue
				}
				if !versionComment.MatchString(u.LineComment) {
					t.Errorf("line %d: uses %q has no trailing release comment such as `# v1.2.3` (got %q)", u.Line, u.Value, u.LineComment)
				}
				action, sha, _ := strings.Cut(u.Value, "@")
				if prev, ok := shaOf[action]; ok && prev != sha {
					t.Errorf("line %d: %s is pinned to %s here and to %s elsewhere", u.Line, action, sha, prev)
				}
				shaOf[action] = sha
			}
		})
	}
}

// The check above must catch what it is meant to catch.
func TestWorkflowPinPatterns(t *testing.T) {
	for _, tc := range []struct {
		uses string
		ok   bool
	}{
		{"actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1", true},
		{"github/codeql-action/init@3d3c42e5aac5ba805825da76410c181273ba90b1", true},
		{"actions/checkout@v7", false},
		{"actions/checkout@v7.0.1", false},
		{"actions/checkout@3d3c42e", false},
		{"actions/checkout@main", false},
		{"actions/checkout", false},
		{"actions/checkout@3D3C42E5AAC5BA805825DA76410C181273BA90B1", false},
	} {
		if got := pinnedUses.MatchString(tc.uses); got != tc.ok {
			t.Errorf("pinned(%q) = %v, want %v", tc.uses, got, tc.ok)
		}
	}
	for _, tc := range []struct {
		run    string
		target string
	}{
		{"make test", "test"},
		{"cd x && make docs-check", "docs-check"},
		{"make test-compat TEST_COMPAT_CLIS=tofu", "test-compat"},
	} {
		m := makeTarget.FindStringSubmatch(tc.run)
		if m == nil || m[1] != tc.target {
			t.Errorf("make target of %q = %v, want %q", tc.run, m, tc.target)
		}
	}
}
