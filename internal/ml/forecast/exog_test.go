package forecast

import (
	"context"
	"encoding/json"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// exogSeries is an hourly series with a daily cycle plus 80 times an
// exogenous on/off signal (a promotion, say) that no lag predicts.
func exogSeries(n int, seed int64) (y, x []float64) {
	rng := rand.New(rand.NewSource(seed))
	y, x = make([]float64, n), make([]float64, n)
	for i := range y {
		if rng.Float64() < 0.3 {
			x[i] = 1
		}
		y[i] = 200 + 50*math.Sin(2*math.Pi*float64(i%24)/24) + 80*x[i] + rng.NormFloat64()*3
	}
	return y, x
}

func mae(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += math.Abs(a[i] - b[i])
	}
	return s / float64(len(a))
}

func TestExogenousVariablesDriveTheForecast(t *testing.T) {
	const h = 24
	y, x := exogSeries(8*168+h, 3)
	n := len(y) - h
	cfg := Config{Horizon: h, Step: time.Hour, Quantiles: []float64{0.1, 0.9}}
	plain, err := Train(context.Background(), y[:n], cfg)
	require.NoError(t, err)
	require.Nil(t, plain.Exog)
	plainMAE := mae(y[n:], plain.Mean)

	cfg.Exog = [][]float64{x[:n]}
	res, err := Train(context.Background(), y[:n], cfg)
	require.NoError(t, err)
	require.NotNil(t, res.Exog, "validation chooses a model that reads the exogenous variable (chose %s: %v)", res.Model, res.Validation)
	require.Contains(t, []string{GBT, Ensemble}, res.Model)
	require.Empty(t, res.Mean, "the forecast waits for the future exogenous values")
	require.Less(t, res.Validation[res.Model], res.Validation[SeasonalNaive]/2)

	// The stored model (JSON, as the model store keeps it) forecasts
	// from the future values.
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var stored Result
	require.NoError(t, json.Unmarshal(b, &stored))
	em := stored.Exog
	require.Equal(t, h, em.Horizon())
	require.Equal(t, 1, em.Variables())
	steps := make([]int, h)
	future, flipped := make([][]float64, h), make([][]float64, h)
	for k := range steps {
		steps[k] = k
		future[k] = []float64{x[n+k]}
		flipped[k] = []float64{1 - x[n+k]}
	}
	mean, qs, err := em.Predict(steps, future)
	require.NoError(t, err)
	exogMAE := mae(y[n:], mean)
	t.Logf("MAE without the exogenous variable %.1f, with it %.1f (%s)", plainMAE, exogMAE, res.Model)
	require.Less(t, exogMAE, plainMAE/2, "knowing the signal halves the error at least")
	require.Less(t, exogMAE, 20.0)
	wrong, _, err := em.Predict(steps, flipped)
	require.NoError(t, err)
	require.Greater(t, mae(y[n:], wrong), 3*exogMAE, "the forecast follows the values given, not the training ones")

	// Rows in any order, a subset of the steps: the same forecasts.
	sub, _, err := em.Predict([]int{5, 0, 23}, [][]float64{future[5], future[0], future[23]})
	require.NoError(t, err)
	require.InDeltaSlice(t, []float64{mean[5], mean[0], mean[23]}, sub, 1e-9)

	lo, hi := qs["p10"], qs["p90"]
	in := 0
	for k := range mean {
		require.LessOrEqual(t, lo[k], mean[k]+1e-9)
		require.GreaterOrEqual(t, hi[k], mean[k]-1e-9)
		if v := y[n+k]; v >= lo[k] && v <= hi[k] {
			in++
		}
	}
	require.Greater(t, in, h/2)

	_, _, err = em.Predict([]int{h}, [][]float64{{1}})
	require.Error(t, err, "beyond the horizon")
	_, _, err = em.Predict([]int{0}, [][]float64{{1, 2}})
	require.ErrorIs(t, err, ErrExogenous)
	_, err = Train(context.Background(), y[:n], Config{Horizon: h, Step: time.Hour, Exog: [][]float64{x[:n-1]}})
	require.ErrorIs(t, err, ErrExogenous)
}
