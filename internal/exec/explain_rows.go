package exec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
)

// TableAccess is implemented by plan nodes that read a table by their own
// means (the vector index search), so EXPLAIN can show them as the access
// to that table MySQL would print: the index used and how.
type TableAccess interface {
	// ExplainAccess returns the table (as named in the query), the index
	// used, the access type and the Extra text.
	ExplainAccess() (table sql.Node, key, accessType, extra string)
}

// explainRow is one row of traditional EXPLAIN output.
type explainRow struct {
	id           int
	selectType   string
	table        string
	accessType   string
	possibleKeys []string
	key          string
	keyLen       int // 0: NULL
	ref          []string
	// refTables are the tables an eq_ref lookup's keys come from.
	refTables []string
	rows      uint64
	hasRows   bool
	extra     []string
	// names are the names (alias and table) a condition may use for the
	// table read, so Using where lands on the right access.
	names map[string]bool
	// source is the table read, nil for derived tables.
	source sql.Table
}

func (r *explainRow) addExtra(s string) {
	for _, e := range r.extra {
		if e == s {
			return
		}
	}
	r.extra = append(r.extra, s)
}

// explainer walks an analyzed plan in execution order and collects one
// row per table access, as MySQL's traditional EXPLAIN does.
type explainer struct {
	ctx    *sql.Context
	rows   []*explainRow
	nextID int
	// dml is the select_type of the statement's target table access
	// (UPDATE, DELETE) while its source is walked, "" otherwise.
	dml string
}

// explainRows returns the traditional EXPLAIN rows of the analyzed plan n,
// in MySQL 8's columns: id, select_type, table, partitions, type,
// possible_keys, key, key_len, ref, rows, filtered, Extra.
func explainRows(ctx *sql.Context, n sql.Node) []sql.Row {
	e := &explainer{ctx: ctx, nextID: 1}
	e.query(n, e.newID(), "SIMPLE")
	if len(e.rows) == 0 {
		return []sql.Row{{uint64(1), "SIMPLE", nil, nil, nil, nil, nil, nil, nil, nil, nil, "No tables used"}}
	}
	multi := false
	for _, r := range e.rows {
		if r.id != 1 || (r.selectType != "SIMPLE" && !isDML(r.selectType)) {
			multi = true
		}
	}
	out := make([]sql.Row, 0, len(e.rows))
	for _, r := range e.rows {
		st := r.selectType
		if multi && st == "SIMPLE" {
			st = "PRIMARY"
		}
		var id any = uint64(r.id)
		if r.id == 0 {
			id = nil // UNION RESULT
		}
		out = append(out, sql.Row{
			id, st, nullStr(r.table), nil, nullStr(r.accessType),
			nullStr(strings.Join(r.possibleKeys, ",")), nullStr(r.key), keyLenValue(r.keyLen),
			nullStr(strings.Join(r.ref, ",")), rowsValue(r), filteredValue(r), nullStr(strings.Join(r.extra, "; ")),
		})
	}
	return out
}

func isDML(st string) bool { return st == "UPDATE" || st == "DELETE" || st == "INSERT" }

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func keyLenValue(n int) any {
	if n <= 0 {
		return nil
	}
	return fmt.Sprint(n)
}

func rowsValue(r *explainRow) any {
	if !r.hasRows {
		return nil
	}
	return r.rows
}

func filteredValue(r *explainRow) any {
	if !r.hasRows {
		return nil
	}
	return 100.0
}

func (e *explainer) newID() int {
	id := e.nextID
	e.nextID++
	return id
}

// query walks one query block (a SELECT, a derived table, a subquery),
// whose table accesses share id.
func (e *explainer) query(n sql.Node, id int, selectType string) {
	start := len(e.rows)
	e.walk(n, id, selectType, start)
}

// walk collects the accesses of n; start is the index in e.rows of the
// first access of the current query block, to which MySQL attaches the
// block's Using temporary / Using filesort.
func (e *explainer) walk(n sql.Node, id int, selectType string, start int) {
	switch n := n.(type) {
	case nil:
		return
	case *plan.DescribeQuery:
		e.walk(n.Child, id, selectType, start)
	case *Batch:
		before := len(e.rows)
		e.walk(n.child, id, selectType, start)
		e.subqueries(n, id)
		if len(e.rows) > before {
			e.rows[before].addExtra(Label)
		} else {
			e.rows = append(e.rows, &explainRow{id: id, selectType: selectType, extra: []string{Label}})
		}
	case TableAccess:
		t, key, typ, extra := n.ExplainAccess()
		r := e.tableRow(t, id, selectType)
		r.accessType, r.key = typ, key
		r.possibleKeys = []string{key}
		if extra != "" {
			r.addExtra(extra)
		}
		e.rows = append(e.rows, r)
	case *plan.InsertInto:
		r := e.tableRow(n.Destination, id, "INSERT")
		r.accessType, r.hasRows = "ALL", false
		e.rows = append(e.rows, r)
		if _, values := n.Source.(*plan.Values); !values && n.Source != nil {
			e.query(n.Source, e.newID(), "SIMPLE")
		}
	case *plan.Update:
		e.dmlSource(n.Child, id, "UPDATE", start)
	case *plan.DeleteFrom:
		e.dmlSource(n.Child, id, "DELETE", start)
	case *plan.ResolvedTable:
		if plan.IsDualTable(n.UnderlyingTable()) {
			return // SELECT without FROM: "No tables used"
		}
		e.rows = append(e.rows, e.access(n, id, selectType))
	case *plan.IndexedTableAccess, *plan.TableAlias:
		e.rows = append(e.rows, e.access(n, id, selectType))
	case *plan.SubqueryAlias:
		did := e.newID()
		r := &explainRow{id: id, selectType: selectType, table: fmt.Sprintf("<derived%d>", did), accessType: "ALL",
			names: map[string]bool{strings.ToLower(n.Name()): true}}
		e.rows = append(e.rows, r)
		e.query(n.Child, did, "DERIVED")
	case *plan.SetOp:
		e.walk(n.Left(), id, selectType, start)
		rid := e.newID()
		e.query(n.Right(), rid, "UNION")
		u := &explainRow{id: 0, selectType: "UNION RESULT", table: fmt.Sprintf("<union%d,%d>", id, rid), accessType: "ALL",
			extra: []string{"Using temporary"}}
		e.rows = append(e.rows, u)
	case *plan.JoinNode:
		e.join(n, id, selectType, start)
	case *plan.Filter:
		before := len(e.rows)
		e.walk(n.Child, id, selectType, start)
		e.usingWhere(n.Expression, before)
		e.exprSubqueries(n.Expression, id)
	case *plan.Having:
		e.walk(n.Child, id, selectType, start)
		e.exprSubqueries(n.Cond, id)
	case *plan.Sort:
		e.walk(n.Child, id, selectType, start)
		e.blockExtra(start, "Using filesort")
	case *plan.TopN:
		e.walk(n.Child, id, selectType, start)
		if !readsByOwnAccess(n.Child) {
			// The vector index yields rows nearest first: no sort.
			e.blockExtra(start, "Using filesort")
		}
	case *plan.GroupBy:
		e.walk(n.Child, id, selectType, start)
		if len(n.GroupByExprs) > 0 {
			e.blockExtra(start, "Using temporary")
		}
		e.subqueries(n, id)
	case *plan.Distinct, *plan.OrderedDistinct:
		e.walk(n.Children()[0], id, selectType, start)
		e.blockExtra(start, "Using temporary")
	default:
		for _, c := range n.Children() {
			e.walk(c, id, selectType, start)
		}
		e.subqueries(n, id)
	}
}

// readsByOwnAccess reports whether n reads a table through a TableAccess
// node (the vector index search) that yields n's rows nearest first; a
// join's rows, driven by the search, are still sorted above it.
func readsByOwnAccess(n sql.Node) bool {
	found := false
	transform.Inspect(n, func(n sql.Node) bool {
		switch n.(type) {
		case TableAccess:
			found = true
		case *plan.JoinNode:
			return false
		}
		return !found
	})
	return found
}

// ownAccess is the TableAccess n reads through, looking through the
// single-child nodes (an alias) above it.
func ownAccess(n sql.Node) (TableAccess, bool) {
	for n != nil {
		if a, ok := n.(TableAccess); ok {
			return a, true
		}
		if len(n.Children()) != 1 {
			return nil, false
		}
		n = n.Children()[0]
	}
	return nil, false
}

// dmlSource walks the rows an UPDATE or DELETE reads: MySQL shows them as
// the statement's own row (select_type UPDATE/DELETE) and, for a
// single-table statement, which MySQL plans with the range optimizer, any
// index lookup as range.
func (e *explainer) dmlSource(n sql.Node, id int, kind string, start int) {
	before := len(e.rows)
	e.walk(n, id, kind, start)
	if len(e.rows) == before+1 {
		switch r := e.rows[before]; r.accessType {
		case "const", "eq_ref", "ref":
			r.accessType, r.ref = "range", nil
			r.addExtra("Using where")
		}
	}
	for _, r := range e.rows[before:] {
		if r.id == id {
			r.selectType = kind
		}
	}
}

// blockExtra adds s to the first access of the query block starting at
// start, where MySQL prints the block's temporary table and sort.
func (e *explainer) blockExtra(start int, s string) {
	if start < len(e.rows) {
		e.rows[start].addExtra(s)
	}
}

func (e *explainer) join(n *plan.JoinNode, id int, selectType string, start int) {
	left, right := n.Left(), n.Right()
	e.walk(left, id, selectType, start)
	before := len(e.rows)
	e.walk(right, id, selectType, start)
	if len(e.rows) == before {
		return
	}
	inner := e.rows[before]
	switch {
	case n.Op.IsHash():
		inner.addExtra("Using where")
		inner.addExtra("Using join buffer (hash join)")
	case n.Op.IsMerge():
		inner.addExtra("Using merge join")
	case n.Op.IsLookup():
		if n.Filter != nil && !lookupCoversFilter(inner) {
			inner.addExtra("Using where")
		}
	case n.Filter != nil && !isTrue(n.Filter):
		e.usingWhere(n.Filter, before)
	}
	if inner.accessType == "eq_ref" && e.allConst(inner.refTables, start, before) {
		// A unique lookup keyed only by const tables' columns is itself
		// read once during planning: MySQL shows it as const.
		inner.accessType = "const"
		for i := range inner.ref {
			inner.ref[i] = "const"
		}
	}
	if n.Filter != nil {
		e.exprSubqueries(n.Filter, id)
	}
}

// allConst reports whether every table in tables is read by a const
// access among e.rows[from:to].
func (e *explainer) allConst(tables []string, from, to int) bool {
	if len(tables) == 0 {
		return false
	}
	for _, t := range tables {
		found := false
		for _, r := range e.rows[from:to] {
			if r.names[t] && r.accessType == "const" {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func lookupCoversFilter(r *explainRow) bool { return r.accessType == "eq_ref" || r.accessType == "ref" }

func isTrue(e sql.Expression) bool {
	l, ok := e.(*expression.Literal)
	return ok && l.Value() == true
}

// usingWhere marks "Using where" on the access, among e.rows[from:], that
// reads the last table cond refers to: MySQL tests a condition as soon as
// all the tables it needs are read.
func (e *explainer) usingWhere(cond sql.Expression, from int) {
	if from >= len(e.rows) {
		return
	}
	tables := map[string]bool{}
	transform.InspectExpr(cond, func(x sql.Expression) bool {
		if gf, ok := x.(*expression.GetField); ok && gf.Table() != "" {
			tables[strings.ToLower(gf.Table())] = true
		}
		return false
	})
	target := -1
	for i := from; i < len(e.rows); i++ {
		for t := range tables {
			if e.rows[i].names[t] {
				target = i
			}
		}
	}
	if target < 0 {
		target = len(e.rows) - 1
	}
	r := e.rows[target]
	r.addExtra("Using where")
	// An index the condition could use on this table is a possible key.
	e.notePossibleKeys(r, cond)
}

// subqueries adds the rows of subqueries in n's expressions.
func (e *explainer) subqueries(n sql.Node, id int) {
	if ex, ok := n.(sql.Expressioner); ok {
		for _, x := range ex.Expressions() {
			e.exprSubqueries(x, id)
		}
	}
}

func (e *explainer) exprSubqueries(x sql.Expression, id int) {
	transform.InspectExpr(x, func(x sql.Expression) bool {
		if s, ok := x.(*plan.Subquery); ok {
			kind := "SUBQUERY"
			if !s.Correlated().Empty() {
				kind = "DEPENDENT SUBQUERY"
			}
			e.query(s.Query, e.newID(), kind)
		}
		return false
	})
}

// tableRow starts the row of an access to the table node t.
func (e *explainer) tableRow(t sql.Node, id int, selectType string) *explainRow {
	r := &explainRow{id: id, selectType: selectType, names: map[string]bool{}}
	name := ""
	if nm, ok := t.(sql.Nameable); ok {
		name = nm.Name()
	}
	r.table = name
	r.names[strings.ToLower(name)] = true
	if rt := underlyingTable(t); rt != nil {
		r.source = rt
		r.names[strings.ToLower(rt.Name())] = true
		if st, ok := rt.(sql.StatisticsTable); ok {
			if n, _, err := st.RowCount(e.ctx); err == nil {
				r.rows, r.hasRows = n, true
			}
		}
	}
	return r
}

func underlyingTable(n sql.Node) sql.Table {
	var out sql.Table
	transform.Inspect(n, func(n sql.Node) bool {
		if out != nil {
			return false
		}
		if tn, ok := n.(sql.TableNode); ok {
			out = tn.UnderlyingTable()
			return false
		}
		return true
	})
	return out
}

// access maps a table read (a full scan or an index lookup, possibly
// under an alias) to its EXPLAIN row.
func (e *explainer) access(n sql.Node, id int, selectType string) *explainRow {
	r := e.tableRow(n, id, selectType)
	// A table read by its own means under an alias (the vector index
	// search of a join's driving table, FROM docs d).
	if own, ok := ownAccess(n); ok {
		_, key, typ, extra := own.ExplainAccess()
		r.accessType, r.key, r.possibleKeys = typ, key, []string{key}
		if extra != "" {
			r.addExtra(extra)
		}
		return r
	}
	var ita *plan.IndexedTableAccess
	transform.Inspect(n, func(n sql.Node) bool {
		if i, ok := n.(*plan.IndexedTableAccess); ok {
			ita = i
		}
		return ita == nil
	})
	if ita == nil {
		r.accessType = "ALL"
		return r
	}
	idx := ita.Index()
	r.key = indexName(idx)
	r.possibleKeys = []string{r.key}
	cols := idx.ColumnExpressionTypes()
	used := len(cols)
	if ita.IsStatic() {
		lookup, _, err := ita.GetLookup(e.ctx, nil)
		if err != nil {
			r.accessType = "range"
			return r
		}
		eqParts, isRange := staticShape(lookup)
		switch {
		case !isRange && eqParts == len(cols) && idx.IsUnique():
			r.accessType, r.rows = "const", 1
		case !isRange && eqParts > 0:
			r.accessType, used = "ref", eqParts
		case !isRange:
			// Every key part unbounded: a full scan in index order
			// (GMS reads so for a merge join or an ORDER BY).
			r.accessType, used = "index", len(cols)
		default:
			r.accessType = "range"
			used = max(eqParts, 1)
			r.addExtra("Using where")
		}
		if r.accessType == "const" || r.accessType == "ref" {
			for i := 0; i < used; i++ {
				r.ref = append(r.ref, "const")
			}
		}
	} else {
		keys := ita.Expressions()
		used = min(len(keys), len(cols))
		if ita.IsStrictLookup() {
			r.accessType, r.rows = "eq_ref", 1
		} else {
			r.accessType = "ref"
		}
		for _, k := range keys {
			r.ref = append(r.ref, refName(e.ctx, k))
			transform.InspectExpr(k, func(x sql.Expression) bool {
				if gf, ok := x.(*expression.GetField); ok {
					r.refTables = append(r.refTables, strings.ToLower(gf.Table()))
				}
				return false
			})
		}
	}
	r.keyLen = keyLen(cols[:min(used, len(cols))])
	if covering(ita, idx) {
		r.addExtra("Using index")
	}
	return r
}

// staticShape reports how many leading key parts a static lookup fixes by
// equality, and whether it is a range (several ranges, or a bound that is
// not an equality).
func staticShape(l sql.IndexLookup) (eqParts int, isRange bool) {
	ranges := l.Ranges.ToRanges()
	if len(ranges) != 1 {
		return 0, true
	}
	mr, ok := ranges[0].(sql.MySQLRange)
	if !ok {
		return 0, true
	}
	open := false
	for _, c := range mr {
		if c.Type() == sql.RangeType_All {
			open = true
			continue
		}
		if open || !isPoint(c) {
			return eqParts, true
		}
		eqParts++
	}
	return eqParts, false
}

func isPoint(c sql.MySQLRangeColumnExpr) bool {
	if c.Type() == sql.RangeType_EqualNull {
		return true
	}
	if c.Type() != sql.RangeType_ClosedClosed {
		return false
	}
	lo, hi := sql.GetMySQLRangeCutKey(c.LowerBound), sql.GetMySQLRangeCutKey(c.UpperBound)
	cmp, err := c.Typ.Compare(nil, lo, hi)
	return err == nil && cmp == 0
}

// indexName is the index as MySQL names it: PRIMARY for the primary key.
func indexName(idx sql.Index) string {
	if strings.EqualFold(idx.ID(), "primary") {
		return "PRIMARY"
	}
	return idx.ID()
}

// refName is a lookup key as MySQL's ref column shows it: db.table.column
// for a column of an earlier table, "func" for an expression.
func refName(ctx *sql.Context, k sql.Expression) string {
	if gf, ok := k.(*expression.GetField); ok {
		if db := gf.Database(); db != "" {
			return db + "." + gf.Table() + "." + gf.Name()
		}
		if cur := ctx.GetCurrentDatabase(); cur != "" && gf.Table() != "" {
			return cur + "." + gf.Table() + "." + gf.Name()
		}
		return gf.Table() + "." + gf.Name()
	}
	if _, ok := k.(*expression.Literal); ok {
		return "const"
	}
	return "func"
}

// keyLen is MySQL's key_len: the bytes of the key parts used, with one
// more for each nullable part and two for each variable-length part;
// strings count their character set's longest character (utf8mb4: 4).
func keyLen(parts []sql.ColumnExpressionType) int {
	n := 0
	for _, p := range parts {
		l := typeKeyLen(p.Type)
		if l == 0 {
			return 0
		}
		n += l
	}
	return n
}

func typeKeyLen(t sql.Type) int {
	switch {
	case types.IsInteger(t):
		switch t.Type() {
		case types.Int8.Type(), types.Uint8.Type():
			return 1
		case types.Int16.Type(), types.Uint16.Type():
			return 2
		case types.Int24.Type(), types.Uint24.Type():
			return 3
		case types.Int32.Type(), types.Uint32.Type():
			return 4
		}
		return 8
	case types.IsFloat(t):
		if t.Type() == types.Float32.Type() {
			return 4
		}
		return 8
	case types.IsText(t):
		st, ok := t.(sql.StringType)
		if !ok {
			return 0
		}
		n := int(st.MaxCharacterLength()) * int(st.CharacterSet().MaxLength())
		if types.IsTextOnly(t) || types.IsBinaryType(t) && st.MaxCharacterLength() > 255 {
			return 0
		}
		if t.Type() == sqltypes.VarChar || t.Type() == sqltypes.VarBinary {
			n += 2
		}
		return n
	case types.IsDateType(t):
		return 3
	case types.IsDatetimeType(t):
		if t.Type() == types.Timestamp.Type() {
			return 4
		}
		return 5
	case types.IsDecimal(t):
		return int(t.MaxTextResponseByteLength(nil)) / 2
	}
	return 0
}

// covering reports whether the access reads only columns the index holds
// (its own and, for a secondary index, the primary key, which every
// InnoDB-style secondary index entry carries), so the rows need not be
// fetched: MySQL's "Using index".
func covering(ita *plan.IndexedTableAccess, idx sql.Index) bool {
	pt, ok := ita.Table.(sql.ProjectedTable)
	if !ok || len(pt.Projections()) == 0 {
		return false
	}
	have := map[string]bool{}
	for _, c := range idx.ColumnExpressionTypes() {
		have[strings.ToLower(columnOf(c.Expression))] = true
	}
	if ext, ok := idx.(sql.ExtendedIndex); ok {
		for _, x := range ext.ExtendedExpressions() {
			have[strings.ToLower(columnOf(x))] = true
		}
	}
	for _, p := range pt.Projections() {
		if !have[strings.ToLower(p)] {
			return false
		}
	}
	return true
}

func columnOf(expr string) string {
	if i := strings.LastIndexByte(expr, '.'); i >= 0 {
		return expr[i+1:]
	}
	return expr
}

// notePossibleKeys adds to r's possible_keys the indexes of its table
// whose first column cond compares, which MySQL lists as candidates even
// when it scans.
func (e *explainer) notePossibleKeys(r *explainRow, cond sql.Expression) {
	if r.table == "" || strings.HasPrefix(r.table, "<") {
		return
	}
	ia, ok := r.source.(sql.IndexAddressable)
	if !ok {
		return
	}
	idxs, err := ia.GetIndexes(e.ctx)
	if err != nil {
		return
	}
	cols := map[string]bool{}
	transform.InspectExpr(cond, func(x sql.Expression) bool {
		if gf, ok := x.(*expression.GetField); ok && r.names[strings.ToLower(gf.Table())] {
			cols[strings.ToLower(gf.Name())] = true
		}
		return false
	})
	have := map[string]bool{}
	for _, k := range r.possibleKeys {
		have[k] = true
	}
	for _, idx := range idxs {
		ex := idx.Expressions()
		if len(ex) == 0 || idx.IsFullText() || idx.IsSpatial() || idx.IsVector() {
			continue
		}
		if name := indexName(idx); cols[strings.ToLower(columnOf(ex[0]))] && !have[name] {
			r.possibleKeys = append(r.possibleKeys, name)
			have[name] = true
		}
	}
	sort.SliceStable(r.possibleKeys, func(i, j int) bool { return r.possibleKeys[i] == r.key && r.key != "" })
}
