package exec

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/vitess/go/mysql"
)

// NoEgress is the column comment marker for data that must not leave the
// server: `ALTER TABLE t MODIFY ssn VARCHAR(11) COMMENT 'sibyl:no_egress'`.
const NoEgress = "sibyl:no_egress"

// RemoteInvoker is implemented by invokers that send data off the server
// (endpoint functions, remote Comprehend backends); in-process models may
// read any column.
type RemoteInvoker interface {
	Remote() bool
}

// label names the marked column a value derives from; nil is clean.
// Explicit labels are values computed from the column; implicit ones are
// values whose presence, number or order the column decides (a WHERE,
// JOIN, GROUP BY, ORDER BY, DISTINCT or IF on it).
type label struct {
	col      string
	implicit bool
}

// join is the union of two labels. It keeps one representative, explicit
// first, for the error message: the analysis only needs to know whether a
// value is tainted, not by how many columns.
func join(a, b *label) *label {
	switch {
	case a == nil:
		return b
	case b == nil || !a.implicit:
		return a
	case !b.implicit:
		return b
	}
	return a
}

// implicitly turns l into an implicit flow.
func implicitly(l *label) *label {
	if l == nil || l.implicit {
		return l
	}
	return &label{col: l.col, implicit: true}
}

// col is one column of a row the analysis follows: its name (to check the
// analysis agrees with GMS on the row layout) and its taint.
type col struct {
	name string
	l    *label
}

// rel is what the analysis knows of a node's rows: the taint of each
// output column and ctx, the taint of which rows there are and in which
// order.
type rel struct {
	cols []col
	ctx  *label
}

func (r rel) all() *label {
	l := r.ctx
	for _, c := range r.cols {
		l = join(l, c.l)
	}
	return l
}

// refusal is the MySQL error for a flow of marked data to a remote model.
func refusal(l *label, fn string) error {
	why := ""
	if l.implicit {
		why = " (it decides which rows or values are sent)"
	}
	return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
		"column %s is marked %s and cannot be sent to a remote model by %s%s", l.col, NoEgress, fn, why)
}

// copyRefusal is the MySQL error for writing marked data into a column
// that is not marked: the copy would lose the marker.
func copyRefusal(l *label, dest string) error {
	return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
		"column %s is marked %s and cannot be copied into %s, which is not; mark %s %s first", l.col, NoEgress, dest, dest, NoEgress)
}

// checkEgress runs the taint analysis over an analyzed plan and refuses,
// before any row is read or request sent, a statement that would send data
// derived from a column marked NoEgress to a remote model, or copy it into
// a column that is not marked. It also records the taint of user variables
// the statement assigns. See flow for the rules.
func checkEgress(ctx *sql.Context, n sql.Node, scope *plan.Scope, cat sql.Catalog) (err error) {
	defer func() {
		// A plan the analysis cannot walk is not proven clean: refuse it
		// when it calls a remote model.
		if p := recover(); p != nil {
			err = nil
			if hasCall(n) {
				err = mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
					"cannot verify that no %s column reaches a remote model: %v", NoEgress, p)
			}
		}
	}()
	st := sessionTaintOf(ctx)
	if !mayCarryMarked(n, scope) && st.any() == nil {
		return nil
	}
	f := &flow{ctx: ctx, st: st, cat: cat, vars: map[string]*label{}, rcte: map[string][]col{}, remote: map[sql.Node]bool{}}
	// A statement run by EXECUTE had its parameters replaced by literal
	// values; when the session holds marked data in a user variable the
	// analysis cannot tell where it went, and assumes everything did.
	if l := st.executing(ctx); l != nil {
		f.pc = l
	}
	var env []col
	if scope != nil {
		// The outer scope: the rows a subquery or a trigger body reads
		// from outside (a trigger's NEW and OLD rows among them),
		// outermost first, as GMS prepends them to the row.
		outer := scope.InnerToOuter()
		for i := len(outer) - 1; i >= 0; i-- {
			if ins, ok := outer[i].(*plan.InsertInto); ok {
				// A trigger body's scope: the row being inserted.
				dst := schemaOf(ins.Destination)
				env = append(env, rowOf(dst, renamed(dst, f.node(ins.Source, env).cols))...)
				continue
			}
			env = append(env, f.node(outer[i], env).cols...)
		}
	}
	// Local variables of a trigger body (and loops over them) are
	// followed to a fixed point: each round can only add taint.
	for round := 0; round < 8 && f.err == nil; round++ {
		f.changed = false
		f.node(n, env)
		if !f.changed {
			break
		}
	}
	if f.err == nil {
		st.commit(ctx, f.assigned)
	}
	return f.err
}

// mayCarryMarked is the cheap test every statement passes through: a plan
// that reads no table with a marked column (derived tables, subqueries and
// trigger scopes included) and calls no procedure cannot move marked data.
func mayCarryMarked(n sql.Node, scope *plan.Scope) bool {
	found := false
	var visit func(n sql.Node) bool
	visit = func(n sql.Node) bool {
		if found {
			return false
		}
		switch n := n.(type) {
		case *plan.ResolvedTable, *plan.IndexedTableAccess:
			found = anyMarked(fullSchema(n))
		case *plan.InsertInto:
			found = anyMarked(schemaOf(n.Destination))
			if !found && n.Source != nil {
				walk(n.Source, visit)
			}
		case *plan.TableCopier:
			walk(n.Source, visit)
		case *plan.Call, sql.TableFunction:
			found = true
		}
		if ex, ok := n.(sql.Expressioner); ok && !found {
			for _, e := range ex.Expressions() {
				inspectExpr(e, func(e sql.Expression) bool {
					if sq, ok := e.(*plan.Subquery); ok && sq.Query != nil {
						walk(sq.Query, visit)
					}
					return !found
				})
			}
		}
		return !found
	}
	walk(n, visit)
	if scope != nil {
		for _, o := range scope.InnerToOuter() {
			if !found {
				walk(o, visit)
			}
		}
	}
	return found
}

func anyMarked(sch sql.Schema) bool {
	for _, c := range sch {
		if marked(c) {
			return true
		}
	}
	return false
}

// flow is one run of the analysis. The rules, node by node:
//   - a column of a base table is tainted when it is marked, or is a
//     generated column or has a default expression naming a marked column;
//   - an expression is tainted by every column, variable, parameter and
//     subquery it reads (a subquery by its columns and its row context);
//   - a node's row context is tainted by the conditions that choose, order,
//     group, deduplicate or number its rows (WHERE, HAVING, JOIN ON, index
//     lookups, ORDER BY, GROUP BY, DISTINCT, set operations, window
//     partitions) and by its children's;
//   - a remote call is refused when the expression it appears in, or the
//     row context of the node evaluating it, is tainted;
//   - a node kind the analysis does not know taints all its output with
//     everything it reads (fail closed).
type flow struct {
	ctx *sql.Context
	st  *sessionTaint
	cat sql.Catalog
	err error
	// pc is the taint of the control context: the row context of the
	// node whose expressions are being evaluated, or the conditions of
	// the IF and loop blocks around a statement.
	pc *label
	// vars are the taints of trigger and procedure local variables.
	vars    map[string]*label
	changed bool
	// rcte holds the working table columns of the recursive CTEs being
	// analysed.
	rcte map[string][]col
	// assigned are the user variables the statement sets, with taints.
	assigned map[string]*label
	// remote memoizes hasRemote for subquery plans.
	remote map[sql.Node]bool
	// dest is the schema of the table a trigger body's NEW row belongs to.
	dest sql.Schema
}

func (f *flow) fail(err error) {
	if f.err == nil {
		f.err = err
	}
}

func (f *flow) setVar(name string, l *label) {
	name = strings.ToLower(name)
	if l != nil && f.vars[name] == nil {
		f.vars[name] = l
		f.changed = true
	}
}

func (f *flow) assignUserVar(name string, l *label) {
	if f.assigned == nil {
		f.assigned = map[string]*label{}
	}
	name = strings.ToLower(name)
	f.assigned[name] = join(f.assigned[name], l)
}

// marked reports whether a column comment carries the marker.
func marked(c *sql.Column) bool {
	return strings.Contains(strings.ToLower(c.Comment), NoEgress)
}

// tableCols are the taints of a base table's columns: marked columns,
// and generated or defaulted columns computed from them. full is the
// table's whole schema (the node may read a projection of it).
func tableCols(sch, full sql.Schema) []col {
	bad := map[string]*label{}
	for _, c := range full {
		if marked(c) {
			bad[strings.ToLower(c.Name)] = &label{col: c.Source + "." + c.Name}
		}
	}
	if len(bad) > 0 {
		// Generated columns may name earlier generated columns: two
		// passes over the schema in order reach every chain MySQL allows.
		for pass := 0; pass < 2; pass++ {
			for _, c := range full {
				k := strings.ToLower(c.Name)
				if bad[k] != nil {
					continue
				}
				for _, d := range []*sql.ColumnDefaultValue{c.Generated, c.Default, c.OnUpdate} {
					if d == nil {
						continue
					}
					if l := namesAny(d.String(), bad); l != nil {
						bad[k] = l
					}
				}
			}
		}
	}
	out := make([]col, len(sch))
	for i, c := range sch {
		out[i] = col{name: c.Name}
		if marked(c) {
			out[i].l = &label{col: c.Source + "." + c.Name}
		} else {
			out[i].l = bad[strings.ToLower(c.Name)]
		}
	}
	return out
}

// namesAny returns the label of a marked column whose name appears as an
// identifier in expression text. Matching identifiers in the text keeps
// this independent of how the engine stored the expression; a false match
// only marks one more column.
func namesAny(text string, bad map[string]*label) *label {
	text = strings.ToLower(text)
	isIdent := func(b byte) bool {
		return b == '_' || b == '$' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 0x80
	}
	for i := 0; i < len(text); {
		if !isIdent(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isIdent(text[j]) {
			j++
		}
		if l := bad[text[i:j]]; l != nil {
			return l
		}
		i = j
	}
	return nil
}

// fullSchema is the whole schema of the table a node reads, the columns
// it does not project included (an index lookup can filter on them).
func fullSchema(n sql.Node) sql.Schema {
	var t sql.Table
	switch n := n.(type) {
	case *plan.ResolvedTable:
		t = n.Table
	case *plan.IndexedTableAccess:
		t = n.Table
		if n.TableNode != nil {
			t = n.TableNode.UnderlyingTable()
		}
	}
	for t != nil {
		if pk, ok := t.(sql.PrimaryKeyTable); ok {
			return pk.PrimaryKeySchema().Schema
		}
		w, ok := t.(sql.TableWrapper)
		if !ok {
			break
		}
		t = w.Underlying()
	}
	return schemaOf(n)
}

func (f *flow) exprs(es []sql.Expression, env []col) *label {
	var l *label
	for _, e := range es {
		l = join(l, f.expr(e, env))
	}
	return l
}

// expr returns e's taint evaluated on a row laid out as env, and refuses
// the remote calls in it that would receive tainted data.
func (f *flow) expr(e sql.Expression, env []col) *label {
	if e == nil || f.err != nil {
		return nil
	}
	l := f.value(e, env)
	if f.err == nil && f.hasRemote(e) {
		// Anything the expression reads may decide whether, or with
		// what, the call inside it is made (CASE, IF, AND, a NULL
		// argument): the whole expression must be clean.
		if t := join(l, f.pc); t != nil {
			f.fail(refusal(t, remoteName(e)))
		}
	}
	return l
}

// value computes e's taint.
func (f *flow) value(e sql.Expression, env []col) *label {
	if f.err != nil {
		return nil
	}
	switch e := e.(type) {
	case *expression.GetField:
		return lookup(e, env)
	case *plan.Subquery:
		return f.subquery(e.Query, env)
	case *expression.UserVar:
		return f.st.userVar(e.Name)
	case *expression.ProcedureParam:
		return f.vars[strings.ToLower(e.Name())]
	case *expression.Literal, *expression.BindVar:
		return nil
	case *expression.SetField:
		return f.setField(e, env)
	}
	var l *label
	for _, c := range e.Children() {
		l = join(l, f.value(c, env))
	}
	if w, ok := e.(sql.WindowAdaptableExpression); ok {
		if def := w.Window(); def != nil {
			l = join(l, f.windowDef(def, env))
		}
	}
	return l
}

func (f *flow) windowDef(def *sql.WindowDefinition, env []col) *label {
	var l *label
	for _, p := range def.PartitionBy {
		l = join(l, f.value(p, env))
	}
	for _, s := range def.OrderBy {
		l = join(l, f.value(s.Column, env))
	}
	return implicitly(l)
}

// subquery analyses a subquery evaluated for each row of env; its value
// is tainted by its columns and by which rows it found.
func (f *flow) subquery(q sql.Node, env []col) *label {
	r := f.node(q, env)
	var l *label
	for _, c := range r.cols {
		l = join(l, c.l)
	}
	return join(l, implicitly(r.ctx))
}

// setField follows an assignment: to a user variable, to a local
// variable, or to a column of the trigger's NEW row.
func (f *flow) setField(e *expression.SetField, env []col) *label {
	l := f.value(e.RightChild, env)
	switch t := e.LeftChild.(type) {
	case *expression.UserVar:
		f.assignUserVar(t.Name, join(l, f.pc))
	case *expression.ProcedureParam:
		f.setVar(t.Name(), join(l, f.pc))
	case *expression.SystemVar:
	case *expression.GetField:
		if l != nil && !l.implicit && f.dest != nil {
			if i := f.dest.IndexOfColName(t.Name()); i >= 0 && !marked(f.dest[i]) {
				f.fail(copyRefusal(l, f.dest[i].Source+"."+f.dest[i].Name))
			}
		}
	}
	return l
}

// lookup finds the column a GetField reads. The index is checked against
// the name GMS gave the column; when they disagree (a row layout this
// analysis does not model exactly) every column of that name counts, and
// when no column has it, every column of the row does.
func lookup(gf *expression.GetField, env []col) *label {
	i := gf.Index()
	inRange := i >= 0 && i < len(env)
	if inRange && strings.EqualFold(env[i].name, gf.Name()) {
		return env[i].l
	}
	// GMS renames columns in some projections (an INSERT's source takes
	// the destination's names): trust the index, and add every column
	// of the same name in case the layout is not the one modelled.
	var l *label
	found := false
	if inRange {
		l, found = env[i].l, true
	}
	for _, c := range env {
		if strings.EqualFold(c.name, gf.Name()) {
			l, found = join(l, c.l), true
		}
	}
	if found {
		return l
	}
	for _, c := range env {
		l = join(l, c.l)
	}
	return l
}

// hasRemote reports a remote call in e, subqueries included.
func (f *flow) hasRemote(e sql.Expression) bool {
	found := false
	inspectExpr(e, func(e sql.Expression) bool {
		switch e := e.(type) {
		case Call:
			if isRemote(e) {
				found = true
			}
		case *plan.Subquery:
			if f.nodeHasRemote(e.Query) {
				found = true
			}
		}
		return !found
	})
	return found
}

func (f *flow) nodeHasRemote(n sql.Node) bool {
	if v, ok := f.remote[n]; ok {
		return v
	}
	found := false
	walk(n, func(n sql.Node) bool {
		if ex, ok := n.(sql.Expressioner); ok {
			for _, e := range ex.Expressions() {
				if f.hasRemote(e) {
					found = true
				}
			}
		}
		return !found
	})
	f.remote[n] = found
	return found
}

func isRemote(c Call) bool {
	r, ok := c.Invoker().(RemoteInvoker)
	return ok && r.Remote()
}

// remoteName names the first remote function called in e, for errors.
func remoteName(e sql.Expression) string {
	name := "a remote function"
	inspectExpr(e, func(e sql.Expression) bool {
		if c, ok := e.(Call); ok && isRemote(c) {
			name = c.Invoker().Name()
			return false
		}
		return true
	})
	return name
}

// inspectExpr visits e and its children until fn returns false.
func inspectExpr(e sql.Expression, fn func(sql.Expression) bool) bool {
	if e == nil {
		return true
	}
	if !fn(e) {
		return false
	}
	for _, c := range e.Children() {
		if !inspectExpr(c, fn) {
			return false
		}
	}
	return true
}

func named(sch sql.Schema, ls []*label) []col {
	out := make([]col, len(sch))
	for i, c := range sch {
		out[i].name = c.Name
		if i < len(ls) {
			out[i].l = ls[i]
		}
	}
	return out
}

func renamed(sch sql.Schema, cols []col) []col {
	out := make([]col, len(sch))
	for i, c := range sch {
		out[i].name = c.Name
		if i < len(cols) {
			out[i].l = cols[i].l
		} else {
			// More columns than the child has: fail closed.
			out[i].l = rel{cols: cols}.all()
		}
	}
	return out
}

func concat(a, b []col) []col {
	out := make([]col, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// node analyses n, evaluated on rows whose prefix is scope (the outer rows
// of a subquery, a trigger's row), and returns what its rows carry.
func (f *flow) node(n sql.Node, scope []col) rel {
	if f.err != nil || n == nil {
		return rel{}
	}
	switch n := n.(type) {
	case *plan.ResolvedTable:
		return rel{cols: tableCols(schemaOf(n), fullSchema(n))}
	case *plan.IndexedTableAccess:
		full := fullSchema(n)
		r := rel{cols: tableCols(schemaOf(n), full)}
		// The lookup keys, and the indexed columns a static range
		// filters on, choose the rows.
		r.ctx = implicitly(f.exprs(n.Expressions(), scope))
		if idx := n.Index(); idx != nil {
			fc := tableCols(full, full)
			for _, ie := range idx.Expressions() {
				name := ie[strings.LastIndex(ie, ".")+1:]
				for _, c := range fc {
					if strings.EqualFold(c.name, name) {
						r.ctx = join(r.ctx, implicitly(c.l))
					}
				}
			}
		}
		return r
	case *plan.TableAlias:
		r := f.node(n.Child, scope)
		return rel{cols: renamed(schemaOf(n), r.cols), ctx: r.ctx}
	case *plan.SubqueryAlias:
		r := f.node(n.Child, scope)
		return rel{cols: renamed(schemaOf(n), r.cols), ctx: r.ctx}
	case *Batch:
		return f.node(n.child, scope)
	case *plan.Project:
		r := f.node(n.Child, scope)
		env := concat(scope, r.cols)
		ls := f.withPC(r.ctx, func() []*label { return f.each(n.Projections, env) })
		return rel{cols: named(schemaOf(n), ls), ctx: r.ctx}
	case *plan.Filter:
		return f.choose(n.Child, scope, n.Expression)
	case *plan.Having:
		return f.choose(n.Child, scope, n.Cond)
	case *plan.Sort:
		return f.choose(n.Child, scope, sortExprs(n.SortFields)...)
	case *plan.TopN:
		return f.choose(n.Child, scope, append(sortExprs(n.Fields), n.Limit)...)
	case *plan.Limit:
		return f.choose(n.Child, scope, n.Limit)
	case *plan.Offset:
		return f.choose(n.Child, scope, n.Offset)
	case *plan.Distinct:
		r := f.node(n.Child, scope)
		return rel{cols: r.cols, ctx: join(r.ctx, implicitly(r.all()))}
	case *plan.OrderedDistinct:
		r := f.node(n.Child, scope)
		return rel{cols: r.cols, ctx: join(r.ctx, implicitly(r.all()))}
	case *plan.GroupBy:
		r := f.node(n.Child, scope)
		env := concat(scope, r.cols)
		var ls []*label
		var keys *label
		f.withPC(r.ctx, func() []*label {
			keys = implicitly(f.exprs(n.GroupByExprs, env))
			ls = f.each(n.SelectDeps, env)
			return nil
		})
		ctx := join(r.ctx, keys)
		for i := range ls {
			// Aggregates over chosen rows carry the choice.
			ls[i] = join(ls[i], implicitly(ctx))
		}
		return rel{cols: named(schemaOf(n), ls), ctx: ctx}
	case *plan.Window:
		r := f.node(n.Child, scope)
		env := concat(scope, r.cols)
		ls := f.withPC(r.ctx, func() []*label { return f.each(n.SelectExprs, env) })
		for i := range ls {
			ls[i] = join(ls[i], implicitly(r.ctx))
		}
		return rel{cols: named(schemaOf(n), ls), ctx: r.ctx}
	case *plan.JoinNode:
		l := f.node(n.Left(), scope)
		r := f.node(n.Right(), concat(scope, l.cols))
		both := concat(l.cols, r.cols)
		ctx := join(l.ctx, r.ctx)
		var cond *label
		f.withPC(ctx, func() []*label {
			cond = implicitly(f.expr(n.Filter, concat(scope, both)))
			return nil
		})
		sch := schemaOf(n)
		return rel{cols: renamed(sch, both), ctx: join(ctx, cond)}
	case *plan.HashLookup:
		return f.choose(n.Child, scope, n.RightEntryKey, n.LeftProbeKey)
	case *plan.SetOp:
		l := f.node(n.Left(), scope)
		r := f.node(n.Right(), scope)
		cols := renamed(schemaOf(n), l.cols)
		for i := range cols {
			if i < len(r.cols) {
				cols[i].l = join(cols[i].l, r.cols[i].l)
			}
		}
		out := rel{cols: cols, ctx: join(l.ctx, r.ctx)}
		if n.Distinct || n.SetOpType != plan.UnionType {
			// Which rows survive depends on every value.
			out.ctx = join(out.ctx, implicitly(out.all()))
		}
		var es []sql.Expression
		es = append(es, sortExprs(n.SortFields)...)
		es = append(es, n.Limit, n.Offset)
		f.withPC(out.ctx, func() []*label {
			out.ctx = join(out.ctx, implicitly(f.exprs(es, concat(scope, out.cols))))
			return nil
		})
		return out
	case *plan.RecursiveCte:
		return f.recursive(n, scope)
	case *plan.RecursiveTable:
		if cols, ok := f.rcte[strings.ToLower(n.Name())]; ok {
			return rel{cols: renamed(schemaOf(n), cols)}
		}
	case *plan.ValueDerivedTable:
		return f.values(n.Values, schemaOf(n), scope)
	case *plan.Values:
		return f.values(n, schemaOf(n), scope)
	case *plan.Into:
		r := f.node(n.Child, scope)
		for i, v := range n.IntoVars {
			l := r.ctx
			if i < len(r.cols) {
				l = join(r.cols[i].l, implicitly(r.ctx))
			}
			switch v := v.(type) {
			case *expression.UserVar:
				f.assignUserVar(v.Name, join(l, f.pc))
			case *expression.ProcedureParam:
				f.setVar(v.Name(), join(l, f.pc))
			default:
				f.setVar(v.String(), join(l, f.pc))
			}
		}
		return r
	case *plan.Set:
		for _, e := range n.Exprs {
			f.expr(e, scope)
		}
		return rel{cols: named(schemaOf(n), nil)}
	case *plan.InsertInto:
		return f.insert(n, scope)
	case *plan.TriggerExecutor:
		l := f.node(n.Left(), scope)
		saved := f.dest
		if f.dest == nil {
			f.dest = triggerTable(n.Left())
		}
		f.node(n.Right(), concat(scope, rowOf(f.dest, l.cols)))
		f.dest = saved
		return l
	case *plan.UpdateSource:
		r := f.node(n.Child, scope)
		env := concat(scope, r.cols)
		for _, e := range n.UpdateExprs {
			f.write(e, env)
		}
		return r
	case *plan.TableCopier:
		return f.copyTable(n, scope)
	case *plan.Call:
		f.call(n, scope)
		return rel{cols: named(schemaOf(n), nil)}
	case *plan.IfConditional:
		c := f.expr(n.Condition, scope)
		saved := f.pc
		f.pc = join(f.pc, implicitly(c))
		f.node(n.Body, scope)
		f.pc = saved
		return rel{}
	case *plan.Block, *plan.BeginEndBlock, *plan.TriggerBeginEndBlock, *plan.IfElseBlock,
		*plan.Loop, *plan.While, *plan.Repeat:
		saved := f.pc
		if ex, ok := n.(sql.Expressioner); ok {
			f.pc = join(f.pc, implicitly(f.exprs(ex.Expressions(), scope)))
		}
		var last rel
		for _, c := range n.Children() {
			last = f.node(c, scope)
		}
		f.pc = saved
		return last
	}
	return f.unknown(n, scope)
}

// rowOf is the row a trigger sees: the columns its statement writes, each
// also tainted when the table's column of that name is marked (NEW.ssn is
// marked data whatever the INSERT's source).
func rowOf(table sql.Schema, cols []col) []col {
	if table == nil {
		return cols
	}
	tc := tableCols(table, table)
	out := make([]col, len(cols))
	for i, c := range cols {
		out[i] = c
		for _, t := range tc {
			if t.l != nil && strings.EqualFold(t.name, c.name) {
				out[i].l = join(out[i].l, t.l)
			}
		}
	}
	return out
}

// tableFunction analyses a table function (dolt_diff(), dolt_patch(),
// ...): its columns are not base table columns, but may carry a table's
// values under the same or a to_/from_ prefixed name. A column is marked
// when its comment says so or when a marked column of the current
// database has its name.
func (f *flow) tableFunction(n sql.Node, scope []col) rel {
	args := implicitly(f.exprs(expressionsOf(n), scope))
	sch := schemaOf(n)
	names := f.markedNames()
	cols := make([]col, len(sch))
	for i, c := range sch {
		cols[i] = col{name: c.Name, l: args}
		if marked(c) {
			cols[i].l = &label{col: c.Source + "." + c.Name}
			continue
		}
		base := strings.ToLower(c.Name)
		for _, p := range []string{"to_", "from_", "diff_", "before_", "after_"} {
			base = strings.TrimPrefix(base, p)
		}
		if l := names[base]; l != nil {
			cols[i].l = l
		}
	}
	return rel{cols: cols, ctx: args}
}

func expressionsOf(n sql.Node) []sql.Expression {
	if ex, ok := n.(sql.Expressioner); ok {
		return ex.Expressions()
	}
	return nil
}

// markedNames are the marked columns of every database, by name (a table
// function may read any database's table). It runs only for statements
// that call a table function.
func (f *flow) markedNames() map[string]*label {
	out := map[string]*label{}
	if f.cat == nil || f.ctx == nil {
		return out
	}
	for _, d := range f.cat.AllDatabases(f.ctx) {
		names, err := d.GetTableNames(f.ctx)
		if err != nil {
			continue
		}
		for _, tn := range names {
			t, ok, err := d.GetTableInsensitive(f.ctx, tn)
			if err != nil || !ok {
				continue
			}
			for _, c := range tableCols(t.Schema(), t.Schema()) {
				if c.l != nil {
					out[strings.ToLower(c.name)] = c.l
				}
			}
		}
	}
	return out
}

// triggerTable is the schema of the table whose rows a trigger sees, for
// assignments to NEW.
func triggerTable(n sql.Node) sql.Schema {
	var sch sql.Schema
	walk(n, func(n sql.Node) bool {
		if sch != nil {
			return false
		}
		switch n := n.(type) {
		case *plan.InsertInto:
			sch = schemaOf(n.Destination)
		case *plan.ResolvedTable:
			sch = schemaOf(n)
		}
		return sch == nil
	})
	return sch
}

// unknown is the fail-closed rule for node kinds without their own rule:
// a node that only passes its child's rows on keeps their columns; any
// other taints every output column with all it reads.
func (f *flow) unknown(n sql.Node, scope []col) rel {
	if len(n.Children()) == 0 {
		if _, ok := n.(sql.TableFunction); ok {
			return f.tableFunction(n, scope)
		}
	}
	var rs []rel
	var env []col
	for _, c := range n.Children() {
		r := f.node(c, concat(scope, env))
		rs = append(rs, r)
		env = concat(env, r.cols)
	}
	var ctx *label
	for _, r := range rs {
		ctx = join(ctx, r.ctx)
	}
	var exprs *label
	if ex, ok := n.(sql.Expressioner); ok {
		f.withPC(ctx, func() []*label {
			exprs = f.exprs(ex.Expressions(), concat(scope, env))
			return nil
		})
	}
	sch := schemaOf(n)
	if len(rs) == 1 && exprs == nil && sameNames(sch, rs[0].cols) {
		return rel{cols: rs[0].cols, ctx: ctx}
	}
	all := join(ctx, exprs)
	for _, r := range rs {
		all = join(all, r.all())
	}
	cols := make([]col, len(sch))
	for i, c := range sch {
		cols[i] = col{name: c.Name, l: all}
	}
	return rel{cols: cols, ctx: implicitly(all)}
}

func sameNames(sch sql.Schema, cols []col) bool {
	if len(sch) != len(cols) {
		return false
	}
	for i := range sch {
		if !strings.EqualFold(sch[i].Name, cols[i].name) {
			return false
		}
	}
	return true
}

// withPC runs fn with the row context ctx added to the control context.
func (f *flow) withPC(ctx *label, fn func() []*label) []*label {
	saved := f.pc
	f.pc = join(f.pc, implicitly(ctx))
	defer func() { f.pc = saved }()
	return fn()
}

func (f *flow) each(es []sql.Expression, env []col) []*label {
	out := make([]*label, len(es))
	for i, e := range es {
		out[i] = f.expr(e, env)
	}
	return out
}

// choose analyses a node that passes its child's rows on, choosing or
// ordering them by es.
func (f *flow) choose(child sql.Node, scope []col, es ...sql.Expression) rel {
	r := f.node(child, scope)
	env := concat(scope, r.cols)
	var c *label
	f.withPC(r.ctx, func() []*label {
		c = f.exprs(es, env)
		return nil
	})
	return rel{cols: r.cols, ctx: join(r.ctx, implicitly(c))}
}

func sortExprs(fs sql.SortFields) []sql.Expression {
	out := make([]sql.Expression, len(fs))
	for i, s := range fs {
		out[i] = s.Column
	}
	return out
}

func (f *flow) values(v *plan.Values, sch sql.Schema, scope []col) rel {
	ls := make([]*label, len(sch))
	for _, row := range v.ExpressionTuples {
		for i, e := range row {
			l := f.expr(e, scope)
			if i < len(ls) {
				ls[i] = join(ls[i], l)
			}
		}
	}
	return rel{cols: named(sch, ls)}
}

// recursive follows a recursive CTE to a fixed point: the working table
// starts clean and takes the taint of the CTE's rows until nothing
// changes (each round only adds taint, so at most one round per column).
func (f *flow) recursive(n *plan.RecursiveCte, scope []col) rel {
	name := strings.ToLower(n.Name())
	saved, had := f.rcte[name]
	defer func() {
		if had {
			f.rcte[name] = saved
		} else {
			delete(f.rcte, name)
		}
	}()
	sch := schemaOf(n)
	f.rcte[name] = named(sch, nil)
	var r rel
	for round := 0; round <= len(sch)+1 && f.err == nil; round++ {
		// The children are the anchor and recursive parts of the union.
		r = rel{cols: named(sch, nil)}
		for _, c := range n.Children() {
			cr := f.node(c, scope)
			for i, cc := range renamed(sch, cr.cols) {
				r.cols[i].l = join(r.cols[i].l, cc.l)
			}
			r.ctx = join(r.ctx, cr.ctx)
		}
		next := make([]col, len(r.cols))
		grew := false
		for i, c := range r.cols {
			next[i] = col{name: c.name, l: join(c.l, implicitly(r.ctx))}
			if (next[i].l == nil) != (f.rcte[name][i].l == nil) {
				grew = true
			}
		}
		f.rcte[name] = next
		if !grew {
			break
		}
	}
	return r
}

// insert checks that marked data goes only into marked columns.
func (f *flow) insert(n *plan.InsertInto, scope []col) rel {
	dst := schemaOf(n.Destination)
	f.node(n.Destination, scope)
	saved := f.dest
	f.dest = dst
	src := f.node(n.Source, scope)
	f.dest = saved
	names := n.ColumnNames
	if len(names) == 0 {
		for _, c := range dst {
			names = append(names, c.Name)
		}
	}
	for i, c := range src.cols {
		if c.l == nil || c.l.implicit || i >= len(names) {
			continue
		}
		if j := dst.IndexOfColName(names[i]); j >= 0 && !marked(dst[j]) {
			f.fail(copyRefusal(c.l, dst[j].Source+"."+dst[j].Name))
		}
	}
	// ON DUPLICATE KEY UPDATE sees the table's row and the new one.
	env := concat(scope, concat(tableCols(dst, dst), renamed(dst, src.cols)))
	for _, e := range n.OnDupExprs {
		f.write(e, env)
	}
	return rel{cols: named(schemaOf(n), nil)}
}

// write follows an assignment to a table column (UPDATE ... SET, ON
// DUPLICATE KEY UPDATE): marked data may only go into a marked column.
func (f *flow) write(e sql.Expression, env []col) {
	sf, ok := e.(*expression.SetField)
	if !ok {
		f.expr(e, env)
		return
	}
	l := f.expr(sf.RightChild, env)
	if l == nil || l.implicit {
		return
	}
	gf, ok := sf.LeftChild.(*expression.GetField)
	if !ok {
		return
	}
	if d := lookup(gf, env); d == nil {
		f.fail(copyRefusal(l, gf.Table()+"."+gf.Name()))
	}
}

// copyTable marks the columns of CREATE TABLE ... AS SELECT that receive
// marked data: the copy keeps the marker.
func (f *flow) copyTable(n *plan.TableCopier, scope []col) rel {
	src := f.node(n.Source, scope)
	ct, ok := n.Destination.(*plan.CreateTable)
	if !ok {
		for _, c := range src.cols {
			if c.l != nil && !c.l.implicit {
				f.fail(copyRefusal(c.l, "the destination table"))
			}
		}
		return rel{}
	}
	dst := ct.PkSchema().Schema
	srcSch := schemaOf(n.Source)
	for i, c := range src.cols {
		if c.l == nil || c.l.implicit {
			continue
		}
		j := -1
		if i < len(srcSch) {
			j = dst.IndexOfColName(srcSch[i].Name)
		}
		if j < 0 && len(dst) == len(src.cols) {
			j = i
		}
		if j < 0 {
			f.fail(copyRefusal(c.l, ct.Name()))
			continue
		}
		if !marked(dst[j]) {
			// The planner built this schema for this statement: the
			// marker goes into the new column's comment.
			if dst[j].Comment == "" {
				dst[j].Comment = NoEgress
			} else {
				dst[j].Comment += " " + NoEgress
			}
		}
	}
	return rel{}
}

// String is for debugging.
func (l *label) String() string {
	if l == nil {
		return "clean"
	}
	return fmt.Sprintf("%s(implicit=%v)", l.col, l.implicit)
}

// schemaOf is n's schema, or nil for a node that cannot give one yet (an
// outer scope node still holding placeholders such as *).
func schemaOf(n sql.Node) (sch sql.Schema) {
	defer func() {
		if recover() != nil {
			sch = nil
		}
	}()
	return n.Schema()
}

// walk visits n and every node below it, derived tables included (GMS's
// transform.Inspect stops at opaque nodes such as subquery aliases).
func walk(n sql.Node, fn func(sql.Node) bool) {
	if !fn(n) {
		return
	}
	for _, c := range n.Children() {
		walk(c, fn)
	}
}
