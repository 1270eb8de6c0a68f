package linear

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// Optimiser limits for FitLogistic. The objective is smooth and convex, so
// L-BFGS normally stops on the gradient threshold long before the iteration
// cap; the cap only matters for (nearly) separable data with l2 == 0, where
// the unpenalised optimum is at infinity.
const (
	logisticMaxIterations = 1000
	logisticGradTol       = 1e-6
	// acceptGradTol is the gradient size at which a run that ended with a
	// line-search error is still treated as converged: L-BFGS line searches
	// routinely "fail" once the objective is flat to machine precision.
	acceptGradTol = 1e-4
)

// FitLogistic fits a logistic model to integer class labels in [0, classes).
//
// With classes == 2 it fits binary logistic regression: one weight row whose
// output is P(class 1). With classes > 2 it fits multinomial (softmax)
// regression with one weight row per class. The objective is the weighted
// mean cross-entropy plus (l2/2)‖W‖² (bias not penalised); sampleWeights, if
// non-nil, gives a non-negative weight per row, e.g. inverse class frequency
// for class balancing. nil means every row has weight 1.
//
// The fit uses gonum's L-BFGS. ctx is checked after every objective
// evaluation, so a cancelled or expired context stops training promptly and
// FitLogistic returns ctx.Err().
func FitLogistic(ctx context.Context, X [][]float64, y []int, classes int, l2 float64, sampleWeights []float64) (*Model, error) {
	d, err := checkX(X)
	if err != nil {
		return nil, err
	}
	if classes < 2 {
		return nil, fmt.Errorf("linear: need at least 2 classes, got %d", classes)
	}
	if len(y) != len(X) {
		return nil, fmt.Errorf("linear: %d labels for %d rows", len(y), len(X))
	}
	for i, c := range y {
		if c < 0 || c >= classes {
			return nil, fmt.Errorf("linear: label %d of row %d is outside [0, %d)", c, i, classes)
		}
	}
	if err := checkL2(l2); err != nil {
		return nil, err
	}
	if sampleWeights != nil && len(sampleWeights) != len(X) {
		return nil, fmt.Errorf("linear: %d sample weights for %d rows", len(sampleWeights), len(X))
	}
	var totalWeight float64
	for i := range X {
		s := 1.0
		if sampleWeights != nil {
			s = sampleWeights[i]
			if !dense.Finite(s) || s < 0 {
				return nil, fmt.Errorf("linear: sample weight of row %d must be finite and >= 0, got %v", i, s)
			}
		}
		totalWeight += s
	}
	if totalWeight <= 0 {
		return nil, errors.New("linear: sample weights sum to zero")
	}

	obj := &logisticObjective{
		x: X, y: y, s: sampleWeights, d: d, l2: l2,
		invTotal: 1 / totalWeight,
		outputs:  classes,
	}
	kind := dense.KindSoftmax
	if classes == 2 {
		obj.outputs = 1
		kind = dense.KindLogistic
	}
	obj.z = make([]float64, obj.outputs)

	theta0 := make([]float64, obj.outputs*(d+1))
	f0 := obj.eval(theta0, nil)
	problem := optimize.Problem{
		Func: func(theta []float64) float64 { return obj.eval(theta, nil) },
		Grad: func(grad, theta []float64) { obj.eval(theta, grad) },
		Status: func() (optimize.Status, error) {
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			return optimize.NotTerminated, nil
		},
	}
	settings := &optimize.Settings{
		GradientThreshold: logisticGradTol,
		MajorIterations:   logisticMaxIterations,
	}
	res, err := optimize.Minimize(problem, theta0, settings, &optimize.LBFGS{})
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	if err != nil && !usableResult(res, f0) {
		return nil, fmt.Errorf("linear: logistic optimisation failed: %w", err)
	}
	if res == nil {
		return nil, errors.New("linear: logistic optimisation returned no result")
	}

	m := &Model{Kind: kind, Weights: make([][]float64, obj.outputs), Bias: make([]float64, obj.outputs)}
	for k := range m.Weights {
		row := res.X[k*(d+1) : (k+1)*(d+1)]
		m.Weights[k] = append([]float64(nil), row[:d]...)
		m.Bias[k] = row[d]
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("linear: logistic optimisation produced an invalid model: %w", err)
	}
	return m, nil
}

// usableResult decides whether an optimisation that ended with an error (in
// practice a line-search failure at the optimum) still produced a good
// answer: finite parameters and either a small gradient or an objective
// that improved on the starting point.
func usableResult(res *optimize.Result, f0 float64) bool {
	if res == nil || !dense.Finite(res.F) {
		return false
	}
	for _, v := range res.X {
		if !dense.Finite(v) {
			return false
		}
	}
	if res.Gradient != nil && floats.Norm(res.Gradient, math.Inf(1)) < acceptGradTol {
		return true
	}
	return res.F < f0
}

// logisticObjective evaluates the penalised mean cross-entropy and its
// gradient. Parameters are laid out row by row: for output k, theta[k*(d+1):]
// holds d weights followed by the bias.
type logisticObjective struct {
	x        [][]float64
	y        []int
	s        []float64 // per-row weights; nil means 1
	d        int
	outputs  int // 1 for binary, classes for softmax
	l2       float64
	invTotal float64   // 1 / Σ s
	z        []float64 // scratch: per-output scores of one row
}

// eval returns the objective at theta and, if grad is non-nil, stores the
// gradient in it.
func (o *logisticObjective) eval(theta, grad []float64) float64 {
	d, stride := o.d, o.d+1
	if grad != nil {
		clear(grad)
	}
	var loss float64
	for i, row := range o.x {
		s := 1.0
		if o.s != nil {
			s = o.s[i]
			if s == 0 {
				continue
			}
		}
		for k := range o.z {
			w := theta[k*stride : k*stride+stride]
			o.z[k] = dot(w[:d], row) + w[d]
		}
		if o.outputs == 1 {
			// Binary cross-entropy: softplus(z) − y·z; ∂/∂z = σ(z) − y.
			t := float64(o.y[i])
			loss += s * (softplus(o.z[0]) - t*o.z[0])
			o.z[0] = dense.Sigmoid(o.z[0]) - t
		} else {
			// Softmax cross-entropy: logΣexp(z) − z_y; ∂/∂z_k = p_k − [k = y].
			zy := o.z[o.y[i]]
			loss += s * (dense.Softmax(o.z) - zy)
			o.z[o.y[i]] -= 1
		}
		if grad == nil {
			continue
		}
		for k, dz := range o.z {
			g := grad[k*stride : k*stride+stride]
			floats.AddScaled(g[:d], s*dz, row)
			g[d] += s * dz
		}
	}
	loss *= o.invTotal

	var penalty float64
	for k := 0; k < o.outputs; k++ {
		w := theta[k*stride : k*stride+d]
		penalty += dot(w, w)
		if grad != nil {
			g := grad[k*stride : k*stride+stride]
			floats.Scale(o.invTotal, g)
			floats.AddScaled(g[:d], o.l2, w)
		}
	}
	return loss + 0.5*o.l2*penalty
}
