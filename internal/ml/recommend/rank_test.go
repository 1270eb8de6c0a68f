package recommend

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRank(t *testing.T) {
	rel := map[string]bool{"a": true, "c": true, "x": true}
	for _, tc := range []struct {
		name string
		recs []string
		k    int
		want RankScores
	}{
		{"hits at ranks 1 and 3", []string{"a", "b", "c", "d"}, 3, RankScores{
			Precision: 2.0 / 3, Recall: 2.0 / 3, Hit: 1,
			NDCG: (1 + 1/math.Log2(4)) / (1 + 1/math.Log2(3) + 1/math.Log2(4))}},
		{"only the first k count", []string{"b", "d", "a"}, 2, RankScores{}},
		{"perfect", []string{"x", "a", "c"}, 3, RankScores{Precision: 1, Recall: 1, Hit: 1, NDCG: 1}},
		{"fewer relevant than k", []string{"q", "x"}, 5, RankScores{
			Precision: 1.0 / 5, Recall: 1.0 / 3, Hit: 1,
			NDCG: (1 / math.Log2(3)) / (1 + 1/math.Log2(3) + 1/math.Log2(4))}},
	} {
		got := Rank(tc.recs, rel, tc.k)
		require.InDelta(t, tc.want.Precision, got.Precision, 1e-12, tc.name)
		require.InDelta(t, tc.want.Recall, got.Recall, 1e-12, tc.name)
		require.InDelta(t, tc.want.Hit, got.Hit, 1e-12, tc.name)
		require.InDelta(t, tc.want.NDCG, got.NDCG, 1e-12, tc.name)
	}
}
