package server

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

// connGate is MySQL's admission control for client connections, which the
// vitess listener gets wrong in two ways: it counts a connection against
// max_connections from accept, before the handshake, so sockets that never
// speak fill every slot (root included) until net_read_timeout; and it has
// no connection reserved for administrators.
//
// connGate instead
//   - closes a connection that has not authenticated within connect_timeout
//     (MySQL's default 10 s; a global variable read at each accept);
//   - counts only authenticated connections against max_connections (read
//     at each login, so SET GLOBAL takes effect at once), answering 1040
//     "Too many connections" beyond it;
//   - keeps one more connection for an account with CONNECTION_ADMIN or
//     SUPER, as mysqld permits max_connections + 1.
//
// Unauthenticated connections are bounded by time, not by number: each
// costs a socket and a goroutine for at most connect_timeout.
type connGate struct {
	net.Listener

	mu sync.Mutex
	// pending are the connections still in the handshake, by remote
	// address (unique among open TCP connections; it survives the TLS
	// upgrade, which replaces the net.Conn vitess holds).
	pending map[string]*pendingConn
	// admitted are the authenticated connections, by connection id.
	admitted map[uint32]bool
}

func newConnGate(l net.Listener) *connGate {
	return &connGate{Listener: l, pending: map[string]*pendingConn{}, admitted: map[uint32]bool{}}
}

// pendingConn is a connection in its handshake. The net.Conn itself is
// handed to vitess unwrapped: go-mysql-server looks for the *net.TCPConn
// to notice clients that disconnect during a query.
type pendingConn struct {
	conn  net.Conn
	key   string
	timer *time.Timer
}

// Accept implements net.Listener. Running out of file descriptors is a
// temporary condition (the connect timeout frees them): vitess stops
// accepting for good on any Accept error, so Accept waits and retries
// instead.
func (g *connGate) Accept() (net.Conn, error) {
	backoff := 5 * time.Millisecond
	for {
		c, err := g.Listener.Accept()
		if err == nil {
			g.track(c)
			return c, nil
		}
		if errors.Is(err, net.ErrClosed) || !isTemporary(err) {
			return nil, err
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, time.Second)
	}
}

// isTemporary reports accept errors that pass (EMFILE, ENFILE,
// ECONNABORTED); net.Error.Temporary is deprecated but is still what the
// standard library's own http.Server uses for this.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (g *connGate) track(c net.Conn) {
	p := &pendingConn{conn: c, key: c.RemoteAddr().String()}
	g.mu.Lock()
	g.pending[p.key] = p
	// Under the lock, so untrack never sees a nil timer.
	p.timer = time.AfterFunc(connectTimeout(), func() {
		if g.untrack(p.key) != nil {
			// Still in the handshake: vitess's read fails and it
			// ends the connection.
			_ = c.Close()
		}
	})
	g.mu.Unlock()
}

// untrack removes the pending connection from remote address key, if
// any: whichever of the timer, the login and the close gets there first
// wins. vitess tells the handler a connection closed before it closes the
// socket, so the address is not yet reused by another connection.
func (g *connGate) untrack(key string) *pendingConn {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.pending[key]
	if p != nil {
		delete(g.pending, key)
		p.timer.Stop()
	}
	return p
}

// authenticated ends c's connect timeout. It reports false if the timeout
// already closed the connection.
func (g *connGate) authenticated(c *mysql.Conn) bool {
	return g.untrack(c.RemoteAddr().String()) != nil
}

// errTooManyConnections is MySQL's ER_CON_COUNT_ERROR.
func errTooManyConnections() error {
	return mysql.NewSQLError(mysql.ERConCount, "08004", "Too many connections")
}

// admit counts connection id against max_connections; admin may use the
// one connection beyond it.
func (g *connGate) admit(id uint32, admin bool) error {
	limit := maxConnections()
	g.mu.Lock()
	defer g.mu.Unlock()
	n := len(g.admitted)
	if n >= limit && !(admin && n < limit+1) {
		return errTooManyConnections()
	}
	g.admitted[id] = true
	return nil
}

// closed forgets connection c: its handshake timer and its slot.
func (g *connGate) closed(c *mysql.Conn) {
	g.untrack(c.RemoteAddr().String())
	g.mu.Lock()
	delete(g.admitted, c.ConnectionID)
	g.mu.Unlock()
}

func connectTimeout() time.Duration {
	if _, v, ok := sql.SystemVariables.GetGlobal("connect_timeout"); ok {
		if n, ok := v.(int64); ok && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return 10 * time.Second
}

func maxConnections() int {
	if _, v, ok := sql.SystemVariables.GetGlobal("max_connections"); ok {
		if n, ok := v.(int64); ok && n > 0 {
			return int(n)
		}
	}
	return 151
}

// admitConnection ends c's handshake timeout and counts it against
// max_connections once its session exists (the privilege check needs it).
func (h *handler) admitConnection(c *mysql.Conn) error {
	if h.gate == nil {
		return nil
	}
	admin := false
	if st := h.sessions.get(c.ConnectionID); st != nil && h.isAdmin != nil {
		admin = h.isAdmin(h.ctxFactory(context.Background(), sql.WithSession(st.sess)))
	}
	return h.gate.admit(c.ConnectionID, admin)
}
