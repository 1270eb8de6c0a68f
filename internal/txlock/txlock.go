// Package txlock is SibylDB's lock manager: multi-granularity locks on
// databases, tables and rows, held by transactions until they end, with
// wait-for-graph deadlock detection and InnoDB's error codes.
//
// # Concurrency control
//
// Dolt gives every transaction a snapshot (the database roots when it
// began) and merges the transaction's changes into the branch head when it
// commits. The merge reports a conflict only when both sides set a cell to
// different values, so two `UPDATE c SET v = v + 1` from one snapshot merge
// silently and one increment is lost. SibylDB closes that gap with
// snapshot isolation plus row locks and a first-committer-wins check done
// at lock time:
//
//   - Every row a transaction inserts, updates or deletes is locked
//     exclusively (X) by its primary key, together with the values of its
//     UNIQUE keys, before the write; the table and the database get
//     intention locks (IX). Locks are held until the transaction ends.
//     SELECT ... FOR UPDATE locks X and LOCK IN SHARE MODE locks S: the
//     rows it selects, by primary key, when it reads one table with a
//     primary key; otherwise the tables it reads.
//   - Each lock remembers the commit sequence number of the last
//     transaction that committed while holding it in X or IX, and each
//     transaction remembers the sequence number current when its snapshot
//     was taken. A lock granted to a transaction whose snapshot is older
//     than the lock's last commit means the transaction would write (or
//     lock-read) a row it cannot see the latest version of: it is stale.
//     A statement that meets a stale lock in a transaction that has not
//     written yet is restarted on a fresh snapshot, keeping its locks, so
//     `BEGIN; SELECT ... FOR UPDATE; UPDATE ...` and autocommit updates
//     see the latest committed row, as InnoDB's locking reads do. A
//     transaction that already wrote gets error 1213 and is rolled back
//     (first committer wins), as in PostgreSQL's REPEATABLE READ.
//   - Waits end in 1205 after innodb_lock_wait_timeout; a wait that would
//     close a cycle in the wait-for graph fails at once with 1213.
//
// Anomalies prevented: dirty reads, non-repeatable reads and phantoms
// within a transaction's plain reads (snapshot), lost updates, and
// duplicate unique keys from racing inserts. Allowed: write skew between
// transactions that read overlapping data but write disjoint rows without
// locking reads (snapshot isolation's anomaly); use SELECT ... FOR UPDATE
// to serialise such transactions. A row-level locking read does not lock
// rows that start to match later (no gap locks). Plain reads after a
// restart see the newer snapshot, and a transaction whose statement was
// restarted may see rows committed after its first statement.
//
// Writers that do not come through a client connection (the event
// scheduler, the audit log, catalog updates) take no locks; their commits
// merge into the branch as Dolt's do.
//
// At commit, the row locks are what lets package txrebase replay a
// transaction's row edits onto a moved branch head instead of Dolt's
// three-way merge: no other client transaction can have changed a row this
// one wrote. txrebase still checks every key and leaves anything else to
// the merge.
//
// DDL locks its database exclusively (X): it waits for every open
// transaction that has written to that database, and writers of that
// database wait for it. LOAD DATA's bulk path locks its table X.
package txlock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"
)

// Mode is a lock mode.
type Mode uint8

const (
	// IS and IX are intention locks on a database or table: the holder
	// locks rows (or tables) inside it in S or X.
	IS Mode = iota + 1
	IX
	// S is a shared lock.
	S
	// X is an exclusive lock.
	X
)

func (m Mode) String() string {
	return [...]string{"", "IS", "IX", "S", "X"}[m]
}

// compatible is the standard multi-granularity compatibility matrix.
func compatible(a, b Mode) bool {
	switch a {
	case IS:
		return b != X
	case IX:
		return b == IS || b == IX
	case S:
		return b == IS || b == S
	}
	return false
}

// covers reports whether holding a makes a request for b a no-op.
func covers(a, b Mode) bool {
	if a == b || a == X {
		return true
	}
	return (a == IX || a == S) && b == IS
}

// join is the weakest mode that covers both a and b (S+IX, InnoDB's SIX,
// is taken as X).
func join(a, b Mode) Mode {
	switch {
	case a == 0:
		return b
	case covers(a, b):
		return a
	case covers(b, a):
		return b
	}
	return X
}

// Key names a lockable object.
type Key string

// DatabaseKey, TableKey and RowKey build the keys of the three levels.
// Names are case-folded by the caller (MySQL's identifiers are).
func DatabaseKey(db string) Key        { return Key(db) }
func TableKey(db, table string) Key    { return Key(db + "\x00" + table) }
func RowKey(table Key, row string) Key { return Key(string(table) + "\x00" + row) }
func IndexKey(table Key, index, values string) Key {
	return Key(string(table) + "\x01" + index + "\x00" + values)
}

// Errors.
var (
	// ErrStale is returned (with the lock granted) when the lock's object
	// was changed by a transaction that committed after the caller's
	// snapshot was taken.
	ErrStale = errors.New("txlock: snapshot older than the last commit under this lock")
)

// ErrDeadlock is MySQL's ER_LOCK_DEADLOCK, used both for wait-for cycles
// and for transactions that lose a write conflict.
func ErrDeadlock() error {
	return mysql.NewSQLError(mysql.ERLockDeadlock, "40001", "Deadlock found when trying to get lock; try restarting transaction")
}

// ErrLockWaitTimeout is MySQL's ER_LOCK_WAIT_TIMEOUT.
func ErrLockWaitTimeout() error {
	return mysql.NewSQLError(mysql.ERLockWaitTimeout, mysql.SSUnknownSQLState, "Lock wait timeout exceeded; try restarting transaction")
}

// IsDeadlock reports MySQL's 1213.
func IsDeadlock(err error) bool {
	var se *mysql.SQLError
	return errors.As(err, &se) && se.Num == mysql.ERLockDeadlock
}

// Counters are the manager's statistics, published as Sibyl_* status
// variables.
type Counters interface {
	LockWait()
	LockTimeout()
	Deadlock()
}

type noCounters struct{}

func (noCounters) LockWait()    {}
func (noCounters) LockTimeout() {}
func (noCounters) Deadlock()    {}

// Manager grants locks.
type Manager struct {
	counters Counters

	mu     sync.Mutex
	locks  map[Key]*entry
	seq    uint64 // commit sequence; guarded by mu
	active map[*Txn]struct{}
	nextID uint64
	// sweepAt is the entry count at which End sweeps: entries of committed
	// rows stay while an older snapshot is open, and are dropped later.
	sweepAt int
}

type entry struct {
	key     Key
	holders map[*Txn]Mode
	waiters []*waiter
	// lastCommit is the sequence number of the last transaction that
	// committed while holding this lock in IX or X.
	lastCommit uint64
}

type waiter struct {
	tx    *Txn
	mode  Mode
	ready chan struct{} // closed when granted
}

// NewManager returns a manager reporting to c (which may be nil).
func NewManager(c Counters) *Manager {
	if c == nil {
		c = noCounters{}
	}
	return &Manager{counters: c, locks: map[Key]*entry{}, active: map[*Txn]struct{}{}, sweepAt: minSweep}
}

// Txn is one transaction's view of the lock manager. A Txn is used by one
// goroutine at a time (its connection's), but Waiting may be read by others.
type Txn struct {
	m        *Manager
	id       uint64
	owner    uint32
	snapshot uint64
	held     map[Key]Mode

	// waitingFor is the entry the transaction waits on; guarded by m.mu.
	waitingFor *entry
	waitKey    Key
}

// Begin starts a lock-holding transaction for owner (a connection id)
// whose snapshot is taken after this call (so that every commit it cannot
// see has a sequence number above its own).
func (m *Manager) Begin(owner uint32) *Txn {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	tx := &Txn{m: m, id: m.nextID, owner: owner, snapshot: m.seq, held: map[Key]Mode{}}
	m.active[tx] = struct{}{}
	return tx
}

// Resnapshot records that the transaction's snapshot is being taken again
// now (the statement is restarted on a fresh snapshot); its locks stay.
func (tx *Txn) Resnapshot() {
	tx.m.mu.Lock()
	tx.snapshot = tx.m.seq
	tx.m.mu.Unlock()
}

// Waiting returns, for each owner whose transaction waits for a lock, the
// key it waits for.
func (m *Manager) Waiting() map[uint32]Key {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[uint32]Key{}
	for t := range m.active {
		if t.waitingFor != nil {
			out[t.owner] = t.waitKey
		}
	}
	return out
}

// Holds reports whether the transaction holds any lock.
func (tx *Txn) Holds() bool {
	tx.m.mu.Lock()
	defer tx.m.mu.Unlock()
	return len(tx.held) > 0
}

// Waiting returns the key the transaction waits for, if any.
func (tx *Txn) Waiting() (Key, bool) {
	tx.m.mu.Lock()
	defer tx.m.mu.Unlock()
	return tx.waitKey, tx.waitingFor != nil
}

// Lock acquires key in mode, waiting up to timeout. It returns ErrStale
// with the lock granted when the object changed after the transaction's
// snapshot, ErrDeadlock when waiting would deadlock, ErrLockWaitTimeout
// after timeout, or ctx's error.
func (tx *Txn) Lock(ctx context.Context, key Key, mode Mode, timeout time.Duration) error {
	m := tx.m
	m.mu.Lock()
	e := m.locks[key]
	if e == nil {
		e = &entry{key: key, holders: map[*Txn]Mode{}}
		m.locks[key] = e
	}
	held := e.holders[tx]
	if held != 0 && covers(held, mode) {
		m.mu.Unlock()
		return nil
	}
	want := join(held, mode)
	if e.grantable(tx, want, held != 0) {
		e.holders[tx] = want
		tx.held[key] = want
		stale := e.lastCommit > tx.snapshot
		m.mu.Unlock()
		if stale {
			return ErrStale
		}
		return nil
	}
	w := &waiter{tx: tx, mode: want, ready: make(chan struct{})}
	if held != 0 {
		// An upgrade goes ahead of other waiters, as in InnoDB.
		e.waiters = append([]*waiter{w}, e.waiters...)
	} else {
		e.waiters = append(e.waiters, w)
	}
	tx.waitingFor, tx.waitKey = e, key
	if m.deadlocked(tx) {
		e.removeWaiter(w)
		tx.waitingFor, tx.waitKey = nil, ""
		m.gc(key, e)
		m.mu.Unlock()
		m.counters.Deadlock()
		return ErrDeadlock()
	}
	m.mu.Unlock()
	m.counters.LockWait()

	t := time.NewTimer(timeout)
	defer t.Stop()
	var err error
	select {
	case <-w.ready:
	case <-t.C:
		err = ErrLockWaitTimeout()
	case <-ctx.Done():
		err = ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	tx.waitingFor, tx.waitKey = nil, ""
	select {
	case <-w.ready:
		err = nil // granted while we gave up: keep it
	default:
	}
	if err != nil {
		e.removeWaiter(w)
		m.grantWaiters(e)
		m.gc(key, e)
		if _, ok := err.(*mysql.SQLError); ok {
			m.counters.LockTimeout()
		}
		return err
	}
	if e.lastCommit > tx.snapshot {
		return ErrStale
	}
	return nil
}

// grantable reports whether tx may hold mode now: compatible with every
// other holder and, unless it is an upgrade, with no one queued ahead.
func (e *entry) grantable(tx *Txn, mode Mode, upgrade bool) bool {
	for h, hm := range e.holders {
		if h != tx && !compatible(mode, hm) {
			return false
		}
	}
	return upgrade || len(e.waiters) == 0
}

func (e *entry) removeWaiter(w *waiter) {
	for i, x := range e.waiters {
		if x == w {
			e.waiters = append(e.waiters[:i], e.waiters[i+1:]...)
			return
		}
	}
}

// grantWaiters grants queued requests in order while they fit.
func (m *Manager) grantWaiters(e *entry) {
	for len(e.waiters) > 0 {
		w := e.waiters[0]
		ok := true
		for h, hm := range e.holders {
			if h != w.tx && !compatible(w.mode, hm) {
				ok = false
				break
			}
		}
		if !ok {
			return
		}
		e.waiters = e.waiters[1:]
		e.holders[w.tx] = w.mode
		w.tx.held[e.key] = w.mode
		close(w.ready)
	}
}

// deadlocked reports whether tx, now queued, waits (transitively) for
// itself. Called with m.mu held.
func (m *Manager) deadlocked(tx *Txn) bool {
	seen := map[*Txn]bool{}
	var visit func(t *Txn) bool
	visit = func(t *Txn) bool {
		e := t.waitingFor
		if e == nil {
			return false
		}
		for _, b := range e.blockers(t) {
			if b == tx {
				return true
			}
			if !seen[b] {
				seen[b] = true
				if visit(b) {
					return true
				}
			}
		}
		return false
	}
	return visit(tx)
}

// blockers are the transactions t's queued request on e waits for: the
// incompatible holders and the incompatible requests queued ahead of it.
func (e *entry) blockers(t *Txn) []*Txn {
	var mode Mode
	pos := -1
	for i, w := range e.waiters {
		if w.tx == t {
			mode, pos = w.mode, i
			break
		}
	}
	if pos < 0 {
		return nil
	}
	var out []*Txn
	for h, hm := range e.holders {
		if h != t && !compatible(mode, hm) {
			out = append(out, h)
		}
	}
	for _, w := range e.waiters[:pos] {
		if w.tx != t && !compatible(mode, w.mode) {
			out = append(out, w.tx)
		}
	}
	return out
}

// End releases every lock of the transaction. When committed, locks held
// in IX or X record the commit's sequence number, so transactions with
// older snapshots find them stale.
func (tx *Txn) End(committed bool) {
	m := tx.m
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.active, tx)
	var seq uint64
	if committed {
		for _, mode := range tx.held {
			if mode == X || mode == IX {
				m.seq++
				seq = m.seq
				break
			}
		}
	}
	for key, mode := range tx.held {
		e := m.locks[key]
		if e == nil {
			continue
		}
		if seq != 0 && (mode == X || mode == IX) {
			e.lastCommit = seq
		}
		delete(e.holders, tx)
		m.grantWaiters(e)
		m.gc(key, e)
	}
	tx.held = map[Key]Mode{}
	if len(m.locks) >= m.sweepAt {
		m.sweep()
		m.sweepAt = 2*len(m.locks) + minSweep
	}
}

// minSweep is the entry count below which End never sweeps.
const minSweep = 4096

// gc drops an entry nobody holds or waits for once no active transaction's
// snapshot is older than its last commit. Called with m.mu held.
func (m *Manager) gc(key Key, e *entry) {
	if len(e.holders) > 0 || len(e.waiters) > 0 {
		return
	}
	if e.lastCommit > m.oldestSnapshot() {
		return
	}
	delete(m.locks, key)
}

func (m *Manager) oldestSnapshot() uint64 {
	oldest := m.seq
	for t := range m.active {
		if t.snapshot < oldest {
			oldest = t.snapshot
		}
	}
	return oldest
}

// Sweep drops entries no snapshot can find stale any more. End sweeps
// whenever the table has doubled since the last sweep, so entries of rows
// committed while a long transaction was open do not pile up.
func (m *Manager) Sweep() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
}

func (m *Manager) sweep() {
	oldest := m.oldestSnapshot()
	for k, e := range m.locks {
		if len(e.holders) == 0 && len(e.waiters) == 0 && e.lastCommit <= oldest {
			delete(m.locks, k)
		}
	}
}

// Len is the number of lock entries kept, for tests and monitoring.
func (m *Manager) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.locks)
}

// Describe renders a key for humans (PROCESSLIST).
func Describe(k Key) string {
	parts := splitKey(string(k))
	switch len(parts) {
	case 1:
		return fmt.Sprintf("database %s", parts[0])
	case 2:
		return fmt.Sprintf("table %s.%s", parts[0], parts[1])
	}
	return fmt.Sprintf("row of %s.%s", parts[0], parts[1])
}

func splitKey(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s) && len(out) < 2; i++ {
		if s[i] == 0 || s[i] == 1 {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
