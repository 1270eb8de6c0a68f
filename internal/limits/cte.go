package limits

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
	"github.com/dolthub/vitess/go/mysql"
)

// ErrCTEMaxRecursionDepth is MySQL's ER_CTE_MAX_RECURSION_DEPTH.
const ErrCTEMaxRecursionDepth = 3636

// recursionLimit applies cte_max_recursion_depth, which go-mysql-server
// defines but ignores (it stops every recursive CTE after a fixed 10,001
// iterations, with a generic error). It is a priority builder: it sees
// every node the executor builds.
//
// A recursive CTE's iterator builds its recursive part once per
// iteration, through the builder that built the CTE. So each run of a CTE
// is built by a copy of the engine's builder whose priority builder (a
// cteRun) counts that run's builds of the CTE's working table: the count
// belongs to the run, however the plan shares nodes between runs (a CTE
// joined with itself is two interleaved runs over one plan node).
type recursionLimit struct {
	base *rowexec.BaseBuilder
	next sql.NodeExecBuilder
}

// InstallRecursionLimit puts the cte_max_recursion_depth check in front of
// the engine's executor.
func InstallRecursionLimit(b *rowexec.BaseBuilder) {
	if _, ok := b.PriorityBuilder.(*recursionLimit); !ok {
		b.PriorityBuilder = &recursionLimit{base: b, next: b.PriorityBuilder}
	}
}

// Build implements sql.NodeExecBuilder.
func (r *recursionLimit) Build(ctx *sql.Context, n sql.Node, row sql.Row) (sql.RowIter, error) {
	if cte, ok := n.(*plan.RecursiveCte); ok {
		run := *r.base
		run.PriorityBuilder = &cteRun{limit: r, cte: cte}
		return run.Build(ctx, cte, row)
	}
	if r.next == nil {
		return nil, nil
	}
	return r.next.Build(ctx, n, row)
}

// cteRun is the priority builder of one run of a recursive CTE.
type cteRun struct {
	limit      *recursionLimit
	cte        *plan.RecursiveCte
	started    bool
	iterations int64
}

// Build implements sql.NodeExecBuilder.
func (c *cteRun) Build(ctx *sql.Context, n sql.Node, row sql.Row) (sql.RowIter, error) {
	switch n := n.(type) {
	case *plan.RecursiveCte:
		if n == c.cte && !c.started {
			c.started = true
			return nil, nil // GMS builds the run's iterator, over this builder
		}
		return c.limit.Build(ctx, n, row) // a CTE within: a run of its own
	case *plan.RecursiveTable:
		if n == c.cte.Working {
			if err := c.iterate(ctx); err != nil {
				return nil, err
			}
		}
	}
	if c.limit.next == nil {
		return nil, nil
	}
	return c.limit.next.Build(ctx, n, row)
}

func (c *cteRun) iterate(ctx *sql.Context) error {
	c.iterations++
	depth := int64(1000)
	if v, err := ctx.GetSessionVariable(ctx, "cte_max_recursion_depth"); err == nil {
		if d, ok := toInt64(v); ok {
			depth = d
		}
	}
	if c.iterations > depth {
		return mysql.NewSQLError(ErrCTEMaxRecursionDepth, "HY000",
			"Recursive query aborted after %d iterations. Try increasing @@cte_max_recursion_depth to a larger value.", c.iterations)
	}
	return nil
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		return int64(min(n, 1<<62)), true
	case int32:
		return int64(n), true
	case uint32:
		return int64(n), true
	case int:
		return int64(n), true
	}
	return 0, false
}
