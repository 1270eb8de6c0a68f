package mlfunc

import (
	"context"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
)

// fairSem bounds an endpoint's requests in flight (its MAX_CONCURRENCY)
// and shares them fairly between the statements that use it. A plain
// semaphore is one FIFO queue: a long statement keeps its whole share of
// requests queued, so a short statement arriving later waits behind all of
// them. fairSem instead gives a free slot to the waiting statement that
// holds the fewest slots, and among those to the one served longest ago
// (a newcomer first): statements take turns, and a short one waits for one
// request to finish, not for a queue.
type fairSem struct {
	size int

	mu      sync.Mutex
	inUse   int
	held    map[stmtKey]int
	waiters []*semWaiter
	// served is when each statement holding or awaiting a slot was last
	// granted one, on the clock grants.
	served map[stmtKey]uint64
	grants uint64
}

// stmtKey identifies a statement: a session runs one at a time, and its
// process id changes with each.
type stmtKey struct {
	session uint32
	pid     uint64
}

func statementKey(ctx *sql.Context) stmtKey {
	return stmtKey{session: ctx.Session.ID(), pid: ctx.Pid()}
}

type semWaiter struct {
	stmt  stmtKey
	ready chan struct{} // closed when granted
}

func newFairSem(size int) *fairSem {
	return &fairSem{size: max(1, size), held: map[stmtKey]int{}, served: map[stmtKey]uint64{}}
}

// Cap is the number of slots.
func (s *fairSem) Cap() int { return s.size }

// acquire takes a slot for stmt, waiting for one if none is free. It fails
// only when ctx ends first, and then holds nothing.
func (s *fairSem) acquire(ctx context.Context, stmt stmtKey) error {
	s.mu.Lock()
	if s.inUse < s.size && len(s.waiters) == 0 {
		s.grant(stmt)
		s.mu.Unlock()
		return nil
	}
	w := &semWaiter{stmt: stmt, ready: make(chan struct{})}
	s.waiters = append(s.waiters, w)
	s.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for i, o := range s.waiters {
		if o == w {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			s.forget(stmt)
			s.mu.Unlock()
			return ctx.Err()
		}
	}
	s.mu.Unlock()
	// Granted while giving up: hand the slot on.
	s.release(stmt)
	return ctx.Err()
}

// release returns a slot stmt holds and grants free slots to waiters.
func (s *fairSem) release(stmt stmtKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held[stmt]--; s.held[stmt] <= 0 {
		delete(s.held, stmt)
	}
	s.inUse--
	for s.inUse < s.size && len(s.waiters) > 0 {
		best := 0
		for i, w := range s.waiters[1:] {
			b := s.waiters[best].stmt
			if h, hb := s.held[w.stmt], s.held[b]; h < hb || h == hb && s.served[w.stmt] < s.served[b] {
				best = i + 1
			}
		}
		w := s.waiters[best]
		s.waiters = append(s.waiters[:best], s.waiters[best+1:]...)
		s.grant(w.stmt)
		close(w.ready)
	}
	s.forget(stmt)
}

// grant gives stmt a slot; s.mu is held.
func (s *fairSem) grant(stmt stmtKey) {
	s.inUse++
	s.held[stmt]++
	s.grants++
	s.served[stmt] = s.grants
}

// forget drops stmt's turn once it holds and awaits nothing, so finished
// statements leave no trace; s.mu is held.
func (s *fairSem) forget(stmt stmtKey) {
	if s.held[stmt] > 0 {
		return
	}
	for _, w := range s.waiters {
		if w.stmt == stmt {
			return
		}
	}
	delete(s.served, stmt)
}
