package exec

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/stretchr/testify/require"
)

// squarer is an in-process Invoker: x -> x*x, recording each batch.
type squarer struct {
	max, conc int
	fail      error
	mu        sync.Mutex
	batches   []int
	hits      int
}

func (s *squarer) Key() string           { return "sq" }
func (s *squarer) Name() string          { return "sq" }
func (s *squarer) MaxBatch() int         { return s.max }
func (s *squarer) Concurrency() int      { return s.conc }
func (s *squarer) RecordCacheHits(n int) { s.mu.Lock(); s.hits += n; s.mu.Unlock() }
func (s *squarer) Invoke(_ *sql.Context, args [][]any) ([]any, error) {
	s.mu.Lock()
	s.batches = append(s.batches, len(args))
	s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	out := make([]any, len(args))
	for i, a := range args {
		x := a[0].(int64)
		out[i] = x * x
	}
	return out, nil
}

func (s *squarer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.batches {
		n += b
	}
	return n
}

// rows is a leaf node producing (i, i % mod) for i < n.
type rows struct{ n, mod int }

func (r *rows) Resolved() bool       { return true }
func (r *rows) IsReadOnly() bool     { return true }
func (r *rows) String() string       { return "rows" }
func (r *rows) Children() []sql.Node { return nil }
func (r *rows) Schema() sql.Schema {
	return sql.Schema{{Name: "i", Type: types.Int64}, {Name: "x", Type: types.Int64}}
}
func (r *rows) WithChildren(...sql.Node) (sql.Node, error) { return r, nil }
func (r *rows) CollationCoercibility(*sql.Context) (sql.CollationID, byte) {
	return sql.Collation_binary, 7
}
func (r *rows) RowIter(*sql.Context, sql.Row) (sql.RowIter, error) {
	out := make([]sql.Row, r.n)
	for i := range out {
		out[i] = sql.Row{int64(i), int64(i % r.mod)}
	}
	return sql.RowsToRowIter(out...), nil
}

type builder struct{}

func (builder) Build(ctx *sql.Context, n sql.Node, r sql.Row) (sql.RowIter, error) {
	return n.(sql.ExecSourceRel).RowIter(ctx, r)
}

func newBatch(inv *squarer, n, mod int) (*Batch, *Slot) {
	slot := NewSlot()
	slot.exclusive = true
	arg := expression.NewGetField(1, types.Int64, "x", false)
	return NewBatch(&rows{n: n, mod: mod}, []*Site{{Invoker: inv, Slot: slot, Args: [][]sql.Expression{{arg}}}}), slot
}

func TestBatchResolvesEveryRowInOrderWithGrowingBatches(t *testing.T) {
	inv := &squarer{max: 1000, conc: 2}
	b, slot := newBatch(inv, 5000, 5000)
	ctx := sql.NewEmptyContext()
	it, err := b.BuildRowIter(ctx, builder{}, nil)
	require.NoError(t, err)
	for i := 0; i < 5000; i++ {
		r, err := it.Next(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(i), r[0], "rows keep their order")
		v, ok, err := slot.Lookup(ctx, []any{r[1]})
		require.NoError(t, err)
		require.True(t, ok, "row %d has its result before it is returned", i)
		require.Equal(t, r[1].(int64)*r[1].(int64), v)
	}
	_, err = it.Next(ctx)
	require.ErrorIs(t, err, io.EOF)
	require.NoError(t, it.Close(ctx))
	require.Equal(t, 5000, inv.total())
	got := append([]int(nil), inv.batches...)
	sort.Ints(got)
	// 16, 64, 256, then 1024- and 2000-row reads split into requests of at
	// most MaxBatch = 1000 (the rest is the final partial read).
	require.Equal(t, []int{16, 24, 64, 256, 640, 1000, 1000, 1000, 1000}, got, "batches grow geometrically up to MaxBatch")
}

func TestBatchSendsEachTupleOnce(t *testing.T) {
	inv := &squarer{max: 100, conc: 4}
	b, _ := newBatch(inv, 3000, 11)
	ctx := sql.NewEmptyContext()
	it, err := b.BuildRowIter(ctx, builder{}, nil)
	require.NoError(t, err)
	rows, err := sql.RowIterToRows(ctx, it)
	require.NoError(t, err)
	require.Len(t, rows, 3000)
	require.Equal(t, 11, inv.total())
	require.Equal(t, 3000-11, inv.hits)
}

func TestBatchStopsEarlyAndPropagatesErrors(t *testing.T) {
	inv := &squarer{max: 10000, conc: 1}
	b, _ := newBatch(inv, 100000, 100000)
	ctx := sql.NewEmptyContext()
	it, err := b.BuildRowIter(ctx, builder{}, nil)
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		_, err := it.Next(ctx)
		require.NoError(t, err)
	}
	require.NoError(t, it.Close(ctx))
	require.LessOrEqual(t, inv.total(), 16+64, "a consumer that stops after 5 rows pays for at most the next small batch")

	boom := errors.New("endpoint down")
	failing := &squarer{max: 10, conc: 1, fail: boom}
	b, slot := newBatch(failing, 50, 50)
	it, err = b.BuildRowIter(ctx, builder{}, nil)
	require.NoError(t, err)
	_, err = it.Next(ctx)
	require.ErrorIs(t, err, boom)
	_, _, err = slot.Lookup(ctx, []any{int64(3)})
	require.ErrorIs(t, err, boom, "waiting lookups get the failure, never hang")
	require.NoError(t, it.Close(ctx))
	_, ok, err := slot.Lookup(ctx, []any{int64(3)})
	require.NoError(t, err)
	require.False(t, ok, "results are released when the statement's Batch closes")
}

func TestPrefetchResolvesBeforeTheSourceRuns(t *testing.T) {
	inv := &squarer{max: 10, conc: 1}
	slot := NewSlot()
	var args [][]sql.Expression
	for i := 0; i < 25; i++ {
		args = append(args, []sql.Expression{expression.NewLiteral(int64(i), types.Int64)})
	}
	b := NewPrefetch(&rows{n: 1, mod: 1}, []*Site{{Invoker: inv, Slot: slot, Args: args}})
	ctx := sql.NewEmptyContext()
	_, err := b.BuildRowIter(ctx, builder{}, nil)
	require.NoError(t, err)
	require.Equal(t, []int{10, 10, 5}, inv.batches)
	v, ok, err := slot.Lookup(ctx, []any{int64(7)})
	require.NoError(t, err)
	require.True(t, ok)
	require.EqualValues(t, 49, v)
}

func TestArgsKeyDistinguishesNullAndEmpty(t *testing.T) {
	require.NotEqual(t, ArgsKey([]any{nil}), ArgsKey([]any{""}))
	require.NotEqual(t, ArgsKey([]any{"a", "b"}), ArgsKey([]any{"a,b"}))
	require.Equal(t, ArgsKey([]any{int64(1), "x"}), ArgsKey([]any{int64(1), "x"}))
	require.Equal(t, "ab", fmt.Sprint("a", "b"))
}

func TestSlotKeepsBoundedResults(t *testing.T) {
	defer func(n int) { maxSlotEntries = n }(maxSlotEntries)
	maxSlotEntries = 10
	s := NewSlot()
	ctx := sql.NewEmptyContext()
	s.begin(ctx.Pid())
	for b := 0; b < 5; b++ {
		keys := make([]string, 8)
		for i := range keys {
			keys[i] = ArgsKey([]any{int64(b*8 + i)})
		}
		all, mine, done, _ := s.claim(keys)
		require.Len(t, mine, 8)
		for _, e := range all {
			e.val = "v"
		}
		close(done)
		require.LessOrEqual(t, len(s.entries), maxSlotEntries+8, "finished results beyond the bound are dropped")
	}
	_, ok, err := s.Lookup(ctx, []any{int64(0)})
	require.NoError(t, err)
	require.False(t, ok, "the oldest result was dropped; the caller computes it alone")
	v, ok, err := s.Lookup(ctx, []any{int64(39)})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "v", v)

	// Results still in flight are never dropped.
	keys := make([]string, 20)
	for i := range keys {
		keys[i] = ArgsKey([]any{int64(100 + i)})
	}
	_, _, done, _ := s.claim(keys)
	require.GreaterOrEqual(t, len(s.entries), 20)
	close(done)
}

// panicky panics in Eval, as a built-in with a bug would.
type panicky struct{ expression.UnaryExpressionStub }

func (p *panicky) Type() sql.Type { return types.Int64 }
func (p *panicky) String() string { return "panicky" }
func (p *panicky) Eval(*sql.Context, sql.Row) (any, error) {
	var s []int
	return s[1], nil // index out of range
}
func (p *panicky) WithChildren(c ...sql.Expression) (sql.Expression, error) { return p, nil }

// panickyInvoker panics in Invoke.
type panickyInvoker struct{ squarer }

func (p *panickyInvoker) Invoke(*sql.Context, [][]any) ([]any, error) { panic("model client bug") }

// A panic in an argument or in Invoke, both in goroutines of the Batch,
// becomes the statement's error; the process survives.
func TestBatchTurnsPanicsIntoErrors(t *testing.T) {
	t.Run("argument", func(t *testing.T) {
		slot := NewSlot()
		slot.exclusive = true
		arg := &panicky{expression.UnaryExpressionStub{Child: expression.NewGetField(1, types.Int64, "x", false)}}
		b := NewBatch(&rows{n: 100, mod: 100}, []*Site{{Invoker: &squarer{max: 10, conc: 1}, Slot: slot, Args: [][]sql.Expression{{arg}}}})
		ctx := sql.NewEmptyContext()
		it, err := b.BuildRowIter(ctx, builder{}, nil)
		require.NoError(t, err)
		_, err = it.Next(ctx)
		require.ErrorContains(t, err, "panic recovered: runtime error: index out of range")
		require.NoError(t, it.Close(ctx))
	})
	t.Run("invoke", func(t *testing.T) {
		inv := &panickyInvoker{squarer{max: 10, conc: 2}}
		slot := NewSlot()
		slot.exclusive = true
		arg := expression.NewGetField(1, types.Int64, "x", false)
		b := NewBatch(&rows{n: 100, mod: 100}, []*Site{{Invoker: inv, Slot: slot, Args: [][]sql.Expression{{arg}}}})
		ctx := sql.NewEmptyContext()
		it, err := b.BuildRowIter(ctx, builder{}, nil)
		require.NoError(t, err)
		_, err = it.Next(ctx)
		require.ErrorContains(t, err, "panic recovered: model client bug")
		require.NoError(t, it.Close(ctx))
	})
}
