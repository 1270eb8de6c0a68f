package exec

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// explainBuilder answers plain (traditional) EXPLAIN with MySQL's tabular
// rows, one per table access, mapped from the analyzed plan (see
// explainRows); GMS prints only a placeholder row there. EXPLAIN
// FORMAT=TREE and EXPLAIN PLAN keep GMS's plan text, which prints the
// Batch node itself. It is a priority builder: every other node goes to
// next, then to GMS's own builder.
type explainBuilder struct {
	next sql.NodeExecBuilder
}

// InstallExplain puts the EXPLAIN builder in front of the engine's executor.
func InstallExplain(b *rowexec.BaseBuilder) {
	if _, ok := b.PriorityBuilder.(explainBuilder); !ok {
		b.PriorityBuilder = explainBuilder{next: b.PriorityBuilder}
	}
}

// Build implements sql.NodeExecBuilder.
func (e explainBuilder) Build(ctx *sql.Context, n sql.Node, r sql.Row) (sql.RowIter, error) {
	if d, ok := n.(*plan.DescribeQuery); ok && !d.Format.Plan && !d.Format.Analyze {
		return sql.RowsToRowIter(explainRows(ctx, d.Child)...), nil
	}
	if e.next == nil {
		return nil, nil
	}
	return e.next.Build(ctx, n, r)
}

func containsBatch(n sql.Node) bool {
	return transform.InspectUp(n, func(n sql.Node) bool {
		_, ok := n.(*Batch)
		return ok
	})
}
