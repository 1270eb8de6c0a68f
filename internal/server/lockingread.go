package server

import (
	"context"
	"errors"
	"strings"

	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/txlock"
)

// Locking reads lock rows
//
// SELECT ... FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE over one table with a primary
// key locks the rows it selects, by primary key, as InnoDB does: the
// server first runs the statement's own FROM, WHERE, ORDER BY and LIMIT
// for the primary keys, locks those rows, and, when one of them changed
// after the transaction's snapshot (and the transaction has not written),
// takes a fresh snapshot and looks again, so the statement then reads the
// latest committed rows. Rows that start to match after the locks were
// taken (phantoms) are not locked: InnoDB's gap locks have no equivalent
// here. Other locking reads (joins, keyless tables, grouping) lock their
// tables (see statementLocks).

// maxLockingReadRounds bounds the look-lock-refresh rounds of one locking
// read; past it the statement locks its table instead.
const maxLockingReadRounds = 5

// lockReadRows takes the row locks of a single-table locking read. handled
// is false when the statement is not of that shape (or its rows kept
// changing); the caller then locks tables.
func (h *handler) lockReadRows(ctx context.Context, st *connState, query string, binds map[string]*querypb.BindVariable) (handled bool, err error) {
	parsed, err := parseLockingRead(query)
	if err != nil {
		return false, nil
	}
	sel, ok := parsed.(*ast.Select)
	if !ok || sel.Lock == nil || strings.TrimSpace(sel.Lock.Type) == "" || len(sel.Lock.Tables) > 0 ||
		len(sel.From) != 1 || len(sel.GroupBy) > 0 || sel.Having != nil || sel.With != nil || sel.Into != nil {
		return false, nil
	}
	ate, ok := sel.From[0].(*ast.AliasedTableExpr)
	if !ok {
		return false, nil
	}
	tn, ok := ate.Expr.(ast.TableName)
	if !ok {
		return false, nil
	}
	db := tn.DbQualifier.String()
	if db == "" {
		db = st.sess.GetCurrentDatabase()
	}
	if db == "" || strings.EqualFold(db, sql.InformationSchemaDatabaseName) {
		return false, nil
	}
	mode, intent := txlock.S, txlock.IS
	if strings.Contains(strings.ToLower(sel.Lock.Type), "update") {
		mode, intent = txlock.X, txlock.IX
	}

	sqlCtx := h.ctxFactory(ctx, sql.WithSession(st.sess))
	roots, ok := st.sess.GetRoots(sqlCtx, db)
	if !ok {
		return false, nil
	}
	tbl, name, ok, err := doltdb.GetTableInsensitive(sqlCtx, roots.Working, doltdb.TableName{Name: tn.Name.String()})
	if err != nil || !ok {
		return false, nil
	}
	sch, err := tbl.GetSchema(sqlCtx)
	if err != nil {
		return false, err
	}
	pkCols := sch.GetPKCols().GetColumns()
	if len(pkCols) == 0 {
		return false, nil
	}

	// The statement, selecting the primary key instead.
	keysQuery := *sel
	keysQuery.Lock, keysQuery.Into = nil, nil
	qual := ast.TableName{Name: tn.Name, DbQualifier: tn.DbQualifier}
	if !ate.As.IsEmpty() {
		qual = ast.TableName{Name: ate.As}
	}
	keysQuery.SelectExprs = nil
	for _, c := range pkCols {
		keysQuery.SelectExprs = append(keysQuery.SelectExprs, &ast.AliasedExpr{Expr: &ast.ColName{Name: ast.NewColIdent(c.Name), Qualifier: qual}})
	}
	text := ast.String(&keysQuery)
	bindings, err := bindExprs(binds)
	if err != nil {
		return false, err
	}

	rk := newRowKeys(sch)
	dbName := strings.ToLower(db)
	tableKey := txlock.TableKey(dbName, strings.ToLower(name))
	ncols := sch.GetAllCols().Size()
	t := &st.txn
	timeout := lockWaitTimeoutOf(st.sess)
	lock := func(k txlock.Key, m txlock.Mode) (stale bool, err error) {
		err = t.tx.Lock(ctx, k, m, timeout)
		switch {
		case errors.Is(err, txlock.ErrStale):
			return m == txlock.S || m == txlock.X, nil
		case txlock.IsDeadlock(err):
			t.abort.Store(true)
		}
		return false, err
	}
	if _, err := lock(txlock.DatabaseKey(dbName), intent); err != nil {
		return true, err
	}
	if _, err := lock(tableKey, intent); err != nil {
		return true, err
	}
	for round := 0; round < maxLockingReadRounds; round++ {
		_, iter, _, err := h.engine.QueryWithBindings(sqlCtx, text, nil, bindings, nil)
		if err != nil {
			return false, nil // let the statement itself report it
		}
		rows, err := sql.RowIterToRows(sqlCtx, iter)
		if err != nil {
			return false, nil
		}
		stale := false
		for _, r := range rows {
			full := make(sql.Row, ncols)
			for i, ord := range rk.pk {
				full[ord] = r[i]
			}
			s, ok := rk.encode(full, rk.pk)
			if !ok {
				continue
			}
			st, err := lock(txlock.RowKey(tableKey, s), mode)
			if err != nil {
				return true, err
			}
			stale = stale || st
		}
		if !stale {
			return true, nil
		}
		if t.wroteBefore {
			h.txn.conflicts.Add(1)
			t.abort.Store(true)
			return true, txlock.ErrDeadlock()
		}
		if err := h.refreshSnapshot(ctx, st); err != nil {
			return true, err
		}
		h.txn.restarts.Add(1)
	}
	return false, nil
}

// bindExprs turns a prepared statement's parameters into the engine's
// bindings, as GMS's handler does.
func bindExprs(binds map[string]*querypb.BindVariable) (map[string]ast.Expr, error) {
	if len(binds) == 0 {
		return nil, nil
	}
	out := make(map[string]ast.Expr, len(binds))
	for name, bv := range binds {
		v, err := sqltypes.BindVariableToValue(bv)
		if err != nil {
			return nil, err
		}
		e, err := ast.ExprFromValue(v)
		if err != nil {
			return nil, err
		}
		out[name] = e
	}
	return out, nil
}
