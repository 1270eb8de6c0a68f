package txlock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/stretchr/testify/require"
)

type counts struct{ waits, timeouts, deadlocks atomic.Int64 }

func (c *counts) LockWait()    { c.waits.Add(1) }
func (c *counts) LockTimeout() { c.timeouts.Add(1) }
func (c *counts) Deadlock()    { c.deadlocks.Add(1) }

func code(err error) int {
	var se *mysql.SQLError
	if errors.As(err, &se) {
		return se.Num
	}
	return 0
}

func TestCompatibility(t *testing.T) {
	cases := []struct {
		held, req Mode
		ok        bool
	}{
		{IS, IS, true}, {IS, IX, true}, {IS, S, true}, {IS, X, false},
		{IX, IX, true}, {IX, S, false}, {IX, X, false},
		{S, S, true}, {S, IX, false}, {X, IS, false},
	}
	for _, c := range cases {
		m := NewManager(nil)
		a, b := m.Begin(1), m.Begin(1)
		require.NoError(t, a.Lock(context.Background(), "k", c.held, time.Second))
		err := b.Lock(context.Background(), "k", c.req, 20*time.Millisecond)
		if c.ok {
			require.NoError(t, err, "%s then %s", c.held, c.req)
		} else {
			require.Equal(t, mysql.ERLockWaitTimeout, code(err), "%s then %s", c.held, c.req)
		}
	}
}

func TestWaitGrantedOnRelease(t *testing.T) {
	c := &counts{}
	m := NewManager(c)
	a, b := m.Begin(1), m.Begin(1)
	ctx := context.Background()
	require.NoError(t, a.Lock(ctx, "r", X, time.Second))
	done := make(chan error, 1)
	go func() { done <- b.Lock(ctx, "r", X, 10*time.Second) }()
	require.Eventually(t, func() bool { _, w := b.Waiting(); return w }, time.Second, time.Millisecond)
	a.End(false) // a rolled back: b's snapshot is not stale
	require.NoError(t, <-done)
	require.EqualValues(t, 1, c.waits.Load())
	b.End(true)
	// A transaction that began before b committed finds the row stale; one
	// that begins after does not.
	m2 := m.Begin(1)
	require.NoError(t, m2.Lock(ctx, "r", X, time.Second))
	m2.End(false)
}

func TestStaleAfterCommit(t *testing.T) {
	m := NewManager(nil)
	ctx := context.Background()
	old := m.Begin(1)
	w := m.Begin(1)
	require.NoError(t, w.Lock(ctx, "row", X, time.Second))
	w.End(true)
	require.ErrorIs(t, old.Lock(ctx, "row", X, time.Second), ErrStale)
	old.Resnapshot()
	require.NoError(t, old.Lock(ctx, "row", X, time.Second))
	old.End(false)
	require.Zero(t, m.Len(), "entries nobody can find stale are dropped")
}

func TestDeadlockDetectedAtOnce(t *testing.T) {
	c := &counts{}
	m := NewManager(c)
	ctx := context.Background()
	a, b := m.Begin(1), m.Begin(1)
	require.NoError(t, a.Lock(ctx, "1", X, time.Second))
	require.NoError(t, b.Lock(ctx, "2", X, time.Second))
	done := make(chan error, 1)
	go func() { done <- a.Lock(ctx, "2", X, time.Minute) }()
	require.Eventually(t, func() bool { _, w := a.Waiting(); return w }, time.Second, time.Millisecond)
	start := time.Now()
	err := b.Lock(ctx, "1", X, time.Minute)
	require.Equal(t, mysql.ERLockDeadlock, code(err))
	require.Less(t, time.Since(start), time.Second)
	require.EqualValues(t, 1, c.deadlocks.Load())
	b.End(false)
	require.NoError(t, <-done)
	a.End(true)
}

func TestSharedUpgradeDeadlock(t *testing.T) {
	m := NewManager(nil)
	ctx := context.Background()
	a, b := m.Begin(1), m.Begin(1)
	require.NoError(t, a.Lock(ctx, "r", S, time.Second))
	require.NoError(t, b.Lock(ctx, "r", S, time.Second))
	done := make(chan error, 1)
	go func() { done <- a.Lock(ctx, "r", X, time.Minute) }()
	require.Eventually(t, func() bool { _, w := a.Waiting(); return w }, time.Second, time.Millisecond)
	require.Equal(t, mysql.ERLockDeadlock, code(b.Lock(ctx, "r", X, time.Minute)))
	b.End(false)
	require.NoError(t, <-done)
	a.End(false)
}

func TestTimeoutAndCancel(t *testing.T) {
	c := &counts{}
	m := NewManager(c)
	a, b := m.Begin(1), m.Begin(1)
	require.NoError(t, a.Lock(context.Background(), "r", X, time.Second))
	require.Equal(t, mysql.ERLockWaitTimeout, code(b.Lock(context.Background(), "r", S, 30*time.Millisecond)))
	require.EqualValues(t, 1, c.timeouts.Load())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, b.Lock(ctx, "r", X, time.Minute), context.Canceled)
	a.End(false)
	b.End(false)
	require.Zero(t, m.Len())
}

// TestMutualExclusion: many transactions incrementing one counter under an
// X lock never overlap.
func TestMutualExclusion(t *testing.T) {
	m := NewManager(nil)
	var inside atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				tx := m.Begin(1)
				err := tx.Lock(context.Background(), "c", X, 10*time.Second)
				if err != nil && !errors.Is(err, ErrStale) {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					t.Error("two holders of an X lock")
				}
				inside.Add(-1)
				tx.End(true)
			}
		}()
	}
	wg.Wait()
}

// TestEntriesAreSweptAfterLongTransaction: rows committed while an old
// snapshot is open are remembered (it could still lock them) and dropped
// once it ends.
func TestEntriesAreSweptAfterLongTransaction(t *testing.T) {
	m := NewManager(nil)
	ctx := context.Background()
	long := m.Begin(1)
	for i := 0; i < 3*minSweep; i++ {
		w := m.Begin(2)
		require.NoError(t, w.Lock(ctx, Key(fmt.Sprint(i)), X, time.Second))
		w.End(true)
	}
	require.Equal(t, 3*minSweep, m.Len())
	require.ErrorIs(t, long.Lock(ctx, "7", S, time.Second), ErrStale)
	long.End(false)
	w := m.Begin(2)
	w.End(true)
	m.Sweep()
	require.Zero(t, m.Len())
}
