package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	gms "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/sirupsen/logrus"

	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/limits"
	"github.com/sibyldb/sibyldb/internal/metrics"
	"github.com/sibyldb/sibyldb/internal/privilege"
	"github.com/sibyldb/sibyldb/internal/server/plancache"
	"github.com/sibyldb/sibyldb/internal/sqlext"
	"github.com/sibyldb/sibyldb/internal/txlock"
)

// connState is what the server tracks per connection.
type connState struct {
	sess *dsess.DoltSession
	txn  txnState
	// account is the account the connection authenticated as, read when
	// the session was built: KILL compares it from other connections'
	// goroutines, which must not read the session's client.
	account privilege.Account
}

// sessionTable maps connection ids to their sessions. The session builder
// adds entries; afterwards an entry is used by its connection's handler
// goroutine and the statements it runs, one at a time.
type sessionTable struct {
	mu    sync.Mutex
	conns map[uint32]*connState
}

func (t *sessionTable) put(id uint32, sess *dsess.DoltSession) *connState {
	t.mu.Lock()
	defer t.mu.Unlock()
	cl := sess.Client()
	st := &connState{sess: sess, account: privilege.Account{User: cl.User, Host: cl.Address}}
	if old, ok := t.conns[id]; ok {
		// COM_RESET_CONNECTION builds a new session; the old one's
		// transaction, and its locks, ended (see ComResetConnection).
		st.txn.tx = old.txn.tx
	}
	t.conns[id] = st
	return st
}

func (t *sessionTable) get(id uint32) *connState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conns[id]
}

// owner returns the account connection id authenticated as.
func (t *sessionTable) owner(id uint32) (privilege.Account, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.conns[id]
	if !ok {
		return privilege.Account{}, false
	}
	return st.account, true
}

func (t *sessionTable) remove(id uint32) *connState {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.conns[id]
	delete(t.conns, id)
	return st
}

// handler wraps GMS's protocol handler around every statement: it runs
// the statement under SibylDB's concurrency control (see txn.go), gives
// errors MySQL's codes and SQLSTATEs, and tells the ML layer when a
// statement has finished.
type handler struct {
	mysql.Handler
	engine     *gms.Engine
	txn        *txnControl
	sessions   *sessionTable
	ctxFactory sql.ContextFactory
	log        *logrus.Logger
	// finished is told when a connection's statement has ended, and how:
	// err is the statement's error (nil when it succeeded).
	finished func(connID uint32, err error)
	// tlsAvailable is set when the server has a certificate, so
	// require_secure_transport can be honoured.
	tlsAvailable bool
	// gate applies connect_timeout and max_connections (connlimit.go);
	// isAdmin tells who may use the connection kept for administrators.
	gate    *connGate
	isAdmin func(*sql.Context) bool
	// governor stops statements that grow the heap too much.
	governor *limits.Governor
	// metrics records statement latency by kind.
	metrics *metrics.Metrics
	// plans keeps analyzed plans of repeated prepared statements.
	plans *plancache.Cache
}

// errConnectionClosed is the outcome of a statement its connection's end
// cut short.
var errConnectionClosed = errors.New("connection closed before the statement finished")

// ConnectionAuthenticated refuses connections without TLS while
// require_secure_transport is ON, with MySQL's ER_SECURE_TRANSPORT_REQUIRED.
func (h *handler) ConnectionAuthenticated(c *mysql.Conn) error {
	if h.gate != nil && !h.gate.authenticated(c) {
		return mysql.NewSQLError(1043, "08S01", "Bad handshake") // ER_HANDSHAKE_ERROR: connect_timeout passed
	}
	if _, v, ok := sql.SystemVariables.GetGlobal("require_secure_transport"); ok && h.tlsAvailable && !c.TLSEnabled() {
		if on, _ := v.(int8); on != 0 {
			return mysql.NewSQLError(3159, "HY000", "Connections using insecure transport are prohibited while --require_secure_transport=ON.")
		}
	}
	if err := h.Handler.ConnectionAuthenticated(c); err != nil {
		return err
	}
	return h.admitConnection(c)
}

func (h *handler) ComQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (err error) {
	defer h.recoverStatement(c, &err)
	h.beginStatement(c)
	defer h.endStatement(c, &err)
	return h.hidePanic(c, h.run(ctx, c, query, nil, cb, func(ctx context.Context, cb mysql.ResultSpoolFn) (err error) {
		defer h.recoverStatement(c, &err)
		return h.Handler.ComQuery(ctx, c, query, cb)
	}))
}

// ComMultiQuery runs the first statement of query; vitess calls again with
// the remainder, so classifying the first statement is enough.
func (h *handler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (rest string, err error) {
	defer h.recoverStatement(c, &err)
	h.beginStatement(c)
	defer h.endStatement(c, &err)
	err = h.run(ctx, c, query, nil, cb, func(ctx context.Context, cb mysql.ResultSpoolFn) (err error) {
		defer h.recoverStatement(c, &err)
		rest, err = h.Handler.ComMultiQuery(ctx, c, query, cb)
		return err
	})
	return rest, h.hidePanic(c, err)
}

func (h *handler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, cb func(*sqltypes.Result) error) (err error) {
	defer h.recoverStatement(c, &err)
	h.beginStatement(c)
	defer h.endStatement(c, &err)
	spool := func(r *sqltypes.Result, _ bool) error { return cb(r) }
	return h.hidePanic(c, h.run(ctx, c, prepare.PrepareStmt, prepare.BindVars, spool, func(ctx context.Context, cb mysql.ResultSpoolFn) (err error) {
		defer h.recoverStatement(c, &err)
		if h.plans != nil {
			ctx = plancache.WithStatement(ctx, c.ConnectionID)
		}
		return h.Handler.ComStmtExecute(ctx, c, prepare, func(r *sqltypes.Result) error { return cb(r, false) })
	}))
}

func (h *handler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) (fields []*querypb.Field, err error) {
	defer h.recoverStatement(c, &err)
	fields, err = h.Handler.ComPrepare(ctx, c, query, prepare)
	return fields, h.hidePanic(c, mysqlError(err))
}

func (h *handler) ComResetConnection(c *mysql.Conn) error {
	// The session, and with it any open transaction, is discarded.
	h.endTxn(h.sessions.get(c.ConnectionID), false)
	exec.ForgetSession(c.ConnectionID) // its user variables go too
	if h.plans != nil {
		h.plans.Forget(c.ConnectionID)
	}
	return h.Handler.ComResetConnection(c)
}

func (h *handler) ConnectionClosed(c *mysql.Conn) {
	if h.gate != nil {
		h.gate.closed(c)
	}
	h.Handler.ConnectionClosed(c)
	if h.finished != nil {
		h.finished(c.ConnectionID, errConnectionClosed)
	}
	h.endTxn(h.sessions.remove(c.ConnectionID), false)
	exec.ForgetSession(c.ConnectionID)
	if h.plans != nil {
		h.plans.Forget(c.ConnectionID)
	}
}

// maxAttempts bounds how often one statement runs: restarts on a fresh
// snapshot and, for autocommit statements, retries after a lost conflict
// or deadlock.
const maxAttempts = 10

// run runs one statement (exec) under concurrency control:
//
//   - the transaction gets its lock-manager handle before Dolt takes its
//     snapshot, and the statement's own locks (DDL, locking reads, LOAD
//     DATA) before it runs;
//   - a statement that found a row changed after its snapshot, in a
//     transaction that had not written before it, runs again on a fresh
//     snapshot, keeping its locks (the client sees one execution);
//   - a transaction that loses a conflict or a deadlock is rolled back and
//     its locks released; an autocommit statement is then run again, an
//     explicit transaction gets 1213;
//   - when the transaction has ended, its locks are released.
//
// Only attempts that sent nothing to the client are repeated. The
// statement's commits are durable before anything reaches the client
// (group commit, groupcommit.go).
func (h *handler) run(ctx context.Context, c *mysql.Conn, query string, binds map[string]*querypb.BindVariable, cb mysql.ResultSpoolFn, exec func(context.Context, mysql.ResultSpoolFn) error) (err error) {
	defer h.observeStatement(query, time.Now(), &err)
	defer func() { h.after(c, err) }()
	if h.plans != nil && plancache.Invalidates(query) {
		// Before, so no plan is reused while it runs; after, so no plan
		// analyzed while it ran is reused.
		h.plans.Invalidate()
		defer h.plans.Invalidate()
	}
	ctx, syncs := withCommitSyncs(ctx, h.txn.groupCommit)
	defer func() {
		if serr := syncs.flush(); serr != nil && err == nil {
			err = serr
		}
	}()
	durable := func(r *sqltypes.Result, more bool) error {
		if err := syncs.flush(); err != nil {
			return err
		}
		return cb(r, more)
	}
	st := h.sessions.get(c.ConnectionID)
	if st == nil {
		return mysqlError(exec(ctx, durable))
	}
	sent := false
	spool := func(r *sqltypes.Result, more bool) error {
		sent = true
		return durable(r, more)
	}
	for attempt := 1; ; attempt++ {
		if st.txn.tx == nil {
			st.txn.tx = h.txn.locks.Begin(c.ConnectionID)
			if st.sess.GetTransaction() != nil && len(st.sess.DirtyDatabases()) == 0 {
				// A transaction opened outside a statement (COM_STMT_PREPARE
				// analyses in one) has a snapshot older than the lock
				// handle, which would hide commits from the staleness
				// check: take a new one.
				if err := h.refreshSnapshot(ctx, st); err != nil {
					return mysqlError(err)
				}
			}
		}
		t := &st.txn
		t.wroteBefore = t.wrote.Load() || len(st.sess.DirtyDatabases()) > 0
		autocommitStmt := !st.sess.GetIgnoreAutoCommit() && autocommit(st.sess)
		beginning := isBegin(query)
		var next *txlock.Txn
		if beginning && st.sess.GetTransaction() != nil {
			// BEGIN commits the open transaction and starts another, whose
			// snapshot comes after this point.
			next = h.txn.locks.Begin(c.ConnectionID)
		}

		err := h.takeStatementLocks(ctx, st, query, binds)
		if err == nil {
			err = exec(ctx, spool)
		}
		restart, abort := t.restart.Swap(false), t.abort.Swap(false)
		if restart && (sent || attempt >= maxAttempts) {
			restart, abort = false, true
			h.txn.conflicts.Add(1)
			err = txlock.ErrDeadlock()
		}
		if restart {
			h.txn.restarts.Add(1)
			if rerr := h.refreshSnapshot(ctx, st); rerr != nil {
				return mysqlError(rerr)
			}
			continue
		}
		if abort || txlock.IsDeadlock(mysqlError(err)) {
			if next != nil {
				next.End(false)
			}
			h.rollbackTxn(ctx, st)
			if autocommitStmt && !sent && attempt < maxAttempts {
				h.txn.retries.Add(1)
				continue
			}
			return mysqlError(err)
		}
		if next != nil {
			if err == nil {
				t.tx.End(true)
				t.tx = next
				t.wrote.Store(false)
			} else {
				next.End(false)
			}
		}
		h.finishStatement(ctx, st, query, err)
		return mysqlError(err)
	}
}

// takeStatementLocks takes the locks query needs before it runs. A stale
// lock in a transaction that has not written yet refreshes its snapshot.
func (h *handler) takeStatementLocks(ctx context.Context, st *connState, query string, binds map[string]*querypb.BindVariable) error {
	if isLockingSelect(query) {
		if handled, err := h.lockReadRows(ctx, st, query, binds); handled {
			return err
		}
	}
	locks := statementLocks(query, st.sess.GetCurrentDatabase())
	if len(locks) == 0 {
		return nil
	}
	t := &st.txn
	timeout := lockWaitTimeoutOf(st.sess)
	stale := false
	for _, l := range locks {
		err := t.tx.Lock(ctx, l.key, l.mode, timeout)
		switch {
		case err == nil:
		case errors.Is(err, txlock.ErrStale):
			if l.mode == txlock.S || l.mode == txlock.X {
				stale = true
			}
		case txlock.IsDeadlock(err):
			t.abort.Store(true)
			return err
		default:
			return err
		}
		if l.mode == txlock.X || l.mode == txlock.IX {
			t.wrote.Store(true)
		}
	}
	if !stale {
		return nil
	}
	if t.wroteBefore {
		h.txn.conflicts.Add(1)
		t.abort.Store(true)
		return txlock.ErrDeadlock()
	}
	return h.refreshSnapshot(ctx, st)
}

// refreshSnapshot discards the transaction's (unwritten) state and takes a
// new snapshot, keeping its locks. An explicit transaction stays open.
func (h *handler) refreshSnapshot(ctx context.Context, st *connState) error {
	st.txn.tx.Resnapshot()
	tx := st.sess.GetTransaction()
	if tx == nil {
		return nil
	}
	sqlCtx := h.ctxFactory(ctx, sql.WithSession(st.sess))
	if err := st.sess.Rollback(sqlCtx, tx); err != nil {
		return err
	}
	st.sess.SetTransaction(nil)
	if !st.sess.GetIgnoreAutoCommit() {
		return nil // autocommit: the next run starts a transaction
	}
	characteristic := sql.ReadWrite
	if tx.IsReadOnly() {
		characteristic = sql.ReadOnly
	}
	fresh, err := st.sess.StartTransaction(sqlCtx, characteristic)
	if err != nil {
		return err
	}
	st.sess.SetTransaction(fresh)
	return nil
}

// rollbackTxn rolls back the whole transaction after a lost conflict or a
// deadlock, as InnoDB does, and releases its locks.
func (h *handler) rollbackTxn(ctx context.Context, st *connState) {
	if tx := st.sess.GetTransaction(); tx != nil {
		sqlCtx := h.ctxFactory(ctx, sql.WithSession(st.sess))
		if err := st.sess.Rollback(sqlCtx, tx); err != nil {
			h.log.WithError(err).Warn("rolling back a transaction that lost a conflict")
		}
		st.sess.SetTransaction(nil)
	}
	st.sess.SetIgnoreAutoCommit(false)
	h.endTxn(st, false)
}

// finishStatement ends the transaction's hold on its locks when the
// statement ended it (COMMIT, ROLLBACK, an autocommit statement). An
// autocommit statement that failed can leave its transaction behind; it is
// rolled back so a failed statement changes nothing.
func (h *handler) finishStatement(ctx context.Context, st *connState, query string, err error) {
	if tx := st.sess.GetTransaction(); tx != nil {
		if st.sess.GetIgnoreAutoCommit() || !autocommit(st.sess) {
			return // the transaction is still open
		}
		sqlCtx := h.ctxFactory(ctx, sql.WithSession(st.sess))
		if rerr := st.sess.Rollback(sqlCtx, tx); rerr != nil {
			h.log.WithError(rerr).Warn("rolling back failed autocommit statement")
		}
		st.sess.SetTransaction(nil)
		h.endTxn(st, false)
		return
	}
	h.endTxn(st, err == nil && sqlext.FirstKeyword(query) != "ROLLBACK")
}

func (h *handler) endTxn(st *connState, committed bool) {
	if st == nil || st.txn.tx == nil {
		return
	}
	st.txn.tx.End(committed)
	st.txn.tx = nil
	st.txn.wrote.Store(false)
}

// after tells the ML layer the statement ended and applies the session's
// timeouts to the idle period that follows.
func (h *handler) after(c *mysql.Conn, stmtErr error) {
	if h.finished != nil {
		h.finished(c.ConnectionID, stmtErr)
	}
	st := h.sessions.get(c.ConnectionID)
	if tc := connTimeouts(c); tc != nil && st != nil {
		tc.setTimeouts(st.sess)
	}
}

func isLockingSelect(query string) bool {
	return sqlext.FirstKeyword(query) == "SELECT" && hasLockingClause(query)
}

func isBegin(query string) bool {
	kw := sqlext.FirstKeyword(query)
	return kw == "BEGIN" || kw == "START"
}
