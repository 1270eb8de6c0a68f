package vector

import (
	"math/rand"
	"sort"
	"testing"
)

func exact(metric Metric, data [][]float32, q []float32, k int, accept func(int) bool) []int {
	ids := []int{}
	for i := range data {
		if accept == nil || accept(i) {
			ids = append(ids, i)
		}
	}
	sort.Slice(ids, func(a, b int) bool {
		return metric.Distance(q, data[ids[a]]) < metric.Distance(q, data[ids[b]])
	})
	if len(ids) > k {
		ids = ids[:k]
	}
	return ids
}

func randomData(n, dim int, seed int64) [][]float32 {
	r := rand.New(rand.NewSource(seed))
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		out[i] = v
	}
	return out
}

// TestHNSWRecall: recall@10 against exact search, for both metrics, rises
// with ef and is high at a moderate ef; a filter still yields k rows.
func TestHNSWRecall(t *testing.T) {
	const n, dim, k = 2500, 24, 10
	data := randomData(n, dim, 1)
	queries := randomData(60, dim, 2)
	for _, metric := range []Metric{Euclidean, Cosine} {
		g := NewHNSW(metric, dim, 12, 100)
		for _, v := range data {
			g.Add(v)
		}
		recall := func(ef int, accept func(int) bool) float64 {
			hit, total := 0, 0
			for _, q := range queries {
				want := exact(metric, data, q, k, accept)
				var acc func(uint32) bool
				if accept != nil {
					acc = func(id uint32) bool { return accept(int(id)) }
				}
				got := g.Search(q, k, ef, acc)
				if len(got) != len(want) {
					t.Fatalf("%v ef=%d: %d results, want %d", metric, ef, len(got), len(want))
				}
				set := map[int]bool{}
				for _, w := range want {
					set[w] = true
				}
				for _, r := range got {
					if set[int(r.ID)] {
						hit++
					}
				}
				total += len(want)
			}
			return float64(hit) / float64(total)
		}
		r10, r100 := recall(10, nil), recall(100, nil)
		t.Logf("%v: recall@10 ef=10 %.3f ef=100 %.3f", metric, r10, r100)
		if r100 < 0.95 || r100 < r10 {
			t.Errorf("%v: recall ef=10 %.3f ef=100 %.3f", metric, r10, r100)
		}
		// 1 row in 50 passes: still k results, and the right ones.
		if rf := recall(40, func(i int) bool { return i%50 == 0 }); rf < 0.9 {
			t.Errorf("%v: filtered recall %.3f", metric, rf)
		}
	}
}

func TestHNSWDelete(t *testing.T) {
	data := randomData(500, 8, 3)
	g := NewHNSW(Euclidean, 8, 8, 50)
	for _, v := range data {
		g.Add(v)
	}
	best := g.Search(data[7], 1, 20, nil)
	if len(best) != 1 || best[0].ID != 7 || best[0].Distance != 0 {
		t.Fatalf("self search: %v", best)
	}
	g.Delete(7)
	for _, r := range g.Search(data[7], 10, 50, nil) {
		if r.ID == 7 {
			t.Fatal("deleted vector returned")
		}
	}
	if g.Len() != 499 {
		t.Fatalf("Len = %d", g.Len())
	}
}
