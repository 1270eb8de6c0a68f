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
// next packet and net_read_timeout / net_write_timeout inside a packet. It
// follows the client's packet framing to know which: MySQL packets, and
// TLS records once the client has asked for TLS (a TLS connection is
// judged by record boundaries, the finest it can see). Some commands get
// no reply (COM_STMT_CLOSE), so "the server has answered" would not do.
type timeoutConn struct {
	net.Conn

	mu    sync.Mutex
	frame framer
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
	if c.frame.idle() {
		d = c.wait
	}
	c.mu.Unlock()
	if err := c.Conn.SetReadDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.mu.Lock()
		c.frame.feed(b[:n])
		c.mu.Unlock()
	}
	return n, err
}

func (c *timeoutConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	d := c.write
	c.mu.Unlock()
	if err := c.Conn.SetWriteDeadline(time.Now().Add(d)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// framer follows the packet framing of the bytes a client sends.
type framer struct {
	tls       bool
	packets   int // plain packets completed
	hdr       [5]byte
	hdrN      int
	length    int // payload length of the current packet or record
	remaining int // payload bytes still to come
}

// idle reports a boundary between packets after the handshake's first
// packet: the client owes nothing.
func (f *framer) idle() bool {
	return (f.packets > 0 || f.tls) && f.hdrN == 0 && f.remaining == 0
}

func (f *framer) feed(b []byte) {
	for len(b) > 0 {
		if f.remaining > 0 {
			n := min(f.remaining, len(b))
			f.remaining -= n
			b = b[n:]
			if f.remaining == 0 {
				f.done()
			}
			continue
		}
		hlen := 4
		if f.tls {
			hlen = 5 // content type, version, length
		}
		n := copy(f.hdr[f.hdrN:hlen], b)
		f.hdrN += n
		b = b[n:]
		if f.hdrN < hlen {
			return
		}
		f.hdrN = 0
		if f.tls {
			f.length = int(f.hdr[3])<<8 | int(f.hdr[4])
		} else {
			f.length = int(f.hdr[0]) | int(f.hdr[1])<<8 | int(f.hdr[2])<<16
		}
		f.remaining = f.length
		if f.remaining == 0 {
			f.done()
		}
	}
}

// sslRequestLength is the payload length of the SSL request packet, the
// client's first packet when it asks for TLS (a handshake response is
// longer: it carries at least a user name's terminator too).
const sslRequestLength = 32

func (f *framer) done() {
	if f.tls {
		return
	}
	f.packets++
	if f.packets == 1 && f.length == sslRequestLength {
		f.tls = true
	}
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
