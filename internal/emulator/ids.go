package emulator

import (
	"crypto/rand"
	"encoding/hex"
)

func randomHex(nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// newTaskID returns an async-command style task id: 32 lowercase hex chars.
func newTaskID() string { return randomHex(16) }

// newJobID returns a job id: 32 lowercase hex chars.
func newJobID() string { return randomHex(16) }

// newInstallTaskID returns an InstallApp task id: "ZGCA" + 28 lowercase hex.
func newInstallTaskID() string { return "ZGCA" + randomHex(14) }

// newResetTaskID returns a batch-reset task id: "RM_" + 32 lowercase hex, as
// in the API's example.
func newResetTaskID() string { return "RM_" + randomHex(16) }
