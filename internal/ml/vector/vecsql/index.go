package vecsql

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"sync"

	"github.com/dolthub/dolt/go/libraries/doltcore/sqle"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"

	"github.com/sibyldb/sibyldb/internal/ml/vector"
	"github.com/sibyldb/sibyldb/internal/status"
)

// The HNSW graphs live in memory, next to a copy of the indexed table's
// rows, and are derived from the table, which stays the only durable
// copy (so the index is exactly as crash-safe as the table, and nothing
// can drift between two stores).
//
// A graph is built from a table scan on the first search after start (or
// after CREATE/ALTER), tagged with the hash of the table's data as the
// searching transaction sees it. A later search whose view of the table
// has another hash brings the graph up to date first: one scan, inserting
// rows that are new or changed and tomb-stoning rows that are gone, so
// INSERT, UPDATE, DELETE and LOAD DATA are all seen without hooks into the
// write path. The cost of that design is one table scan on the first
// search after each write (the HNSW inserts are only for changed rows):
// cheap for read-mostly tables, and the trade-off against hooking every
// write path of the engine (and its transaction rollback) which we chose
// not to take.
var indexes = struct {
	sync.Mutex
	m map[string]*graphEntry
}{m: map[string]*graphEntry{}}

// graphBuilds counts graphs built from scratch (Sibyl_vector_graph_builds):
// once per index and table version seen, whatever columns statements read.
// Install registers it.
var graphBuilds = sync.OnceValue(func() *status.Counter {
	return status.Global().Counter("Sibyl_vector_graph_builds")
})

type graphEntry struct {
	mu    sync.RWMutex
	hash  string
	graph *vector.HNSW
	rows  []sql.Row
	byKey map[rowDigest][]uint32
}

// rowDigest identifies a row's content: 128 bits of hash over every
// column, so that a refresh recognises unchanged rows without keeping a
// copy of their text (a printed 100-dimension vector is kilobytes), and
// two different rows collide with probability about n^2/2^129.
type rowDigest [2]uint64

var digestSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// tableHash is the hash of t's data in the current transaction, or "" when
// the table cannot tell (the graph is then refreshed for every search).
// Dolt's writable tables embed *sqle.DoltTable in a field of the same name
// as its DoltTable method, which hides the method from an interface check.
func tableHash(ctx *sql.Context, t sql.Table) string {
	for {
		var dt *sqle.DoltTable
		switch x := t.(type) {
		case *sqle.DoltTable:
			dt = x
		case *sqle.WritableDoltTable:
			dt = x.DoltTable
		case *sqle.AlterableDoltTable:
			dt = x.DoltTable
		}
		if dt != nil {
			tbl, err := dt.DoltTable(ctx)
			if err != nil {
				return ""
			}
			h, err := tbl.HashOf()
			if err != nil {
				return ""
			}
			return h.String()
		}
		w, ok := t.(sql.TableWrapper)
		if !ok {
			return ""
		}
		t = w.Underlying()
	}
}

// rowKey is the digest of r's values, unwrapped (a lazily loaded value
// is hashed by content, not by the wrapper's address).
func rowKey(ctx *sql.Context, r sql.Row) (rowDigest, error) {
	var hs [2]maphash.Hash
	var buf [8]byte
	for i := range hs {
		hs[i].SetSeed(digestSeeds[i])
	}
	write := func(tag byte, b []byte) {
		n := binary.LittleEndian.AppendUint64(buf[:0], uint64(len(b)))
		for i := range hs {
			hs[i].WriteByte(tag)
			hs[i].Write(n)
			hs[i].Write(b)
		}
	}
	for _, v := range r {
		u, err := sql.UnwrapAny(ctx, v)
		if err != nil {
			return rowDigest{}, err
		}
		switch x := u.(type) {
		case nil:
			write(0, nil)
		case []byte:
			write(1, x)
		case string:
			write(2, []byte(x))
		case int64:
			write(3, binary.LittleEndian.AppendUint64(nil, uint64(x)))
		case int32:
			write(3, binary.LittleEndian.AppendUint64(nil, uint64(x)))
		case uint64:
			write(4, binary.LittleEndian.AppendUint64(nil, x))
		case uint32:
			write(4, binary.LittleEndian.AppendUint64(nil, uint64(x)))
		default:
			// Any other type by its printed value and Go type.
			write(5, fmt.Appendf(nil, "%T:%v", x, x))
		}
	}
	return rowDigest{hs[0].Sum64(), hs[1].Sum64()}, nil
}

// graphFor returns the graph over column col of rt, current for ctx's view
// of the table, read-locked (the caller must call release), and proj: for
// each column of rt's schema, its position in the graph's rows, nil when
// they are the same. The graph holds the table's full rows whatever
// columns this plan reads, so every statement over the index shares one
// graph; keyed by the plan's projection, each column list used to build
// and hold its own (seconds per 50k rows, minutes at 341k).
func graphFor(ctx *sql.Context, b sql.NodeExecBuilder, rt *plan.ResolvedTable, col int, opts Options, dim int) (*graphEntry, []int, func(), error) {
	var proj []int
	if pt, ok := rt.Table.(sql.ProjectedTable); ok && pt.Projections() != nil {
		n, err := rt.WithTable(pt.WithProjections(nil))
		if err != nil {
			return nil, nil, nil, err
		}
		full := n.(*plan.ResolvedTable)
		fullSchema := full.Schema()
		proj = make([]int, len(rt.Schema()))
		for i, c := range rt.Schema() {
			if proj[i] = fullSchema.IndexOfColName(c.Name); proj[i] < 0 {
				return nil, nil, nil, fmt.Errorf("vector index: column %s not in table %s", c.Name, rt.Name())
			}
		}
		rt, col = full, proj[col]
	}
	schema := rt.Schema()
	names := make([]string, len(schema))
	for i, c := range schema {
		names[i] = c.Name
	}
	key := strings.ToLower(fmt.Sprintf("%s.%s.%d.%s.%d.%v", rt.SqlDatabase.Name(), rt.Name(), col, strings.Join(names, ","), opts.M, opts.Metric))
	indexes.Lock()
	e, ok := indexes.m[key]
	if !ok {
		e = &graphEntry{}
		indexes.m[key] = e
	}
	indexes.Unlock()

	h := tableHash(ctx, rt.Table)
	e.mu.RLock()
	if h != "" && e.hash == h && e.graph != nil {
		return e, proj, e.mu.RUnlock, nil
	}
	e.mu.RUnlock()
	e.mu.Lock()
	if h == "" || e.hash != h || e.graph == nil {
		if err := e.refresh(ctx, b, rt, col, opts, dim); err != nil {
			// A scan that failed part way leaves rows in the graph that
			// byKey does not know: start over next time.
			e.graph, e.rows, e.byKey, e.hash = nil, nil, nil, ""
			e.mu.Unlock()
			return nil, nil, nil, err
		}
		e.hash = h
	}
	// Hold the write lock for this search: the graph matches this view.
	return e, proj, e.mu.Unlock, nil
}

// refresh brings the graph up to date with a scan of the table.
func (e *graphEntry) refresh(ctx *sql.Context, b sql.NodeExecBuilder, rt *plan.ResolvedTable, col int, opts Options, dim int) error {
	iter, err := b.Build(ctx, rt, nil)
	if err != nil {
		return err
	}
	defer iter.Close(ctx)
	old := e.byKey
	fresh := e.graph == nil
	if fresh {
		e.graph = vector.NewHNSW(opts.Metric, dim, opts.M, 10*opts.M+40)
		e.rows = nil
		graphBuilds().Add(1)
	}
	next := make(map[rowDigest][]uint32, len(old))
	for {
		r, err := iter.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		k, err := rowKey(ctx, r)
		if err != nil {
			return err
		}
		if ids := old[k]; len(ids) > 0 {
			next[k] = append(next[k], ids[len(ids)-1])
			old[k] = ids[:len(ids)-1]
			continue
		}
		v, ok := rowVector(ctx, r[col])
		if !ok || len(v) != dim {
			continue
		}
		id := e.graph.Add(v)
		e.rows = append(e.rows, r)
		next[k] = append(next[k], id)
	}
	for _, ids := range old {
		for _, id := range ids {
			e.graph.Delete(id)
			e.rows[id] = nil
		}
	}
	e.byKey = next
	// Many tombstones slow searches down: rebuild when they dominate.
	if nodes, _ := e.graph.Size(); nodes > 1024 && e.graph.Len() < nodes/2 {
		e.graph, e.byKey, e.rows = nil, nil, nil
		return e.refresh(ctx, b, rt, col, opts, dim)
	}
	return nil
}

func rowVector(ctx *sql.Context, v any) ([]float32, bool) {
	if u, err := sql.UnwrapAny(ctx, v); err == nil {
		v = u
	}
	return binaryVector(v)
}
