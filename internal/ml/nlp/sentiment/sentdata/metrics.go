package sentdata

import "math"

// MacroF1 returns the macro-averaged F1 over classes 0..k-1.
func MacroF1(gold, pred []int, k int) float64 {
	tp := make([]float64, k)
	fp := make([]float64, k)
	fn := make([]float64, k)
	for i := range gold {
		if pred[i] == gold[i] {
			tp[gold[i]]++
		} else {
			if pred[i] >= 0 && pred[i] < k {
				fp[pred[i]]++
			}
			fn[gold[i]]++
		}
	}
	s := 0.0
	for c := 0; c < k; c++ {
		if tp[c] == 0 {
			continue
		}
		p := tp[c] / (tp[c] + fp[c])
		r := tp[c] / (tp[c] + fn[c])
		s += 2 * p * r / (p + r)
	}
	return s / float64(k)
}

// Accuracy returns the fraction of pred equal to gold.
func Accuracy(gold, pred []int) float64 {
	n := 0
	for i := range gold {
		if gold[i] == pred[i] {
			n++
		}
	}
	return float64(n) / float64(len(gold))
}

// ECE returns the expected calibration error with nbins equal-width bins of
// the confidences conf, where correct[i] says whether prediction i was right.
func ECE(conf []float64, correct []bool, nbins int) float64 {
	cnt := make([]float64, nbins)
	sc := make([]float64, nbins)
	sa := make([]float64, nbins)
	for i, c := range conf {
		b := int(math.Floor(c * float64(nbins)))
		if b >= nbins {
			b = nbins - 1
		}
		if b < 0 {
			b = 0
		}
		cnt[b]++
		sc[b] += c
		if correct[i] {
			sa[b]++
		}
	}
	e := 0.0
	for b := range cnt {
		if cnt[b] > 0 {
			e += math.Abs(sa[b]-sc[b]) / float64(len(conf))
		}
	}
	return e
}
