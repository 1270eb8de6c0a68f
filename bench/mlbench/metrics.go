package main

import (
	"math"
	"sort"
)

// accuracy is the share of predictions equal to the truth.
func accuracy(truth, pred []string) float64 {
	if len(truth) == 0 {
		return math.NaN()
	}
	ok := 0
	for i := range truth {
		if truth[i] == pred[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(truth))
}

// f1 is the F1 score of class positive.
func f1(truth, pred []string, positive string) float64 {
	tp, fp, fn := 0, 0, 0
	for i := range truth {
		switch {
		case pred[i] == positive && truth[i] == positive:
			tp++
		case pred[i] == positive:
			fp++
		case truth[i] == positive:
			fn++
		}
	}
	if tp == 0 {
		return 0
	}
	return 2 * float64(tp) / float64(2*tp+fp+fn)
}

// rmse is the root mean squared error.
func rmse(truth, pred []float64) float64 {
	if len(truth) == 0 {
		return math.NaN()
	}
	s := 0.0
	for i := range truth {
		d := pred[i] - truth[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(truth)))
}

// auc is the area under the ROC curve of score for the positive rows:
// the Mann-Whitney statistic, ties counting one half.
func auc(positive []bool, score []float64) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var rankSum float64
	var npos int
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		rank := float64(i+j+1) / 2 // mean 1-based rank of the tie group
		for k := i; k < j; k++ {
			if positive[idx[k]] {
				rankSum += rank
				npos++
			}
		}
		i = j
	}
	nneg := len(score) - npos
	if npos == 0 || nneg == 0 {
		return math.NaN()
	}
	return (rankSum - float64(npos)*float64(npos+1)/2) / (float64(npos) * float64(nneg))
}

// mostCommon returns the most frequent label (the smallest on ties).
func mostCommon(labels []string) string {
	counts := map[string]int{}
	for _, l := range labels {
		counts[l]++
	}
	best, n := "", -1
	for l, c := range counts {
		if c > n || (c == n && l < best) {
			best, n = l, c
		}
	}
	return best
}

// mean is the arithmetic mean.
func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
