package smtp

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: a
// server that did not stop, a BDAT pipe that was not closed.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
