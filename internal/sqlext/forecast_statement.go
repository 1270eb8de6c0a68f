package sqlext

import (
	"context"
	"errors"
	"regexp"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/ml/forecast"
	"github.com/sibyldb/sibyldb/internal/ml/models"
)

// ForecastStatement is Redshift ML's way to read a forecasting model:
//
//	SELECT * FROM FORECAST([db.]model)
//
// It returns one row per series and step: the series id (when the model
// has one), the time, the mean forecast and one column per percentile
// (p10, p50, p90, ...).
type ForecastStatement struct {
	Manager *models.Manager
}

var forecastQuery = regexp.MustCompile(`(?is)^\s*select\s+\*\s+from\s+forecast\s*\(`)

// Keywords implements Statement.
func (s ForecastStatement) Keywords() []string { return []string{"SELECT"} }

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
	if !c.accept("SELECT", "*", "FROM", "FORECAST", "(") {
		return nil, ast.AuthInformation{}, false, nil
	}
	db, name, err := c.qualified()
	if err != nil {
		return nil, ast.AuthInformation{}, true, err
	}
	if !c.accept(")") || !c.done() {
		return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
	}
	if db == "" {
		db = sessionDB(ctx)
	}
	if db == "" {
		return nil, ast.AuthInformation{}, true, mysql.NewSQLError(mysql.ERNoDb, "3D000", "No database selected")
	}
	md, ok := s.Manager.Get(db, name)
	if !ok || !md.IsForecast() {
		return nil, ast.AuthInformation{}, true, mysql.NewSQLError(mysql.ERUnknownError, "HY000", "FORECAST: %s.%s is not a forecasting model", db, name)
	}
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
	return &stmtNode{readOnly: true, desc: "FORECAST " + name, schema: schema, run: func(ctx *sql.Context) (sql.RowIter, error) {
		series, err := s.Manager.Forecasts(ctx, md)
		if errors.Is(err, models.ErrNotReady) {
			return nil, mysql.NewSQLError(mysql.ERUnknownError, "HY000", "%s", err.Error())
		}
		if err != nil {
			return nil, err
		}
		var rows []sql.Row
		for _, sf := range series {
			for k, t := range sf.Times() {
				row := sql.Row{}
				if fs.IDColumn != "" {
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
		return sql.RowsToRowIter(rows...), nil
	}}, ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil
}
