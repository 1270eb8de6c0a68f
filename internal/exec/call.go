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
	"encoding/binary"
	"math"
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

// Authorizer is implemented by invokers whose use needs privileges. Batch
// checks them once, in the session's goroutine, before any row is read or
// any request sent.
type Authorizer interface {
	Authorize(ctx *sql.Context) error
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
	// Account is the account the call is authorized as, zero for the
	// session's user (see BindAccounts).
	Account() Account
}

// Slot holds the results of one function during one statement execution,
// keyed by argument tuple, so each distinct tuple is computed once.
type Slot struct {
	mu      sync.Mutex
	pid     uint64
	entries map[string]*entry
	// order lists the keys in claim order from head on, so that the
	// oldest finished results can be dropped once the slot holds
	// maxSlotEntries: a statement over millions of distinct rows keeps
	// bounded memory. A dropped result that is needed again (a second
	// evaluation of the call above a sort) is computed again, alone.
	order []string
	head  int
	// exclusive is set when one Batch node in the plan feeds this slot.
	// Then curRow and cur, the row that node returned last and its result,
	// let the parent find the result of the call it evaluates on that very
	// row without hashing the arguments.
	exclusive bool
	curRow    sql.Row
	cur       *entry
}

type entry struct {
	// done is closed when val or err is set; the entries one batch claims
	// share it.
	done chan struct{}
	val  any
	err  error
}

// maxSlotEntries bounds the results one slot keeps for de-duplication.
var maxSlotEntries = 200_000

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
		s.order, s.head = nil, 0
	}
}

// claim takes, under one lock, the keys no one has claimed yet. It returns
// the entry of every key, the indexes of the keys the caller must compute,
// the channel to close once they are computed, and how many keys were
// already claimed (cache hits).
func (s *Slot) claim(keys []string) (all []*entry, mine []int, done chan struct{}, hits int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	all = make([]*entry, len(keys))
	for i, k := range keys {
		if e, ok := s.entries[k]; ok {
			all[i] = e
			hits++
			continue
		}
		if done == nil {
			done = make(chan struct{})
		}
		e := &entry{done: done}
		s.entries[k] = e
		s.order = append(s.order, k)
		all[i] = e
		mine = append(mine, i)
	}
	s.evict()
	return all, mine, done, hits
}

// evict drops the oldest finished results beyond maxSlotEntries; s.mu is
// held.
func (s *Slot) evict() {
	for len(s.entries) > maxSlotEntries && s.head < len(s.order) {
		k := s.order[s.head]
		if e, ok := s.entries[k]; ok {
			select {
			case <-e.done:
			default:
				return // the oldest is still in flight
			}
			delete(s.entries, k)
		}
		s.order[s.head] = ""
		s.head++
	}
	if s.head > len(s.order)/2 {
		s.order = append(s.order[:0], s.order[s.head:]...)
		s.head = 0
	}
}

// release drops the results of execution pid once its Batch node closes:
// a prepared plan keeps its slots between executions, and should not keep
// a large statement's results with them.
func (s *Slot) release(pid uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pid == pid {
		s.entries = map[string]*entry{}
		s.order, s.head = nil, 0
		s.curRow, s.cur = nil, nil
	}
}

// setCurrent records the row a Batch node is about to return.
func (s *Slot) setCurrent(row sql.Row, e *entry) {
	if !s.exclusive {
		return
	}
	s.mu.Lock()
	s.curRow, s.cur = row, e
	s.mu.Unlock()
}

func sameRow(a, b sql.Row) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}

// Current returns the result a Batch node computed for row when row is
// the one it returned last: the parent then needs neither the arguments
// nor a hash lookup.
func (s *Slot) Current(ctx *sql.Context, row sql.Row) (any, bool, error) {
	if s == nil {
		return nil, false, nil
	}
	s.mu.Lock()
	e, ok := s.cur, s.cur != nil && sameRow(row, s.curRow) && s.pid == ctx.Pid()
	s.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	return wait(ctx, e)
}

// Lookup returns the result for args computed by a Batch node of the
// current statement, waiting if it is in flight. ok is false when no batch
// covered args (the caller then evaluates it alone).
func (s *Slot) Lookup(ctx *sql.Context, args []any) (any, bool, error) {
	if s == nil {
		return nil, false, nil
	}
	k := ArgsKey(args)
	s.mu.Lock()
	e, ok := s.entries[k]
	ok = ok && s.pid == ctx.Pid()
	s.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	return wait(ctx, e)
}

// wait returns e's result once it is computed.
func wait(ctx *sql.Context, e *entry) (any, bool, error) {
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	return e.val, true, e.err
}

// ArgsKey encodes an argument tuple as a map key. It runs for every row of
// a batched statement, so common types get a compact binary form instead of
// their text. NULL, the empty string and differently typed values all get
// distinct keys.
func ArgsKey(args []any) string {
	// Size the key first: one allocation per tuple, however long its text.
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += 1 + binary.MaxVarintLen64 + len(v)
		default:
			n += 1 + 8
		}
	}
	var sb strings.Builder
	sb.Grow(n)
	var num [binary.MaxVarintLen64]byte
	for _, a := range args {
		switch v := a.(type) {
		case nil:
			sb.WriteByte('n')
		case int64:
			sb.WriteByte('i')
			sb.Write(binary.LittleEndian.AppendUint64(num[:0], uint64(v)))
		case int32:
			sb.WriteByte('i')
			sb.Write(binary.LittleEndian.AppendUint64(num[:0], uint64(int64(v))))
		case int:
			sb.WriteByte('i')
			sb.Write(binary.LittleEndian.AppendUint64(num[:0], uint64(int64(v))))
		case float64:
			sb.WriteByte('f')
			sb.Write(binary.LittleEndian.AppendUint64(num[:0], math.Float64bits(v)))
		case string:
			sb.WriteByte('s')
			sb.Write(binary.AppendUvarint(num[:0], uint64(len(v))))
			sb.WriteString(v)
		default:
			s, err := remote.FormatValue(a)
			if err != nil {
				s = "?" + strconv.Quote(err.Error())
			}
			sb.WriteByte('o')
			sb.Write(binary.AppendUvarint(num[:0], uint64(len(s))))
			sb.WriteString(s)
		}
	}
	return sb.String()
}
