package privilege

import (
	"reflect"
	"testing"

	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dprocedures"
	"github.com/dolthub/go-mysql-server/sql"
)

// TestEveryDoltProcedureIsClassified fails when a Dolt upgrade registers a
// procedure nobody has classified: until then it would need SUPER, which
// is safe but should be a decision.
func TestEveryDoltProcedureIsClassified(t *testing.T) {
	procs := append([]sql.ExternalStoredProcedureDetails{}, dprocedures.DoltProcedures...)
	procs = append(procs, dprocedures.NewTestValctxProcedure())
	for _, p := range procs {
		if _, ok := doltProcClasses[p.Name]; !ok {
			t.Errorf("Dolt procedure %s has no class in doltProcClasses", p.Name)
		}
		// GMS's own AdminOnly flag must never be looser than ours.
		if p.AdminOnly && ClassOf(p.Name) != ProcAdmin {
			t.Errorf("%s is AdminOnly in Dolt but %v here", p.Name, ClassOf(p.Name))
		}
	}
	if ClassOf("dolt_something_new") != ProcAdmin {
		t.Error("unknown procedures must need SUPER")
	}
}

func TestGuardKeepsTheFunctionType(t *testing.T) {
	fns := []any{
		func(*sql.Context, ...string) (sql.RowIter, error) { return nil, nil },
		func(*sql.Context, *string, ...string) (sql.RowIter, error) { return nil, nil },
	}
	for _, fn := range fns {
		g := guardProcedure("dolt_x", fn)
		if reflect.TypeOf(g) != reflect.TypeOf(fn) {
			t.Errorf("guard changed %T into %T", fn, g)
		}
	}
}

func TestSystemTableClass(t *testing.T) {
	for table, want := range map[string]ProcClass{
		"dolt_branches": ProcData, "dolt_conflicts_t": ProcData, "dolt_workspace_t": ProcData,
		"dolt_docs": ProcHistory, "dolt_ignore": ProcHistory,
		"dolt_remotes": ProcAdmin, "dolt_schemas": ProcAdmin, "dolt_procedures": ProcAdmin,
	} {
		got, ok := SystemTableClass(table)
		if !ok || got != want {
			t.Errorf("%s: got %v, %v; want %v", table, got, ok, want)
		}
	}
	if _, ok := SystemTableClass("orders"); ok {
		t.Error("orders is not a Dolt system table")
	}
}

func TestSystemDatabaseNames(t *testing.T) {
	for db, want := range map[string]bool{"sibyl": true, "SIBYL": true, "sibyl/main": true, "sibyl2": false, "shop": false, "": false} {
		if IsSystemDatabase(db) != want {
			t.Errorf("IsSystemDatabase(%q) = %v", db, !want)
		}
	}
}
