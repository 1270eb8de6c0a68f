// Package dense holds what SibylDB's pure-Go learners (linear, kmeans,
// mlp, rcf) share: the checks every feature matrix must pass before
// training, and the output kinds of the linear and neural models with
// their numerically safe link functions.
package dense

import (
	"errors"
	"fmt"
	"math"
)

// Check validates a feature matrix (rows of equal, non-zero width, finite
// values) and returns its number of columns.
func Check(X [][]float64) (int, error) {
	if len(X) == 0 {
		return 0, errors.New("no training rows")
	}
	d := len(X[0])
	if d == 0 {
		return 0, errors.New("training rows have no features")
	}
	for i, row := range X {
		if len(row) != d {
			return 0, fmt.Errorf("row %d has %d features, want %d", i, len(row), d)
		}
		for j, v := range row {
			if !Finite(v) {
				return 0, fmt.Errorf("feature %d of row %d is not finite (%v)", j, i, v)
			}
		}
	}
	return d, nil
}

// Finite reports whether v is neither NaN nor infinite.
func Finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Sigmoid is the logistic function, written to avoid overflow for large |z|.
func Sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Softmax replaces z with softmax(z) and returns log Σ exp(z) of the
// original values. Subtracting the maximum keeps exp from overflowing.
func Softmax(z []float64) (logSumExp float64) {
	maxZ := z[0]
	for _, v := range z[1:] {
		maxZ = max(maxZ, v)
	}
	var sum float64
	for i, v := range z {
		z[i] = math.Exp(v - maxZ)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
	return maxZ + math.Log(sum)
}

// Output kinds of the linear and neural models, stored in their JSON as
// "kind": a kind fixes how many outputs a model has and the link applied
// to them.
const (
	// KindRegression predicts one real value.
	KindRegression = "regression"
	// KindLogistic predicts P(class 1) of two classes.
	KindLogistic = "logistic"
	// KindSoftmax predicts a probability per class.
	KindSoftmax = "softmax"
)

// CheckOutputs reports whether a model of kind may have n outputs.
func CheckOutputs(kind string, n int) error {
	switch kind {
	case KindRegression, KindLogistic:
		if n != 1 {
			return fmt.Errorf("%s model has %d outputs, want 1", kind, n)
		}
	case KindSoftmax:
		if n < 2 {
			return fmt.Errorf("softmax model has %d outputs, want at least 2", n)
		}
	default:
		return fmt.Errorf("unknown model kind %q", kind)
	}
	return nil
}

// Link turns raw outputs into kind's predictions in place: the sigmoid for
// logistic, softmax for softmax; regression outputs stay as they are.
func Link(kind string, out []float64) {
	switch kind {
	case KindLogistic:
		out[0] = Sigmoid(out[0])
	case KindSoftmax:
		Softmax(out)
	}
}
