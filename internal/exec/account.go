package exec

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
)

// Calls are authorized as the account that bound them
//
// MySQL runs a trigger's body, a SQL SECURITY DEFINER procedure and a
// DEFINER view with their definer's privileges. go-mysql-server (patch 6)
// binds such a body as its definer, but evaluates a trigger's body after
// the firing session's user is restored, and a Batch node authorizes the
// calls it drives wherever it sits in the plan, which for a trigger's
// calls is outside the trigger. So a FuncCall records the account whose
// privileges were in force when the call was bound (BindAccounts), and is
// authorized as that account: the definer for a call in a trigger, a
// definer's procedure or view, the session's user for a call in its own
// statement. A user who may INSERT into a table then fires its owner's
// scoring trigger without EXECUTE on the model's function, as in MySQL,
// and a definer who loses the privilege stops the trigger for everyone.

// BindAccounts returns next with every FuncCall it makes recording the
// session's account at the time the call is bound.
func BindAccounts(next sql.FunctionProvider) sql.FunctionProvider {
	return accountBinder{next: next}
}

type accountBinder struct{ next sql.FunctionProvider }

// Function implements sql.FunctionProvider.
func (p accountBinder) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	fn, ok := p.next.Function(ctx, name)
	if !ok || ctx == nil || ctx.Session == nil {
		return fn, ok
	}
	cl := ctx.Session.Client()
	return boundFunction{Function: fn, account: Account{User: cl.User, Host: cl.Address}}, true
}

// boundFunction makes its function's calls record account.
type boundFunction struct {
	sql.Function
	account Account
}

// NewInstance implements sql.Function.
func (f boundFunction) NewInstance(args []sql.Expression) (sql.Expression, error) {
	e, err := f.Function.NewInstance(args)
	if c, ok := e.(*FuncCall); ok && err == nil {
		nc := *c
		nc.account = f.account
		return &nc, nil
	}
	return e, err
}

// Account is the account a call is authorized as: a user and the host part
// of her account. The zero Account is the evaluating session's user; a
// session without a user (only the server's own sessions have none) binds
// calls to it too.
type Account struct{ User, Host string }

// authorizeAs runs a's check with account's privileges: the session's own
// when account is the zero Account or the session's user, else with
// account made the session's user for the check (sql.RunAsDefiner).
func authorizeAs(ctx *sql.Context, account Account, a Authorizer) error {
	cl := ctx.Session.Client()
	if account.User == "" || (account.User == cl.User && account.Host == cl.Address) {
		return a.Authorize(ctx)
	}
	quote := func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
	restore, _ := sql.RunAsDefiner(ctx, quote(account.User)+"@"+quote(account.Host))
	defer restore()
	return a.Authorize(ctx)
}
