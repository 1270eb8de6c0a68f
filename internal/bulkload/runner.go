package bulkload

import (
	"errors"
	"io/fs"
	"os"
	"sync/atomic"
	"syscall"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/fileaccess"
	"github.com/sibyldb/sibyldb/internal/progress"
	"github.com/sibyldb/sibyldb/internal/status"
)

// Variable turns the bulk path off (session or global), for comparison
// or should it misbehave: every load then runs the engine's LOAD DATA.
const Variable = "sibyl_load_data_fast_path"

// SystemVariables are the variables this package reads.
func SystemVariables() []sql.SystemVariable {
	return []sql.SystemVariable{SwitchVariable(Variable)}
}

// SwitchVariable is a boolean system variable, ON by default, of session
// and global scope, that turns a fast path off.
func SwitchVariable(name string) sql.SystemVariable {
	return &sql.MysqlSystemVariable{
		Name:    name,
		Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
		Dynamic: true,
		Type:    types.NewSystemBoolType(name),
		Default: int8(1),
	}
}

// SwitchOn reports whether the switch variable name is on in ctx's
// session (on when it is not registered).
func SwitchOn(ctx *sql.Context, name string) bool {
	v, err := ctx.GetSessionVariable(ctx, name)
	if err != nil {
		return true
	}
	switch b := v.(type) {
	case int8:
		return b != 0
	case bool:
		return b
	}
	return true
}

// Runner runs a LOAD DATA INFILE statement in the caller's session: by
// the bulk path when Load applies, otherwise by the engine, reading the
// file with source (MySQL's reading rules). It is shared by all sessions
// and holds no state of its own.
type Runner struct {
	// Plan binds and analyzes a parsed statement without running it
	// (privilege checks included), as the insert it is, so that the
	// table's INSERT triggers are in the plan.
	Plan func(ctx *sql.Context, q string, parsed ast.Statement) (sql.Node, error)
	// Exec runs an analyzed plan.
	Exec func(ctx *sql.Context, q string, node sql.Node) (sql.RowIter, error)
	// Fast and Engine count the statements each path ran; either may be nil.
	Fast, Engine *status.Counter
}

// Run runs load (whose text is q) and returns its result, already drained
// so the caller may remove the file afterwards. LOCAL loads arrive here as
// a file of the server's (sqlext.LoadData copies them).
func (r *Runner) Run(ctx *sql.Context, q string, load *ast.Load) (sql.RowIter, error) {
	node, err := r.Plan(ctx, q, load)
	if err != nil {
		return nil, err
	}
	var loaded atomic.Int64
	end := progress.Begin(ctx, func() progress.Report {
		return progress.Report{Name: "loading", Done: loaded.Load(), Unit: "rows"}
	})
	defer end()
	if SwitchOn(ctx, Variable) {
		res, err := Load(ctx, node, &loaded)
		if err != nil {
			return nil, err
		}
		if res.Applied {
			count(r.Fast)
			return sql.RowsToRowIter(sql.NewRow(types.NewOkResult(int(res.Rows)))), nil
		}
		ctx.GetLogger().Debugf("LOAD DATA runs the engine's row-at-a-time path: %s", res.Reason)
	}
	count(r.Engine)
	// The fast path may have counted rows before it gave up.
	loaded.Store(0)
	if node, err = withSource(node, load, &loaded); err != nil {
		return nil, err
	}
	iter, err := r.Exec(ctx, q, node)
	if err != nil {
		return nil, err
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return sql.RowsToRowIter(sql.NewRow(types.NewOkResult(0))), nil
	}
	return sql.RowsToRowIter(rows...), nil
}

func count(c *status.Counter) {
	if c != nil {
		c.Add(1)
	}
}

// TempFile creates a file for data to be loaded: in secure_file_priv, so
// that the engine's LOAD DATA INFILE may read it too, or the system's
// temporary directory when secure_file_priv is empty. The caller removes it.
func TempFile(prefix string) (*os.File, error) {
	dir := SecureFilePriv()
	if dir == "" {
		dir = os.TempDir()
	}
	return os.CreateTemp(dir, prefix+"*")
}

// TableAuth is the privilege check LOAD DATA needs on its target table,
// as MySQL: INSERT, and DELETE too for REPLACE. The engine's own check
// for LOAD DATA INFILE is FILE alone, and LOAD DATA FROM S3 needs no FILE
// at all, so both set this on the statement before the engine binds it.
func TableAuth(load *ast.Load) ast.AuthInformation {
	t := ast.AuthType_INSERT
	if load.IgnoreOrReplace == ast.ReplaceStr {
		t = ast.AuthType_REPLACE
	}
	return ast.AuthInformation{AuthType: t, TargetType: ast.AuthTargetType_SingleTableIdentifier,
		TargetNames: []string{load.Table.DbQualifier.String(), load.Table.Name.String()}}
}

// ErFileNotFound is MySQL's ER_FILE_NOT_FOUND: LOAD DATA of a file that
// cannot be opened.
const ErFileNotFound = 29

// erCantGetStat is MySQL's ER_CANT_GET_STAT: LOAD DATA of a file that does
// not exist (MySQL looks at it before opening it).
const erCantGetStat = 13

// openFile opens a LOAD DATA INFILE file for either path, with MySQL's
// errors when secure_file_priv forbids it or it cannot be opened. The
// file must be a regular file whose real path is inside secure_file_priv
// (see fileaccess).
func openFile(path string) (*os.File, error) {
	f, err := fileaccess.Open(SecureFilePriv(), path)
	if err == nil {
		return f, nil
	}
	if errors.Is(err, fileaccess.ErrOutside) || errors.Is(err, fileaccess.ErrNoDir) {
		return nil, fileaccess.ErrOutsideStatement()
	}
	// A FIFO or device is refused (it could block or never end): EINVAL.
	e := syscall.EINVAL
	errors.As(err, &e)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, mysql.NewSQLError(erCantGetStat, "HY000", "Can't get stat of '%s' (OS errno %d - %s)", path, int(syscall.ENOENT), syscall.ENOENT.Error())
	}
	return nil, mysql.NewSQLError(ErFileNotFound, "HY000", "File '%s' not found (OS errno %d - %s)", path, int(e), e.Error())
}

// SecureFilePriv is the directory file I/O is confined to, as MySQL's
// secure_file_priv; empty means anywhere.
func SecureFilePriv() string { return fileaccess.SecureFilePriv() }
