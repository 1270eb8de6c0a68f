package server

import (
	"context"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

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
