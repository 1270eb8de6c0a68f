// Package exec evaluates model calls in SQL in batches.
//
// A model call costs a network round trip (or a model invocation) whatever
// the number of rows it carries, so calling once per row wastes almost all
// of it. The analyzer rule in this package finds calls to batchable
// functions in the expressions of a plan node and puts a Batch node beneath
// it. Batch reads rows from its child ahead of the consumer, evaluates the
// call arguments for many rows, sends each distinct argument tuple once in
// batches of growing size, and records the results in a Slot. When the
// parent node then evaluates the call on a row, the call finds its result in
// the Slot. Calls the rule cannot reach (triggers, correlated subqueries,
// join conditions) still work: they miss the Slot and call one row at a
// time.
package exec

import (
	"strconv"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/remote"
)

// Invoker evaluates a batchable function over many argument tuples.
type Invoker interface {
	// Key identifies the function: calls with the same key share results.
	Key() string
	// Name is the function name, for EXPLAIN and errors.
	Name() string
	// MaxBatch is the most argument tuples one Invoke may carry.
	MaxBatch() int
	// Concurrency is how many Invoke calls may be in flight at once.
	Concurrency() int
	// Invoke returns one result per tuple, in order.
	Invoke(ctx *sql.Context, args [][]any) ([]any, error)
}

// CacheHitRecorder is implemented by invokers that count argument tuples a
// statement needed again and got without a new request.
type CacheHitRecorder interface {
	RecordCacheHits(n int)
}

// Call is an expression that is a call of a batchable function.
type Call interface {
	sql.Expression
	// Args are the argument expressions.
	Args() []sql.Expression
	// Invoker evaluates the function.
	Invoker() Invoker
	// WithSlot returns the call reading batched results from slot.
	WithSlot(*Slot) Call
	// Slot is the slot the call reads, nil before the batching rule ran.
	Slot() *Slot
}

// Slot holds the results of one function during one statement execution,
// keyed by argument tuple, so each distinct tuple is computed once.
type Slot struct {
	mu      sync.Mutex
	pid     uint64
	entries map[string]*entry
}

type entry struct {
	done chan struct{}
	val  any
	err  error
}

// NewSlot returns an empty slot.
func NewSlot() *Slot { return &Slot{entries: map[string]*entry{}} }

// begin starts a new execution: results of an earlier execution of the same
// (prepared) plan must not leak into this one.
func (s *Slot) begin(pid uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pid != pid {
		s.pid = pid
		s.entries = map[string]*entry{}
	}
}

// claim returns the entry for key and whether the caller must compute it.
func (s *Slot) claim(key string) (*entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok {
		return e, false
	}
	e := &entry{done: make(chan struct{})}
	s.entries[key] = e
	return e, true
}

// Lookup returns the result for args computed by a Batch node of the current
// statement, waiting if it is in flight. ok is false when no batch covered
// args (the caller then evaluates it alone).
func (s *Slot) Lookup(ctx *sql.Context, args []any) (any, bool, error) {
	if s == nil {
		return nil, false, nil
	}
	s.mu.Lock()
	e, ok := s.entries[ArgsKey(args)]
	current := s.pid == ctx.Pid()
	s.mu.Unlock()
	if !ok || !current {
		return nil, false, nil
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	return e.val, true, e.err
}

// ArgsKey encodes an argument tuple as a map key. NULL is distinct from
// the empty string.
func ArgsKey(args []any) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(0x1f)
		}
		if a == nil {
			b.WriteByte(0)
			continue
		}
		s, err := remote.FormatValue(a)
		if err != nil {
			s = "?" + strconv.Quote(err.Error())
		}
		b.WriteString(s)
	}
	return b.String()
}
