package recommend

import (
	"context"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// Two taste groups: users of group g interact with items of group g. ALS
// must rank the unseen items of the user's own group first.
func TestALSLearnsGroups(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const users, items = 60, 40
	var data []Interaction
	held := map[int]int{}
	for u := 0; u < users; u++ {
		g := u % 2
		var own []int
		for i := g; i < items; i += 2 {
			own = append(own, i)
		}
		rng.Shuffle(len(own), func(a, b int) { own[a], own[b] = own[b], own[a] })
		held[u] = own[0]
		for _, i := range own[1:12] {
			data = append(data, Interaction{User: u, Item: i, Rating: 1 + float64(rng.Intn(4))})
		}
	}
	m, err := Train(context.Background(), users, items, data, Config{Factors: 4, Iterations: 15, Lambda: 1, Seed: 1})
	require.NoError(t, err)
	seen := map[[2]int]bool{}
	for _, d := range data {
		seen[[2]int{d.User, d.Item}] = true
	}
	own, hits := 0, 0
	for u := 0; u < users; u++ {
		top := m.TopItems(u, 8, func(i int) bool { return seen[[2]int{u, i}] })
		for _, s := range top { // 8 unseen items of the user's group exist
			if s.Index%2 == u%2 {
				own++
			}
			if s.Index == held[u] {
				hits++
			}
		}
	}
	require.Greater(t, float64(own)/float64(users*8), 0.9, "top items come from the user's group")
	require.Greater(t, float64(hits)/float64(users), 0.8, "the held-out item of the group ranks in the top 8")
	require.Len(t, m.TopUsers(0, 5, nil), 5)
	_, err = Train(context.Background(), 1, 1, nil, Config{})
	require.ErrorIs(t, err, ErrNoData)
}

func TestCholSolve(t *testing.T) {
	m := []float64{4, 2, 2, 3}
	b := []float64{2, 5}
	cholSolve(m, b, 2)
	require.InDelta(t, -0.5, b[0], 1e-12)
	require.InDelta(t, 2, b[1], 1e-12)
}
