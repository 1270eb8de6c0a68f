package mlp

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
	"github.com/sibyldb/sibyldb/internal/ml/linear"
)

// circles draws n points per class: class 0 inside radius 1, class 1 in a
// ring between radii 1.5 and 2.5. No linear boundary separates them.
func circles(seed uint64, n int) ([][]float64, []int) { return rings(seed, n, 2) }

// rings draws n points per class; class c lies at radius 1.5c … 1.5c+1.
func rings(seed uint64, n, classes int) ([][]float64, []int) {
	r := rand.New(rand.NewPCG(seed, 3))
	var X [][]float64
	var y []int
	for c := 0; c < classes; c++ {
		for i := 0; i < n; i++ {
			radius := 1.5*float64(c) + r.Float64()
			angle := 2 * math.Pi * r.Float64()
			X = append(X, []float64{radius * math.Cos(angle), radius * math.Sin(angle)})
			y = append(y, c)
		}
	}
	return X, y
}

// quadrants labels uniform points in [-1,1]² by quadrant: class =
// 2·[x>0] + [y>0]. (Linearly separable by softmax; used for plumbing tests.)
func quadrants(seed uint64, n int) ([][]float64, []int) {
	r := rand.New(rand.NewPCG(seed, 4))
	X := make([][]float64, n)
	y := make([]int, n)
	for i := range X {
		X[i] = []float64{2*r.Float64() - 1, 2*r.Float64() - 1}
		y[i] = 2*btoi(X[i][0] > 0) + btoi(X[i][1] > 0)
	}
	return X, y
}

// xor labels uniform points in [-1,1]² by [x>0] XOR [y>0].
func xor(seed uint64, n int) ([][]float64, []int) {
	X, q := quadrants(seed, n)
	y := make([]int, n)
	for i, c := range q {
		y[i] = c>>1 ^ c&1
	}
	return X, y
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

var fastConfig = Config{Hidden: []int{16}, Epochs: 300, LearningRate: 0.01, Seed: 1, Patience: 20}

func accuracy(t *testing.T, predict func(x, out []float64), outputs int, X [][]float64, y []int) float64 {
	t.Helper()
	out := make([]float64, outputs)
	correct := 0
	for i, x := range X {
		predict(x, out)
		var class int
		if outputs == 1 {
			class = btoi(out[0] > 0.5)
		} else {
			for k := range out {
				if out[k] > out[class] {
					class = k
				}
			}
		}
		if class == y[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(X))
}

func TestClassifierLearnsNonlinearBoundary(t *testing.T) {
	tests := []struct {
		name      string
		data      func(seed uint64) ([][]float64, []int)
		classes   int
		hidden    []int
		minMLP    float64
		maxLinear float64
	}{
		{"circles", func(s uint64) ([][]float64, []int) { return circles(s, 300) }, 2, []int{16}, 0.97, 0.75},
		{"xor", func(s uint64) ([][]float64, []int) { return xor(s, 800) }, 2, []int{16, 16}, 0.95, 0.75},
		{"three rings", func(s uint64) ([][]float64, []int) { return rings(s, 300, 3) }, 3, []int{16}, 0.97, 0.75},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			X, y := tc.data(1)
			testX, testY := tc.data(2)

			lin, err := linear.FitLogistic(context.Background(), X, y, tc.classes, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			linAcc := accuracy(t, lin.Predict, lin.NumOutputs(), testX, testY)

			cfg := fastConfig
			cfg.Hidden = tc.hidden
			m, err := FitClassifier(context.Background(), X, y, tc.classes, cfg)
			if err != nil {
				t.Fatal(err)
			}
			mlpAcc := accuracy(t, m.Predict, m.NumOutputs(), testX, testY)
			t.Logf("held-out accuracy: logistic %.3f, MLP %.3f (%d epochs kept)", linAcc, mlpAcc, m.Epochs)
			if linAcc > tc.maxLinear {
				t.Errorf("logistic regression reached %.3f; the problem is not as nonlinear as intended", linAcc)
			}
			if mlpAcc < tc.minMLP {
				t.Errorf("MLP accuracy %.3f, want >= %.2f", mlpAcc, tc.minMLP)
			}
		})
	}
}

func TestProbabilitiesSumToOne(t *testing.T) {
	X, y := quadrants(3, 200)
	m, err := FitClassifier(context.Background(), X, y, 4, Config{Epochs: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 4)
	for _, x := range X[:20] {
		m.Predict(x, out)
		if s := out[0] + out[1] + out[2] + out[3]; math.Abs(s-1) > 1e-9 {
			t.Fatalf("probabilities %v sum to %v", out, s)
		}
	}
}

func TestFitRegressionNonlinear(t *testing.T) {
	// y = 100·(x₁² + x₂²) + 50: large offset and scale check the target
	// standardisation; the square defeats a linear model.
	r := rand.New(rand.NewPCG(5, 5))
	gen := func(n int) ([][]float64, []float64) {
		X := make([][]float64, n)
		y := make([]float64, n)
		for i := range X {
			a, b := 2*r.Float64()-1, 2*r.Float64()-1
			X[i] = []float64{a, b}
			y[i] = 100*(a*a+b*b) + 50
		}
		return X, y
	}
	X, y := gen(1000)
	testX, testY := gen(300)
	cfg := fastConfig
	cfg.Hidden = []int{32}
	m, err := FitRegression(context.Background(), X, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	lin, err := linear.FitRegression(context.Background(), X, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	r2 := func(predict func(x, out []float64)) float64 {
		out := make([]float64, 1)
		var ssRes, ssTot, mean float64
		for _, v := range testY {
			mean += v / float64(len(testY))
		}
		for i, x := range testX {
			predict(x, out)
			ssRes += (out[0] - testY[i]) * (out[0] - testY[i])
			ssTot += (testY[i] - mean) * (testY[i] - mean)
		}
		return 1 - ssRes/ssTot
	}
	linR2, mlpR2 := r2(lin.Predict), r2(m.Predict)
	t.Logf("held-out R²: linear %.3f, MLP %.3f", linR2, mlpR2)
	if mlpR2 < 0.95 || mlpR2 < linR2+0.5 {
		t.Errorf("MLP R² %.3f (linear %.3f), want >= 0.95 and far above linear", mlpR2, linR2)
	}
}

func TestDeterministicPerSeed(t *testing.T) {
	X, y := circles(6, 100)
	cfg := Config{Hidden: []int{8, 8}, Epochs: 20, Seed: 9}
	a, err := FitClassifier(context.Background(), X, y, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FitClassifier(context.Background(), X, y, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two fits with the same seed differ")
	}
	cfg.Seed = 10
	c, err := FitClassifier(context.Background(), X, y, 2, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds give the same model; is the seed used?")
	}
}

func TestEarlyStopping(t *testing.T) {
	// Pure noise labels: validation loss cannot improve for long, so
	// training must stop well before the epoch limit.
	r := rand.New(rand.NewPCG(7, 7))
	X := make([][]float64, 300)
	y := make([]int, len(X))
	for i := range X {
		X[i] = []float64{r.NormFloat64(), r.NormFloat64()}
		y[i] = r.IntN(2)
	}
	m, err := FitClassifier(context.Background(), X, y, 2, Config{Epochs: 1000, LearningRate: 0.01, Patience: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m.Epochs >= 100 {
		t.Errorf("kept epoch %d of 1000 on noise; early stopping did not trigger", m.Epochs)
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	good := [][]float64{{1, 2}, {3, 4}, {5, 6}}
	tests := []struct {
		name string
		fit  func() error
		want string
	}{
		{"empty", func() error { _, err := FitRegression(ctx, nil, nil, Config{}); return err }, "no training rows"},
		{"ragged", func() error {
			_, err := FitClassifier(ctx, [][]float64{{1}, {1, 2}}, []int{0, 1}, 2, Config{})
			return err
		}, "row 1"},
		{"NaN feature", func() error {
			_, err := FitRegression(ctx, [][]float64{{math.NaN()}}, []float64{1}, Config{})
			return err
		}, "not finite"},
		{"Inf target", func() error { _, err := FitRegression(ctx, good, []float64{1, math.Inf(1), 2}, Config{}); return err }, "not finite"},
		{"label range", func() error { _, err := FitClassifier(ctx, good, []int{0, 1, 2}, 2, Config{}); return err }, "outside"},
		{"one class", func() error { _, err := FitClassifier(ctx, good, []int{0, 0, 0}, 1, Config{}); return err }, "at least 2 classes"},
		{"label count", func() error { _, err := FitClassifier(ctx, good, []int{0}, 2, Config{}); return err }, "for 3 rows"},
		{"three hidden layers", func() error {
			_, err := FitRegression(ctx, good, []float64{1, 2, 3}, Config{Hidden: []int{2, 2, 2}})
			return err
		}, "1 or 2 hidden"},
		{"too wide", func() error {
			_, err := FitRegression(ctx, good, []float64{1, 2, 3}, Config{Hidden: []int{MaxWidth + 1}})
			return err
		}, "width"},
		{"bad validation fraction", func() error {
			_, err := FitRegression(ctx, good, []float64{1, 2, 3}, Config{ValidationFraction: 0.9})
			return err
		}, "validation fraction"},
		{"negative L2", func() error { _, err := FitRegression(ctx, good, []float64{1, 2, 3}, Config{L2: -1}); return err }, "L2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.fit(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestTinyData(t *testing.T) {
	// A single row or a constant target must train without error.
	m, err := FitRegression(context.Background(), [][]float64{{1, 2}}, []float64{5}, Config{Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 1)
	m.Predict([]float64{1, 2}, out)
	if math.IsNaN(out[0]) {
		t.Error("prediction is NaN")
	}
	if err := m.Validate(); err != nil {
		t.Error(err)
	}
}

func TestCancellation(t *testing.T) {
	X, y := circles(8, 2000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FitClassifier(ctx, X, y, 2, Config{}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestJSONRoundTripAndValidate(t *testing.T) {
	X, y := quadrants(9, 200)
	m, err := FitClassifier(context.Background(), X, y, 4, Config{Hidden: []int{4, 3}, Epochs: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Model
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("decoded model does not validate: %v", err)
	}
	if !reflect.DeepEqual(m, &back) {
		t.Error("model changed in JSON round trip")
	}

	const layer1 = `{"weights":[[1,2],[3,4]],"bias":[0,0]}`
	tests := []struct {
		name string
		json string
		ok   bool
	}{
		{"valid regression", `{"kind":"regression","layers":[` + layer1 + `,{"weights":[[1,1]],"bias":[0]}],"y_mean":0,"y_std":1}`, true},
		{"valid softmax", `{"kind":"softmax","layers":[` + layer1 + `,{"weights":[[1,1],[2,2]],"bias":[0,0]}]}`, true},
		{"unknown kind", `{"kind":"svm","layers":[` + layer1 + `,{"weights":[[1,1]],"bias":[0]}]}`, false},
		{"one layer", `{"kind":"logistic","layers":[{"weights":[[1,1]],"bias":[0]}]}`, false},
		{"shape mismatch", `{"kind":"logistic","layers":[` + layer1 + `,{"weights":[[1,1,1]],"bias":[0]}]}`, false},
		{"bias mismatch", `{"kind":"logistic","layers":[{"weights":[[1,2],[3,4]],"bias":[0]},{"weights":[[1,1]],"bias":[0]}]}`, false},
		{"zero y_std", `{"kind":"regression","layers":[` + layer1 + `,{"weights":[[1,1]],"bias":[0]}],"y_std":0}`, false},
		{"softmax one output", `{"kind":"softmax","layers":[` + layer1 + `,{"weights":[[1,1]],"bias":[0]}]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Model
			if err := json.Unmarshal([]byte(tc.json), &m); err != nil {
				t.Fatal(err)
			}
			if err := m.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestPredictDoesNotAllocate(t *testing.T) {
	X, y := quadrants(10, 100)
	m, err := FitClassifier(context.Background(), X, y, 4, Config{Hidden: []int{8, 8}, Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 4)
	if n := testing.AllocsPerRun(100, func() { m.Predict(X[0], out) }); n != 0 {
		t.Errorf("Predict allocates %v times per call", n)
	}
}

func BenchmarkPredict(b *testing.B) {
	for _, tc := range []struct {
		name     string
		features int
		hidden   []int
	}{
		{"20-32-1", 20, []int{32}},
		{"20-64-32-1", 20, []int{64, 32}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(11, 11))
			net := newNetwork(append(append([]int{tc.features}, tc.hidden...), 1), r)
			m := net.model(dense.KindLogistic)
			x := make([]float64, tc.features)
			for j := range x {
				x[j] = r.NormFloat64()
			}
			out := make([]float64, 1)
			b.ReportAllocs()
			for b.Loop() {
				m.Predict(x, out)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
