// Package heatwave speaks MySQL HeatWave AutoML's dialect: the sys.ML_*
// routines (CALL sys.ML_TRAIN, ML_MODEL_LOAD, ML_MODEL_UNLOAD,
// ML_PREDICT_TABLE, ML_SCORE, ML_EXPLAIN, ML_EXPLAIN_TABLE, ML_MODEL_ACTIVE)
// and the sys.ML_PREDICT_ROW and ML_EXPLAIN_ROW functions, over
// the same model store as CREATE MODEL. A model trained by ML_TRAIN lives
// in its owner's ML_SCHEMA_<user> schema, next to HeatWave's
// MODEL_CATALOG table, and is also an ordinary model (SHOW MODEL, its
// prediction function, DROP MODEL); a CREATE MODEL model is usable by the
// routines under the handle db.name.
//
// MySQL resolves CALL sys.x against the sys schema's stored procedures;
// SibylDB has no sys schema, so the routines are statements that the SQL
// parser recognises by their qualified name. Their arguments are ordinary
// expressions, evaluated in the caller's session.
package heatwave

import (
	"context"
	"fmt"
	"strings"

	gms "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/privilege"
	"github.com/sibyldb/sibyldb/internal/status"
)

// Routines implements the CALL sys.ML_* statements. It satisfies
// sqlext.Statement and sqlext.Prefilter.
type Routines struct {
	Models     *models.Manager
	Privileges *privilege.Checker
	// Engine returns the SQL engine (built after the parser).
	Engine func() *gms.Engine
	// NewContext opens an internal session, for the model catalog schema
	// that the server, not the user, creates.
	NewContext func(context.Context) (*sql.Context, error)
	// LockTable, when set, takes the running transaction's lock on a
	// table the statement created and fills directly (not through the
	// engine's row writers, which lock each row they write).
	LockTable func(ctx *sql.Context, db, table string) error
	// DirectWrites and EngineWrites count the output tables (ML_PREDICT_TABLE,
	// ML_EXPLAIN_TABLE) written directly and through the engine's
	// inserts; either may be nil.
	DirectWrites, EngineWrites *status.Counter
}

// routine is one CALL sys.<name>(...) routine.
type routine struct {
	// params is the accepted numbers of arguments; out lists the indexes
	// of OUT parameters (user variables that receive a result).
	params []int
	out    []int
	run    func(r *Routines, ctx *sql.Context, args []any, outVars []string) error
}

var routines = map[string]routine{
	"ml_train":         {params: []int{4}, out: []int{3}, run: (*Routines).train},
	"ml_model_load":    {params: []int{1, 2}, run: (*Routines).load},
	"ml_model_unload":  {params: []int{1}, run: (*Routines).unload},
	"ml_predict_table": {params: []int{3, 4}, run: (*Routines).predictTable},
	"ml_score":         {params: []int{5, 6}, out: []int{4}, run: (*Routines).score},
	"ml_explain":       {params: []int{3, 4}, run: (*Routines).mlExplain},
	"ml_explain_table": {params: []int{3, 4}, run: (*Routines).explainTable},
	"ml_model_active":  {params: []int{2}, out: []int{1}, run: (*Routines).active},
}

// Keywords implements sqlext.Statement.
func (r *Routines) Keywords() []string { return []string{"CALL"} }

// Matches implements sqlext.Prefilter: only CALLs that may name an ML_
// routine are parsed twice.
func (r *Routines) Matches(query string) bool {
	return strings.Contains(strings.ToLower(query), "ml_")
}

// Parse implements sqlext.Statement.
func (r *Routines) Parse(_ context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	parsed, err := ast.Parse(stmt)
	if err != nil {
		return nil, ast.AuthInformation{}, false, nil
	}
	call, ok := parsed.(*ast.Call)
	if !ok || !strings.EqualFold(call.ProcName.Qualifier.String(), "sys") {
		return nil, ast.AuthInformation{}, false, nil
	}
	name := strings.ToLower(call.ProcName.Name.String())
	rt, ok := routines[name]
	if !ok {
		return nil, ast.AuthInformation{}, false, nil
	}
	display := "sys." + strings.ToUpper(name)
	if !contains(rt.params, len(call.Params)) {
		return nil, ast.AuthInformation{}, true, mysql.NewSQLError(1318, "42000",
			"Incorrect number of arguments for PROCEDURE %s; expected %d, got %d", display, rt.params[len(rt.params)-1], len(call.Params))
	}
	exprs := make([]string, len(call.Params))
	outVars := make([]string, len(call.Params))
	for _, p := range call.Params {
		if hasPlaceholder(p) {
			// The arguments are evaluated from their text; a prepared
			// statement's placeholders would have no value there.
			return nil, ast.AuthInformation{}, true, mysql.NewSQLError(1235, "42000",
				"This version of SibylDB doesn't yet support '? placeholders in CALL %s' (set user variables, or let the client interpolate parameters)", display)
		}
	}
	for i, p := range call.Params {
		exprs[i] = ast.String(p)
		if contains(rt.out, i) {
			v, ok := userVariable(exprs[i])
			if !ok {
				return nil, ast.AuthInformation{}, true, mysql.NewSQLError(1414, "42000",
					"OUT or INOUT argument %d for routine %s is not a variable or NEW pseudo-variable in BEFORE trigger", i+1, display)
			}
			outVars[i] = v
		}
	}
	n := &node{desc: "CALL " + display, run: func(ctx *sql.Context) error {
		args, err := r.evaluate(ctx, exprs)
		if err != nil {
			return err
		}
		return rt.run(r, ctx, args, outVars)
	}}
	return n, ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil
}

// hasPlaceholder reports whether expr holds a prepared statement's ?.
func hasPlaceholder(expr ast.Expr) bool {
	found := false
	_ = ast.Walk(func(n ast.SQLNode) (bool, error) {
		if v, ok := n.(*ast.SQLVal); ok && v.Type == ast.ValArg {
			found = true
		}
		return !found, nil
	}, expr)
	return found
}

// userVariable reports whether expr (as vitess prints it) is a user
// variable, and its name.
func userVariable(expr string) (string, bool) {
	if !strings.HasPrefix(expr, "@") || strings.HasPrefix(expr, "@@") {
		return "", false
	}
	name := strings.Trim(expr[1:], "`'\"")
	return name, name != ""
}

// evaluate computes the argument expressions in the caller's session, so
// that functions, user variables and privileges behave as in any query.
func (r *Routines) evaluate(ctx *sql.Context, exprs []string) ([]any, error) {
	_, iter, _, err := r.Engine().Query(ctx, "SELECT "+strings.Join(exprs, ", "))
	if err != nil {
		return nil, err
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("routine arguments: %d rows", len(rows))
	}
	out := make([]any, len(rows[0]))
	for i, v := range rows[0] {
		if out[i], err = sql.UnwrapAny(ctx, v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// setVariable assigns an OUT parameter.
func setVariable(ctx *sql.Context, name string, v any, typ sql.Type) error {
	return ctx.SetUserVariable(ctx, name, v, typ)
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// node is the plan of a CALL sys.ML_* statement: it returns an OK packet.
type node struct {
	desc string
	run  func(*sql.Context) error
}

var _ sql.ExecSourceRel = (*node)(nil)

func (n *node) Resolved() bool       { return true }
func (n *node) IsReadOnly() bool     { return false }
func (n *node) String() string       { return n.desc }
func (n *node) Schema() sql.Schema   { return types.OkResultSchema }
func (n *node) Children() []sql.Node { return nil }

func (n *node) CollationCoercibility(*sql.Context) (sql.CollationID, byte) {
	return sql.Collation_binary, 7
}

func (n *node) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(n, len(children), 0)
	}
	return n, nil
}

// RowIter runs the routine. Its nested queries run as a stored
// procedure's statements do (sql.RunInterpreted): finishing one must not
// end the CALL's own query in the process list, which would cancel its
// context.
func (n *node) RowIter(ctx *sql.Context, _ sql.Row) (sql.RowIter, error) {
	if _, err := sql.RunInterpreted(ctx, func(ctx *sql.Context) (struct{}, error) { return struct{}{}, n.run(ctx) }); err != nil {
		return nil, err
	}
	return sql.RowsToRowIter(sql.NewRow(types.NewOkResult(0))), nil
}

// mlError is a HeatWave routine error. HeatWave's routines raise their
// errors with SIGNAL SQLSTATE 'HY000', which MySQL reports as error 1644
// (ER_SIGNAL_EXCEPTION); the documented ones carry an MLnnnnnn prefix.
func mlError(format string, args ...any) error {
	return mysql.NewSQLError(1644, "HY000", format, args...)
}

// stringArg reads a string argument; NULL gives "".
func stringArg(v any, what string) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	case []byte:
		return string(s), nil
	}
	return "", mlError("%s must be a string, got %v", what, v)
}

// tableArg reads a routine's table argument, 'db.table' (or 'table' in
// the current database).
func tableArg(ctx *sql.Context, v any, what string) (string, string, error) {
	name, err := stringArg(v, what)
	if err != nil {
		return "", "", err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return "", "", mlError("%s is required", what)
	}
	db, tbl, ok := strings.Cut(name, ".")
	if !ok {
		db, tbl = ctx.GetCurrentDatabase(), name
		if db == "" {
			return "", "", mysql.NewSQLError(mysql.ERNoDb, "3D000", "No database selected")
		}
	}
	unquote := func(s string) string { return strings.Trim(strings.TrimSpace(s), "`") }
	return unquote(db), unquote(tbl), nil
}

// quoteIdent quotes an identifier for SQL text.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// quoteString quotes a string literal for SQL text.
func quoteString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
