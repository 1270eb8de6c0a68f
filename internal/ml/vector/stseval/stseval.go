// Package stseval measures sentence embeddings on semantic textual
// similarity data, SICK relatedness and the STS Benchmark
// (../shared/datasets/sts_benchmark; its SOURCE.md says which is the
// development set): the Spearman correlation between the similarity of two
// sentences' vectors and the human score of the pair, the standard measure
// on these sets.
package stseval

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat"
)

// Pair is two sentences and their human similarity score.
type Pair struct {
	Gold   float64
	S1, S2 string
}

// SICK reads dir/sick-relatedness.tsv (header; score, sentence1, sentence2).
func SICK(dir string) ([]Pair, error) {
	return readPairs(filepath.Join(dir, "sick-relatedness.tsv"), 0, 1, 1)
}

// STSTest reads dir/sts-test.csv, the STS Benchmark test split (no header;
// genre, source, year, id, score, sentence1, sentence2).
func STSTest(dir string) ([]Pair, error) {
	return readPairs(filepath.Join(dir, "sts-test.csv"), 4, 5, 0)
}

func readPairs(path string, scoreCol, s1Col, header int) ([]Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Pair
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 0; sc.Scan(); n++ {
		if n < header {
			continue
		}
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) <= s1Col+1 {
			return nil, fmt.Errorf("%s:%d: %d fields", path, n+1, len(fs))
		}
		g, err := strconv.ParseFloat(fs[scoreCol], 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n+1, err)
		}
		out = append(out, Pair{g, fs[s1Col], fs[s1Col+1]})
	}
	return out, sc.Err()
}

// Score is the Spearman correlation of sim(S1, S2) with the pairs' gold
// scores. A pair whose similarity is undefined (NaN: a sentence without a
// known word has no direction) counts as unrelated, 0.
func Score(pairs []Pair, sim func(s1, s2 string) float64) float64 {
	sims := make([]float64, len(pairs))
	gold := make([]float64, len(pairs))
	for i, p := range pairs {
		if sims[i] = sim(p.S1, p.S2); math.IsNaN(sims[i]) {
			sims[i] = 0
		}
		gold[i] = p.Gold
	}
	return Spearman(sims, gold)
}

// Spearman is the Spearman rank correlation of a and b: the Pearson
// correlation of their ranks, tied values sharing their average rank.
func Spearman(a, b []float64) float64 {
	return stat.Correlation(ranks(a), ranks(b), nil)
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
