package server

import (
	"crypto/tls"
	"net"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

// Connection timeouts, as MySQL applies them
//
// MySQL closes a connection that has sat idle between statements for
// wait_timeout seconds (interactive_timeout for clients that connect with
// CLIENT_INTERACTIVE, such as the mysql prompt; both 28800 by default), and
// applies net_read_timeout / net_write_timeout only to a packet that has
// started to arrive or is being sent. Vitess applies net_read_timeout to
// every read, idle or not, so a connection pool's idle connection died after
// 30 s and the pool's next use got error 2013. timeoutListener replaces
// that: each connection knows whether it is waiting for a command (idle) or
// inside one, and sets its read deadline from the matching variable.

// clientInteractive is MySQL's CLIENT_INTERACTIVE capability flag.
const clientInteractive = 1 << 10

// timeoutListener hands out timeoutConns.
type timeoutListener struct {
	net.Listener
}

func (l timeoutListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newTimeoutConn(c), nil
}

// timeoutConn applies wait_timeout while the server waits for the client's
// next command and net_read_timeout / net_write_timeout inside a packet.
// The server reads a command only after it has written the reply to the
// previous one, so a write marks the connection idle and the first bytes
// of a read mark it busy.
type timeoutConn struct {
	net.Conn

	mu    sync.Mutex
	idle  bool
	wait  time.Duration // wait_timeout (or interactive_timeout)
	read  time.Duration // net_read_timeout
	write time.Duration // net_write_timeout
}

func newTimeoutConn(c net.Conn) *timeoutConn {
	return &timeoutConn{
		Conn: c,
		// The handshake is read under the global values until the session
		// exists.
		wait:  globalSeconds("wait_timeout", 28800),
		read:  globalSeconds("net_read_timeout", 30),
		write: globalSeconds("net_write_timeout", 60),
	}
}

func (c *timeoutConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	d := c.read
	if c.idle {
		d = c.wait
	}
	c.mu.Unlock()
	if err := c.Conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		c.idle = false
		c.mu.Unlock()
	}
	return n, err
}

func (c *timeoutConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	d := c.write
	c.idle = true
	c.mu.Unlock()
	if err := c.Conn.SetWriteDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// setTimeouts takes the session's current values; the handler calls it
// after every statement, so SET SESSION wait_timeout applies to the idle
// period that follows, as in MySQL.
func (c *timeoutConn) setTimeouts(sess sql.Session) {
	wait := sessionSeconds(sess, "wait_timeout", c.wait)
	read := sessionSeconds(sess, "net_read_timeout", c.read)
	write := sessionSeconds(sess, "net_write_timeout", c.write)
	c.mu.Lock()
	c.wait, c.read, c.write = wait, read, write
	c.mu.Unlock()
}

// initInteractiveTimeout gives an interactive client's session the global
// interactive_timeout as its wait_timeout, as MySQL does at connect.
func initInteractiveTimeout(sess sql.Session, capabilities uint32) {
	if capabilities&clientInteractive == 0 {
		return
	}
	if _, v, ok := sql.SystemVariables.GetGlobal("interactive_timeout"); ok {
		_ = sess.SetSessionVariable(nil, "wait_timeout", v)
	}
}

func globalSeconds(name string, def int64) time.Duration {
	if _, v, ok := sql.SystemVariables.GetGlobal(name); ok {
		if n, ok := toInt64(v); ok && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return time.Duration(def) * time.Second
}

func sessionSeconds(sess sql.Session, name string, def time.Duration) time.Duration {
	v, err := sess.GetSessionVariable(nil, name)
	if err != nil {
		return def
	}
	if n, ok := toInt64(v); ok && n > 0 {
		return time.Duration(n) * time.Second
	}
	return def
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int:
		return int64(n), true
	case uint64:
		return int64(n), true
	case int8:
		return int64(n), true
	}
	return 0, false
}

// connTimeouts finds the timeoutConn under c, TLS or not.
func connTimeouts(c *mysql.Conn) *timeoutConn {
	nc := c.Conn
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	tc, _ := nc.(*timeoutConn)
	return tc
}
