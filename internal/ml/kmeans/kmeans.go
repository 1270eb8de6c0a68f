// Package kmeans clusters dense feature vectors with k-means, for SibylDB's
// in-SQL clustering models (the predicted value of a row is its cluster
// number, and its distance to the centroid doubles as a simple outlier
// score).
//
// Initial centroids are chosen by k-means++ (Arthur & Vassilvitskii, 2007),
// which spreads them out in proportion to squared distance and makes Lloyd's
// iterations converge quickly to a good local optimum without restarts.
// All randomness comes from a generator seeded by the caller, so the same
// data and seed always give the same model: a CREATE MODEL statement can be
// re-run and produce identical cluster numbers.
//
// Features must already be preprocessed (numeric, imputed, and usually
// standardised, since k-means uses Euclidean distance and a feature with a
// large scale would dominate it).
//
// A fitted *Model round-trips through encoding/json; call Validate after
// decoding a stored model.
package kmeans

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
)

// DefaultMaxIter is the number of Lloyd iterations Fit uses when maxIter <= 0.
const DefaultMaxIter = 100

// Model is a fitted k-means model: one centroid per cluster, all of the same
// dimension.
type Model struct {
	// Centroids holds the cluster centres (clusters × features).
	Centroids [][]float64 `json:"centroids"`
}

// Fit clusters the rows of X into k clusters.
//
// Centroids are initialised with k-means++ and refined by Lloyd iterations
// until no row changes cluster or maxIter iterations have run (maxIter <= 0
// means DefaultMaxIter). A cluster that loses all its rows is re-seeded with
// the row farthest from its current centroid, so Fit always returns k
// centroids. The result is deterministic for a given X, k and seed.
//
// ctx is checked once per iteration (and periodically during
// initialisation); if it is cancelled or expires, Fit returns ctx.Err().
func Fit(ctx context.Context, X [][]float64, k int, seed int64, maxIter int) (*Model, error) {
	d, err := checkX(X)
	if err != nil {
		return nil, err
	}
	if k < 1 {
		return nil, fmt.Errorf("kmeans: k must be at least 1, got %d", k)
	}
	if k > len(X) {
		return nil, fmt.Errorf("kmeans: k = %d is larger than the number of rows (%d)", k, len(X))
	}
	if maxIter <= 0 {
		maxIter = DefaultMaxIter
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6b6d65616e73)) // "kmeans"

	centroids, err := initPlusPlus(ctx, X, k, rng)
	if err != nil {
		return nil, err
	}

	n := len(X)
	assign := make([]int, n)
	dist := make([]float64, n) // squared distance of each row to its centroid
	for i := range assign {
		assign[i] = -1
	}
	counts := make([]int, k)
	sums := make([][]float64, k)
	for c := range sums {
		sums[c] = make([]float64, d)
	}

	for iter := 0; iter < maxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Assignment step.
		changed := 0
		for i, x := range X {
			c, dd := nearest(centroids, x)
			if c != assign[i] {
				assign[i] = c
				changed++
			}
			dist[i] = dd
		}
		if changed == 0 {
			break
		}
		// Update step.
		clear(counts)
		for c := range sums {
			clear(sums[c])
		}
		for i, x := range X {
			c := assign[i]
			counts[c]++
			s := sums[c]
			for j, v := range x {
				s[j] += v
			}
		}
		for c := range centroids {
			if counts[c] == 0 {
				// Re-seed an empty cluster with the worst-served row, and
				// mark that row as served so two empty clusters cannot
				// both take it.
				far := argmax(dist)
				copy(centroids[c], X[far])
				dist[far] = 0
				continue
			}
			inv := 1 / float64(counts[c])
			for j := range centroids[c] {
				centroids[c][j] = sums[c][j] * inv
			}
		}
	}
	return &Model{Centroids: centroids}, nil
}

// initPlusPlus picks k initial centroids: the first uniformly at random, each
// next one with probability proportional to its squared distance to the
// nearest centroid chosen so far.
func initPlusPlus(ctx context.Context, X [][]float64, k int, rng *rand.Rand) ([][]float64, error) {
	n := len(X)
	centroids := make([][]float64, 0, k)
	centroids = append(centroids, append([]float64(nil), X[rng.IntN(n)]...))
	minDist := make([]float64, n)
	for i, x := range X {
		minDist[i] = sqDist(x, centroids[0])
	}
	for len(centroids) < k {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var total float64
		for _, v := range minDist {
			total += v
		}
		next := 0
		if total > 0 {
			target := rng.Float64() * total
			next = n - 1 // guards against rounding leaving target > Σ
			for i, v := range minDist {
				if target < v {
					next = i
					break
				}
				target -= v
			}
		} else {
			// Fewer distinct rows than k: every row is already a centroid,
			// so duplicate one (its cluster will simply stay empty or tie).
			next = rng.IntN(n)
		}
		c := append([]float64(nil), X[next]...)
		centroids = append(centroids, c)
		for i, x := range X {
			if dd := sqDist(x, c); dd < minDist[i] {
				minDist[i] = dd
			}
		}
	}
	return centroids, nil
}

// NumFeatures reports the length of the feature vector Predict expects.
func (m *Model) NumFeatures() int {
	if len(m.Centroids) == 0 {
		return 0
	}
	return len(m.Centroids[0])
}

// Predict returns the index of the centroid nearest to x and the Euclidean
// distance to it. Ties go to the lower index. x must have NumFeatures
// elements (Predict panics otherwise, like an out-of-range index). Predict
// does not allocate and is safe for concurrent use.
func (m *Model) Predict(x []float64) (cluster int, distance float64) {
	c, dd := nearest(m.Centroids, x)
	return c, math.Sqrt(dd)
}

// Validate reports whether a (typically freshly decoded) model is consistent:
// at least one centroid, all of the same non-zero dimension, all finite.
func (m *Model) Validate() error {
	if m == nil || len(m.Centroids) == 0 {
		return errors.New("kmeans: model has no centroids")
	}
	d := len(m.Centroids[0])
	if d == 0 {
		return errors.New("kmeans: centroids have no features")
	}
	for c, centroid := range m.Centroids {
		if len(centroid) != d {
			return fmt.Errorf("kmeans: centroid %d has %d features, want %d", c, len(centroid), d)
		}
		for j, v := range centroid {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("kmeans: centroid %d feature %d is not finite (%v)", c, j, v)
			}
		}
	}
	return nil
}

// nearest returns the index of the centroid closest to x and the squared
// distance to it.
func nearest(centroids [][]float64, x []float64) (int, float64) {
	best, bestDist := 0, math.Inf(1)
	for c, centroid := range centroids {
		if dd := sqDist(x, centroid); dd < bestDist {
			best, bestDist = c, dd
		}
	}
	return best, bestDist
}

// sqDist is the squared Euclidean distance, the inner loop of both training
// and prediction. It is written out (rather than floats.Distance) to skip the
// square root and length checks on the hot path.
func sqDist(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for i, v := range a {
		t := v - b[i]
		s += t * t
	}
	return s
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// checkX validates a feature matrix and returns its number of columns.
func checkX(X [][]float64) (int, error) {
	d, err := dense.Check(X)
	if err != nil {
		return 0, fmt.Errorf("kmeans: %w", err)
	}
	return d, nil
}
