package e2e

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// runCommand runs a command with a deadline and returns combined output.
func runCommand(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}
