package rcf

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// gaussian draws n points from a standard normal in dim dimensions.
func gaussian(seed uint64, n, dim int) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 2))
	X := make([][]float64, n)
	for i := range X {
		X[i] = make([]float64, dim)
		for j := range X[i] {
			X[i][j] = r.NormFloat64()
		}
	}
	return X
}

func TestScoreSeparatesOutliers(t *testing.T) {
	X := gaussian(1, 2000, 3)
	f, err := Fit(context.Background(), X, Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var mean float64
	for _, x := range X {
		mean += f.Score(x)
	}
	mean /= float64(len(X))
	if mean < 0.5 || mean > 1.5 {
		t.Errorf("mean score of inliers = %.3f, want about 1", mean)
	}
	tests := []struct {
		name string
		x    []float64
		min  float64 // minimum score relative to the inlier mean
	}{
		{"far in one dimension", []float64{8, 0, 0}, 2},
		{"far in all dimensions", []float64{6, -6, 6}, 2},
		{"moderately far", []float64{4, 0, 0}, 1.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s := f.Score(tc.x); s < tc.min*mean {
				t.Errorf("score %.3f, want >= %.1f × inlier mean %.3f", s, tc.min, mean)
			}
		})
	}
	if centre, far := f.Score([]float64{0, 0, 0}), f.Score([]float64{8, 0, 0}); centre >= far {
		t.Errorf("centre scores %.3f >= far point %.3f", centre, far)
	}
}

func TestFitDeterministicPerSeed(t *testing.T) {
	X := gaussian(2, 500, 2)
	x := []float64{2.5, -1}
	score := func(seed int64) float64 {
		f, err := Fit(context.Background(), X, Config{Trees: 20, SampleSize: 64, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return f.Score(x)
	}
	if a, b := score(1), score(1); a != b {
		t.Errorf("same seed gave scores %v and %v", a, b)
	}
	if a, b := score(1), score(2); a == b {
		t.Errorf("different seeds gave the same score %v; is the seed used?", a)
	}
}

func TestFitSmallAndDegenerateData(t *testing.T) {
	tests := []struct {
		name string
		X    [][]float64
	}{
		{"single row", [][]float64{{1, 2}}},
		{"identical rows", [][]float64{{1, 1}, {1, 1}, {1, 1}}},
		{"fewer rows than sample size", gaussian(3, 10, 4)},
		{"constant dimension", [][]float64{{0, 5}, {1, 5}, {2, 5}, {3, 5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Fit(context.Background(), tc.X, Config{Trees: 10, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Validate(); err != nil {
				t.Fatal(err)
			}
			for _, x := range tc.X {
				if s := f.Score(x); math.IsNaN(s) || s < 0 {
					t.Errorf("Score(%v) = %v", x, s)
				}
			}
			if s := f.Score(make([]float64, len(tc.X[0]))); math.IsNaN(s) {
				t.Errorf("Score(0) = NaN")
			}
		})
	}
}

func TestFitBadInput(t *testing.T) {
	tests := []struct {
		name string
		X    [][]float64
		cfg  Config
		want string
	}{
		{"empty", nil, Config{}, "no training rows"},
		{"no features", [][]float64{{}}, Config{}, "no features"},
		{"ragged", [][]float64{{1, 2}, {1}}, Config{}, "row 1 has 1 features"},
		{"NaN", [][]float64{{math.NaN()}}, Config{}, "not finite"},
		{"Inf", [][]float64{{1}, {math.Inf(1)}}, Config{}, "not finite"},
		{"negative trees", [][]float64{{1}}, Config{Trees: -1}, "must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Fit(context.Background(), tc.X, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestFitCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fit(ctx, gaussian(4, 100, 2), Config{}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestScoreNonFinite(t *testing.T) {
	f, err := Fit(context.Background(), gaussian(5, 100, 2), Config{Trees: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range [][]float64{{math.NaN(), 0}, {0, math.Inf(-1)}} {
		if s := f.Score(x); !math.IsNaN(s) {
			t.Errorf("Score(%v) = %v, want NaN", x, s)
		}
	}
}

func TestJSONRoundTripAndValidate(t *testing.T) {
	X := gaussian(6, 300, 3)
	f, err := Fit(context.Background(), X, Config{Trees: 10, SampleSize: 32, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back Forest
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Fatalf("decoded forest does not validate: %v", err)
	}
	probes := append([][]float64{{5, 5, 5}, {0, 0, 0}}, X[:20]...)
	for _, x := range probes {
		if a, b := f.Score(x), back.Score(x); a != b {
			t.Fatalf("score of %v changed in JSON round trip: %v vs %v", x, a, b)
		}
	}

	// Corruptions of a small valid forest: a root cutting dimension 0 with
	// two leaves.
	const valid = `{"dim":2,"points":[[0,0],[1,1]],"trees":[{"nodes":[{"d":0,"c":0.5,"l":1,"r":2},{"p":0,"m":1},{"p":1,"m":1}]}]}`
	tests := []struct {
		name string
		json string
		want string // "" means valid
	}{
		{"valid", valid, ""},
		{"no dim", strings.Replace(valid, `"dim":2`, `"dim":0`, 1), "dimension"},
		{"short point", strings.Replace(valid, `[1,1]`, `[1]`, 1), "point 1 has 1 features"},
		{"no trees", `{"dim":2,"points":[[0,0]],"trees":[]}`, "no trees"},
		{"empty tree", `{"dim":2,"points":[[0,0]],"trees":[{"nodes":[]}]}`, "no nodes"},
		{"leaf point out of range", strings.Replace(valid, `{"p":1,"m":1}`, `{"p":7,"m":1}`, 1), "refers to point 7"},
		{"leaf without mass", strings.Replace(valid, `{"p":1,"m":1}`, `{"p":1}`, 1), "mass 0"},
		{"cut dimension out of range", strings.Replace(valid, `"d":0`, `"d":2`, 1), "dimension 2"},
		{"child out of range", strings.Replace(valid, `"r":2`, `"r":3`, 1), "child 3"},
		{"child before parent", `{"dim":1,"points":[[0]],"trees":[{"nodes":[{"l":1,"r":2},{"l":2,"r":1},{"p":0,"m":1}]}]}`, "child 1"},
		{"shared child", strings.Replace(valid, `"r":2`, `"r":1`, 1), "parents"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f Forest
			if err := json.Unmarshal([]byte(tc.json), &f); err != nil {
				t.Fatal(err)
			}
			err := f.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestScoreDoesNotAllocate(t *testing.T) {
	f, err := Fit(context.Background(), gaussian(7, 500, 4), Config{Trees: 10})
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{0.1, 2, -1, 0}
	f.Score(x) // derive boxes outside the measurement
	if n := testing.AllocsPerRun(50, func() { f.Score(x) }); n != 0 {
		t.Errorf("Score allocates %v times per call", n)
	}
}

func BenchmarkScore(b *testing.B) {
	for _, tc := range []struct {
		name string
		dim  int
	}{{"dim=2", 2}, {"dim=8", 8}, {"dim=48", 48}} {
		b.Run(tc.name, func(b *testing.B) {
			X := gaussian(8, 10000, tc.dim)
			f, err := Fit(context.Background(), X, Config{Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			f.Score(X[0])
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f.Score(X[i%len(X)])
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkFit(b *testing.B) {
	X := gaussian(9, 10000, 8)
	for b.Loop() {
		if _, err := Fit(context.Background(), X, Config{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
