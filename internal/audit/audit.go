// Package audit keeps the ML audit log: one row in sibyl.ml_audit_log for
// every statement that sent data to a model endpoint, with who sent what,
// where, how much and how it ended.
//
// Rows are written by one background writer in transactions of its own, so
// a statement that fails (and rolls back) is still audited, and the
// statement itself never waits for the log. The table keeps the newest
// sibyl_ml_audit_log_size rows. Reading it takes SELECT on the sibyl
// database, which only administrators have unless granted.
package audit

import (
	"context"

	"fmt"
	"sync"
	"time"

	gms "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/sirupsen/logrus"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/recovered"
	"github.com/sibyldb/sibyldb/internal/status"
)

// Table is the audit table's name in the system database.
const Table = "ml_audit_log"

// VarSize bounds the rows the table keeps.
const VarSize = "sibyl_ml_audit_log_size"

// SystemVariables are the variables the audit log reads.
func SystemVariables() []sql.SystemVariable {
	return []sql.SystemVariable{&sql.MysqlSystemVariable{Name: VarSize,
		Scope: sql.GetMysqlScope(sql.SystemVariableScope_Global), Dynamic: true,
		Type: types.NewSystemIntType(VarSize, 1, 1<<40, false), Default: int64(100000)}}
}

// Log writes audit records to the table.
type Log struct {
	engine  *gms.Engine
	newCtx  func(context.Context) (*sql.Context, error)
	log     *logrus.Logger
	records chan mlfunc.AuditRecord
	dropped *status.Counter
	lastID  int64
	done    chan struct{}
	once    sync.Once
	// mu orders Record's send before Close's close of records: a
	// statement may finish while the server shuts down.
	mu     sync.RWMutex
	closed bool
}

// Open creates the table if needed and starts the writer. newCtx makes the
// writer's own sessions.
func Open(ctx *sql.Context, engine *gms.Engine, newCtx func(context.Context) (*sql.Context, error), reg *status.Registry, log *logrus.Logger) (*Log, error) {
	q := "CREATE TABLE IF NOT EXISTS " + catalog.Database + "." + Table + ` (
		id BIGINT NOT NULL PRIMARY KEY,
		event_time DATETIME(6) NOT NULL,
		user VARCHAR(80) NOT NULL,
		host VARCHAR(255) NOT NULL,
		function_name VARCHAR(200) NOT NULL,
		endpoint VARCHAR(255) NOT NULL,
		rows_sent BIGINT NOT NULL,
		requests BIGINT NOT NULL,
		bytes_sent BIGINT NOT NULL,
		duration_ms DOUBLE NOT NULL,
		outcome VARCHAR(1024) NOT NULL)`
	if err := catalog.Exec(ctx, engine, q); err != nil {
		return nil, fmt.Errorf("create audit table: %w", err)
	}
	l := &Log{engine: engine, newCtx: newCtx, log: log, records: make(chan mlfunc.AuditRecord, 4096),
		dropped: reg.Counter("Sibyl_ml_audit_dropped"), done: make(chan struct{})}
	go l.run()
	return l, nil
}

// Record queues a record; it never blocks. A record that does not fit in
// the queue is counted in Sibyl_ml_audit_dropped.
func (l *Log) Record(r mlfunc.AuditRecord) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		l.dropped.Add(1)
		return
	}
	select {
	case l.records <- r:
	default:
		l.dropped.Add(1)
	}
}

// Close writes what is queued and stops the writer.
func (l *Log) Close() {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		close(l.records)
		l.mu.Unlock()
	})
	<-l.done
}

// batchWindow is how long the writer gathers records after the first of a
// batch. Each batch is a transaction with its own fsync on the system
// database, so writing whatever was queued at once made a busy server (one
// record per statement that called a model) commit the log a hundred times
// a second beside the user's own commits.
const batchWindow = 50 * time.Millisecond

func (l *Log) run() {
	defer close(l.done)
	for r := range l.records {
		batch := []mlfunc.AuditRecord{r}
		window := time.NewTimer(batchWindow)
	more:
		for len(batch) < 256 {
			select {
			case r, ok := <-l.records:
				if !ok {
					break more
				}
				batch = append(batch, r)
			case <-window.C:
				break more
			}
		}
		window.Stop()
		if err := l.write(batch); err != nil {
			l.dropped.Add(uint64(len(batch)))
			l.log.WithError(err).Warn("writing the ML audit log")
		}
	}
}

// write stores batch in one transaction. A panic fails the batch (counted
// as dropped) instead of ending the server.
func (l *Log) write(batch []mlfunc.AuditRecord) (err error) {
	defer recovered.Capture(&err)
	ctx, err := l.newCtx(context.Background())
	if err != nil {
		return err
	}
	defer sql.SessionEnd(ctx.Session)
	if err := catalog.Exec(ctx, l.engine, "START TRANSACTION"); err != nil {
		return err
	}
	if err := l.insert(ctx, batch); err != nil {
		_ = catalog.Exec(ctx, l.engine, "ROLLBACK")
		return err
	}
	if err := l.trim(ctx); err != nil {
		_ = catalog.Exec(ctx, l.engine, "ROLLBACK")
		return err
	}
	return catalog.Exec(ctx, l.engine, "COMMIT")
}

func (l *Log) insert(ctx *sql.Context, batch []mlfunc.AuditRecord) error {
	rows := make([]sql.Row, len(batch))
	for i, r := range batch {
		// Ids are the record's time in nanoseconds, kept increasing by the
		// single writer, so the newest rows have the largest ids.
		id := r.Time.UnixNano()
		if id <= l.lastID {
			id = l.lastID + 1
		}
		l.lastID = id
		rows[i] = sql.NewRow(id, r.Time.UTC(), trunc(r.User, 80), trunc(r.Host, 255), trunc(r.Function, 200),
			trunc(r.Endpoint, 255), r.Rows, r.Requests, r.Bytes, float64(r.Duration.Microseconds())/1000, trunc(r.Outcome, 1024))
	}
	return catalog.InsertRows(ctx, l.engine, Table, rows)
}

// trim deletes the oldest rows beyond sibyl_ml_audit_log_size. It runs
// after every batch, so it must cost little when the table is within the
// bound and when it is over by a few rows: COUNT(*) is answered from the
// primary index's tree counts, the oldest id to keep is found by walking
// the primary key from its start, and the delete is a primary-key range.
func (l *Log) trim(ctx *sql.Context) error {
	_, v, _ := sql.SystemVariables.GetGlobal(VarSize)
	keep, _ := v.(int64)
	if keep <= 0 {
		return nil
	}
	table := catalog.Database + "." + Table
	n, _, err := catalog.QueryInt(ctx, l.engine, "SELECT COUNT(*) FROM "+table)
	if err != nil || n <= keep {
		return err
	}
	last, ok, err := catalog.QueryInt(ctx, l.engine, fmt.Sprintf("SELECT id FROM %s ORDER BY id LIMIT 1 OFFSET %d", table, n-keep-1))
	if err != nil || !ok {
		return err
	}
	return catalog.Exec(ctx, l.engine, fmt.Sprintf("DELETE FROM %s WHERE id <= %d", table, last))
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
