package sqlext

import (
	"context"

	"github.com/dolthub/go-mysql-server/sql"
)

// stmtNode is the plan node of a SibylDB statement: what it returns and the
// function that runs it. GMS executes it like any node, in the statement's
// transaction.
type stmtNode struct {
	desc     string
	schema   sql.Schema
	readOnly bool
	run      func(*sql.Context) (sql.RowIter, error)
}

var _ sql.ExecSourceRel = (*stmtNode)(nil)

func (n *stmtNode) Resolved() bool       { return true }
func (n *stmtNode) IsReadOnly() bool     { return n.readOnly }
func (n *stmtNode) String() string       { return n.desc }
func (n *stmtNode) Schema() sql.Schema   { return n.schema }
func (n *stmtNode) Children() []sql.Node { return nil }

func (n *stmtNode) CollationCoercibility(*sql.Context) (sql.CollationID, byte) {
	return sql.Collation_binary, 7
}

func (n *stmtNode) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(n, len(children), 0)
	}
	return n, nil
}

func (n *stmtNode) RowIter(ctx *sql.Context, _ sql.Row) (sql.RowIter, error) { return n.run(ctx) }

// sessionDB is the current database of the session parsing a statement
// ("" when parsing outside a session), for names written without one.
func sessionDB(ctx context.Context) string {
	if sctx, ok := ctx.(*sql.Context); ok && sctx.Session != nil {
		return sctx.GetCurrentDatabase()
	}
	return ""
}
