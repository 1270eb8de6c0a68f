package status

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dolthub/go-mysql-server/sql"
)

func TestCountersMergeIntoGlobalStatusAndFlush(t *testing.T) {
	reg := Global()
	require.Same(t, reg, sql.StatusVariables, "registry must be installed as GMS's status registry")
	c := reg.Counter("Test_status_counter")
	require.Same(t, c, reg.Counter("test_STATUS_counter"), "names are case-insensitive")

	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				c.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 8000, c.Value())

	m := reg.NewGlobalMap()
	require.EqualValues(t, uint64(8000), m["Test_status_counter"].Value())
	require.Contains(t, m, "Questions", "GMS's own variables are still served")
	_, v, ok := reg.GetGlobal("test_status_counter")
	require.True(t, ok)
	require.EqualValues(t, uint64(8000), v)
	require.NotContains(t, reg.NewSessionMap(), "Test_status_counter", "counters are global-only")

	reg.IncrementGlobal("Test_status_counter", 2)
	require.EqualValues(t, 8002, c.Value())
	require.NoError(t, reg.SetGlobal("Test_status_counter", 5))
	require.EqualValues(t, 5, c.Value())

	reg.Flush()
	require.Zero(t, c.Value())
	require.Contains(t, reg.Names(), "Test_status_counter")
}

// TestUptimeCountsFromStart: MySQL's Uptime is the seconds since the
// server started and Uptime_since_flush_status since FLUSH STATUS (GMS
// kept both at 0); monitoring reads them to spot restarts and rates.
func TestUptimeCountsFromStart(t *testing.T) {
	reg := &Registry{base: Global().base, counters: map[string]*Counter{}, started: time.Now().Add(-90 * time.Second)}
	for _, name := range []string{"Uptime", "Uptime_since_flush_status"} {
		_, v, ok := reg.GetGlobal(name)
		require.True(t, ok, name)
		require.GreaterOrEqual(t, v, uint64(90), name)
		require.Less(t, v, uint64(3600), "%s: seconds, not a larger unit", name)
		require.GreaterOrEqual(t, reg.NewGlobalMap()[name].Value(), uint64(90), name)
	}
	reg.Flush()
	_, v, _ := reg.GetGlobal("Uptime_since_flush_status")
	require.Less(t, v, uint64(90), "FLUSH STATUS restarts it")
	_, v, _ = reg.GetGlobal("Uptime")
	require.GreaterOrEqual(t, v, uint64(90), "and not Uptime")
}
