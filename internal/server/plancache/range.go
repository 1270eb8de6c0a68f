package plancache

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// rangePlan is a cached primary-key range select,
//
//	SELECT [DISTINCT] <columns or aggregates of columns> FROM t WHERE pk BETWEEN ? AND ? [ORDER BY <columns>]
//
// (sysbench's simple, sum, order and distinct ranges). Its analyzed plan
// is a static IndexedTableAccess on PRIMARY with no Filter left, under
// Project, GroupBy without grouping expressions (a scalar aggregate), Sort
// and Distinct nodes only. The analyzer turns `pk BETWEEN a AND b` into
// `pk >= a AND pk <= b` and builds the scan's range from them with GMS's
// index builder (GreaterOrEqual, LessOrEqual, then RemoveOverlappingRanges;
// costed_index_scan.go); a later execute builds the range for the new
// values the same way and substitutes the scan. Whether the analyzer keeps
// a Filter above the scan depends only on the types of the column and the
// values (expression.PreciseComparison), which are part of the plan's key.
// The nodes above the scan hold no per-execution state: their iterators
// (sort buffer, distinct hash set, aggregation buffers) are made by rowexec
// on every execute.
//
// Store proves each plan twice: rebuilding the scan from the same values
// must reproduce the analyzer's plan, and the plan rebuilt for other
// values of the same types must equal what GMS plans for them
// (Engine.BoundQueryPlan). A value for which the analyzer would not use
// the index at all (an unbounded range, a range the index cannot answer,
// a value the builder refuses) is planned afresh.
type rangePlan struct {
	root sql.Node
	ita  *plan.IndexedTableAccess
	// colExpr is the primary key's column as the index builder names it;
	// lo and hi are the bind variables of BETWEEN's bounds.
	colExpr string
	lo, hi  string
	guard
}

// rangeShape checks the statement's AST and returns the table, the
// BETWEEN's column and the bind variables of its bounds.
func rangeShape(parsed ast.Statement) (te *ast.AliasedTableExpr, col, lo, hi string, ok bool) {
	sel, isSel := parsed.(*ast.Select)
	if !isSel || sel.With != nil || len(sel.QueryOpts.DistinctOn) != 0 || sel.QueryOpts.StraightJoinHint ||
		sel.QueryOpts.SQLCalcFoundRows || len(sel.From) != 1 || sel.Where == nil || sel.Where.Type != ast.WhereStr ||
		len(sel.GroupBy) != 0 || sel.Having != nil || sel.Limit != nil ||
		sel.Lock != nil && (strings.TrimSpace(sel.Lock.Type) != "" || len(sel.Lock.Tables) != 0) || sel.Into != nil ||
		len(sel.Window) != 0 || len(sel.Comments) != 0 {
		return nil, "", "", "", false
	}
	te, isTE := sel.From[0].(*ast.AliasedTableExpr)
	if !isTE || te.AsOf != nil || te.Hints != nil || len(te.Partitions) != 0 {
		return nil, "", "", "", false
	}
	if _, isName := te.Expr.(ast.TableName); !isName {
		return nil, "", "", "", false
	}
	for _, se := range sel.SelectExprs {
		switch e := se.(type) {
		case *ast.StarExpr:
		case *ast.AliasedExpr:
			if !plainColumn(e.Expr) && !simpleAggregate(e.Expr) {
				return nil, "", "", "", false
			}
		default:
			return nil, "", "", "", false
		}
	}
	for _, o := range sel.OrderBy {
		if !plainColumn(o.Expr) {
			return nil, "", "", "", false
		}
	}
	rc, isRange := sel.Where.Expr.(*ast.RangeCond)
	if !isRange || rc.Operator != ast.BetweenStr {
		return nil, "", "", "", false
	}
	c, isCol := rc.Left.(*ast.ColName)
	from, fromOK := rc.From.(*ast.SQLVal)
	to, toOK := rc.To.(*ast.SQLVal)
	if !isCol || !plainColumn(c) || !fromOK || !toOK || from.Type != ast.ValArg || to.Type != ast.ValArg {
		return nil, "", "", "", false
	}
	// The bounds are the statement's only bind variables.
	if countArgs(sel) != 2 {
		return nil, "", "", "", false
	}
	lo, hi = strings.TrimPrefix(string(from.Val), ":"), strings.TrimPrefix(string(to.Val), ":")
	if lo == hi {
		return nil, "", "", "", false
	}
	return te, strings.ToLower(c.Name.String()), lo, hi, true
}

// plainColumn is a column reference (not a user variable, which parses
// as a column named @...).
func plainColumn(e ast.Expr) bool {
	c, ok := e.(*ast.ColName)
	return ok && c.StoredProcVal == nil && !strings.HasPrefix(c.Name.String(), "@")
}

// simpleAggregate is SUM, COUNT, MIN, MAX or AVG of one column (or
// COUNT(*)), without DISTINCT or OVER.
func simpleAggregate(e ast.Expr) bool {
	f, ok := e.(*ast.FuncExpr)
	if !ok || f.Distinct || f.Over != nil || !f.Qualifier.IsEmpty() || len(f.Exprs) != 1 {
		return false
	}
	switch strings.ToLower(f.Name.String()) {
	case "sum", "min", "max", "avg":
	case "count":
		if _, star := f.Exprs[0].(*ast.StarExpr); star {
			return true
		}
	default:
		return false
	}
	arg, ok := f.Exprs[0].(*ast.AliasedExpr)
	return ok && plainColumn(arg.Expr)
}

// newRangePlan returns the cacheable form of analyzed, if the statement
// and its plan have the range shape and both proofs hold.
func newRangePlan(ctx *sql.Context, c *Cache, query string, parsed ast.Statement, bindings map[string]ast.Expr, analyzed sql.Node, lits map[string]sql.Expression) (*rangePlan, bool) {
	te, col, lo, hi, ok := rangeShape(parsed)
	if !ok {
		return nil, false
	}
	if _, ok := lits[lo]; !ok {
		return nil, false
	}
	if _, ok := lits[hi]; !ok {
		return nil, false
	}
	var ita *plan.IndexedTableAccess
	shapeOK := true
	transform.Inspect(analyzed, func(n sql.Node) bool {
		switch n := n.(type) {
		case *plan.Project, *plan.Sort, *plan.Distinct:
		case *plan.GroupBy:
			shapeOK = shapeOK && len(n.GroupByExprs) == 0
		case *plan.IndexedTableAccess:
			if ita != nil {
				shapeOK = false
			}
			ita = n
			return false
		default:
			shapeOK = false
		}
		return shapeOK
	})
	if !shapeOK || ita == nil || !ita.IsStatic() || ita.Typ != plan.ItaTypeStatic {
		return nil, false
	}
	idx := ita.Index()
	if idx == nil || !strings.EqualFold(idx.ID(), "PRIMARY") || idx.IsSpatial() || idx.IsFullText() || idx.IsVector() {
		return nil, false
	}
	cets := idx.ColumnExpressionTypes()
	if len(cets) != 1 {
		return nil, false
	}
	name := cets[0].Expression
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	if !strings.EqualFold(name, col) || !exactKey(cets[0].Type, lits[lo].Type()) || !exactKey(cets[0].Type, lits[hi].Type()) {
		return nil, false
	}
	table, ok := doltTableOf(ita.UnderlyingTable())
	if !ok {
		return nil, false
	}
	p := &rangePlan{root: analyzed, ita: ita, colExpr: cets[0].Expression, lo: lo, hi: hi, guard: guard{auth: &authCheck{auth: te.Auth}, table: table}}
	if err := p.guard.init(ctx); err != nil {
		return nil, false
	}
	again, err := p.rebuild(ctx, c.cat, lits)
	if err != nil || sql.DebugString(again) != sql.DebugString(analyzed) {
		return nil, false
	}
	// Plan it again with other values, as GMS does, and require the
	// rebuilt plan to be the same.
	otherLits, replanned, ok := c.replan(ctx, query, parsed, bindings, lits)
	if !ok {
		return nil, false
	}
	rebuilt, err := p.rebuild(ctx, c.cat, otherLits)
	if err != nil || sql.DebugString(rebuilt) != sql.DebugString(replanned) {
		return nil, false
	}
	return p, true
}

// rebuild implements cachedPlan: the privilege check binding would make,
// the schema the plan was built for, and the range built as the analyzer
// builds it.
func (p *rangePlan) rebuild(ctx *sql.Context, cat sql.Catalog, lits map[string]sql.Expression) (sql.Node, error) {
	if err := p.guard.check(ctx, cat); err != nil {
		return nil, err
	}
	loLit, hiLit := lits[p.lo], lits[p.hi]
	loV, err := loLit.Eval(ctx, nil)
	if err != nil {
		return nil, err
	}
	hiV, err := hiLit.Eval(ctx, nil)
	if err != nil {
		return nil, err
	}
	idx := p.ita.Index()
	b := sql.NewMySQLIndexBuilder(idx)
	b.GreaterOrEqual(ctx, p.colExpr, loLit.Type(), loV)
	b.LessOrEqual(ctx, p.colExpr, hiLit.Type(), hiV)
	if _, err := b.Build(ctx); err != nil {
		return nil, err
	}
	ranges, err := sql.RemoveOverlappingRanges(b.Ranges(ctx)...)
	if err != nil {
		return nil, err
	}
	empty := len(ranges) == 0
	if len(ranges) == 1 {
		if empty, err = ranges[0].IsEmpty(); err != nil {
			return nil, err
		}
		if len(ranges[0]) > 0 {
			_, above := ranges[0][0].UpperBound.(sql.AboveAll)
			_, below := ranges[0][0].LowerBound.(sql.BelowNull)
			if above && below {
				return nil, errUnbounded
			}
		}
	}
	if !idx.CanSupport(ctx, ranges.ToRanges()...) {
		return nil, errUnbounded
	}
	return withLookup(ctx, p.root, p.ita, sql.NewIndexLookup(idx, ranges, false, empty, idx.IsSpatial(), false))
}
