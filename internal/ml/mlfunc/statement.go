package mlfunc

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
)

// Per-statement limits on what ML functions send, as session/global system
// variables; 0 means no limit.
const (
	VarMaxRequests = "sibyl_ml_max_requests_per_statement"
	VarMaxRows     = "sibyl_ml_max_rows_per_statement"
	// VarMaxTokens bounds the input plus output tokens generative models
	// report for one statement.
	VarMaxTokens = "sibyl_ml_max_tokens_per_statement"
)

func limitVariables() []sql.SystemVariable {
	v := func(name string) sql.SystemVariable {
		return &sql.MysqlSystemVariable{Name: name, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true, Type: types.NewSystemIntType(name, 0, 1<<53, false), Default: int64(0)}
	}
	return []sql.SystemVariable{v(VarMaxRequests), v(VarMaxRows), v(VarMaxTokens), onErrorVariable()}
}

// AuditRecord is what one statement sent through one ML function.
type AuditRecord struct {
	Time               time.Time
	User, Host         string
	Function, Endpoint string
	Rows, Requests     int64
	Bytes              int64
	Duration           time.Duration
	Outcome            string // "OK" or the error
}

// statement is what one session's current statement has sent so far.
type statement struct {
	pid                  uint64
	start                time.Time
	user, host           string
	maxRequests, maxRows int64
	requests, rows       atomic.Int64
	maxTokens            int64
	// onErrorNull is sibyl_ml_on_error = 'NULL' for the statement.
	onErrorNull bool
	// tokens are the tokens used so far plus those reserved by requests
	// in flight (their maxTokens).
	tokens atomic.Int64

	mu    sync.Mutex
	perFn map[string]*AuditRecord
}

// statements tracks the current statement of every session that calls ML
// functions. A session runs one statement at a time, so an entry is
// replaced when the session's query id changes and removed when the server
// reports the statement finished.
type statements struct {
	mu        sync.Mutex
	bySession map[uint32]*statement
}

// current returns the session's current statement, and the statement it
// replaces (to be audited), if any.
func (s *statements) current(ctx *sql.Context) (cur, done *statement) {
	id := ctx.Session.ID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bySession == nil {
		s.bySession = map[uint32]*statement{}
	}
	cur = s.bySession[id]
	if cur == nil || cur.pid != ctx.Pid() {
		done = cur
		cl := ctx.Session.Client()
		cur = &statement{pid: ctx.Pid(), start: time.Now(), user: cl.User, host: cl.Address, perFn: map[string]*AuditRecord{}}
		s.bySession[id] = cur
	}
	return cur, done
}

func (s *statements) finish(sessionID uint32) *statement {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.bySession[sessionID]
	delete(s.bySession, sessionID)
	return st
}

// statementFor returns the session's current statement, auditing the one
// it replaces.
func (m *Manager) statementFor(ctx *sql.Context) *statement {
	cur, done := m.usage.current(ctx)
	if done != nil {
		m.audit(done, nil)
	}
	return cur
}

// FinishStatement ends the session's statement: its ML calls, if any, are
// written to the audit log. The server calls it after every statement.
func (m *Manager) FinishStatement(sessionID uint32, stmtErr error) {
	if st := m.usage.finish(sessionID); st != nil {
		m.audit(st, stmtErr)
	}
}

// audit writes the statement's records. Requests that succeeded are OK
// only if the statement did too: the audit log records what the
// statement did with the answers, not just how HTTP went.
func (m *Manager) audit(st *statement, stmtErr error) {
	if m.Audit == nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, r := range st.perFn {
		if stmtErr != nil && r.Outcome == "OK" {
			r.Outcome = "statement failed: " + stmtErr.Error()
		}
		r.Duration = time.Since(st.start)
		m.Audit(*r)
	}
}

// StartStatement records the session's limits for this statement; it runs
// in the session's goroutine before any request. Every function that sends
// data off the server calls it, so that one set of limits and one audit
// log cover them all.
func (m *Manager) StartStatement(ctx *sql.Context) {
	st := m.statementFor(ctx)
	st.mu.Lock()
	st.maxRequests, st.maxRows = Limit(ctx, VarMaxRequests), Limit(ctx, VarMaxRows)
	st.maxTokens = Limit(ctx, VarMaxTokens)
	st.onErrorNull = sessionOnErrorNull(ctx)
	st.mu.Unlock()
}

// Limit is the per-statement limit name (0 = none) in force for the
// session: its own value, capped by the global one. An administrator's SET
// GLOBAL thus bounds every session, and a session may tighten the limit for
// itself but never lift it (SET SESSION of a larger value, or 0, is
// accepted, as MySQL accepts it, and has no effect beyond the global).
func Limit(ctx *sql.Context, name string) int64 {
	session := intVar(ctx.GetSessionVariable(ctx, name))
	_, gv, _ := sql.SystemVariables.GetGlobal(name)
	global := intVar(gv, nil)
	switch {
	case global <= 0:
		return session
	case session <= 0 || session > global:
		return global
	}
	return session
}

// Timeout is aurora_ml_inference_timeout in force for the session: its own
// value, capped by the global one, because a request holds a share of its
// endpoint's MAX_CONCURRENCY, which every session shares, for that long.
func Timeout(ctx *sql.Context) time.Duration {
	ms := Limit(ctx, VarTimeout)
	if ms <= 0 {
		return 30 * time.Second
	}
	return time.Duration(ms) * time.Millisecond
}

func intVar(v any, err error) int64 {
	if err != nil {
		return 0
	}
	n, _ := v.(int64)
	return n
}

// Reserve accounts for one request of n rows by function fn to endpoint,
// refusing it if the statement would exceed a limit. The returned func
// records the request's outcome for the audit log; call it once.
func (m *Manager) Reserve(ctx *sql.Context, fn, endpoint string, n int) (record func(rows int, bytes int64, err error), err error) {
	st, err := m.reserve(ctx, fn, n)
	return func(rows int, bytes int64, err error) { st.record(fn, endpoint, rows, bytes, err) }, err
}

// reserve accounts for one request of n rows by function fn, refusing it
// if the statement would exceed a limit.
func (m *Manager) reserve(ctx *sql.Context, fn string, n int) (*statement, error) {
	st := m.statementFor(ctx)
	st.mu.Lock()
	maxReq, maxRows := st.maxRequests, st.maxRows
	st.mu.Unlock()
	if req := st.requests.Add(1); maxReq > 0 && req > maxReq {
		return st, mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState,
			"ML function '%s': statement exceeds %s = %d", fn, VarMaxRequests, maxReq)
	}
	if rows := st.rows.Add(int64(n)); maxRows > 0 && rows > maxRows {
		return st, mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState,
			"ML function '%s': statement exceeds %s = %d", fn, VarMaxRows, maxRows)
	}
	return st, nil
}

// reserveTokens admits a generative request of function fn that may
// produce up to reserve output tokens (its maxTokens; 0 when unknown):
// refused when the statement has used its sibyl_ml_max_tokens_per_statement
// or the reservation would pass it. settle replaces the reservation with
// the tokens the model reported (0 when the request failed); call it once.
func (m *Manager) reserveTokens(ctx *sql.Context, fn string, reserve int64) (settle func(used int64), err error) {
	st := m.statementFor(ctx)
	st.mu.Lock()
	limit := st.maxTokens
	st.mu.Unlock()
	if limit <= 0 {
		return func(used int64) { st.tokens.Add(used) }, nil
	}
	for {
		cur := st.tokens.Load()
		if cur >= limit || cur+reserve > limit {
			return nil, mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState,
				"ML function '%s': statement exceeds %s = %d (%d tokens used or reserved)", fn, VarMaxTokens, limit, cur)
		}
		if st.tokens.CompareAndSwap(cur, cur+reserve) {
			return func(used int64) { st.tokens.Add(used - reserve) }, nil
		}
	}
}

// record adds one request's outcome to the statement's audit figures.
func (st *statement) record(fn, endpoint string, rows int, bytes int64, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	k := fn + "\x00" + endpoint
	r, ok := st.perFn[k]
	if !ok {
		r = &AuditRecord{Time: st.start, User: st.user, Host: st.host, Function: fn, Endpoint: endpoint, Outcome: "OK"}
		st.perFn[k] = r
	}
	r.Requests++
	r.Rows += int64(rows)
	r.Bytes += bytes
	if err != nil && r.Outcome == "OK" {
		r.Outcome = err.Error()
	}
}
