package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/go-version"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// `terraform validate` on every example directory, with the provider's real
// schema, on the CLI the acceptance tests use (TF_ACC_TERRAFORM_PATH, so
// `make test-compat` runs it on OpenTofu too).
//
// How this stays offline: the test builds the provider binary into a
// temporary directory and points the CLI at it with a dev_overrides CLI
// configuration, for both koophone/koophone (the examples that declare a
// source) and hashicorp/koophone (those that rely on the implied source).
// With dev_overrides, validate needs no `init`, so nothing is installed and
// no registry is asked; the only other provider the examples use is the
// built-in terraform_data.

// devOverridesWarning is the warning every command prints while
// dev_overrides are in effect; any other warning fails the test.
const devOverridesWarning = "Provider development overrides are in effect"

type validateDiag struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
}

type validateOutput struct {
	Valid       bool           `json:"valid"`
	ErrorCount  int            `json:"error_count"`
	Diagnostics []validateDiag `json:"diagnostics"`
}

// isTerraformFile: a .tf or .tf.json file, the ones Terraform reads.
func isTerraformFile(name string) bool {
	return strings.HasSuffix(name, ".tf") || strings.HasSuffix(name, ".tf.json")
}

// exampleDirs lists, relative to examples/, every directory that holds
// Terraform files. It walks the tree, so new examples are covered without
// changing this test.
func exampleDirs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(examplesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if !d.IsDir() && isTerraformFile(path) {
			rel, err := filepath.Rel(examplesDir, filepath.Dir(path))
			if err != nil {
				return err
			}
			seen[filepath.ToSlash(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", examplesDir, err)
	}
	dirs := make([]string, 0, len(seen))
	for d := range seen {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	return dirs
}

// acceptanceCLI returns the Terraform (or OpenTofu) CLI the acceptance tests
// run, skipping the test when acceptance tests are off or there is none.
func acceptanceCLI(t *testing.T) string {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance tests skipped unless env 'TF_ACC' set (make test sets it)")
	}
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p
	}
	p, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("no TF_ACC_TERRAFORM_PATH and no terraform on PATH (make test finds or builds one)")
	}
	return p
}

// cliRunsActions reports whether cli is a Terraform of 1.14 or later, the
// first with actions. OpenTofu has none.
func cliRunsActions(t *testing.T, cli string) bool {
	t.Helper()
	out, err := exec.Command(cli, "version", "-json").Output()
	if err != nil {
		t.Fatalf("%s version: %v", cli, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s version -json: %v: %s", cli, err, out)
	}
	parsed, err := version.NewVersion(v.Version)
	if err != nil {
		t.Fatalf("%s version %q: %v", cli, v.Version, err)
	}
	return !strings.Contains(filepath.Base(cli), "tofu") && parsed.GreaterThanOrEqual(tfversion.Version1_14_0)
}

// validateCLIEnv builds the provider and writes a CLI configuration that
// overrides koophone/koophone and hashicorp/koophone with it. It returns the
// environment to run the CLI with.
func validateCLIEnv(t *testing.T) []string {
	t.Helper()
	work := t.TempDir()
	pluginDir := filepath.Join(work, "plugins")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=validate-test",
		"-o", filepath.Join(pluginDir, "terraform-provider-koophone"), ".")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	cliConfig := filepath.Join(work, "terraformrc")
	rc := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "koophone/koophone"  = %q
    "hashicorp/koophone" = %q
  }
  direct {}
}
`, filepath.ToSlash(pluginDir), filepath.ToSlash(pluginDir))
	if err := os.WriteFile(cliConfig, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR", "TF_REATTACH_PROVIDERS", "TF_LOG", "TF_LOG_PATH", "TF_DATA_DIR", "TF_WORKSPACE":
			continue
		}
		if strings.HasPrefix(name, "TF_VAR_") || strings.HasPrefix(name, "TF_CLI_ARGS") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "TF_CLI_CONFIG_FILE="+cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
}

// runValidate writes files into a scratch directory (so that no .terraform
// directory or lock file of a developer's changes the result) and runs
// `validate -json` there.
func runValidate(t *testing.T, cli string, env []string, files map[string][]byte) validateOutput {
	t.Helper()
	work := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(work, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(cli, "-chdir="+work, "validate", "-json", "-no-color")
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var out validateOutput
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%s validate: %v; stdout:\n%s\nstderr:\n%s", cli, runErr, stdout.String(), stderr.String())
	}
	return out
}

func exampleFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(examplesDir, filepath.FromSlash(dir)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !isTerraformFile(e.Name()) {
			continue
		}
		content, err := os.ReadFile(filepath.Join(examplesDir, filepath.FromSlash(dir), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = content
	}
	return files
}

func TestAccExamples_validate(t *testing.T) {
	cli := acceptanceCLI(t)
	env := validateCLIEnv(t)

	// First prove that validate really checks against this provider's
	// schema: an unknown argument must be an error. Without this, a
	// misconfigured override could let every example pass vacuously.
	bad := runValidate(t, cli, env, map[string][]byte{"main.tf": []byte(
		"data \"koophone_instance_task\" \"t\" {\n  task_id = \"abc\"\n  no_such_argument = true\n}\n")})
	if bad.Valid || !strings.Contains(fmt.Sprint(bad.Diagnostics), "no_such_argument") {
		t.Fatalf("validate accepted an unknown argument, so it did not use the provider schema: %+v", bad)
	}

	dirs := exampleDirs(t)
	for _, want := range []string{"provider", "data-sources/koophone_instance_task", "demo"} {
		if !slices.Contains(dirs, want) {
			t.Errorf("example directory %s not found (found %v)", want, dirs)
		}
	}
	actions := cliRunsActions(t, cli)
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			if strings.HasPrefix(dir, "actions/") && !actions {
				t.Skipf("%s has no actions (Terraform 1.14 or later has)", cli)
			}
			out := runValidate(t, cli, env, exampleFiles(t, dir))
			for _, d := range out.Diagnostics {
				if d.Severity == "warning" && d.Summary == devOverridesWarning {
					continue
				}
				t.Errorf("examples/%s: %s: %s\n%s", dir, d.Severity, d.Summary, d.Detail)
			}
			if !out.Valid {
				t.Errorf("examples/%s is not valid (%d errors)", dir, out.ErrorCount)
			}
		})
	}
}
