package plancache

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// authCheck is a cached plan's privilege check: the check binding would
// make for the statement's table, repeated on every reuse. Running it
// through the authorization handler builds a fresh query state each time
// (a catalog lookup of the mysql database, a read lock on the grant
// tables, the user's record), so a passed check is remembered for the
// user and the version of the grant tables it passed at. The version is
// the MySQLDb's update counter, which every change of users, roles or
// grants advances (mysql_db.Editor.Close) and which the session's cached
// privilege set is stamped with; a different user, or any change of
// privileges anywhere, checks again, and so does a session whose account
// no longer exists. A failed check is never remembered.
//
// A dropped account's session keeps its privilege set and the old counter
// (GMS's UserActivePrivilegeSet leaves them when it finds no user), so the
// counter alone does not tell that the account is gone; but then
// UserActivePrivilegeSet returns an empty set, and an empty set checks
// again. (So does an account without any privilege, which could not have
// passed a SELECT check through its grants anyway.) This avoids looking the
// account up in the grant tables on every execute.
//
// An authCheck belongs to one connection's plan; a connection runs one
// statement at a time, so it needs no lock.
type authCheck struct {
	auth ast.AuthInformation
	// passed is set when the check passed for user@host at counter.
	passed     bool
	user, host string
	counter    uint64
}

// grantTables returns the catalog's MySQLDb, if it checks privileges.
func grantTables(cat sql.Catalog) *mysql_db.MySQLDb {
	c, ok := cat.(*analyzer.Catalog)
	if !ok || c.MySQLDb == nil || !c.MySQLDb.Enabled() {
		return nil
	}
	return c.MySQLDb
}

// check repeats the privilege check, or returns nil when it passed for
// this user at the current version of the grant tables.
func (a *authCheck) check(ctx *sql.Context, cat sql.Catalog) error {
	db := grantTables(cat)
	if db == nil {
		return cat.AuthorizationHandler().HandleAuth(ctx, nil, a.auth)
	}
	// Brings the session's privilege set up to date and stamps it with the
	// grant tables' current version, read before the check below; empty
	// when the account no longer exists.
	privs := db.UserActivePrivilegeSet(ctx)
	_, counter := ctx.Session.GetPrivilegeSet()
	client := ctx.Session.Client()
	if a.passed && a.counter == counter && a.user == client.User && a.host == client.Address && privs.HasPrivileges() {
		return nil
	}
	a.passed = false
	if err := cat.AuthorizationHandler().HandleAuth(ctx, nil, a.auth); err != nil {
		return err
	}
	a.passed, a.user, a.host, a.counter = true, client.User, client.Address, counter
	return nil
}
