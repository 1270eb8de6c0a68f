// Package bulkload runs LOAD DATA into a Dolt table by writing the table's
// row map directly, instead of the engine's row-at-a-time path.
//
// The engine's LOAD DATA turns every line into literal expressions, runs
// each row through the generic INSERT operator and Dolt's table writer,
// whose per-row auto-increment bookkeeping alone builds an error value
// with a stack trace for every row (Dolt passes the whole row where it
// means the auto-increment value). That path loads about 70k rows/s on two
// cores. Here the lines are split and converted in parallel by the same
// reading rules as the engine path (MySQL's, see source) and the type
// conversions the engine uses, encoded into Dolt's
// key and value tuples, and put into the table's primary map in one pass;
// the new table becomes the session's working root, so the statement's
// transaction (autocommit or not) commits or rolls it back as any write.
//
// The fast path only takes loads whose result it can guarantee to equal
// the engine's: a table with a primary key, no full-text, spatial or
// vector indexes, triggers, foreign keys, CHECK constraints or generated
// columns; no user variables, SET clause or CHARACTER SET to decode; a
// column list (if any) whose left-out columns have literal defaults, or
// allow NULL, or are the AUTO_INCREMENT column (which then gets the
// counter's next values); and data where every line is one record with
// one field per listed column, every value converts cleanly and is allowed
// by the column, a listed AUTO_INCREMENT column gets explicit positive
// values, and no primary or unique key already exists. Either way the
// AUTO_INCREMENT counter then moves past the largest value. Anything else —
// decided before the session is touched — makes Load report that it did
// not apply, and the caller runs the engine's LOAD DATA, which then gives
// MySQL's errors, warnings and IGNORE/REPLACE behaviour.
package bulkload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb/durable"
	"github.com/dolthub/dolt/go/libraries/doltcore/schema"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/globalstate"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/index"
	"github.com/dolthub/dolt/go/store/pool"
	"github.com/dolthub/dolt/go/store/prolly"
	"github.com/dolthub/dolt/go/store/prolly/tree"
	"github.com/dolthub/dolt/go/store/val"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
	"golang.org/x/sync/errgroup"

	"github.com/sibyldb/sibyldb/internal/dataio"
	"github.com/sibyldb/sibyldb/internal/recovered"
)

// Result is what Load did.
type Result struct {
	// Applied is false when the fast path did not apply; nothing was
	// changed and Reason says why.
	Applied bool
	Reason  string
	// Rows is the number of rows loaded.
	Rows int64
}

// chunkSize is how much input one worker converts at a time.
const chunkSize = 1 << 20

// errNotApplicable stops the pipeline when the data needs the engine.
type errNotApplicable struct{ reason string }

func (e errNotApplicable) Error() string { return e.reason }

func notApplicable(format string, args ...any) error {
	return errNotApplicable{fmt.Sprintf(format, args...)}
}

// Load runs the analyzed LOAD DATA statement node (the engine's plan for
// LOAD DATA INFILE, as Runner.Plan returns it) if the fast path applies. It reads the file the plan names.
func Load(ctx *sql.Context, node sql.Node, loaded *atomic.Int64) (Result, error) {
	t, err := newTarget(ctx, node)
	var na errNotApplicable
	if errors.As(err, &na) {
		return Result{Reason: na.reason}, nil
	}
	if err != nil {
		return Result{}, err
	}
	t.loaded = loaded
	rows, err := t.load(ctx)
	if errors.As(err, &na) {
		return Result{Reason: na.reason}, nil
	}
	if err != nil {
		return Result{}, err
	}
	return Result{Applied: true, Rows: rows}, nil
}

// target is a checked LOAD DATA: where the rows go and how to make them.
type target struct {
	// loaded, when set, counts the rows written so far, for PROCESSLIST.
	loaded *atomic.Int64
	ld     *plan.LoadData
	format format
	cols   []column

	sess      *dsess.DoltSession
	dbName    string
	tableName doltdb.TableName
	root      doltdb.RootValue
	table     *doltdb.Table
	schema    schema.Schema
	rows      prolly.Map
	keyMap    val.OrdinalMapping // key tuple field -> column
	valMap    val.OrdinalMapping // value tuple field -> column
	indexes   []secondary

	// fieldCols maps the file's fields to cols: the statement's column
	// list, or the table's columns in order. The columns it leaves out get
	// the value in fixed, or a generated AUTO_INCREMENT value.
	fieldCols []int
	fixed     []fixedValue

	// autoInc is the AUTO_INCREMENT column's index in cols (-1: none). Its
	// values are either all explicit and positive, or (genAuto) all
	// generated: the column list leaves it out, and the rows get
	// consecutive values from autoNext, the counter's value at the start,
	// as the engine's inserts would under the server's write lock. Either
	// way the counter then moves past the largest value.
	autoInc  int
	genAuto  bool
	autoNext uint64
	tracker  globalstate.AutoIncrementTracker
}

// fixedValue is the value every row gets in a column the column list
// leaves out.
type fixedValue struct {
	col int
	v   any
}

// secondary is a secondary index; its keys are built from each row's
// primary key and value tuples by Dolt's own builder, the one CREATE INDEX
// uses on existing rows. A unique index's key is looked up by its indexed
// columns first, as Dolt's index writer does.
type secondary struct {
	def  schema.Index
	rows prolly.Map
}

// indexWriter puts one secondary index's keys during a load.
type indexWriter struct {
	def schema.Index
	mut *prolly.MutableMap
	// prefix builds a unique index's indexed columns, for the collision
	// check; nil for other indexes.
	prefix *val.TupleBuilder
}

func (s secondary) writer() *indexWriter {
	w := &indexWriter{def: s.def, mut: s.rows.Mutate()}
	if s.def.IsUnique() {
		kd, _ := s.rows.Descriptors()
		w.prefix = val.NewTupleBuilder(kd.PrefixDesc(s.def.Count()), s.rows.NodeStore())
	}
	return w
}

// put adds the index key sk; a unique index first checks it does not
// collide (which leaves the load to the engine).
func (w *indexWriter) put(ctx context.Context, sk val.Tuple) error {
	if w.prefix != nil {
		dup, err := w.collides(ctx, sk)
		if err != nil {
			return fmt.Errorf("bulk load: index %s: %w", w.def.Name(), err)
		}
		if dup {
			return notApplicable("duplicate key in unique index %s", w.def.Name())
		}
	}
	if err := w.mut.Put(ctx, sk, val.EmptyTuple); err != nil {
		return fmt.Errorf("bulk load: index %s: %w", w.def.Name(), err)
	}
	return nil
}

// collides reports whether sk's indexed columns (its first def.Count()
// fields; the primary key follows) already occur in the index, as Dolt's
// prollySecondaryIndexWriter.checkForUniqueKeyErr decides: a NULL part
// never collides.
func (w *indexWriter) collides(ctx context.Context, sk val.Tuple) (bool, error) {
	pb := w.prefix
	for i := 0; i < w.def.Count(); i++ {
		if sk.FieldIsNull(i) {
			pb.Recycle()
			return false, nil
		}
		pb.PutRaw(i, sk.GetField(i))
	}
	prefix, err := pb.Build(pool.NewBuffPool())
	if err != nil {
		return false, err
	}
	iter, err := w.mut.IterRange(ctx, prolly.PrefixRange(ctx, prefix, pb.Desc))
	if err != nil {
		return false, err
	}
	if _, _, err := iter.Next(ctx); err == io.EOF {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

func newTarget(ctx *sql.Context, node sql.Node) (*target, error) {
	var ld *plan.LoadData
	var ins *plan.InsertInto
	var other string
	var inspect func(n sql.Node) bool
	inspect = func(n sql.Node) bool {
		switch n := n.(type) {
		case *plan.LoadData:
			ld = n
		case *plan.InsertInto:
			// Children leaves out the source, analyzed on its own.
			ins = n
			transform.Inspect(n.Source, inspect)
		case *plan.ForeignKeyHandler:
			other = fmt.Sprintf("%T", n)
		case *plan.TriggerExecutor:
			// The table's INSERT triggers, in the plan since Runner.Plan
			// plans the statement as the insert it is.
			other = fmt.Sprintf("%T", n)
		}
		return true
	}
	transform.Inspect(node, inspect)
	switch {
	case ld == nil || ins == nil:
		return nil, notApplicable("not a LOAD DATA plan")
	case other != "":
		return nil, notApplicable("the table has foreign keys or triggers (%s)", other)
	case ld.Local:
		return nil, notApplicable("LOCAL")
	case len(ins.Checks()) > 0:
		return nil, notApplicable("the table has CHECK constraints")
	case len(ins.OnDupExprs) > 0 || len(ins.Returning) > 0:
		return nil, notApplicable("ON DUPLICATE KEY UPDATE or RETURNING")
	case len(ld.DestSch) == 0:
		return nil, notApplicable("no columns")
	}
	for _, e := range ld.SetExprs {
		if e != nil {
			return nil, notApplicable("SET clause")
		}
	}
	for _, v := range ld.UserVars {
		if v != nil {
			return nil, notApplicable("user variables in the column list")
		}
	}
	f, ok := formatOf(ld)
	if charset, err := dataio.Charset(ld.Charset); err != nil || charset != nil {
		return nil, notApplicable("CHARACTER SET %s", ld.Charset)
	}
	if !ok || !f.lineWise() {
		return nil, notApplicable("FIELDS/LINES options")
	}

	t := &target{ld: ld, format: f, dbName: ins.Database().Name(), tableName: doltdb.TableName{Name: ld.DestSch[0].Source}}
	sess, ok := ctx.Session.(*dsess.DoltSession)
	if !ok {
		return nil, notApplicable("not a Dolt session")
	}
	t.sess = sess
	roots, ok := sess.GetRoots(ctx, t.dbName)
	if !ok {
		return nil, notApplicable("database %s has no working set", t.dbName)
	}
	t.root = roots.Working
	tbl, ok, err := t.root.GetTable(ctx, t.tableName)
	if err != nil {
		return nil, fmt.Errorf("bulk load: %w", err)
	}
	if !ok {
		return nil, notApplicable("table %s not in the working set", t.tableName.Name)
	}
	t.table = tbl
	sch, err := tbl.GetSchema(ctx)
	if err != nil {
		return nil, fmt.Errorf("bulk load: %w", err)
	}
	switch {
	case schema.IsKeyless(sch):
		return nil, notApplicable("the table has no primary key")
	case sch.GetAllCols().StoredSize() != len(ld.DestSch) || sch.GetAllCols().Size() != len(ld.DestSch):
		return nil, notApplicable("the table has generated columns")
	}
	t.schema = sch
	for _, def := range sch.Indexes().AllIndexes() {
		if def.IsFullText() || def.IsSpatial() || def.IsVector() {
			return nil, notApplicable("index %s is full-text, spatial or vector", def.Name())
		}
		idx, err := tbl.GetIndexRowData(ctx, def.Name())
		if err != nil {
			return nil, fmt.Errorf("bulk load: index %s: %w", def.Name(), err)
		}
		m, err := durable.ProllyMapFromIndex(idx)
		if err != nil {
			return nil, notApplicable("index %s storage: %v", def.Name(), err)
		}
		t.indexes = append(t.indexes, secondary{def: def, rows: m})
	}
	t.autoInc = -1
	for i, c := range ld.DestSch {
		if c.Generated != nil || c.Virtual {
			return nil, notApplicable("column %s is generated", c.Name)
		}
		if c.AutoIncrement {
			db := ins.Database()
			for {
				w, ok := db.(interface{ Unwrap() sql.Database }) // the privilege checker's wrapper
				if !ok {
					break
				}
				db = w.Unwrap()
			}
			gs, ok := db.(globalstate.GlobalStateProvider)
			if !ok {
				return nil, notApplicable("no AUTO_INCREMENT tracker for database %s", t.dbName)
			}
			if t.tracker, err = gs.GetGlobalState().AutoIncrementTracker(ctx); err != nil {
				return nil, fmt.Errorf("bulk load: %w", err)
			}
			t.autoInc = i
		}
		t.cols = append(t.cols, newColumn(c))
	}
	if err := t.mapFields(ctx); err != nil {
		return nil, err
	}
	if t.keyMap, t.valMap, t.rows, err = rowStorage(ctx, tbl, sch, ld.DestSch); err != nil {
		return nil, err
	}
	return t, nil
}

// rowStorage is table tbl's (of schema sch) primary row map and where
// its key and value tuples' fields are in the statement's rows, of
// schema s.
func rowStorage(ctx context.Context, tbl *doltdb.Table, sch schema.Schema, s sql.Schema) (keyMap, valMap val.OrdinalMapping, rows prolly.Map, err error) {
	if keyMap, err = columnMapping(sch.GetPKCols(), s); err != nil {
		return nil, nil, rows, err
	}
	if valMap, err = columnMapping(sch.GetNonPKCols(), s); err != nil {
		return nil, nil, rows, err
	}
	idx, err := tbl.GetRowData(ctx)
	if err != nil {
		return nil, nil, rows, fmt.Errorf("bulk load: %w", err)
	}
	if rows, err = durable.ProllyMapFromIndex(idx); err != nil {
		return nil, nil, rows, notApplicable("row storage: %v", err)
	}
	return keyMap, valMap, rows, nil
}

// columnMapping maps the stored columns cc (a table's key or non-key
// columns) to their positions in the statement's rows, of schema s.
func columnMapping(cc *schema.ColCollection, s sql.Schema) (val.OrdinalMapping, error) {
	m := make(val.OrdinalMapping, cc.StoredSize())
	for i := range m {
		m[i] = s.IndexOfColName(cc.GetByStoredIndex(i).Name)
		if m[i] < 0 {
			return nil, notApplicable("column %s not in the statement's schema", cc.GetByStoredIndex(i).Name)
		}
	}
	return m, nil
}

// mapFields sets fieldCols, fixed and genAuto from the column list.
func (t *target) mapFields(ctx *sql.Context) error {
	ld := t.ld
	listed := make([]bool, len(t.cols))
	if len(ld.ColNames) == 0 {
		for i := range t.cols {
			t.fieldCols, listed[i] = append(t.fieldCols, i), true
		}
	}
	for _, name := range ld.ColNames {
		i := ld.DestSch.IndexOfColName(name)
		if i < 0 || listed[i] {
			return notApplicable("column list names %s twice or not at all", name)
		}
		t.fieldCols, listed[i] = append(t.fieldCols, i), true
	}
	for i, c := range ld.DestSch {
		switch {
		case listed[i]:
		case i == t.autoInc:
			t.genAuto = true
		default:
			v, err := literalDefault(ctx, c)
			if err != nil {
				return err
			}
			t.fixed = append(t.fixed, fixedValue{col: i, v: v})
		}
	}
	if !t.genAuto {
		return nil
	}
	if len(t.format.lineStart) > 0 {
		// Generated values are handed out per chunk by counting lines.
		return notApplicable("LINES STARTING BY with generated AUTO_INCREMENT values")
	}
	var err error
	t.autoNext, err = t.tracker.Current(strings.ToLower(t.tableName.Name))
	if err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	return nil
}

// literalDefault is the value the engine's insert gives a column the
// column list leaves out, when the bulk path can know it in advance: the
// column's literal default, or NULL for a nullable column without one.
// An expression default or a NOT NULL column without a default (error
// 1364 in strict mode) is left to the engine.
func literalDefault(ctx *sql.Context, c *sql.Column) (any, error) {
	if c.Default == nil {
		if c.Nullable {
			return nil, nil
		}
		return nil, notApplicable("column %s is left out and has no default", c.Name)
	}
	if !c.Default.IsLiteral() {
		return nil, notApplicable("column %s is left out and has an expression default", c.Name)
	}
	v, err := c.Default.Eval(ctx, nil)
	if err != nil || (v == nil && !c.Nullable) {
		return nil, notApplicable("column %s: default: %v", c.Name, err)
	}
	if v == nil {
		return nil, nil
	}
	v, inRange, err := c.Type.Convert(ctx, v)
	if err != nil || inRange != sql.InRange {
		return nil, notApplicable("column %s: default %v does not convert", c.Name, v)
	}
	return v, nil
}

// chunk is a run of whole lines and, once converted, its tuples.
type chunk struct {
	data     []byte
	last     bool
	done     chan struct{}
	kvs      []kv
	autoBase uint64 // the first generated AUTO_INCREMENT value (genAuto)
	maxAuto  uint64 // the largest AUTO_INCREMENT value among kvs
	err      error
}

type kv struct {
	k, v val.Tuple
	sec  []val.Tuple // one key per secondary index
}

// load converts the file in parallel and writes the rows in file order.
func (t *target) load(ctx *sql.Context) (int64, error) {
	file, err := openFile(t.ld.File)
	if err != nil {
		return 0, err
	}
	defer file.Close()

	workers := runtime.GOMAXPROCS(0)
	encoders := make([]*encoder, workers)
	for i := range encoders {
		if encoders[i], err = t.newEncoder(ctx); err != nil {
			return 0, err
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	todo := make(chan *chunk, workers)
	inOrder := make(chan *chunk, 2*workers)
	// Each goroutine turns a panic into the statement's error (and so
	// cancels gctx, which the others wait on).
	recovered.Go(g, func() error {
		defer close(todo)
		defer close(inOrder)
		return t.read(gctx, file, todo, inOrder)
	})
	for _, enc := range encoders {
		recovered.Go(g, func() error {
			for c := range todo {
				c.kvs, c.err = encodeChunk(enc, c)
				close(c.done)
			}
			return nil
		})
	}
	var n int64
	recovered.Go(g, func() error {
		var err error
		n, err = t.write(gctx, ctx, inOrder)
		return err
	})
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return n, nil
}

// encodeChunk encodes c, a panic becoming the chunk's error so that the
// writer waiting on it reports it in file order.
func encodeChunk(enc *encoder, c *chunk) (kvs []kv, err error) {
	defer recovered.Capture(&err)
	return enc.encode(c)
}

// read cuts the file into chunks of whole lines, after IGNORE n LINES.
func (t *target) read(ctx context.Context, r io.Reader, todo, inOrder chan<- *chunk) error {
	var carry []byte
	autoNext := t.autoNext
	skip := t.ld.IgnoreNum // IGNORE n LINES: whole records
	header := splitter{f: &t.format}
	for {
		// A line longer than a chunk doubles the buffer rather than
		// growing it by a chunk at a time.
		buf := make([]byte, len(carry), len(carry)+max(chunkSize, len(carry)))
		copy(buf, carry)
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return fmt.Errorf("read %s: %w", t.ld.File, err)
		}
		for skip > 0 && len(buf) > 0 {
			line, rest, ok := t.format.nextLine(buf, eof)
			if !ok {
				break // the line goes on in the next read
			}
			buf = rest
			switch _, _, kind := header.split(line); kind {
			case lineContinues:
				return notApplicable("a skipped record goes on past its line terminator")
			case lineRecord:
				skip--
			}
		}
		if skip > 0 && !eof {
			carry = buf
			continue
		}
		c := &chunk{done: make(chan struct{})}
		if eof {
			c.data, c.last = buf, true
		} else {
			i := bytes.LastIndex(buf, t.format.lineTerm)
			if i < 0 { // a line longer than a chunk: keep reading
				carry = buf
				continue
			}
			cut := i + len(t.format.lineTerm)
			c.data, carry = buf[:cut], buf[cut:]
		}
		if t.genAuto {
			// Every line is a record (encode steps aside otherwise), so
			// the chunk's records take the next values in file order.
			c.autoBase = autoNext
			autoNext += uint64(bytes.Count(c.data, t.format.lineTerm))
			if c.last && len(c.data) > 0 && !bytes.HasSuffix(c.data, t.format.lineTerm) {
				autoNext++
			}
		}
		select {
		case inOrder <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case todo <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		if c.last {
			return nil
		}
	}
}

// write puts the converted rows into the table's map, in file order, and
// makes the result the session's working root.
func (t *target) write(ctx context.Context, sctx *sql.Context, inOrder <-chan *chunk) (int64, error) {
	mut := t.rows.Mutate()
	indexes := make([]*indexWriter, len(t.indexes))
	for i, ix := range t.indexes {
		indexes[i] = ix.writer()
	}
	kd, _ := t.rows.Descriptors()
	count, err := t.rows.Count()
	if err != nil {
		return 0, fmt.Errorf("bulk load: %w", err)
	}
	// Keys arriving in increasing order into an empty table cannot
	// collide; otherwise every key is looked up first.
	ordered := count == 0
	var prev val.Tuple
	var n int64
	var maxAuto uint64
	for c := range inOrder {
		select {
		case <-c.done:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		if c.err != nil {
			return 0, c.err
		}
		maxAuto = max(maxAuto, c.maxAuto)
		for _, e := range c.kvs {
			if ordered && prev != nil && kd.Compare(ctx, prev, e.k) >= 0 {
				ordered = false
			}
			if !ordered {
				dup, err := mut.Has(ctx, e.k)
				if err != nil {
					return 0, fmt.Errorf("bulk load: %w", err)
				}
				if dup {
					return 0, notApplicable("duplicate key")
				}
			}
			if err := mut.Put(ctx, e.k, e.v); err != nil {
				return 0, fmt.Errorf("bulk load: %w", err)
			}
			for i, sk := range e.sec {
				if err := indexes[i].put(ctx, sk); err != nil {
					return 0, err
				}
			}
			prev = e.k
			n++
		}
		if t.loaded != nil {
			t.loaded.Add(int64(len(c.kvs)))
		}
		c.kvs = nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m, err := mut.Map(ctx)
	if err != nil {
		return 0, fmt.Errorf("bulk load: %w", err)
	}
	tbl, err := t.table.UpdateRows(ctx, durable.IndexFromProllyMap(m))
	if err != nil {
		return 0, fmt.Errorf("bulk load: %w", err)
	}
	for _, w := range indexes {
		m, err := w.mut.Map(ctx)
		if err != nil {
			return 0, fmt.Errorf("bulk load: index %s: %w", w.def.Name(), err)
		}
		if tbl, err = tbl.SetIndexRows(ctx, w.def.Name(), durable.IndexFromProllyMap(m)); err != nil {
			return 0, fmt.Errorf("bulk load: index %s: %w", w.def.Name(), err)
		}
	}
	if maxAuto > 0 {
		// As the engine's inserts do through the same tracker: the
		// counter (shared by all sessions) and the table's stored value
		// move past the largest loaded value, unless already beyond it.
		ws, err := t.sess.WorkingSet(sctx, t.dbName)
		if err != nil {
			return 0, fmt.Errorf("bulk load: %w", err)
		}
		if tbl, err = t.tracker.Set(sctx, t.tableName.Name, tbl, ws.Ref(), maxAuto+1); err != nil {
			return 0, fmt.Errorf("bulk load: AUTO_INCREMENT: %w", err)
		}
	}
	if err := setTable(sctx, t.sess, t.dbName, t.root, t.tableName, tbl); err != nil {
		return 0, err
	}
	return n, nil
}

// setTable makes root with table name set to tbl the session's working
// root of database db: the statement's transaction then commits or rolls
// it back as any write.
func setTable(ctx *sql.Context, sess *dsess.DoltSession, db string, root doltdb.RootValue, name doltdb.TableName, tbl *doltdb.Table) error {
	root, err := root.PutTable(ctx, name, tbl)
	if err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	if err := sess.SetWorkingRoot(ctx, db, root); err != nil {
		return fmt.Errorf("bulk load: %w", err)
	}
	return nil
}

// encoder is one worker's state: a line splitter and tuple builders.
type encoder struct {
	t     *target
	ctx   *sql.Context
	split splitter
	row   sql.Row
	tuples
	sec []index.SecondaryKeyBuilder
}

// tuples encodes SQL rows into a table's key and value tuples as Dolt's
// prollyIndexWriter does. One per goroutine: the builders are reused.
type tuples struct {
	keyMap, valMap val.OrdinalMapping // tuple field -> row column
	ns             tree.NodeStore
	kb, vb         *val.TupleBuilder
	pool           pool.BuffPool
	// json marks the value fields whose small JSON documents putSmallJSON
	// writes (nil: none).
	json []bool
}

func newTuples(ctx *sql.Context, rows prolly.Map, keyMap, valMap val.OrdinalMapping) tuples {
	kd, vd := rows.Descriptors()
	ns := rows.NodeStore()
	t := tuples{keyMap: keyMap, valMap: valMap, ns: ns,
		kb: val.NewTupleBuilder(kd, ns), vb: val.NewTupleBuilder(vd, ns), pool: pool.NewBuffPool()}
	if optimizedJSON(ctx) {
		t.json = jsonColumns(vd)
	}
	return t
}

func (t *target) newEncoder(ctx *sql.Context) (*encoder, error) {
	e := &encoder{
		t: t, ctx: ctx, split: splitter{f: &t.format},
		row: make(sql.Row, len(t.cols)), tuples: newTuples(ctx, t.rows, t.keyMap, t.valMap),
	}
	for _, ix := range t.indexes {
		ikd, _ := ix.rows.Descriptors()
		b, err := index.NewSecondaryKeyBuilder(ctx, t.tableName.Name, t.schema, ix.def, ikd, e.pool, e.ns)
		if err != nil {
			return nil, notApplicable("index %s: %v", ix.def.Name(), err)
		}
		e.sec = append(e.sec, b)
	}
	return e, nil
}

func (e *encoder) encode(c *chunk) ([]kv, error) {
	out := make([]kv, 0, len(c.data)/64)
	data := c.data
	autoID := c.autoBase
	for {
		line, rest, ok := e.t.format.nextLine(data, c.last)
		if !ok {
			if len(rest) > 0 {
				return nil, notApplicable("line terminator split across chunks")
			}
			return out, nil
		}
		data = rest
		fields, nulls, kind := e.split.split(line)
		switch kind {
		case lineSkipped:
			continue
		case lineContinues:
			return nil, notApplicable("a record goes on past its line terminator")
		}
		if len(fields) != len(e.t.fieldCols) {
			return nil, notApplicable("a line has %d fields for %d columns", len(fields), len(e.t.fieldCols))
		}
		for k, f := range fields {
			i := e.t.fieldCols[k]
			v, ok := e.t.cols[i].value(e.ctx, f, nulls[k])
			if !ok {
				return nil, notApplicable("a value for column %s needs the engine's conversion rules", e.t.cols[i].name)
			}
			if i == e.t.autoInc {
				// NULL, 0 or a negative value asks for (or upsets) the
				// counter: the engine's inserts handle those.
				n, inRange, err := types.Uint64.Convert(e.ctx, v)
				if err != nil || inRange != sql.InRange || n == nil || n.(uint64) == 0 {
					return nil, notApplicable("AUTO_INCREMENT column %s needs a value generated", e.t.cols[i].name)
				}
				c.maxAuto = max(c.maxAuto, n.(uint64))
			}
			e.row[i] = v
		}
		for _, f := range e.t.fixed {
			e.row[f.col] = f.v
		}
		if e.t.genAuto {
			col := &e.t.cols[e.t.autoInc]
			v, inRange, err := col.typ.Convert(e.ctx, autoID)
			if err != nil || inRange != sql.InRange {
				return nil, notApplicable("generated AUTO_INCREMENT value %d is out of range for column %s", autoID, col.name)
			}
			e.row[e.t.autoInc] = v
			c.maxAuto = max(c.maxAuto, autoID)
			autoID++
		}
		k, v, err := e.encodeRow(e.ctx, e.row)
		if err != nil {
			return nil, err
		}
		var sec []val.Tuple
		if len(e.sec) > 0 {
			sec = make([]val.Tuple, len(e.sec))
			for i, b := range e.sec {
				if sec[i], err = b.SecondaryKeyFromRow(e.ctx, k, v); err != nil {
					return nil, notApplicable("index key: %v", err)
				}
			}
		}
		out = append(out, kv{k, v, sec})
	}
}

// encodeRow encodes row as Dolt's prollyIndexWriter does.
func (e *tuples) encodeRow(ctx context.Context, row sql.Row) (val.Tuple, val.Tuple, error) {
	for to, from := range e.keyMap {
		if err := tree.PutField(ctx, e.ns, e.kb, to, row[from]); err != nil {
			return nil, nil, notApplicable("key encoding: %v", err)
		}
	}
	k, err := e.kb.BuildPermissive(e.pool)
	if err != nil {
		return nil, nil, notApplicable("key encoding: %v", err)
	}
	for to, from := range e.valMap {
		if e.json != nil && e.json[to] {
			if done, err := putSmallJSON(ctx, e.ns, e.vb, to, row[from]); err != nil {
				return nil, nil, err
			} else if done {
				continue
			}
		}
		if err := tree.PutField(ctx, e.ns, e.vb, to, row[from]); err != nil {
			return nil, nil, notApplicable("value encoding: %v", err)
		}
	}
	v, err := e.vb.Build(e.pool)
	if err != nil {
		return nil, nil, notApplicable("value encoding: %v", err)
	}
	return k, v, nil
}
