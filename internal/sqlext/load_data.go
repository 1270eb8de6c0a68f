package sqlext

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/bulkload"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// LoadData takes MySQL's own LOAD DATA [LOCAL] INFILE so that it gets the
// bulk path of package bulkload as LOAD DATA FROM S3 does; the statement
// is the engine's, parsed by the engine's parser, and runs in the engine
// whenever the bulk path does not apply. LOCAL data, which the client
// sends over the connection, is copied to a temporary file first so that
// either path can read it.
//
// It also closes gaps in the engine's privilege check, which asks only for
// FILE: as in MySQL, LOAD DATA INFILE needs FILE and INSERT on the table
// (DELETE too for REPLACE), LOCAL the table privileges alone.
type LoadData struct {
	Runner     *bulkload.Runner
	Privileges *privilege.Checker // nil: FILE is not checked here
}

var _ Statement = LoadData{}

// erClientLocalFilesDisabled is MySQL's ER_CLIENT_LOCAL_FILES_DISABLED.
const erClientLocalFilesDisabled = 3948

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
	c.accept("LOCAL")
	if !c.accept("INFILE") {
		return nil, ast.AuthInformation{}, false, nil
	}
	parsed, err := ast.Parse(stmt)
	if err != nil {
		return nil, ast.AuthInformation{}, false, nil // the engine reports it
	}
	load, ok := parsed.(*ast.Load)
	if !ok {
		return nil, ast.AuthInformation{}, false, nil
	}
	// The table's privileges are checked when the engine binds the
	// statement; FILE (not for LOCAL) here.
	load.Auth = bulkload.TableAuth(load)
	run := func(ctx *sql.Context) (sql.RowIter, error) {
		if l.Privileges != nil && !l.Privileges.HasGlobal(ctx, sql.PrivilegeType_File) {
			return nil, privilege.Denied("FILE")
		}
		return l.Runner.Run(ctx, stmt, load)
	}
	if load.Local {
		run = func(ctx *sql.Context) (sql.RowIter, error) { return l.runLocal(ctx, *load) }
	}
	node := &stmtNode{desc: "LOAD DATA INFILE " + load.Infile, schema: types.OkResultSchema, run: run}
	return node, ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil
}

// runLocal copies the client's file to a temporary file and loads that as
// LOAD DATA INFILE with LOCAL's semantics (errors become warnings unless
// REPLACE, as MySQL does for LOCAL).
func (l LoadData) runLocal(ctx *sql.Context, load ast.Load) (sql.RowIter, error) {
	if _, v, _ := sql.SystemVariables.GetGlobal("local_infile"); fmt.Sprint(v) != "1" {
		return nil, mysql.NewSQLError(erClientLocalFilesDisabled, "42000",
			"Loading local data is disabled; this must be enabled on both the client and server sides")
	}
	src, err := ctx.LoadInfile(load.Infile)
	if err != nil {
		return nil, sql.ErrLoadDataCannotOpen.New(err.Error())
	}
	tmp, err := bulkload.TempFile(".sibyl-load-local-")
	if err != nil {
		_ = src.Close()
		return nil, fmt.Errorf("create temporary file for LOAD DATA LOCAL INFILE: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, err = io.Copy(tmp, src)
	if cerr := src.Close(); err == nil {
		err = cerr
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, sql.ErrLoadDataCannotOpen.New(err.Error())
	}
	load.Local = false
	load.Infile = tmp.Name()
	if load.IgnoreOrReplace == "" {
		load.IgnoreOrReplace = ast.IgnoreStr
	}
	return l.Runner.Run(ctx, ast.String(&load), &load)
}
