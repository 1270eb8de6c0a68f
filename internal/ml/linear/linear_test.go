package linear

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// linearData draws X ~ N(0,1) and y = X·w + b + noise·N(0,1).
func linearData(r *rand.Rand, n int, w []float64, b, noise float64) ([][]float64, []float64) {
	X := make([][]float64, n)
	y := make([]float64, n)
	for i := range X {
		X[i] = make([]float64, len(w))
		y[i] = b + noise*r.NormFloat64()
		for j := range w {
			X[i][j] = r.NormFloat64()
			y[i] += w[j] * X[i][j]
		}
	}
	return X, y
}

func TestFitRegressionRecoversCoefficients(t *testing.T) {
	tests := []struct {
		name  string
		w     []float64
		b     float64
		noise float64
		tol   float64
	}{
		{"exact", []float64{2, -3, 0.5}, 1.5, 0, 1e-9},
		{"noisy", []float64{2, -3, 0.5}, 1.5, 0.1, 0.02},
		{"single feature", []float64{-7}, 100, 0.5, 0.05},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			X, y := linearData(newRand(1), 2000, tc.w, tc.b, tc.noise)
			m, err := FitRegression(context.Background(), X, y, 0)
			if err != nil {
				t.Fatal(err)
			}
			for j, want := range tc.w {
				if got := m.Weights[0][j]; math.Abs(got-want) > tc.tol {
					t.Errorf("weight %d = %v, want %v", j, got, want)
				}
			}
			if math.Abs(m.Bias[0]-tc.b) > tc.tol {
				t.Errorf("bias = %v, want %v", m.Bias[0], tc.b)
			}
			out := make([]float64, 1)
			m.Predict(X[0], out)
			if want := dot(tc.w, X[0]) + tc.b; math.Abs(out[0]-want) > 10*tc.tol+3*tc.noise {
				t.Errorf("Predict = %v, want about %v", out[0], want)
			}
		})
	}
}

func TestFitRegressionCollinear(t *testing.T) {
	// Feature 1 duplicates feature 0: without a penalty the system is
	// singular, and the minimum-norm solution splits the weight evenly.
	r := newRand(2)
	X := make([][]float64, 200)
	y := make([]float64, len(X))
	for i := range X {
		v := r.NormFloat64()
		X[i] = []float64{v, v, 1} // the constant column is absorbed by the bias
		y[i] = 4*v + 1
	}
	m, err := FitRegression(context.Background(), X, y, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Weights[0]
	if math.Abs(w[0]-2) > 1e-6 || math.Abs(w[1]-2) > 1e-6 || math.Abs(w[2]) > 1e-6 || math.Abs(m.Bias[0]-1) > 1e-6 {
		t.Errorf("got weights %v bias %v, want [2 2 0] and 1", w, m.Bias[0])
	}
}

func TestL2ShrinksWeights(t *testing.T) {
	X, y := linearData(newRand(3), 500, []float64{3, -2, 1}, 0.5, 0.3)
	var yc []int
	for _, v := range y {
		yc = append(yc, btoi(v > 0.5))
	}
	fits := []struct {
		name string
		fit  func(l2 float64) (*Model, error)
	}{
		{"regression", func(l2 float64) (*Model, error) { return FitRegression(context.Background(), X, y, l2) }},
		{"logistic", func(l2 float64) (*Model, error) { return FitLogistic(context.Background(), X, yc, 2, l2, nil) }},
	}
	for _, f := range fits {
		t.Run(f.name, func(t *testing.T) {
			prev := math.Inf(1)
			for _, l2 := range []float64{0.001, 0.1, 1, 10} {
				m, err := f.fit(l2)
				if err != nil {
					t.Fatal(err)
				}
				norm := math.Sqrt(dot(m.Weights[0], m.Weights[0]))
				if norm >= prev {
					t.Errorf("l2=%v: ‖w‖ = %v did not shrink (previous %v)", l2, norm, prev)
				}
				prev = norm
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestFitLogisticBinary(t *testing.T) {
	// Labels drawn from a known logistic model: the fit should recover the
	// coefficients and its probabilities should match the true ones.
	r := newRand(4)
	trueW, trueB := []float64{1.5, -2, 0}, 0.5
	n := 5000
	X := make([][]float64, n)
	y := make([]int, n)
	for i := range X {
		X[i] = []float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64()}
		y[i] = btoi(r.Float64() < dense.Sigmoid(dot(trueW, X[i])+trueB))
	}
	m, err := FitLogistic(context.Background(), X, y, 2, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != dense.KindLogistic || m.NumOutputs() != 1 {
		t.Fatalf("kind %q with %d outputs, want logistic with 1", m.Kind, m.NumOutputs())
	}
	for j, want := range trueW {
		if math.Abs(m.Weights[0][j]-want) > 0.15 {
			t.Errorf("weight %d = %.3f, want %.3f", j, m.Weights[0][j], want)
		}
	}
	out := make([]float64, 1)
	var correct int
	var calErr float64
	for i, x := range X {
		m.Predict(x, out)
		if btoi(out[0] > 0.5) == y[i] {
			correct++
		}
		calErr += math.Abs(out[0] - dense.Sigmoid(dot(trueW, x)+trueB))
	}
	if acc := float64(correct) / float64(n); acc < 0.8 {
		t.Errorf("accuracy %.3f, want >= 0.8", acc)
	}
	if calErr /= float64(n); calErr > 0.03 {
		t.Errorf("mean |p̂ − p| = %.4f, want <= 0.03", calErr)
	}
}

// blobs draws n points around each centre with the given spread.
func blobs(r *rand.Rand, centres [][]float64, n int, spread float64) ([][]float64, []int) {
	var X [][]float64
	var y []int
	for c, centre := range centres {
		for i := 0; i < n; i++ {
			x := make([]float64, len(centre))
			for j := range x {
				x[j] = centre[j] + spread*r.NormFloat64()
			}
			X = append(X, x)
			y = append(y, c)
		}
	}
	return X, y
}

func TestFitLogisticSoftmax(t *testing.T) {
	centres := [][]float64{{0, 5}, {5, -3}, {-5, -3}}
	X, y := blobs(newRand(5), centres, 200, 1)
	m, err := FitLogistic(context.Background(), X, y, 3, 0.01, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != dense.KindSoftmax || m.NumOutputs() != 3 {
		t.Fatalf("kind %q with %d outputs, want softmax with 3", m.Kind, m.NumOutputs())
	}
	out := make([]float64, 3)
	var correct int
	for i, x := range X {
		m.Predict(x, out)
		var sum float64
		best := 0
		for k, p := range out {
			sum += p
			if p > out[best] {
				best = k
			}
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("probabilities %v sum to %v", out, sum)
		}
		if best == y[i] {
			correct++
		}
	}
	if acc := float64(correct) / float64(len(X)); acc < 0.98 {
		t.Errorf("accuracy %.3f, want >= 0.98", acc)
	}
	// The centres themselves should be classified confidently.
	for c, centre := range centres {
		m.Predict(centre, out)
		if out[c] < 0.9 {
			t.Errorf("P(class %d | its centre) = %.3f, want >= 0.9", c, out[c])
		}
	}
}

func TestFitLogisticSampleWeights(t *testing.T) {
	// Overlapping classes, 9:1 imbalance. Weighting rows by inverse class
	// frequency must raise the predicted probability of the rare class.
	r := newRand(6)
	var X [][]float64
	var y []int
	for i := 0; i < 1000; i++ {
		c := btoi(i%10 == 0)
		X = append(X, []float64{float64(c) + r.NormFloat64()})
		y = append(y, c)
	}
	w := make([]float64, len(y))
	for i, c := range y {
		w[i] = []float64{1.0 / 0.9, 1.0 / 0.1}[c]
	}
	plain, err := FitLogistic(context.Background(), X, y, 2, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	balanced, err := FitLogistic(context.Background(), X, y, 2, 0, w)
	if err != nil {
		t.Fatal(err)
	}
	p0, p1 := make([]float64, 1), make([]float64, 1)
	plain.Predict([]float64{0.5}, p0)
	balanced.Predict([]float64{0.5}, p1)
	if !(p0[0] < 0.3 && math.Abs(p1[0]-0.5) < 0.1) {
		t.Errorf("P(rare | midpoint): unweighted %.3f (want < 0.3), balanced %.3f (want about 0.5)", p0[0], p1[0])
	}
}

func TestFitCancellation(t *testing.T) {
	X, y := linearData(newRand(7), 20000, []float64{1, 2, 3, 4, 5}, 0, 1)
	yc := make([]int, len(y))
	for i, v := range y {
		yc[i] = btoi(v > 0) + btoi(v > 3)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel2()
	time.Sleep(2 * time.Millisecond)

	tests := []struct {
		name string
		ctx  context.Context
		want error
		fit  func(ctx context.Context) error
	}{
		{"regression cancelled", cancelled, context.Canceled, func(ctx context.Context) error {
			_, err := FitRegression(ctx, X, y, 0.1)
			return err
		}},
		{"softmax cancelled", cancelled, context.Canceled, func(ctx context.Context) error {
			_, err := FitLogistic(ctx, X, yc, 3, 0, nil)
			return err
		}},
		{"softmax deadline", expired, context.DeadlineExceeded, func(ctx context.Context) error {
			_, err := FitLogistic(ctx, X, yc, 3, 0, nil)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.fit(tc.ctx); !errors.Is(err, tc.want) {
				t.Errorf("got error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestFitCancelledMidway(t *testing.T) {
	X, y := linearData(newRand(8), 50000, make([]float64, 20), 0, 1)
	yc := make([]int, len(y))
	for i, v := range y {
		yc[i] = int(math.Abs(v*3)) % 5
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := FitLogistic(ctx, X, yc, 5, 0, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("fit took %v to notice the deadline", elapsed)
	}
}

func TestFitBadInput(t *testing.T) {
	ctx := context.Background()
	good := [][]float64{{1, 2}, {3, 4}, {5, 7}}
	tests := []struct {
		name    string
		X       [][]float64
		yf      []float64
		yi      []int
		classes int
		l2      float64
		weights []float64
		want    string
	}{
		{name: "empty", X: nil, want: "no training rows"},
		{name: "no features", X: [][]float64{{}, {}}, yf: []float64{1, 2}, yi: []int{0, 1}, want: "no features"},
		{name: "ragged", X: [][]float64{{1, 2}, {3}}, yf: []float64{1, 2}, yi: []int{0, 1}, want: "row 1 has 1 features"},
		{name: "NaN feature", X: [][]float64{{1, math.NaN()}}, yf: []float64{1}, yi: []int{0}, want: "not finite"},
		{name: "Inf feature", X: [][]float64{{math.Inf(1), 0}}, yf: []float64{1}, yi: []int{0}, want: "not finite"},
		{name: "label count", X: good, yf: []float64{1}, yi: []int{0}, want: "for 3 rows"},
		{name: "NaN target", X: good, yf: []float64{1, math.NaN(), 2}, yi: []int{0, 5, 1}, want: "row 1"},
		{name: "negative l2", X: good, yf: []float64{1, 2, 3}, yi: []int{0, 1, 1}, l2: -1, want: "l2"},
		{name: "bad weights", X: good, yf: []float64{1, 2, 3}, yi: []int{0, 1, 1}, weights: []float64{1, -1, 1}, want: "weight"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := FitRegression(ctx, tc.X, tc.yf, tc.l2); tc.weights == nil && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("FitRegression: got %v, want error containing %q", err, tc.want)
			}
			classes := tc.classes
			if classes == 0 {
				classes = 2
			}
			if _, err := FitLogistic(ctx, tc.X, tc.yi, classes, tc.l2, tc.weights); err == nil {
				t.Errorf("FitLogistic: got nil error, want one")
			}
		})
	}
	if _, err := FitLogistic(ctx, good, []int{0, 1, 1}, 1, 0, nil); err == nil {
		t.Error("FitLogistic with 1 class: want error")
	}
}

func TestModelJSONRoundTripAndValidate(t *testing.T) {
	X, y := blobs(newRand(9), [][]float64{{0, 3}, {3, 0}, {-3, 0}}, 50, 1)
	m, err := FitLogistic(context.Background(), X, y, 3, 0.1, nil)
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
	a, b := make([]float64, 3), make([]float64, 3)
	m.Predict(X[0], a)
	back.Predict(X[0], b)
	for k := range a {
		if a[k] != b[k] {
			t.Fatalf("prediction changed after round trip: %v vs %v", a, b)
		}
	}

	tests := []struct {
		name string
		json string
		ok   bool
	}{
		{"regression", `{"kind":"regression","weights":[[1,2]],"bias":[0]}`, true},
		{"unknown kind", `{"kind":"tree","weights":[[1,2]],"bias":[0]}`, false},
		{"logistic two rows", `{"kind":"logistic","weights":[[1],[2]],"bias":[0,0]}`, false},
		{"softmax one row", `{"kind":"softmax","weights":[[1]],"bias":[0]}`, false},
		{"bias length", `{"kind":"softmax","weights":[[1],[2]],"bias":[0]}`, false},
		{"ragged", `{"kind":"softmax","weights":[[1,2],[2]],"bias":[0,0]}`, false},
		{"no features", `{"kind":"regression","weights":[[]],"bias":[0]}`, false},
		{"no weights", `{"kind":"regression"}`, false},
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
	X, y := blobs(newRand(10), [][]float64{{0, 3}, {3, 0}, {-3, 0}}, 20, 1)
	m, err := FitLogistic(context.Background(), X, y, 3, 0.1, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 3)
	if n := testing.AllocsPerRun(100, func() { m.Predict(X[0], out) }); n != 0 {
		t.Errorf("Predict allocates %v times per call", n)
	}
}

func BenchmarkPredict(b *testing.B) {
	for _, tc := range []struct {
		name     string
		kind     string
		outputs  int
		features int
	}{
		{"regression/20", dense.KindRegression, 1, 20},
		{"logistic/20", dense.KindLogistic, 1, 20},
		{"softmax5/20", dense.KindSoftmax, 5, 20},
	} {
		b.Run(tc.name, func(b *testing.B) {
			r := newRand(11)
			m := &Model{Kind: tc.kind, Bias: make([]float64, tc.outputs)}
			for k := 0; k < tc.outputs; k++ {
				w := make([]float64, tc.features)
				for j := range w {
					w[j] = r.NormFloat64()
				}
				m.Weights = append(m.Weights, w)
			}
			x := make([]float64, tc.features)
			for j := range x {
				x[j] = r.NormFloat64()
			}
			out := make([]float64, tc.outputs)
			b.ReportAllocs()
			for b.Loop() {
				m.Predict(x, out)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
