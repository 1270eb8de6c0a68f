package vecsql

import (
	"fmt"
	"io"
	"strings"

	"github.com/dolthub/dolt/go/libraries/doltcore/sqle"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/ml/vector"
)

// Vector search in a join's driving table.
//
// ORDER BY dist(d.col, <constant>) LIMIT k over a join whose driving
// (outermost, leftmost) table is d needs only the join rows of the
// driving rows nearest the query vector: every join row has its driving
// row's distance, so if the n nearest driving rows produce at least k
// join rows (after the join's ON and the WHERE), no other driving row,
// being at least as far as all n of them, can place a row before the k-th
// (distance ties aside, which the exact plan orders arbitrarily too).
//
// JoinSearch runs the join with the driving table replaced by the rows a
// vector index search returns: first the k nearest, and while the join
// has produced fewer than k rows and the search has not run out of rows,
// the next batch (the search widened, the rows already joined skipped).
// Once the widened search would ask for a quarter of the indexed rows,
// the batch is all the rows not joined yet, unsearched: when the join
// keeps few rows (a selective condition on another table), that bounds
// the cost near the exact plan's scan of the table. The TopN above still
// sorts and cuts the rows, so the answer is the exact plan's over the
// driving rows searched, which contain the nearest ones. That holds when
// each driving row's join rows do not depend on which other driving rows
// exist, so the rule takes only joins in which
// the driving table is the streamed (left) side of an inner, cross, left
// outer, semi or anti join, with no operator between the TopN and the
// table but projections, filters and such joins; every other shape keeps
// the exact plan. The driving table may be read whole or by a static
// index range (a WHERE the planner turned into one), which the search
// then applies as a filter. Which table drives is the join planner's
// choice, steered towards d before it plans (steerJoinOrder, joinorder.go)
// wherever d may legally drive.

// JoinSearch reads a join through a vector index search of its driving
// table. Child is the join, with the driving table replaced by a
// drivingScan the search feeds.
type JoinSearch struct {
	search *Search
	child  sql.Node
}

var _ sql.ExecBuilderNode = (*JoinSearch)(nil)
var _ sql.Expressioner = (*JoinSearch)(nil)

func (j *JoinSearch) Resolved() bool       { return j.child.Resolved() }
func (j *JoinSearch) IsReadOnly() bool     { return true }
func (j *JoinSearch) Schema() sql.Schema   { return j.child.Schema() }
func (j *JoinSearch) Children() []sql.Node { return []sql.Node{j.child} }

func (j *JoinSearch) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(j, len(children), 1)
	}
	n := *j
	n.child = children[0]
	return &n, nil
}

// String is how EXPLAIN shows the node: the search itself shows as the
// driving table's access below it.
func (j *JoinSearch) String() string {
	pr := sql.NewTreePrinter()
	_ = pr.WriteNode("VectorIndexJoin(driving table %s, until %s rows joined)", j.search.name(), j.search.limit)
	_ = pr.WriteChildren(j.child.String())
	return pr.String()
}

// Expressions implements sql.Expressioner: the search's query vector,
// limit and filter, so a prepared statement's parameters are bound.
func (j *JoinSearch) Expressions() []sql.Expression { return j.search.Expressions() }

// WithExpressions implements sql.Expressioner.
func (j *JoinSearch) WithExpressions(exprs ...sql.Expression) (sql.Node, error) {
	s, err := j.search.WithExpressions(exprs...)
	if err != nil {
		return nil, err
	}
	n := *j
	n.search = s.(*Search)
	return &n, nil
}

// BuildRowIter implements sql.ExecBuilderNode.
func (j *JoinSearch) BuildRowIter(ctx *sql.Context, b sql.NodeExecBuilder, row sql.Row) (sql.RowIter, error) {
	q, ok, err := j.search.queryVector(ctx, row)
	if err != nil {
		return nil, err
	}
	child, found, err := j.feed(j.search.read())
	if err != nil {
		return nil, err
	}
	if !ok || !found {
		// Every distance is NULL, or the join reads the table itself:
		// the exact plan, the driving table scanned.
		return b.Build(ctx, child, row)
	}
	k, err := j.search.limitValue(ctx, row)
	if err != nil {
		return nil, err
	}
	// The join is built in Next, possibly on another goroutine (a Batch
	// above reads its child concurrently) while this one reads the plan;
	// nodes cache their schema on first use (TableAlias), so fill those
	// caches here, before any other goroutine can see the plan.
	transform.Inspect(j.child, func(n sql.Node) bool {
		_ = n.Schema()
		return true
	})
	return &joinSearchIter{j: j, b: b, row: row, q: q, k: k, fed: map[rowDigest]int{}}, nil
}

// feed is the join with the driving table read from n; found is false
// when a later rewrite has put the table itself back in the join, which
// then needs no feeding.
func (j *JoinSearch) feed(n sql.Node) (out sql.Node, found bool, err error) {
	out, _, err = transform.Node(j.child, func(c sql.Node) (sql.Node, transform.TreeIdentity, error) {
		if _, ok := c.(*drivingScan); ok {
			found = true
			return n, transform.NewTree, nil
		}
		return c, transform.SameTree, nil
	})
	return out, found, err
}

// joinSearchIter streams the join of successive batches of nearest
// driving rows until k join rows are out or the search has no more rows.
type joinSearchIter struct {
	j   *JoinSearch
	b   sql.NodeExecBuilder
	row sql.Row
	q   []float32
	k   int
	// searched is how many nearest rows the last search asked for;
	// fed counts the driving rows joined so far, by content, so the next,
	// wider search joins only the rows it adds.
	searched int
	fed      map[rowDigest]int
	nFed     int
	produced int
	done     bool
	cur      sql.RowIter
}

func (it *joinSearchIter) Next(ctx *sql.Context) (sql.Row, error) {
	for {
		if it.cur != nil {
			r, err := it.cur.Next(ctx)
			if err == nil {
				it.produced++
				return r, nil
			}
			if err != io.EOF {
				return nil, err
			}
			err = it.cur.Close(ctx)
			it.cur = nil
			if err != nil {
				return nil, err
			}
		}
		if it.done || it.produced >= it.k {
			return nil, io.EOF
		}
		batch, err := it.nextBatch(ctx)
		if err != nil {
			return nil, err
		}
		if len(batch) == 0 {
			continue
		}
		child, _, err := it.j.feed(&rowsScan{schema: it.j.search.table.Schema(), rows: batch})
		if err != nil {
			return nil, err
		}
		if it.cur, err = it.b.Build(ctx, child, it.row); err != nil {
			return nil, err
		}
	}
}

// nextBatch searches for more nearest rows than last time and returns
// the ones not joined yet; it sets done when the search returned every
// row that passes the filter.
func (it *joinSearchIter) nextBatch(ctx *sql.Context) ([]sql.Row, error) {
	n := it.k
	if it.searched > 0 {
		// Widen by the yield so far: fed rows gave produced join rows,
		// and k - produced are missing; at least double.
		grow := it.searched
		if it.produced > 0 {
			grow = max(grow, (it.k-it.produced)*it.nFed/it.produced+1)
		} else {
			grow = 3 * it.searched
		}
		n = it.searched + grow
	}
	it.searched = n
	rows, all, err := it.j.search.nearest(ctx, it.b, it.q, n, true)
	if err != nil {
		return nil, err
	}
	if all || len(rows) < n {
		it.done = true
	}
	seen := make(map[rowDigest]int, len(rows))
	batch := rows[:0:0]
	for _, r := range rows {
		key, err := rowKey(ctx, r)
		if err != nil {
			return nil, err
		}
		seen[key]++
		if seen[key] > it.fed[key] {
			it.fed[key]++
			it.nFed++
			batch = append(batch, r)
		}
	}
	if len(batch) == 0 && !it.done {
		// The wider search found nothing new (the graph is
		// approximate); widening again would repeat it.
		it.done = true
	}
	return batch, nil
}

func (it *joinSearchIter) Close(ctx *sql.Context) error {
	if it.cur != nil {
		err := it.cur.Close(ctx)
		it.cur = nil
		return err
	}
	return nil
}

// drivingScan marks the driving table's place in JoinSearch's join; it is
// replaced by the searched rows before the join runs. It is the table to
// the analyzer (the embedded ResolvedTable gives it the table's column
// ids, by which the analyzer lays out the join's rows).
type drivingScan struct {
	*plan.ResolvedTable
	search *Search
}

var _ sql.ExecBuilderNode = (*drivingScan)(nil)
var _ plan.TableIdNode = (*drivingScan)(nil)

func newDrivingScan(s *Search) *drivingScan {
	return &drivingScan{ResolvedTable: s.table, search: s}
}

func (d *drivingScan) Resolved() bool       { return true }
func (d *drivingScan) IsReadOnly() bool     { return true }
func (d *drivingScan) Children() []sql.Node { return nil }
func (d *drivingScan) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(d, len(children), 0)
	}
	return d, nil
}

// WithId implements plan.TableIdNode.
func (d *drivingScan) WithId(id sql.TableId) plan.TableIdNode {
	s := *d.search
	s.table = d.ResolvedTable.WithId(id).(*plan.ResolvedTable)
	return newDrivingScan(&s)
}

// WithColumns implements plan.TableIdNode.
func (d *drivingScan) WithColumns(cols sql.ColSet) plan.TableIdNode {
	s := *d.search
	s.table = d.ResolvedTable.WithColumns(cols).(*plan.ResolvedTable)
	return newDrivingScan(&s)
}

func (d *drivingScan) String() string      { return d.search.String() }
func (d *drivingScan) DebugString() string { return d.search.String() }

// ExplainAccess implements exec.TableAccess, as Search does.
func (d *drivingScan) ExplainAccess() (table sql.Node, key, accessType, extra string) {
	return d.search.ExplainAccess()
}

func (d *drivingScan) BuildRowIter(*sql.Context, sql.NodeExecBuilder, sql.Row) (sql.RowIter, error) {
	return nil, fmt.Errorf("vector search: %s runs only inside its join", d.search.name())
}

// rowsScan yields rows already read: a batch of searched driving rows.
type rowsScan struct {
	schema sql.Schema
	rows   []sql.Row
}

var _ sql.ExecBuilderNode = (*rowsScan)(nil)

func (r *rowsScan) Resolved() bool       { return true }
func (r *rowsScan) IsReadOnly() bool     { return true }
func (r *rowsScan) Schema() sql.Schema   { return r.schema }
func (r *rowsScan) Children() []sql.Node { return nil }
func (r *rowsScan) String() string       { return fmt.Sprintf("Rows(%d)", len(r.rows)) }
func (r *rowsScan) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(r, len(children), 0)
	}
	return r, nil
}

func (r *rowsScan) BuildRowIter(*sql.Context, sql.NodeExecBuilder, sql.Row) (sql.RowIter, error) {
	return sql.RowsToRowIter(r.rows...), nil
}

// streamsLeft reports whether a join of type t reads its left side once,
// row by row, and produces each left row's output from that row and the
// right side alone (so feeding it fewer left rows drops exactly their
// output). Merge and range-heap joins need their left input sorted, and
// right, full outer and lateral joins break the rule.
func streamsLeft(t plan.JoinType) bool {
	switch t {
	case plan.JoinTypeCross, plan.JoinTypeCrossHash, plan.JoinTypeInner,
		plan.JoinTypeLeftOuter, plan.JoinTypeLeftOuterExcludeNulls,
		plan.JoinTypeLookup, plan.JoinTypeLeftOuterLookup,
		plan.JoinTypeHash, plan.JoinTypeLeftOuterHash, plan.JoinTypeLeftOuterHashExcludeNulls,
		plan.JoinTypeSemi, plan.JoinTypeSemiHash, plan.JoinTypeSemiLookup,
		plan.JoinTypeAnti, plan.JoinTypeAntiIncludeNulls, plan.JoinTypeAntiHash,
		plan.JoinTypeAntiHashIncludeNulls, plan.JoinTypeAntiLookup, plan.JoinTypeAntiLookupIncludeNulls:
		return true
	}
	return false
}

// useIndexInJoin is the join form of the rule: TopN(ORDER BY dist(d.col,
// const) ASC LIMIT k) over projections, filters and joins down to the
// driving table d, read on the left of every join on the way, with a
// vector index on col whose metric is dist's.
func useIndexInJoin(ctx *sql.Context, top *plan.TopN) (sql.Node, transform.TreeIdentity, error) {
	if top.CalcFoundRows {
		return top, transform.SameTree, nil
	}
	order := top.Fields[0].Column
	var leaf sql.Node
	var ownFilter sql.Expression
	joined := false
	for n := top.Child; leaf == nil; {
		switch x := n.(type) {
		case *plan.Project:
			order = unalias(order, x)
			n = x.Child
		case *plan.Filter:
			if !deterministic(x.Expression) {
				return top, transform.SameTree, nil
			}
			if _, ok := readOf(ctx, x.Child); ok && joined {
				ownFilter = x.Expression
			}
			n = x.Child
		case *plan.JoinNode:
			if !streamsLeft(x.Op) {
				return top, transform.SameTree, nil
			}
			joined = true
			n = x.Left()
		case *plan.ResolvedTable, *plan.TableAlias, *plan.IndexedTableAccess:
			leaf = x
		default:
			return top, transform.SameTree, nil
		}
	}
	read, ok := readOf(ctx, leaf)
	if !ok || !joined {
		return top, transform.SameTree, nil
	}
	rt, alias := read.rt, read.alias
	metric, args, ok := distanceCall(order)
	if !ok {
		return top, transform.SameTree, nil
	}
	name := rt.Name()
	if alias != "" {
		name = alias
	}
	for i, a := range args {
		gf, ok := a.(*expression.GetField)
		if !ok || !strings.EqualFold(gf.Table(), name) || !constant(args[1-i]) {
			continue
		}
		ix, ok := vectorIndex(ctx, rt.Table, gf.Name())
		if !ok {
			continue
		}
		opts := ParseOptions(ix.Comment())
		if metric >= 0 && vector.Metric(metric) != opts.Metric {
			continue
		}
		col := rt.Schema().IndexOfColName(gf.Name())
		if col < 0 {
			continue
		}
		vt, isVec := rt.Schema()[col].Type.(types.VectorType)
		if !isVec {
			continue
		}
		s := &Search{table: rt, alias: alias, source: read.node, inRange: read.inRange, index: ix.ID(), col: col,
			opts: opts, dim: vt.Dimensions, query: args[1-i], limit: top.Limit, filter: ownFilter}
		if s.filter != nil {
			if _, ok, err := s.bindToTable(s.filter); err != nil || !ok {
				s.filter = nil
			}
		}
		replaced := 0
		child, _, err := transform.Node(top.Child, func(c sql.Node) (sql.Node, transform.TreeIdentity, error) {
			if c == read.node {
				replaced++
				return newDrivingScan(s), transform.NewTree, nil
			}
			return c, transform.SameTree, nil
		})
		// The driving table's node must be read in that one place (a
		// node shared by both sides of a self-join would feed both).
		if err != nil || replaced != 1 {
			return top, transform.SameTree, err
		}
		out, err := top.WithChildren(&JoinSearch{search: s, child: child})
		if err != nil {
			return nil, transform.SameTree, err
		}
		return out, transform.NewTree, nil
	}
	return top, transform.SameTree, nil
}

// deterministic reports whether a filter can be evaluated twice with the
// same result (in the search and again in the plan): no random or
// otherwise non-deterministic function.
func deterministic(e sql.Expression) bool {
	ok := true
	transform.InspectExpr(e, func(e sql.Expression) bool {
		if f, isFn := e.(sql.NonDeterministicExpression); isFn && f.IsNonDeterministic() {
			ok = false
		}
		return !ok
	})
	return ok
}

// tableRead is how the plan reads the table the search would replace: the
// node itself (node), the table (rt, its alias) and, for a read of a
// static index range (WHERE id > 100 becomes one), the range as a row
// predicate, which the search must apply since it reads the whole graph.
type tableRead struct {
	node    sql.Node
	rt      *plan.ResolvedTable
	alias   string
	inRange func(*sql.Context, sql.Row) (bool, error)
}

// readOf recognises a table read the search can replace: a scan or a
// static index range read, possibly under an alias.
func readOf(ctx *sql.Context, n sql.Node) (tableRead, bool) {
	alias := ""
	if ta, ok := n.(*plan.TableAlias); ok {
		alias, n = ta.Name(), ta.Child
	}
	switch t := n.(type) {
	case *plan.ResolvedTable:
		return tableRead{node: t, rt: t, alias: alias}, true
	case *plan.IndexedTableAccess:
		rt, ok := t.TableNode.(*plan.ResolvedTable)
		if !ok || !t.IsStatic() {
			return tableRead{}, false
		}
		in, ok := rangePredicate(ctx, t, rt.Schema())
		if !ok {
			return tableRead{}, false
		}
		// The index read's table node holds the storage's range reader;
		// the graph is built from a scan of the table itself.
		var plain sql.Table
		switch x := rt.UnderlyingTable().(type) {
		case *sqle.IndexedDoltTable:
			plain = x.DoltTable
		case *sqle.WritableIndexedDoltTable:
			plain = x.WritableDoltTable
		default:
			return tableRead{}, false
		}
		mt, err := rt.WithTable(plain)
		if err != nil {
			return tableRead{}, false
		}
		if rt, ok = mt.(*plan.ResolvedTable); !ok || !rt.Schema().Equals(t.Schema()) {
			return tableRead{}, false
		}
		// The search stands where the index read stood: its column ids.
		rt = rt.WithId(t.Id()).(*plan.ResolvedTable).WithColumns(t.Columns()).(*plan.ResolvedTable)
		return tableRead{node: t, rt: rt, alias: alias, inRange: in}, true
	}
	return tableRead{}, false
}

// rangePredicate is whether a row's index key lies in one of ita's static
// ranges: for each key column, the range's lower cut is at or below the
// value and its upper cut at or above it.
func rangePredicate(ctx *sql.Context, ita *plan.IndexedTableAccess, schema sql.Schema) (func(*sql.Context, sql.Row) (bool, error), bool) {
	lookup, _, err := ita.GetLookup(ctx, nil)
	if err != nil || lookup.Index == nil || lookup.IsSpatialLookup {
		return nil, false
	}
	ranges, ok := lookup.Ranges.(sql.MySQLRangeCollection)
	if !ok {
		return nil, false
	}
	exprs := lookup.Index.Expressions()
	cols := make([]int, len(exprs))
	for i, e := range exprs {
		if cols[i] = schema.IndexOfColName(lastPart(e)); cols[i] < 0 {
			return nil, false
		}
	}
	for _, r := range ranges {
		if len(r) > len(cols) {
			return nil, false
		}
	}
	return func(ctx *sql.Context, row sql.Row) (bool, error) {
	next:
		for _, r := range ranges {
			for i, ce := range r {
				v, err := sql.UnwrapAny(ctx, row[cols[i]])
				if err != nil {
					return false, err
				}
				var below, above sql.MySQLRangeCut = sql.BelowNull{}, sql.AboveNull{}
				if v != nil {
					below, above = sql.Below{Key: v, Typ: ce.Typ}, sql.Above{Key: v, Typ: ce.Typ}
				}
				lo, err := ce.LowerBound.Compare(below, ce.Typ)
				if err != nil {
					return false, err
				}
				hi, err := above.Compare(ce.UpperBound, ce.Typ)
				if err != nil {
					return false, err
				}
				if lo > 0 || hi > 0 {
					continue next
				}
			}
			return true, nil
		}
		return false, nil
	}, true
}
