package plancache

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle"
	"github.com/dolthub/dolt/go/store/hash"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// errStale is a cached plan's table whose schema changed.
var errStale = errors.New("plan cache: the table's schema changed")

// errUnbounded is a range the analyzer would not answer with the index.
var errUnbounded = errors.New("plan cache: the range does not use the index")

// pointPlan is a cached primary-key point select.
type pointPlan struct {
	// root is the analyzed plan; ita its IndexedTableAccess, replaced on
	// reuse.
	root sql.Node
	ita  *plan.IndexedTableAccess
	// colExprs are the primary key's column expressions, as the index
	// builder names them, and binds the bind variable each is equal to.
	colExprs []string
	binds    []string
	guard
}

// doltTabler is Dolt's table, which reads its data (and schema) from the
// session's current root.
type doltTabler interface {
	DoltTable(*sql.Context) (*doltdb.Table, error)
}

// doltTableOf returns the Dolt table an indexed access reads. (Both
// indexed tables embed the table in a field named like its DoltTable
// method, which hides the method.)
func doltTableOf(t sql.Table) (doltTabler, bool) {
	switch t := t.(type) {
	case *sqle.WritableIndexedDoltTable:
		return t.WritableDoltTable.DoltTable, t.WritableDoltTable != nil && t.WritableDoltTable.DoltTable != nil
	case *sqle.IndexedDoltTable:
		return t.DoltTable, t.DoltTable != nil
	case *sqle.AlterableDoltTable:
		return t.WritableDoltTable.DoltTable, t.WritableDoltTable.DoltTable != nil
	case *sqle.WritableDoltTable:
		return t.DoltTable, t.DoltTable != nil
	case *sqle.DoltTable:
		return t, t != nil
	}
	return nil, false
}

// bindLiterals converts the bindings as binding does (planbuilder's
// SetBindings); ok is false unless each is a literal.
func bindLiterals(ctx *sql.Context, bindings map[string]ast.Expr) (lits map[string]sql.Expression, ok bool) {
	if lits, ok := intLiterals(bindings); ok {
		return lits, true
	}
	defer func() {
		if recover() != nil { // the builder reports errors by panicking
			lits, ok = nil, false
		}
	}()
	b := planbuilder.New(ctx, nil, nil)
	b.SetBindings(bindings)
	lits = b.BindCtx().Bindings
	for _, e := range lits {
		if _, isLit := e.(*expression.Literal); !isLit {
			return nil, false
		}
	}
	return lits, true
}

// intLiterals converts bindings that are all integers that fit in an
// int64, the values of sysbench's and most applications' key lookups, as
// planbuilder's ConvertVal does (Builder.convertInt: each value gets the
// smallest integer type that holds it, signed before unsigned), without
// making a planbuilder (which reads and parses the session's sql_mode).
// ok is false when any binding is something else; bindLiterals then asks
// the planbuilder. SIBYLDB_PLAN_CACHE_VERIFY checks the result against
// GMS on every hit.
func intLiterals(bindings map[string]ast.Expr) (map[string]sql.Expression, bool) {
	lits := make(map[string]sql.Expression, len(bindings))
	for name, e := range bindings {
		v, ok := e.(*ast.SQLVal)
		if !ok || v.Type != ast.IntVal {
			return nil, false
		}
		i64, err := strconv.ParseInt(string(v.Val), 10, 64)
		if err != nil {
			return nil, false
		}
		lits[name] = intLiteral(i64)
	}
	return lits, true
}

// intLiteral is Builder.convertInt's literal for an int64 value.
func intLiteral(i64 int64) *expression.Literal {
	if uint64(i64)&0x8000_0000_0000_0000 != 0 {
		if uint64(^i64)&0xFFFF_FFFF_FFFF_FF80 == 0 {
			return expression.NewLiteral(int8(i64), types.Int8)
		}
		if uint64(^i64)&0xFFFF_FFFF_FFFF_8000 == 0 {
			return expression.NewLiteral(int16(i64), types.Int16)
		}
		if uint64(^i64)&0xFFFF_FFFF_8000_0000 == 0 {
			return expression.NewLiteral(int32(i64), types.Int32)
		}
		return expression.NewLiteral(i64, types.Int64)
	}
	if uint64(i64)&0xFFFF_FFFF_FFFF_FF80 == 0 {
		return expression.NewLiteral(int8(i64), types.Int8)
	}
	if uint64(i64)&0xFFFF_FFFF_FFFF_FF00 == 0 {
		return expression.NewLiteral(uint8(i64), types.Uint8)
	}
	if uint64(i64)&0xFFFF_FFFF_FFFF_8000 == 0 {
		return expression.NewLiteral(int16(i64), types.Int16)
	}
	if uint64(i64)&0xFFFF_FFFF_FFFF_0000 == 0 {
		return expression.NewLiteral(uint16(i64), types.Uint16)
	}
	if uint64(i64)&0xFFFF_FFFF_8000_0000 == 0 {
		return expression.NewLiteral(int32(i64), types.Int32)
	}
	if uint64(i64)&0xFFFF_FFFF_0000_0000 == 0 {
		return expression.NewLiteral(uint32(i64), types.Uint32)
	}
	return expression.NewLiteral(i64, types.Int64)
}

// pointShape checks the statement's AST: a SELECT of plain columns (or *)
// from one base table, WHERE a conjunction of `column = ?`, nothing else.
// It returns the table expression and the bind variable of each column.
func pointShape(parsed ast.Statement) (*ast.AliasedTableExpr, map[string]string, bool) {
	sel, ok := parsed.(*ast.Select)
	if !ok || sel.With != nil || !plainOpts(sel.QueryOpts) ||
		len(sel.From) != 1 || sel.Where == nil || len(sel.GroupBy) != 0 || sel.Having != nil ||
		len(sel.OrderBy) != 0 || sel.Limit != nil || sel.Lock != nil && (strings.TrimSpace(sel.Lock.Type) != "" || len(sel.Lock.Tables) != 0) || sel.Into != nil ||
		len(sel.Window) != 0 || len(sel.Comments) != 0 {
		return nil, nil, false
	}
	te, ok := sel.From[0].(*ast.AliasedTableExpr)
	if !ok || te.AsOf != nil || te.Hints != nil || len(te.Partitions) != 0 {
		return nil, nil, false
	}
	if _, ok := te.Expr.(ast.TableName); !ok {
		return nil, nil, false
	}
	for _, se := range sel.SelectExprs {
		switch e := se.(type) {
		case *ast.StarExpr:
		case *ast.AliasedExpr:
			if c, ok := e.Expr.(*ast.ColName); !ok || c.StoredProcVal != nil {
				return nil, nil, false
			}
		default:
			return nil, nil, false
		}
	}
	cols := map[string]string{}
	var walk func(ast.Expr) bool
	walk = func(e ast.Expr) bool {
		switch e := e.(type) {
		case *ast.AndExpr:
			return walk(e.Left) && walk(e.Right)
		case *ast.ComparisonExpr:
			if e.Operator != ast.EqualStr || e.Escape != nil {
				return false
			}
			col, ok := e.Left.(*ast.ColName)
			val, vok := e.Right.(*ast.SQLVal)
			if !ok || !vok {
				col, ok = e.Right.(*ast.ColName)
				val, vok = e.Left.(*ast.SQLVal)
			}
			if !ok || !vok || val.Type != ast.ValArg || col.StoredProcVal != nil {
				return false
			}
			name := strings.ToLower(col.Name.String())
			if _, dup := cols[name]; dup {
				return false
			}
			cols[name] = strings.TrimPrefix(string(val.Val), ":")
			return true
		}
		return false
	}
	if sel.Where.Type != ast.WhereStr || !walk(sel.Where.Expr) {
		return nil, nil, false
	}
	return te, cols, true
}

// plainOpts accepts only SELECT ALL and the query-cache hints, which
// change nothing here.
func plainOpts(o ast.QueryOpts) bool {
	return !o.Distinct && len(o.DistinctOn) == 0 && !o.StraightJoinHint && !o.SQLCalcFoundRows
}

// newPointPlan returns the cacheable form of analyzed, if the statement
// and its plan have the point-select shape and rebuilding the plan from
// the same bindings reproduces it.
func newPointPlan(ctx *sql.Context, cat sql.Catalog, parsed ast.Statement, analyzed sql.Node, lits map[string]sql.Expression) (*pointPlan, bool) {
	te, cols, ok := pointShape(parsed)
	if !ok {
		return nil, false
	}
	var ita *plan.IndexedTableAccess
	switch n := analyzed.(type) {
	case *plan.IndexedTableAccess:
		ita = n
	case *plan.Project:
		for _, e := range n.Projections {
			if _, ok := e.(*expression.GetField); !ok {
				return nil, false
			}
		}
		ita, ok = n.Child.(*plan.IndexedTableAccess)
	}
	if ita == nil || !ok || !ita.IsStatic() || ita.Typ != plan.ItaTypeStatic {
		return nil, false
	}
	idx := ita.Index()
	if idx == nil || !strings.EqualFold(idx.ID(), "PRIMARY") || idx.IsSpatial() || idx.IsFullText() || idx.IsVector() {
		return nil, false
	}
	table, ok := doltTableOf(ita.UnderlyingTable())
	if !ok {
		return nil, false
	}
	p := &pointPlan{root: analyzed, ita: ita, guard: guard{auth: &authCheck{auth: te.Auth}, table: table}}
	cets := idx.ColumnExpressionTypes()
	if len(cets) != len(cols) {
		return nil, false
	}
	for _, cet := range cets {
		name := cet.Expression
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		bind, ok := cols[strings.ToLower(name)]
		if !ok {
			return nil, false
		}
		if lit, ok := lits[bind]; !ok || !exactKey(cet.Type, lit.Type()) {
			return nil, false
		}
		p.colExprs = append(p.colExprs, cet.Expression)
		p.binds = append(p.binds, bind)
	}
	if err := p.guard.init(ctx); err != nil {
		return nil, false
	}
	again, err := p.rebuild(ctx, cat, lits)
	if err != nil || sql.DebugString(again) != sql.DebugString(analyzed) {
		return nil, false
	}
	return p, true
}

// exactKey reports whether a key column of type col compared with a
// bound value of type val is planned the same for every value of that
// type: an integer column and an integer value. For other pairs the
// analyzer's choice to keep a Filter above the scan depends on the value
// (Dolt drops it for a string that converts exactly, e.g. '7', and keeps
// it for 'abc'), so the plan of one value is not the plan of another.
func exactKey(col, val sql.Type) bool {
	return types.IsInteger(col) && types.IsInteger(val)
}

// currentSchemaHash is the hash of table's schema in the session's
// current root.
func currentSchemaHash(ctx *sql.Context, table doltTabler) (hash.Hash, error) {
	t, err := table.DoltTable(ctx)
	if err != nil {
		return hash.Hash{}, err
	}
	return t.GetSchemaHash(ctx)
}

// rebuild returns the plan for the bound values lits: the privilege check
// binding would make, the schema the plan was built for, and the lookup
// built as the analyzer builds it.
func (p *pointPlan) rebuild(ctx *sql.Context, cat sql.Catalog, lits map[string]sql.Expression) (sql.Node, error) {
	if err := p.guard.check(ctx, cat); err != nil {
		return nil, err
	}
	idx := p.ita.Index()
	b := sql.NewMySQLIndexBuilder(idx)
	for i, col := range p.colExprs {
		lit := lits[p.binds[i]]
		v, err := lit.Eval(ctx, nil)
		if err != nil {
			return nil, err
		}
		b.Equals(ctx, col, lit.Type(), v)
	}
	if _, err := b.Build(ctx); err != nil {
		return nil, err
	}
	ranges := b.Ranges(ctx)
	empty := len(ranges) == 0
	if len(ranges) == 1 {
		var err error
		if empty, err = ranges[0].IsEmpty(); err != nil {
			return nil, err
		}
	} else if len(ranges) > 1 {
		return nil, fmt.Errorf("plan cache: %d ranges for a point lookup", len(ranges))
	}
	return withLookup(ctx, p.root, p.ita, sql.NewIndexLookup(idx, ranges, false, empty, idx.IsSpatial(), false))
}

// withLookup is root with its static index access ita reading lookup
// instead.
func withLookup(ctx *sql.Context, root sql.Node, ita *plan.IndexedTableAccess, lookup sql.IndexLookup) (sql.Node, error) {
	access, err := plan.NewStaticIndexedAccessForTableNode(ctx, ita.TableNode, lookup)
	if err != nil {
		return nil, err
	}
	out, _, err := transform.Node(root, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		if n == sql.Node(ita) {
			return access, transform.NewTree, nil
		}
		return n, transform.SameTree, nil
	})
	return out, err
}

// guard is what every cached plan checks before it is reused: the
// privilege check binding would make, and the table's schema in the
// session's current root, unchanged since the plan was analyzed.
//
// A guard belongs to one connection's plan, used by one statement at a
// time, so it needs no lock.
type guard struct {
	// auth is the table's authorization, as binding checks it.
	auth *authCheck
	// table reads the table's schema hash in the session's current root.
	table      doltTabler
	schemaHash hash.Hash
	// checkedRoot is the session root the schema was last found unchanged
	// in. Dolt's root values are immutable (every change makes a new one),
	// and the guard holds on to this one, so while a statement's session
	// root is this same object the table's schema in it is the one already
	// checked, and reading the table from the root again (a walk of its
	// table map) is skipped. A read-only workload keeps one root object
	// per committed state; any write, by anyone, makes a new root and the
	// schema is read again.
	checkedRoot doltdb.RootValue
}

// rootReader is the database of a Dolt table (sqle.Database), which
// gives the session's current root: the root the table reads unless it is
// locked to another, whose schema then does not change either.
type rootReader interface {
	GetRoot(*sql.Context) (doltdb.RootValue, error)
}

// sessionRoot returns the session's current root of table's database.
func sessionRoot(ctx *sql.Context, table doltTabler) (doltdb.RootValue, bool) {
	dt, ok := table.(*sqle.DoltTable)
	if !ok {
		return nil, false
	}
	db, ok := dt.DatabaseSchema().(rootReader)
	if !ok {
		return nil, false
	}
	root, err := db.GetRoot(ctx)
	if err != nil || root == nil {
		return nil, false
	}
	return root, true
}

// init records the table's schema as the plan was analyzed.
func (g *guard) init(ctx *sql.Context) (err error) {
	g.schemaHash, err = currentSchemaHash(ctx, g.table)
	return err
}

// check fails when the plan may not be reused: errStale for a changed
// schema, or the privilege error binding would give.
func (g *guard) check(ctx *sql.Context, cat sql.Catalog) error {
	if err := g.auth.check(ctx, cat); err != nil {
		return err
	}
	root, rootOK := sessionRoot(ctx, g.table)
	if rootOK && g.checkedRoot != nil && root == g.checkedRoot {
		return nil
	}
	h, err := currentSchemaHash(ctx, g.table)
	if err != nil {
		return err
	}
	if h != g.schemaHash {
		g.checkedRoot = nil
		return errStale
	}
	if rootOK {
		g.checkedRoot = root
	} else {
		g.checkedRoot = nil
	}
	return nil
}
