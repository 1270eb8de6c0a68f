package gbtree_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/sibyldb/sibyldb/internal/ml/gbtree"
	"github.com/sibyldb/sibyldb/internal/ml/xgb"
)

var update = flag.Bool("update", false, "rewrite the small models in testdata and the fuzz seed corpus")

// sample draws rows x cols features, uniform in [-2, 2), with a fraction set
// to NaN, and returns them in xgb's float32 layout and as float64 rows.
func sample(r *rand.Rand, rows, cols int, missing float64) (xgb.Matrix, [][]float64) {
	m := xgb.Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
	xs := make([][]float64, rows)
	for i := range xs {
		xs[i] = make([]float64, cols)
		for j := range xs[i] {
			v := r.Float64()*4 - 2
			if r.Float64() < missing {
				v = math.NaN()
			}
			xs[i][j] = v
			m.Data[i*cols+j] = float32(v)
		}
	}
	return m, xs
}

// score is a smooth function of the features; NaN counts as 0.
func score(x []float64) float64 {
	v := func(i int) float64 {
		if i >= len(x) || math.IsNaN(x[i]) {
			return 0
		}
		return x[i]
	}
	return v(0) + 0.5*v(1)*v(2) - math.Sin(v(3))
}

type labeller func(r *rand.Rand, x []float64) float32

var (
	binaryLabels labeller = func(r *rand.Rand, x []float64) float32 {
		if score(x)+0.3*r.NormFloat64() > 0 {
			return 1
		}
		return 0
	}
	classLabels labeller = func(r *rand.Rand, x []float64) float32 {
		s := score(x) + 0.3*r.NormFloat64()
		switch {
		case s < -0.7:
			return 0
		case s < 0.7:
			return 1
		}
		return 2
	}
	realLabels labeller = func(r *rand.Rand, x []float64) float32 {
		return float32(10*score(x) + 100 + r.NormFloat64())
	}
	countLabels labeller = func(r *rand.Rand, x []float64) float32 {
		return float32(math.Round(math.Exp(score(x)/2) * (1 + 0.2*r.Float64())))
	}
	positiveLabels labeller = func(r *rand.Rand, x []float64) float32 {
		return float32(math.Exp(score(x)/2) + 0.1 + 0.1*r.Float64())
	}
)

// train fits a model on 1500 rows with 10% missing values.
func train(t testing.TB, seed uint64, label labeller, rounds int, params ...[2]string) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 2))
	m, xs := sample(r, 1500, 6, 0.1)
	y := make([]float32, len(xs))
	for i, x := range xs {
		y[i] = label(r, x)
	}
	params = append([][2]string{{"nthread", "1"}, {"seed", "3"}, {"max_depth", "6"}, {"eta", "0.2"}}, params...)
	res, err := xgb.Train(context.Background(), m, y, nil, nil, nil, xgb.TrainConfig{Params: params, Rounds: rounds})
	if err != nil {
		t.Fatal(err)
	}
	return res.Model
}

func TestMatchesXGBoost(t *testing.T) {
	tests := []struct {
		name   string
		label  labeller
		rounds int
		params [][2]string
	}{
		{"binary logistic", binaryLabels, 80, [][2]string{{"objective", "binary:logistic"}}},
		{"binary logistic, base_score 0.3", binaryLabels, 50, [][2]string{{"objective", "binary:logistic"}, {"base_score", "0.3"}}},
		{"binary logitraw", binaryLabels, 50, [][2]string{{"objective", "binary:logitraw"}, {"base_score", "0.2"}}},
		{"reg logistic", binaryLabels, 50, [][2]string{{"objective", "reg:logistic"}}},
		{"binary hinge", binaryLabels, 50, [][2]string{{"objective", "binary:hinge"}}},
		{"multiclass softprob", classLabels, 60, [][2]string{{"objective", "multi:softprob"}, {"num_class", "3"}}},
		{"multiclass softmax", classLabels, 50, [][2]string{{"objective", "multi:softmax"}, {"num_class", "3"}}},
		{"regression", realLabels, 100, [][2]string{{"objective", "reg:squarederror"}}},
		{"regression, base_score 100", realLabels, 60, [][2]string{{"objective", "reg:squarederror"}, {"base_score", "100"}}},
		{"pseudo huber", realLabels, 50, [][2]string{{"objective", "reg:pseudohubererror"}}},
		{"poisson", countLabels, 60, [][2]string{{"objective", "count:poisson"}}},
		{"gamma", positiveLabels, 60, [][2]string{{"objective", "reg:gamma"}}},
		{"tweedie", positiveLabels, 60, [][2]string{{"objective", "reg:tweedie"}}},
		{"random forest", binaryLabels, 10, [][2]string{{"objective", "binary:logistic"}, {"num_parallel_tree", "4"}, {"subsample", "0.8"}, {"colsample_bynode", "0.8"}}},
		{"dart", binaryLabels, 50, [][2]string{{"objective", "binary:logistic"}, {"booster", "dart"}, {"rate_drop", "0.3"}, {"skip_drop", "0.2"}}},
		{"dart multiclass", classLabels, 30, [][2]string{{"objective", "multi:softprob"}, {"num_class", "3"}, {"booster", "dart"}, {"rate_drop", "0.2"}}},
		{"lossguide", realLabels, 50, [][2]string{{"objective", "reg:squarederror"}, {"grow_policy", "lossguide"}, {"max_leaves", "20"}, {"max_depth", "0"}, {"tree_method", "hist"}}},
		{"pruned trees", realLabels, 30, [][2]string{{"objective", "reg:squarederror"}, {"gamma", "50"}}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			model := train(t, uint64(i), tt.label, tt.rounds, tt.params...)
			compareWithXGBoost(t, model, uint64(100+i))
		})
	}
}

// compareWithXGBoost checks PredictMargin and Predict against the C library
// on 2000 random rows with missing values.
func compareWithXGBoost(t *testing.T, model []byte, seed uint64) {
	t.Helper()
	m, err := gbtree.Parse(model)
	if err != nil {
		t.Fatal(err)
	}
	b, err := xgb.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	r := rand.New(rand.NewPCG(seed, 3))
	mat, xs := sample(r, 2000, m.NumFeatures(), 0.15)
	wantMargin, err := b.PredictMargin(mat)
	if err != nil {
		t.Fatal(err)
	}
	wantPred, err := b.Predict(mat)
	if err != nil {
		t.Fatal(err)
	}
	k := m.NumOutputs()
	if len(wantMargin) != len(xs)*k {
		t.Fatalf("XGBoost returned %d margins for %d rows x %d outputs", len(wantMargin), len(xs), k)
	}
	softmax := m.Objective() == "multi:softmax" // XGBoost predicts the class index
	got := make([]float64, k)
	var worstMargin, worstPred float64
	for i, x := range xs {
		if err := m.PredictMargin(x, got); err != nil {
			t.Fatal(err)
		}
		for j, g := range got {
			worstMargin = max(worstMargin, math.Abs(g-float64(wantMargin[i*k+j])))
		}
		if err := m.Predict(x, got); err != nil {
			t.Fatal(err)
		}
		if softmax {
			best := 0
			for j := range got {
				if got[j] > got[best] {
					best = j
				}
			}
			if float32(best) != wantPred[i] {
				t.Fatalf("row %d: most probable class %d, XGBoost predicts %v", i, best, wantPred[i])
			}
			continue
		}
		for j, g := range got {
			worstPred = max(worstPred, math.Abs(g-float64(wantPred[i*k+j])))
		}
	}
	if worstMargin > 1e-5 || worstPred > 1e-5 {
		t.Errorf("max abs difference from XGBoost: margin %g, prediction %g; want <= 1e-5", worstMargin, worstPred)
	}
	t.Logf("%d trees, %d outputs; max abs difference: margin %g, prediction %g", m.NumTrees(), k, worstMargin, worstPred)
}

// TestShortInput checks that features missing from the end of x behave as
// NaN.
func TestShortInput(t *testing.T) {
	m, err := gbtree.Parse(readModel(t, "binary_small.json"))
	if err != nil {
		t.Fatal(err)
	}
	nan := make([]float64, m.NumFeatures())
	for i := range nan {
		nan[i] = math.NaN()
	}
	for _, x := range [][]float64{nil, {}, nan} {
		var got, want [1]float64
		if err := m.Predict(x, got[:]); err != nil {
			t.Fatal(err)
		}
		if err := m.Predict(nan, want[:]); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Predict(%v) = %v, want %v as for all-missing input", x, got, want)
		}
	}
	if err := m.Predict(nil, nil); err == nil {
		t.Error("Predict with an empty output slice succeeded")
	}
}

func readModel(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// smallModels are the committed fixtures: tiny but real XGBoost output.
var smallModels = []struct {
	file   string
	label  labeller
	params [][2]string
}{
	{"binary_small.json", binaryLabels, [][2]string{{"objective", "binary:logistic"}, {"max_depth", "2"}}},
	{"multiclass_small.json", classLabels, [][2]string{{"objective", "multi:softprob"}, {"num_class", "3"}, {"max_depth", "2"}}},
	{"dart_small.json", realLabels, [][2]string{{"objective", "reg:squarederror"}, {"booster", "dart"}, {"rate_drop", "0.5"}, {"max_depth", "2"}}},
}

// TestSmallModels checks the committed fixtures against XGBoost; with
// -update it first regenerates them and the fuzz seed corpus.
func TestSmallModels(t *testing.T) {
	for i, sm := range smallModels {
		t.Run(sm.file, func(t *testing.T) {
			if *update {
				model := train(t, uint64(50+i), sm.label, 3, sm.params...)
				if err := os.WriteFile(filepath.Join("testdata", sm.file), model, 0o644); err != nil {
					t.Fatal(err)
				}
				seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", model)
				dir := filepath.Join("testdata", "fuzz", "FuzzParse")
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, sm.file), []byte(seed), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			compareWithXGBoost(t, readModel(t, sm.file), uint64(i))
		})
	}
}

func TestParseErrors(t *testing.T) {
	valid := string(readModel(t, "binary_small.json"))
	tests := []struct {
		name  string
		model string
		want  error
	}{
		{"empty", ``, gbtree.ErrInvalidModel},
		{"truncated", valid[:len(valid)/2], gbtree.ErrInvalidModel},
		{"not an object", `[1,2,3]`, gbtree.ErrInvalidModel},
		{"no learner", `{}`, gbtree.ErrInvalidModel},
		{"no model param", `{"learner":{}}`, gbtree.ErrInvalidModel},
		{"num_feature of wrong type", edit(t, valid, "learner.learner_model_param.num_feature", map[string]any{}), gbtree.ErrInvalidModel},
		{"num_feature not a number", edit(t, valid, "learner.learner_model_param.num_feature", "many"), gbtree.ErrInvalidModel},
		{"num_class negative", edit(t, valid, "learner.learner_model_param.num_class", "-2"), gbtree.ErrInvalidModel},
		{"base_score missing", edit(t, valid, "learner.learner_model_param.base_score", nil), gbtree.ErrInvalidModel},
		{"base_score outside (0,1) for logistic", edit(t, valid, "learner.learner_model_param.base_score", "1.5"), gbtree.ErrInvalidModel},
		{"base_score infinite", edit(t, valid, "learner.learner_model_param.base_score", "inf"), gbtree.ErrInvalidModel},
		{"no objective", edit(t, valid, "learner.objective", nil), gbtree.ErrInvalidModel},
		{"left_children a string", edit(t, valid, "learner.gradient_booster.model.trees.0.left_children", "1,2"), gbtree.ErrInvalidModel},
		{"split condition a string", edit(t, valid, "learner.gradient_booster.model.trees.0.split_conditions.0", "0.5"), gbtree.ErrInvalidModel},
		{"split condition beyond float32", edit(t, valid, "learner.gradient_booster.model.trees.0.split_conditions.0", 1e39), gbtree.ErrInvalidModel},
		{"fractional child index", edit(t, valid, "learner.gradient_booster.model.trees.0.left_children.0", 1.5), gbtree.ErrInvalidModel},
		{"child index out of range", editTree(t, valid, []int{99, -1, -1}, []int{100, -1, -1}), gbtree.ErrInvalidModel},
		{"negative child index", editTree(t, valid, []int{-5, -1, -1}, []int{-4, -1, -1}), gbtree.ErrInvalidModel},
		{"leaf with one child", editTree(t, valid, []int{1, -1, -1}, []int{2, 2, -1}), gbtree.ErrInvalidModel},
		{"right child not left+1", editTree(t, valid, []int{1, -1, -1}, []int{1, -1, -1}), gbtree.ErrInvalidModel},
		{"self cycle", editTree(t, valid, []int{0, -1, -1}, []int{1, -1, -1}), gbtree.ErrInvalidModel},
		{"cycle to root", editTree(t, valid, []int{1, 0, -1}, []int{2, 1, -1}), gbtree.ErrInvalidModel},
		{"split index >= num_feature", edit(t, valid, "learner.gradient_booster.model.trees.0.split_indices.0", 6), gbtree.ErrInvalidModel},
		{"negative split index", edit(t, valid, "learner.gradient_booster.model.trees.0.split_indices.0", -1), gbtree.ErrInvalidModel},
		{"array lengths differ", edit(t, valid, "learner.gradient_booster.model.trees.0.default_left", []int{1}), gbtree.ErrInvalidModel},
		{"num_nodes disagrees", edit(t, valid, "learner.gradient_booster.model.trees.0.tree_param.num_nodes", "2"), gbtree.ErrInvalidModel},
		{"default_left not a flag", edit(t, valid, "learner.gradient_booster.model.trees.0.default_left.0", 7), gbtree.ErrInvalidModel},
		{"empty tree", edit(t, edit(t, edit(t, edit(t, edit(t, edit(t, valid,
			"learner.gradient_booster.model.trees.0.tree_param.num_nodes", "0"),
			"learner.gradient_booster.model.trees.0.left_children", []int{}),
			"learner.gradient_booster.model.trees.0.right_children", []int{}),
			"learner.gradient_booster.model.trees.0.split_indices", []int{}),
			"learner.gradient_booster.model.trees.0.split_conditions", []int{}),
			"learner.gradient_booster.model.trees.0.default_left", []int{}), gbtree.ErrInvalidModel},
		{"trees missing", edit(t, valid, "learner.gradient_booster.model.trees", []int{}), gbtree.ErrInvalidModel},
		{"num_trees disagrees", edit(t, valid, "learner.gradient_booster.model.gbtree_model_param.num_trees", "7"), gbtree.ErrInvalidModel},
		{"tree_info short", edit(t, valid, "learner.gradient_booster.model.tree_info", []int{0}), gbtree.ErrInvalidModel},
		{"tree_info group >= outputs", edit(t, valid, "learner.gradient_booster.model.tree_info.0", 1), gbtree.ErrInvalidModel},
		{"unknown booster", edit(t, valid, "learner.gradient_booster.name", "gbforest"), gbtree.ErrInvalidModel},
		{"dart without weights", edit(t, valid, "learner.gradient_booster", map[string]any{"name": "dart", "gbtree": map[string]any{"model": map[string]any{"gbtree_model_param": map[string]any{"num_trees": "0"}, "tree_info": []int{}, "trees": []int{}}}, "weight_drop": []float64{1}}), gbtree.ErrInvalidModel},
		{"softmax with one class", edit(t, valid, "learner.objective.name", "multi:softprob"), gbtree.ErrInvalidModel},
		{"gblinear", edit(t, valid, "learner.gradient_booster", map[string]any{"name": "gblinear", "model": map[string]any{"weights": []float64{1, 2}}}), gbtree.ErrUnsupported},
		{"categorical split", edit(t, valid, "learner.gradient_booster.model.trees.0.split_type.0", 1), gbtree.ErrUnsupported},
		{"vector leaves", edit(t, valid, "learner.gradient_booster.model.trees.0.tree_param.size_leaf_vector", "3"), gbtree.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := gbtree.Parse([]byte(tt.model))
			if err == nil {
				t.Fatalf("Parse succeeded: %d trees", m.NumTrees())
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}

func TestParseZeroTrees(t *testing.T) {
	valid := string(readModel(t, "binary_small.json"))
	model := edit(t, edit(t, edit(t, valid,
		"learner.gradient_booster.model.trees", []int{}),
		"learner.gradient_booster.model.tree_info", []int{}),
		"learner.gradient_booster.model.gbtree_model_param.num_trees", "0")
	m, err := gbtree.Parse([]byte(model))
	if err != nil {
		t.Fatal(err)
	}
	var out [1]float64
	if err := m.Predict(nil, out[:]); err != nil || out[0] != 0.5 {
		t.Errorf("a model without trees predicts %v, %v; want the base score 0.5", out[0], err)
	}
}

// TestEqualInputs checks that a value equal to a split condition goes
// right, as XGBoost's "x < condition goes left" rule demands.
func TestEqualInputs(t *testing.T) {
	model := `{"learner":{"learner_model_param":{"base_score":"0","num_class":"0","num_feature":"1"},
		"objective":{"name":"reg:squarederror"},"gradient_booster":{"name":"gbtree","model":{
		"gbtree_model_param":{"num_trees":"1"},"tree_info":[0],"trees":[{"tree_param":{"num_nodes":"3"},
		"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[0,0,0],
		"split_conditions":[0.5,-1,1],"default_left":[true,false,false]}]}}}}`
	m, err := gbtree.Parse([]byte(model))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		x    []float64
		want float64
	}{
		{[]float64{0.25}, -1},
		{[]float64{0.5}, 1},
		{[]float64{math.Nextafter(0.5, 0)}, 1}, // rounds to 0.5 in float32
		{[]float64{0.4999}, -1},
		{[]float64{math.Inf(1)}, 1},
		{[]float64{math.Inf(-1)}, -1},
		{[]float64{math.NaN()}, -1}, // default left
		{nil, -1},
	}
	for _, tt := range tests {
		var out [1]float64
		if err := m.Predict(tt.x, out[:]); err != nil {
			t.Fatal(err)
		}
		if out[0] != tt.want {
			t.Errorf("Predict(%v) = %v, want %v", tt.x, out[0], tt.want)
		}
	}
}

func BenchmarkPredictMargin(b *testing.B) {
	model := train(b, 9, binaryLabels, 100, [2]string{"objective", "binary:logistic"}, [2]string{"max_depth", "6"})
	m, err := gbtree.Parse(model)
	if err != nil {
		b.Fatal(err)
	}
	_, xs := sample(rand.New(rand.NewPCG(1, 1)), 4096, m.NumFeatures(), 0.1)
	out := make([]float64, m.NumOutputs())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := m.PredictMargin(xs[i%len(xs)], out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
