package recommend

import "math"

// RankScores are the ranking metrics of one user's top-k recommendations
// against the items relevant to the user (scikit-learn / RecBole
// definitions, as HeatWave's ML_SCORE documents them).
type RankScores struct {
	// Precision is the share of the k recommendations that are relevant,
	// Recall the share of relevant items recommended, Hit 1 when any
	// recommendation is relevant, and NDCG the discounted gain of the
	// hits over that of a perfect ranking.
	Precision, Recall, Hit, NDCG float64
}

// Rank scores recommended (best first, at most k of them are used)
// against relevant, which must not be empty.
func Rank[T comparable](recommended []T, relevant map[T]bool, k int) RankScores {
	if len(recommended) > k {
		recommended = recommended[:k]
	}
	var s RankScores
	hits := 0
	for r, it := range recommended {
		if relevant[it] {
			hits++
			s.NDCG += 1 / math.Log2(float64(r)+2)
		}
	}
	ideal := 0.0
	for r := 0; r < min(k, len(relevant)); r++ {
		ideal += 1 / math.Log2(float64(r)+2)
	}
	if ideal > 0 {
		s.NDCG /= ideal
	}
	s.Precision = float64(hits) / float64(k)
	if len(relevant) > 0 {
		s.Recall = float64(hits) / float64(len(relevant))
	}
	if hits > 0 {
		s.Hit = 1
	}
	return s
}
