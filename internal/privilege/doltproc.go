package privilege

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/catalog"
)

// SystemDatabase is SibylDB's own database. It is immutable except
// through SibylDB: see Internal.
const SystemDatabase = catalog.Database

// ProcClass is what one of Dolt's version-control procedures can do to a
// database, and so which privileges calling it takes. GMS lets anyone with
// EXECUTE on a database call them; their effects are those of DML and DDL
// on every table of the database (dolt_reset('--hard', 'HEAD~2') empties
// tables), so they need what that DML and DDL would.
type ProcClass int

const (
	// ProcAdmin procedures act on the server, remotes, files or other
	// databases (gc, backup, clone, push, pull, stats, ...): SUPER.
	ProcAdmin ProcClass = iota
	// ProcRead procedures only read the commit graph: SELECT.
	ProcRead
	// ProcHistory procedures stage, commit or label what is already in
	// the tables without changing their contents: SELECT, INSERT,
	// UPDATE and DELETE.
	ProcHistory
	// ProcData procedures replace table contents or schemas, or a whole
	// branch's: SELECT, INSERT, UPDATE, DELETE, CREATE, DROP and ALTER.
	ProcData
)

// Privileges is what a class takes on the database the procedure acts on
// (the session's current database; for shop/branch, shop). Granted
// globally or on the database: a table grant does not cover a procedure
// that changes every table, including ones it creates.
func (c ProcClass) Privileges() []sql.PrivilegeType {
	switch c {
	case ProcRead:
		return []sql.PrivilegeType{sql.PrivilegeType_Select}
	case ProcHistory:
		return []sql.PrivilegeType{sql.PrivilegeType_Select, sql.PrivilegeType_Insert, sql.PrivilegeType_Update, sql.PrivilegeType_Delete}
	case ProcData:
		return []sql.PrivilegeType{sql.PrivilegeType_Select, sql.PrivilegeType_Insert, sql.PrivilegeType_Update, sql.PrivilegeType_Delete,
			sql.PrivilegeType_Create, sql.PrivilegeType_Drop, sql.PrivilegeType_Alter}
	}
	return []sql.PrivilegeType{sql.PrivilegeType_Super}
}

// doltProcClasses classifies every procedure the pinned Dolt registers
// (dprocedures.DoltProcedures). A procedure missing here (a Dolt upgrade
// added it) is ProcAdmin until it is classified: TestEveryDoltProcedureIsClassified
// fails on such an upgrade.
var doltProcClasses = map[string]ProcClass{
	"dolt_count_commits": ProcRead,

	"dolt_add":                ProcHistory,
	"dolt_commit":             ProcHistory,
	"dolt_commit_hash_out":    ProcHistory,
	"dolt_tag":                ProcHistory,
	"dolt_verify_constraints": ProcHistory, // records violations in the working set

	"dolt_branch":            ProcData, // -d, -f and -m delete or overwrite a branch
	"dolt_checkout":          ProcData, // discards changes to tables, creates branches
	"dolt_cherry_pick":       ProcData,
	"dolt_clean":             ProcData,
	"dolt_conflicts_resolve": ProcData,
	"dolt_merge":             ProcData,
	"dolt_rebase":            ProcData,
	"dolt_reset":             ProcData,
	"dolt_revert":            ProcData,
	"dolt_rm":                ProcData,
	"dolt_stash":             ProcData,

	"dolt_backup":                  ProcAdmin,
	"dolt_clone":                   ProcAdmin,
	"dolt_fetch":                   ProcAdmin,
	"dolt_gc":                      ProcAdmin,
	"dolt_pull":                    ProcAdmin,
	"dolt_purge_dropped_databases": ProcAdmin,
	"dolt_push":                    ProcAdmin,
	"dolt_remote":                  ProcAdmin,
	"dolt_thread_dump":             ProcAdmin,
	"dolt_undrop":                  ProcAdmin,
	"dolt_update_column_tag":       ProcAdmin,
	"dolt_stats_restart":           ProcAdmin,
	"dolt_stats_stop":              ProcAdmin,
	"dolt_stats_info":              ProcAdmin,
	"dolt_stats_purge":             ProcAdmin,
	"dolt_stats_wait":              ProcAdmin,
	"dolt_stats_flush":             ProcAdmin,
	"dolt_stats_once":              ProcAdmin,
	"dolt_stats_gc":                ProcAdmin,
	"dolt_stats_timers":            ProcAdmin,
	"dolt_test_valctx":             ProcAdmin,
}

// ClassOf returns a procedure's class; unknown procedures are ProcAdmin.
func ClassOf(proc string) ProcClass {
	if c, ok := doltProcClasses[strings.ToLower(proc)]; ok {
		return c
	}
	return ProcAdmin
}

// ClassifiedProcedures lists the procedures with a class, sorted.
func ClassifiedProcedures() []string {
	names := make([]string, 0, len(doltProcClasses))
	for n := range doltProcClasses {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type internalKey struct{}

// Internal marks ctx as SibylDB's own work (the catalog and audit log
// writers, bootstrap). Only code in this process can set the mark: a
// connection's statements run under contexts the protocol server makes,
// which never carry it. Writes to the system database need it.
func Internal(ctx context.Context) context.Context {
	return context.WithValue(ctx, internalKey{}, true)
}

// IsInternal reports whether ctx was marked by Internal.
func IsInternal(ctx context.Context) bool {
	v, _ := ctx.Value(internalKey{}).(bool)
	return v
}

// baseDatabase strips a revision ("shop/feature") from a
// database name: privileges are granted on the base database.
func baseDatabase(db string) string {
	if i := strings.IndexByte(db, '/'); i >= 0 {
		db = db[:i]
	}
	return strings.ToLower(db)
}

// IsSystemDatabase reports whether db (possibly with a revision) is the
// system database.
func IsSystemDatabase(db string) bool { return baseDatabase(db) == SystemDatabase }

// SystemDenied is MySQL's answer to a write into a database no account may
// change (as for information_schema): ER_DBACCESS_DENIED_ERROR.
func SystemDenied(ctx *sql.Context, db string) error { return DatabaseDenied(ctx, db) }

// AuthorizeProcedure decides whether the session may run the Dolt
// procedure proc now. It runs when the procedure runs, so it holds however
// the CALL was reached (directly, from a stored procedure, a trigger or a
// prepared statement) and judges the database the procedure acts on.
func (c *Checker) AuthorizeProcedure(ctx *sql.Context, proc string) error {
	if IsInternal(ctx) {
		return nil
	}
	class := ClassOf(proc)
	db := baseDatabase(ctx.GetCurrentDatabase())
	if db == SystemDatabase && class != ProcRead {
		return SystemDenied(ctx, SystemDatabase)
	}
	if c.db == nil || !c.db.Enabled() {
		return nil
	}
	if class == ProcAdmin {
		if !c.HasGlobal(ctx, sql.PrivilegeType_Super) {
			return Denied("SUPER")
		}
		return nil
	}
	if db == "" {
		return sql.ErrNoDatabaseSelected.New()
	}
	if !c.db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(sql.PrivilegeCheckSubject{Database: db}, class.Privileges()...)) {
		return DatabaseDenied(ctx, db)
	}
	return nil
}

var (
	guardOnce sync.Once
	// guardChecker is the checker the guarded procedures ask. Dolt's
	// procedure list is process-wide, so the guard is too; the last
	// server built in the process is the one checking.
	guardChecker atomic.Pointer[Checker]
)

// GuardProcedures makes every procedure in procs (Dolt's
// dprocedures.DoltProcedures, before the storage registers them) ask c
// before it runs. It wraps each procedure's function in one of the same
// type, so GMS's reflection over its parameters is unchanged.
func GuardProcedures(procs []sql.ExternalStoredProcedureDetails, c *Checker) {
	guardChecker.Store(c)
	guardOnce.Do(func() {
		for i := range procs {
			procs[i].Function = guardProcedure(procs[i].Name, procs[i].Function)
		}
	})
}

var sqlContextType = reflect.TypeOf((*sql.Context)(nil))

func guardProcedure(name string, fn any) any {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.Kind() != reflect.Func || t.NumIn() == 0 || t.In(0) != sqlContextType || t.NumOut() != 2 {
		// Not a procedure GMS could call; leave it to GMS to reject.
		return fn
	}
	return reflect.MakeFunc(t, func(args []reflect.Value) []reflect.Value {
		ctx := args[0].Interface().(*sql.Context)
		if c := guardChecker.Load(); c != nil {
			if err := c.AuthorizeProcedure(ctx, name); err != nil {
				errVal := reflect.New(t.Out(1)).Elem()
				errVal.Set(reflect.ValueOf(err))
				return []reflect.Value{reflect.Zero(t.Out(0)), errVal}
			}
		}
		if t.IsVariadic() {
			return v.CallSlice(args)
		}
		return v.Call(args)
	}).Interface()
}
