package sample

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReservoirUniform: every item of a 1,000-item stream is kept in a
// 100-item sample with probability 0.1, the first items fill the sample in
// order, and a seed repeats the sample.
func TestReservoirUniform(t *testing.T) {
	const items, n, runs = 1000, 100, 2000
	kept := make([]int, items)
	for run := 0; run < runs; run++ {
		r := NewReservoir(n, int64(run))
		sample := make([]int, 0, n)
		for i := 0; i < items; i++ {
			slot, keep := r.Next()
			if i < n {
				require.True(t, keep)
				require.Equal(t, len(sample), slot, "the first items are appended")
			}
			if !keep {
				continue
			}
			if slot == len(sample) {
				sample = append(sample, i)
			} else {
				sample[slot] = i
			}
		}
		require.Len(t, sample, n)
		for _, i := range sample {
			kept[i]++
		}
	}
	for _, i := range []int{0, 99, 100, 500, 999} {
		p := float64(kept[i]) / runs
		require.InDelta(t, 0.1, p, 0.025, "item %d kept with probability %.3f", i, p)
	}

	a, b := NewReservoir(3, 42), NewReservoir(3, 42)
	for i := 0; i < 50; i++ {
		sa, ka := a.Next()
		sb, kb := b.Next()
		require.Equal(t, [2]any{sa, ka}, [2]any{sb, kb})
	}
}
