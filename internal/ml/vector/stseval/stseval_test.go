package stseval

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSpearman(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b []float64
		want float64
	}{
		{"monotone, not linear", []float64{1, 2, 3, 4}, []float64{1, 8, 27, 64}, 1},
		{"reversed", []float64{1, 2, 3}, []float64{3, 2, 1}, -1},
		// ranks a: 1, 2.5, 2.5, 4 (0-based 0, 1.5, 1.5, 3); b: 0..3
		{"ties share their average rank", []float64{1, 2, 2, 3}, []float64{1, 2, 3, 4}, 0.9486832980505138},
	} {
		require.InDelta(t, c.want, Spearman(c.a, c.b), 1e-12, c.name)
	}
	pairs := []Pair{{1, "a", "b"}, {2, "a", "c"}, {3, "a", "d"}, {0, "a", "e"}}
	// e has no direction: it ranks with 0, below b.
	sim := map[string]float64{"b": 0.1, "c": 0.5, "d": 0.4, "e": math.NaN()}
	rho := Score(pairs, func(_, s2 string) float64 { return sim[s2] })
	require.InDelta(t, 0.8, rho, 1e-12)
	require.False(t, math.IsNaN(rho))
}
