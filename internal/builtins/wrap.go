package builtins

import (
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
)

// guard makes the replacement of one built-in from GMS's original.
type guard interface {
	wrap(name string, orig sql.Function) sql.CreateFuncNArgs
}

// precheck guards a function by looking at its evaluated arguments first.
// It returns done with the result when the function must not run (a
// result too large, an argument GMS mishandles); otherwise GMS's
// implementation computes the result from the same values.
type precheck func(ctx *sql.Context, name string, args []any) (result any, done bool, err error)

func (p precheck) wrap(name string, orig sql.Function) sql.CreateFuncNArgs {
	return func(args ...sql.Expression) (sql.Expression, error) {
		inner, err := orig.NewInstance(args)
		if err != nil {
			return nil, err
		}
		return &checked{wrapper: wrapper{name: name, inner: inner}, check: p}, nil
	}
}

// onPanic guards a function whose implementation panics on some input
// that cannot be told cheaply from the arguments: the panic becomes the
// error MySQL gives for that input.
type onPanic func(r any) error

func (p onPanic) wrap(name string, orig sql.Function) sql.CreateFuncNArgs {
	return func(args ...sql.Expression) (sql.Expression, error) {
		inner, err := orig.NewInstance(args)
		if err != nil {
			return nil, err
		}
		return &recovering{wrapper: wrapper{name: name, inner: inner}, err: p}, nil
	}
}

// wrapper forwards everything but Eval to GMS's expression.
type wrapper struct {
	name  string
	inner sql.Expression
}

func (w *wrapper) Resolved() bool             { return w.inner.Resolved() }
func (w *wrapper) String() string             { return w.inner.String() }
func (w *wrapper) Type() sql.Type             { return w.inner.Type() }
func (w *wrapper) IsNullable() bool           { return true }
func (w *wrapper) Children() []sql.Expression { return w.inner.Children() }
func (w *wrapper) FunctionName() string       { return w.name }
func (w *wrapper) Description() string        { return describe(w.inner) }
func (w *wrapper) withChildren(children []sql.Expression) (sql.Expression, error) {
	return w.inner.WithChildren(children...)
}

// CollationCoercibility implements sql.CollationCoercible.
func (w *wrapper) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return sql.GetCoercibility(ctx, w.inner)
}

// Dispose implements sql.Disposable (the regular expression functions
// hold a compiled pattern).
func (w *wrapper) Dispose() {
	if d, ok := w.inner.(sql.Disposable); ok {
		d.Dispose()
	}
}

func describe(e sql.Expression) string {
	if f, ok := e.(sql.FunctionExpression); ok {
		return f.Description()
	}
	return ""
}

// checked is a precheck-guarded function.
type checked struct {
	wrapper
	check precheck
}

var _ sql.FunctionExpression = (*checked)(nil)
var _ sql.CollationCoercible = (*checked)(nil)

// WithChildren implements sql.Expression.
func (c *checked) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	inner, err := c.withChildren(children)
	if err != nil {
		return nil, err
	}
	return &checked{wrapper: wrapper{name: c.name, inner: inner}, check: c.check}, nil
}

// Eval evaluates each argument once, checks the values, then runs GMS's
// implementation over them as literals (a fresh copy per row, so that
// the expression holds no per-row state).
func (c *checked) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	children := c.inner.Children()
	vals := make([]any, len(children))
	for i, e := range children {
		v, err := e.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		if u, err := sql.UnwrapAny(ctx, v); err == nil {
			v = u
		}
		vals[i] = v
	}
	if res, done, err := c.check(ctx, c.name, vals); done || err != nil {
		return res, err
	}
	lits := make([]sql.Expression, len(children))
	for i, e := range children {
		lits[i] = expression.NewLiteral(vals[i], e.Type())
	}
	inner, err := c.inner.WithChildren(lits...)
	if err != nil {
		return nil, err
	}
	return inner.Eval(ctx, row)
}

// recovering is an onPanic-guarded function.
type recovering struct {
	wrapper
	err onPanic
}

var _ sql.FunctionExpression = (*recovering)(nil)
var _ sql.CollationCoercible = (*recovering)(nil)
var _ sql.Disposable = (*recovering)(nil)

// WithChildren implements sql.Expression.
func (r *recovering) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	inner, err := r.withChildren(children)
	if err != nil {
		return nil, err
	}
	return &recovering{wrapper: wrapper{name: r.name, inner: inner}, err: r.err}, nil
}

// Eval implements sql.Expression.
func (r *recovering) Eval(ctx *sql.Context, row sql.Row) (v any, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = nil, r.err(p)
		}
	}()
	return r.inner.Eval(ctx, row)
}

// GoString names the wrapped function in test failures.
func (w *wrapper) GoString() string { return fmt.Sprintf("builtins.%s(%s)", w.name, w.inner) }
