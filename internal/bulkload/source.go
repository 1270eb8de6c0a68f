package bulkload

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/encodings"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/dataio"
)

// source stands in for the engine's plan.LoadData, the row source under
// LOAD DATA's InsertInto, when the engine path runs. The engine keeps
// inserting (conversions, defaults, triggers, IGNORE and REPLACE); source
// only reads the file, by MySQL's rules where the engine's reader differs:
//   - an enclosed field may hold line terminators, and an escape may
//     escape one;
//   - the word NULL is NULL only unenclosed and only when ENCLOSED BY is
//     set ("NULL" and, in the TEXT format, NULL are text); \N is NULL only
//     as a whole field;
//   - a doubled enclosure inside an enclosed field is one enclosure;
//   - a line with too few fields is error 1261 and one with too many 1262;
//   - NULL into a NOT NULL column is error 1263;
//   - an empty or all-space field for a numeric or temporal column is
//     error 1366 or 1292 (the engine would store NULL or zero);
//   - IGNORE n LINES skips records, so a header with a quoted line break
//     is skipped whole.
//
// In strict mode, without IGNORE, each of these errors ends the
// statement, which then changes nothing; with IGNORE (and for LOCAL, which
// implies it) or outside strict mode they are warnings and the value is the
// column type's zero, as MySQL stores.
type source struct {
	*plan.LoadData
	fields []fieldDest
	loaded *atomic.Int64 // nil: not counted
}

// fieldDest is one entry of the statement's column and variable list: a
// column of the table (its index in DestSch) or a user variable.
type fieldDest struct {
	col     int
	userVar string
}

var _ sql.ExecBuilderNode = (*source)(nil)

// withSource replaces the plan's LoadData with a source reading by the
// column and variable list of load.
// loaded, when set, counts the rows read, for PROCESSLIST's progress.
func withSource(node sql.Node, load *ast.Load, loaded *atomic.Int64) (sql.Node, error) {
	replaced := false
	out, _, err := transform.Node(node, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		// The insert's source is not among its children.
		ins, ok := n.(*plan.InsertInto)
		if !ok {
			return n, transform.SameTree, nil
		}
		src, same, err := transform.Node(ins.Source, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
			ld, ok := n.(*plan.LoadData)
			if !ok {
				return n, transform.SameTree, nil
			}
			fields, err := fieldDestsOf(ld, load)
			if err != nil {
				return nil, transform.SameTree, err
			}
			replaced = true
			return &source{LoadData: ld, fields: fields, loaded: loaded}, transform.NewTree, nil
		})
		if err != nil || same {
			return n, transform.SameTree, err
		}
		return ins.WithSource(src), transform.NewTree, nil
	})
	if err == nil && !replaced {
		err = fmt.Errorf("LOAD DATA plan without its row source: %s", sql.DebugString(node))
	}
	return out, err
}

func fieldDestsOf(ld *plan.LoadData, load *ast.Load) ([]fieldDest, error) {
	if len(load.Columns) == 0 {
		ts := make([]fieldDest, len(ld.DestSch))
		for i := range ts {
			ts[i] = fieldDest{col: i}
		}
		return ts, nil
	}
	ts := make([]fieldDest, 0, len(load.Columns))
	for _, c := range load.Columns {
		name := c.String()
		// As the engine's binder: @x names a user variable unless the
		// table has a column called @x.
		if strings.HasPrefix(name, "@") && ld.DestSch.IndexOfColName(name) < 0 {
			ts = append(ts, fieldDest{col: -1, userVar: strings.TrimPrefix(name, "@")})
			continue
		}
		i := ld.DestSch.IndexOfColName(name)
		if i < 0 {
			return nil, sql.ErrTableColumnNotFound.New(ld.DestSch[0].Source, name)
		}
		ts = append(ts, fieldDest{col: i})
	}
	return ts, nil
}

// WithChildren implements sql.Node.
func (s *source) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(s, len(children), 0)
	}
	return s, nil
}

// BuildRowIter implements sql.ExecBuilderNode.
func (s *source) BuildRowIter(ctx *sql.Context, _ sql.NodeExecBuilder, _ sql.Row) (sql.RowIter, error) {
	file, err := openFile(s.File)
	if err != nil {
		return nil, err
	}
	f, ok := formatOf(s.LoadData)
	if !ok {
		_ = file.Close()
		return nil, fmt.Errorf("LOAD DATA with an empty FIELDS or LINES TERMINATED BY is not supported")
	}
	charset, err := dataio.Charset(s.Charset)
	if err != nil {
		_ = file.Close()
		return nil, err
	}
	it := &sourceIter{src: s, file: file, format: f, skip: s.IgnoreNum, charset: charset,
		warnOnly: s.IsIgnore || !sql.LoadSqlMode(ctx).Strict()}
	it.r = newRecordReader(file, &it.format)
	// Output positions follow the engine's LoadData: the insert's column
	// list, or the whole table.
	if len(s.ColNames) == 0 {
		it.out = make([]int, len(s.DestSch))
		for i := range it.out {
			it.out[i] = i
		}
	} else {
		for _, name := range s.ColNames {
			it.out = append(it.out, s.DestSch.IndexOfColName(name))
		}
	}
	return it, nil
}

// MySQL's codes for a line with too few or too many fields
// (ER_WARN_TOO_FEW_RECORDS, ER_WARN_TOO_MANY_RECORDS) and for NULL into NOT
// NULL, which vitess does not name.
const (
	erWarnTooFewRecords  = 1261
	erWarnTooManyRecords = 1262
	erWarnNullToNotNull  = 1263 // ER_WARN_NULL_TO_NOTNULL
)

type sourceIter struct {
	src      *source
	file     io.Closer
	format   format
	r        *recordReader
	out      []int // output position -> DestSch index
	skip     int64
	warnOnly bool
	row      int // records read, for "at row N"
	done     bool
	charset  encodings.Encoder // nil: fields are UTF-8 already
	pending  error             // 1262 for the row just returned, in strict mode
	late     []*sql.Warning    // 1261 and 1262 warnings for the row just returned

	// engineFails says the row has a field the engine will refuse to
	// convert; MySQL reports that field's error before any problem found
	// in later fields, so those are left to the engine too.
	engineFails bool
}

// Next implements sql.RowIter.
func (it *sourceIter) Next(ctx *sql.Context) (sql.Row, error) {
	if err := it.pending; err != nil {
		it.pending = nil
		return nil, err
	}
	// The field-count warnings of the row returned last come after the
	// engine's warnings for it (its conversions and duplicates), which
	// MySQL raises while it reads the fields and stores the row.
	for _, w := range it.late {
		ctx.Session.Warn(w)
	}
	it.late = it.late[:0]
	for ; it.skip > 0 && !it.done; it.skip-- {
		for it.r.readField() {
		}
		it.done = !it.r.nextLine()
	}
	if it.done {
		return nil, io.EOF
	}
	sch := it.src.DestSch
	vals := make(sql.Row, len(sch))
	read := 0
	it.engineFails = false
	for _, t := range it.src.fields {
		if !it.r.readField() {
			break
		}
		read++
		var v any
		if !it.r.isNull() {
			field := it.r.field
			if it.charset != nil {
				decoded, ok := it.charset.Decode(field)
				if !ok {
					return nil, mysql.NewSQLError(mysql.ERInvalidCharacterString, "HY000",
						"Invalid %s character string: '%s'", it.src.Charset, field)
				}
				field = decoded
			}
			v = string(field)
		}
		if t.col < 0 {
			if err := setUserVar(ctx, t.userVar, v); err != nil {
				return nil, err
			}
			continue
		}
		var err error
		if vals[t.col], err = it.value(ctx, sch[t.col], v); err != nil {
			return nil, err
		}
	}
	if err := it.r.err; err != nil {
		return nil, fmt.Errorf("read %s: %w", it.src.File, err)
	}
	if read == 0 && it.r.eof {
		it.done = true
		return nil, io.EOF
	}
	it.row++
	for _, t := range it.src.fields[read:] {
		if t.col < 0 {
			if err := setUserVar(ctx, t.userVar, nil); err != nil {
				return nil, err
			}
			continue
		}
		// MySQL resets a column without data to its type's zero, but a
		// nullable column keeps a NULL default.
		col := sch[t.col]
		if !col.AutoIncrement && (!col.Nullable || (col.Default != nil && !isNullDefault(col.Default))) {
			vals[t.col] = col.Type.Zero()
		}
		if err := it.rowProblem(mysql.NewSQLError(erWarnTooFewRecords, "01000",
			"Row %d doesn't contain data for all columns", it.row)); err != nil {
			return nil, err
		}
	}
	// MySQL reports a line's extra fields after storing its row, and not
	// at all for the input's last line.
	it.done = !it.r.nextLine()
	if it.r.lineCut && !it.done {
		it.pending = it.rowProblem(mysql.NewSQLError(erWarnTooManyRecords, "01000",
			"Row %d was truncated; it contained more data than there were input columns", it.row))
	}
	row := make(sql.Row, len(sch))
	for k, c := range it.out {
		if c < 0 {
			continue
		}
		if set := it.src.SetExprs; set != nil && set[c] != nil {
			v, err := set[c].Eval(ctx, vals)
			if err != nil {
				return nil, err
			}
			row[k] = v
			continue
		}
		row[k] = vals[c]
	}
	if it.src.loaded != nil {
		it.src.loaded.Add(1)
	}
	return row, nil
}

// value is what field v (nil for NULL) stores in col, by MySQL's rules
// where the engine's differ: NULL into NOT NULL is error 1263, and an
// empty or all-space field into a number error 1366, into a date or time
// error 1292 (the engine would store NULL or zero). Outside strict mode or
// with IGNORE these are warnings and the value is the type's zero.
func (it *sourceIter) value(ctx *sql.Context, col *sql.Column, v any) (any, error) {
	if v == nil {
		if col.Nullable || col.AutoIncrement {
			return nil, nil
		}
		return col.Type.Zero(), it.problem(ctx, mysql.NewSQLError(erWarnNullToNotNull, "22004",
			"Column set to default value; NULL supplied to NOT NULL column '%s' at row %d", col.Name, it.row+1))
	}
	field := v.(string)
	if strings.TrimSpace(field) != "" {
		if !it.warnOnly && !it.engineFails {
			_, inRange, err := col.Type.Convert(ctx, field)
			it.engineFails = err != nil || inRange != sql.InRange
		}
		return field, nil
	}
	var kind string
	temporal := false
	switch t := col.Type; {
	case types.IsInteger(t), types.IsYear(t):
		kind = "integer"
	case types.IsDecimal(t):
		kind = "decimal"
	case types.IsFloat(t):
		kind = "double"
	case types.IsTimespan(t):
		kind, temporal = "time", true
	case t.Type() == sqltypes.Date:
		kind, temporal = "date", true
	case types.IsTime(t):
		kind, temporal = "datetime", true
	default:
		return field, nil
	}
	row := it.row + 1
	var err *mysql.SQLError
	switch {
	case temporal && !it.warnOnly:
		err = mysql.NewSQLError(mysql.ERTruncatedWrongValue, "22007", "Incorrect %s value: '%s' for column '%s' at row %d", kind, field, col.Name, row)
	case temporal: // a time's warning is that it was truncated
		err = mysql.NewSQLError(mysql.ERWarnDataTruncated, "01000", "Data truncated for column '%s' at row %d", col.Name, row)
	default:
		err = mysql.NewSQLError(mysql.ERTruncatedWrongValueForField, "HY000", "Incorrect %s value: '%s' for column '%s' at row %d", kind, field, col.Name, row)
	}
	return col.Type.Zero(), it.problem(ctx, err)
}

// problem reports a row problem as MySQL: with IGNORE or outside strict
// mode as a warning (nil returned); otherwise as the statement's error,
// unless an earlier field's conversion error, which the engine reports,
// comes first.
func (it *sourceIter) problem(ctx *sql.Context, err *mysql.SQLError) error {
	if !it.warnOnly {
		if it.engineFails {
			return nil
		}
		return err
	}
	ctx.Session.Warn(&sql.Warning{Level: "Warning", Code: err.Number(), Message: err.Message})
	return nil
}

// rowProblem is problem for a line's field count, whose warning waits
// for the engine's warnings about the row.
func (it *sourceIter) rowProblem(err *mysql.SQLError) error {
	if !it.warnOnly {
		if it.engineFails {
			return nil
		}
		return err
	}
	it.late = append(it.late, &sql.Warning{Level: "Warning", Code: err.Number(), Message: err.Message})
	return nil
}

// Close implements sql.RowIter.
func (it *sourceIter) Close(*sql.Context) error {
	return it.file.Close()
}

func setUserVar(ctx *sql.Context, name string, v any) error {
	if v == nil {
		return ctx.SetUserVariable(ctx, name, nil, types.Null)
	}
	return ctx.SetUserVariable(ctx, name, v, types.LongText)
}

func isNullDefault(d *sql.ColumnDefaultValue) bool {
	lit, ok := d.Expr.(interface{ Value() any })
	return ok && lit.Value() == nil
}
