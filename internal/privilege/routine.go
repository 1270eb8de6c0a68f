package privilege

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/vitess/go/mysql"
)

// CanAlterRoutine reports whether the session's user may drop or alter
// the function db.fn: ALTER ROUTINE granted globally, on the database or
// on the routine itself (which its creator receives).
func (c *Checker) CanAlterRoutine(ctx *sql.Context, db, fn string) bool {
	if c.db == nil || !c.db.Enabled() {
		return true
	}
	return c.db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(
		sql.PrivilegeCheckSubject{Database: db, Routine: fn}, sql.PrivilegeType_AlterRoutine))
}

// AlterRoutineDenied is MySQL's ER_PROCACCESS_DENIED_ERROR for DROP.
func AlterRoutineDenied(ctx *sql.Context, db, fn string) error {
	cl := ctx.Session.Client()
	return mysql.NewSQLError(1370, "42000", "alter routine command denied to user '%s'@'%s' for routine '%s.%s'", cl.User, cl.Address, db, fn)
}

// GrantCreator gives the session's account EXECUTE and ALTER ROUTINE on
// the function it just created, as MySQL does with automatic_sp_privileges
// (ON by default): a creator may use and drop its own function without
// holding those privileges on the whole database.
func (c *Checker) GrantCreator(ctx *sql.Context, db, fn string) error {
	if c.db == nil || !c.db.Enabled() {
		return nil
	}
	cl := ctx.Session.Client()
	ed := c.db.Editor()
	defer ed.Close()
	u := c.db.GetUser(ed, cl.User, cl.Address, false)
	if u == nil {
		return nil
	}
	u.PrivilegeSet.AddRoutine(db, fn, false, sql.PrivilegeType_Execute, sql.PrivilegeType_AlterRoutine)
	ed.PutUser(u)
	return c.db.Persist(ctx, ed)
}

// DropRoutinePrivileges removes every account's privileges on the
// function db.fn when it is dropped, as MySQL does, so that a later
// function of the same name does not inherit them.
func (c *Checker) DropRoutinePrivileges(ctx *sql.Context, db, fn string) error {
	if c.db == nil || !c.db.Enabled() {
		return nil
	}
	ed := c.db.Editor()
	defer ed.Close()
	var changed []*mysql_db.User
	ed.VisitUsers(func(u *mysql_db.User) {
		if u.PrivilegeSet.Database(db).Routine(fn, false).Count() > 0 {
			changed = append(changed, u)
		}
	})
	if len(changed) == 0 {
		return nil
	}
	for _, u := range changed {
		u.PrivilegeSet.RemoveRoutine(db, fn, false, sql.PrivilegeType_Execute, sql.PrivilegeType_AlterRoutine, sql.PrivilegeType_GrantOption)
		ed.PutUser(u)
	}
	return c.db.Persist(ctx, ed)
}

// HasOn reports whether the session's user holds the static privilege
// priv on database db (or globally).
func (c *Checker) HasOn(ctx *sql.Context, db string, priv sql.PrivilegeType) bool {
	if c.db == nil || !c.db.Enabled() {
		return true
	}
	return c.db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(sql.PrivilegeCheckSubject{Database: db}, priv))
}
