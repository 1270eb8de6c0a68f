package xgb

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sibyldb/sibyldb/internal/ml/gbtree"
)

// TestTreeSHAPMatchesXGBoost checks gbtree's pure-Go TreeSHAP against
// XGBoost's own pred_contribs on regression, binary, multiclass and dart
// models with missing values: every contribution and bias agrees, and each
// output's contributions sum to its margin.
func TestTreeSHAPMatchesXGBoost(t *testing.T) {
	cases := []struct {
		name   string
		label  func(r *rand.Rand, x []float32) float32
		params [][2]string
	}{
		{"regression", linearLabel, [][2]string{{"objective", "reg:squarederror"}, {"max_depth", "5"}}},
		{"binary", binaryLabel, [][2]string{{"objective", "binary:logistic"}, {"max_depth", "4"}, {"subsample", "0.8"}}},
		{"multiclass", classLabel, [][2]string{{"objective", "multi:softprob"}, {"num_class", "3"}, {"max_depth", "3"}}},
		{"dart", linearLabel, [][2]string{{"booster", "dart"}, {"objective", "reg:squarederror"}, {"rate_drop", "0.1"}, {"max_depth", "4"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := synth(7, 1500, 6, 0.1, tc.label)
			res, err := Train(context.Background(), d.train, d.trainLabels, nil, nil, nil,
				TrainConfig{Params: append(tc.params, [2]string{"seed", "1"}, [2]string{"nthread", "1"}), Rounds: 30})
			if err != nil {
				t.Fatal(err)
			}
			b, err := Load(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			want, _, err := b.Contributions(d.test)
			if err != nil {
				t.Fatal(err)
			}
			margins, err := b.PredictMargin(d.test)
			if err != nil {
				t.Fatal(err)
			}
			m, err := gbtree.Parse(res.Model)
			if err != nil {
				t.Fatal(err)
			}
			if !m.CanExplain() {
				t.Fatal("model from XGBoost has no covers")
			}
			stride := (m.NumFeatures() + 1) * m.NumOutputs()
			got := make([]float64, stride)
			x := make([]float64, d.test.Cols)
			for r := 0; r < d.test.Rows; r++ {
				for j := range x {
					x[j] = float64(d.test.Data[r*d.test.Cols+j])
				}
				if err := m.Contributions(x, got); err != nil {
					t.Fatal(err)
				}
				for k, g := range got {
					if w := float64(want[r*stride+k]); math.Abs(g-w) > 1e-4*(1+math.Abs(w)) {
						t.Fatalf("row %d value %d: got %v, XGBoost %v", r, k, g, w)
					}
				}
				for g := 0; g < m.NumOutputs(); g++ {
					sum := 0.0
					for _, v := range got[g*(m.NumFeatures()+1) : (g+1)*(m.NumFeatures()+1)] {
						sum += v
					}
					if w := float64(margins[r*m.NumOutputs()+g]); math.Abs(sum-w) > 1e-3*(1+math.Abs(w)) {
						t.Fatalf("row %d output %d: contributions sum to %v, margin %v", r, g, sum, w)
					}
				}
			}
		})
	}
}
