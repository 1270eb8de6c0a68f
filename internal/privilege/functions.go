package privilege

import (
	"strings"

	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dfunctions"
	"github.com/dolthub/go-mysql-server/sql"
)

// Dolt's SQL functions that read what a table grant does not cover check
// no privilege of their own:
//
//   - DOLT_HASHOF_TABLE('t') returns the content hash of a table the user
//     may not read. Hashes are content-addressed, so a user able to create
//     a table of the same shape elsewhere can confirm guesses of its rows
//     by comparing hashes; it now needs SELECT on the table.
//   - DOLT_HASHOF_DB('WORKING') hashes the whole database, a change
//     detector for tables the user may not read: it now needs SELECT on
//     the database;
//   - HASHOF / DOLT_HASHOF, DOLT_MERGE_BASE and HAS_ANCESTOR answer about
//     the commit graph of any database: they now need some privilege in
//     it (as USE does), which a user reading her table's history by commit
//     (dolt_commit_diff_t ... WHERE to_commit = HASHOF('HEAD')) holds.
//   - DOLT_JOIN_COST('query') plans any query in a private engine with no
//     authorization at all (table names, indexes and row estimates of
//     every database); it is a debugging aid and now needs SUPER.
type functionRule int

const (
	needTableSelect functionRule = iota
	needDatabaseSelect
	needDatabaseAccess
	needSuper
)

var guardedFunctions = map[string]functionRule{
	dfunctions.HashOfTableFuncName:      needTableSelect,
	dfunctions.HashOfDatabaseFuncName:   needDatabaseSelect,
	dfunctions.HashOfFuncName:           needDatabaseAccess,
	dfunctions.DeprecatedHashOfFuncName: needDatabaseAccess,
	dfunctions.DoltMergeBaseFuncName:    needDatabaseAccess,
	dfunctions.HasAncestorFuncName:      needDatabaseAccess,
	dfunctions.JoinCostFuncName:         needSuper,
}

// Functions puts the privilege checks above in front of Dolt's functions;
// every other name is served by next (GMS consults the result before the
// database provider, which serves Dolt's unguarded originals).
func Functions(next sql.FunctionProvider, c *Checker) sql.FunctionProvider {
	originals := map[string]sql.Function{}
	for _, f := range dfunctions.DoltFunctions {
		if _, ok := guardedFunctions[f.FunctionName()]; ok {
			originals[f.FunctionName()] = f
		}
	}
	return functions{next: next, c: c, originals: originals}
}

type functions struct {
	next      sql.FunctionProvider
	c         *Checker
	originals map[string]sql.Function
}

// Function implements sql.FunctionProvider.
func (p functions) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	lower := strings.ToLower(name)
	if orig, ok := p.originals[lower]; ok {
		return sql.FunctionN{Name: lower, Fn: func(args ...sql.Expression) (sql.Expression, error) {
			inner, err := orig.NewInstance(args)
			if err != nil {
				return nil, err
			}
			return &guardedFunction{Expression: inner, name: lower, rule: guardedFunctions[lower], c: p.c}, nil
		}}, true
	}
	if p.next == nil {
		return nil, false
	}
	return p.next.Function(ctx, name)
}

// guardedFunction checks its rule before each evaluation, for the user
// running the statement.
type guardedFunction struct {
	sql.Expression
	name string
	rule functionRule
	c    *Checker
}

var _ sql.FunctionExpression = (*guardedFunction)(nil)

// FunctionName implements sql.FunctionExpression.
func (g *guardedFunction) FunctionName() string { return g.name }

// Description implements sql.FunctionExpression.
func (g *guardedFunction) Description() string {
	if f, ok := g.Expression.(sql.FunctionExpression); ok {
		return f.Description()
	}
	return ""
}

// WithChildren implements sql.Expression.
func (g *guardedFunction) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	inner, err := g.Expression.WithChildren(children...)
	if err != nil {
		return nil, err
	}
	return &guardedFunction{Expression: inner, name: g.name, rule: g.rule, c: g.c}, nil
}

// CollationCoercibility implements sql.CollationCoercible.
func (g *guardedFunction) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return sql.GetCoercibility(ctx, g.Expression)
}

// Eval implements sql.Expression.
func (g *guardedFunction) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	if err := g.authorize(ctx, row); err != nil {
		return nil, err
	}
	return g.Expression.Eval(ctx, row)
}

func (g *guardedFunction) authorize(ctx *sql.Context, row sql.Row) error {
	if g.c == nil || g.c.db == nil || !g.c.db.Enabled() {
		return nil
	}
	db := baseDatabase(ctx.GetCurrentDatabase())
	switch g.rule {
	case needSuper:
		if !g.c.HasGlobal(ctx, sql.PrivilegeType_Super) {
			return Denied("SUPER")
		}
	case needDatabaseSelect:
		if !g.c.db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(sql.PrivilegeCheckSubject{Database: db}, sql.PrivilegeType_Select)) {
			return DatabaseDenied(ctx, db)
		}
	case needDatabaseAccess:
		if !g.c.CanSeeDatabase(ctx, db) {
			return DatabaseDenied(ctx, db)
		}
	case needTableSelect:
		children := g.Children()
		if len(children) != 1 {
			return nil // the function itself rejects the call
		}
		v, err := children[0].Eval(ctx, row)
		if err != nil {
			return err
		}
		table, ok := v.(string)
		if !ok {
			return nil // NULL, or the function's own type error
		}
		if !g.c.db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(sql.PrivilegeCheckSubject{Database: db, Table: table}, sql.PrivilegeType_Select)) {
			return TableDenied(ctx, "SELECT", table)
		}
	}
	return nil
}
