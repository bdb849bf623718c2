package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The demo seed's phones are listed page by page, filtered by pool, and
// announced on stderr.
func TestRunListsTheSeedPhones(t *testing.T) {
	seed := filepath.Join("..", "..", "examples", "demo", "emulator-seed.json")
	url, _, stderr, stop := startRun(t, []string{"-seed", seed, "-quiet"})
	hdr := map[string]string{"X-Auth-Token": token, "X-Request-Id": "list-1"}
	var ids []string
	for _, page := range []string{"1", "2"} {
		status, body, _ := get(t, url+"/v1/instances/batch-query?page_size=100&pool_name=game-test&page_no="+page, hdr)
		var answer struct {
			Data struct {
				Result []struct {
					InstanceID string `json:"instance_id"`
				} `json:"result"`
				TotalCount int `json:"total_count"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &answer); err != nil || status != 200 || answer.Data.TotalCount != 120 {
			t.Fatalf("page %s: %d %s (%v)", page, status, body, err)
		}
		for _, r := range answer.Data.Result {
			ids = append(ids, r.InstanceID)
		}
	}
	if len(ids) != 120 || ids[0] != "phone-gt-001" || ids[119] != "phone-gt-120" {
		t.Errorf("game-test pool: %d phones, %v ... %v", len(ids), ids[:1], ids[len(ids)-1:])
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "koophone-emulator lists 124 phones from the seed") {
		t.Errorf("stderr does not announce the phones:\n%s", stderr)
	}
}

// An invalid phone in the seed stops the program with an error that names it.
func TestRunRejectsAnInvalidSeedPhone(t *testing.T) {
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(`{"phones": [{"instance_id": "a"}, {"instance_id": "a"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseFlags([]string{"-seed", seed, "-listen", "127.0.0.1:0"}, env(map[string]string{"KOOPHONE_TOKEN": token}), &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = start(cfg, &syncBuffer{}, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), `seed file `+seed+`: phones[1].instance_id: "a" duplicates phones[0]`) {
		t.Fatalf("start: %v", err)
	}
}
