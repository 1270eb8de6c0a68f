// Package privilege implements Aurora MySQL's ML and S3 privileges on top
// of GMS's accounts: GRANT INVOKE SAGEMAKER / INVOKE COMPREHEND / SELECT
// INTO S3 / LOAD FROM S3 ON *.* (Aurora v2) and the roles
// AWS_SAGEMAKER_ACCESS / AWS_COMPREHEND_ACCESS / AWS_SELECT_S3_ACCESS /
// AWS_LOAD_S3_ACCESS (Aurora v3).
//
// They are GMS dynamic privileges, so they persist with the other grants and
// SHOW GRANTS lists them. GMS's grammar only accepts a fixed set of dynamic
// privilege names, so the GRANT and REVOKE forms are parsed by SibylDB and
// applied here through the account editor.
package privilege

import (
	"fmt"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/vitess/go/mysql"
)

// The dynamic privileges, as stored.
const (
	InvokeSageMaker  = "INVOKE_SAGEMAKER"
	InvokeComprehend = "INVOKE_COMPREHEND"
	// InvokeBedrock governs Aurora's AWS_BEDROCK_INVOKE_MODEL functions.
	InvokeBedrock = "INVOKE_BEDROCK"
	// CreateEndpoint governs CREATE, ALTER, DROP and SHOW ENDPOINT(S).
	CreateEndpoint = "CREATE_ENDPOINT"
	// CreateModel governs CREATE MODEL (Redshift ML's GRANT CREATE MODEL).
	CreateModel = "CREATE_MODEL"
	// SelectIntoS3 governs SELECT ... INTO OUTFILE S3 (Aurora's GRANT
	// SELECT INTO S3).
	SelectIntoS3 = "SELECT_INTO_S3"
	// LoadFromS3 governs LOAD DATA FROM S3 (Aurora's GRANT LOAD FROM S3).
	LoadFromS3 = "LOAD_FROM_S3"
)

// Roles maps the Aurora v3 role names to the privilege each carries.
var Roles = map[string]string{
	"AWS_SAGEMAKER_ACCESS":  InvokeSageMaker,
	"AWS_COMPREHEND_ACCESS": InvokeComprehend,
	"AWS_BEDROCK_ACCESS":    InvokeBedrock,
	"AWS_SELECT_S3_ACCESS":  SelectIntoS3,
	"AWS_LOAD_S3_ACCESS":    LoadFromS3,
}

// Display is how a privilege is written in GRANT and in errors.
func Display(priv string) string { return strings.ReplaceAll(priv, "_", " ") }

// Account is user@host.
type Account struct{ User, Host string }

// String writes the account as MySQL does in messages.
func (a Account) String() string { return fmt.Sprintf("'%s'@'%s'", a.User, a.Host) }

// ParseAccount splits "`u`@`h`", "'u'@'h'" or "u" (host %).
func ParseAccount(s string) Account {
	user, host, found := strings.Cut(s, "@")
	if !found {
		host = "%"
	}
	trim := func(v string) string { return strings.Trim(v, "`'\"") }
	return Account{User: trim(user), Host: trim(host)}
}

// Checker grants, revokes and checks the ML privileges.
type Checker struct {
	db *mysql_db.MySQLDb
	// ThreadOwner, set by the server, returns the account a connection
	// authenticated as, for KILL (see AuthorizeKill).
	ThreadOwner func(connID uint32) (Account, bool)
}

// Bind attaches the server's account database; the checker exists before
// the engine so that the statements using it can be registered first.
func (c *Checker) Bind(db *mysql_db.MySQLDb) { c.db = db }

// CanExecute reports whether the session's user may execute db.fn
// (EXECUTE granted globally, on the database or on the routine).
func (c *Checker) CanExecute(ctx *sql.Context, db, fn string) bool {
	return c.db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(
		sql.PrivilegeCheckSubject{Database: db, Routine: fn}, sql.PrivilegeType_Execute))
}

// HasGlobal reports whether the session's user holds a static privilege
// globally (FILE for file:// URIs).
func (c *Checker) HasGlobal(ctx *sql.Context, priv sql.PrivilegeType) bool {
	if !c.db.Enabled() {
		return true
	}
	return c.db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(sql.PrivilegeCheckSubject{}, priv))
}

// TableDenied is MySQL's ER_TABLEACCESS_DENIED_ERROR: command (SELECT,
// UPDATE, ...) refused on table for the session's user.
func TableDenied(ctx *sql.Context, command, table string) error {
	cl := ctx.Session.Client()
	return mysql.NewSQLError(erTableAccessDenied, "42000", "%s command denied to user '%s'@'%s' for table '%s'", command, cl.User, cl.Address, table)
}

// DatabaseDenied is MySQL's ER_DBACCESS_DENIED_ERROR: database refused to
// the session's user.
func DatabaseDenied(ctx *sql.Context, db string) error {
	cl := ctx.Session.Client()
	return mysql.NewSQLError(mysql.ERDBAccessDenied, "42000", "Access denied for user '%s'@'%s' to database '%s'", cl.User, cl.Address, db)
}

// ExecuteDenied is MySQL's ER_PROCACCESS_DENIED_ERROR.
func ExecuteDenied(ctx *sql.Context, db, fn string) error {
	cl := ctx.Session.Client()
	return mysql.NewSQLError(1370, "42000", "execute command denied to user '%s'@'%s' for routine '%s.%s'", cl.User, cl.Address, db, fn)
}

// EnsureRoles creates the Aurora v3 roles with their privileges when they
// do not exist yet.
func (c *Checker) EnsureRoles(ctx *sql.Context) error {
	ed := c.db.Editor()
	defer ed.Close()
	changed := false
	for role, priv := range Roles {
		if c.db.GetUser(ed, role, "%", true) != nil {
			continue
		}
		ps := mysql_db.NewPrivilegeSet()
		ps.AddGlobalDynamic(false, priv)
		ed.PutUser(&mysql_db.User{User: role, Host: "%", PrivilegeSet: ps, Plugin: "mysql_native_password",
			PasswordLastChanged: time.Now().UTC(), Locked: true, IsRole: true})
		changed = true
	}
	if !changed {
		return nil
	}
	return c.db.Persist(ctx, ed)
}

// Grant gives priv to the accounts.
func (c *Checker) Grant(ctx *sql.Context, priv string, accounts []Account, withGrantOption bool) error {
	return c.edit(ctx, accounts, func(u *mysql_db.User) { u.PrivilegeSet.AddGlobalDynamic(withGrantOption, priv) })
}

// GrantExecute gives EXECUTE on the function db.fn, which GMS's own GRANT
// refuses ("fine grain function permissions currently unsupported") though
// its privilege checks honour it.
func (c *Checker) GrantExecute(ctx *sql.Context, db, fn string, accounts []Account) error {
	return c.edit(ctx, accounts, func(u *mysql_db.User) { u.PrivilegeSet.AddRoutine(db, fn, false, sql.PrivilegeType_Execute) })
}

// RevokeExecute takes EXECUTE on db.fn away.
func (c *Checker) RevokeExecute(ctx *sql.Context, db, fn string, accounts []Account) error {
	return c.edit(ctx, accounts, func(u *mysql_db.User) { u.PrivilegeSet.RemoveRoutine(db, fn, false, sql.PrivilegeType_Execute) })
}

// Revoke takes priv from the accounts.
func (c *Checker) Revoke(ctx *sql.Context, priv string, accounts []Account) error {
	// GMS stores dynamic privileges lower-cased but removes them as given.
	return c.edit(ctx, accounts, func(u *mysql_db.User) { u.PrivilegeSet.RemoveGlobalDynamic(strings.ToLower(priv)) })
}

// GrantGlobal gives the global dynamic and static privileges to the
// accounts (one GRANT listing SibylDB's privileges beside MySQL's).
func (c *Checker) GrantGlobal(ctx *sql.Context, dynamic []string, static []sql.PrivilegeType, accounts []Account, withGrantOption bool) error {
	return c.edit(ctx, accounts, func(u *mysql_db.User) {
		if len(dynamic) > 0 {
			u.PrivilegeSet.AddGlobalDynamic(withGrantOption, dynamic...)
		}
		if len(static) > 0 {
			u.PrivilegeSet.AddGlobalStatic(static...)
			if withGrantOption {
				u.PrivilegeSet.AddGlobalStatic(sql.PrivilegeType_GrantOption)
			}
		}
	})
}

// RevokeGlobal takes the global dynamic and static privileges away.
func (c *Checker) RevokeGlobal(ctx *sql.Context, dynamic []string, static []sql.PrivilegeType, accounts []Account) error {
	lower := make([]string, len(dynamic))
	for i, d := range dynamic {
		// GMS stores dynamic privileges lower-cased but removes them as given.
		lower[i] = strings.ToLower(d)
	}
	return c.edit(ctx, accounts, func(u *mysql_db.User) {
		u.PrivilegeSet.RemoveGlobalDynamic(lower...)
		u.PrivilegeSet.RemoveGlobalStatic(static...)
	})
}

// edit changes the accounts' privileges; accounts holding SYSTEM_USER
// are changed only by sessions holding it (MayModify).
func (c *Checker) edit(ctx *sql.Context, accounts []Account, change func(*mysql_db.User)) error {
	if err := c.MayModify(ctx, accounts...); err != nil {
		return err
	}
	ed := c.db.Editor()
	defer ed.Close()
	for _, a := range accounts {
		u := c.db.GetUser(ed, a.User, a.Host, false)
		if u == nil {
			return mysql.NewSQLError(1133, "42000", "Can't find any matching row in the user table for %s", a)
		}
		change(u)
		ed.PutUser(u)
	}
	return c.db.Persist(ctx, ed)
}

// Allowed reports whether account holds priv, directly, through a granted
// role, or as a super user. The zero Account means the session's user.
func (c *Checker) Allowed(ctx *sql.Context, account Account, priv string) bool {
	if !c.db.Enabled() {
		return true
	}
	if account == (Account{}) {
		return c.db.UserHasPrivileges(ctx, sql.NewDynamicPrivilegedOperation(priv))
	}
	rd := c.db.Reader()
	defer rd.Close()
	u := c.db.GetUser(rd, account.User, account.Host, false)
	if u == nil {
		return false
	}
	ps := u.PrivilegeSet.Copy()
	for _, edge := range rd.GetToUserRoleEdges(mysql_db.RoleEdgesToKey{ToHost: u.Host, ToUser: u.User}) {
		if role := c.db.GetUser(rd, edge.FromUser, edge.FromHost, true); role != nil {
			ps.UnionWith(role.PrivilegeSet)
		}
	}
	return ps.Has(sql.PrivilegeType_Super) || ps.HasDynamic(priv)
}

// Denied is MySQL's ER_SPECIFIC_ACCESS_DENIED_ERROR for priv.
func Denied(priv string) error {
	return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
		"Access denied; you need (at least one of) the %s privilege(s) for this operation", Display(priv))
}
