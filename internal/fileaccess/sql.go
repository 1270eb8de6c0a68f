package fileaccess

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
)

// HasFile reports whether the session's user holds the FILE privilege.
type HasFile func(ctx *sql.Context) bool

// SecureFilePriv is the directory SQL file I/O is confined to: the global
// secure_file_priv, which is read-only while the server runs.
func SecureFilePriv() string {
	_, v, _ := sql.SystemVariables.GetGlobal("secure_file_priv")
	dir, _ := v.(string)
	return dir
}

// ErrOutsideStatement is MySQL's ER_OPTION_PREVENTS_STATEMENT for a path
// outside secure_file_priv.
func ErrOutsideStatement() error {
	return mysql.NewSQLError(mysql.EROptionPreventsStatement, "HY000",
		"The MySQL server is running with the --secure-file-priv option so it cannot execute this statement")
}

// fileDenied is MySQL's answer to a file statement without FILE.
func fileDenied() error {
	return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
		"Access denied; you need (at least one of) the FILE privilege(s) for this operation")
}

// InstallInto puts SibylDB's SELECT ... INTO OUTFILE / DUMPFILE in front of
// the engine's, whose confinement compares strings and follows links and
// which needs no privilege: here the statement needs FILE and the file is
// made by Create.
func InstallInto(b *rowexec.BaseBuilder, hasFile HasFile) {
	if _, ok := b.PriorityBuilder.(intoBuilder); ok {
		return
	}
	b.PriorityBuilder = intoBuilder{next: b.PriorityBuilder, base: b, hasFile: hasFile}
}

type intoBuilder struct {
	next    sql.NodeExecBuilder
	base    *rowexec.BaseBuilder
	hasFile HasFile
}

// Build implements sql.NodeExecBuilder.
func (ib intoBuilder) Build(ctx *sql.Context, n sql.Node, r sql.Row) (sql.RowIter, error) {
	into, ok := n.(*plan.Into)
	if !ok || into.Outfile == "" && into.Dumpfile == "" {
		if ib.next == nil {
			return nil, nil
		}
		return ib.next.Build(ctx, n, r)
	}
	if ib.hasFile != nil && !ib.hasFile(ctx) {
		return nil, fileDenied()
	}
	iter, err := ib.base.Build(ctx, into.Child, r)
	if err != nil {
		return nil, err
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		return nil, err
	}
	if into.Outfile != "" {
		err = writeFile(into.Outfile, func(w *bufio.Writer) { writeOutfile(w, into, rows) })
		if err != nil {
			return nil, err
		}
		return sql.RowsToRowIter(sql.Row{types.NewOkResult(len(rows))}), nil
	}
	if len(rows) > 1 {
		return nil, sql.ErrMoreThanOneRow.New()
	}
	err = writeFile(into.Dumpfile, func(w *bufio.Writer) {
		for _, row := range rows {
			for _, v := range row {
				fmt.Fprintf(w, "%v", v)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(sql.Row{types.NewOkResult(len(rows))}), nil
}

// writeFile creates path inside secure_file_priv and writes it, with
// MySQL's errors.
func writeFile(path string, write func(*bufio.Writer)) error {
	f, err := Create(SecureFilePriv(), path, 0o640)
	switch {
	case err == nil:
	case errors.Is(err, ErrOutside) || errors.Is(err, ErrNoDir):
		return ErrOutsideStatement()
	case errors.Is(err, fs.ErrExist):
		return mysql.NewSQLError(1086, "HY000", "File '%s' already exists", path)
	default:
		return cantCreate(path, err)
	}
	w := bufio.NewWriter(f)
	write(w)
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cantCreate(path, err)
	}
	return nil
}

// cantCreate is MySQL's ER_CANT_CREATE_FILE.
func cantCreate(path string, err error) error {
	e := syscall.EIO
	errors.As(err, &e)
	return mysql.NewSQLError(1, "HY000", "Can't create/write to file '%s' (OS errno %d - %s)", path, int(e), e.Error())
}

// writeOutfile writes rows in the engine's INTO OUTFILE format.
func writeOutfile(w *bufio.Writer, n *plan.Into, rows []sql.Row) {
	sch := n.Child.Schema()
	for _, r := range rows {
		w.WriteString(n.LinesStartingBy)
		for i, val := range r {
			if i != 0 {
				w.WriteString(n.FieldsTerminatedBy)
			}
			if val == nil {
				if len(n.FieldsEscapedBy) == 0 {
					w.WriteString("NULL")
				} else {
					w.WriteString(n.FieldsEscapedBy + "N")
				}
				continue
			}
			if !n.FieldsEnclosedByOpt || types.IsText(sch[i].Type) {
				if s, ok := val.(string); ok {
					if len(n.LinesTerminatedBy) != 0 {
						s = strings.ReplaceAll(s, n.LinesTerminatedBy, n.FieldsEscapedBy+n.LinesTerminatedBy)
					}
					fmt.Fprintf(w, "%s%v%s", n.FieldsEnclosedBy, s, n.FieldsEnclosedBy)
				} else {
					fmt.Fprintf(w, "%s%v%s", n.FieldsEnclosedBy, val, n.FieldsEnclosedBy)
				}
			} else {
				fmt.Fprintf(w, "%v", val)
			}
		}
		w.WriteString(n.LinesTerminatedBy)
	}
}

// Functions puts SibylDB's LOAD_FILE in front of next (the provider GMS
// consults before its built-ins).
func Functions(next sql.FunctionProvider, hasFile HasFile) sql.FunctionProvider {
	return functions{next: next, hasFile: hasFile}
}

type functions struct {
	next    sql.FunctionProvider
	hasFile HasFile
}

// Function implements sql.FunctionProvider.
func (p functions) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	if strings.EqualFold(name, "load_file") {
		return sql.Function1{Name: "load_file", Fn: func(e sql.Expression) sql.Expression {
			return &LoadFile{Arg: e, hasFile: p.hasFile}
		}}, true
	}
	if p.next == nil {
		return nil, false
	}
	return p.next.Function(ctx, name)
}

// LoadFile is MySQL's LOAD_FILE(path): the file's bytes, or NULL when the
// user lacks FILE, the file is outside secure_file_priv, is not a regular
// readable file, or is larger than max_allowed_packet.
type LoadFile struct {
	Arg     sql.Expression
	hasFile HasFile
}

var _ sql.FunctionExpression = (*LoadFile)(nil)

// FunctionName implements sql.FunctionExpression.
func (l *LoadFile) FunctionName() string { return "load_file" }

// Description implements sql.FunctionExpression.
func (l *LoadFile) Description() string {
	return "returns the contents of a file inside secure_file_priv (FILE privilege)."
}

// Resolved implements sql.Expression.
func (l *LoadFile) Resolved() bool { return l.Arg.Resolved() }

// String implements sql.Expression.
func (l *LoadFile) String() string { return fmt.Sprintf("LOAD_FILE(%s)", l.Arg) }

// Type implements sql.Expression.
func (l *LoadFile) Type() sql.Type { return types.LongBlob }

// IsNullable implements sql.Expression.
func (l *LoadFile) IsNullable() bool { return true }

// CollationCoercibility implements sql.CollationCoercible.
func (l *LoadFile) CollationCoercibility(*sql.Context) (sql.CollationID, byte) {
	return sql.Collation_binary, 5
}

// Children implements sql.Expression.
func (l *LoadFile) Children() []sql.Expression { return []sql.Expression{l.Arg} }

// WithChildren implements sql.Expression.
func (l *LoadFile) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(l, len(children), 1)
	}
	return &LoadFile{Arg: children[0], hasFile: l.hasFile}, nil
}

// Eval implements sql.Expression.
func (l *LoadFile) Eval(ctx *sql.Context, row sql.Row) (interface{}, error) {
	v, err := l.Arg.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	if l.hasFile != nil && !l.hasFile(ctx) {
		return nil, nil
	}
	name, _, err := types.LongText.Convert(ctx, v)
	if err != nil {
		return nil, nil
	}
	limit := int64(64 << 20)
	if m, err := ctx.GetSessionVariable(ctx, "max_allowed_packet"); err == nil {
		if n, ok := m.(int64); ok {
			limit = n
		}
	}
	data, err := ReadFile(SecureFilePriv(), name.(string), limit)
	if err != nil {
		// MySQL: NULL whatever the reason, so that it tells nothing.
		return nil, nil
	}
	return data, nil
}
