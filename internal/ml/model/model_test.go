package model

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
	"github.com/sibyldb/sibyldb/internal/ml/linear"
	"github.com/sibyldb/sibyldb/internal/ml/onnxrt"
	"github.com/sibyldb/sibyldb/internal/testserver"
)

func TestEncoder(t *testing.T) {
	day := time.Date(2024, 3, 15, 10, 0, 0, 0, time.UTC)
	cols := []Feature{{Name: "n", Kind: Numeric}, {Name: "c", Kind: Categorical}, {Name: "d", Kind: Temporal}}
	rows := [][]any{
		{int64(1), "a", day},
		{decimal.NewFromFloat(3), "b", day.AddDate(0, 0, 2)},
		{nil, "a", nil},
	}
	raw, err := FitEncoder(cols, rows, false)
	require.NoError(t, err)
	require.Equal(t, 1+2+6, raw.Width())
	require.Equal(t, []string{"n", "c=a", "c=b", "d.year", "d.month", "d.day", "d.weekday", "d.hour", "d.epoch_days"}, raw.Names())
	require.Equal(t, []int{0, 1, 1, 2, 2, 2, 2, 2, 2}, raw.Owners())

	x := make([]float64, raw.Width())
	require.NoError(t, raw.Encode([]any{"2.5", "b", "2024-03-15"}, x))
	require.Equal(t, []float64{2.5, 0, 1, 2024, 3, 15, 5, 0}, x[:8])
	require.NoError(t, raw.Encode([]any{nil, "unseen", nil}, x))
	require.True(t, math.IsNaN(x[0]), "trees see missing numbers as NaN")
	require.Equal(t, []float64{0, 0}, x[1:3], "unseen levels set no indicator")
	require.Error(t, raw.Encode([]any{1.0}, x), "wrong number of values")

	scaled, err := FitEncoder(cols, rows, true)
	require.NoError(t, err)
	require.NoError(t, scaled.Encode([]any{nil, "a", nil}, x))
	require.Equal(t, 0.0, x[0], "scaled encoders impute the mean")
	require.NoError(t, scaled.Encode([]any{int64(3), "a", nil}, x))
	require.InDelta(t, 1.0, x[0], 1e-9, "mean 2, std 1")
}

func TestCompileRejectsCorruptArtifacts(t *testing.T) {
	enc, err := FitEncoder([]Feature{{Name: "n", Kind: Numeric}}, [][]any{{1.0}, {2.0}}, true)
	require.NoError(t, err)
	good := Artifact{Algorithm: LinearLearner, Problem: Regression, Encoder: *enc,
		Linear: &linear.Model{Kind: dense.KindRegression, Weights: [][]float64{{2}}, Bias: []float64{1}}}
	p, err := good.Compile()
	require.NoError(t, err)
	x, out := make([]float64, 1), make([]float64, 1)
	require.NoError(t, p.Scores([]any{2.5}, x, out))
	require.InDelta(t, 5.0, out[0], 1e-9, "2 x (2.5 - mean 1.5) / std 0.5 + 1")

	// Round trip through JSON, as stored.
	b, err := json.Marshal(good)
	require.NoError(t, err)
	var back Artifact
	require.NoError(t, json.Unmarshal(b, &back))
	_, err = back.Compile()
	require.NoError(t, err)

	for name, mutate := range map[string]func(a *Artifact){
		"unknown algorithm":    func(a *Artifact) { a.Algorithm = "SVM" },
		"missing linear model": func(a *Artifact) { a.Linear = nil },
		"wrong width": func(a *Artifact) {
			a.Linear = &linear.Model{Kind: dense.KindRegression, Weights: [][]float64{{1, 2}}, Bias: []float64{0}}
		},
		"binary without classes": func(a *Artifact) { a.Problem = Binary },
		"unknown problem":        func(a *Artifact) { a.Problem = "RANKING" },
		"bad feature kind":       func(a *Artifact) { a.Encoder.Features = []Feature{{Name: "n", Kind: "text"}} },
		"bad statistics":         func(a *Artifact) { a.Encoder.Features = []Feature{{Name: "n", Kind: Numeric}} },
		"trees that do not parse": func(a *Artifact) {
			a.Algorithm, a.XGBoost = XGBoost, json.RawMessage(`{"learner": {}}`)
		},
	} {
		a := good
		a.Encoder.Features = append([]Feature(nil), good.Encoder.Features...)
		mutate(&a)
		_, err := a.Compile()
		require.Error(t, err, name)
	}
}

// FuzzLightGBM feeds arbitrary text to the LightGBM loader (a model file
// brought with CREATE MODEL may be anything): it may refuse it, but neither
// loading nor predicting with what it accepts may panic the server.
func FuzzLightGBM(f *testing.F) {
	f.Add("tree\nversion=v3\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=1\nobjective=regression\n" +
		"feature_names=a b\nfeature_infos=[0:1] [0:1]\ntree_sizes=100\n\nTree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=0\n" +
		"split_gain=1\nthreshold=0.5\ndecision_type=2\nleft_child=-1\nright_child=-2\nleaf_value=0.1 0.9\nleaf_weight=1 1\n" +
		"leaf_count=1 1\ninternal_value=0\ninternal_weight=0\ninternal_count=2\nshrinkage=1\n\n\nend of trees\n")
	f.Add("tree\nversion=v3\nnum_class=3\n")
	f.Fuzz(func(t *testing.T, text string) {
		n, problem, classes, err := LightGBMInfo(text)
		if err != nil || n > 64 {
			return
		}
		feats := make([]Feature, n)
		for i := range feats {
			feats[i] = Feature{Name: "p", Kind: Numeric, Mean: []float64{0}, Std: []float64{1}}
		}
		a := Artifact{Algorithm: LightGBM, Problem: problem, Classes: classes, Encoder: Encoder{Features: feats}, LightGBMText: text}
		p, err := a.Compile()
		if err != nil {
			return
		}
		row := make([]any, n)
		for i := range row {
			row[i] = 0.5
		}
		_ = p.Scores(row, make([]float64, p.Width()), make([]float64, p.NumOutputs()))
	})
}

// FuzzONNX feeds arbitrary bytes to the ONNX model loader (ONNX Runtime
// parses them in C): refusing is fine, crashing is not.
func FuzzONNX(f *testing.F) {
	lib, err := filepath.Abs("../../../bin/onnxruntime/libonnxruntime.so")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := os.Stat(lib); err != nil {
		f.Fatalf("ONNX Runtime not found at %s: run make deps", lib)
	}
	onnxrt.Configure(lib)
	f.Add(testserver.ONNXLinearModel([]float32{1, 2}, 0.5))
	f.Add([]byte{0x08, 0x08, 0x3a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadONNX(data)
		if err != nil {
			return
		}
		defer m.Close()
		_ = m.Predict(make([]float64, m.Features), make([]float64, m.Outputs))
	})
}
