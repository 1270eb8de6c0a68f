package limits

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/dolthub/vitess/go/mysql"
)

// ErrCapacityExceeded is MySQL's ER_CAPACITY_EXCEEDED ("Memory capacity
// of N bytes for 'X' exceeded"), which MySQL uses for its own per-query
// memory bounds (range_optimizer_max_mem_size).
const ErrCapacityExceeded = 3170

// Governor stops the statement that makes the heap grow beyond
// sibyl_max_statement_memory.
//
// Go cannot account memory to a goroutine, and go-mysql-server allocates
// its sort, group, join and CTE buffers where SibylDB cannot count them.
// So the governor measures what it can: the live heap (as of the last
// garbage collection) when each statement starts, and the heap while it
// runs. Every sample period it compares the heap with each running
// statement's starting point; if the growth may exceed the limit it
// collects garbage (so that garbage is not counted) and measures again.
// The statement with the largest growth since it began, if that growth
// is over the limit, is killed as KILL QUERY would, and its client gets
// error 3170.
//
// Until the stopped statement has ended (and released its memory), no
// other is stopped. The attribution is a heuristic: memory allocated by statements running
// at the same time is counted for each of them, so when several grow the
// heap together the oldest is stopped first. A single allocation larger
// than the limit is not stopped in time (string functions are bounded by
// max_allowed_packet for that reason); the sample period bounds how far
// past the limit a statement gets.
type Governor struct {
	// Kill cancels the statement running on a connection.
	Kill func(connID uint32)
	// Period is the sample period (default 50 ms).
	Period time.Duration

	mu      sync.Mutex
	running map[uint32]uint64 // connection id -> live heap at start
	killed  map[uint32]uint64 // connection id -> growth when killed
	lastGC  time.Time
}

// NewGovernor returns a governor that stops statements with kill.
func NewGovernor(kill func(connID uint32)) *Governor {
	return &Governor{Kill: kill, running: map[uint32]uint64{}, killed: map[uint32]uint64{}}
}

// Begin records the start of a statement on connection id.
func (g *Governor) Begin(id uint32) {
	live := readHeap().live
	g.mu.Lock()
	g.running[id] = live
	delete(g.killed, id)
	g.mu.Unlock()
}

// End records the end of the statement on connection id and returns the
// error its client gets in place of the cancellation if the governor
// stopped it, else nil.
func (g *Governor) End(id uint32) error {
	g.mu.Lock()
	delete(g.running, id)
	grew, killed := g.killed[id]
	delete(g.killed, id)
	g.mu.Unlock()
	if !killed {
		return nil
	}
	return mysql.NewSQLError(ErrCapacityExceeded, "HY000",
		"Memory capacity of %d bytes for '%s' exceeded. The statement was stopped after the server's memory grew by %d bytes while it ran.",
		limit(), MaxStatementMemoryVar, grew)
}

// Run samples the heap until ctx ends.
func (g *Governor) Run(ctx context.Context) {
	period := g.Period
	if period <= 0 {
		period = 50 * time.Millisecond
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.sample()
		}
	}
}

func limit() uint64 { return uint64(globalInt(MaxStatementMemoryVar, 0)) }

func (g *Governor) sample() {
	max := limit()
	if max == 0 {
		return
	}
	g.mu.Lock()
	if len(g.killed) > 0 {
		// A stopped statement still holds its memory until it ends:
		// the growth it caused must not be blamed on the others.
		g.mu.Unlock()
		return
	}
	lowest, any := uint64(0), false
	for _, start := range g.running {
		if !any || start < lowest {
			lowest, any = start, true
		}
	}
	g.mu.Unlock()
	if !any {
		return
	}
	// The heap, garbage included, bounds the live heap from above: below
	// the limit, no statement can be over it.
	if h := readHeap(); h.objects < lowest || h.objects-lowest <= max {
		return
	}
	// Perhaps it is garbage. Collecting is costly on a large heap, so at
	// most once per second.
	if time.Since(g.lastGC) >= time.Second {
		runtime.GC()
		g.lastGC = time.Now()
	}
	live := readHeap().live
	g.mu.Lock()
	var victim uint32
	var grew uint64
	for id, start := range g.running {
		if live < start {
			// Its start was measured before a collection freed
			// memory: it has grown by at most what is live now.
			g.running[id] = live
			continue
		}
		if d := live - start; d > grew {
			victim, grew = id, d
		}
	}
	if grew <= max {
		g.mu.Unlock()
		return
	}
	g.killed[victim] = grew
	g.mu.Unlock()
	g.Kill(victim)
}

type heapSample struct {
	objects uint64 // heap objects now, garbage included
	live    uint64 // live heap as of the last GC
}

func readHeap() heapSample {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	var h heapSample
	if s[0].Value.Kind() == metrics.KindUint64 {
		h.objects = s[0].Value.Uint64()
	}
	if s[1].Value.Kind() == metrics.KindUint64 {
		h.live = s[1].Value.Uint64()
	}
	return h
}
