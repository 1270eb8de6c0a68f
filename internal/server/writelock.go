package server

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	"github.com/sirupsen/logrus"

	"github.com/sibyldb/sibyldb/internal/sqlext"
	"github.com/sibyldb/sibyldb/internal/status"
)

// Why writes are serialised
//
// Dolt gives every transaction a snapshot and merges it into the branch head
// at commit. Two transactions that both run `UPDATE c SET v = v + 1` read the
// same v, write the same v+1, and the merge sees no conflict: one update is
// lost. InnoDB avoids this with row locks and locking reads. SibylDB gets the
// same outcome with one server-wide write lock: a session takes it before
// its first writing statement, re-reads its snapshot under the lock, and
// holds it until its transaction ends. Dolt's write path is serial anyway, so
// this costs no throughput; statements that only read never take the lock
// and never wait. A writer that cannot get the lock within
// innodb_lock_wait_timeout gets MySQL's error 1205, as with InnoDB.

// errLockWaitTimeout is MySQL's ER_LOCK_WAIT_TIMEOUT.
func errLockWaitTimeout() error {
	return mysql.NewSQLError(mysql.ERLockWaitTimeout, mysql.SSUnknownSQLState,
		"Lock wait timeout exceeded; try restarting transaction")
}

// writeLock is the server-wide lock that write transactions hold.
type writeLock struct {
	sem      chan struct{}
	waits    *status.Counter
	timeouts *status.Counter
}

func newWriteLock(reg *status.Registry) *writeLock {
	return &writeLock{
		sem:      make(chan struct{}, 1),
		waits:    reg.Counter("Sibyl_write_lock_waits"),
		timeouts: reg.Counter("Sibyl_write_lock_timeouts"),
	}
}

// acquire blocks until the lock is free, the timeout passes (error 1205)
// or ctx ends.
func (l *writeLock) acquire(ctx context.Context, timeout time.Duration) error {
	select {
	case l.sem <- struct{}{}:
		return nil
	default:
	}
	l.waits.Add(1)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case l.sem <- struct{}{}:
		return nil
	case <-t.C:
		l.timeouts.Add(1)
		return errLockWaitTimeout()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *writeLock) release() { <-l.sem }

// readOnlyKeywords are statements that never change stored data. Anything not
// listed (and any statement we cannot classify) is treated as a write: a
// needless lock costs concurrency, a missing one costs correctness.
var readOnlyKeywords = map[string]bool{
	"SHOW": true, "EXPLAIN": true, "DESCRIBE": true, "DESC": true, "USE": true,
	"BEGIN": true, "START": true, "COMMIT": true, "ROLLBACK": true, "SAVEPOINT": true,
	"RELEASE": true, "SET": true, "HELP": true, "TABLE": true, "VALUES": true,
	"PREPARE": true, "DEALLOCATE": true, "KILL": true, "DO": true, "FLUSH": true,
}

// isWrite classifies a statement for the write lock.
func isWrite(query string) bool {
	switch kw := sqlext.FirstKeyword(query); {
	case kw == "SELECT":
		return hasLockingClause(query)
	case kw == "WITH":
		// A CTE can front UPDATE or DELETE; only a full parse tells.
		st, err := ast.Parse(query)
		if err != nil {
			return true
		}
		switch st.(type) {
		case *ast.Select, *ast.SetOp:
			return hasLockingClause(query)
		}
		return true
	default:
		return !readOnlyKeywords[kw]
	}
}

// hasLockingClause reports SELECT ... FOR UPDATE / FOR SHARE / LOCK IN SHARE
// MODE, which must see the latest data and so are writes for our purposes.
// A match inside a string literal only costs an unneeded lock.
func hasLockingClause(query string) bool {
	q := strings.ToUpper(query)
	return strings.Contains(q, "FOR UPDATE") || strings.Contains(q, "FOR SHARE") || strings.Contains(q, "LOCK IN SHARE MODE")
}

// connState is what the write lock tracks per connection.
type connState struct {
	sess      *dsess.DoltSession
	holdsLock bool
}

// sessionTable maps connection ids to their sessions. The session builder
// adds entries; the connection's own handler goroutine is the only user of
// an entry afterwards, so entries need no lock of their own.
type sessionTable struct {
	mu    sync.Mutex
	conns map[uint32]*connState
}

func (t *sessionTable) put(id uint32, sess *dsess.DoltSession) *connState {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := &connState{sess: sess}
	if old, ok := t.conns[id]; ok {
		st.holdsLock = old.holdsLock
	}
	t.conns[id] = st
	return st
}

func (t *sessionTable) get(id uint32) *connState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conns[id]
}

func (t *sessionTable) remove(id uint32) *connState {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.conns[id]
	delete(t.conns, id)
	return st
}

// serializingHandler wraps GMS's protocol handler to take and release the
// write lock around statements (and to give errors MySQL's SQLSTATEs).
type serializingHandler struct {
	mysql.Handler
	lock       *writeLock
	sessions   *sessionTable
	ctxFactory sql.ContextFactory
	log        *logrus.Logger
	// finished is told when a connection's statement has ended.
	finished func(connID uint32)
}

func (h *serializingHandler) ComQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) error {
	if err := h.before(ctx, c, query); err != nil {
		return err
	}
	defer h.after(ctx, c)
	return mysqlError(h.Handler.ComQuery(ctx, c, query, cb))
}

// ComMultiQuery runs the first statement of query; vitess calls again with
// the remainder, so classifying the first statement is enough.
func (h *serializingHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (string, error) {
	if err := h.before(ctx, c, query); err != nil {
		return "", err
	}
	defer h.after(ctx, c)
	rest, err := h.Handler.ComMultiQuery(ctx, c, query, cb)
	return rest, mysqlError(err)
}

func (h *serializingHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, cb func(*sqltypes.Result) error) error {
	if err := h.before(ctx, c, prepare.PrepareStmt); err != nil {
		return err
	}
	defer h.after(ctx, c)
	return mysqlError(h.Handler.ComStmtExecute(ctx, c, prepare, cb))
}

func (h *serializingHandler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	fields, err := h.Handler.ComPrepare(ctx, c, query, prepare)
	return fields, mysqlError(err)
}

func (h *serializingHandler) ComResetConnection(c *mysql.Conn) error {
	// The session, and with it any open transaction, is discarded.
	h.releaseIfHeld(h.sessions.get(c.ConnectionID))
	return h.Handler.ComResetConnection(c)
}

func (h *serializingHandler) ConnectionClosed(c *mysql.Conn) {
	h.Handler.ConnectionClosed(c)
	if h.finished != nil {
		h.finished(c.ConnectionID)
	}
	h.releaseIfHeld(h.sessions.remove(c.ConnectionID))
}

func (h *serializingHandler) releaseIfHeld(st *connState) {
	if st != nil && st.holdsLock {
		st.holdsLock = false
		h.lock.release()
	}
}

// before takes the write lock for a writing statement. If the session is in
// a transaction that began before it held the lock, that transaction has
// only read (every write takes the lock first), so it is restarted on a
// fresh snapshot: the write then sees every commit made before it, as an
// InnoDB locking read would.
func (h *serializingHandler) before(ctx context.Context, c *mysql.Conn, query string) error {
	st := h.sessions.get(c.ConnectionID)
	if st == nil || st.holdsLock || !isWrite(query) {
		return nil
	}
	sqlCtx := h.ctxFactory(ctx, sql.WithSession(st.sess))
	if err := h.lock.acquire(ctx, lockWaitTimeout(sqlCtx)); err != nil {
		return err
	}
	st.holdsLock = true
	if tx := st.sess.GetTransaction(); tx != nil {
		characteristic := sql.ReadWrite
		if tx.IsReadOnly() {
			characteristic = sql.ReadOnly
		}
		fresh, err := st.sess.StartTransaction(sqlCtx, characteristic)
		if err != nil {
			h.releaseIfHeld(st)
			return err
		}
		st.sess.SetTransaction(fresh)
	}
	return nil
}

// after releases the lock once the session's transaction has ended. An
// autocommit statement that failed can leave its transaction behind; it is
// rolled back so a failed statement changes nothing.
func (h *serializingHandler) after(ctx context.Context, c *mysql.Conn) {
	if h.finished != nil {
		h.finished(c.ConnectionID)
	}
	st := h.sessions.get(c.ConnectionID)
	if st == nil || !st.holdsLock {
		return
	}
	tx := st.sess.GetTransaction()
	if tx != nil {
		sqlCtx := h.ctxFactory(ctx, sql.WithSession(st.sess))
		if st.sess.GetIgnoreAutoCommit() || !autocommit(sqlCtx) {
			return // explicit transaction still open
		}
		if err := st.sess.Rollback(sqlCtx, tx); err != nil {
			h.log.WithError(err).Warn("rolling back failed autocommit statement")
		}
		st.sess.SetTransaction(nil)
	}
	h.releaseIfHeld(st)
}

func lockWaitTimeout(ctx *sql.Context) time.Duration {
	v, err := ctx.GetSessionVariable(ctx, "innodb_lock_wait_timeout")
	if err != nil {
		return 50 * time.Second
	}
	switch n := v.(type) {
	case int64:
		return time.Duration(n) * time.Second
	case uint64:
		return time.Duration(n) * time.Second
	case int8:
		return time.Duration(n) * time.Second
	}
	return 50 * time.Second
}

func autocommit(ctx *sql.Context) bool {
	v, err := ctx.GetSessionVariable(ctx, sql.AutoCommitSessionVar)
	if err != nil {
		return true
	}
	on, err := sql.ConvertToBool(ctx, v)
	return err != nil || on
}
