package privilege

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// SystemDatabaseRuleID identifies the rule that keeps the system database
// immutable among the analyzer's rules.
const SystemDatabaseRuleID analyzer.RuleId = 7100

// InstallSystemDatabaseRule adds the analyzer rule that refuses any plan
// writing the system database outside SibylDB's own contexts. It backs the
// statement check of InstallAuthorization where GMS skips authorization:
// trigger bodies (built without it), DROP/ALTER DATABASE (whose
// authorization names no database). It must run before the engine is
// built.
func InstallSystemDatabaseRule() {
	for _, r := range analyzer.OnceAfterAll {
		if r.Id == SystemDatabaseRuleID {
			return
		}
	}
	analyzer.OnceAfterAll = append([]analyzer.Rule{{Id: SystemDatabaseRuleID, Apply: refuseSystemWrites}}, analyzer.OnceAfterAll...)
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
// schema, or the database itself.
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
