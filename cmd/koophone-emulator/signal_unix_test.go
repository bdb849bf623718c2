//go:build unix

package main

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// SIGTERM and SIGINT stop the real program cleanly: exit status 0, the
// listener closed, the url and env files removed. The program is this
// test binary, run again as main (see TestMain).
func TestSignalsStopTheProgram(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			urlFile, envFile := filepath.Join(dir, "url"), filepath.Join(dir, "env")
			cmd := exec.Command(os.Args[0], "-listen", "127.0.0.1:0", "-seed", referenceSeed, "-quiet",
				"-url-file", urlFile, "-env-file", envFile)
			// Under -race, the race runtime would sleep 1s at exit.
			cmd.Env = append(cleanEnv(), runMainEnv+"=1", "GORACE=atexit_sleep_ms=0")
			var stdout bytes.Buffer
			stderr := &readyWriter{ready: make(chan struct{})}
			cmd.Stdout, cmd.Stderr = &stdout, stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var waitErr error
			exited := make(chan struct{}) // closed once waitErr is set
			go func() { waitErr = cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				select {
				case <-exited:
				default:
					_ = cmd.Process.Kill()
					<-exited
				}
			})

			// Ready once it logs where it listens: its files are written by then.
			select {
			case <-stderr.ready:
			case <-exited:
				t.Fatalf("the program exited early: %v\n%s", waitErr, stderr.String())
			}
			b, err := os.ReadFile(envFile)
			if err != nil {
				t.Fatal(err)
			}
			endpoint, _, _ := strings.Cut(strings.TrimPrefix(string(b), "KOOPHONE_ENDPOINT="), "\n")
			res, err := http.Get(endpoint + "/_emulator/tasks")
			if err != nil {
				t.Fatal(err)
			}
			_ = res.Body.Close()

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			<-exited // a program that ignores the signal hangs here until go test's -timeout
			if waitErr != nil {
				t.Fatalf("exit: %v, want status 0\n%s", waitErr, stderr.String())
			}
			for _, f := range []string{urlFile, envFile} {
				if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s not removed: %v", filepath.Base(f), err)
				}
			}
			if _, err := http.Get(endpoint + "/_emulator/tasks"); err == nil {
				t.Error("the listener is still open")
			}
			if !strings.Contains(stderr.String(), "koophone-emulator stopped") {
				t.Errorf("stderr:\n%s", stderr.String())
			}
			if got := strings.Count(stdout.String(), "\n"); got != 3 {
				t.Errorf("stdout %q, want the 3 seeded task ids", stdout.String())
			}
		})
	}
}

// readyWriter keeps the program's stderr and closes ready at the line that
// says where it listens.
type readyWriter struct {
	syncBuffer
	ready chan struct{}
	once  sync.Once
}

func (w *readyWriter) Write(p []byte) (int, error) {
	n, err := w.syncBuffer.Write(p)
	if strings.Contains(w.String(), "koophone-emulator listening on ") {
		w.once.Do(func() { close(w.ready) })
	}
	return n, err
}

// cleanEnv is the environment without any credential variable.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KOOPHONE_") && !strings.HasPrefix(kv, "HW_") {
			out = append(out, kv)
		}
	}
	return out
}
