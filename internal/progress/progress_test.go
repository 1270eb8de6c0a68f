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

func TestJobsAreListedUntilTheyEnd(t *testing.T) {
	n := 0
	end1 := StartJob("ann", "localhost", "db", "CREATE MODEL db.a", func() Report { n++; return Report{Name: "training: 10% rows"} })
	end2 := StartJob("bob", "%", "db", "CREATE MODEL db.b", func() Report { return Report{Name: "training", Done: 1, Total: 4, Unit: "candidates"} })
	jobs := Jobs()
	if len(jobs) != 2 || jobs[0].Info != "CREATE MODEL db.a" || jobs[1].User != "bob" {
		t.Fatalf("jobs = %+v", jobs)
	}
	if jobs[0].ID <= 1<<32 || jobs[1].ID <= jobs[0].ID {
		t.Fatalf("ids %d, %d: above connection ids, in start order", jobs[0].ID, jobs[1].ID)
	}
	if got := jobs[0].Report().State(); got != "training: 10% rows" || n != 1 {
		t.Fatalf("free-text state %q (asked %d times)", got, n)
	}
	if got := jobs[1].Report().State(); got != "training: 1/4 candidates" {
		t.Fatalf("state %q", got)
	}
	end1()
	if jobs := Jobs(); len(jobs) != 1 || jobs[0].User != "bob" {
		t.Fatalf("after end: %+v", jobs)
	}
	end2()
	if len(Jobs()) != 0 {
		t.Fatal("jobs left")
	}
}
