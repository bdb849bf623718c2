package clock

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a timer leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
