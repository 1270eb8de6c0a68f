package kmeans

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

var blobCentres = [][]float64{{0, 10}, {10, -5}, {-10, -5}}

// blobs draws n points around each centre with unit spread.
func blobs(seed uint64, centres [][]float64, n int) ([][]float64, []int) {
	r := rand.New(rand.NewPCG(seed, 1))
	var X [][]float64
	var y []int
	for c, centre := range centres {
		for i := 0; i < n; i++ {
			x := make([]float64, len(centre))
			for j := range x {
				x[j] = centre[j] + r.NormFloat64()
			}
			X = append(X, x)
			y = append(y, c)
		}
	}
	return X, y
}

func TestFitRecoversBlobs(t *testing.T) {
	X, y := blobs(1, blobCentres, 300)
	for _, seed := range []int64{1, 2, 3, 42} {
		m, err := Fit(context.Background(), X, 3, seed, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Each true centre must have a centroid close to it, and each
		// cluster must be pure (cluster ids are an arbitrary permutation).
		for _, centre := range blobCentres {
			if _, d := m.Predict(centre); d > 0.3 {
				t.Errorf("seed %d: nearest centroid to %v is %.3f away", seed, centre, d)
			}
		}
		label := map[int]int{}
		for i, x := range X {
			c, _ := m.Predict(x)
			if want, ok := label[c]; ok && want != y[i] {
				t.Fatalf("seed %d: cluster %d mixes blobs %d and %d", seed, c, want, y[i])
			}
			label[c] = y[i]
		}
	}
}

func TestFitDeterministicPerSeed(t *testing.T) {
	X, _ := blobs(2, [][]float64{{0, 0}, {3, 0}, {0, 3}, {3, 3}, {1.5, 1.5}}, 100)
	a, err := Fit(context.Background(), X, 5, 7, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Fit(context.Background(), X, 5, 7, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two fits with the same seed differ")
	}
	differs := false
	for seed := int64(8); seed < 12 && !differs; seed++ {
		c, err := Fit(context.Background(), X, 5, seed, 0)
		if err != nil {
			t.Fatal(err)
		}
		differs = !reflect.DeepEqual(a, c)
	}
	if !differs {
		t.Error("different seeds always give the same model; is the seed used?")
	}
}

func TestFitEdgeCases(t *testing.T) {
	tests := []struct {
		name string
		X    [][]float64
		k    int
	}{
		{"k equals rows", [][]float64{{1}, {2}, {3}}, 3},
		{"duplicate rows", [][]float64{{1, 1}, {1, 1}, {1, 1}, {2, 2}}, 3},
		{"k = 1", [][]float64{{1, 1}, {3, 3}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Fit(context.Background(), tc.X, tc.k, 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Centroids) != tc.k {
				t.Errorf("%d centroids, want %d", len(m.Centroids), tc.k)
			}
			if err := m.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestFitBadInput(t *testing.T) {
	tests := []struct {
		name string
		X    [][]float64
		k    int
		want string
	}{
		{"empty", nil, 1, "no training rows"},
		{"no features", [][]float64{{}}, 1, "no features"},
		{"ragged", [][]float64{{1, 2}, {1}}, 1, "row 1 has 1 features"},
		{"NaN", [][]float64{{1, math.NaN()}}, 1, "not finite"},
		{"Inf", [][]float64{{math.Inf(-1)}}, 1, "not finite"},
		{"k too large", [][]float64{{1}, {2}}, 3, "larger than the number of rows"},
		{"k zero", [][]float64{{1}, {2}}, 0, "at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Fit(context.Background(), tc.X, tc.k, 1, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestFitCancelled(t *testing.T) {
	X, _ := blobs(3, blobCentres, 100)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fit(ctx, X, 3, 1, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestJSONRoundTripAndValidate(t *testing.T) {
	X, _ := blobs(4, blobCentres, 50)
	m, err := Fit(context.Background(), X, 3, 1, 0)
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
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, &back) {
		t.Error("model changed in JSON round trip")
	}

	tests := []struct {
		name string
		json string
		ok   bool
	}{
		{"valid", `{"centroids":[[1,2],[3,4]]}`, true},
		{"missing", `{}`, false},
		{"empty centroid", `{"centroids":[[]]}`, false},
		{"ragged", `{"centroids":[[1,2],[3]]}`, false},
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
	m := &Model{Centroids: [][]float64{{0, 0}, {1, 1}}}
	x := []float64{0.9, 0.8}
	if n := testing.AllocsPerRun(100, func() { m.Predict(x) }); n != 0 {
		t.Errorf("Predict allocates %v times per call", n)
	}
}

func BenchmarkPredict(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	const k, d = 8, 20
	m := &Model{}
	for c := 0; c < k; c++ {
		centroid := make([]float64, d)
		for j := range centroid {
			centroid[j] = r.NormFloat64()
		}
		m.Centroids = append(m.Centroids, centroid)
	}
	x := make([]float64, d)
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(x)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
