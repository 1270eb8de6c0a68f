package mlfunc

import "time"

// RequestObserver is told of every request an ML function made to its
// endpoint (or Bedrock model), once the answer or the error came: rows is
// the batch size, d the time from sending to the answer (retries
// included), failed whether it ended in an error. Requests the statement
// abandoned (LIMIT reached, KILL QUERY) are not reported, as they are not
// counted in the function's latency figures either. Package metrics
// implements it; it must be cheap and safe for concurrent use.
type RequestObserver interface {
	ObserveRequest(endpoint string, rows int, d time.Duration, failed bool)
}

// FunctionStats are one ML function's figures since the server started,
// as information_schema.ML_FUNCTION_STATS shows them.
type FunctionStats struct {
	Schema, Name, Endpoint    string
	Requests, Rows, Errors    uint64
	SingleCalls, Cancelled    uint64
	InputTokens, OutputTokens uint64
}

// FunctionStats lists every ML function's figures, read from the live
// counters.
func (m *Manager) FunctionStats() []FunctionStats {
	defs := m.Functions()
	out := make([]FunctionStats, 0, len(defs))
	for _, d := range defs {
		s := m.stats(d)
		out = append(out, FunctionStats{
			Schema: d.DB, Name: d.Name, Endpoint: d.Target(),
			Requests: s.requests.Load(), Rows: s.rows.Load(), Errors: s.errors.Load(),
			SingleCalls: s.single.Load(), Cancelled: s.cancelled.Load(),
			InputTokens: s.inputTokens.Load(), OutputTokens: s.outputTokens.Load(),
		})
	}
	return out
}
