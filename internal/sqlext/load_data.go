package sqlext

import (
	"context"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/bulkload"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// LoadData takes MySQL's own LOAD DATA INFILE (from a file on the server,
// inside secure_file_priv) so that it gets the bulk path of package
// bulkload as LOAD DATA FROM S3 does; the statement is the engine's, parsed
// by the engine's parser, and runs in the engine whenever the bulk path
// does not apply. LOAD DATA LOCAL INFILE (data sent by the client) and
// LOAD DATA FROM S3 are left to the engine and to S3Statements.
//
// It also closes a gap in the engine's privilege check, which asks only
// for FILE: as in MySQL, the statement needs FILE and INSERT on the table
// (and DELETE for REPLACE).
type LoadData struct {
	Runner     *bulkload.Runner
	Privileges *privilege.Checker // nil: FILE is not checked here
}

var _ Statement = LoadData{}

// Keywords implements Statement.
func (l LoadData) Keywords() []string { return []string{"LOAD"} }

// Parse implements Statement.
func (l LoadData) Parse(_ context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	toks, err := Tokens(stmt)
	if err != nil {
		return nil, ast.AuthInformation{}, false, nil
	}
	c := &cursor{toks: toks}
	if !c.accept("LOAD", "DATA") {
		return nil, ast.AuthInformation{}, false, nil
	}
	if !c.accept("LOW_PRIORITY") {
		c.accept("CONCURRENT")
	}
	if !c.accept("INFILE") {
		return nil, ast.AuthInformation{}, false, nil
	}
	parsed, err := ast.Parse(stmt)
	if err != nil {
		return nil, ast.AuthInformation{}, false, nil // the engine reports it
	}
	load, ok := parsed.(*ast.Load)
	if !ok || bool(load.Local) {
		return nil, ast.AuthInformation{}, false, nil
	}
	// FILE is checked here, the table's privileges when the engine binds
	// the statement.
	load.Auth = bulkload.TableAuth(load)
	node := &stmtNode{desc: "LOAD DATA INFILE " + load.Infile, schema: types.OkResultSchema,
		run: func(ctx *sql.Context) (sql.RowIter, error) {
			if l.Privileges != nil && !l.Privileges.HasGlobal(ctx, sql.PrivilegeType_File) {
				return nil, privilege.Denied("FILE")
			}
			return l.Runner.Run(ctx, stmt, load)
		}}
	return node, ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil
}
