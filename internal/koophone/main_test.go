package koophone

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// request, retry pause or connection the client forgot to end.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
