// Package linear fits the linear models behind SibylDB's simplest in-SQL
// learners: ridge regression, binary logistic regression and multinomial
// (softmax) logistic regression.
//
// Linear models are the default choice for CREATE MODEL because they train in
// seconds, are easy to inspect (one weight per feature) and predict with a
// single dot product per output, which matters when a prediction function is
// evaluated for every row of a query. The package deliberately works on
// already-preprocessed dense features: one-hot encoding, imputation and
// standardisation are the caller's job, so the same preprocessing can be
// replayed at prediction time.
//
// Both fitters minimise an average loss plus an L2 penalty on the weights
// (never on the bias):
//
//	regression: (1/2n) Σ (yᵢ − w·xᵢ − b)²        + (l2/2)‖w‖²
//	logistic:   (1/Σsᵢ) Σ sᵢ · crossentropyᵢ     + (l2/2)‖W‖²
//
// where sᵢ are optional per-row weights. Averaging (rather than summing) the
// loss makes l2 mean the same thing regardless of the number of rows.
// Regression is solved in closed form (Cholesky on the normal equations, with
// a minimum-norm SVD fallback for rank-deficient problems without a penalty);
// logistic models are fitted with gonum's L-BFGS.
//
// A fitted *Model is plain data that round-trips through encoding/json,
// because models are stored as JSON in the database. Call Validate after
// decoding a stored model, before predicting with it.
package linear

import (
	"errors"
	"fmt"
	"math"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
	"gonum.org/v1/gonum/floats"
)

// Model is a fitted linear model. Output k is Weights[k]·x + Bias[k], passed
// through the link function implied by Kind. The zero value is not usable;
// obtain a Model from FitRegression, FitLogistic or by decoding JSON (followed
// by Validate).
type Model struct {
	// Kind is one of dense.KindRegression, dense.KindLogistic or dense.KindSoftmax.
	Kind string `json:"kind"`
	// Weights holds one row of feature weights per output (outputs × features).
	Weights [][]float64 `json:"weights"`
	// Bias holds the intercept of each output.
	Bias []float64 `json:"bias"`
}

// NumOutputs reports how many values Predict writes: 1 for regression and
// binary logistic models, the number of classes for softmax models.
func (m *Model) NumOutputs() int { return len(m.Weights) }

// NumFeatures reports the length of the feature vector Predict expects.
func (m *Model) NumFeatures() int {
	if len(m.Weights) == 0 {
		return 0
	}
	return len(m.Weights[0])
}

// Predict evaluates the model on one feature vector and writes NumOutputs
// values to out:
//
//   - regression: out[0] is the predicted value;
//   - logistic:   out[0] is P(y = 1);
//   - softmax:    out[k] is P(y = k).
//
// x must have NumFeatures elements and out at least NumOutputs; the caller
// checks this once per query rather than once per row (Predict panics on a
// mis-sized slice, like an out-of-range index). Predict does not allocate and
// is safe for concurrent use on a model that is not being modified. A NaN in x
// yields NaN outputs.
func (m *Model) Predict(x []float64, out []float64) {
	out = out[:len(m.Weights)]
	for k, w := range m.Weights {
		out[k] = dot(w, x) + m.Bias[k]
	}
	dense.Link(m.Kind, out)
}

// Validate reports whether a (typically freshly decoded) model is internally
// consistent: a known kind, the right number of outputs for that kind, equal
// row lengths, one bias per output, and only finite parameters.
func (m *Model) Validate() error {
	if m == nil {
		return errors.New("linear: nil model")
	}
	outputs := len(m.Weights)
	if err := dense.CheckOutputs(m.Kind, outputs); err != nil {
		return fmt.Errorf("linear: %w", err)
	}
	if len(m.Bias) != outputs {
		return fmt.Errorf("linear: %d bias values for %d outputs", len(m.Bias), outputs)
	}
	features := len(m.Weights[0])
	if features == 0 {
		return errors.New("linear: model has no features")
	}
	for k, w := range m.Weights {
		if len(w) != features {
			return fmt.Errorf("linear: weight row %d has %d features, want %d", k, len(w), features)
		}
		for j, v := range w {
			if !dense.Finite(v) {
				return fmt.Errorf("linear: weight [%d][%d] is not finite (%v)", k, j, v)
			}
		}
		if !dense.Finite(m.Bias[k]) {
			return fmt.Errorf("linear: bias %d is not finite (%v)", k, m.Bias[k])
		}
	}
	return nil
}

// dot is the hot loop of Predict and of training: gonum's assembly dot
// product, with x trimmed to the weights' length.
func dot(w, x []float64) float64 { return floats.Dot(w, x[:len(w)]) }

// softplus returns log(1 + e^z) without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// checkX validates a feature matrix and returns its number of columns.
func checkX(X [][]float64) (int, error) {
	d, err := dense.Check(X)
	if err != nil {
		return 0, fmt.Errorf("linear: %w", err)
	}
	return d, nil
}

func checkL2(l2 float64) error {
	if !dense.Finite(l2) || l2 < 0 {
		return fmt.Errorf("linear: l2 penalty must be finite and >= 0, got %v", l2)
	}
	return nil
}
