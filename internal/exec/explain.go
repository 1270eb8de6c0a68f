package exec

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
)

// explainBuilder answers plain (traditional) EXPLAIN with MySQL's tabular
// rows, one per table access, mapped from the analyzed plan (see
// explainRows); GMS prints only a placeholder row there. EXPLAIN PLAN
// keeps GMS's plan text; EXPLAIN FORMAT=TREE and EXPLAIN ANALYZE are
// ExplainTree. Under EXPLAIN ANALYZE it counts every operator's rows and
// time. It is a priority builder: every other node goes to next, then to
// GMS's own builder.
type explainBuilder struct {
	next sql.NodeExecBuilder
	// base is the engine's builder, through which EXPLAIN ANALYZE builds
	// an operator it counts.
	base sql.NodeExecBuilder
}

// InstallExplain puts the EXPLAIN builder in front of the engine's executor.
func InstallExplain(b *rowexec.BaseBuilder) {
	if _, ok := b.PriorityBuilder.(explainBuilder); !ok {
		b.PriorityBuilder = explainBuilder{next: b.PriorityBuilder, base: b}
	}
}

// Build implements sql.NodeExecBuilder.
func (e explainBuilder) Build(ctx *sql.Context, n sql.Node, r sql.Row) (sql.RowIter, error) {
	if d, ok := n.(*plan.DescribeQuery); ok && !d.Format.Plan && !d.Format.Analyze {
		return sql.RowsToRowIter(explainRows(ctx, d.Child)...), nil
	}
	if a := analyzing(ctx); a != nil {
		if iter, ok, err := a.instrument(ctx, e.base, n, r); ok {
			return iter, err
		}
	}
	if e.next == nil {
		return nil, nil
	}
	return e.next.Build(ctx, n, r)
}
