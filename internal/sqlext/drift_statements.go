package sqlext

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/ml/drift"
	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// DriftStatements evaluate models and report their drift:
//
//	EVALUATE MODEL [db.]name ON (query)
//	SHOW MODEL [db.]name DRIFT [SINCE 'YYYY-MM-DD hh:mm:ss[.ffffff]']
//
// EVALUATE runs the query as the caller and needs what predicting needs
// (the model's owner or EXECUTE on its function). SHOW MODEL ... DRIFT is
// visible to those SHOW MODEL shows the model to. It must be registered
// before ModelStatements, which owns the other SHOW MODEL forms.
type DriftStatements struct {
	Manager    *models.Manager
	Privileges *privilege.Checker
}

var _ Statement = DriftStatements{}

// Keywords implements Statement.
func (s DriftStatements) Keywords() []string { return []string{"EVALUATE", "SHOW"} }

// DriftSchema is SHOW MODEL ... DRIFT's result.
var DriftSchema = sql.Schema{
	textCol("Feature"),
	textCol("Kind"),
	{Name: "PSI", Type: types.Float64, Nullable: true},
	textCol("Drift"),
	{Name: "Sampled_rows", Type: types.Int64},
	{Name: "Since", Type: types.DatetimeMaxPrecision, Nullable: true},
}

// EvaluateSchema is EVALUATE MODEL's result.
var EvaluateSchema = sql.Schema{textCol("Metric"), {Name: "Value", Type: types.Float64, Nullable: true}}

// Parse implements Statement.
func (s DriftStatements) Parse(ctx context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	toks, err := Tokens(stmt)
	if err != nil || len(toks) < 3 {
		return nil, ast.AuthInformation{}, false, nil
	}
	c := &cursor{toks: toks}
	ignore := ast.AuthInformation{AuthType: ast.AuthType_IGNORE}
	switch {
	case c.accept("EVALUATE", "MODEL"):
		db, name, err := s.qualified(ctx, c)
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		if err := c.expect("ON"); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		query, err := parenthesized(c, stmt)
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		return &stmtNode{readOnly: true, desc: "EVALUATE MODEL " + name, schema: EvaluateSchema,
			run: func(ctx *sql.Context) (sql.RowIter, error) {
				md, err := s.model(ctx, db, name)
				if err != nil {
					return nil, err
				}
				ms, err := s.Manager.Evaluate(ctx, md, query)
				if errors.Is(err, models.ErrNotSupervised) {
					return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "EVALUATE MODEL: %s", err.Error())
				}
				if err != nil {
					return nil, err
				}
				rows := make([]sql.Row, len(ms))
				for i, m := range ms {
					rows[i] = sql.Row{m.Name, nullNaN(m.Value)}
				}
				return sql.RowsToRowIter(rows...), nil
			}}, ignore, true, nil

	case c.accept("SHOW", "MODEL"):
		if c.done() || c.peek().Is("ALL") {
			return nil, ast.AuthInformation{}, false, nil
		}
		db, name, err := s.qualified(ctx, c)
		if err != nil || !c.accept("DRIFT") {
			// Another SHOW MODEL form: ModelStatements' to parse.
			return nil, ast.AuthInformation{}, false, nil
		}
		var since string
		if c.accept("SINCE") {
			if since, err = c.str(); err != nil {
				return nil, ast.AuthInformation{}, true, err
			}
		}
		if !c.done() {
			return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
		}
		return &stmtNode{readOnly: true, desc: "SHOW MODEL " + name + " DRIFT", schema: DriftSchema,
			run: func(ctx *sql.Context) (sql.RowIter, error) {
				from := time.Time{}
				if since != "" {
					if from, err = parseSince(ctx, since); err != nil {
						return nil, err
					}
				}
				md, err := s.model(ctx, db, name)
				if err != nil {
					return nil, err
				}
				r, err := s.Manager.DriftReport(md, from)
				if err != nil {
					return nil, mysql.NewSQLError(mysql.ERUnknownError, "HY000", "%s", err.Error())
				}
				var rows []sql.Row
				for _, it := range r.Items {
					rows = append(rows, driftRow(ctx, r, it))
				}
				return sql.RowsToRowIter(rows...), nil
			}}, ignore, true, nil
	}
	return nil, ast.AuthInformation{}, false, nil
}

func driftRow(ctx *sql.Context, r drift.Report, it drift.Item) sql.Row {
	kind := it.Kind
	if it.Prediction {
		kind = "prediction"
	}
	var since any
	if !r.Since.IsZero() {
		since = r.Since.In(sessionLocation(ctx))
	}
	return sql.Row{it.Name, kind, nullNaN(it.PSI), drift.Level(it.PSI), it.Rows, since}
}

func nullNaN(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

// qualified reads [db.]name, defaulting to the session's database.
func (s DriftStatements) qualified(ctx context.Context, c *cursor) (string, string, error) {
	db, name, err := c.qualified()
	if err != nil {
		return "", "", err
	}
	if db == "" {
		db = sessionDB(ctx)
	}
	if db == "" {
		return "", "", mysql.NewSQLError(mysql.ERNoDb, "3D000", "No database selected")
	}
	return db, name, nil
}

// model finds a model the session may see; to others it does not exist.
func (s DriftStatements) model(ctx *sql.Context, db, name string) (*models.Model, error) {
	md, ok := s.Manager.Get(db, name)
	if !ok || !(ModelStatements{Manager: s.Manager, Privileges: s.Privileges}).maySee(ctx, md) {
		return nil, modelError(fmt.Errorf("model %s.%s: %w", db, name, models.ErrNotFound))
	}
	return md, nil
}

// parenthesized reads "( query )" up to the end of the statement.
func parenthesized(c *cursor, stmt string) (string, error) {
	if !c.peek().Is("(") || c.peek().String {
		return "", SyntaxError(c.near())
	}
	q, ok := c.parens(stmt)
	if !ok {
		return "", SyntaxError("(" + q)
	}
	if q == "" || !c.done() {
		return "", SyntaxError(c.near())
	}
	return q, nil
}

// parseSince reads a DATETIME literal in the session's time zone.
func parseSince(ctx *sql.Context, s string) (time.Time, error) {
	loc := sessionLocation(ctx)
	for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(s), loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, mysql.NewSQLError(mysql.ERWrongValue, "HY000", "Incorrect DATETIME value: '%s'", s)
}

// sessionLocation is the session's time_zone ("SYSTEM": the server's).
func sessionLocation(ctx *sql.Context) *time.Location {
	v, err := ctx.GetSessionVariable(ctx, "time_zone")
	name, _ := v.(string)
	if err != nil || name == "" || strings.EqualFold(name, "SYSTEM") {
		return time.Local
	}
	if len(name) == 6 && (name[0] == '+' || name[0] == '-') {
		if t, err := time.Parse("-07:00", name); err == nil {
			_, off := t.Zone()
			return time.FixedZone(name, off)
		}
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.Local
}

// ModelDriftTable is information_schema.MODEL_DRIFT: the drift of every
// model the session may see, over all retained buckets.
const ModelDriftTable = "MODEL_DRIFT"

// ModelDriftSchema is MODEL_DRIFT's schema.
var ModelDriftSchema = sql.Schema{
	{Name: "MODEL_SCHEMA", Type: types.LongText},
	{Name: "MODEL_NAME", Type: types.LongText},
	{Name: "FEATURE", Type: types.LongText},
	{Name: "KIND", Type: types.LongText},
	{Name: "PSI", Type: types.Float64, Nullable: true},
	{Name: "DRIFT", Type: types.LongText},
	{Name: "SAMPLED_ROWS", Type: types.Int64},
	{Name: "SINCE", Type: types.DatetimeMaxPrecision, Nullable: true},
}

// ModelDriftRows produces MODEL_DRIFT's rows.
func (s DriftStatements) ModelDriftRows(ctx *sql.Context) ([]map[string]any, error) {
	ms := ModelStatements{Manager: s.Manager, Privileges: s.Privileges}
	var out []map[string]any
	for _, md := range s.Manager.All() {
		if !ms.maySee(ctx, md) {
			continue
		}
		r, err := s.Manager.DriftReport(md, time.Time{})
		if err != nil {
			continue // not ready, or no baseline: no drift to report
		}
		for _, it := range r.Items {
			row := driftRow(ctx, r, it)
			out = append(out, map[string]any{"MODEL_SCHEMA": md.DB, "MODEL_NAME": md.Name, "FEATURE": row[0], "KIND": row[1],
				"PSI": row[2], "DRIFT": row[3], "SAMPLED_ROWS": row[4], "SINCE": row[5]})
		}
	}
	return out, nil
}
