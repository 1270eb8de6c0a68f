package mlfunc

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestFairSemGrantsTheLeastServedStatement checks the grant order: a
// statement holding no slot goes before one that holds slots, whatever
// the queue order, and cancelled waiters hold nothing.
func TestFairSemGrantsTheLeastServedStatement(t *testing.T) {
	s := newFairSem(2)
	long, short := stmtKey{1, 1}, stmtKey{2, 1}
	ctx := context.Background()
	require.NoError(t, s.acquire(ctx, long))
	require.NoError(t, s.acquire(ctx, long))

	order := make(chan stmtKey, 4)
	var wg sync.WaitGroup
	wait := func(k stmtKey) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, s.acquire(ctx, k))
			order <- k
		}()
	}
	wait(long)
	wait(long)
	require.Eventually(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.waiters) == 2 }, time.Second, time.Millisecond)
	wait(short)
	require.Eventually(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.waiters) == 3 }, time.Second, time.Millisecond)

	// A waiter that gives up leaves the queue.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- s.acquire(cctx, stmtKey{3, 1}) }()
	require.Eventually(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.waiters) == 4 }, time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	s.release(long)
	require.Equal(t, short, <-order, "the statement holding nothing goes first")
	s.release(long)
	require.Equal(t, long, <-order)
	s.release(short)
	require.Equal(t, long, <-order)
	wg.Wait()
	s.release(long)
	s.release(long)
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Zero(t, s.inUse)
	require.Empty(t, s.held)
	require.Empty(t, s.waiters)
	require.Empty(t, s.served)
}
