// Package dense holds what SibylDB's pure-Go learners (linear, kmeans,
// mlp, rcf) share: the checks every feature matrix must pass before
// training, and the numerically safe output functions of the linear and
// neural models.
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
