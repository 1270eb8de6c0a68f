package exec

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
)

// Planner binds and analyzes a statement in the session of ctx, checking
// the session's privileges for it as if it ran.
type Planner func(ctx *sql.Context, query string) (sql.Node, error)

// ExplainTree is EXPLAIN FORMAT=TREE and EXPLAIN ANALYZE: MySQL 8's
// indented "-> operator" text of the statement's plan, in one row of one
// column named EXPLAIN. With Analyze the statement runs and every
// operator shows what it did: "(actual time=first..last rows=n loops=l)",
// times in milliseconds to the first and to the last row, rows per loop.
type ExplainTree struct {
	Query   string
	Analyze bool
	Plan    Planner
	// Exec runs the statement for EXPLAIN ANALYZE (the engine's builder).
	Exec sql.NodeExecBuilder
}

var _ sql.ExecSourceRel = (*ExplainTree)(nil)

// RowIter implements sql.ExecSourceRel, which a node injected by the
// parser must be.
func (e *ExplainTree) RowIter(ctx *sql.Context, r sql.Row) (sql.RowIter, error) {
	return e.BuildRowIter(ctx, e.Exec, r)
}

// explainSchema is MySQL's result of EXPLAIN FORMAT=TREE / ANALYZE.
var explainSchema = sql.Schema{{Name: "EXPLAIN", Type: types.LongText}}

func (e *ExplainTree) Resolved() bool       { return true }
func (e *ExplainTree) IsReadOnly() bool     { return true }
func (e *ExplainTree) Schema() sql.Schema   { return explainSchema }
func (e *ExplainTree) Children() []sql.Node { return nil }
func (e *ExplainTree) String() string {
	if e.Analyze {
		return "EXPLAIN ANALYZE " + e.Query
	}
	return "EXPLAIN FORMAT=TREE " + e.Query
}
func (e *ExplainTree) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(e, len(children), 0)
	}
	return e, nil
}

// erNotSupportedYet is MySQL's ER_NOT_SUPPORTED_YET.
const erNotSupportedYet = 1235

// BuildRowIter implements sql.ExecBuilderNode.
func (e *ExplainTree) BuildRowIter(ctx *sql.Context, b sql.NodeExecBuilder, row sql.Row) (sql.RowIter, error) {
	n, err := e.Plan(ctx, e.Query)
	if err != nil {
		return nil, err
	}
	if d, ok := n.(*plan.DescribeQuery); ok {
		n = d.Child
	}
	var st *analysis
	if e.Analyze {
		if !n.IsReadOnly() {
			return nil, mysql.NewSQLError(erNotSupportedYet, "42000",
				"This version of MySQL doesn't yet support 'EXPLAIN ANALYZE of a statement that changes data'")
		}
		st = &analysis{stats: map[sql.Node]*nodeStats{}, building: map[sql.Node]int{}}
		actx := ctx.WithContext(context.WithValue(ctx.Context, analysisKey{}, st))
		iter, err := b.Build(actx, n, row)
		if err != nil {
			return nil, err
		}
		for {
			if _, err = iter.Next(actx); err != nil {
				break
			}
		}
		cerr := iter.Close(actx)
		if err != io.EOF {
			return nil, err
		}
		if cerr != nil {
			return nil, cerr
		}
	}
	t := &treePrinter{ctx: ctx, st: st, nextSelect: 2}
	t.node(n, 0)
	return sql.RowsToRowIter(sql.Row{strings.Join(t.lines, "\n") + "\n"}), nil
}

// analysisKey carries an EXPLAIN ANALYZE's *analysis in the context the
// statement runs with, so the executor instruments its operators.
type analysisKey struct{}

// analysis collects what each operator of an EXPLAIN ANALYZE did.
type analysis struct {
	mu       sync.Mutex
	stats    map[sql.Node]*nodeStats
	building map[sql.Node]int
}

// nodeStats is one operator's work over all its loops (each time its
// iterator was built, e.g. once per outer row of a lookup join).
type nodeStats struct {
	mu          sync.Mutex
	loops, rows int64
	first, last time.Duration // summed over loops
}

func analyzing(ctx *sql.Context) *analysis {
	st, _ := ctx.Value(analysisKey{}).(*analysis)
	return st
}

// instrument builds n with base (through every priority builder, this one
// passing n on) and counts what its iterator returns.
func (a *analysis) instrument(ctx *sql.Context, base sql.NodeExecBuilder, n sql.Node, r sql.Row) (sql.RowIter, bool, error) {
	if reflect.ValueOf(n).Kind() != reflect.Pointer {
		return nil, false, nil // not comparable as a map key
	}
	a.mu.Lock()
	if a.building[n] > 0 {
		a.mu.Unlock()
		return nil, false, nil
	}
	a.building[n]++
	s := a.stats[n]
	if s == nil {
		s = &nodeStats{}
		a.stats[n] = s
	}
	a.mu.Unlock()
	start := time.Now()
	iter, err := base.Build(ctx, n, r)
	a.mu.Lock()
	a.building[n]--
	a.mu.Unlock()
	if err != nil || iter == nil {
		return iter, true, err
	}
	s.mu.Lock()
	s.loops++
	s.mu.Unlock()
	return &countingIter{RowIter: iter, s: s, start: start}, true, nil
}

func (a *analysis) of(n sql.Node) *nodeStats {
	if a == nil || reflect.ValueOf(n).Kind() != reflect.Pointer {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats[n]
}

// countingIter counts an operator's rows and times its first and last.
type countingIter struct {
	sql.RowIter
	s        *nodeStats
	start    time.Time
	rows     int64
	gotFirst bool
	ended    bool
}

func (c *countingIter) Next(ctx *sql.Context) (sql.Row, error) {
	r, err := c.RowIter.Next(ctx)
	if err == nil {
		c.rows++
		if !c.gotFirst {
			c.gotFirst = true
			c.s.mu.Lock()
			c.s.first += time.Since(c.start)
			c.s.mu.Unlock()
		}
	} else {
		c.end()
	}
	return r, err
}

func (c *countingIter) end() {
	if c.ended {
		return
	}
	c.ended = true
	d := time.Since(c.start)
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if !c.gotFirst {
		c.s.first += d
	}
	c.s.last += d
	c.s.rows += c.rows
}

func (c *countingIter) Close(ctx *sql.Context) error {
	c.end()
	return c.RowIter.Close(ctx)
}

// String is the operator's "(actual ...)" annotation.
func (s *nodeStats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loops == 0 {
		return "(never executed)"
	}
	l := float64(s.loops)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000/l) }
	rows := fmt.Sprint(s.rows / s.loops)
	if s.rows%s.loops != 0 {
		rows = fmt.Sprintf("%.2f", float64(s.rows)/l)
	}
	return fmt.Sprintf("(actual time=%s..%s rows=%s loops=%d)", ms(s.first), ms(s.last), rows, s.loops)
}

// treePrinter writes a plan as MySQL 8's FORMAT=TREE.
type treePrinter struct {
	ctx        *sql.Context
	st         *analysis
	lines      []string
	nextSelect int
	// ran holds, per depth of the current path, whether the operator
	// printed there ran: an operator without counts below one that ran
	// was done inside it (Dolt runs a lookup join, or a filtered index
	// read, as one operator), not never executed.
	ran []bool
}

func (t *treePrinter) line(depth int, n sql.Node, text string) {
	s := strings.Repeat("    ", depth) + "-> " + text
	if len(t.ran) > depth {
		t.ran = t.ran[:depth]
	}
	for len(t.ran) < depth {
		t.ran = append(t.ran, false)
	}
	ran := false
	if t.st != nil && n != nil {
		ns := t.st.of(n)
		switch {
		case ns != nil:
			s += "  " + ns.String()
			ran = true
		case !t.ancestorRan():
			s += "  (never executed)"
		}
	}
	t.ran = append(t.ran, ran)
	t.lines = append(t.lines, s)
}

func (t *treePrinter) ancestorRan() bool {
	for _, r := range t.ran {
		if r {
			return true
		}
	}
	return false
}

// node prints n at depth; operators MySQL does not show (projections,
// aliases, GMS's bookkeeping nodes) print their child in their place.
func (t *treePrinter) node(n sql.Node, depth int) {
	switch n := n.(type) {
	case nil:
	case *Batch:
		t.line(depth, n, Label+" ("+n.describe()+")")
		t.node(n.child, depth+1)
	case TableAccess:
		tbl, key, _, extra := n.ExplainAccess()
		t.line(depth, n.(sql.Node), fmt.Sprintf("Vector index scan on %s using %s%s", nameOf(tbl), key, strings.TrimPrefix(extra, "Using vector index")))
	case *plan.ResolvedTable:
		if plan.IsDualTable(n.UnderlyingTable()) {
			t.line(depth, n, "Rows fetched before execution")
			return
		}
		t.line(depth, n, "Table scan on "+n.Name())
	case *plan.TableAlias:
		t.access(n, n.Name(), depth)
	case *plan.IndexedTableAccess:
		t.access(n, n.Name(), depth)
	case *plan.Filter:
		t.line(depth, n, "Filter: "+parens(n.Expression))
		t.node(n.Child, depth+1)
		t.subqueries(n.Expression, "condition", depth+1)
	case *plan.Having:
		t.line(depth, n, "Filter: "+parens(n.Cond))
		t.node(n.Child, depth+1)
	case *plan.Project:
		t.node(n.Child, depth)
		for _, p := range n.Projections {
			t.subqueries(p, "projection", depth+1)
		}
	case *plan.Sort:
		t.line(depth, n, "Sort: "+sortFields(n.SortFields))
		t.node(n.Child, depth+1)
	case *plan.TopN:
		if readsByOwnAccess(n.Child) {
			t.line(depth, n, fmt.Sprintf("Limit: %s row(s)", n.Limit))
			t.node(n.Child, depth+1)
			return
		}
		t.line(depth, n, fmt.Sprintf("Limit: %s row(s)", n.Limit))
		t.line(depth+1, nil, fmt.Sprintf("Sort: %s, limit input to %s row(s) per chunk", sortFields(n.Fields), n.Limit))
		t.node(n.Child, depth+2)
	case *plan.Limit:
		t.line(depth, n, fmt.Sprintf("Limit: %s row(s)", n.Limit))
		t.node(n.Child, depth+1)
	case *plan.Offset:
		t.line(depth, n, fmt.Sprintf("Offset: %s row(s)", n.Offset))
		t.node(n.Child, depth+1)
	case *plan.GroupBy:
		if len(n.GroupByExprs) == 0 {
			t.line(depth, n, "Aggregate: "+exprList(n.SelectDeps))
			t.node(n.Child, depth+1)
			return
		}
		t.line(depth, n, "Table scan on <temporary>")
		t.line(depth+1, nil, "Aggregate using temporary table")
		t.node(n.Child, depth+2)
	case *plan.Distinct:
		t.line(depth, n, "Table scan on <temporary>")
		t.line(depth+1, nil, "Temporary table with deduplication")
		t.node(n.Child, depth+2)
	case *plan.OrderedDistinct:
		t.line(depth, n, "Remove duplicates from input sorted on the select list")
		t.node(n.Child, depth+1)
	case *plan.JoinNode:
		t.line(depth, n, joinText(n))
		t.node(n.Left(), depth+1)
		if _, ok := n.Right().(*plan.HashLookup); ok {
			// Built once per probe: its counts would say nothing.
			t.line(depth+1, nil, "Hash")
			t.node(n.Right().(*plan.HashLookup).Child, depth+2)
		} else {
			t.node(n.Right(), depth+1)
		}
	case *plan.SubqueryAlias:
		t.line(depth, n, "Table scan on "+n.Name())
		t.line(depth+1, nil, "Materialize")
		t.node(n.Child, depth+2)
	case *plan.SetOp:
		t.line(depth, n, "Table scan on <union temporary>")
		t.line(depth+1, nil, "Union materialize with deduplication")
		t.node(n.Left(), depth+2)
		t.node(n.Right(), depth+2)
	case *plan.Update:
		t.line(depth, n, "Update "+targetName(n.Child))
		t.node(n.Child, depth+1)
	case *plan.DeleteFrom:
		t.line(depth, n, "Delete from "+targetName(n.Child))
		t.node(n.Child, depth+1)
	case *plan.InsertInto:
		t.line(depth, n, "Insert into "+nameOf(n.Destination))
		if _, values := n.Source.(*plan.Values); !values && n.Source != nil {
			t.node(n.Source, depth+1)
		}
	case *plan.UpdateSource:
		t.node(n.Child, depth)
	default:
		children := n.Children()
		if len(children) == 1 && isBookkeeping(n) {
			t.node(children[0], depth)
			return
		}
		text := strings.TrimSpace(strings.SplitN(n.String(), "\n", 2)[0])
		t.line(depth, n, text)
		for _, c := range children {
			t.node(c, depth+1)
		}
	}
}

// isBookkeeping reports nodes MySQL's tree has no operator for.
func isBookkeeping(n sql.Node) bool {
	switch n.(type) {
	case *plan.CachedResults, *plan.Releaser, *plan.Max1Row:
		return true
	}
	return false
}

// access prints a table read, under an alias or not.
func (t *treePrinter) access(n sql.Node, name string, depth int) {
	var ita *plan.IndexedTableAccess
	var scan *plan.ResolvedTable
	var own TableAccess
	for c := n; c != nil; {
		switch x := c.(type) {
		case *plan.IndexedTableAccess:
			ita = x
		case *plan.ResolvedTable:
			scan = x
		case TableAccess:
			own = x
		}
		if ita != nil || scan != nil || own != nil || len(c.Children()) != 1 {
			break
		}
		c = c.Children()[0]
	}
	switch {
	case own != nil:
		t.node(own.(sql.Node), depth)
	case scan != nil:
		if plan.IsDualTable(scan.UnderlyingTable()) {
			t.line(depth, n, "Rows fetched before execution")
			return
		}
		t.line(depth, n, "Table scan on "+name)
	case ita != nil:
		t.line(depth, n, t.indexText(ita, name))
	default:
		t.line(depth, n, strings.TrimSpace(strings.SplitN(n.String(), "\n", 2)[0]))
	}
}

// indexText describes an index read as MySQL does.
func (t *treePrinter) indexText(ita *plan.IndexedTableAccess, name string) string {
	idx := ita.Index()
	key := indexName(idx)
	cols := idx.Expressions()
	if !ita.IsStatic() {
		var conds []string
		for i, k := range ita.Expressions() {
			if i < len(cols) {
				conds = append(conds, columnOf(cols[i])+"="+k.String())
			}
		}
		kind := "Index lookup"
		if ita.IsStrictLookup() {
			kind = "Single-row index lookup"
		}
		return fmt.Sprintf("%s on %s using %s (%s)", kind, name, key, strings.Join(conds, ", "))
	}
	lookup, _, err := ita.GetLookup(t.ctx, nil)
	if err != nil {
		return fmt.Sprintf("Index range scan on %s using %s", name, key)
	}
	eq, isRange := staticShape(lookup)
	switch {
	case !isRange && eq > 0:
		mr := lookup.Ranges.ToRanges()[0].(sql.MySQLRange)
		var conds []string
		for i := 0; i < eq && i < len(cols); i++ {
			conds = append(conds, fmt.Sprintf("%s=%s", columnOf(cols[i]), literal(mr[i])))
		}
		kind := "Index lookup"
		if eq == len(cols) && idx.IsUnique() {
			kind = "Single-row index lookup"
		}
		return fmt.Sprintf("%s on %s using %s (%s)", kind, name, key, strings.Join(conds, ", "))
	case !isRange:
		return fmt.Sprintf("Index scan on %s using %s", name, key)
	}
	var parts []string
	for _, r := range lookup.Ranges.ToRanges() {
		mr, ok := r.(sql.MySQLRange)
		if !ok {
			return fmt.Sprintf("Index range scan on %s using %s", name, key)
		}
		var conds []string
		for i, c := range mr {
			if i < len(cols) {
				if s := rangeText(c, columnOf(cols[i])); s != "" {
					conds = append(conds, s)
				}
			}
		}
		parts = append(parts, "("+strings.Join(conds, " AND ")+")")
	}
	return fmt.Sprintf("Index range scan on %s using %s over %s", name, key, strings.Join(parts, " OR "))
}

// rangeText is one key part's range as MySQL prints it: "10 <= id <= 20",
// "id < 5", "region = 'r3'".
func rangeText(c sql.MySQLRangeColumnExpr, col string) string {
	switch c.Type() {
	case sql.RangeType_EqualNull:
		return col + " IS NULL"
	case sql.RangeType_All:
		return ""
	}
	if isPoint(c) {
		return col + " = " + literal(c)
	}
	lo, hi := "", ""
	switch b := c.LowerBound.(type) {
	case sql.Below:
		lo = value(b.Key) + " <= "
	case sql.Above:
		lo = value(b.Key) + " < "
	}
	switch b := c.UpperBound.(type) {
	case sql.Above:
		hi = " <= " + value(b.Key)
	case sql.Below:
		hi = " < " + value(b.Key)
	}
	if lo == "" && hi == "" {
		return col + " IS NOT NULL"
	}
	return lo + col + hi
}

func literal(c sql.MySQLRangeColumnExpr) string {
	if c.Type() == sql.RangeType_EqualNull {
		return "NULL"
	}
	return value(sql.GetMySQLRangeCutKey(c.LowerBound))
}

func value(v any) string {
	if s, ok := v.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return fmt.Sprint(v)
}

// subqueries prints the subqueries of an expression as MySQL does:
// "Select #2 (subquery in condition; dependent)".
func (t *treePrinter) subqueries(x sql.Expression, where string, depth int) {
	if x == nil {
		return
	}
	sql.Inspect(x, func(x sql.Expression) bool {
		if s, ok := x.(*plan.Subquery); ok {
			kind := where
			if !s.Correlated().Empty() {
				kind += "; dependent"
			}
			t.line(depth, nil, fmt.Sprintf("Select #%d (subquery in %s)", t.nextSelect, kind))
			t.nextSelect++
			t.node(s.Query, depth+1)
			return false
		}
		return true
	})
}

func joinText(n *plan.JoinNode) string {
	kind := "inner join"
	switch {
	case n.Op.IsLeftOuter():
		kind = "left join"
	case n.Op.IsSemi():
		kind = "semijoin"
	case n.Op.IsAnti():
		kind = "antijoin"
	}
	cond := ""
	if n.Filter != nil && !isTrue(n.Filter) {
		cond = " " + parens(n.Filter)
	}
	switch {
	case n.Op.IsHash():
		return "Hash " + kind + cond
	case n.Op.IsMerge():
		return "Merge " + kind + cond
	}
	return "Nested loop " + kind
}

// parens is x in parentheses, as MySQL prints conditions, without
// doubling those GMS already prints around a comparison.
func parens(x sql.Expression) string {
	s := x.String()
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		return s
	}
	return "(" + s + ")"
}

func sortFields(fs sql.SortFields) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Column.String()
		if f.Order == sql.Descending {
			parts[i] += " DESC"
		}
	}
	return strings.Join(parts, ", ")
}

func exprList(xs []sql.Expression) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = x.String()
		if a, ok := x.(*expression.Alias); ok {
			parts[i] = a.Child.String()
		}
	}
	return strings.Join(parts, ", ")
}

func nameOf(n sql.Node) string {
	if nm, ok := n.(sql.Nameable); ok {
		return nm.Name()
	}
	return ""
}

// targetName is the table an UPDATE or DELETE changes.
func targetName(n sql.Node) string {
	if t := underlyingTable(n); t != nil {
		return t.Name()
	}
	return ""
}
