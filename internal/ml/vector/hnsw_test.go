package vector

import (
	"fmt"
	"math"
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

// TestHNSWMetricsAgree: the graph's distances are the metric's, for
// every metric, with dimensions that are and are not a multiple of the
// distance loops' unrolling.
func TestHNSWMetricsAgree(t *testing.T) {
	for _, dim := range []int{1, 7, 8, 13, 100} {
		data := randomData(300, dim, int64(dim))
		q := randomData(1, dim, 99)[0]
		for _, metric := range []Metric{Euclidean, Cosine, Dot} {
			g := NewHNSW(metric, dim, 8, 64)
			for _, v := range data {
				g.Add(v)
			}
			got := g.Search(q, 5, 300, nil)
			want := exact(metric, data, q, 5, nil)
			if metric == Dot {
				// The nearest by dot is the largest product.
				want = exactDot(data, q, 5)
			}
			if len(got) != len(want) {
				t.Fatalf("dim %d %v: %d results", dim, metric, len(got))
			}
			for i, r := range got {
				wd := metric.Distance(q, data[want[i]])
				if math.Abs(r.Distance-wd) > 1e-4*(1+math.Abs(wd)) {
					t.Errorf("dim %d %v: result %d distance %v, exact %v", dim, metric, i, r.Distance, wd)
				}
			}
		}
	}
}

func BenchmarkHNSWSearch(b *testing.B) {
	const n, dim = 20000, 100
	data := randomData(n, dim, 1)
	g := NewHNSW(Cosine, dim, 16, 100)
	for _, v := range data {
		g.Add(v)
	}
	queries := randomData(256, dim, 2)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g.Search(queries[i%len(queries)], 10, 40, nil)
	}
}

func exactDot(data [][]float32, q []float32, k int) []int {
	ids := make([]int, len(data))
	for i := range ids {
		ids[i] = i
	}
	sort.Slice(ids, func(a, b int) bool { return DotProduct(q, data[ids[a]]) > DotProduct(q, data[ids[b]]) })
	return ids[:k]
}

// TestHNSWConcurrent: searches run while vectors are added and deleted
// (run with -race) and return sorted results of existing vectors; after
// the writes, no deleted vector is returned.
func TestHNSWConcurrent(t *testing.T) {
	data := randomData(1500, 16, 9)
	g := NewHNSW(Cosine, 16, 8, 40)
	for _, v := range data[:200] {
		g.Add(v)
	}
	done := make(chan struct{})
	errs := make(chan error, 3)
	for w := 0; w < 3; w++ {
		go func(w int) {
			var bad error
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- bad
					return
				default:
				}
				res := g.Search(data[(i*7+w)%len(data)], 5, 20, nil)
				for j, r := range res {
					if (int(r.ID) >= len(data) || j > 0 && r.Distance < res[j-1].Distance) && bad == nil {
						bad = fmt.Errorf("bad results %v", res)
					}
				}
			}
		}(w)
	}
	for _, v := range data[200:] {
		if id := g.Add(v); id%100 == 0 {
			g.Delete(id)
		}
	}
	close(done)
	for w := 0; w < 3; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for _, q := range data[:100] {
		for _, r := range g.Search(q, 10, 50, nil) {
			if r.ID%100 == 0 && r.ID >= 200 {
				t.Fatalf("deleted vector %d returned", r.ID)
			}
		}
	}
}
