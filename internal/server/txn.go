package server

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/dolt/go/libraries/doltcore/schema"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/globalstate"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/writer"
	"github.com/dolthub/dolt/go/libraries/doltcore/table/editor"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/status"
	"github.com/sibyldb/sibyldb/internal/txlock"
)

// Row-level concurrency control. The design, and what it guarantees, is
// in package txlock's documentation; this file connects it to the server:
//
//   - every client session's write session is wrapped (lockingWriteSession)
//     so that each row an INSERT, UPDATE, DELETE, REPLACE, trigger, cascade
//     or LOAD DATA (engine path) writes is locked by its primary key and its
//     UNIQUE key values before Dolt sees the write;
//   - the handler gives each transaction a txlock.Txn before Dolt takes its
//     snapshot, takes statement-level locks (DDL, locking reads), restarts
//     statements whose locks turned out stale, rolls back transactions that
//     lose a conflict or a deadlock, retries autocommit statements that do,
//     and releases the locks when the transaction ends.
//
// Sessions the server opens for itself (the catalog, the audit writer, the
// event scheduler) take no locks; their writes merge at commit as Dolt's
// do. They write SibylDB's own tables, or user SQL scheduled by the user.

// txnState is the concurrency-control state of one connection.
type txnState struct {
	// tx holds the connection's locks; nil between transactions. Only the
	// connection's goroutines (the handler and the statement it runs)
	// touch it, one after the other.
	tx *txlock.Txn
	// wroteBefore is set at statement start when the transaction has
	// written in an earlier statement: such a transaction cannot be
	// restarted on a fresh snapshot without losing that work.
	wroteBefore bool
	// wrote is set once the transaction has written.
	wrote atomic.Bool
	// restart asks the handler to run the statement again on a fresh
	// snapshot (its locks kept); abort to roll the transaction back.
	restart, abort atomic.Bool
}

// errRestart ends a statement that found one of its rows changed after its
// snapshot; the handler runs it again and the client never sees it.
var errRestart = errors.New("statement restarted on a fresh snapshot")

// txnControl is the server's concurrency control.
type txnControl struct {
	locks    *txlock.Manager
	sessions *sessionTable

	conflicts, retries, restarts *status.Counter
	groupCommit                  groupCommitCounters
}

type lockCounters struct {
	waits, timeouts, deadlocks *status.Counter
}

func (c lockCounters) LockWait()    { c.waits.Add(1) }
func (c lockCounters) LockTimeout() { c.timeouts.Add(1) }
func (c lockCounters) Deadlock()    { c.deadlocks.Add(1) }

func newTxnControl(reg *status.Registry, sessions *sessionTable) *txnControl {
	return &txnControl{
		locks: txlock.NewManager(lockCounters{
			waits:     reg.Counter("Sibyl_row_lock_waits"),
			timeouts:  reg.Counter("Sibyl_row_lock_timeouts"),
			deadlocks: reg.Counter("Sibyl_deadlocks"),
		}),
		sessions:    sessions,
		conflicts:   reg.Counter("Sibyl_write_conflicts"),
		retries:     reg.Counter("Sibyl_autocommit_retries"),
		restarts:    reg.Counter("Sibyl_statement_restarts"),
		groupCommit: newGroupCommitCounters(reg),
	}
}

// writeSession wraps Dolt's write session constructor.
func (c *txnControl) writeSession(ws *doltdb.WorkingSet, ai globalstate.AutoIncrementTracker, opts editor.Options) dsess.WriteSession {
	return &lockingWriteSession{WriteSession: writer.NewWriteSession(ws, ai, opts), ctl: c}
}

// lock takes key for the statement running in ctx's session. Stale locks
// restart the statement, or fail the transaction when it has already
// written; deadlocks fail the transaction.
func (c *txnControl) lock(ctx *sql.Context, keys []txlock.Key, mode txlock.Mode, dbKey, tableKey txlock.Key, tableMode txlock.Mode) error {
	st := c.sessions.get(ctx.Session.ID())
	if st == nil || st.txn.tx == nil {
		return nil
	}
	t := &st.txn
	timeout := lockWaitTimeoutOf(ctx.Session)
	intent := txlock.IX
	if tableMode == txlock.S || tableMode == txlock.IS {
		intent = txlock.IS
	}
	if err := c.take(ctx, t, dbKey, intent, timeout); err != nil {
		return err
	}
	if err := c.take(ctx, t, tableKey, tableMode, timeout); err != nil {
		return err
	}
	for _, k := range keys {
		if err := c.take(ctx, t, k, mode, timeout); err != nil {
			return err
		}
	}
	return nil
}

func (c *txnControl) take(ctx *sql.Context, t *txnState, key txlock.Key, mode txlock.Mode, timeout time.Duration) error {
	err := t.tx.Lock(ctx, key, mode, timeout)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, txlock.ErrStale):
		if mode == txlock.IS || mode == txlock.IX {
			return nil // intention locks only order; their objects' rows are checked one by one
		}
		if !t.wroteBefore {
			t.restart.Store(true)
			return errRestart
		}
		c.conflicts.Add(1)
		t.abort.Store(true)
		return txlock.ErrDeadlock()
	case txlock.IsDeadlock(err):
		t.abort.Store(true)
		return err
	}
	return err
}

// lockingWriteSession locks the rows its table writers write.
type lockingWriteSession struct {
	dsess.WriteSession
	ctl *txnControl
}

func (s *lockingWriteSession) GetTableWriter(ctx *sql.Context, table doltdb.TableName, db string, setter dsess.SessionRootSetter, targetStaging bool) (dsess.TableWriter, error) {
	tw, err := s.WriteSession.GetTableWriter(ctx, table, db, setter, targetStaging)
	if err != nil {
		return nil, err
	}
	ws := s.WriteSession.GetWorkingSet()
	if ws == nil {
		return tw, nil
	}
	root := ws.WorkingRoot()
	if targetStaging {
		root = ws.StagedRoot()
	}
	t, ok, err := root.GetTable(ctx, table)
	if err != nil || !ok {
		return tw, err
	}
	sch, err := t.GetSchema(ctx)
	if err != nil {
		return nil, err
	}
	baseDB, _ := doltdb.SplitRevisionDbName(db)
	dbKey := txlock.DatabaseKey(strings.ToLower(baseDB))
	return &lockingTableWriter{
		TableWriter: tw,
		ctl:         s.ctl,
		dbKey:       dbKey,
		tableKey:    txlock.TableKey(strings.ToLower(baseDB), strings.ToLower(table.Name)),
		keys:        newRowKeys(sch),
	}, nil
}

// lockingTableWriter takes row locks before each write.
type lockingTableWriter struct {
	dsess.TableWriter
	ctl             *txnControl
	dbKey, tableKey txlock.Key
	keys            rowKeys
}

func (w *lockingTableWriter) lockRows(ctx *sql.Context, rows ...sql.Row) error {
	if len(w.keys.pk) == 0 {
		// Keyless table: rows have no identity to lock; lock the table.
		return w.ctl.lock(ctx, nil, txlock.X, w.dbKey, w.tableKey, txlock.X)
	}
	var keys []txlock.Key
	for _, r := range rows {
		keys = w.keys.appendKeys(keys, w.tableKey, r)
	}
	if err := w.ctl.lock(ctx, keys, txlock.X, w.dbKey, w.tableKey, txlock.IX); err != nil {
		return err
	}
	if st := w.ctl.sessions.get(ctx.Session.ID()); st != nil {
		st.txn.wrote.Store(true)
	}
	return nil
}

func (w *lockingTableWriter) Insert(ctx *sql.Context, row sql.Row) error {
	if err := w.lockRows(ctx, row); err != nil {
		return err
	}
	return w.TableWriter.Insert(ctx, row)
}

func (w *lockingTableWriter) Update(ctx *sql.Context, old, new sql.Row) error {
	if err := w.lockRows(ctx, old, new); err != nil {
		return err
	}
	return w.TableWriter.Update(ctx, old, new)
}

func (w *lockingTableWriter) Delete(ctx *sql.Context, row sql.Row) error {
	if err := w.lockRows(ctx, row); err != nil {
		return err
	}
	return w.TableWriter.Delete(ctx, row)
}

// rowKeys turns a row into the keys that identify it: its primary key and
// the values of each UNIQUE index (a row with a NULL in a unique index
// collides with nothing there).
type rowKeys struct {
	pk      []int
	unique  []uniqueIndex
	collate map[int]sql.CollationID // case- or accent-insensitive text columns
}

type uniqueIndex struct {
	name string
	cols []int
}

func newRowKeys(sch schema.Schema) rowKeys {
	cols := sch.GetAllCols()
	rk := rowKeys{pk: sch.GetPkOrdinals(), collate: map[int]sql.CollationID{}}
	for i := 0; i < cols.Size(); i++ {
		if st, ok := cols.GetByIndex(i).TypeInfo.ToSqlType().(sql.StringType); ok {
			rk.collate[i] = st.Collation()
		}
	}
	for _, idx := range sch.Indexes().AllIndexes() {
		if !idx.IsUnique() {
			continue
		}
		u := uniqueIndex{name: strings.ToLower(idx.Name())}
		for _, tag := range idx.IndexedColumnTags() {
			u.cols = append(u.cols, cols.TagToIdx[tag])
		}
		rk.unique = append(rk.unique, u)
	}
	return rk
}

func (rk rowKeys) appendKeys(keys []txlock.Key, table txlock.Key, row sql.Row) []txlock.Key {
	if s, ok := rk.encode(row, rk.pk); ok {
		keys = append(keys, txlock.RowKey(table, s))
	}
	for _, u := range rk.unique {
		if s, ok := rk.encode(row, u.cols); ok {
			keys = append(keys, txlock.IndexKey(table, u.name, s))
		}
	}
	return keys
}

// encode renders the values of cols; equal keys (by the columns'
// collations) render equally. ok is false when a value is NULL.
func (rk rowKeys) encode(row sql.Row, cols []int) (string, bool) {
	var b strings.Builder
	for _, i := range cols {
		if i >= len(row) || row[i] == nil {
			return "", false
		}
		v := row[i]
		if coll, ok := rk.collate[i]; ok {
			if s, ok := v.(string); ok {
				if w, err := coll.HashToBytes(s); err == nil {
					v = w
				}
			}
		}
		fmt.Fprintf(&b, "%v\x1f", v)
	}
	return b.String(), true
}

// lockWaitTimeoutOf is the session's innodb_lock_wait_timeout.
func lockWaitTimeoutOf(sess sql.Session) time.Duration {
	v, err := sess.GetSessionVariable(nil, "innodb_lock_wait_timeout")
	if err != nil {
		return 50 * time.Second
	}
	if n, ok := toInt64(v); ok {
		return time.Duration(n) * time.Second
	}
	return 50 * time.Second
}

// autocommit reports the session's autocommit setting.
func autocommit(sess sql.Session) bool {
	v, err := sess.GetSessionVariable(nil, sql.AutoCommitSessionVar)
	if err != nil {
		return true
	}
	on, err := sql.ConvertToBool(nil, v)
	return err != nil || on
}

// GetNextAutoIncrementValue is Dolt's writer.AutoIncrementGetter, which
// Dolt's tables assert on their writers.
func (w *lockingTableWriter) GetNextAutoIncrementValue(ctx *sql.Context, insertVal interface{}) (uint64, error) {
	g, ok := w.TableWriter.(writer.AutoIncrementGetter)
	if !ok {
		return 0, fmt.Errorf("table writer %T has no AUTO_INCREMENT counter", w.TableWriter)
	}
	return g.GetNextAutoIncrementValue(ctx, insertVal)
}
