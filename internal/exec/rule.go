package exec

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// RuleID identifies the batching rule among the analyzer's rules.
const RuleID analyzer.RuleId = 7000

// Install adds the batching rule to GMS's final analyzer rules, before
// process tracking. It must run before the engine is built, and it also
// reaches the analyzer's fast paths for literal INSERT and single-table
// UPDATE, which run only those final rules.
func Install() {
	for _, r := range analyzer.OnceAfterAll {
		if r.Id == RuleID {
			return
		}
	}
	rules := make([]analyzer.Rule, 0, len(analyzer.OnceAfterAll)+1)
	for _, r := range analyzer.OnceAfterAll {
		if r.Id == analyzer.TrackProcessId {
			rules = append(rules, analyzer.Rule{Id: RuleID, Apply: batchCalls})
		}
		rules = append(rules, r)
	}
	analyzer.OnceAfterAll = rules
}

// batchCalls is the analyzer rule. All calls of one function in a statement
// share a Slot, so a call the plan evaluates twice (ORDER BY an alias, say)
// is still sent once.
func batchCalls(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	var cat sql.Catalog
	if a != nil {
		cat = a.Catalog
	}
	if err := checkEgress(ctx, n, scope, cat); err != nil {
		return nil, transform.SameTree, err
	}
	if !hasCall(n) {
		return n, transform.SameTree, nil
	}
	slots := map[string]*Slot{}
	feeds := map[*Slot]int{}
	defer func() {
		for s, n := range feeds {
			s.exclusive = n == 1
		}
	}()
	slotFor := func(inv Invoker) *Slot {
		s, ok := slots[inv.Key()]
		if !ok {
			s = NewSlot()
			slots[inv.Key()] = s
		}
		return s
	}
	n, same, err := transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		ex, ok := n.(sql.Expressioner)
		if !ok {
			return n, transform.SameTree, nil
		}
		// Point every call in this node at its function's slot.
		var sites []*Site
		byKey := map[siteKey]*Site{}
		exprs := ex.Expressions()
		changed := false
		newExprs := make([]sql.Expression, len(exprs))
		for i, e := range exprs {
			ne, same, err := transform.Expr(e, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
				c, ok := e.(Call)
				if !ok || c.Slot() != nil {
					// Not a call, or batched already (a subquery's plan is
					// analyzed on its own and again inside its parent).
					return e, transform.SameTree, nil
				}
				inv := c.Invoker()
				// Calls authorized as different accounts share results
				// (the slot), not the check.
				key := siteKey{inv.Key(), c.Account()}
				site, ok := byKey[key]
				if !ok {
					site = &Site{Invoker: inv, Slot: slotFor(inv), Account: c.Account()}
					feeds[site.Slot]++
					byKey[key] = site
					sites = append(sites, site)
				}
				site.Args = append(site.Args, c.Args())
				return c.WithSlot(site.Slot), transform.NewTree, nil
			})
			if err != nil {
				return nil, transform.SameTree, err
			}
			newExprs[i] = ne
			changed = changed || same == transform.NewTree
		}
		if !changed {
			return n, transform.SameTree, nil
		}
		nn, err := ex.WithExpressions(newExprs...)
		if err != nil {
			return nil, transform.SameTree, err
		}
		if _, ok := nn.(*plan.Values); ok {
			return NewPrefetch(nn, sites), transform.NewTree, nil
		}
		if !batchable(nn) {
			return nn, transform.NewTree, nil
		}
		child := nn.Children()[0]
		nn, err = nn.WithChildren(NewBatch(child, sites))
		if err != nil {
			return nil, transform.SameTree, err
		}
		return nn, transform.NewTree, nil
	})
	if err != nil || same == transform.SameTree {
		return n, same, err
	}
	return boundByLimit(ctx, n)
}

// boundByLimit tells each Batch that only a LIMIT's rows are wanted of it.
// Without the bound, the read-ahead sends batches of growing size until
// the consumer stops, and SELECT id, f(x) FROM t ORDER BY id LIMIT 200
// scored 1,360 rows. The bound applies where a constant LIMIT (and OFFSET)
// sits above the Batch with only projections between them, which return
// one row per row: the Batch then never reads more than LIMIT + OFFSET rows
// from its child. SQL_CALC_FOUND_ROWS reads every row, so it gets no bound.
//
// An OFFSET is moved beneath the Batch, so the rows it skips are never sent
// to the model: MySQL does not evaluate the select list of skipped rows
// either.
func boundByLimit(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	return transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		l, ok := n.(*plan.Limit)
		if !ok || l.CalcFoundRows {
			return n, transform.SameTree, nil
		}
		limit, ok := constRows(ctx, l.Limit)
		if !ok {
			return n, transform.SameTree, nil
		}
		child, ok, err := boundChain(l.Child, limit, nil)
		if err != nil || !ok {
			return n, transform.SameTree, err
		}
		nl, err := l.WithChildren(child)
		if err != nil {
			return nil, transform.SameTree, err
		}
		return nl, transform.NewTree, nil
	})
}

// boundChain rewrites the chain [Offset] Project... Batch under a LIMIT of
// limit rows; ok is false when n is not such a chain.
func boundChain(n sql.Node, limit int64, offset *plan.Offset) (sql.Node, bool, error) {
	switch n := n.(type) {
	case *plan.Offset:
		if offset != nil {
			return nil, false, nil
		}
		return boundChain(n.Child, limit, n)
	case *plan.Project:
		c, ok, err := boundChain(n.Child, limit, offset)
		if err != nil || !ok {
			return nil, ok, err
		}
		nn, err := n.WithChildren(c)
		return nn, err == nil, err
	case *Batch:
		if n.prefetch {
			return nil, false, nil
		}
		nb := *n
		if nb.limit < 0 || limit < nb.limit {
			nb.limit = limit
		}
		if offset != nil {
			nb.child = plan.NewOffset(offset.Offset, n.child)
		}
		return &nb, true, nil
	}
	return nil, false, nil
}

// constRows is the value of a constant, non-negative LIMIT or OFFSET.
func constRows(ctx *sql.Context, e sql.Expression) (int64, bool) {
	lit, ok := e.(*expression.Literal)
	if !ok {
		return 0, false
	}
	v, _, err := types.Int64.Convert(ctx, lit.Value())
	if err != nil {
		return 0, false
	}
	n, ok := v.(int64)
	return n, ok && n >= 0
}

// batchable reports nodes that evaluate their expressions once per row of
// their only child, which is what a Batch beneath them must see.
func batchable(n sql.Node) bool {
	switch n.(type) {
	case *plan.Project, *plan.Filter, *plan.Sort, *plan.TopN, *plan.GroupBy, *plan.Having, *plan.UpdateSource:
		return len(n.Children()) == 1
	}
	return false
}

// hasCall reports a call anywhere in the plan, trigger bodies and derived
// tables included.
func hasCall(n sql.Node) bool {
	found := false
	walk(n, func(n sql.Node) bool {
		if ex, ok := n.(sql.Expressioner); ok {
			for _, e := range ex.Expressions() {
				if transform.InspectExpr(e, func(e sql.Expression) bool {
					_, ok := e.(Call)
					return ok
				}) {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// siteKey is what makes calls in one node share a Site: the function, and
// the account the calls are authorized as.
type siteKey struct {
	invoker string
	account Account
}
