package mlfunc

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// latencyWindow is how many recent request latencies a function keeps for
// its percentiles: enough for stable p99, bounded memory.
const latencyWindow = 1024

// fnStats are one ML function's figures since the server started.
type fnStats struct {
	requests, rows, errors, single atomic.Uint64
	// cancelled counts requests the statement abandoned before the answer
	// came (a LIMIT reached while the read-ahead was in flight, KILL
	// QUERY): they are not failures of the endpoint, so not errors.
	cancelled atomic.Uint64
	// inputTokens and outputTokens are what generative models reported
	// using (Converse's usage).
	inputTokens, outputTokens atomic.Uint64

	mu        sync.Mutex
	latencies [latencyWindow]time.Duration
	n         int // latencies recorded, saturating at the window
	next      int
}

func (s *fnStats) observe(d time.Duration) {
	s.mu.Lock()
	s.latencies[s.next] = d
	s.next = (s.next + 1) % latencyWindow
	if s.n < latencyWindow {
		s.n++
	}
	s.mu.Unlock()
}

// percentiles returns p50 and p99 of the recent latencies in milliseconds.
func (s *fnStats) percentiles() (p50, p99 any) {
	s.mu.Lock()
	l := append([]time.Duration(nil), s.latencies[:s.n]...)
	s.mu.Unlock()
	if len(l) == 0 {
		return nil, nil
	}
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	at := func(q float64) float64 {
		return float64(l[int(q*float64(len(l)-1))].Microseconds()) / 1000
	}
	return at(0.50), at(0.99)
}

func (m *Manager) stats(d *FunctionDef) *fnStats {
	k := key(d.DB, d.Name)
	m.mu.RLock()
	s, ok := m.fnStats[k]
	m.mu.RUnlock()
	if ok {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok = m.fnStats[k]; !ok {
		s = &fnStats{}
		m.fnStats[k] = s
	}
	return s
}

// recordTokens adds a generative call's token usage to the function's
// figures, the server's counters and the statement's total.
func (m *Manager) recordTokens(d *FunctionDef, in, out int64) {
	if in < 0 || out < 0 {
		return
	}
	s := m.stats(d)
	s.inputTokens.Add(uint64(in))
	s.outputTokens.Add(uint64(out))
	m.counters.inputTokens.Add(uint64(in))
	m.counters.outputTokens.Add(uint64(out))
}

// StatsTable is the name of the information_schema table of per-function
// figures.
const StatsTable = "ML_FUNCTION_STATS"

// StatsSchema is the schema of information_schema.ML_FUNCTION_STATS.
var StatsSchema = sql.Schema{
	{Name: "FUNCTION_SCHEMA", Type: types.LongText},
	{Name: "FUNCTION_NAME", Type: types.LongText},
	{Name: "ENDPOINT", Type: types.LongText},
	{Name: "REQUESTS", Type: types.Uint64},
	{Name: "ROWS_SCORED", Type: types.Uint64},
	{Name: "SINGLE_CALLS", Type: types.Uint64},
	{Name: "ERRORS", Type: types.Uint64},
	{Name: "LATENCY_P50_MS", Type: types.Float64, Nullable: true},
	{Name: "LATENCY_P99_MS", Type: types.Float64, Nullable: true},
	{Name: "CANCELLED", Type: types.Uint64},
	{Name: "INPUT_TOKENS", Type: types.Uint64},
	{Name: "OUTPUT_TOKENS", Type: types.Uint64},
}

// StatsRows lists every ML function's figures.
func (m *Manager) StatsRows(*sql.Context) ([]map[string]any, error) {
	var out []map[string]any
	for _, d := range m.Functions() {
		s := m.stats(d)
		p50, p99 := s.percentiles()
		out = append(out, map[string]any{
			"FUNCTION_SCHEMA": d.DB, "FUNCTION_NAME": d.Name, "ENDPOINT": d.Target(),
			"REQUESTS": s.requests.Load(), "ROWS_SCORED": s.rows.Load(), "SINGLE_CALLS": s.single.Load(),
			"ERRORS": s.errors.Load(), "LATENCY_P50_MS": p50, "LATENCY_P99_MS": p99,
			"CANCELLED": s.cancelled.Load(), "INPUT_TOKENS": s.inputTokens.Load(), "OUTPUT_TOKENS": s.outputTokens.Load(),
		})
	}
	return out, nil
}

// RoutineRows describes the ML functions as information_schema.ROUTINES
// rows, which is also what SHOW FUNCTION STATUS reads.
func (m *Manager) RoutineRows(*sql.Context) ([]map[string]any, error) {
	var out []map[string]any
	for _, d := range m.Functions() {
		created := d.Created
		out = append(out, map[string]any{
			"SPECIFIC_NAME": d.Name, "ROUTINE_CATALOG": "def", "ROUTINE_SCHEMA": d.DB, "ROUTINE_NAME": d.Name,
			"ROUTINE_TYPE": "FUNCTION", "DATA_TYPE": strings.ToLower(strings.Fields(d.Returns)[0]),
			"DTD_IDENTIFIER": strings.ToLower(d.returnType.String()), "ROUTINE_BODY": "EXTERNAL",
			"ROUTINE_DEFINITION": d.CreateStatement(), "EXTERNAL_NAME": nil, // binary(0) in MySQL: always NULL
			"EXTERNAL_LANGUAGE": d.AliasName(), "PARAMETER_STYLE": "SQL",
			"IS_DETERMINISTIC": "NO", "SQL_DATA_ACCESS": "NO SQL", "SECURITY_TYPE": d.Security,
			"CREATED": created, "LAST_ALTERED": created, "SQL_MODE": "", "ROUTINE_COMMENT": "",
			"DEFINER": strings.ReplaceAll(d.Definer, "`", ""), "CHARACTER_SET_CLIENT": "utf8mb4",
			"COLLATION_CONNECTION": "utf8mb4_0900_bin", "DATABASE_COLLATION": "utf8mb4_0900_bin",
		})
	}
	return out, nil
}
