package poll

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a wait leaves a goroutine behind,
// such as a timer that was never stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
