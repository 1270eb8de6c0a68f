package limits

import (
	"runtime"
	"sync"
	"weak"

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
// every node the executor builds, and builds none itself.
//
// A recursive CTE's executor builds its recursive part once per
// iteration, and that part reads the CTE's working table: so the builds
// of a *plan.RecursiveTable since its RecursiveCte was last built are the
// iterations of the current run. The counts are keyed by weak pointers,
// which do not keep cached plans alive, and removed when the plan is
// collected.
type recursionLimit struct {
	next sql.NodeExecBuilder

	mu   sync.Mutex
	runs map[weak.Pointer[plan.RecursiveTable]]int
}

// InstallRecursionLimit puts the cte_max_recursion_depth check in front of
// the engine's executor.
func InstallRecursionLimit(b *rowexec.BaseBuilder) {
	if _, ok := b.PriorityBuilder.(*recursionLimit); !ok {
		b.PriorityBuilder = &recursionLimit{next: b.PriorityBuilder, runs: map[weak.Pointer[plan.RecursiveTable]]int{}}
	}
}

// Build implements sql.NodeExecBuilder.
func (r *recursionLimit) Build(ctx *sql.Context, n sql.Node, row sql.Row) (sql.RowIter, error) {
	switch n := n.(type) {
	case *plan.RecursiveCte:
		if n.Working != nil {
			r.start(n.Working)
		}
	case *plan.RecursiveTable:
		if err := r.iterate(ctx, n); err != nil {
			return nil, err
		}
	}
	if r.next == nil {
		return nil, nil
	}
	return r.next.Build(ctx, n, row)
}

func (r *recursionLimit) start(w *plan.RecursiveTable) {
	key := weak.Make(w)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.runs[key]; !ok {
		runtime.AddCleanup(w, r.forget, key)
	}
	r.runs[key] = 0
}

func (r *recursionLimit) forget(key weak.Pointer[plan.RecursiveTable]) {
	r.mu.Lock()
	delete(r.runs, key)
	r.mu.Unlock()
}

func (r *recursionLimit) iterate(ctx *sql.Context, w *plan.RecursiveTable) error {
	key := weak.Make(w)
	r.mu.Lock()
	n, ok := r.runs[key]
	if ok {
		n++
		r.runs[key] = n
	}
	r.mu.Unlock()
	if !ok {
		return nil // not under a RecursiveCte we saw start
	}
	depth := int64(1000)
	if v, err := ctx.GetSessionVariable(ctx, "cte_max_recursion_depth"); err == nil {
		if d, ok := toInt64(v); ok {
			depth = d
		}
	}
	if int64(n) > depth {
		return mysql.NewSQLError(ErrCTEMaxRecursionDepth, "HY000",
			"Recursive query aborted after %d iterations. Try increasing @@cte_max_recursion_depth to a larger value.", n)
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
