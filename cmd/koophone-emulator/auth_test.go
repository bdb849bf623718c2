package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/koophone/terraform-provider-koophone/internal/koophone"
)

// The program accepts requests signed by the provider's API client with the
// access key of its flags, next to its token, and never logs the keys.
func TestRunAcceptsSignedRequests(t *testing.T) {
	const ak, sk, st = "PROGRAMACCESSKEY", "program-SECRET-key-value", "program-SECURITY-token"
	url, _, stderr, stop := startRun(t, []string{"-access-key", ak, "-secret-key", sk, "-security-token", st, "-job-duration", "-1s"})
	res, err := http.Post(url+"/_emulator/tasks", "application/json", strings.NewReader(`{"task_id":"t1","jobs":[{"status":2}]}`))
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("add task: %v %v", res, err)
	}
	_ = res.Body.Close()

	read := func(creds koophone.Credentials) error {
		c, err := koophone.New(koophone.Config{Endpoint: url, Credentials: creds})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetTask(context.Background(), "t1")
		return err
	}
	if err := read(koophone.AKSKCredentials{AccessKey: ak, SecretKey: sk, SecurityToken: st}); err != nil {
		t.Errorf("signed read: %v", err)
	}
	if err := read(koophone.TokenCredentials{Token: token}); err != nil {
		t.Errorf("token read: %v", err)
	}
	for name, creds := range map[string]koophone.Credentials{
		"wrong secret key":       koophone.AKSKCredentials{AccessKey: ak, SecretKey: sk + "x", SecurityToken: st},
		"missing security token": koophone.AKSKCredentials{AccessKey: ak, SecretKey: sk},
	} {
		if err := read(creds); !errors.Is(err, koophone.ErrUnauthorized) {
			t.Errorf("%s: err %v, want a credentials error", name, err)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	log := stderr.String()
	if !strings.Contains(log, "koophone-emulator accepts X-Auth-Token (from KOOPHONE_TOKEN) and temporary AK/SK signatures with X-Security-Token (from flags)") {
		t.Errorf("stderr does not say what it accepts:\n%s", log)
	}
	for _, secret := range []string{sk, st, token} {
		if strings.Contains(log, secret) {
			t.Errorf("a secret is in the log:\n%s", log)
		}
	}
}
