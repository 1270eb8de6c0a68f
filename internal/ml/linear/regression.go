package linear

import (
	"context"
	"errors"
	"fmt"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
	"gonum.org/v1/gonum/mat"
)

// FitRegression fits ridge regression, minimising
//
//	(1/2n) Σ (yᵢ − w·xᵢ − b)² + (l2/2)‖w‖²
//
// The bias is not penalised: the problem is solved on mean-centred data and
// the bias recovered from the means. With l2 > 0 the normal equations are
// positive definite and solved by Cholesky; with l2 == 0 and collinear (or
// fewer rows than features) data, the minimum-norm least-squares solution is
// returned via an SVD.
//
// ctx is checked between the phases of the fit (the closed form cannot be
// interrupted part-way through a factorisation).
func FitRegression(ctx context.Context, X [][]float64, y []float64, l2 float64) (*Model, error) {
	d, err := checkX(X)
	if err != nil {
		return nil, err
	}
	if len(y) != len(X) {
		return nil, fmt.Errorf("linear: %d targets for %d rows", len(y), len(X))
	}
	for i, v := range y {
		if !dense.Finite(v) {
			return nil, fmt.Errorf("linear: target of row %d is not finite (%v)", i, v)
		}
	}
	if err := checkL2(l2); err != nil {
		return nil, err
	}
	n := len(X)

	// Centre features and target so the intercept drops out of the problem.
	xMean := make([]float64, d)
	var yMean float64
	for i, row := range X {
		for j, v := range row {
			xMean[j] += v
		}
		yMean += y[i]
	}
	for j := range xMean {
		xMean[j] /= float64(n)
	}
	yMean /= float64(n)

	xc := mat.NewDense(n, d, nil)
	yc := mat.NewVecDense(n, nil)
	for i, row := range X {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		for j, v := range row {
			xc.Set(i, j, v-xMean[j])
		}
		yc.SetVec(i, y[i]-yMean)
	}

	w, err := solveRidge(ctx, xc, yc, l2)
	if err != nil {
		return nil, err
	}
	weights := make([]float64, d)
	copy(weights, w.RawVector().Data)
	bias := yMean - dot(weights, xMean)

	m := &Model{Kind: dense.KindRegression, Weights: [][]float64{weights}, Bias: []float64{bias}}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("linear: regression produced an invalid model (ill-conditioned features?): %w", err)
	}
	return m, nil
}

// solveRidge solves (XᵀX/n + l2·I) w = Xᵀy/n for centred X and y.
func solveRidge(ctx context.Context, xc *mat.Dense, yc *mat.VecDense, l2 float64) (*mat.VecDense, error) {
	n, d := xc.Dims()
	gram := mat.NewSymDense(d, nil)
	gram.SymOuterK(1/float64(n), xc.T())
	for j := 0; j < d; j++ {
		gram.SetSym(j, j, gram.At(j, j)+l2)
	}
	rhs := mat.NewVecDense(d, nil)
	rhs.MulVec(xc.T(), yc)
	rhs.ScaleVec(1/float64(n), rhs)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	var chol mat.Cholesky
	if chol.Factorize(gram) {
		w := mat.NewVecDense(d, nil)
		err := chol.SolveVecTo(w, rhs)
		var cond mat.Condition
		if err == nil || (l2 > 0 && errors.As(err, &cond)) {
			// With a penalty the system is well posed; a mat.Condition
			// error is only a warning about precision.
			return w, nil
		}
		// Without a penalty, poor conditioning means (near) collinear
		// features: fall through to the SVD, which handles rank deficiency.
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Not positive definite (only possible with l2 == 0 and collinear
	// features): take the minimum-norm least-squares solution.
	var svd mat.SVD
	if !svd.Factorize(xc, mat.SVDThin) {
		return nil, errors.New("linear: SVD of the feature matrix did not converge")
	}
	rank := svd.Rank(1e-12)
	if rank == 0 {
		// All features are constant: the best fit is the mean (w = 0).
		return mat.NewVecDense(d, nil), nil
	}
	w := mat.NewVecDense(d, nil)
	svd.SolveVecTo(w, yc, rank)
	return w, nil
}
