package vector

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func datasets(t *testing.T) string {
	dir := os.Getenv("SIBYLDB_DATASETS")
	if dir == "" {
		dir = "/work/shared/datasets"
	}
	if _, err := os.Stat(filepath.Join(dir, "sts_benchmark")); err != nil {
		t.Skipf("datasets not found at %s (set SIBYLDB_DATASETS)", dir)
	}
	return filepath.Join(dir, "sts_benchmark")
}

type pair struct {
	gold   float64
	s1, s2 string
}

func readPairs(t *testing.T, path string, scoreCol, s1Col, header int) []pair {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []pair
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 0; sc.Scan(); n++ {
		if n < header {
			continue
		}
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) <= s1Col+1 {
			continue
		}
		g, err := strconv.ParseFloat(fs[scoreCol], 64)
		if err != nil {
			continue
		}
		out = append(out, pair{g, fs[s1Col], fs[s1Col+1]})
	}
	return out
}

func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j) / 2
		}
		i = j + 1
	}
	return r
}

func spearman(a, b []float64) float64 {
	ra, rb := ranks(a), ranks(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	ma /= float64(len(ra))
	mb /= float64(len(rb))
	var num, da, db float64
	for i := range ra {
		num += (ra[i] - ma) * (rb[i] - mb)
		da += (ra[i] - ma) * (ra[i] - ma)
		db += (rb[i] - mb) * (rb[i] - mb)
	}
	return num / math.Sqrt(da*db)
}

func score(m Embedder, pairs []pair) float64 {
	var sims, gold []float64
	for _, p := range pairs {
		a, b := m.Embed(p.s1), m.Embed(p.s2)
		d := CosineDistance(a, b)
		if math.IsNaN(d) {
			d = 1
		}
		sims = append(sims, 1-d)
		gold = append(gold, p.gold)
	}
	return spearman(sims, gold)
}

// TestLocalModelQuality: Spearman correlation of the local model's cosine
// similarities with human scores. SICK was the tuning set; the STS
// Benchmark test split is the target (0.65), which this model does
// not reach: 0.562 measured (SIF with the common component fitted on SICK's
// sentences). The floor guards against regressions.
func TestLocalModelQuality(t *testing.T) {
	dir := datasets(t)
	m, err := Local()
	if err != nil {
		t.Fatal(err)
	}
	sick := readPairs(t, filepath.Join(dir, "sick-relatedness.tsv"), 0, 1, 1)
	sts := readPairs(t, filepath.Join(dir, "sts-test.csv"), 4, 5, 0)
	if len(sts) < 1300 || len(sick) < 4900 {
		t.Fatalf("read %d STS and %d SICK pairs", len(sts), len(sick))
	}
	sickRho, stsRho := score(m, sick), score(m, sts)
	t.Logf("Spearman: SICK (tuning) %.4f, STS-B test %.4f over %d pairs", sickRho, stsRho, len(sts))
	if stsRho < 0.55 {
		t.Errorf("STS-B test Spearman %.4f < 0.55", stsRho)
	}
}

func TestEmbedBasics(t *testing.T) {
	m, err := Local()
	if err != nil {
		t.Fatal(err)
	}
	a := m.Embed("A refund for a broken phone")
	b := m.Embed("a REFUND  for a Broken phone")
	c := m.Embed("the weather in paris is sunny")
	if len(a) != 100 {
		t.Fatalf("dim %d", len(a))
	}
	if d := CosineDistance(a, b); d > 1e-6 {
		t.Errorf("case and punctuation changed the embedding: %v", d)
	}
	if CosineDistance(a, c) < CosineDistance(a, m.Embed("my phone screen broke, I want my money back")) {
		t.Error("unrelated text nearer than a paraphrase")
	}
	if z := m.Embed("qqqzzzxx"); SquaredL2(z, make([]float32, 100)) != 0 {
		t.Error("unknown words give the zero vector")
	}
}

func BenchmarkEmbed(b *testing.B) {
	m, _ := Local()
	texts := []string{"refund for a broken phone", "the delivery was late again", "great service, thank you", "where is my order?"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Embed(texts[i%len(texts)])
	}
}
