package provider

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// The documentation states the bound on requests in flight in prose, where
// no schema description carries it: it must be the client's.
func TestDocsStateTheBoundOnRequestsInFlight(t *testing.T) {
	for file, phrase := range map[string]string{
		"../../templates/index.md.tmpl":                       "sends at most %d at once",
		"../../templates/data-sources/instance_tasks.md.tmpl": "at most %d requests in flight at once",
		"../../README.md":                                     "at most %d in flight at once",
	} {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(phrase, koophone.DefaultMaxConcurrentRequests); !strings.Contains(strings.Join(strings.Fields(string(text)), " "), want) {
			t.Errorf("%s does not say %q", file, want)
		}
	}
}
