package vecsql

import (
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"

	"github.com/sibyldb/sibyldb/internal/ml/vector"
)

// Options are a vector index's MariaDB options, kept in the index comment
// (the engine's grammar has no place for them; sqlext rewrites
// "VECTOR INDEX (v) M=8 DISTANCE=cosine" into COMMENT 'm=8 distance=cosine').
type Options struct {
	M      int
	Metric vector.Metric
}

// DefaultM is MariaDB's default mhnsw_default_m.
const DefaultM = 6

// ParseOptions reads the options from an index comment; unknown words are
// ignored, so a user's own comment text does not break the index.
func ParseOptions(comment string) Options {
	o := Options{M: DefaultM, Metric: vector.Euclidean}
	for _, f := range strings.Fields(strings.ToLower(comment)) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "m":
			if n, err := strconv.Atoi(v); err == nil && n >= 3 && n <= 200 {
				o.M = n
			}
		case "distance":
			if m, err := vector.ParseMetric(v); err == nil && m != vector.Dot {
				o.Metric = m
			}
		}
	}
	return o
}

// vectorIndex is the vector index over column col of t, if there is one.
func vectorIndex(ctx *sql.Context, t sql.Table, col string) (sql.Index, bool) {
	it, ok := t.(sql.IndexAddressableTable)
	if !ok {
		if u, ok2 := t.(sql.TableWrapper); ok2 {
			return vectorIndex(ctx, u.Underlying(), col)
		}
		return nil, false
	}
	idxs, err := it.GetIndexes(ctx)
	if err != nil {
		return nil, false
	}
	for _, ix := range idxs {
		if !ix.IsVector() {
			continue
		}
		exprs := ix.Expressions()
		if len(exprs) == 1 && strings.EqualFold(lastPart(exprs[0]), col) {
			return ix, true
		}
	}
	return nil, false
}

func lastPart(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// tablesOf maps the (lower-case) names and aliases of the plan's tables to
// the tables, read whole or through an index (a join's lookup into the
// table, or a range the planner made of a WHERE).
func tablesOf(n sql.Node) map[string]sql.Table {
	out := map[string]sql.Table{}
	transform.Inspect(n, func(n sql.Node) bool {
		switch t := n.(type) {
		case *plan.TableAlias:
			if rt := resolvedTableOf(t); rt != nil {
				out[strings.ToLower(t.Name())] = rt.Table
			}
		case *plan.ResolvedTable, *plan.IndexedTableAccess:
			if rt := resolvedTableOf(t); rt != nil {
				if _, dup := out[strings.ToLower(rt.Name())]; !dup {
					out[strings.ToLower(rt.Name())] = rt.Table
				}
			}
		}
		return true
	})
	return out
}

// resolvedTableOf is the table n reads: a table, possibly aliased, read
// whole or through an index; nil for any other relation.
func resolvedTableOf(n sql.Node) *plan.ResolvedTable {
	if ta, ok := n.(*plan.TableAlias); ok {
		n = ta.Child
	}
	switch x := n.(type) {
	case *plan.ResolvedTable:
		return x
	case *plan.IndexedTableAccess:
		rt, _ := x.TableNode.(*plan.ResolvedTable)
		return rt
	}
	return nil
}

// indexedColumn finds the vector index behind e, a column reference.
func indexedColumn(ctx *sql.Context, tables map[string]sql.Table, e sql.Expression) (sql.Index, *expression.GetField, bool) {
	gf, ok := e.(*expression.GetField)
	if !ok {
		return nil, nil, false
	}
	t, ok := tables[strings.ToLower(gf.Table())]
	if !ok {
		return nil, nil, false
	}
	ix, ok := vectorIndex(ctx, t, gf.Name())
	return ix, gf, ok
}

// resolveIndexDistance binds each VEC_DISTANCE call to its index's metric.
func resolveIndexDistance(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	var tables map[string]sql.Table
	return transform.NodeExprsWithOpaque(n, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		d, ok := e.(*IndexDistance)
		if !ok || d.resolved {
			return e, transform.SameTree, nil
		}
		if tables == nil {
			tables = tablesOf(n)
		}
		for _, a := range d.args {
			if ix, _, ok := indexedColumn(ctx, tables, a); ok {
				return d.WithMetric(ParseOptions(ix.Comment()).Metric), transform.NewTree, nil
			}
		}
		return nil, transform.SameTree, ErrNoVectorIndex()
	})
}

// RuleID identifies the vector rule among the analyzer's rules. SibylDB's
// rule ids must be distinct, since each Install skips an id already
// present: 7000 exec, 7001 server (warnings), 7100 privilege, 7200 vecsql
// (7201 its join order rule).
const RuleID analyzer.RuleId = 7200

// gmsVectorRule is the engine's own rule that answers ORDER BY distance
// LIMIT k from the storage's vector index. SibylDB's storage keeps a
// vector index as a definition only (patches/dolt/0004), so that rule
// must never pick it; Install removes it.
const gmsVectorRule = "replaceIdxOrderByDistance"

// Install adds the vector rule to GMS's final analyzer rules, and the
// rule that lets a join's vector-indexed table drive it (steerJoinOrder)
// before the engine's join planning, and removes the engine's own vector
// index rule. It must run before the engine is built.
func Install() {
	graphBuilds()
	installJoinOrder()
	kept := analyzer.OnceAfterDefault[:0:0]
	for _, r := range analyzer.OnceAfterDefault {
		if r.Id.String() != gmsVectorRule {
			kept = append(kept, r)
		}
	}
	analyzer.OnceAfterDefault = kept
	for _, r := range analyzer.OnceAfterAll {
		if r.Id == RuleID {
			return
		}
	}
	rules := make([]analyzer.Rule, 0, len(analyzer.OnceAfterAll)+1)
	rules = append(rules, analyzer.Rule{Id: RuleID, Apply: apply})
	rules = append(rules, analyzer.OnceAfterAll...)
	analyzer.OnceAfterAll = rules
}

func apply(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	n, same1, err := resolveIndexDistance(ctx, n)
	if err != nil {
		return nil, transform.SameTree, err
	}
	n, same2, err := wrapBinaryValues(n)
	if err != nil {
		return nil, transform.SameTree, err
	}
	n, same3, err := useIndex(ctx, n)
	if err != nil {
		return nil, transform.SameTree, err
	}
	return n, same1 && same2 && same3, nil
}
