// Package builtins replaces a few of go-mysql-server's built-in functions
// with guarded versions: string functions whose result size a user
// controls are bounded by max_allowed_packet (as MySQL bounds them), and
// functions that panic on some arguments get MySQL's answer instead.
//
// The guards wrap GMS's own implementations rather than copying them, so
// the functions keep GMS's types, collations and conversions; only the
// argument checks are ours. The upstream bugs are listed in fixes.go.
package builtins

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
)

// Provider serves the guarded functions, and everything else from Next.
// GMS consults it (as analyzer.ExternalFunctionProvider) before its own
// built-ins.
type Provider struct {
	Next  sql.FunctionProvider
	funcs map[string]sql.Function
}

var _ sql.FunctionProvider = (*Provider)(nil)

// NewProvider returns the guarded built-ins in front of next.
func NewProvider(next sql.FunctionProvider) *Provider {
	p := &Provider{Next: next, funcs: map[string]sql.Function{}}
	byName := map[string]sql.Function{}
	for _, fn := range function.BuiltIns {
		byName[strings.ToLower(fn.FunctionName())] = fn
	}
	for name, g := range guards {
		orig, ok := byName[name]
		if !ok {
			continue // not in this GMS version: nothing to guard
		}
		p.funcs[name] = sql.FunctionN{Name: name, Fn: g.wrap(name, orig)}
	}
	return p
}

// Function implements sql.FunctionProvider.
func (p *Provider) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	if fn, ok := p.funcs[strings.ToLower(name)]; ok {
		return fn, true
	}
	if p.Next == nil {
		return nil, false
	}
	return p.Next.Function(ctx, name)
}

// Guarded reports whether name is one of the replaced built-ins.
func Guarded(name string) bool {
	_, ok := guards[strings.ToLower(name)]
	return ok
}
