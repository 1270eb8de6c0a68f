package limits

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/variables"
	"github.com/stretchr/testify/require"
)

// sink keeps the test's allocation live.
var sink [][]byte

func TestGovernorStopsTheStatementThatGrowsTheHeap(t *testing.T) {
	variables.InitSystemVariables()
	sql.SystemVariables.AddSystemVariables(SystemVariables())
	require.NoError(t, sql.SystemVariables.AssignValues(map[string]any{MaxStatementMemoryVar: int64(16 << 20)}))
	t.Cleanup(func() { sink = nil })
	runtime.GC() // statements start from an up-to-date live heap

	var mu sync.Mutex
	var killed []uint32
	g := NewGovernor(func(id uint32) {
		mu.Lock()
		killed = append(killed, id)
		mu.Unlock()
	})
	g.Begin(1) // a statement that does nothing
	g.Begin(2)
	// Statement 2 grows the live heap by 64 MiB.
	for i := 0; i < 64; i++ {
		sink = append(sink, make([]byte, 1<<20))
	}
	g.sample()
	require.Eventually(t, func() bool {
		g.sample()
		mu.Lock()
		defer mu.Unlock()
		return len(killed) > 0
	}, 10*time.Second, 20*time.Millisecond)
	mu.Lock()
	require.Len(t, killed, 1, "one statement is stopped")
	mu.Unlock()

	// Both began before the growth, so either may be blamed; the one
	// stopped gets 3170 when it ends, the other nothing.
	errs := 0
	for _, id := range []uint32{1, 2} {
		if err := g.End(id); err != nil {
			errs++
			require.ErrorContains(t, err, "Memory capacity of 16777216 bytes for 'sibyl_max_statement_memory' exceeded")
		}
	}
	require.Equal(t, 1, errs)

	// Off: nothing is stopped.
	require.NoError(t, sql.SystemVariables.AssignValues(map[string]any{MaxStatementMemoryVar: int64(0)}))
	killed = nil
	g.Begin(3)
	sink = append(sink, make([]byte, 64<<20))
	g.sample()
	require.Empty(t, killed)
	require.NoError(t, g.End(3))
}
