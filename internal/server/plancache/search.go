package plancache

import (
	"bytes"
	"reflect"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/ml/vector/vecsql"
)

// searchPlan is a cached vector search, `SELECT <columns> FROM t ORDER BY
// <distance>(col, <expression of ?>) LIMIT <n>` answered by vecsql's
// VectorIndexScan. Nothing in its analysis depends on the query vector's
// value (the rule only asks that it be constant), so a later execute
// substitutes the new bound literals for the old ones in the analyzed
// plan. Store proves this for the statement: it plans the statement again
// with other values of the same types and requires the substituted plan
// to equal GMS's own.
type searchPlan struct {
	root sql.Node
	// old are the bound literals root was analyzed with.
	old map[string]sql.Expression
	guard
}

// searchShape checks the statement's AST: one base table, plain columns,
// no WHERE, ORDER BY one function call holding every bind variable, LIMIT
// a number.
func searchShape(parsed ast.Statement) (*ast.AliasedTableExpr, bool) {
	sel, ok := parsed.(*ast.Select)
	if !ok || sel.With != nil || !plainOpts(sel.QueryOpts) || len(sel.From) != 1 || sel.Where != nil ||
		len(sel.GroupBy) != 0 || sel.Having != nil || len(sel.OrderBy) != 1 || sel.Limit == nil ||
		sel.Limit.Offset != nil || sel.Lock != nil && (strings.TrimSpace(sel.Lock.Type) != "" || len(sel.Lock.Tables) != 0) ||
		sel.Into != nil || len(sel.Window) != 0 || len(sel.Comments) != 0 {
		return nil, false
	}
	if n, ok := sel.Limit.Rowcount.(*ast.SQLVal); !ok || n.Type != ast.IntVal {
		return nil, false
	}
	te, ok := sel.From[0].(*ast.AliasedTableExpr)
	if !ok || te.AsOf != nil || te.Hints != nil || len(te.Partitions) != 0 {
		return nil, false
	}
	if _, ok := te.Expr.(ast.TableName); !ok {
		return nil, false
	}
	for _, se := range sel.SelectExprs {
		switch e := se.(type) {
		case *ast.StarExpr:
		case *ast.AliasedExpr:
			if c, ok := e.Expr.(*ast.ColName); !ok || c.StoredProcVal != nil {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	fn, ok := sel.OrderBy[0].Expr.(*ast.FuncExpr)
	if !ok || sel.OrderBy[0].Direction != ast.AscScr && sel.OrderBy[0].Direction != "" {
		return nil, false
	}
	if countArgs(sel) != countArgs(fn) || countArgs(fn) == 0 {
		return nil, false
	}
	return te, true
}

func countArgs(n ast.SQLNode) int {
	count := 0
	_ = ast.Walk(func(n ast.SQLNode) (bool, error) {
		if v, ok := n.(*ast.SQLVal); ok && v.Type == ast.ValArg {
			count++
		}
		return true, nil
	}, n)
	return count
}

// newSearchPlan returns the cacheable form of analyzed, if it is a vector
// search of the expected shape whose bound literals can be substituted.
func newSearchPlan(ctx *sql.Context, c *Cache, query string, parsed ast.Statement, bindings map[string]ast.Expr, analyzed sql.Node, lits map[string]sql.Expression) (*searchPlan, bool) {
	te, ok := searchShape(parsed)
	if !ok {
		return nil, false
	}
	var search *vecsql.Search
	shapeOK := true
	transform.Inspect(analyzed, func(n sql.Node) bool {
		switch n := n.(type) {
		case *plan.Limit, *plan.Project, *plan.TopN:
		case *vecsql.Search:
			if search != nil {
				shapeOK = false
			}
			search = n
		default:
			shapeOK = false
		}
		return shapeOK
	})
	if !shapeOK || search == nil {
		return nil, false
	}
	tn, _, _, _ := search.ExplainAccess()
	rt, ok := tn.(*plan.ResolvedTable)
	if !ok {
		return nil, false
	}
	table, ok := doltTableOf(rt.UnderlyingTable())
	if !ok {
		return nil, false
	}
	// The bound literals must be told apart from each other by value.
	for a, la := range lits {
		for b, lb := range lits {
			if a < b && sameLiteral(la, lb) {
				return nil, false
			}
		}
	}
	p := &searchPlan{root: analyzed, old: lits, guard: guard{auth: &authCheck{auth: te.Auth}, table: table}}
	if err := p.guard.init(ctx); err != nil {
		return nil, false
	}
	// Plan it again with other values, as GMS does, and require the
	// substituted plan to be the same.
	otherLits, replanned, ok := c.replan(ctx, query, parsed, bindings, lits)
	if !ok {
		return nil, false
	}
	subst, n, err := p.substitute(otherLits)
	if err != nil || n == 0 || sql.DebugString(subst) != sql.DebugString(replanned) {
		return nil, false
	}
	return p, true
}

// replan plans the statement as GMS does with other bound values of the
// same types as lits (otherBindings), which a cached plan rebuilt for
// those values must then equal: the proof that the plan depends on the
// bound values only where the cache substitutes them.
func (c *Cache) replan(ctx *sql.Context, query string, parsed ast.Statement, bindings map[string]ast.Expr, lits map[string]sql.Expression) (map[string]sql.Expression, sql.Node, bool) {
	other, ok := otherBindings(bindings)
	if !ok {
		return nil, nil, false
	}
	otherLits, ok := bindLiterals(ctx, other)
	if !ok || !sameTypes(typesOf(lits), otherLits) {
		return nil, nil, false
	}
	replanned, err := c.engine.BoundQueryPlan(ctx, query, parsed, other)
	if err != nil {
		return nil, nil, false
	}
	return otherLits, replanned, true
}

// rebuild implements cachedPlan.
func (p *searchPlan) rebuild(ctx *sql.Context, cat sql.Catalog, lits map[string]sql.Expression) (sql.Node, error) {
	if err := p.guard.check(ctx, cat); err != nil {
		return nil, err
	}
	n, _, err := p.substitute(lits)
	return n, err
}

// substitute returns the plan with each old bound literal replaced by the
// new one of the same name, and how many it replaced.
func (p *searchPlan) substitute(lits map[string]sql.Expression) (sql.Node, int, error) {
	count := 0
	out, _, err := transform.NodeWithOpaque(p.root, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		return transform.OneNodeExprsWithNode(n, func(_ sql.Node, e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
			lit, ok := e.(*expression.Literal)
			if !ok {
				return e, transform.SameTree, nil
			}
			for name, old := range p.old {
				if sameLiteral(lit, old) {
					count++
					return lits[name], transform.NewTree, nil
				}
			}
			return e, transform.SameTree, nil
		})
	})
	return out, count, err
}

func sameLiteral(a, b sql.Expression) bool {
	la, ok1 := a.(*expression.Literal)
	lb, ok2 := b.(*expression.Literal)
	if !ok1 || !ok2 || !la.Type().Equals(lb.Type()) || la.Type().String() != lb.Type().String() {
		return false
	}
	va, vb := la.Value(), lb.Value()
	if ba, ok := va.([]byte); ok {
		bb, ok := vb.([]byte)
		return ok && bytes.Equal(ba, bb)
	}
	return reflect.DeepEqual(va, vb)
}

func typesOf(lits map[string]sql.Expression) map[string]sql.Type {
	out := make(map[string]sql.Type, len(lits))
	for name, l := range lits {
		out[name] = l.Type()
	}
	return out
}

// otherBindings returns bindings with every value changed, keeping its
// kind: a digit of a number or text moved by one, else a bit of the last
// byte flipped.
func otherBindings(bindings map[string]ast.Expr) (map[string]ast.Expr, bool) {
	out := make(map[string]ast.Expr, len(bindings))
	for name, e := range bindings {
		v, ok := e.(*ast.SQLVal)
		if !ok || len(v.Val) == 0 {
			return nil, false
		}
		b := bytes.Clone(v.Val)
		changed := false
		for i := len(b) - 1; i >= 0; i-- {
			if b[i] >= '0' && b[i] <= '8' {
				b[i]++
				changed = true
				break
			}
			if b[i] == '9' {
				b[i] = '8'
				changed = true
				break
			}
		}
		if !changed {
			if v.Type != ast.StrVal {
				return nil, false
			}
			b[len(b)-1] ^= 1
		}
		out[name] = &ast.SQLVal{Type: v.Type, Val: b}
	}
	return out, true
}
