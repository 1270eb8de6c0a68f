package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"golang.org/x/sync/errgroup"

	"github.com/sibyldb/sibyldb/internal/progress"
	"github.com/sibyldb/sibyldb/internal/recovered"
)

// Site is one batchable function evaluated by a Batch node: the argument
// expressions of every call of it in the parent node.
type Site struct {
	Invoker Invoker
	Slot    *Slot
	Args    [][]sql.Expression
	// Account is the account the site's calls are authorized as (see
	// BindAccounts).
	Account Account
}

// argGroups are the site's distinct argument lists: calls written with the
// same arguments (a query asking for a sentiment and its confidence) are
// evaluated, keyed and looked up once per row. It runs once per batch.
func (s *Site) argGroups() [][]sql.Expression {
	if len(s.Args) == 1 {
		return s.Args
	}
	var groups [][]sql.Expression
	seen := map[string]bool{}
	for _, exprs := range s.Args {
		parts := make([]string, len(exprs))
		for i, e := range exprs {
			parts[i] = e.String()
		}
		k := strings.Join(parts, "\x00")
		if !seen[k] {
			seen[k] = true
			groups = append(groups, exprs)
		}
	}
	return groups
}

// Batch evaluates the model calls of its parent node for many rows at a
// time. Its rows are its child's rows, unchanged.
type Batch struct {
	child sql.Node
	sites []*Site
	// firstBatch is the size of the first batch; later batches grow
	// geometrically to MaxBatch, so a LIMIT stops early without paying for
	// a large first request.
	firstBatch int
	// prefetch marks a Batch over a row source whose own expressions hold
	// the calls (INSERT ... VALUES): the arguments are constants for the
	// statement, so they are all evaluated and resolved before the child
	// produces its first row.
	prefetch bool
	// limit, when not negative, is the most rows the consumer wants (a
	// LIMIT above, see boundByLimit): no row past it is read or sent.
	limit int64
}

var _ sql.ExecBuilderNode = (*Batch)(nil)
var _ sql.Expressioner = (*Batch)(nil)

// Expressions implements sql.Expressioner. The argument expressions are
// exposed so that analyzer passes after ours (column index assignment in
// particular, when a subquery is analyzed again inside its parent) keep
// them in step with the rows Batch sees.
func (b *Batch) Expressions() []sql.Expression {
	var out []sql.Expression
	for _, s := range b.sites {
		for _, args := range s.Args {
			out = append(out, args...)
		}
	}
	return out
}

// WithExpressions implements sql.Expressioner.
func (b *Batch) WithExpressions(exprs ...sql.Expression) (sql.Node, error) {
	nb := *b
	nb.sites = make([]*Site, len(b.sites))
	i := 0
	for si, s := range b.sites {
		ns := *s
		ns.Args = make([][]sql.Expression, len(s.Args))
		for ai, args := range s.Args {
			if i+len(args) > len(exprs) {
				return nil, sql.ErrInvalidChildrenNumber.New(b, len(exprs), i+len(args))
			}
			ns.Args[ai] = exprs[i : i+len(args)]
			i += len(args)
		}
		nb.sites[si] = &ns
	}
	if i != len(exprs) {
		return nil, sql.ErrInvalidChildrenNumber.New(b, len(exprs), i)
	}
	return &nb, nil
}

// NewBatch returns a Batch over child.
func NewBatch(child sql.Node, sites []*Site) *Batch {
	return &Batch{child: child, sites: sites, firstBatch: 16, limit: -1}
}

// Resolved implements sql.Node.
func (b *Batch) Resolved() bool { return b.child.Resolved() }

// IsReadOnly implements sql.Node.
func (b *Batch) IsReadOnly() bool { return b.child.IsReadOnly() }

// Schema implements sql.Node.
func (b *Batch) Schema() sql.Schema { return b.child.Schema() }

// Children implements sql.Node.
func (b *Batch) Children() []sql.Node { return []sql.Node{b.child} }

// WithChildren implements sql.Node.
func (b *Batch) WithChildren(children ...sql.Node) (sql.Node, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(b, len(children), 1)
	}
	nb := *b
	nb.child = children[0]
	return &nb, nil
}

// CollationCoercibility implements sql.Node.
func (b *Batch) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return sql.GetCoercibility(ctx, b.child)
}

// Label is how EXPLAIN names the operator, as Aurora does.
const Label = "Batched machine learning"

// String implements sql.Node; EXPLAIN prints it.
func (b *Batch) String() string {
	p := sql.NewTreePrinter()
	_ = p.WriteNode("%s (%s)", Label, b.describe())
	_ = p.WriteChildren(b.child.String())
	return p.String()
}

// DebugString implements sql.DebugStringer.
func (b *Batch) DebugString() string {
	p := sql.NewTreePrinter()
	_ = p.WriteNode("%s (%s)", Label, b.describe())
	_ = p.WriteChildren(sql.DebugString(b.child))
	return p.String()
}

func (b *Batch) describe() string {
	parts := make([]string, len(b.sites))
	for i, s := range b.sites {
		parts[i] = fmt.Sprintf("%s, max batch %d", s.Invoker.Name(), s.Invoker.MaxBatch())
	}
	sort.Strings(parts)
	if b.limit >= 0 {
		return strings.Join(parts, "; ") + fmt.Sprintf("; at most %d rows", b.limit)
	}
	return strings.Join(parts, "; ")
}

func (b *Batch) maxBatch() int {
	m := 0
	for _, s := range b.sites {
		if n := s.Invoker.MaxBatch(); m == 0 || n < m {
			m = n
		}
	}
	if m <= 0 {
		m = 1
	}
	return m
}

func (b *Batch) depth() int {
	d := 1
	for _, s := range b.sites {
		if c := s.Invoker.Concurrency(); c > d {
			d = c
		}
	}
	return d
}

// NewPrefetch returns a Batch that resolves the calls in source's own
// expressions before source runs.
func NewPrefetch(source sql.Node, sites []*Site) *Batch {
	b := NewBatch(source, sites)
	b.prefetch = true
	return b
}

// BuildRowIter implements sql.ExecBuilderNode.
func (b *Batch) BuildRowIter(ctx *sql.Context, builder sql.NodeExecBuilder, row sql.Row) (sql.RowIter, error) {
	for _, s := range b.sites {
		if a, ok := s.Invoker.(Authorizer); ok {
			if err := authorizeAs(ctx, s.Account, a); err != nil {
				return nil, err
			}
		}
		s.Slot.begin(ctx.Pid())
	}
	if b.prefetch {
		it := &batchIter{b: b}
		evalRow := row
		if v, ok := b.child.(*plan.Values); ok && len(row) == 0 && len(v.ExpressionTuples) > 0 {
			// GMS evaluates a VALUES tuple against a row as wide as the
			// tuple (rowexec.buildValues, ProjectRow), and analyzes a
			// subquery in it with that scope: the arguments need the same
			// row, or the subquery's fields are out of range.
			evalRow = make(sql.Row, len(v.ExpressionTuples[0]))
		}
		work, err := it.collect(ctx, []sql.Row{evalRow}, nil)
		if err != nil {
			return nil, err
		}
		if err := resolve(ctx, work); err != nil {
			return nil, err
		}
		return builder.Build(ctx, b.child, row)
	}
	child, err := builder.Build(ctx, b.child, row)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	it := &batchIter{
		b:      b,
		child:  child,
		jobs:   make(chan *job),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	total := scanTotal(ctx, b.child, b.limit)
	it.endProgress = progress.Begin(ctx, func() progress.Report {
		return progress.Report{Name: "scoring", Done: it.scored.Load(), Total: total, Unit: "rows"}
	})
	go it.produce(ctx.WithContext(runCtx))
	return it, nil
}

type job struct {
	rows []sql.Row
	// perRow holds, for sites with one call per row, each row's entry.
	perRow map[*Site][]*entry
	done   chan struct{}
	err    error
}

type batchIter struct {
	b       *Batch
	child   sql.RowIter
	jobs    chan *job
	cancel  context.CancelFunc
	done    chan struct{} // closed when produce returns
	prodErr error
	// inflight counts resolving batches; Close waits for them so no request
	// outlives its statement.
	inflight sync.WaitGroup

	cur *job
	pos int

	// scored counts the rows handed on with their model results, for
	// PROCESSLIST's progress; endProgress stops reporting it.
	scored      atomic.Int64
	endProgress func()
}

// produce reads the child in batches of growing size and starts resolving
// each batch while the consumer works through the previous one: one batch
// is in flight ahead of the consumer, and a batch of up to MaxBatch x
// Concurrency rows goes out as Concurrency parallel requests. A consumer
// that stops early (LIMIT) has paid for at most the next, still small,
// batch.
func (it *batchIter) produce(ctx *sql.Context) {
	defer close(it.done)
	defer close(it.jobs)
	// Runs first: the consumer reads prodErr after done is closed.
	defer func() {
		if r := recover(); r != nil {
			it.prodErr = recovered.New(r)
		}
	}()
	size, max := it.b.firstBatch, it.b.maxBatch()*it.b.depth()
	remaining := it.b.limit // negative: no limit
	for {
		if size > max {
			size = max
		}
		if remaining >= 0 && int64(size) > remaining {
			size = int(remaining)
		}
		rows := make([]sql.Row, 0, size)
		var readErr error
		for len(rows) < size {
			r, err := it.child.Next(ctx)
			if err != nil {
				readErr = err
				break
			}
			rows = append(rows, r)
		}
		if ctx.Err() != nil {
			return // the consumer has closed the iterator
		}
		if len(rows) > 0 {
			j := &job{rows: rows, done: make(chan struct{}), perRow: map[*Site][]*entry{}}
			calls, err := it.collect(ctx, rows, j)
			if err != nil {
				j.err = err
				close(j.done)
			} else {
				it.inflight.Add(1)
				go func() {
					defer it.inflight.Done()
					defer close(j.done)
					defer recovered.Capture(&j.err)
					j.err = resolve(ctx, calls)
				}()
			}
			select {
			case it.jobs <- j:
			case <-ctx.Done():
				return
			}
		}
		if readErr != nil {
			if !errors.Is(readErr, io.EOF) {
				it.prodErr = readErr
			}
			return
		}
		if remaining >= 0 {
			if remaining -= int64(len(rows)); remaining == 0 {
				return // the consumer wants no more rows
			}
		}
		size *= 4
	}
}

// pending is the work for one function in one batch: tuples this batch
// claimed and must compute.
type pending struct {
	site    *Site
	entries []*entry
	args    [][]any
	done    chan struct{} // shared by entries
}

// collect evaluates the call arguments of every row (in the producer
// goroutine, since expressions are not safe for concurrent use) and claims
// the tuples no earlier batch has.
func (it *batchIter) collect(ctx *sql.Context, rows []sql.Row, j *job) ([]*pending, error) {
	var out []*pending
	for _, s := range it.b.sites {
		groups := s.argGroups()
		tuples := make([][]any, 0, len(rows)*len(groups))
		keys := make([]string, 0, cap(tuples))
		for _, row := range rows {
			for _, exprs := range groups {
				args, err := evalArgs(ctx, exprs, row)
				if err != nil {
					abandon(out, err)
					return nil, err
				}
				tuples = append(tuples, args)
				keys = append(keys, ArgsKey(args))
			}
		}
		all, mine, done, hits := s.Slot.claim(keys)
		if rec, ok := s.Invoker.(CacheHitRecorder); ok && hits > 0 {
			rec.RecordCacheHits(hits)
		}
		if j != nil && len(groups) == 1 {
			j.perRow[s] = all
		}
		if len(mine) == 0 {
			continue
		}
		p := &pending{site: s, entries: make([]*entry, len(mine)), args: make([][]any, len(mine)), done: done}
		for i, k := range mine {
			p.entries[i], p.args[i] = all[k], tuples[k]
		}
		out = append(out, p)
	}
	return out, nil
}

// abandon fails the entries claimed so far, so nobody waits for them.
func abandon(work []*pending, err error) {
	for _, p := range work {
		for _, e := range p.entries {
			e.err = err
		}
		close(p.done)
	}
}

// resolve invokes each function on its claimed tuples, in chunks of at most
// MaxBatch run concurrently up to the function's concurrency, and publishes
// the results (or the error) to the entries.
func resolve(ctx *sql.Context, work []*pending) error {
	var g errgroup.Group
	for _, p := range work {
		inv := p.site.Invoker
		// Each function has its own concurrency: one semaphore per
		// function, all chunks in one group.
		sem := make(chan struct{}, max(1, inv.Concurrency()))
		step := max(1, inv.MaxBatch())
		for lo := 0; lo < len(p.args); lo += step {
			hi := min(lo+step, len(p.args))
			args, entries := p.args[lo:hi], p.entries[lo:hi]
			sem <- struct{}{}
			recovered.Go(&g, func() (err error) {
				defer func() { <-sem }()
				// A panicking Invoke fails its own entries, not the
				// server.
				defer func() {
					if r := recover(); r != nil {
						err = recovered.New(r)
						for _, e := range entries {
							e.err = err
						}
					}
				}()
				vals, err := inv.Invoke(ctx, args)
				if err == nil && len(vals) != len(args) {
					err = fmt.Errorf("%s: %d results for %d rows", inv.Name(), len(vals), len(args))
				}
				for i, e := range entries {
					if err != nil {
						e.err = err
					} else {
						e.val = vals[i]
					}
				}
				return err
			})
		}
	}
	err := g.Wait()
	for _, p := range work {
		close(p.done)
	}
	return err
}

// Next implements sql.RowIter.
func (it *batchIter) Next(ctx *sql.Context) (sql.Row, error) {
	for it.cur == nil || it.pos >= len(it.cur.rows) {
		j, ok := <-it.jobs
		if !ok {
			<-it.done
			if it.prodErr != nil {
				return nil, it.prodErr
			}
			return nil, io.EOF
		}
		select {
		case <-j.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if j.err != nil {
			return nil, j.err
		}
		it.cur, it.pos = j, 0
	}
	r := it.cur.rows[it.pos]
	for s, entries := range it.cur.perRow {
		s.Slot.setCurrent(r, entries[it.pos])
	}
	it.pos++
	it.scored.Add(1)
	return r, nil
}

// Close implements sql.RowIter. Requests still in flight are cancelled.
func (it *batchIter) Close(ctx *sql.Context) error {
	if it.endProgress != nil {
		it.endProgress()
	}
	it.cancel()
	<-it.done
	it.inflight.Wait()
	err := it.child.Close(ctx)
	for _, s := range it.b.sites {
		s.Slot.release(ctx.Pid())
	}
	return err
}

// scanTotal is how many rows a Batch over n will score, when n reads a
// whole table (no filter, no index range): the table's row count, capped
// by a LIMIT; 0 (unknown) otherwise.
func scanTotal(ctx *sql.Context, n sql.Node, limit int64) int64 {
	var total int64
	known := true
	transform.Inspect(n, func(n sql.Node) bool {
		switch n := n.(type) {
		case *plan.Filter, *plan.IndexedTableAccess, *plan.JoinNode, *plan.Having, *plan.SetOp:
			known = false
		case *plan.ResolvedTable:
			if plan.IsDualTable(n.UnderlyingTable()) {
				return false
			}
			st, ok := n.UnderlyingTable().(sql.StatisticsTable)
			if !ok || total != 0 {
				known = false
				return false
			}
			c, _, err := st.RowCount(ctx)
			if err != nil {
				known = false
			}
			total = int64(c)
		}
		return known
	})
	if !known {
		return 0
	}
	if limit >= 0 && total > limit {
		total = limit
	}
	return total
}
