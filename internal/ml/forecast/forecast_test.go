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

// TestCalibratedIntervalsHoldUnseenDays draws daily errors whose size
// varies from day to day, as a forecaster's do (a quiet week, a busy
// one): the quantiles of five days' errors are too narrow for the next
// days, and the leave-one-origin-out calibration widens them to about
// the share they promise.
func TestCalibratedIntervalsHoldUnseenDays(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	const h = 48
	day := func() []float64 {
		s := math.Exp(rng.NormFloat64() * 0.8)
		e := make([]float64, h)
		for k := range e {
			e[k] = rng.NormFloat64() * s * 100
		}
		return e
	}
	rawIn, calIn, n := 0, 0, 0
	for trial := 0; trial < 200; trial++ {
		errs := make([][]float64, 5)
		for o := range errs {
			errs[o] = day()
		}
		rawLo, rawHi := offsets(h, errs, 0.1), offsets(h, errs, 0.9)
		zero := make([]float64, h)
		lo, hi := Interval(zero, errs, 0.1), Interval(zero, errs, 0.9)
		for k, v := range day() {
			n++
			if v >= rawLo[k] && v <= rawHi[k] {
				rawIn++
			}
			if v >= lo[k] && v <= hi[k] {
				calIn++
			}
			require.LessOrEqual(t, lo[k], hi[k])
		}
	}
	raw, cal := float64(rawIn)/float64(n), float64(calIn)/float64(n)
	t.Logf("80%% interval holds %.1f%% raw, %.1f%% calibrated", 100*raw, 100*cal)
	require.Greater(t, cal-raw, 0.03, "the raw quantiles are too narrow for unseen days")
	require.InDelta(t, 0.80, cal, 0.04, "the calibrated ones hold about 80%%")
}
