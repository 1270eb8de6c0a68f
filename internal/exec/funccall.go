package exec

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"

	"github.com/sibyldb/sibyldb/internal/recovered"
)

// FuncCall is the Call expression of a batchable SQL function: endpoint
// functions and the prediction functions of trained models share it, and
// differ only in their Invoker and in how a result becomes a SQL value.
type FuncCall struct {
	inv  Invoker
	args []sql.Expression
	typ  sql.Type
	slot *Slot
	opts FuncCallOptions
	// account is the account the call is authorized as (see
	// BindAccounts); zero for the session's user.
	account Account
}

// FuncCallOptions customise a FuncCall.
type FuncCallOptions struct {
	// Single, when set, is told each time a call is evaluated for one
	// row alone (no Batch node covered it), for counters.
	Single func()
	// Convert turns the invoker's result into the SQL value; args
	// evaluates the call's arguments, for conversions (and error
	// messages) that need them. Nil converts with the result type.
	Convert func(ctx *sql.Context, v any, args func() ([]any, error)) (any, error)
	// NonDeterministic, when set, reports whether the function's results
	// may change from call to call (a remote service answers), which
	// stops the engine from treating calls as constant.
	NonDeterministic func() bool
}

var _ Call = (*FuncCall)(nil)

// NewFuncCall returns a call of inv on args returning typ.
func NewFuncCall(inv Invoker, args []sql.Expression, typ sql.Type, opts FuncCallOptions) *FuncCall {
	return &FuncCall{inv: inv, args: args, typ: typ, opts: opts}
}

// Args implements Call.
func (c *FuncCall) Args() []sql.Expression { return c.args }

// Invoker implements Call.
func (c *FuncCall) Invoker() Invoker { return c.inv }

// Account implements Call.
func (c *FuncCall) Account() Account { return c.account }

// WithInvoker returns the call with inv in place of its invoker, bound to
// the same account.
func (c *FuncCall) WithInvoker(inv Invoker) *FuncCall {
	nc := *c
	nc.inv, nc.slot = inv, nil
	return &nc
}

// Slot implements Call.
func (c *FuncCall) Slot() *Slot { return c.slot }

// WithSlot implements Call.
func (c *FuncCall) WithSlot(s *Slot) Call {
	nc := *c
	nc.slot = s
	return &nc
}

// IsNonDeterministic implements sql.NonDeterministicExpression.
func (c *FuncCall) IsNonDeterministic() bool {
	return c.opts.NonDeterministic != nil && c.opts.NonDeterministic()
}

// Resolved implements sql.Expression.
func (c *FuncCall) Resolved() bool { return expression.ExpressionsResolved(c.args...) }

// Type implements sql.Expression.
func (c *FuncCall) Type() sql.Type { return c.typ }

// IsNullable implements sql.Expression.
func (c *FuncCall) IsNullable() bool { return true }

// Children implements sql.Expression.
func (c *FuncCall) Children() []sql.Expression { return c.args }

func (c *FuncCall) String() string {
	parts := make([]string, len(c.args))
	for i, a := range c.args {
		parts[i] = a.String()
	}
	return fmt.Sprintf("%s(%s)", c.inv.Name(), strings.Join(parts, ", "))
}

// DebugString implements sql.DebugStringer (EXPLAIN FORMAT=DEBUG).
func (c *FuncCall) DebugString() string {
	parts := make([]string, len(c.args))
	for i, a := range c.args {
		parts[i] = sql.DebugString(a)
	}
	return fmt.Sprintf("%s(%s)", c.inv.Name(), strings.Join(parts, ", "))
}

// WithChildren implements sql.Expression.
func (c *FuncCall) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != len(c.args) {
		return nil, sql.ErrInvalidChildrenNumber.New(c, len(children), len(c.args))
	}
	nc := *c
	nc.args = children
	return &nc, nil
}

// AuthorizeCall implements privilege.CallAuthorizer: the session's user
// may call the function (checked when a trigger calling it is created).
func (c *FuncCall) AuthorizeCall(ctx *sql.Context) error {
	if a, ok := c.inv.(Authorizer); ok {
		return a.Authorize(ctx)
	}
	return nil
}

// Eval returns the batched result when a Batch node computed it, else
// invokes the function for this row alone.
func (c *FuncCall) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	var args []any
	argsOf := func() ([]any, error) {
		var err error
		if args == nil {
			args, err = evalArgs(ctx, c.args, row)
		}
		return args, err
	}
	// The row the Batch node below returned last: no arguments needed.
	v, ok, err := c.slot.Current(ctx, row)
	if err != nil {
		return nil, err
	}
	if !ok {
		if _, err := argsOf(); err != nil {
			return nil, err
		}
		if v, ok, err = c.slot.Lookup(ctx, args); err != nil {
			return nil, err
		}
	}
	if !ok {
		if a, isAuth := c.inv.(Authorizer); isAuth {
			if err := authorizeAs(ctx, c.account, a); err != nil {
				return nil, err
			}
		}
		if c.opts.Single != nil {
			c.opts.Single()
		}
		vals, err := c.inv.Invoke(ctx, [][]any{args})
		if err != nil {
			return nil, err
		}
		v = vals[0]
	}
	if v == nil {
		return nil, nil
	}
	if c.opts.Convert != nil {
		return c.opts.Convert(ctx, v, argsOf)
	}
	out, _, err := c.typ.Convert(ctx, v)
	return out, err
}

// evalArgs evaluates a call's arguments on row. Lazily loaded values (TEXT,
// BLOB and JSON columns) are loaded, so that they key, compare and encode
// by their content.
//
// A panic in an argument expression (a built-in's bug) becomes the
// statement's error: evalArgs runs in goroutines of our own, where an
// unrecovered panic would end the server.
func evalArgs(ctx *sql.Context, exprs []sql.Expression, row sql.Row) (_ []any, err error) {
	defer recovered.Capture(&err)
	args := make([]any, len(exprs))
	for i, e := range exprs {
		v, err := e.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		if u, err := sql.UnwrapAny(ctx, v); err == nil {
			v = u
		}
		args[i] = v
	}
	return args, nil
}
