package privilege

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// guard enforces, when a statement runs, the MySQL 8 privilege rules GMS
// leaves out:
//
//   - SET GLOBAL / PERSIST / PERSIST_ONLY need SYSTEM_VARIABLES_ADMIN or
//     SUPER (1227), SET SESSION of a global-only variable is 1229, SET
//     GLOBAL of a session-only one 1228, and read-only variables 1238;
//   - DEFINER = another account needs SET_USER_ID or SUPER, and SYSTEM_USER
//     when that account holds it;
//   - ALTER / DROP / RENAME USER, DROP ROLE, GRANT and REVOKE (privileges
//     and roles) on an account holding SYSTEM_USER need SYSTEM_USER.
//
// It is a priority exec builder, consulted for every node the engine
// builds, so the rules hold wherever the statement comes from: the client,
// a prepared statement, a stored procedure (each of whose statements runs
// through the engine) or a trigger body. It only checks; every node is then
// built by the builders behind it.
type guard struct {
	next    sql.NodeExecBuilder
	checker *Checker
}

// InstallGuard puts the privilege guard in front of the engine's executor.
func InstallGuard(b *rowexec.BaseBuilder, c *Checker) {
	if _, ok := b.PriorityBuilder.(guard); ok {
		return
	}
	b.PriorityBuilder = guard{next: b.PriorityBuilder, checker: c}
}

// Build implements sql.NodeExecBuilder.
func (g guard) Build(ctx *sql.Context, n sql.Node, r sql.Row) (sql.RowIter, error) {
	if err := g.check(ctx, n); err != nil {
		return nil, err
	}
	if g.next == nil {
		return nil, nil
	}
	return g.next.Build(ctx, n, r)
}

func (g guard) check(ctx *sql.Context, n sql.Node) error {
	c := g.checker
	switch n := n.(type) {
	case *plan.Set:
		return g.checkSet(ctx, n)
	case *plan.AlterUser:
		return c.MayModify(ctx, accountOf(n.User.UserName))
	case *plan.DropUser:
		return c.MayModify(ctx, accountsOf(n.Users)...)
	case *plan.DropRole:
		return c.MayModify(ctx, accountsOf(n.Roles)...)
	case *plan.RenameUser:
		return c.MayModify(ctx, accountsOf(n.OldName)...)
	case *plan.Grant:
		return c.MayModify(ctx, accountsOf(n.Users)...)
	case *plan.Revoke:
		return c.MayModify(ctx, accountsOf(n.Users)...)
	case *plan.GrantRole:
		// Granting a role that holds SYSTEM_USER confers it, so the
		// roles count as well as the grantees.
		return c.MayModify(ctx, append(accountsOf(n.TargetUsers), accountsOf(n.Roles)...)...)
	case *plan.RevokeRole:
		return c.MayModify(ctx, accountsOf(n.TargetUsers)...)
	case *plan.CreateView:
		return c.CheckDefiner(ctx, n.Definer)
	case *plan.CreateTrigger:
		if err := c.CheckDefiner(ctx, n.Definer); err != nil {
			return err
		}
		return checkCalls(ctx, n.Body)
	case *plan.CreateEvent:
		return c.CheckDefiner(ctx, n.Definer)
	case *plan.AlterEvent:
		return c.CheckDefiner(ctx, n.Definer)
	case *plan.CreateProcedure:
		return c.CheckDefiner(ctx, procedureDefiner(n.StoredProcDetails.CreateStatement))
	}
	return nil
}

// CallAuthorizer is an expression calling a function whose use needs
// privileges (the ML functions: EXECUTE, INVOKE SAGEMAKER, ...), which it
// checks for the session's user.
type CallAuthorizer interface {
	sql.Expression
	AuthorizeCall(ctx *sql.Context) error
}

// checkCalls checks every privileged function call in a trigger body for
// the user creating the trigger. The engine runs a trigger with the
// privileges of the session that fires it, not of its definer, and checks
// the tables a body names when the trigger is created; without this a
// user with TRIGGER could make a more privileged user's INSERT call an ML
// function she may not call, into a column she can read.
func checkCalls(ctx *sql.Context, body sql.Node) error {
	var err error
	var inspectNode func(sql.Node)
	inspectExpr := func(e sql.Expression) bool {
		switch e := e.(type) {
		case CallAuthorizer:
			err = e.AuthorizeCall(ctx)
		case *plan.Subquery:
			inspectNode(e.Query)
		}
		return err == nil
	}
	inspectNode = func(n sql.Node) {
		transform.Inspect(n, func(n sql.Node) bool {
			if err != nil {
				return false
			}
			if ex, ok := n.(sql.Expressioner); ok {
				for _, e := range ex.Expressions() {
					sql.Inspect(e, inspectExpr)
				}
			}
			// An INSERT's rows are not among its children.
			if ins, ok := n.(*plan.InsertInto); ok && ins.Source != nil {
				inspectNode(ins.Source)
			}
			return err == nil
		})
	}
	inspectNode(body)
	return err
}

// procedureDefiner is the DEFINER clause of a CREATE PROCEDURE statement,
// which the plan keeps only as text ("" when absent).
func procedureDefiner(create string) string {
	st, err := ast.Parse(create)
	if err != nil {
		return ""
	}
	if ddl, ok := st.(*ast.DDL); ok && ddl.ProcedureSpec != nil {
		return ddl.ProcedureSpec.Definer
	}
	return ""
}

// checkSet applies MySQL's checks to each system variable a SET assigns,
// in MySQL's order (read-only, scope, privilege), before any is assigned.
func (g guard) checkSet(ctx *sql.Context, n *plan.Set) error {
	for _, e := range n.Exprs {
		sf, ok := e.(*expression.SetField)
		if !ok {
			continue
		}
		sv, ok := sf.LeftChild.(*expression.SystemVar)
		if !ok {
			continue
		}
		scope, ok := sv.Scope.(*sql.MysqlScope)
		if !ok {
			// An integrator's own scope: treat anything that is not
			// plainly the session as global.
			if !sv.Scope.IsSessionOnly() && !g.checker.HasAny(ctx, SystemVariablesAdmin) {
				return DeniedAny("SUPER", SystemVariablesAdmin)
			}
			continue
		}
		def, _, known := sql.SystemVariables.GetGlobal(sv.Name)
		global := scope.Type != sql.SystemVariableScope_Session
		if known {
			if def.IsReadOnly() && scope.Type != sql.SystemVariableScope_PersistOnly {
				return mysql.NewSQLError(mysql.ERIncorrectGlobalLocalVar, "HY000", "Variable '%s' is a read only variable", def.GetName())
			}
			if !global && def.IsGlobalOnly() {
				return mysql.NewSQLError(mysql.ERGlobalVariable, "HY000", "Variable '%s' is a GLOBAL variable and should be set with SET GLOBAL", def.GetName())
			}
			if global && sessionOnly(def) {
				return mysql.NewSQLError(mysql.ERLocalVariable, "HY000", "Variable '%s' is a SESSION variable and can't be used with SET GLOBAL", def.GetName())
			}
		}
		if global && !g.checker.HasAny(ctx, SystemVariablesAdmin) {
			return DeniedAny("SUPER", SystemVariablesAdmin)
		}
	}
	return nil
}

func sessionOnly(v sql.SystemVariable) bool {
	m, ok := v.(*sql.MysqlSystemVariable)
	return ok && m.Scope != nil && m.Scope.IsSessionOnly()
}

func accountOf(u plan.UserName) Account {
	host := u.Host
	if u.AnyHost || host == "" {
		host = "%"
	}
	return Account{User: u.Name, Host: strings.Trim(host, "`'\"")}
}

func accountsOf(us []plan.UserName) []Account {
	out := make([]Account, len(us))
	for i, u := range us {
		out[i] = accountOf(u)
	}
	return out
}
