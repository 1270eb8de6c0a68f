package vecsql

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/memo"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"

	"github.com/sibyldb/sibyldb/internal/ml/vector"
)

// Join order for a vector search.
//
// JoinSearch (join.go) answers ORDER BY dist(d.col, <constant>) LIMIT k
// over a join only when d is the join's driving table, but the join order
// is GMS's cost-based planner's, which does not know that reading d first
// lets the search stop after about k rows: it readily reads a small or
// selectively filtered table first and d inside the join (a lookup on d's
// primary key, or a scan of d for each of few outer rows), and then the
// whole join is sorted. steerJoinOrder closes that gap before the planner
// runs: for exactly the statements the vector rule can answer when d
// drives, it gives the join the optimizer hints
//
//	JOIN_ORDER(d, <the other tables>) NO_MERGE_JOIN
//
// as if the user had written them. A hint is the least invasive lever:
// the planner still enumerates and costs every plan and picks the
// cheapest of those with d outermost (the other tables ordered as the
// join conditions connect them, breadth-first from d, which lets the
// planner nest them under d as it likes), and falls back to its own
// choice when no plan satisfies the hint (a join it does not reorder);
// the vector rule, after planning, still checks the plan and takes only
// the shapes whose answer it can prove exact, so the hint can change how
// fast a statement runs, never its rows. Merge joins are excluded because
// they read their left side in key order, which the search cannot feed;
// with d first the planner's lookup and hash joins stream d's rows.
//
// The hint is added only where d may legally drive: every join between
// the join tree's root and d is inner or cross (commutative), or has d
// on its left as a left outer, semi or anti join (EXISTS / NOT EXISTS),
// and the statement is ORDER BY <one ascending distance between d's
// vector-indexed column and a constant> LIMIT k with nothing but
// projections and deterministic filters between the sort and the join
// (no GROUP BY, DISTINCT, window or SQL_CALC_FOUND_ROWS). A statement
// carrying its own join hints keeps them: the user's plan is never
// overridden.
//
// The cost is that of every d-driven search: the search widens until the
// join has k rows, so when the other tables leave very few join rows (or
// none: WHERE c.id = <a missing key>) it ends up joining all of d (once
// it would search a quarter of the rows it reads the rest unsearched, so
// about a scan of d), where a plan reading the other table first would
// touch few of d's rows. The planner's costs cannot weigh this (they do
// not model the search's early stop), so the rule does not try; such a
// statement keeps the planner's order with its own hint,
// /*+ JOIN_ORDER(c, d) */.

// joinOrderRuleID identifies steerJoinOrder among the analyzer's rules.
const joinOrderRuleID analyzer.RuleId = RuleID + 1

// gmsJoinPlanRule is the engine's join planner rule, which steerJoinOrder
// must run right before.
const gmsJoinPlanRule = "optimizeJoins"

// installJoinOrder puts steerJoinOrder right before the engine's join
// planning, once.
func installJoinOrder() {
	for _, r := range analyzer.OnceAfterDefault {
		if r.Id == joinOrderRuleID {
			return
		}
	}
	rules := make([]analyzer.Rule, 0, len(analyzer.OnceAfterDefault)+1)
	for _, r := range analyzer.OnceAfterDefault {
		if r.Id.String() == gmsJoinPlanRule {
			rules = append(rules, analyzer.Rule{Id: joinOrderRuleID, Apply: steerJoinOrder})
		}
		rules = append(rules, r)
	}
	analyzer.OnceAfterDefault = rules
}

func steerJoinOrder(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	return transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		lim, ok := n.(*plan.Limit)
		if !ok || lim.CalcFoundRows {
			return n, transform.SameTree, nil
		}
		join, hint, ok := searchJoinHint(ctx, lim)
		if !ok {
			return n, transform.SameTree, nil
		}
		return transform.Node(lim, func(c sql.Node) (sql.Node, transform.TreeIdentity, error) {
			if c == sql.Node(join) {
				return join.WithComment(hint), transform.NewTree, nil
			}
			return c, transform.SameTree, nil
		})
	})
}

// searchJoinHint recognises Limit (Offset | Project)... Sort(dist ASC)
// (Project | Filter)... Join, the planner's input for ORDER BY dist
// LIMIT k over a join, and returns the join and the hints that make the
// vector-indexed table d drive it.
func searchJoinHint(ctx *sql.Context, lim *plan.Limit) (*plan.JoinNode, string, bool) {
	n := lim.Child
	for done := false; !done; {
		switch x := n.(type) {
		case *plan.Offset:
			n = x.Child
		case *plan.Project:
			n = x.Child
		default:
			done = true
		}
	}
	sort, ok := n.(*plan.Sort)
	if !ok || len(sort.SortFields) != 1 || sort.SortFields[0].Order != sql.Ascending {
		return nil, "", false
	}
	order := sort.SortFields[0].Column
	var filters []sql.Expression
	var join *plan.JoinNode
	for n = sort.Child; join == nil; {
		switch x := n.(type) {
		case *plan.Project:
			order = unalias(order, x)
			n = x.Child
		case *plan.Filter:
			if !deterministic(x.Expression) {
				return nil, "", false
			}
			filters = append(filters, x.Expression)
			n = x.Child
		case *plan.JoinNode:
			join = x
		default:
			return nil, "", false
		}
	}
	if len(memo.ExtractJoinHint(join)) > 0 {
		// The user's own hints decide.
		return nil, "", false
	}
	metric, args, ok := anyDistanceCall(order)
	if !ok {
		return nil, "", false
	}
	t := joinTreeOf(join)
	if t == nil {
		return nil, "", false
	}
	for i, a := range args {
		gf, ok := a.(*expression.GetField)
		if !ok || !constant(args[1-i]) {
			continue
		}
		d, ok := t.leaves[strings.ToLower(gf.Table())]
		if !ok || !d.drivable {
			continue
		}
		rt := resolvedTableOf(d.node)
		if rt == nil {
			continue
		}
		ix, ok := vectorIndex(ctx, rt.Table, gf.Name())
		if !ok || metric >= 0 && vector.Metric(metric) != ParseOptions(ix.Comment()).Metric {
			continue
		}
		tables := t.orderFrom(d.name, filters)
		return join, fmt.Sprintf("/*+ JOIN_ORDER(%s) NO_MERGE_JOIN */", strings.Join(tables, ", ")), true
	}
	return nil, "", false
}

// anyDistanceCall is distanceCall before the vector rule has bound
// VEC_DISTANCE to its index's metric (-1: the index's own).
func anyDistanceCall(e sql.Expression) (int, []sql.Expression, bool) {
	if d, ok := e.(*IndexDistance); ok {
		return -1, d.args, len(d.args) == 2
	}
	return distanceCall(e)
}

// joinLeaf is one table (or other named relation) of a join tree.
type joinLeaf struct {
	name string // lower case, as the query names it
	node sql.Node
	// drivable: every join on the way from the root may have this leaf
	// in its outermost position (see steerJoinOrder).
	drivable bool
}

// joinTree is a join's relations, in the query's order, and its
// conditions.
type joinTree struct {
	leaves map[string]*joinLeaf
	names  []string
	conds  []sql.Expression
}

// joinTreeOf collects the relations and conditions of the join tree
// rooted at j; nil when a relation has no name the JOIN_ORDER hint can
// spell, or two share one.
func joinTreeOf(j *plan.JoinNode) *joinTree {
	t := &joinTree{leaves: map[string]*joinLeaf{}}
	if !t.add(j, true) {
		return nil
	}
	return t
}

func (t *joinTree) add(n sql.Node, drivable bool) bool {
	switch x := n.(type) {
	case *plan.JoinNode:
		if c := x.JoinCond(); c != nil {
			t.conds = append(t.conds, c)
		}
		left, right := false, false
		switch x.Op {
		case plan.JoinTypeCross, plan.JoinTypeInner:
			left, right = true, true
		case plan.JoinTypeLeftOuter, plan.JoinTypeLeftOuterExcludeNulls,
			plan.JoinTypeSemi, plan.JoinTypeAnti, plan.JoinTypeAntiIncludeNulls:
			left = true
		case plan.JoinTypeRightOuter:
			right = true
		}
		return t.add(x.Left(), drivable && left) && t.add(x.Right(), drivable && right)
	case *plan.Filter:
		t.conds = append(t.conds, x.Expression)
		return t.add(x.Child, drivable)
	case sql.NameableNode:
		name := strings.ToLower(x.Name())
		if _, dup := t.leaves[name]; dup || !hintName(name) {
			return false
		}
		t.leaves[name] = &joinLeaf{name: name, node: x, drivable: drivable}
		t.names = append(t.names, name)
		return true
	default:
		// A relation under a projection, distinct, limit...: never the
		// driving table; its tables are named inside it.
		for _, c := range n.Children() {
			if !t.add(c, false) {
				return false
			}
		}
		return len(n.Children()) > 0
	}
}

// hintName reports whether the hint parser reads name back unchanged.
func hintName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '$') {
			return false
		}
	}
	return true
}

// orderFrom is a join order starting at first: breadth-first over the
// tables the join conditions (and WHERE filters) connect, ties and
// unconnected tables in the query's order, so each table follows one it
// joins with where it can.
func (t *joinTree) orderFrom(first string, filters []sql.Expression) []string {
	adj := map[string]map[string]bool{}
	for _, c := range append(append([]sql.Expression(nil), t.conds...), filters...) {
		for _, conj := range expression.SplitConjunction(c) {
			var refs []string
			transform.InspectExpr(conj, func(e sql.Expression) bool {
				if gf, ok := e.(*expression.GetField); ok {
					if name := strings.ToLower(gf.Table()); t.leaves[name] != nil {
						refs = append(refs, name)
					}
				}
				return false
			})
			for _, a := range refs {
				for _, b := range refs {
					if a != b {
						if adj[a] == nil {
							adj[a] = map[string]bool{}
						}
						adj[a][b] = true
					}
				}
			}
		}
	}
	order := []string{first}
	seen := map[string]bool{first: true}
	for i := 0; i < len(order); i++ {
		for _, name := range t.names {
			if !seen[name] && adj[order[i]][name] {
				seen[name] = true
				order = append(order, name)
			}
		}
	}
	for _, name := range t.names {
		if !seen[name] {
			order = append(order, name)
		}
	}
	return order
}
