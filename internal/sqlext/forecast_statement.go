package sqlext

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	gms "github.com/dolthub/go-mysql-server"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/ml/forecast"
	"github.com/sibyldb/sibyldb/internal/ml/models"
)

// ForecastStatement is Redshift ML's way to read a forecasting model:
//
//	SELECT * FROM FORECAST([db.]model)
//	SELECT FORECAST([db.]model)
//	CREATE TABLE [IF NOT EXISTS] [db.]t AS SELECT [* FROM] FORECAST([db.]model)
//
// The query returns one row per series and step: the series id (when the
// model has one), the time, the mean forecast and one column per
// percentile (p10, p50, p90, ...); the CREATE TABLE form stores those rows
// in a new table, with the caller's CREATE and INSERT privileges.
type ForecastStatement struct {
	Manager *models.Manager
	// Engine runs the CREATE TABLE ... AS SELECT FORECAST form's DDL and
	// inserts in the caller's session (nil: that form is not accepted).
	Engine func() *gms.Engine
}

var forecastQuery = regexp.MustCompile(`(?is)^\s*(create\s+table\s+.+?\s+as\s+)?select\s+(\*\s+from\s+)?forecast\s*\(`)

// Keywords implements Statement.
func (s ForecastStatement) Keywords() []string { return []string{"SELECT", "CREATE"} }

// Matches implements Prefilter: ordinary SELECTs skip this extension.
func (s ForecastStatement) Matches(query string) bool { return forecastQuery.MatchString(query) }

// Parse implements Statement.
func (s ForecastStatement) Parse(ctx context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	if !forecastQuery.MatchString(stmt) {
		return nil, ast.AuthInformation{}, false, nil
	}
	toks, err := Tokens(stmt)
	if err != nil {
		return nil, ast.AuthInformation{}, false, nil
	}
	c := &cursor{toks: toks}
	var ctas bool
	var outDB, outTable string
	var ifNotExists bool
	if c.accept("CREATE", "TABLE") {
		ctas = true
		ifNotExists = c.accept("IF", "NOT", "EXISTS")
		if outDB, outTable, err = c.qualified(); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		if !c.accept("AS") {
			return nil, ast.AuthInformation{}, false, nil
		}
	}
	if !c.accept("SELECT") {
		return nil, ast.AuthInformation{}, false, nil
	}
	// FROM FORECAST(...) is always this statement's; the bare
	// SELECT FORECAST(x) form is only when x names a forecasting model,
	// so that any other call of a function named forecast reaches the
	// engine unchanged.
	fromForm := c.accept("*", "FROM", "FORECAST", "(")
	if !fromForm && !c.accept("FORECAST", "(") {
		return nil, ast.AuthInformation{}, false, nil
	}
	db, name, err := c.qualified()
	if err != nil {
		return nil, ast.AuthInformation{}, fromForm, err
	}
	if !c.accept(")") || !c.done() {
		if !fromForm {
			return nil, ast.AuthInformation{}, false, nil
		}
		return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
	}
	if db == "" {
		db = sessionDB(ctx)
	}
	if db == "" {
		return nil, ast.AuthInformation{}, fromForm, mysql.NewSQLError(mysql.ERNoDb, "3D000", "No database selected")
	}
	md, ok := s.Manager.Get(db, name)
	if !ok || !md.IsForecast() {
		if !fromForm {
			return nil, ast.AuthInformation{}, false, nil
		}
		return nil, ast.AuthInformation{}, true, mysql.NewSQLError(mysql.ERUnknownError, "HY000", "FORECAST: %s.%s is not a forecasting model", db, name)
	}
	schema, keys := forecastSchema(md)
	if ctas {
		if s.Engine == nil {
			return nil, ast.AuthInformation{}, false, nil
		}
		if outDB == "" {
			outDB = sessionDB(ctx)
		}
		if outDB == "" {
			return nil, ast.AuthInformation{}, true, mysql.NewSQLError(mysql.ERNoDb, "3D000", "No database selected")
		}
		return &stmtNode{desc: "CREATE TABLE AS FORECAST " + name, schema: types.OkResultSchema, run: func(ctx *sql.Context) (sql.RowIter, error) {
			rows, err := s.forecastRows(ctx, md, keys)
			if err != nil {
				return nil, err
			}
			n, err := sql.RunInterpreted(ctx, func(ctx *sql.Context) (int, error) {
				return s.createTable(ctx, outDB, outTable, ifNotExists, schema, rows)
			})
			if err != nil {
				return nil, err
			}
			return sql.RowsToRowIter(sql.NewRow(types.NewOkResult(n))), nil
		}}, ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil
	}
	return &stmtNode{readOnly: true, desc: "FORECAST " + name, schema: schema, run: func(ctx *sql.Context) (sql.RowIter, error) {
		rows, err := s.forecastRows(ctx, md, keys)
		if err != nil {
			return nil, err
		}
		return sql.RowsToRowIter(rows...), nil
	}}, ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil
}

// forecastSchema is the columns FORECAST(model) returns, and the
// quantile keys of its percentile columns.
func forecastSchema(md *models.Model) (sql.Schema, []string) {
	fs := md.Forecast
	var schema sql.Schema
	if fs.IDColumn != "" {
		schema = append(schema, &sql.Column{Name: "id", Type: types.LongText, Nullable: true})
	}
	schema = append(schema, &sql.Column{Name: "time", Type: types.DatetimeMaxPrecision}, &sql.Column{Name: "mean", Type: types.Float64, Nullable: true})
	keys := make([]string, len(fs.Quantiles))
	for i, q := range fs.Quantiles {
		keys[i] = forecast.QuantileKey(q)
		schema = append(schema, &sql.Column{Name: keys[i], Type: types.Float64, Nullable: true})
	}
	return schema, keys
}

// forecastRows are the model's forecasts, after the same readiness and
// authorization checks as its other uses.
func (s ForecastStatement) forecastRows(ctx *sql.Context, md *models.Model, keys []string) ([]sql.Row, error) {
	series, err := s.Manager.Forecasts(ctx, md)
	if errors.Is(err, models.ErrNotReady) {
		return nil, mysql.NewSQLError(mysql.ERUnknownError, "HY000", "%s", err.Error())
	}
	if err != nil {
		return nil, err
	}
	var rows []sql.Row
	for _, sf := range series {
		if sf.Fcst.Exog != nil {
			return nil, mysql.NewSQLError(mysql.ERUnknownError, "HY000",
				"model '%s' forecasts from its exogenous variables (%s): give their future values to CALL sys.ML_PREDICT_TABLE", md.Name, strings.Join(md.Forecast.Exogenous, ", "))
		}
		for k, t := range sf.Times() {
			row := sql.Row{}
			if md.Forecast.IDColumn != "" {
				row = append(row, sf.ID)
			}
			row = append(row, t, sf.Fcst.Mean[k])
			for _, key := range keys {
				if q := sf.Fcst.Quantiles[key]; q != nil {
					row = append(row, q[k])
				} else {
					row = append(row, nil)
				}
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// createTable is CREATE TABLE ... AS SELECT FORECAST(...): the table and
// its rows are made by ordinary statements in the caller's session, so
// its privileges (CREATE, INSERT) and transaction apply.
func (s ForecastStatement) createTable(ctx *sql.Context, db, table string, ifNotExists bool, schema sql.Schema, rows []sql.Row) (int, error) {
	ident := func(x string) string { return "`" + strings.ReplaceAll(x, "`", "``") + "`" }
	target := ident(db) + "." + ident(table)
	defs := make([]string, len(schema))
	for i, c := range schema {
		typ := "DOUBLE"
		switch c.Name {
		case "id":
			typ = "VARCHAR(255)"
		case "time":
			typ = "DATETIME(6) NOT NULL"
		}
		defs[i] = ident(c.Name) + " " + typ
	}
	// MySQL's CREATE TABLE ... SELECT of an existing table: error 1050,
	// or with IF NOT EXISTS a note and no rows inserted.
	if d, err := s.Engine().Analyzer.Catalog.Database(ctx, db); err == nil {
		if _, exists, err := d.GetTableInsensitive(ctx, table); err != nil {
			return 0, err
		} else if exists {
			if ifNotExists {
				ctx.Warn(mysql.ERTableExists, "Table '%s' already exists", table)
				return 0, nil
			}
			return 0, mysql.NewSQLError(mysql.ERTableExists, "42S01", "Table '%s' already exists", table)
		}
	}
	if err := catalog.Exec(ctx, s.Engine(), "CREATE TABLE "+target+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return 0, err
	}
	const batch = 500
	for lo := 0; lo < len(rows); lo += batch {
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + target + " VALUES ")
		for i, row := range rows[lo:min(lo+batch, len(rows))] {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteByte('(')
			for j, v := range row {
				if j > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(sqlLiteral(v))
			}
			sb.WriteByte(')')
		}
		if err := catalog.Exec(ctx, s.Engine(), sb.String()); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

// sqlLiteral writes a forecast value as SQL text.
func sqlLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "NULL"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return "'" + x.Format("2006-01-02 15:04:05.999999") + "'"
	case string:
		return "'" + strings.ReplaceAll(strings.ReplaceAll(x, `\`, `\\`), "'", "''") + "'"
	}
	return "'" + strings.ReplaceAll(fmt.Sprint(v), "'", "''") + "'"
}
