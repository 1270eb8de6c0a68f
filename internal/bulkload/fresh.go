package bulkload

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb/durable"
	"github.com/dolthub/dolt/go/libraries/doltcore/schema"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/dolt/go/store/prolly"
	"github.com/dolthub/dolt/go/store/prolly/message"
	"github.com/dolthub/dolt/go/store/prolly/tree"
	"github.com/dolthub/dolt/go/store/val"
	"github.com/dolthub/go-mysql-server/sql"
	"golang.org/x/sync/errgroup"

	"github.com/sibyldb/sibyldb/internal/recovered"
)

// freshChunkRows is how many rows one worker encodes at a time.
const freshChunkRows = 1024

// TableWriter fills a table that the running statement has just created
// (so it is empty, and no other session can see it before the statement's
// transaction commits) by writing its primary row map directly, as Load
// does for LOAD DATA, instead of inserting row by row through the engine.
//
// Rows are encoded into Dolt's key and value tuples on GOMAXPROCS
// goroutines (an address-encoded value such as a JSON document is written
// to the table's node store there, as Dolt's table writer would write it).
// Rows that arrive in primary-key order, as a scan of a table with the
// same key delivers them, are appended to a new map by Dolt's tree chunker
// without any per-row lookup; should a key arrive out of order, the map
// built so far is edited from there on, every key checked for a duplicate.
// Finish makes the filled table the session's working root, so the
// statement's transaction commits or rolls it back as any write; until
// then the session is untouched.
//
// Insert and Finish are called from one goroutine.
type TableWriter struct {
	sess      *dsess.DoltSession
	dbName    string
	tableName doltdb.TableName
	root      doltdb.RootValue
	table     *doltdb.Table
	rows      prolly.Map
	keyMap    val.OrdinalMapping
	valMap    val.OrdinalMapping

	cancel  context.CancelFunc
	g       *errgroup.Group
	gctx    context.Context
	todo    chan *rowChunk
	inOrder chan *rowChunk
	cur     *rowChunk
	result  prolly.Map
	n       int64
	closed  bool
}

// rowChunk is a run of rows and, once done is closed, their tuples.
type rowChunk struct {
	rows []sql.Row
	kvs  []kv
	err  error
	done chan struct{}
}

// NewTableWriter returns a writer for table in database db of ctx's
// session, a table this statement created with schema s (its columns in
// the order of the rows to be inserted). It declines, returning a nil
// writer and the reason, when the table is not one it can fill exactly as
// the engine's inserts would: it must be a Dolt table with a primary key
// and nothing else to maintain (no secondary indexes, CHECK constraints,
// generated or AUTO_INCREMENT columns) and no rows. Nothing is changed
// either way; the writer's goroutines run until Finish or Abort.
func NewTableWriter(ctx *sql.Context, db, table string, s sql.Schema) (*TableWriter, string, error) {
	w, err := newTableWriter(ctx, db, table, s)
	var na errNotApplicable
	if errors.As(err, &na) {
		return nil, na.reason, nil
	}
	if err != nil {
		return nil, "", err
	}
	workers := runtime.GOMAXPROCS(0)
	gctx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	w.g, w.gctx = errgroup.WithContext(gctx)
	w.todo = make(chan *rowChunk, workers)
	w.inOrder = make(chan *rowChunk, 2*workers)
	w.cur = &rowChunk{rows: make([]sql.Row, 0, freshChunkRows), done: make(chan struct{})}
	for i := 0; i < workers; i++ {
		enc := newTuples(ctx, w.rows, w.keyMap, w.valMap)
		recovered.Go(w.g, func() error {
			for c := range w.todo {
				c.kvs, c.err = encodeRows(ctx, &enc, c.rows)
				close(c.done)
			}
			return nil
		})
	}
	recovered.Go(w.g, func() error { return w.build(w.gctx) })
	return w, "", nil
}

func newTableWriter(ctx *sql.Context, db, table string, s sql.Schema) (*TableWriter, error) {
	sess, ok := ctx.Session.(*dsess.DoltSession)
	if !ok {
		return nil, notApplicable("not a Dolt session")
	}
	roots, ok := sess.GetRoots(ctx, db)
	if !ok {
		return nil, notApplicable("database %s has no working set", db)
	}
	w := &TableWriter{sess: sess, dbName: db, root: roots.Working}
	tbl, name, ok, err := doltdb.GetTableInsensitive(ctx, w.root, doltdb.TableName{Name: table})
	if err != nil {
		return nil, fmt.Errorf("bulk write: %w", err)
	}
	if !ok {
		return nil, notApplicable("table %s not in the working set", table)
	}
	w.tableName, w.table = doltdb.TableName{Name: name}, tbl
	sch, err := tbl.GetSchema(ctx)
	if err != nil {
		return nil, fmt.Errorf("bulk write: %w", err)
	}
	switch {
	case schema.IsKeyless(sch):
		return nil, notApplicable("the table has no primary key")
	case sch.Indexes().Count() > 0:
		return nil, notApplicable("the table has secondary indexes")
	case sch.Checks().Count() > 0:
		return nil, notApplicable("the table has CHECK constraints")
	case sch.GetAllCols().StoredSize() != len(s) || sch.GetAllCols().Size() != len(s):
		return nil, notApplicable("the table's columns are not the statement's")
	}
	for _, c := range s {
		if c.Generated != nil || c.Virtual || c.AutoIncrement {
			return nil, notApplicable("column %s is generated or AUTO_INCREMENT", c.Name)
		}
	}
	if w.keyMap, w.valMap, w.rows, err = rowStorage(ctx, tbl, sch, s); err != nil {
		return nil, err
	}
	if n, err := w.rows.Count(); err != nil {
		return nil, fmt.Errorf("bulk write: %w", err)
	} else if n > 0 {
		return nil, notApplicable("the table is not empty")
	}
	return w, nil
}

// encodeRows encodes a chunk's rows, a panic becoming the chunk's error.
func encodeRows(ctx *sql.Context, enc *tuples, rows []sql.Row) (kvs []kv, err error) {
	defer recovered.Capture(&err)
	kvs = make([]kv, len(rows))
	for i, row := range rows {
		k, v, err := enc.encodeRow(ctx, row)
		var na errNotApplicable
		if errors.As(err, &na) {
			// Too late to step aside: the rows have been consumed.
			return nil, fmt.Errorf("bulk write: %s", na.reason)
		}
		if err != nil {
			return nil, err
		}
		kvs[i] = kv{k: k, v: v}
	}
	return kvs, nil
}

// Insert adds row (its columns in the order of the writer's schema). The
// writer keeps it until it is encoded. An error of an earlier row may be
// reported here.
func (w *TableWriter) Insert(row sql.Row) error {
	w.cur.rows = append(w.cur.rows, row)
	if len(w.cur.rows) < freshChunkRows {
		return nil
	}
	return w.flush()
}

// flush hands the current chunk to the workers and the builder.
func (w *TableWriter) flush() error {
	c := w.cur
	w.cur = &rowChunk{rows: make([]sql.Row, 0, freshChunkRows), done: make(chan struct{})}
	for _, ch := range []chan *rowChunk{w.inOrder, w.todo} {
		select {
		case ch <- c:
		case <-w.gctx.Done():
			return w.stop()
		}
	}
	return nil
}

// stop ends the goroutines and returns the first error among them.
func (w *TableWriter) stop() error {
	if w.closed {
		return errors.New("bulk write: the writer is closed")
	}
	w.closed = true
	close(w.todo)
	close(w.inOrder)
	err := w.g.Wait()
	w.cancel()
	return err
}

// build puts the encoded rows into a new map, in insertion order.
func (w *TableWriter) build(ctx context.Context) error {
	ns := w.rows.NodeStore()
	kd, vd := w.rows.Descriptors()
	ch, err := tree.NewEmptyChunker(ctx, ns, message.NewProllyMapSerializer(vd, ns.Pool()))
	if err != nil {
		return fmt.Errorf("bulk write: %w", err)
	}
	var mut *prolly.MutableMap // once a key came out of order
	var prev val.Tuple
	for c := range w.inOrder {
		select {
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if c.err != nil {
			return c.err
		}
		for _, e := range c.kvs {
			if mut == nil && prev != nil && kd.Compare(ctx, prev, e.k) >= 0 {
				root, err := ch.Done(ctx)
				if err != nil {
					return fmt.Errorf("bulk write: %w", err)
				}
				mut = prolly.NewMap(root, ns, kd, vd).Mutate()
			}
			if mut == nil {
				if err := ch.AddPair(ctx, tree.Item(e.k), tree.Item(e.v)); err != nil {
					return fmt.Errorf("bulk write: %w", err)
				}
				prev = e.k
				continue
			}
			if dup, err := mut.Has(ctx, e.k); err != nil {
				return fmt.Errorf("bulk write: %w", err)
			} else if dup {
				return sql.NewUniqueKeyErr(kd.Format(ctx, e.k), true, nil)
			}
			if err := mut.Put(ctx, e.k, e.v); err != nil {
				return fmt.Errorf("bulk write: %w", err)
			}
		}
		w.n += int64(len(c.kvs))
	}
	if mut != nil {
		if w.result, err = mut.Map(ctx); err != nil {
			return fmt.Errorf("bulk write: %w", err)
		}
		return nil
	}
	root, err := ch.Done(ctx)
	if err != nil {
		return fmt.Errorf("bulk write: %w", err)
	}
	w.result = prolly.NewMap(root, ns, kd, vd)
	return nil
}

// Finish waits for the rows to be written and makes the filled table the
// session's working root. It returns the number of rows.
func (w *TableWriter) Finish(ctx *sql.Context) (int64, error) {
	if len(w.cur.rows) > 0 {
		if err := w.flush(); err != nil {
			return 0, err
		}
	}
	if err := w.stop(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	tbl, err := w.table.UpdateRows(ctx, durable.IndexFromProllyMap(w.result))
	if err != nil {
		return 0, fmt.Errorf("bulk write: %w", err)
	}
	if err := setTable(ctx, w.sess, w.dbName, w.root, w.tableName, tbl); err != nil {
		return 0, err
	}
	return w.n, nil
}

// Abort stops the writer without changing the session.
func (w *TableWriter) Abort() {
	if w.closed {
		return
	}
	w.cancel()
	_ = w.stop()
}
