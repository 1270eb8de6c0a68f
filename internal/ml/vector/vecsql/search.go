package vecsql

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/ml/vector"
)

// VarEfSearch is MariaDB's session variable for the HNSW search width:
// larger finds more of the true nearest rows, slower.
const VarEfSearch = "mhnsw_ef_search"

// SystemVariables are the vector search variables, for the server to
// register.
func SystemVariables() []sql.SystemVariable {
	return []sql.SystemVariable{&sql.MysqlSystemVariable{
		Name: VarEfSearch, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both), Dynamic: true,
		Type: types.NewSystemIntType(VarEfSearch, 1, 10000, false), Default: int64(20),
	}}
}

// Search reads a table through its vector index: the rows nearest to a
// constant query vector, as many as the LIMIT above it needs (and, with a
// WHERE filter, as many that pass it), ordered by the ORDER BY expression
// exactly as the TopN it replaces would order them. It replaces the table
// scan under ORDER BY <distance>(col, <constant>) LIMIT k, and the TopN
// becomes a plain Limit: sorting k rows here evaluates the distance k
// times instead of twice per heap comparison. A Filter above it stays and
// checks the rows it yields.
type Search struct {
	table *plan.ResolvedTable
	// alias is the table's name in the query (FROM docs d: "d"), which
	// its column references carry; "" when not aliased.
	alias  string
	index  string
	col    int
	opts   Options
	dim    int
	query  sql.Expression
	limit  sql.Expression
	filter sql.Expression // nil: no WHERE
	// source is the read the search replaced, which the plan runs when
	// there is no query vector: the table, or a static index range of it,
	// whose range inRange (nil for the table) checks for the search.
	source  sql.Node
	inRange func(*sql.Context, sql.Row) (bool, error)
	// order is the ORDER BY expression over the table's row, nil when a
	// TopN above still sorts.
	order sql.Expression
	nulls sql.NullOrdering
}

var _ sql.ExecBuilderNode = (*Search)(nil)
var _ sql.Expressioner = (*Search)(nil)

func (s *Search) Resolved() bool       { return s.table.Resolved() }
func (s *Search) IsReadOnly() bool     { return true }
func (s *Search) Schema() sql.Schema   { return s.table.Schema() }
func (s *Search) Children() []sql.Node { return nil }
func (s *Search) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 0 {
		return nil, sql.ErrInvalidChildrenNumber.New(s, len(children), 0)
	}
	return s, nil
}

// String is how EXPLAIN shows the index use.
func (s *Search) String() string {
	return fmt.Sprintf("VectorIndexScan(%s.%s on %s, distance=%s, M=%d, query=%s)",
		s.table.Name(), s.index, s.Schema()[s.col].Name, s.opts.Metric, s.opts.M, s.query)
}

// Expressions implements sql.Expressioner, so parameters of a prepared
// statement are bound in the query vector and the limit.
func (s *Search) Expressions() []sql.Expression {
	out := []sql.Expression{s.query, s.limit}
	if s.filter != nil {
		out = append(out, s.filter)
	}
	if s.order != nil {
		out = append(out, s.order)
	}
	return out
}

// WithExpressions implements sql.Expressioner.
func (s *Search) WithExpressions(exprs ...sql.Expression) (sql.Node, error) {
	if len(exprs) != len(s.Expressions()) {
		return nil, sql.ErrInvalidChildrenNumber.New(s, len(exprs), len(s.Expressions()))
	}
	n := *s
	n.query, n.limit, exprs = exprs[0], exprs[1], exprs[2:]
	if s.filter != nil {
		n.filter, exprs = exprs[0], exprs[1:]
	}
	if s.order != nil {
		n.order = exprs[0]
	}
	return &n, nil
}

// BuildRowIter implements sql.ExecBuilderNode.
func (s *Search) BuildRowIter(ctx *sql.Context, b sql.NodeExecBuilder, row sql.Row) (sql.RowIter, error) {
	q, ok, err := s.queryVector(ctx, row)
	if err != nil {
		return nil, err
	}
	if !ok {
		// No vector to compare with: the distance is NULL for every row,
		// and NULLs sort first; any k rows answer.
		return b.Build(ctx, s.read(), row)
	}
	k, err := s.limitValue(ctx, row)
	if err != nil {
		return nil, err
	}
	rows, _, err := s.nearest(ctx, b, q, k, false)
	if err != nil {
		return nil, err
	}
	if s.order != nil {
		if err := s.sortRows(ctx, rows); err != nil {
			return nil, err
		}
	}
	return sql.RowsToRowIter(rows...), nil
}

// read is the plan's own read of the table the search replaced.
func (s *Search) read() sql.Node {
	if s.source != nil {
		return s.source
	}
	return s.table
}

// queryVector evaluates the query vector; ok is false when it is not a
// vector of the column's dimension (NULL, or another length), so that
// every row's distance is NULL.
func (s *Search) queryVector(ctx *sql.Context, row sql.Row) ([]float32, bool, error) {
	qv, err := s.query.Eval(ctx, row)
	if err != nil {
		return nil, false, err
	}
	if u, err := sql.UnwrapAny(ctx, qv); err == nil {
		qv = u
	}
	q, ok := binaryVector(qv)
	if !ok || len(q) != s.dim {
		return nil, false, nil
	}
	return q, true, nil
}

// limitValue evaluates the LIMIT (with a prepared statement's parameter
// bound) as a row count.
func (s *Search) limitValue(ctx *sql.Context, row sql.Row) (int, error) {
	lv, err := s.limit.Eval(ctx, row)
	if err != nil {
		return 0, err
	}
	k, _, err := types.Int64.Convert(ctx, lv)
	if err != nil {
		return 0, err
	}
	return int(k.(int64)), nil
}

// nearest returns the k rows nearest q that pass the filter, nearest
// first (fewer only when fewer pass), searching mhnsw_ef_search
// candidates (at least k). With wide set, once k reaches a quarter of the
// indexed rows it returns every row that passes instead, in no order, and
// all=true: a graph search that wide costs more than reading them all.
// Only a caller that sorts above (a join's widening search) sets it.
func (s *Search) nearest(ctx *sql.Context, b sql.NodeExecBuilder, q []float32, k int, wide bool) (rows []sql.Row, all bool, err error) {
	ef := int64(20)
	if v, err := ctx.GetSessionVariable(ctx, VarEfSearch); err == nil {
		if n, ok := v.(int64); ok {
			ef = n
		}
	}
	e, proj, release, err := graphFor(ctx, b, s.table, s.col, s.opts, s.dim)
	if err != nil {
		return nil, false, err
	}
	defer release()
	// row is the graph's row id as this plan's table reads it.
	row := func(id uint32) sql.Row {
		r := e.rows[id]
		if r == nil || proj == nil {
			return r
		}
		out := make(sql.Row, len(proj))
		for i, j := range proj {
			out[i] = r[j]
		}
		return out
	}
	var accept func(uint32) bool
	var filterErr error
	if s.filter != nil || s.inRange != nil {
		var filter sql.Expression
		if s.filter != nil {
			if filter, err = s.bindFilter(); err != nil {
				return nil, false, err
			}
		}
		accept = func(id uint32) bool {
			if e.rows[id] == nil || filterErr != nil {
				return false
			}
			r := row(id)
			if s.inRange != nil {
				in, err := s.inRange(ctx, r)
				if err != nil || !in {
					filterErr = err
					return false
				}
			}
			if filter == nil {
				return true
			}
			v, err := filter.Eval(ctx, r)
			if err != nil {
				filterErr = err
				return false
			}
			t, _ := sql.ConvertToBool(ctx, v)
			return t
		}
	}
	if wide && k >= len(e.rows)/wideSearchFraction {
		for id, r := range e.rows {
			if r != nil && (accept == nil || accept(uint32(id))) {
				rows = append(rows, row(uint32(id)))
			}
		}
		return rows, true, filterErr
	}
	res := e.graph.Search(q, k, int(ef), accept)
	if filterErr != nil {
		return nil, false, filterErr
	}
	rows = make([]sql.Row, 0, len(res))
	for _, r := range res {
		rows = append(rows, row(r.ID))
	}
	return rows, false, nil
}

// wideSearchFraction: a search for at least 1/wideSearchFraction of the
// indexed rows reads them all instead (see nearest).
const wideSearchFraction = 4

// sortRows orders rows by s.order ascending as the TopN it replaced:
// NULLs where the sort field puts them, the column type's comparison, and
// ties in the order the rows came (the graph's order).
func (s *Search) sortRows(ctx *sql.Context, rows []sql.Row) error {
	// Later analyzer rules may renumber the expression's fields for
	// another row layout: bind them to the table's row again.
	order, ok, err := s.bindToTable(s.order)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("vector search: ORDER BY %s is not over table %s", s.order, s.table.Name())
	}
	keys := make([]any, len(rows))
	for i, r := range rows {
		v, err := order.Eval(ctx, r)
		if err != nil {
			return sql.ErrUnableSort.Wrap(err)
		}
		keys[i] = v
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	typ := order.Type()
	var sortErr error
	sort.SliceStable(idx, func(a, b int) bool {
		av, bv := keys[idx[a]], keys[idx[b]]
		switch {
		case av == nil && bv == nil:
			return false
		case av == nil:
			return s.nulls == sql.NullsFirst
		case bv == nil:
			return s.nulls != sql.NullsFirst
		}
		c, err := typ.Compare(ctx, av, bv)
		if err != nil && sortErr == nil {
			sortErr = err
		}
		return c < 0
	})
	if sortErr != nil {
		return sortErr
	}
	sorted := make([]sql.Row, len(rows))
	for i, j := range idx {
		sorted[i] = rows[j]
	}
	copy(rows, sorted)
	return nil
}

// bindFilter points the filter's columns at the table's row by name: the
// Filter node's field indexes are laid out for the executor's row, which
// may differ from the row the index keeps.
func (s *Search) bindFilter() (sql.Expression, error) {
	e, ok, err := s.bindToTable(s.filter)
	if err != nil {
		return nil, err
	}
	if !ok {
		// A column of another table (a correlated reference): let the
		// Filter above decide, and accept every row here.
		return expression.NewLiteral(true, types.Boolean), nil
	}
	return e, nil
}

// name is the table's name as the query's column references qualify it.
func (s *Search) name() string {
	if s.alias != "" {
		return s.alias
	}
	return s.table.Name()
}

// bindToTable rebinds e's columns to the table's row by name; ok is false
// when e refers to a column of another table.
func (s *Search) bindToTable(expr sql.Expression) (sql.Expression, bool, error) {
	schema := s.table.Schema()
	ok := true
	e, _, err := transform.Expr(expr, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		gf, isField := e.(*expression.GetField)
		if !isField {
			return e, transform.SameTree, nil
		}
		i := schema.IndexOfColName(gf.Name())
		if i < 0 || !strings.EqualFold(gf.Table(), s.name()) && gf.Table() != "" {
			ok = false
			return e, transform.SameTree, nil
		}
		return gf.WithIndex(i), transform.NewTree, nil
	})
	return e, ok, err
}

// useIndex is the planner rule: TopN(ORDER BY dist(col, const) ASC LIMIT k)
// over [Project] [Filter] Table, with a vector index on col whose metric
// is dist's, reads the table through Search.
func useIndex(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	return transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		top, ok := n.(*plan.TopN)
		if !ok || len(top.Fields) != 1 || top.Fields[0].Order != sql.Ascending {
			return n, transform.SameTree, nil
		}
		order := top.Fields[0].Column
		below := top.Child
		if p, ok := below.(*plan.Project); ok {
			order = unalias(order, p)
			below = p.Child
		}
		var filter sql.Expression
		if f, ok := below.(*plan.Filter); ok {
			filter, below = f.Expression, f.Child
		}
		read, ok := readOf(ctx, below)
		if !ok {
			return useIndexInJoin(ctx, top)
		}
		rt := read.rt
		metric, args, ok := distanceCall(order)
		if !ok {
			return n, transform.SameTree, nil
		}
		tables := tablesOf(top)
		for i, a := range args {
			ix, gf, ok := indexedColumn(ctx, tables, a)
			if !ok && read.inRange != nil {
				// An index range read is no table node tablesOf sees.
				if gf, ok = a.(*expression.GetField); ok {
					ix, ok = vectorIndex(ctx, rt.Table, gf.Name())
				}
			}
			if !ok || !constant(args[1-i]) {
				continue
			}
			opts := ParseOptions(ix.Comment())
			if metric >= 0 && vector.Metric(metric) != opts.Metric {
				continue
			}
			col := rt.Schema().IndexOfColName(gf.Name())
			vt, isVec := rt.Schema()[max(col, 0)].Type.(types.VectorType)
			if col < 0 || !isVec {
				continue
			}
			s := &Search{table: rt, alias: read.alias, source: read.node, inRange: read.inRange, index: ix.ID(), col: col, opts: opts, dim: vt.Dimensions, query: args[1-i], limit: top.Limit, filter: filter}
			// The search sorts its k rows itself and the TopN becomes a
			// Limit, unless the TopN must count all rows
			// (SQL_CALC_FOUND_ROWS) or the sort key is not the table's.
			var replaceTop bool
			if !top.CalcFoundRows {
				if o, ok, err := s.bindToTable(order); err == nil && ok {
					s.order, s.nulls, replaceTop = o, top.Fields[0].NullOrdering, true
				}
			}
			replaced, same, err := transform.Node(top, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
				if n == read.node {
					return s, transform.NewTree, nil
				}
				return n, transform.SameTree, nil
			})
			if err != nil || same {
				return n, transform.SameTree, err
			}
			if replaceTop {
				return plan.NewLimit(top.Limit, replaced.(*plan.TopN).Child), transform.NewTree, nil
			}
			return replaced, transform.NewTree, nil
		}
		return n, transform.SameTree, nil
	})
}

// distanceCall recognises a distance function: its metric (-1 for
// VEC_DISTANCE, which takes the index's own) and its vector arguments.
func distanceCall(e sql.Expression) (int, []sql.Expression, bool) {
	switch c := e.(type) {
	case *IndexDistance:
		return -1, c.args, c.resolved
	case *call:
		switch c.def.name {
		case "vec_distance_euclidean":
			return int(vector.Euclidean), c.args, true
		case "vec_distance_cosine":
			return int(vector.Cosine), c.args, true
		case "distance", "vector_distance":
			lit, ok := c.args[2].(*expression.Literal)
			if !ok {
				return 0, nil, false
			}
			m, err := vector.ParseMetric(fmt.Sprint(lit.Value()))
			if err != nil || m == vector.Dot {
				return 0, nil, false
			}
			return int(m), c.args[:2], true
		}
	}
	return 0, nil, false
}

// constant reports whether e has the same value for every row: no column
// references and no subqueries (parameters are fine).
func constant(e sql.Expression) bool {
	ok := true
	transform.InspectExpr(e, func(e sql.Expression) bool {
		switch e.(type) {
		case *expression.GetField, *plan.Subquery:
			ok = false
		}
		if f, isFn := e.(sql.NonDeterministicExpression); isFn && f.IsNonDeterministic() {
			ok = false
		}
		return !ok
	})
	return ok
}

// ExplainAccess implements exec.TableAccess: traditional EXPLAIN shows the
// search as an index read of the table through the vector index, as
// MariaDB shows its vector index searches (type index, key the index).
func (s *Search) ExplainAccess() (table sql.Node, key, accessType, extra string) {
	return s.table, s.index, "index", fmt.Sprintf("Using vector index (distance=%s, M=%d)", s.opts.Metric, s.opts.M)
}

// unalias returns the expression p computes under the name order refers
// to, when order is a reference to one of p's aliases (ORDER BY dist with
// dist = VEC_DISTANCE(...) in the select list), else order itself.
func unalias(order sql.Expression, p *plan.Project) sql.Expression {
	if gf, ok := order.(*expression.GetField); ok {
		for _, pe := range p.Projections {
			if a, ok := pe.(*expression.Alias); ok && strings.EqualFold(a.Name(), gf.Name()) {
				order = a.Child
			}
		}
	}
	return order
}
