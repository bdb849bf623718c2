package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
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

// newUUID returns a random (version 4) UUID, used as the X-Request-Id of a
// response when the client sent none.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
