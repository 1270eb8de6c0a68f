package server

import (
	"context"
	"errors"
	"sync"

	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/sirupsen/logrus"
)

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

// handler wraps GMS's protocol handler around every statement: it takes
// and releases the write lock, gives errors MySQL's codes and SQLSTATEs, and
// tells the ML layer when a statement has finished.
type handler struct {
	mysql.Handler
	lock       *writeLock
	sessions   *sessionTable
	ctxFactory sql.ContextFactory
	log        *logrus.Logger
	// finished is told when a connection's statement has ended, and how:
	// err is the statement's error (nil when it succeeded).
	finished func(connID uint32, err error)
	// tlsAvailable is set when the server has a certificate, so
	// require_secure_transport can be honoured.
	tlsAvailable bool
}

// errConnectionClosed is the outcome of a statement its connection's end
// cut short.
var errConnectionClosed = errors.New("connection closed before the statement finished")

// ConnectionAuthenticated refuses connections without TLS while
// require_secure_transport is ON, with MySQL's ER_SECURE_TRANSPORT_REQUIRED.
func (h *handler) ConnectionAuthenticated(c *mysql.Conn) error {
	if _, v, ok := sql.SystemVariables.GetGlobal("require_secure_transport"); ok && h.tlsAvailable && !c.TLSEnabled() {
		if on, _ := v.(int8); on != 0 {
			return mysql.NewSQLError(3159, "HY000", "Connections using insecure transport are prohibited while --require_secure_transport=ON.")
		}
	}
	return h.Handler.ConnectionAuthenticated(c)
}

func (h *handler) ComQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (err error) {
	if err := h.before(ctx, c, query); err != nil {
		return err
	}
	defer func() { h.after(ctx, c, err) }()
	return mysqlError(h.Handler.ComQuery(ctx, c, query, cb))
}

// ComMultiQuery runs the first statement of query; vitess calls again with
// the remainder, so classifying the first statement is enough.
func (h *handler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, cb mysql.ResultSpoolFn) (rest string, err error) {
	if err := h.before(ctx, c, query); err != nil {
		return "", err
	}
	defer func() { h.after(ctx, c, err) }()
	rest, err = h.Handler.ComMultiQuery(ctx, c, query, cb)
	return rest, mysqlError(err)
}

func (h *handler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, cb func(*sqltypes.Result) error) (err error) {
	if err := h.before(ctx, c, prepare.PrepareStmt); err != nil {
		return err
	}
	defer func() { h.after(ctx, c, err) }()
	return mysqlError(h.Handler.ComStmtExecute(ctx, c, prepare, cb))
}

func (h *handler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	fields, err := h.Handler.ComPrepare(ctx, c, query, prepare)
	return fields, mysqlError(err)
}

func (h *handler) ComResetConnection(c *mysql.Conn) error {
	// The session, and with it any open transaction, is discarded.
	h.releaseIfHeld(h.sessions.get(c.ConnectionID))
	return h.Handler.ComResetConnection(c)
}

func (h *handler) ConnectionClosed(c *mysql.Conn) {
	h.Handler.ConnectionClosed(c)
	if h.finished != nil {
		h.finished(c.ConnectionID, errConnectionClosed)
	}
	h.releaseIfHeld(h.sessions.remove(c.ConnectionID))
}

func (h *handler) releaseIfHeld(st *connState) {
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
func (h *handler) before(ctx context.Context, c *mysql.Conn, query string) error {
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
func (h *handler) after(ctx context.Context, c *mysql.Conn, stmtErr error) {
	if h.finished != nil {
		h.finished(c.ConnectionID, stmtErr)
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
