package privilege

import (
	"net"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/vitess/go/mysql"
)

// MySQL 8's administrative dynamic privileges that SibylDB enforces. GMS
// knows their names (GRANT accepts the first two) but checks none of them.
const (
	// SystemVariablesAdmin allows SET GLOBAL, SET PERSIST and SET
	// PERSIST_ONLY.
	SystemVariablesAdmin = "SYSTEM_VARIABLES_ADMIN"
	// SetUserID allows naming another account as the DEFINER of a view,
	// routine, trigger, event or ML function.
	SetUserID = "SET_USER_ID"
	// SystemUser marks an account that only accounts holding SYSTEM_USER
	// themselves may modify (ALTER/DROP/RENAME USER, GRANT, REVOKE) or
	// name as a DEFINER (MySQL 8.0.16+). Unlike every other privilege,
	// SUPER does not imply it.
	SystemUser = "SYSTEM_USER"
)

// DeniedAny is MySQL's ER_SPECIFIC_ACCESS_DENIED_ERROR naming the
// privileges of which one would do, written as MySQL writes them.
func DeniedAny(privs ...string) error {
	return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
		"Access denied; you need (at least one of) the %s privilege(s) for this operation", strings.Join(privs, " or "))
}

// HasAny reports whether the session's user holds SUPER or one of the
// dynamic privileges privs (directly or through an active role).
func (c *Checker) HasAny(ctx *sql.Context, privs ...string) bool {
	if c.db == nil || !c.db.Enabled() {
		return true
	}
	ps := c.db.UserActivePrivilegeSet(ctx)
	if ps.Has(sql.PrivilegeType_Super) {
		return true
	}
	for _, p := range privs {
		if ps.HasDynamic(p) {
			return true
		}
	}
	return false
}

// IsSystemUser reports whether the session's user holds SYSTEM_USER.
// SUPER does not count: that is the point of SYSTEM_USER.
func (c *Checker) IsSystemUser(ctx *sql.Context) bool {
	if c.db == nil || !c.db.Enabled() {
		return true
	}
	return c.db.UserActivePrivilegeSet(ctx).HasDynamic(SystemUser)
}

// accountHolds reports whether the account a (exactly that user and host,
// or a role) holds the dynamic privilege priv, directly or through a
// granted role.
func (c *Checker) accountHolds(a Account, priv string) bool {
	rd := c.db.Reader()
	defer rd.Close()
	u, ok := rd.GetUser(mysql_db.UserPrimaryKey{User: a.User, Host: a.Host})
	if !ok {
		return false
	}
	if u.PrivilegeSet.HasDynamic(priv) {
		return true
	}
	for _, edge := range rd.GetToUserRoleEdges(mysql_db.RoleEdgesToKey{ToHost: u.Host, ToUser: u.User}) {
		if role, ok := rd.GetUser(mysql_db.UserPrimaryKey{User: edge.FromUser, Host: edge.FromHost}); ok && role.PrivilegeSet.HasDynamic(priv) {
			return true
		}
	}
	return false
}

// MayModify enforces MySQL 8.0.16's rule that only a session holding
// SYSTEM_USER may alter, drop, rename, grant to or revoke from an account
// (or role) that holds SYSTEM_USER: otherwise anyone with CREATE USER could
// take over root.
func (c *Checker) MayModify(ctx *sql.Context, accounts ...Account) error {
	if c.db == nil || !c.db.Enabled() || c.IsSystemUser(ctx) {
		return nil
	}
	for _, a := range accounts {
		if c.accountHolds(a, SystemUser) {
			return DeniedAny(SystemUser)
		}
	}
	return nil
}

// CheckDefiner enforces MySQL 8's rules for DEFINER = account: naming an
// account other than one's own needs SET_USER_ID (or SUPER), and naming an
// account that holds SYSTEM_USER needs SYSTEM_USER. definer is written as
// in the statement ('u'@'h', `u`@`h`, u@h or CURRENT_USER); "" means the
// session's own account.
func (c *Checker) CheckDefiner(ctx *sql.Context, definer string) error {
	if c.db == nil || !c.db.Enabled() {
		return nil
	}
	d := strings.TrimSpace(definer)
	if d == "" || strings.EqualFold(strings.TrimSuffix(d, "()"), "CURRENT_USER") {
		return nil
	}
	a := ParseAccount(d)
	if !c.isSelf(ctx, a) {
		if !c.HasAny(ctx, SetUserID) {
			return DeniedAny("SUPER", SetUserID)
		}
		if !c.IsSystemUser(ctx) && c.accountHolds(a, SystemUser) {
			return DeniedAny(SystemUser)
		}
	}
	return nil
}

// isSelf reports whether a names the session's account: the same user,
// and either the host of the account it authenticated as or its client
// address (localhost and the loopback addresses being one host).
func (c *Checker) isSelf(ctx *sql.Context, a Account) bool {
	cl := ctx.Session.Client()
	if a.User != cl.User {
		return false
	}
	if strings.EqualFold(a.Host, cl.Address) || (isLocal(a.Host) && isLocal(cl.Address)) {
		return true
	}
	rd := c.db.Reader()
	defer rd.Close()
	u := c.db.GetUser(rd, cl.User, cl.Address, false)
	return u != nil && u.User == a.User && strings.EqualFold(u.Host, a.Host)
}

func isLocal(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// EnsureSystemUser gives every root account SYSTEM_USER (with GRANT
// OPTION), as MySQL 8.0.16+ does at initialisation, so that accounts with
// only CREATE USER cannot alter root. Data directories created before
// SibylDB knew SYSTEM_USER get it on their next start.
func (c *Checker) EnsureSystemUser(ctx *sql.Context) error {
	ed := c.db.Editor()
	defer ed.Close()
	changed := false
	for _, u := range ed.GetUsersByUsername("root") {
		if u.IsRole || u.PrivilegeSet.HasDynamic(SystemUser) {
			continue
		}
		u.PrivilegeSet.AddGlobalDynamic(true, SystemUser)
		ed.PutUser(u)
		changed = true
	}
	if !changed {
		return nil
	}
	return c.db.Persist(ctx, ed)
}

// KillTarget marks a KILL statement's authorization with the connection
// it names (the parser sets it), so that AuthorizeKill can judge it.
type KillTarget uint32

// AuthorizeKill is MySQL's rule for KILL [QUERY | CONNECTION] id: anyone
// may end her own threads; another account's need CONNECTION_ADMIN or
// SUPER, and SYSTEM_USER too when that account holds it. The vitess grammar
// asked SUPER of every KILL, so a user could not cancel her own query (the
// mariadb and mysql clients send KILL QUERY on Ctrl-C, as the same user),
// and SUPER alone could end root's. Errors are MySQL's 1094 for a thread
// that does not exist and 1095 for one the session may not end.
func (c *Checker) AuthorizeKill(ctx *sql.Context, id uint32) error {
	admin := c.HasGlobal(ctx, sql.PrivilegeType_Super) || c.Allowed(ctx, Account{}, "CONNECTION_ADMIN")
	if c.ThreadOwner == nil {
		if admin {
			return nil
		}
		return DeniedAny("CONNECTION_ADMIN", "SUPER")
	}
	owner, ok := c.ThreadOwner(id)
	switch {
	case !ok && admin:
		// Not a client connection (the server's own sessions): as
		// before, the engine's process list decides.
		return nil
	case !ok:
		return mysql.NewSQLError(1094, "HY000", "Unknown thread id: %d", id)
	}
	cl := ctx.Session.Client()
	if owner == (Account{User: cl.User, Host: cl.Address}) {
		return nil
	}
	if !admin || (c.db != nil && c.db.Enabled() && !c.IsSystemUser(ctx) && c.accountHolds(owner, SystemUser)) {
		return mysql.NewSQLError(1095, "HY000", "You are not owner of thread %d", id)
	}
	return nil
}
