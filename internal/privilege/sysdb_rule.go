package privilege

import (
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dtablefunctions"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// RuleID identifies SibylDB's privilege rule among the analyzer's rules.
// SibylDB's rule ids must be distinct (InstallRule skips an id already
// present, so a duplicate would silently drop this security rule): 7000
// exec, 7001 server (warnings), 7100 privilege, 7200 vecsql.
const RuleID analyzer.RuleId = 7100

// InstallRule adds the analyzer rule that
//
//   - refuses any plan writing the system database outside SibylDB's own
//     contexts, backing the statement check of InstallAuthorization where
//     GMS skips authorization: trigger bodies (built without it) and
//     DROP/ALTER DATABASE (whose authorization names no database);
//   - asks of Dolt's table functions that show a database's history
//     (dolt_reflog, dolt_branch_status) what dolt_log() asks: SELECT on
//     every table of the database.
//
// It must run before the engine is built.
func InstallRule(c *Checker) {
	guardChecker.Store(c)
	for _, r := range analyzer.OnceAfterAll {
		if r.Id == RuleID {
			return
		}
	}
	analyzer.OnceAfterAll = append([]analyzer.Rule{{Id: RuleID, Apply: applyRule}}, analyzer.OnceAfterAll...)
}

func applyRule(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, qf *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if err := checkHistoryFunctions(ctx, n); err != nil {
		return nil, transform.SameTree, err
	}
	return refuseSystemWrites(ctx, a, n, scope, sel, qf)
}

// checkHistoryFunctions applies dolt_log()'s rule to the table functions
// that lack one.
func checkHistoryFunctions(ctx *sql.Context, n sql.Node) error {
	c := guardChecker.Load()
	if c == nil || c.db == nil || !c.db.Enabled() || IsInternal(ctx) {
		return nil
	}
	var err error
	transform.InspectWithOpaque(n, func(n sql.Node) bool {
		var db sql.Database
		var name string
		switch n := n.(type) {
		case *dtablefunctions.ReflogTableFunction:
			db, name = n.Database(), n.Name()
		case *dtablefunctions.BranchStatusTableFunction:
			db, name = n.Database(), n.Name()
		default:
			return true
		}
		if db == nil {
			return true
		}
		if !c.CanSeeDatabase(ctx, baseDatabase(db.Name())) || !c.selectsEveryTable(ctx, db) {
			err = TableDenied(ctx, "SELECT", name)
		}
		return err == nil
	})
	return err
}

func (c *Checker) selectsEveryTable(ctx *sql.Context, db sql.Database) bool {
	names, err := db.GetTableNames(ctx)
	if err != nil {
		return false
	}
	base := baseDatabase(db.Name())
	ops := make([]sql.PrivilegedOperation, 0, len(names))
	for _, t := range names {
		ops = append(ops, sql.NewPrivilegedOperation(sql.PrivilegeCheckSubject{Database: base, Table: t}, sql.PrivilegeType_Select))
	}
	return c.db.UserHasPrivileges(ctx, ops...)
}

func refuseSystemWrites(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	if IsInternal(ctx) {
		return n, transform.SameTree, nil
	}
	if db, ok := writesSystemDatabase(ctx, n); ok {
		return nil, transform.SameTree, SystemDenied(ctx, db)
	}
	return n, transform.SameTree, nil
}

// writesSystemDatabase reports whether the plan changes the system
// database: rows of its tables (directly or from a trigger body), its
// schema, or the database itself; or creates a model catalog schema.
func writesSystemDatabase(ctx *sql.Context, n sql.Node) (string, bool) {
	found := ""
	check := func(db string) {
		if found == "" && IsSystemDatabase(db) {
			found = SystemDatabase
		}
	}
	targetDB := func(target sql.Node) {
		if target == nil {
			return
		}
		transform.InspectWithOpaque(target, func(n sql.Node) bool {
			if rt, ok := n.(*plan.ResolvedTable); ok && rt.SqlDatabase != nil {
				check(rt.SqlDatabase.Name())
				return false
			}
			return true
		})
	}
	transform.InspectWithOpaque(n, func(n sql.Node) bool {
		switch n := n.(type) {
		case *plan.DropDB:
			check(n.DbName)
		case *plan.CreateDB:
			// Model catalog schemas are created by the server only
			// (reservedModelCatalogWrite says why).
			if found == "" && IsModelCatalogSchema(n.DbName) {
				found = n.DbName
			}
		case *plan.AlterDB:
			check(n.Database(ctx))
		case *plan.InsertInto:
			targetDB(n.Destination)
			if db := n.Database(); db != nil {
				check(db.Name())
			}
		case *plan.Update:
			if n.IsJoin {
				if uj, ok := n.Child.(*plan.UpdateJoin); ok {
					for _, t := range uj.UpdateTargets {
						targetDB(t)
					}
				}
			} else {
				targetDB(n.Child)
			}
		case *plan.DeleteFrom:
			if ts := n.GetDeleteTargets(); len(ts) > 0 {
				for _, t := range ts {
					targetDB(t)
				}
			} else {
				targetDB(n.Child)
			}
		case *plan.Truncate:
			check(n.DatabaseName())
			targetDB(n.Child)
		case *plan.DropTable:
			for _, t := range n.Tables {
				targetDB(t)
			}
		case *plan.ResolvedTable, *plan.Call, *plan.ExternalProcedure:
			// Tables are judged by the node writing them; Dolt's
			// procedures when they run (GuardProcedures).
		default:
			// DDL: CREATE/ALTER/RENAME TABLE, indexes, views,
			// triggers, routines, events.
			if d, ok := n.(sql.Databaser); ok && !n.IsReadOnly() && d.Database() != nil {
				check(d.Database().Name())
			}
		}
		return found == ""
	})
	return found, found != ""
}
