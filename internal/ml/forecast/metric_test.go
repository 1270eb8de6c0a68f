package forecast

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestScoreDefinitions(t *testing.T) {
	actual := []float64{1, 2, 3, 4}
	pred := []float64{2, 2, 2, 2}
	ln := math.Log
	msle := (math.Pow(ln(2)-ln(3), 2) + 0 + math.Pow(ln(4)-ln(3), 2) + math.Pow(ln(5)-ln(3), 2)) / 4
	for _, tc := range []struct {
		metric string
		want   float64
	}{
		{MetricMAE, -1},                 // (1+0+1+2)/4
		{MetricMSE, -1.5},               // (1+0+1+4)/4
		{MetricRMSE, -math.Sqrt(1.5)},   //
		{MetricMaxAE, -2},               //
		{MetricMedAE, -1},               // median of 0,1,1,2
		{MetricMSLE, -msle},             // log1p differences
		{MetricRMSLE, -math.Sqrt(msle)}, //
		{MetricSMAPE, -(2.0/3 + 0 + 2.0/5 + 4.0/6) / 4},
		{MetricR2, 1 - 6.0/5}, // residual 6, total 5 around the mean 2.5
		{"NEG_MEAN_ABSOLUTE_ERROR", -1},
	} {
		got, err := Score(tc.metric, actual, pred)
		require.NoError(t, err, tc.metric)
		require.InDelta(t, tc.want, got, 1e-12, tc.metric)
	}
	// The inputs are left as they were (the median sorts a copy).
	require.Equal(t, []float64{1, 2, 3, 4}, actual)

	for _, tc := range []struct {
		metric       string
		actual, pred []float64
	}{
		{"accuracy", actual, pred},
		{MetricMAE, actual, pred[:2]},
		{MetricMAE, nil, nil},
		{MetricMSLE, []float64{1, -1}, []float64{1, 1}},
		{MetricRMSLE, []float64{1, 1}, []float64{1, -0.5}},
	} {
		_, err := Score(tc.metric, tc.actual, tc.pred)
		require.ErrorIs(t, err, ErrMetric, tc.metric)
	}
	r2, err := Score(MetricR2, []float64{3, 3}, []float64{3, 3})
	require.NoError(t, err)
	require.Equal(t, 1.0, r2)
}

func TestTrainChoosesByMetric(t *testing.T) {
	y := synthetic(6*336+48, 50, 3)
	cfg := Config{Horizon: 48, Step: 30 * time.Minute}
	byMAE, err := Train(context.Background(), y, cfg)
	require.NoError(t, err)
	require.Empty(t, byMAE.Scores)

	// The MAE metric makes the same choice as the default, and reports
	// every candidate's score, the negated validation MAE.
	cfg.Metric = MetricMAE
	res, err := Train(context.Background(), y, cfg)
	require.NoError(t, err)
	require.Equal(t, byMAE.Model, res.Model)
	require.Equal(t, MetricMAE, res.Metric)
	for n, v := range res.Validation {
		require.InDelta(t, -v, res.Scores[n], 1e-9, n)
	}

	// Under any metric the chosen model is the candidate with the best
	// score (among cheap candidates and no ensemble, which is preferred
	// within a margin of the best).
	cfg.Models = []string{SeasonalNaive, ScaledNaive, HoltWinters}
	for _, m := range Metrics {
		cfg.Metric = m
		res, err := Train(context.Background(), y, cfg)
		require.NoError(t, err, m)
		require.Len(t, res.Scores, len(cfg.Models), m)
		for n, v := range res.Scores {
			require.LessOrEqual(t, v, res.Scores[res.Model], "%s: %s scores better than the chosen %s", m, n, res.Model)
		}
	}

	// A restricted model list is honoured, and an unknown metric refused.
	cfg.Metric, cfg.Models = MetricRMSE, []string{SeasonalNaive, GBT}
	res, err = Train(context.Background(), y, cfg)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{SeasonalNaive, GBT}, keys(res.Scores))
	cfg.Metric = "roc_auc"
	_, err = Train(context.Background(), y, cfg)
	require.ErrorIs(t, err, ErrMetric)
}

func keys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
