package privilege

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
)

// Visibility rules for metadata, as MySQL applies them: users see the
// objects they hold some privilege on, not the rest.

// routinePrivileges are those that make a routine visible (MySQL shows a
// routine in ROUTINES and SHOW CREATE to its definer and to holders of
// EXECUTE, CREATE ROUTINE or ALTER ROUTINE on it, or of global SELECT).
var routinePrivileges = []sql.PrivilegeType{sql.PrivilegeType_Execute, sql.PrivilegeType_CreateRoutine, sql.PrivilegeType_AlterRoutine}

// IsCurrentUser reports whether account ("`u`@`h`", "'u'@'h'") is the
// session's user.
func IsCurrentUser(ctx *sql.Context, account string) bool {
	cl := ctx.Session.Client()
	return ParseAccount(account) == Account{User: cl.User, Host: cl.Address}
}

// CanSeeRoutine reports whether the session may see routine db.name,
// defined by definer, and its definition.
func (c *Checker) CanSeeRoutine(ctx *sql.Context, db, name, definer string) bool {
	if c.db == nil || !c.db.Enabled() || IsCurrentUser(ctx, definer) || c.HasGlobal(ctx, sql.PrivilegeType_Select) {
		return true
	}
	for _, p := range routinePrivileges {
		if c.db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(sql.PrivilegeCheckSubject{Database: db, Routine: name}, p)) {
			return true
		}
	}
	return false
}

// CanSeeDatabase reports whether the session holds any privilege on db,
// globally, on the database or on one of its tables or routines: what
// SHOW DATABASES and USE require.
func (c *Checker) CanSeeDatabase(ctx *sql.Context, db string) bool {
	if c.db == nil || !c.db.Enabled() {
		return true
	}
	ps := c.db.UserActivePrivilegeSet(ctx)
	return ps.Count() > 0 || ps.Database(db).HasPrivileges()
}

// CanSeeAllProcesses reports whether the session holds PROCESS, without
// which MySQL shows a user only their own threads.
func (c *Checker) CanSeeAllProcesses(ctx *sql.Context) bool {
	return c.HasGlobal(ctx, sql.PrivilegeType_Process)
}

// CanSeeTable reports whether the session holds any privilege on db.table,
// globally, on the database or on the table: what MySQL requires to list
// it in information_schema.
func (c *Checker) CanSeeTable(ctx *sql.Context, db, table string) bool {
	if c.db == nil || !c.db.Enabled() || strings.EqualFold(db, sql.InformationSchemaDatabaseName) {
		return true
	}
	if c.HasGlobal(ctx, sql.PrivilegeType_Super) {
		return true
	}
	ps := c.db.UserActivePrivilegeSet(ctx)
	dbSet := ps.Database(baseDatabase(db))
	return ps.Count() > 0 || dbSet.Count() > 0 || dbSet.Table(table).HasPrivileges()
}
