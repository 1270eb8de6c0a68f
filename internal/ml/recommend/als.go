// Package recommend trains recommendation models for HeatWave's
// 'recommendation' task: matrix factorisation by alternating least squares
// for implicit feedback (Hu, Koren and Volinsky 2008), where an observed
// interaction is a preference of 1 held with confidence 1 + alpha*r (r the
// rating, or 1 for implicit feedback) and every unobserved pair a
// preference of 0 with confidence 1.
package recommend

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"sort"
	"sync"
)

// Interaction is one (user, item, rating) triple, by index.
type Interaction struct {
	User, Item int
	Rating     float64
}

// Config are ALS's hyperparameters; zero values take the defaults.
type Config struct {
	Factors    int     // latent dimensions (default 64)
	Iterations int     // alternating sweeps (default 15)
	Lambda     float64 // L2 regularisation (default 0.1)
	Alpha      float64 // confidence per unit of rating (default 2)
	Seed       int64
}

func (c *Config) defaults() {
	if c.Factors <= 0 {
		c.Factors = 64
	}
	if c.Iterations <= 0 {
		c.Iterations = 15
	}
	if c.Lambda <= 0 {
		c.Lambda = 0.1
	}
	if c.Alpha <= 0 {
		c.Alpha = 2
	}
}

// Model holds the user and item factors, row-major.
type Model struct {
	Factors int       `json:"factors"`
	Users   int       `json:"users"`
	Items   int       `json:"items"`
	X       []float64 `json:"user_factors"`
	Y       []float64 `json:"item_factors"`
}

// ErrNoData is returned when there is nothing to learn from.
var ErrNoData = errors.New("no interactions")

// Train fits implicit ALS on the interactions of users x items.
func Train(ctx context.Context, users, items int, data []Interaction, cfg Config) (*Model, error) {
	cfg.defaults()
	if len(data) == 0 || users == 0 || items == 0 {
		return nil, ErrNoData
	}
	k := cfg.Factors
	m := &Model{Factors: k, Users: users, Items: items, X: make([]float64, users*k), Y: make([]float64, items*k)}
	rng := rand.New(rand.NewSource(cfg.Seed))
	for i := range m.Y {
		m.Y[i] = rng.NormFloat64() * 0.01
	}
	for i := range m.X {
		m.X[i] = rng.NormFloat64() * 0.01
	}
	byUser := make([][]Interaction, users)
	byItem := make([][]Interaction, items)
	for _, d := range data {
		if d.User < 0 || d.User >= users || d.Item < 0 || d.Item >= items {
			return nil, fmt.Errorf("interaction (%d, %d) out of range", d.User, d.Item)
		}
		byUser[d.User] = append(byUser[d.User], d)
		byItem[d.Item] = append(byItem[d.Item], d)
	}
	for it := 0; it < cfg.Iterations; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		solve(m.X, m.Y, users, k, byUser, func(d Interaction) int { return d.Item }, cfg)
		solve(m.Y, m.X, items, k, byItem, func(d Interaction) int { return d.User }, cfg)
	}
	return m, nil
}

// solve recomputes each row of A (n rows) from the fixed factors B:
// (BᵀB + Bᵀ(Cᵤ−I)B + λI) aᵤ = BᵀCᵤpᵤ, in parallel.
func solve(a, b []float64, n, k int, rows [][]Interaction, other func(Interaction) int, cfg Config) {
	// BᵀB once per sweep.
	bb := make([]float64, k*k)
	for r := 0; r < len(b)/k; r++ {
		v := b[r*k : (r+1)*k]
		for i := 0; i < k; i++ {
			vi := v[i]
			for j := i; j < k; j++ {
				bb[i*k+j] += vi * v[j]
			}
		}
	}
	for i := 0; i < k; i++ {
		for j := 0; j < i; j++ {
			bb[i*k+j] = bb[j*k+i]
		}
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	next := make(chan int, 64)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mat := make([]float64, k*k)
			rhs := make([]float64, k)
			for u := range next {
				copy(mat, bb)
				for i := range rhs {
					rhs[i] = 0
				}
				for i := 0; i < k; i++ {
					mat[i*k+i] += cfg.Lambda
				}
				for _, d := range rows[u] {
					c := 1 + cfg.Alpha*d.Rating
					v := b[other(d)*k : (other(d)+1)*k]
					for i := 0; i < k; i++ {
						ci := (c - 1) * v[i]
						for j := 0; j < k; j++ {
							mat[i*k+j] += ci * v[j]
						}
						rhs[i] += c * v[i]
					}
				}
				if len(rows[u]) == 0 {
					for i := 0; i < k; i++ {
						a[u*k+i] = 0
					}
					continue
				}
				cholSolve(mat, rhs, k)
				copy(a[u*k:(u+1)*k], rhs)
			}
		}()
	}
	for u := 0; u < n; u++ {
		next <- u
	}
	close(next)
	wg.Wait()
}

// cholSolve solves m x = b for symmetric positive definite m (k x k) in
// place: b receives x, m its Cholesky factor.
func cholSolve(m, b []float64, k int) {
	for j := 0; j < k; j++ {
		s := m[j*k+j]
		for p := 0; p < j; p++ {
			s -= m[j*k+p] * m[j*k+p]
		}
		if s <= 1e-12 {
			s = 1e-12
		}
		d := math.Sqrt(s)
		m[j*k+j] = d
		for i := j + 1; i < k; i++ {
			s := m[i*k+j]
			for p := 0; p < j; p++ {
				s -= m[i*k+p] * m[j*k+p]
			}
			m[i*k+j] = s / d
		}
	}
	for i := 0; i < k; i++ {
		s := b[i]
		for p := 0; p < i; p++ {
			s -= m[i*k+p] * b[p]
		}
		b[i] = s / m[i*k+i]
	}
	for i := k - 1; i >= 0; i-- {
		s := b[i]
		for p := i + 1; p < k; p++ {
			s -= m[p*k+i] * b[p]
		}
		b[i] = s / m[i*k+i]
	}
}

// Score is the model's preference of user u for item i.
func (m *Model) Score(u, i int) float64 {
	if u < 0 || u >= m.Users || i < 0 || i >= m.Items {
		return math.NaN()
	}
	k := m.Factors
	s := 0.0
	x, y := m.X[u*k:(u+1)*k], m.Y[i*k:(i+1)*k]
	for f := 0; f < k; f++ {
		s += x[f] * y[f]
	}
	return s
}

// Scored is an item (or user) and its score.
type Scored struct {
	Index int
	Score float64
}

// TopItems ranks every item for user u, skipping those seen reports,
// best first, at most n.
func (m *Model) TopItems(u, n int, seen func(item int) bool) []Scored {
	out := make([]Scored, 0, m.Items)
	for i := 0; i < m.Items; i++ {
		if seen != nil && seen(i) {
			continue
		}
		out = append(out, Scored{i, m.Score(u, i)})
	}
	return top(out, n)
}

// TopUsers ranks users for item i, best first, at most n.
func (m *Model) TopUsers(i, n int, seen func(user int) bool) []Scored {
	out := make([]Scored, 0, m.Users)
	for u := 0; u < m.Users; u++ {
		if seen != nil && seen(u) {
			continue
		}
		out = append(out, Scored{u, m.Score(u, i)})
	}
	return top(out, n)
}

func top(xs []Scored, n int) []Scored {
	sort.Slice(xs, func(a, b int) bool {
		if xs[a].Score != xs[b].Score {
			return xs[a].Score > xs[b].Score
		}
		return xs[a].Index < xs[b].Index
	})
	if n >= 0 && len(xs) > n {
		xs = xs[:n]
	}
	return xs
}
