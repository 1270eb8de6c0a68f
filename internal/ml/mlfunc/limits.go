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
)

func limitVariables() []sql.SystemVariable {
	v := func(name string) sql.SystemVariable {
		return &sql.MysqlSystemVariable{Name: name, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true, Type: types.NewSystemIntType(name, 0, 1<<53, false), Default: int64(0)}
	}
	return []sql.SystemVariable{v(VarMaxRequests), v(VarMaxRows)}
}

// usage is what one statement has sent so far.
type usage struct {
	requests, rows       atomic.Int64
	maxRequests, maxRows int64
	lastUsed             atomic.Int64 // unix nanoseconds
}

// statements tracks usage per statement execution (query pid). Entries are
// swept once they have been idle for a minute, which bounds the map.
type statements struct {
	mu sync.Mutex
	m  map[uint64]*usage
}

func (s *statements) get(pid uint64) *usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[uint64]*usage{}
	}
	u, ok := s.m[pid]
	if !ok {
		if len(s.m) >= 1024 {
			cutoff := time.Now().Add(-time.Minute).UnixNano()
			for k, v := range s.m {
				if v.lastUsed.Load() < cutoff {
					delete(s.m, k)
				}
			}
		}
		u = &usage{}
		s.m[pid] = u
	}
	u.lastUsed.Store(time.Now().UnixNano())
	return u
}

// startStatement records the session's limits for this statement; it runs
// in the session's goroutine before any request.
func (m *Manager) startStatement(ctx *sql.Context) {
	u := m.usage.get(ctx.Pid())
	read := func(name string) int64 {
		v, err := ctx.GetSessionVariable(ctx, name)
		if err != nil {
			return 0
		}
		n, _ := v.(int64)
		return n
	}
	u.maxRequests, u.maxRows = read(VarMaxRequests), read(VarMaxRows)
}

// reserve accounts for one request of n rows, refusing it if the statement
// would exceed a limit.
func (m *Manager) reserve(pid uint64, fn string, n int) error {
	u := m.usage.get(pid)
	if req := u.requests.Add(1); u.maxRequests > 0 && req > u.maxRequests {
		return mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState,
			"ML function '%s': statement exceeds %s = %d", fn, VarMaxRequests, u.maxRequests)
	}
	if rows := u.rows.Add(int64(n)); u.maxRows > 0 && rows > u.maxRows {
		return mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState,
			"ML function '%s': statement exceeds %s = %d", fn, VarMaxRows, u.maxRows)
	}
	return nil
}
