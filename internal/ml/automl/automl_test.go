package automl

import (
	"context"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/model"
)

func TestPrepareInfersProblemAndRejectsBadTargets(t *testing.T) {
	feats := []model.Feature{{Name: "x", Kind: model.Numeric}}
	rows := func(n int) [][]any {
		out := make([][]any, n)
		for i := range out {
			out[i] = []any{float64(i)}
		}
		return out
	}
	labels := func(n int, f func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	cases := []struct {
		name    string
		target  []any
		numeric bool
		opt     Options
		want    model.Problem
		classes []string
		err     error
	}{
		{"two strings", labels(20, func(i int) any { return []string{"no", "yes"}[i%2] }), false, Options{}, model.Binary, []string{"no", "yes"}, nil},
		{"numeric 0/1 sorts numerically", labels(20, func(i int) any { return int64(1 - i%2) }), true, Options{}, model.Binary, []string{"0", "1"}, nil},
		{"three strings", labels(30, func(i int) any { return []string{"a", "b", "c"}[i%3] }), false, Options{}, model.Multiclass, []string{"a", "b", "c"}, nil},
		{"few integers", labels(30, func(i int) any { return int64(i % 5) }), true, Options{}, model.Multiclass, []string{"0", "1", "2", "3", "4"}, nil},
		{"many floats", labels(30, func(i int) any { return float64(i) / 7 }), true, Options{}, model.Regression, nil, nil},
		{"integers as regression", labels(30, func(i int) any { return int64(i % 5) }), true, Options{Problem: model.Regression}, model.Regression, nil, nil},
		{"strings as regression", labels(20, func(i int) any { return []string{"no", "yes"}[i%2] }), false, Options{Problem: model.Regression}, "", nil, ErrBadTarget},
		{"one class", labels(20, func(int) any { return "x" }), false, Options{}, "", nil, ErrBadTarget},
		{"all NULL", labels(20, func(int) any { return nil }), false, Options{}, "", nil, ErrBadTarget},
		{"class with one row", labels(20, func(i int) any {
			if i == 0 {
				return "rare"
			}
			return []string{"a", "b"}[i%2]
		}), false, Options{}, "", nil, ErrFewRows},
		{"objective for another problem", labels(20, func(i int) any { return []string{"no", "yes"}[i%2] }), false, Options{Auto: true, Objective: "MSE"}, "", nil, ErrBadSetting},
		{"unknown objective", labels(20, func(i int) any { return []string{"no", "yes"}[i%2] }), false, Options{Auto: true, Objective: "Precision"}, "", nil, ErrBadSetting},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds := &Dataset{Features: feats, Rows: rows(len(c.target)), Target: c.target, TargetName: "y", TargetNumeric: c.numeric}
			p, classes, err := Prepare(ds, c.opt)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, p)
			require.Equal(t, c.classes, classes)
		})
	}
	_, _, err := Prepare(&Dataset{Features: feats}, Options{})
	require.ErrorIs(t, err, ErrEmpty)
	_, _, err = Prepare(&Dataset{Features: feats, Rows: rows(5), Target: make([]any, 5)}, Options{})
	require.ErrorIs(t, err, ErrFewRows)
}

func TestMetrics(t *testing.T) {
	y := []float64{0, 0, 1, 1}
	outs := func(vals ...float64) [][]float64 {
		o := make([][]float64, len(vals))
		for i, v := range vals {
			o[i] = []float64{v}
		}
		return o
	}
	for _, c := range []struct {
		metric string
		out    [][]float64
		want   float64
	}{
		{"AUC", outs(0.1, 0.2, 0.8, 0.9), 1},
		{"AUC", outs(0.9, 0.8, 0.2, 0.1), 0},
		{"AUC", outs(0.5, 0.5, 0.5, 0.5), 0.5},
		{"Accuracy", outs(0.1, 0.6, 0.8, 0.9), 0.75},
		{"F1", outs(0.1, 0.6, 0.8, 0.9), 0.8},
		{"MSE", outs(0, 0, 1, 3), 1},
		{"RMSE", outs(0, 0, 1, 3), 1},
		{"MAE", outs(0, 0, 1, 3), 0.5},
	} {
		p := model.Binary
		if c.metric == "MSE" || c.metric == "RMSE" || c.metric == "MAE" {
			p = model.Regression
		}
		got, err := Score(c.metric, y, c.out, p)
		require.NoError(t, err)
		require.InDelta(t, c.want, got, 1e-12, "%s %v", c.metric, c.out)
	}
}

// synthetic is a binary problem driven by x and the category, where z is
// noise.
func synthetic(n int, seed int64) *Dataset {
	rng := rand.New(rand.NewSource(seed))
	ds := &Dataset{Features: []model.Feature{{Name: "x", Kind: model.Numeric}, {Name: "cat", Kind: model.Categorical}, {Name: "z", Kind: model.Numeric}},
		TargetName: "y"}
	for i := 0; i < n; i++ {
		x, cat, z := rng.NormFloat64(), []string{"a", "b", "c"}[rng.Intn(3)], rng.NormFloat64()
		s := x
		if cat == "b" {
			s += 1.5
		}
		var xv any = x
		if i%50 == 0 {
			xv = nil // missing values are allowed
		}
		ds.Rows = append(ds.Rows, []any{xv, cat, z})
		ds.Target = append(ds.Target, map[bool]string{true: "yes", false: "no"}[s > 0.5])
	}
	return ds
}

func TestTrainSearchesRefitsAndExplains(t *testing.T) {
	ds := synthetic(1500, 1)
	art, rep, err := Train(context.Background(), ds, Options{Auto: true, Seed: 42})
	require.NoError(t, err)
	require.Equal(t, model.Binary, rep.Problem)
	require.Equal(t, "F1", rep.Objective)
	require.Greater(t, rep.Score, 0.9)
	require.GreaterOrEqual(t, len(rep.Leaderboard), 5)
	require.Equal(t, 300, rep.ValidRows)
	for i := 1; i < len(rep.Leaderboard); i++ {
		if !math.IsNaN(rep.Leaderboard[i].Score) {
			require.GreaterOrEqual(t, rep.Leaderboard[i-1].Score, rep.Leaderboard[i].Score, "leaderboard is sorted best first")
		}
	}
	require.Equal(t, []string{"no", "yes"}, art.Classes)
	require.NotEmpty(t, art.Importance)
	require.NotEqual(t, "z", art.Importance[0].Feature, "noise is not the most important feature: %v", art.Importance)

	// Held-out rows from the same distribution.
	test := synthetic(500, 2)
	p, err := art.Compile()
	require.NoError(t, err)
	x, out := make([]float64, p.Width()), make([]float64, p.NumOutputs())
	ok := 0
	for i, r := range test.Rows {
		require.NoError(t, p.Scores(r, x, out))
		if art.Classes[p.Class(out)] == test.Target[i] {
			ok++
		}
	}
	require.Greater(t, float64(ok)/float64(len(test.Rows)), 0.9)
}

func TestTrainFixedModelTypesAndLimits(t *testing.T) {
	ds := synthetic(400, 3)
	for _, mt := range []string{model.XGBoost, model.LinearLearner, model.MLP} {
		art, rep, err := Train(context.Background(), ds, Options{ModelType: mt, Seed: 1, Hyperparameters: map[string]string{}})
		require.NoError(t, err, mt)
		require.Equal(t, mt, art.Algorithm)
		require.Len(t, rep.Leaderboard, 1)
		require.NotEmpty(t, art.Importance, mt)
		require.NotEqual(t, "z", art.Importance[0].Feature, "%s: noise is not the most important feature: %v", mt, art.Importance)
	}
	_, _, err := Train(context.Background(), ds, Options{ModelType: model.XGBoost, Hyperparameters: map[string]string{"num_rounds": "3"}})
	require.ErrorIs(t, err, ErrBadSetting)
	_, _, err = Train(context.Background(), ds, Options{ModelType: model.XGBoost, Objective: "reg:squarederror", Hyperparameters: map[string]string{}})
	require.ErrorIs(t, err, ErrBadSetting)

	// A deadline that passes during the search keeps the best candidate
	// finished so far.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	art, rep, err := Train(ctx, synthetic(20000, 4), Options{Auto: true})
	if err == nil {
		require.NotNil(t, art)
		require.NotEmpty(t, rep.Chosen)
	} else {
		require.ErrorIs(t, err, context.DeadlineExceeded)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, _, err = Train(ctx, ds, Options{Auto: true})
	require.ErrorIs(t, err, context.Canceled)
}

func TestTrainUnsupervised(t *testing.T) {
	ds := synthetic(300, 5)
	ds.Target = nil
	_, _, err := Train(context.Background(), ds, Options{ModelType: model.KMeans, Hyperparameters: map[string]string{}})
	require.ErrorIs(t, err, ErrBadSetting, "KMEANS needs K")
	art, _, err := Train(context.Background(), ds, Options{ModelType: model.KMeans, Hyperparameters: map[string]string{"k": "4"}})
	require.NoError(t, err)
	require.Equal(t, model.Clustering, art.Problem)
	art, _, err = Train(context.Background(), ds, Options{ModelType: model.RandomCutForest, Hyperparameters: map[string]string{"num_trees": "20"}})
	require.NoError(t, err)
	p, err := art.Compile()
	require.NoError(t, err)
	x, out := make([]float64, p.Width()), make([]float64, 1)
	require.NoError(t, p.Scores([]any{50.0, "a", 50.0}, x, out))
	far := out[0]
	require.NoError(t, p.Scores([]any{0.0, "a", 0.0}, x, out))
	require.Greater(t, far, out[0])
}

func TestTrainAlgorithmsRestrictTheSearch(t *testing.T) {
	ds := synthetic(400, 3)
	for _, algos := range [][]string{{model.LinearLearner}, {model.MLP, model.LinearLearner}} {
		art, rep, err := Train(context.Background(), ds, Options{Auto: true, Seed: 42, Algorithms: algos})
		require.NoError(t, err)
		require.Contains(t, algos, art.Algorithm)
		for _, c := range rep.Leaderboard {
			require.Contains(t, algos, c.Algorithm, "the search tried only the listed algorithms")
		}
	}
	_, _, err := Train(context.Background(), ds, Options{Auto: true, Seed: 42, Algorithms: []string{"NOPE"}})
	require.ErrorIs(t, err, ErrBadSetting)
}
