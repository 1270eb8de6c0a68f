package forecast

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sibyldb/sibyldb/internal/ml/xgb"
)

// ErrExogenous reports exogenous values that do not fit the model.
var ErrExogenous = errors.New("exogenous variables")

// ExogModel is a trained forecast that depends on the exogenous
// variables' values over the horizon, which are known only when the
// forecast is asked for (HeatWave's ML_PREDICT_TABLE gets them in the
// rows to predict): the trees, the tail of the series their lag features
// read, and the blend with the forecasters that ignore the exogenous
// variables (an ensemble's other parts), precomputed.
type ExogModel struct {
	Shape gbtShape `json:"shape"`
	// Booster is the XGBoost JSON model of the trees.
	Booster []byte `json:"booster"`
	// N is the length of the training series: step 0 is time N.
	N int `json:"n"`
	// Tail holds the series from time N-len(Tail).
	Tail []float64 `json:"tail"`
	// Weight is the trees' share of the forecast; Base the rest of it
	// per step (nil: the trees alone).
	Weight float64   `json:"weight"`
	Base   []float64 `json:"base,omitempty"`
	// Offsets are added to the mean for each quantile (QuantileKey) and
	// step: the rolling-origin validation errors' quantiles.
	Offsets map[string][]float64 `json:"offsets"`

	mu      sync.Mutex
	booster *xgb.Booster
}

// Horizon is how many steps past the series the model forecasts.
func (e *ExogModel) Horizon() int { return e.Shape.Horizon }

// Variables is how many exogenous variables each prediction takes.
func (e *ExogModel) Variables() int { return e.Shape.Exog }

// load returns the trees, loaded once and kept: a model scores many
// batches.
func (e *ExogModel) load() (*xgb.Booster, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.booster == nil {
		b, err := xgb.Load(e.Booster)
		if err != nil {
			return nil, fmt.Errorf("loading the forecasting trees: %w", err)
		}
		e.booster = b
	}
	return e.booster, nil
}

// Predict forecasts the given steps (0 is the first time after the
// series) from ex[i], the exogenous values at steps[i] (NaN for a
// missing one), and returns the means and, per quantile key, the
// quantiles.
func (e *ExogModel) Predict(steps []int, ex [][]float64) ([]float64, map[string][]float64, error) {
	if len(ex) != len(steps) {
		return nil, nil, fmt.Errorf("%w: %d rows of values for %d steps", ErrExogenous, len(ex), len(steps))
	}
	for _, x := range ex {
		if len(x) != e.Shape.Exog {
			return nil, nil, fmt.Errorf("%w: %d values where the model has %d variables", ErrExogenous, len(x), e.Shape.Exog)
		}
	}
	if len(steps) == 0 {
		return nil, map[string][]float64{}, nil
	}
	b, err := e.load()
	if err != nil {
		return nil, nil, err
	}
	mean, err := predictGBT(b, e.Shape, view{v: e.Tail, off: e.N - len(e.Tail)}, e.N, steps, ex)
	if err != nil {
		return nil, nil, err
	}
	for i, k := range steps {
		mean[i] *= e.Weight
		if e.Base != nil {
			mean[i] += e.Base[k]
		}
	}
	qs := make(map[string][]float64, len(e.Offsets))
	for key, off := range e.Offsets {
		q := make([]float64, len(steps))
		for i, k := range steps {
			q[i] = mean[i] + off[k]
		}
		qs[key] = q
	}
	return mean, qs, nil
}

// exogModel trains f (trees, or an ensemble holding trees) on all of y
// for the exogenous variables' future values to complete at prediction
// time; ok is false when f does not use them.
func exogModel(ctx context.Context, f forecaster, y []float64, h int) (*ExogModel, bool, error) {
	var trees *gbt
	weight := 1.0
	var base []float64
	switch x := f.(type) {
	case *gbt:
		trees = x
	case ensemble:
		base = make([]float64, h)
		for i, p := range x.parts {
			w := x.weight(i)
			if g, ok := p.(*gbt); ok {
				trees, weight = g, w
				continue
			}
			m, err := p.forecast(ctx, y, h)
			if err != nil {
				return nil, false, err
			}
			for k := range base {
				base[k] += w * m[k]
			}
		}
	}
	if trees == nil || len(trees.exog) == 0 {
		return nil, false, nil
	}
	sh := trees.shape(h)
	model, err := trees.train(ctx, y, sh)
	if err != nil {
		return nil, false, err
	}
	tail := y[max(0, len(y)-sh.reach()):]
	return &ExogModel{Shape: sh, Booster: model, N: len(y), Tail: append([]float64(nil), tail...),
		Weight: weight, Base: base, Offsets: map[string][]float64{}}, true, nil
}
