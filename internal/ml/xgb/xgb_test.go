package xgb

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/sibyldb/sibyldb/internal/ml/gbtree"
)

// dataset is a synthetic problem with a training and a held-out split.
type dataset struct {
	train, test           Matrix
	trainLabels, testLabs []float32
}

// synth draws rows of cols uniform features in [-1, 1), marking a fraction
// missing as NaN, and labels each row with label(x) (NaN read as 0).
func synth(seed uint64, rows, cols int, missing float64, label func(r *rand.Rand, x []float32) float32) dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	gen := func(n int) (Matrix, []float32) {
		m := Matrix{Rows: n, Cols: cols, Data: make([]float32, n*cols)}
		y := make([]float32, n)
		clean := make([]float32, cols)
		for i := range n {
			row := m.Data[i*cols : (i+1)*cols]
			for j := range row {
				row[j] = float32(r.Float64()*2 - 1)
				clean[j] = row[j]
				if r.Float64() < missing {
					row[j] = float32(math.NaN())
					clean[j] = 0
				}
			}
			y[i] = label(r, clean)
		}
		return m, y
	}
	var d dataset
	d.train, d.trainLabels = gen(rows)
	d.test, d.testLabs = gen(rows / 2)
	return d
}

func binaryLabel(r *rand.Rand, x []float32) float32 {
	if x[0]+0.5*x[1]-x[2]+0.2*float32(r.NormFloat64()) > 0 {
		return 1
	}
	return 0
}

func classLabel(r *rand.Rand, x []float32) float32 {
	s := x[0] + 0.3*x[1] + 0.1*float32(r.NormFloat64())
	switch {
	case s < -0.4:
		return 0
	case s < 0.4:
		return 1
	}
	return 2
}

func linearLabel(r *rand.Rand, x []float32) float32 {
	return 3*x[0] - 2*x[1] + x[2] + 0.05*float32(r.NormFloat64())
}

// auc is the probability that a random positive scores above a random
// negative.
func auc(scores, labels []float32) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var pos, neg, rankSum float64
	for rank, i := range idx {
		if labels[i] == 1 {
			pos++
			rankSum += float64(rank + 1)
		} else {
			neg++
		}
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func params(extra ...[2]string) [][2]string {
	return append([][2]string{{"nthread", "1"}, {"seed", "7"}, {"max_depth", "4"}, {"eta", "0.3"}}, extra...)
}

func TestTrainObjectives(t *testing.T) {
	tests := []struct {
		name   string
		data   dataset
		params [][2]string
		// quality scores test-set predictions; higher is better.
		quality func(pred, labels []float32) float64
		min     float64
	}{
		{
			name:   "binary logistic",
			data:   synth(1, 2000, 5, 0.05, binaryLabel),
			params: params([2]string{"objective", "binary:logistic"}),
			quality: func(pred, labels []float32) float64 {
				return auc(pred, labels)
			},
			min: 0.95,
		},
		{
			name:   "multiclass softprob",
			data:   synth(2, 2000, 4, 0, classLabel),
			params: params([2]string{"objective", "multi:softprob"}, [2]string{"num_class", "3"}),
			quality: func(pred, labels []float32) float64 { // accuracy
				var right int
				for i, y := range labels {
					p := pred[3*i : 3*i+3]
					if float32(slices.Index(p, slices.Max(p))) == y {
						right++
					}
				}
				return float64(right) / float64(len(labels))
			},
			min: 0.85,
		},
		{
			name:   "regression",
			data:   synth(3, 2000, 4, 0, linearLabel),
			params: params([2]string{"objective", "reg:squarederror"}),
			quality: func(pred, labels []float32) float64 { // -RMSE
				var ss float64
				for i, y := range labels {
					ss += math.Pow(float64(pred[i]-y), 2)
				}
				return -math.Sqrt(ss / float64(len(labels)))
			},
			min: -0.3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rounds []int
			res, err := Train(context.Background(), tt.data.train, tt.data.trainLabels, nil, &tt.data.test, tt.data.testLabs,
				TrainConfig{Params: tt.params, Rounds: 60, Progress: func(r int, score float64) {
					if math.IsNaN(score) {
						t.Errorf("round %d: validation score is NaN", r)
					}
					rounds = append(rounds, r)
				}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rounds != 60 || res.BestIteration != 59 || len(rounds) != 60 {
				t.Errorf("Rounds %d, BestIteration %d, %d progress calls; want 60, 59, 60", res.Rounds, res.BestIteration, len(rounds))
			}
			b, err := Load(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			pred, err := b.Predict(tt.data.test)
			if err != nil {
				t.Fatal(err)
			}
			if q := tt.quality(pred, tt.data.testLabs); q < tt.min {
				t.Errorf("quality %.4f, want >= %.4f", q, tt.min)
			}
			if nf, err := b.NumFeatures(); err != nil || nf != tt.data.train.Cols {
				t.Errorf("NumFeatures = %d, %v; want %d", nf, err, tt.data.train.Cols)
			}
		})
	}
}

func TestEarlyStopping(t *testing.T) {
	// Noisy labels and deep trees overfit quickly, so validation loss
	// turns upward long before 500 rounds.
	noisy := func(r *rand.Rand, x []float32) float32 {
		if r.Float64() < 0.3 {
			return float32(r.IntN(2))
		}
		return binaryLabel(r, x)
	}
	d := synth(4, 600, 5, 0, noisy)
	tests := []struct {
		name   string
		metric string
	}{
		{"minimised logloss", "logloss"},
		{"maximised auc", "auc"},
		{"last of two metrics", "error"}, // preceded by auc below
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := params([2]string{"objective", "binary:logistic"}, [2]string{"max_depth", "8"}, [2]string{"eta", "0.5"})
			if tt.metric == "error" {
				p = append(p, [2]string{"eval_metric", "auc"})
			}
			p = append(p, [2]string{"eval_metric", tt.metric})
			var scores []float64
			res, err := Train(context.Background(), d.train, d.trainLabels, nil, &d.test, d.testLabs, TrainConfig{
				Params: p, Rounds: 500, EarlyStoppingRounds: 5,
				Progress: func(_ int, s float64) { scores = append(scores, s) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Rounds >= 500 || res.Rounds != res.BestIteration+1+5 {
				t.Fatalf("trained %d rounds with best %d; want to stop 5 rounds after the best", res.Rounds, res.BestIteration)
			}
			best := scores[0]
			for _, s := range scores[:res.BestIteration+1] {
				if maximize(tt.metric) {
					best = max(best, s)
				} else {
					best = min(best, s)
				}
			}
			if res.BestScore != best || scores[res.BestIteration] != best {
				t.Errorf("BestScore %v at %d, want %v", res.BestScore, res.BestIteration, best)
			}
			b, err := Load(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if n, err := b.Rounds(); err != nil || n != res.BestIteration+1 {
				t.Errorf("saved model has %d rounds (%v), want BestIteration+1 = %d", n, err, res.BestIteration+1)
			}
			m, err := gbtree.Parse(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			if m.NumTrees() != res.BestIteration+1 {
				t.Errorf("saved model has %d trees, want %d", m.NumTrees(), res.BestIteration+1)
			}
		})
	}
}

func TestTrainCancel(t *testing.T) {
	d := synth(5, 500, 3, 0, binaryLabel)
	cfg := TrainConfig{Params: params([2]string{"objective", "binary:logistic"}), Rounds: 1000}

	ctx, cancel := context.WithCancel(context.Background())
	cfg.Progress = func(round int, _ float64) {
		if round == 2 {
			cancel()
		}
	}
	if _, err := Train(ctx, d.train, d.trainLabels, nil, nil, nil, cfg); !errors.Is(err, context.Canceled) {
		t.Errorf("cancel after round 2: err = %v, want context.Canceled", err)
	}
	cfg.Progress = nil
	if _, err := Train(ctx, d.train, d.trainLabels, nil, nil, nil, cfg); !errors.Is(err, context.Canceled) {
		t.Errorf("already cancelled: err = %v, want context.Canceled", err)
	}
}

func TestTrainInvalidInput(t *testing.T) {
	good := Matrix{Rows: 2, Cols: 2, Data: []float32{1, 2, 3, 4}}
	labels := []float32{0, 1}
	cfg := TrainConfig{Params: params([2]string{"objective", "binary:logistic"}), Rounds: 2}
	tests := []struct {
		name        string
		train       Matrix
		labels      []float32
		weights     []float32
		valid       *Matrix
		validLabels []float32
		cfg         TrainConfig
		xgbError    bool // rejected by the library rather than by validation
	}{
		{name: "short data", train: Matrix{Rows: 2, Cols: 2, Data: []float32{1}}, labels: labels, cfg: cfg},
		{name: "empty", train: Matrix{}, labels: nil, cfg: cfg},
		{name: "negative shape", train: Matrix{Rows: -1, Cols: -2, Data: []float32{1, 2}}, labels: labels, cfg: cfg},
		{name: "overflowing shape", train: Matrix{Rows: math.MaxInt32, Cols: math.MaxInt32}, labels: labels, cfg: cfg},
		{name: "label count", train: good, labels: []float32{1}, cfg: cfg},
		{name: "weight count", train: good, labels: labels, weights: []float32{1}, cfg: cfg},
		{name: "zero rounds", train: good, labels: labels, cfg: TrainConfig{Params: cfg.Params}},
		{name: "early stopping without validation", train: good, labels: labels, cfg: TrainConfig{Params: cfg.Params, Rounds: 2, EarlyStoppingRounds: 2}},
		{name: "validation columns", train: good, labels: labels, valid: &Matrix{Rows: 1, Cols: 1, Data: []float32{1}}, validLabels: []float32{1}, cfg: cfg},
		{name: "validation labels", train: good, labels: labels, valid: &good, validLabels: []float32{1}, cfg: cfg},
		{name: "unknown objective", train: good, labels: labels, cfg: TrainConfig{Params: [][2]string{{"objective", "no:such"}}, Rounds: 1}, xgbError: true},
		{name: "bad label for logistic", train: good, labels: []float32{0, 7}, cfg: cfg, xgbError: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Train(context.Background(), tt.train, tt.labels, tt.weights, tt.valid, tt.validLabels, tt.cfg)
			var xerr *Error
			switch {
			case err == nil:
				t.Fatal("Train succeeded")
			case tt.xgbError && !errors.As(err, &xerr):
				t.Errorf("err = %v, want an *Error from XGBoost", err)
			case !tt.xgbError && !errors.Is(err, ErrInvalidInput):
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
			t.Log(err)
		})
	}
}

// trained returns a small binary model as a loaded booster and its JSON.
func trained(t *testing.T, objective ...[2]string) (*Booster, []byte, dataset) {
	t.Helper()
	d := synth(6, 800, 4, 0.1, classLabel)
	if len(objective) == 0 {
		for i, y := range d.trainLabels {
			d.trainLabels[i] = min(y, 1)
		}
		objective = [][2]string{{"objective", "binary:logistic"}}
	}
	res, err := Train(context.Background(), d.train, d.trainLabels, nil, nil, nil,
		TrainConfig{Params: params(objective...), Rounds: 20})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(res.Model)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b, res.Model, d
}

func TestLoadInvalid(t *testing.T) {
	b, model, _ := trained(t)
	unlock, err := b.lock()
	if err != nil {
		t.Fatal(err)
	}
	ubj, err := saveModel(b.h, "ubj")
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	if loaded, err := Load(ubj); err != nil {
		t.Errorf("Load(UBJSON): %v", err)
	} else {
		js, err := loaded.JSON()
		if err != nil || !bytes.Equal(js, model) {
			t.Errorf("UBJSON model exports different JSON (%v)", err)
		}
		loaded.Close()
	}

	badChild := bytes.Replace(model, []byte(`"left_children":[1,`), []byte(`"left_children":[99,`), 1)
	tests := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"whitespace", []byte(" \n")},
		{"garbage", []byte("\x00\x01garbage\xff")},
		{"legacy binary header", []byte("binf\x00\x00\x00\x3f")},
		{"not a model", []byte(`{"hello":"world"}`)},
		{"truncated JSON", model[:len(model)/2]},
		{"truncated JSON tail", model[:len(model)-1]},
		{"child out of range", badChild},
		{"truncated UBJSON", ubj[:len(ubj)/2]},
		{"truncated UBJSON head", ubj[:10]},
		{"UBJSON brace only", []byte("{")},
		{"brace then digit", []byte("{1}")},
		{"JSON with a non-model shape", []byte(`{"learner":{"learner_model_param":7}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if bytes.Equal(badChild, model) && tt.name == "child out of range" {
				t.Fatal("test model does not start with left_children [1,")
			}
			got, err := Load(tt.data)
			if err == nil {
				got.Close()
				t.Fatal("Load succeeded")
			}
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
}

func TestBoosterClosed(t *testing.T) {
	b, _, d := trained(t)
	b.Close()
	b.Close() // idempotent
	if _, err := b.Predict(d.test); !errors.Is(err, ErrClosed) {
		t.Errorf("Predict after Close: %v, want ErrClosed", err)
	}
	if _, err := b.JSON(); !errors.Is(err, ErrClosed) {
		t.Errorf("JSON after Close: %v, want ErrClosed", err)
	}
}

func TestPredictShapeMismatch(t *testing.T) {
	b, _, _ := trained(t)
	for _, m := range []Matrix{
		{Rows: 1, Cols: 3, Data: []float32{1, 2, 3}},
		{Rows: 1, Cols: 4, Data: []float32{1}},
		{},
	} {
		if _, err := b.Predict(m); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Predict(%dx%d, %d values): %v, want ErrInvalidInput", m.Rows, m.Cols, len(m.Data), err)
		}
	}
}

// TestConcurrentPredict guards against XGBoost's thread-local result
// buffers being read from the wrong thread.
func TestConcurrentPredict(t *testing.T) {
	b, _, d := trained(t)
	// Distinct inputs per goroutine make a mix-up visible.
	inputs := make([]Matrix, 8)
	want := make([][]float32, len(inputs))
	for i := range inputs {
		rows := 50 + 37*i
		inputs[i] = Matrix{Rows: rows, Cols: d.test.Cols, Data: d.test.Data[i*4 : i*4+rows*d.test.Cols]}
		var err error
		if want[i], err = b.Predict(inputs[i]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range inputs {
		wg.Go(func() {
			for range 20 {
				got, err := b.Predict(inputs[i])
				if err != nil {
					t.Error(err)
					return
				}
				if !slices.Equal(got, want[i]) {
					t.Errorf("goroutine %d: concurrent predictions differ from sequential ones", i)
					return
				}
				runtime.Gosched()
			}
		})
	}
	wg.Wait()
}

func TestContributions(t *testing.T) {
	tests := []struct {
		name      string
		objective [][2]string
		outputs   int
	}{
		{"binary", nil, 1},
		{"multiclass", [][2]string{{"objective", "multi:softprob"}, {"num_class", "3"}}, 3},
		{"regression", [][2]string{{"objective", "reg:squarederror"}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _, d := trained(t, tt.objective...)
			contrib, shape, err := b.Contributions(d.test)
			if err != nil {
				t.Fatal(err)
			}
			margin, err := b.PredictMargin(d.test)
			if err != nil {
				t.Fatal(err)
			}
			width := uint64(d.test.Cols + 1)
			wantShape := []uint64{uint64(d.test.Rows), width}
			if tt.outputs > 1 {
				wantShape = []uint64{uint64(d.test.Rows), uint64(tt.outputs), width}
			}
			if !slices.Equal(shape, wantShape) {
				t.Fatalf("shape %v, want %v", shape, wantShape)
			}
			for i, m := range margin {
				var sum float64
				for _, c := range contrib[uint64(i)*width : uint64(i+1)*width] {
					sum += float64(c)
				}
				if math.Abs(sum-float64(m)) > 1e-4 {
					t.Fatalf("output %d: contributions sum to %v, margin is %v", i, sum, m)
				}
			}
			if tt.name == "binary" { // the margin is logit(probability)
				prob, err := b.Predict(d.test)
				if err != nil {
					t.Fatal(err)
				}
				for i, p := range prob {
					if logit := math.Log(float64(p) / (1 - float64(p))); math.Abs(logit-float64(margin[i])) > 1e-3 {
						t.Fatalf("row %d: logit(p) = %v, margin %v", i, logit, margin[i])
					}
				}
			}
		})
	}
}

func TestParseEval(t *testing.T) {
	tests := []struct {
		line    string
		metric  string
		value   float64
		wantErr bool
	}{
		{line: "[0]\tvalid-logloss:0.123", metric: "logloss", value: 0.123},
		{line: "[12]\tvalid-auc:0.9\tvalid-error:0.25\n", metric: "error", value: 0.25},
		{line: "[3]\tvalid-ndcg@5:0.5", metric: "ndcg@5", value: 0.5},
		{line: "[3]\tvalid-error@0.7:0.1", metric: "error@0.7", value: 0.1},
		{line: "[3]", wantErr: true},
		{line: "[3]\tvalid-rmse", wantErr: true},
		{line: "[3]\tvalid-rmse:abc", wantErr: true},
		{line: "", wantErr: true},
	}
	for _, tt := range tests {
		metric, value, err := parseEval(tt.line)
		if (err != nil) != tt.wantErr || metric != tt.metric || value != tt.value {
			t.Errorf("parseEval(%q) = %q, %v, %v; want %q, %v, error %v", tt.line, metric, value, err, tt.metric, tt.value, tt.wantErr)
		}
	}
}

func TestMaximize(t *testing.T) {
	for metric, want := range map[string]bool{
		"auc": true, "aucpr": true, "map": true, "map@3": true, "ndcg@5-": true, "ndcg-": true, "pre@2": true,
		"logloss": false, "rmse": false, "error": false, "error@0.7": false, "mlogloss": false, "merror": false,
	} {
		if got := maximize(metric); got != want {
			t.Errorf("maximize(%q) = %v, want %v", metric, got, want)
		}
	}
}

func TestCleanMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[21:15:49] ./src/objective/regression_obj.cu:148: label must be in [0,1] for logistic regression\nStack trace:\n  [bt] (0) lib", "label must be in [0,1] for logistic regression"},
		{"[21:15:49] ./src/objective/objective.cc:26: Unknown objective function: `no:such`\nObjective candidate: a\n\nStack trace:\n", "Unknown objective function: `no:such`\nObjective candidate: a"},
		{"plain message", "plain message"},
		{"[weird] but no location", "but no location"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := cleanMessage(tt.in); got != tt.want {
			t.Errorf("cleanMessage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
