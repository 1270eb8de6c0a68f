package automl

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// The report keeps the chosen candidate's outputs on the validation rows:
// scoring them again gives the report's validation score, which the
// refitted model (trained on those rows too) would not.
func TestReportKeepsTheChosenCandidatesValidationOutputs(t *testing.T) {
	classify := synthetic(600, 3)
	regress := synthetic(600, 4)
	for i, r := range regress.Rows {
		x, _ := r[2].(float64)
		regress.Target[i] = 3*x + float64(i%5)
	}
	regress.TargetNumeric = true
	for _, tc := range []struct {
		name string
		ds   *Dataset
		opt  Options
	}{
		{"binary xgboost", classify, Options{ModelType: model.XGBoost, Seed: 1, Hyperparameters: map[string]string{}}},
		{"regression linear", regress, Options{ModelType: model.LinearLearner, Problem: model.Regression, Seed: 1, Hyperparameters: map[string]string{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rep, err := Train(context.Background(), tc.ds, tc.opt)
			require.NoError(t, err)
			v := rep.Validation
			require.NotNil(t, v)
			require.Len(t, v.Actual, rep.ValidRows)
			require.Len(t, v.Outputs, rep.ValidRows)
			score, err := Score(rep.Objective, v.Actual, v.Outputs, rep.Problem)
			require.NoError(t, err)
			require.InDelta(t, rep.Score, score, 1e-12)
			if rep.Problem.Classification() {
				require.Equal(t, []string{"no", "yes"}, v.Classes)
			}
		})
	}
}

func TestReportKeepsClusterSizesAndAnomalyScores(t *testing.T) {
	ds := synthetic(300, 5)
	ds.Target = nil
	_, rep, err := Train(context.Background(), ds, Options{ModelType: model.KMeans, Hyperparameters: map[string]string{"k": "4"}})
	require.NoError(t, err)
	require.Len(t, rep.Validation.ClusterSizes, 4)
	total := 0
	for _, n := range rep.Validation.ClusterSizes {
		total += n
	}
	require.Equal(t, 300, total)

	_, rep, err = Train(context.Background(), ds, Options{ModelType: model.RandomCutForest, Hyperparameters: map[string]string{"num_trees": "20"}})
	require.NoError(t, err)
	v := rep.Validation
	require.Len(t, v.Scores, 300)
	var sum, sq float64
	for _, s := range v.Scores {
		sum += s
		sq += s * s
	}
	mean := sum / 300
	require.InDelta(t, mean+3*math.Sqrt(sq/300-mean*mean), v.Threshold, 1e-9)
}

func TestSampleSpreadsEvenly(t *testing.T) {
	require.Equal(t, []int{0, 1, 2}, sample(3))
	s := sample(10 * MaxValidationRows)
	require.Len(t, s, MaxValidationRows)
	require.Equal(t, 0, s[0])
	require.Equal(t, 10, s[1])
	require.Equal(t, 10*MaxValidationRows-10, s[len(s)-1])
	require.Equal(t, []int{0, 25, 50, 75}, sampleUpTo(100, 4))
}
