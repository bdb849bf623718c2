//go:build ignore

// submit-command submits an adb command to phones through the KooPhone API,
// as a script outside Terraform would, and prints the task id the API
// answers with. make demo (scripts/demo.sh) uses it against the emulator, so
// that the demo configuration can read that task with the data source
// koophone_instance_task.
//
//	go run scripts/submit-command.go -endpoint URL -token T -command CMD PHONE...
//
// It sends POST {endpoint}/v1/instances/async-command with X-Auth-Token, an
// x-request-id and the body {"command": CMD, "instance_ids": [PHONE...]}, and
// exits 1 with the API's error_code and error_msg if the answer is not a
// success.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	endpoint := flag.String("endpoint", os.Getenv("KOOPHONE_ENDPOINT"), "base URL of the API (default $KOOPHONE_ENDPOINT)")
	token := flag.String("token", os.Getenv("KOOPHONE_TOKEN"), "IAM token, sent as X-Auth-Token (default $KOOPHONE_TOKEN)")
	command := flag.String("command", "", "the adb shell command")
	flag.Parse()
	phones := flag.Args()
	if *endpoint == "" || *token == "" || *command == "" || len(phones) == 0 {
		fmt.Fprintln(os.Stderr, "usage: go run scripts/submit-command.go -endpoint URL -token T -command CMD PHONE...")
		os.Exit(2)
	}
	taskID, err := submit(*endpoint, *token, *command, phones)
	if err != nil {
		fmt.Fprintf(os.Stderr, "submit-command: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(taskID)
}

func submit(endpoint, token, command string, phones []string) (string, error) {
	body, err := json.Marshal(map[string]any{"command": command, "instance_ids": phones})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(endpoint, "/")+"/v1/instances/async-command", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("X-Request-Id", hex.EncodeToString(id))
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	var answer struct {
		ErrorCode string `json:"error_code"`
		ErrorMsg  string `json:"error_msg"`
		Data      struct {
			TaskID string `json:"task_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return "", fmt.Errorf("HTTP %d, not a KooPhone answer: %.200q", resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK || answer.ErrorCode != "0" || answer.Data.TaskID == "" {
		return "", fmt.Errorf("HTTP %d, error_code %q, error_msg %q", resp.StatusCode, answer.ErrorCode, answer.ErrorMsg)
	}
	return answer.Data.TaskID, nil
}
