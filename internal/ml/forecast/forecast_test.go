package forecast

import (
	"context"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// synthetic is a 30-minute series with a daily cycle, quieter weekends,
// a slow trend and noise of the given size.
func synthetic(n int, noise float64, seed int64) []float64 {
	rng := rand.New(rand.NewSource(seed))
	y := make([]float64, n)
	for i := range y {
		v := 1000 + 600*math.Sin(2*math.Pi*float64(i%48)/48) + 0.05*float64(i)
		if (i/48)%7 >= 5 {
			v *= 0.7
		}
		y[i] = v + rng.NormFloat64()*noise
	}
	return y
}

func TestForecastersOnSeasonalSeries(t *testing.T) {
	y := synthetic(6*336+48, 20, 1)
	hist, actual := y[:len(y)-48], y[len(y)-48:]
	cands := candidates(Config{Step: 30 * time.Minute, Models: append(append([]string{}, Models...), SeasonalMedian, ScaledNaive)}, 48, 336)
	require.Len(t, cands, len(Models)+2)
	for name, f := range cands {
		got, err := f.forecast(context.Background(), hist, 48)
		require.NoError(t, err)
		mase := MASE(hist, actual, got, 336)
		t.Logf("%s MASE %.3f", name, mase)
		require.Less(t, mase, 2.0, name)
		if name == HoltWinters || name == GBT || name == Ensemble {
			require.Less(t, mase, 1.0, "%s beats the seasonal naive forecast on a clean seasonal series", name)
		}
	}
}

func TestTrainChoosesAndCoversTheNoise(t *testing.T) {
	y := synthetic(6*336+48, 50, 2)
	res, err := Train(context.Background(), y[:len(y)-48], Config{Horizon: 48, Step: 30 * time.Minute, Quantiles: []float64{0.1, 0.9}})
	require.NoError(t, err)
	require.Contains(t, Models, res.Model)
	for _, n := range []string{SeasonalNaive, HoltWinters, GBT, Ensemble} {
		require.Contains(t, res.Validation, n)
	}
	require.LessOrEqual(t, res.Validation[res.Model], res.Validation[SeasonalNaive])
	lo, hi := res.Quantiles["p10"], res.Quantiles["p90"]
	in := 0
	for k, v := range y[len(y)-48:] {
		require.LessOrEqual(t, lo[k], hi[k])
		if v >= lo[k] && v <= hi[k] {
			in++
		}
	}
	require.Greater(t, in, 48/2, "the 80%% interval holds most actuals")

	_, err = Train(context.Background(), y[:100], Config{Horizon: 48, Step: 30 * time.Minute})
	require.ErrorIs(t, err, ErrTooShort)
}

func TestSeasonsAndQuantileKeys(t *testing.T) {
	d, w := Seasons(30 * time.Minute)
	require.Equal(t, [2]int{48, 336}, [2]int{d, w})
	d, w = Seasons(24 * time.Hour)
	require.Equal(t, [2]int{0, 7}, [2]int{d, w})
	require.Equal(t, "p10", QuantileKey(0.1))
	require.Equal(t, "p2.5", QuantileKey(0.025))
}
