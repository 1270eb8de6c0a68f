package drift

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestFitAndBin(t *testing.T) {
	vals := make([]any, 0, 1001)
	for i := 1; i <= 1000; i++ {
		vals = append(vals, float64(i))
	}
	vals = append(vals, nil)
	d := Fit("x", Numeric, vals)
	require.Len(t, d.Edges, 9)
	require.Len(t, d.Props, 11, "ten deciles and the NULL bin")
	for i := 0; i < 10; i++ {
		require.InDelta(t, 0.1, d.Props[i], 0.002, "bin %d", i)
	}
	require.InDelta(t, 1.0/1001, d.Props[10], 1e-12)
	require.Equal(t, 0, d.Bin(-5.0))
	require.Equal(t, 9, d.Bin(1e9))
	require.Equal(t, 10, d.Bin(nil))
	require.Equal(t, 10, d.Bin("not a number"))
	require.Equal(t, d.Bin(int64(500)), d.Bin("500"))

	// Repeated values: edges stay distinct.
	d = Fit("k", Numeric, []any{1, 1, 1, 1, 2, 2, 3})
	require.Equal(t, []float64{1, 2}, d.Edges)

	c := Fit("c", Categorical, []any{"a", "a", "b", nil})
	require.Equal(t, []string{"a", "b"}, c.Categories)
	require.Equal(t, []float64{0.5, 0.25, 0, 0.25}, c.Props, "a, b, other, NULL")
	require.Equal(t, 2, c.Bin("z"))
	require.Equal(t, 3, c.Bin(nil))
}

func TestPSI(t *testing.T) {
	d := Distribution{Kind: Categorical, Categories: []string{"a", "b"}, Props: []float64{0.5, 0.5, 0, 0}}
	require.Zero(t, d.PSI([]int64{10, 10, 0, 0}))
	require.True(t, math.IsNaN(d.PSI([]int64{0, 0, 0, 0})))
	// The formula, with Epsilon for the empty bins.
	want := (0.8-0.5)*math.Log(0.8/0.5) + (0.2-0.5)*math.Log(0.2/0.5)
	require.InDelta(t, want, d.PSI([]int64{8, 2, 0, 0}), 1e-12)
	want = (0.5-0.5)*0 + (Epsilon-0.5)*math.Log(Epsilon/0.5) + (0.5-Epsilon)*math.Log(0.5/Epsilon)
	require.InDelta(t, want, d.PSI([]int64{5, 0, 5, 0}), 1e-12)
	require.Equal(t, "stable", Level(0.05))
	require.Equal(t, "moderate", Level(0.2))
	require.Equal(t, "significant", Level(0.3))
}

func TestTrackerSamplesAndReports(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	train := make([]any, 5000)
	for i := range train {
		train[i] = rng.NormFloat64()
	}
	m := NewMonitor(nil)
	tr := m.Add("db.m@1", &Baseline{Features: []Distribution{Fit("x", Numeric, train)}})
	rows := make([][]any, 20000)
	for i := range rows {
		rows[i] = []any{rng.NormFloat64()}
	}
	// The default rate samples about 1% of the rows.
	tr.Observe(rows, nil)
	r := tr.Report(time.Time{})
	require.InDelta(t, 200, r.Rows, 60)
	require.Len(t, r.Items, 1)
	require.Less(t, r.Items[0].PSI, 0.25)

	shifted := make([][]any, len(rows))
	for i := range rows {
		shifted[i] = []any{rows[i][0].(float64) * 2}
	}
	since := time.Now().Add(time.Hour)
	require.Zero(t, tr.Report(since).Rows, "nothing scored after since")
	for i := 0; i < 20; i++ {
		tr.Observe(shifted, nil)
	}
	r = tr.Report(time.Time{})
	require.Greater(t, r.Items[0].PSI, 0.25)
}

// BenchmarkObserve measures the sampling cost per scored row: batches of
// 2048 rows of 10 numeric features, at the default rate and at every row.
func BenchmarkObserve(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	var feats []Distribution
	for f := 0; f < 10; f++ {
		train := make([]any, 2000)
		for i := range train {
			train[i] = rng.Int63n(1000000)
		}
		feats = append(feats, Fit("f", Numeric, train))
	}
	rows := make([][]any, 2048)
	preds := make([]any, len(rows))
	for i := range rows {
		rows[i] = make([]any, 10)
		for f := range rows[i] {
			rows[i][f] = rng.Int63n(1000000)
		}
		preds[i] = rng.Float64()
	}
	for _, rate := range []float64{0, DefaultSampleRate, 1} {
		b.Run(fmt.Sprintf("rate=%g", rate), func(b *testing.B) {
			b.Cleanup(func() { sampleRateOverride.Store(nil) })
			sampleRateOverride.Store(&rate)
			pred := Fit("prediction", Numeric, preds)
			tr := NewMonitor(nil).Add("k", &Baseline{Features: feats, Prediction: &pred})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tr.Observe(rows, preds)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
		})
	}
}
