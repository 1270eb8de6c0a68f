package explain

import (
	"encoding/json"
	"math"
	"math/rand"
	"testing"

	"github.com/sibyldb/sibyldb/internal/ml/linear"
	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// linearArtifact is price = 2a − 3b + 4[c = 'x'] + 1 on a scaled encoder.
func linearArtifact(t *testing.T, kind string, problem model.Problem) (*model.Predictor, [][]any) {
	t.Helper()
	rng := rand.New(rand.NewSource(1))
	var rows [][]any
	for i := 0; i < 32; i++ {
		rows = append(rows, []any{rng.NormFloat64(), int64(rng.Intn(5)), []string{"x", "y"}[rng.Intn(2)]})
	}
	enc, err := model.FitEncoder([]model.Feature{{Name: "a", Kind: model.Numeric}, {Name: "b", Kind: model.Numeric}, {Name: "c", Kind: model.Categorical}}, rows, true)
	if err != nil {
		t.Fatal(err)
	}
	a := &model.Artifact{Algorithm: model.LinearLearner, Problem: problem, Encoder: *enc,
		Linear: &linear.Model{Kind: kind, Weights: [][]float64{{2, -3, 4, 0}}, Bias: []float64{1}}}
	if problem == model.Binary {
		a.Classes = []string{"no", "yes"}
	}
	b, _ := json.Marshal(a)
	var stored model.Artifact
	if err := json.Unmarshal(b, &stored); err != nil {
		t.Fatal(err)
	}
	p, err := stored.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return p, rows
}

// For a linear model the interventional Shapley values are exactly
// w·(x − E[x]): the linear explainer computes them directly, and
// permutation sampling over the same background rows (each used equally
// often) must agree with it, with both summing to value − expected.
func TestLinearAndSampledAgree(t *testing.T) {
	for _, tc := range []struct {
		kind    string
		problem model.Problem
	}{{"regression", model.Regression}, {"logistic", model.Binary}} {
		t.Run(tc.kind, func(t *testing.T) {
			p, bg := linearArtifact(t, tc.kind, tc.problem)
			lin, err := New(p, bg)
			if err != nil {
				t.Fatal(err)
			}
			if lin.Method() != LinearSHAP {
				t.Fatalf("method %s", lin.Method())
			}
			sampled := *lin
			sampled.method = Sampling
			for _, row := range [][]any{{1.5, int64(0), "x"}, {-0.5, int64(4), "y"}, {nil, int64(2), "z"}} {
				le, err := lin.Explain(row)
				if err != nil {
					t.Fatal(err)
				}
				se, err := sampled.Explain(row)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range []*Explanation{le, se} {
					sum := e.Expected
					for _, v := range e.Attributions {
						sum += v
					}
					if math.Abs(sum-e.Value) > 1e-9 {
						t.Fatalf("%v: attributions sum to %v, value %v", row, sum, e.Value)
					}
				}
				if tc.problem == model.Regression {
					if math.Abs(le.Value-le.Scores[0]) > 1e-9 {
						t.Fatalf("%v: explained %v, predicted %v", row, le.Value, le.Scores[0])
					}
					for j := range le.Attributions {
						if math.Abs(le.Attributions[j]-se.Attributions[j]) > 1e-9 {
							t.Fatalf("%v: column %d: linear %v, sampled %v", row, j, le.Attributions[j], se.Attributions[j])
						}
					}
				}
			}
		})
	}
}

// A model other than trees and linear ones needs background rows.
func TestNoBackground(t *testing.T) {
	p, _ := linearArtifact(t, "regression", model.Regression)
	if _, err := New(p, nil); err != ErrNoBackground {
		t.Fatalf("got %v, want ErrNoBackground", err)
	}
}

// Stored background rows keep whole numbers integers.
func TestStateJSON(t *testing.T) {
	in := &State{PredictionExplainer: SHAP, Background: [][]any{{int64(1234567), 0.5, "x", nil}}}
	b, _ := json.Marshal(in)
	var out State
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Background[0][0] != int64(1234567) || out.Background[0][1] != 0.5 || out.Background[0][2] != "x" || out.Background[0][3] != nil {
		t.Fatalf("round trip: %#v", out.Background)
	}
}
