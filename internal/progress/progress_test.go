package progress

import (
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/stretchr/testify/require"
)

func TestReportStateAndPercent(t *testing.T) {
	cases := []struct {
		r       Report
		state   string
		percent float64
	}{
		{Report{Name: "scoring", Done: 5000, Total: 20000, Unit: "rows"}, "scoring: 5000/20000 rows", 25},
		{Report{Name: "loading", Done: 120000, Unit: "rows"}, "loading: 120000 rows", 0},
		{Report{Name: "training", Done: 3, Total: 10, Unit: "candidates", Stage: 2, MaxStage: 3}, "training: 3/10 candidates", 30},
		{Report{Name: "scoring", Done: 12, Total: 10, Unit: "rows"}, "scoring: 12/10 rows", 100},
	}
	for _, c := range cases {
		require.Equal(t, c.state, c.r.State())
		require.InDelta(t, c.percent, c.r.Percent(), 1e-9)
	}
}

// TestBeginNests: the innermost running report is the one shown; ending
// it shows the outer again, and ending all leaves nothing.
func TestBeginNests(t *testing.T) {
	ctx := sql.NewEmptyContext()
	conn := ctx.Session.ID()
	_, ok := Of(conn)
	require.False(t, ok)
	endOuter := Begin(ctx, func() Report { return Report{Name: "outer"} })
	endInner := Begin(ctx, func() Report { return Report{Name: "inner"} })
	r, ok := Of(conn)
	require.True(t, ok)
	require.Equal(t, "inner", r.Name)
	endInner()
	endInner() // idempotent
	r, _ = Of(conn)
	require.Equal(t, "outer", r.Name)
	endOuter()
	_, ok = Of(conn)
	require.False(t, ok)
}
