package exec

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// call checks a CALL before the procedure runs. GMS interprets a
// procedure one statement at a time and replaces its variables and
// parameters by their values, so a local variable holding marked data
// reaches the next statement as a plain literal: the analysis cannot
// follow values through the body. It refuses instead, before the first
// statement, a procedure that both may read marked data (a marked
// argument, a table with a marked column, a table it cannot resolve, a
// marked user variable) and may send data to a remote model (a remote
// function, a function it cannot resolve, a nested CALL or dynamic SQL).
func (f *flow) call(n *plan.Call, scope []col) {
	var params *label
	for _, p := range n.Params {
		params = join(params, f.expr(p, scope))
	}
	tainted := join(params, f.pc)
	var sink string
	db := ""
	if n.Database() != nil {
		db = n.Database().Name()
	}
	visit := func(node ast.SQLNode) (bool, error) {
		switch node := node.(type) {
		case *ast.FuncExpr:
			if sink == "" && f.mayEgress(node.Name.String(), len(node.Exprs)) {
				sink = node.Name.String()
			}
		case *ast.Call:
			if sink == "" {
				sink = "CALL " + node.ProcName.Name.String()
			}
		case *ast.Prepare, *ast.Execute:
			if sink == "" {
				sink = "dynamic SQL"
			}
		case ast.TableName:
			if tainted == nil {
				tainted = f.tableTaint(db, node)
			}
		case *ast.TableName:
			if tainted == nil && node != nil {
				tainted = f.tableTaint(db, *node)
			}
		case *ast.ColName:
			if tainted == nil && node != nil && strings.HasPrefix(node.Name.String(), "@") {
				tainted = f.st.userVar(strings.TrimPrefix(node.Name.String(), "@"))
			}
		}
		return true, nil
	}
	if n.Procedure != nil {
		for _, op := range n.Procedure.Ops {
			if op != nil && op.PrimaryData != nil {
				_ = ast.Walk(visit, op.PrimaryData)
			}
		}
	}
	for i := range n.Ops {
		if n.Ops[i].PrimaryData != nil {
			_ = ast.Walk(visit, n.Ops[i].PrimaryData)
		}
	}
	if sink != "" && tainted != nil {
		f.fail(mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
			"column %s is marked %s and procedure %s may send it to a remote model (through %s)", tainted.col, NoEgress, n.Name, sink))
	}
}

// mayEgress reports a function name that is, or may be, a remote model
// call: a remote function, or a name that resolves to no function.
func (f *flow) mayEgress(name string, nargs int) bool {
	if f.cat == nil {
		return true
	}
	fn, ok := f.cat.Function(f.ctx, name)
	if !ok {
		return true
	}
	args := make([]sql.Expression, nargs)
	for i := range args {
		args[i] = expression.NewLiteral(nil, types.Null)
	}
	e, err := fn.NewInstance(args)
	if err != nil {
		return false // the statement will not run
	}
	c, ok := e.(Call)
	return ok && isRemote(c)
}

// tableTaint returns the taint of a table the procedure body names: any
// marked (or derived) column; a name it cannot resolve (a view, a CTE)
// counts as marked, since its columns cannot be checked.
func (f *flow) tableTaint(db string, tn ast.TableName) *label {
	if tn.Name.IsEmpty() {
		return nil
	}
	if q := tn.DbQualifier.String(); q != "" {
		db = q
	}
	if f.cat == nil {
		return &label{col: tn.Name.String() + ".*"}
	}
	t, _, err := f.cat.Table(f.ctx, db, tn.Name.String())
	if err != nil || t == nil {
		// A view or a CTE: fail closed when the database has marked
		// columns at all.
		return f.anyMarked(db, tn.Name.String())
	}
	sch := t.Schema()
	if pk, ok := t.(sql.PrimaryKeyTable); ok {
		sch = pk.PrimaryKeySchema().Schema
	}
	for _, c := range tableCols(sch, sch) {
		if c.l != nil {
			return c.l
		}
	}
	return nil
}

// anyMarked returns a marked column of database db, if it has one, for a
// name the procedure reads that is not a table.
func (f *flow) anyMarked(db, name string) *label {
	d, err := f.cat.Database(f.ctx, db)
	if err != nil {
		return &label{col: name + " (unresolved)", implicit: true}
	}
	names, err := d.GetTableNames(f.ctx)
	if err != nil {
		return &label{col: name + " (unresolved)", implicit: true}
	}
	for _, tn := range names {
		t, ok, err := d.GetTableInsensitive(f.ctx, tn)
		if err != nil || !ok {
			continue
		}
		sch := t.Schema()
		for _, c := range sch {
			if marked(c) {
				return &label{col: c.Source + "." + c.Name + " (read through " + name + ")", implicit: true}
			}
		}
	}
	return nil
}
