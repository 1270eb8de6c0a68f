package recovered

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"
)

func TestCaptureAndSplit(t *testing.T) {
	work := func() (err error) {
		defer Capture(&err)
		var m map[string]int
		m["x"] = 1 // assignment to entry in nil map
		return nil
	}
	err := work()
	var p *Error
	require.True(t, errors.As(err, &p))
	require.Contains(t, string(p.Stack), "recovered_test.go", "the stack shows where the panic happened")

	wrapped := fmt.Errorf("statement failed: %w", err)
	short, stack, ok := Split(wrapped.Error())
	require.True(t, ok)
	require.Equal(t, "statement failed: assignment to entry in nil map", short)
	require.Contains(t, stack, "goroutine ")
	require.NotContains(t, short, "\n")

	_, _, ok = Split("an ordinary error")
	require.False(t, ok)
}

func TestGo(t *testing.T) {
	var g errgroup.Group
	Go(&g, func() error { panic("boom") })
	Go(&g, func() error { return nil })
	err := g.Wait()
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), Prefix+"boom\n"))
}
