package sqlext

import (
	"context"
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// Flusher resets a set of counters; status.Registry is one.
type Flusher interface {
	Flush()
}

// FlushStatus is MySQL's `FLUSH [LOCAL | NO_WRITE_TO_BINLOG] STATUS`, which
// GMS does not support: it zeroes the server's global counters and the
// calling session's status variables.
type FlushStatus struct {
	Counters Flusher
}

var _ Statement = FlushStatus{}

// Keywords implements Statement.
func (f FlushStatus) Keywords() []string { return []string{"FLUSH"} }

// Parse implements Statement.
func (f FlushStatus) Parse(_ context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	toks, err := Tokens(stmt)
	if err != nil {
		return nil, ast.AuthInformation{}, false, nil
	}
	if len(toks) >= 2 && (toks[1].Is("LOCAL") || toks[1].Is("NO_WRITE_TO_BINLOG")) {
		toks = append(toks[:1], toks[2:]...)
	}
	if len(toks) != 2 || !toks[1].Is("STATUS") {
		return nil, ast.AuthInformation{}, false, nil
	}
	// MySQL requires RELOAD for every FLUSH; vitess's own FLUSH uses this
	// same authorisation, so GMS checks it before the node runs.
	auth := ast.AuthInformation{
		AuthType:    ast.AuthType_RELOAD,
		TargetType:  ast.AuthTargetType_DatabaseIdentifiers,
		TargetNames: []string{"mysql"},
	}
	node := &stmtNode{desc: "FLUSH STATUS", schema: types.OkResultSchema, readOnly: true,
		run: func(ctx *sql.Context) (sql.RowIter, error) {
			if f.Counters != nil {
				f.Counters.Flush()
			}
			for name, v := range ctx.Session.GetAllStatusVariables(ctx) {
				if _, ok := v.Value().(uint64); !ok {
					continue
				}
				if err := ctx.Session.SetStatusVariable(ctx, name, uint64(0)); err != nil {
					return nil, fmt.Errorf("flush status %s: %w", name, err)
				}
			}
			return okResult(0), nil
		}}
	return node, auth, true, nil
}
