package console

import (
	"context"
	"sync"
	"time"
)

// historyLength is how many samples each function keeps: an hour at the
// default 5 s interval.
const historyLength = 720

// sample is one reading of a function's figures (cumulative counts, as
// information_schema.ML_FUNCTION_STATS has them).
type sample struct {
	At                     time.Time
	Requests, Rows, Errors uint64
	P50, P99               float64 // ms; NaN when no request yet
}

// history keeps the recent samples of every ML function in fixed rings,
// keyed by "db.function".
type history struct {
	n  int
	mu sync.Mutex
	m  map[string]*ring
}

type ring struct {
	buf  []sample
	next int
	full bool
}

func newHistory(n int) *history { return &history{n: n, m: map[string]*ring{}} }

func (h *history) add(key string, s sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.m[key]
	if !ok {
		r = &ring{buf: make([]sample, h.n)}
		h.m[key] = r
	}
	r.buf[r.next] = s
	r.next = (r.next + 1) % h.n
	if r.next == 0 {
		r.full = true
	}
}

// get returns key's samples, oldest first.
func (h *history) get(key string) []sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.m[key]
	if !ok {
		return nil
	}
	if !r.full {
		return append([]sample(nil), r.buf[:r.next]...)
	}
	return append(append([]sample(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}

// retain drops the functions not in keep (dropped functions).
func (h *history) retain(keep map[string]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.m {
		if !keep[k] {
			delete(h.m, k)
		}
	}
}

// sample reads the function figures every SampleInterval.
func (c *Console) sample(ctx context.Context) {
	if c.cfg.FunctionStats == nil {
		return
	}
	t := time.NewTicker(c.cfg.SampleInterval)
	defer t.Stop()
	for {
		c.sampleOnce(time.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Console) sampleOnce(now time.Time) {
	rows, err := c.cfg.FunctionStats()
	if err != nil {
		c.log.WithError(err).Debug("console: sampling function stats")
		return
	}
	keep := map[string]bool{}
	for _, r := range rows {
		key := str(r["FUNCTION_SCHEMA"]) + "." + str(r["FUNCTION_NAME"])
		keep[key] = true
		c.history.add(key, sample{At: now, Requests: u64(r["REQUESTS"]), Rows: u64(r["ROWS_SCORED"]),
			Errors: u64(r["ERRORS"]), P50: f64(r["LATENCY_P50_MS"]), P99: f64(r["LATENCY_P99_MS"])})
	}
	c.history.retain(keep)
}
