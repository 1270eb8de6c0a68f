// Package explain attributes a model's predictions to its input columns:
// per-row Shapley values (HeatWave's prediction explainers behind
// ML_EXPLAIN_ROW and ML_EXPLAIN_TABLE) and whole-model explanations
// (ML_EXPLAIN's model explainers).
//
// Row attributions are Shapley values, computed exactly where the model
// allows it and estimated otherwise:
//   - tree ensembles (XGBoost): TreeSHAP on the trees' node covers, exact
//     and in the model's margin (log-odds for classifiers), as XGBoost's
//     pred_contribs;
//   - linear models: w·(x − E[x]) per column in margin space, exact for
//     the interventional value function over the background rows;
//   - anything else (networks, LightGBM, ONNX): permutation sampling
//     (Štrumbelj and Kononenko) over background rows, on the prediction
//     itself; each sample telescopes, so the attributions still sum
//     exactly to the prediction minus the mean prediction of the samples.
//
// In every case the attributions plus Expected equal the explained value
// (Value): the margin or prediction of the predicted class, so a positive
// attribution always pushes towards the prediction.
package explain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"sort"

	"github.com/sibyldb/sibyldb/internal/ml/gbtree"
	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// ErrNoBackground reports a model whose explainer needs background rows
// that no ML_EXPLAIN (or ML_TRAIN) has recorded.
var ErrNoBackground = errors.New("the prediction explainer has no background data")

// The explainer names, as HeatWave's options spell them.
const (
	PermutationImportance = "permutation_importance"
	SHAP                  = "shap"
	FastSHAP              = "fast_shap"
	PartialDependence     = "partial_dependence"
)

// BackgroundRows bounds the training rows kept for explanations.
const BackgroundRows = 100

// samples is the number of (permutation, background row) pairs a sampled
// explanation averages.
const samples = 64

// State is a model's trained explainers, stored with the model.
type State struct {
	// ArtifactID is the trained artifact the explainers were made for.
	ArtifactID          string   `json:"artifact_id,omitempty"`
	PredictionExplainer string   `json:"prediction_explainer"`
	ModelExplainers     []string `json:"model_explainers,omitempty"`
	// Background are training rows (one value per feature, as the
	// prediction function takes them).
	Background [][]any `json:"background,omitempty"`
	// ModelExplanation is ML_EXPLAIN's result, by explainer name.
	ModelExplanation map[string]any `json:"model_explanation,omitempty"`
}

// Method names how an Explainer computes attributions.
type Method string

// The methods.
const (
	TreeSHAP   Method = "tree_shap"
	LinearSHAP Method = "linear_shap"
	Sampling   Method = "sampling_shap"
)

// Explainer explains one compiled model. It is safe for concurrent use.
type Explainer struct {
	p      *model.Predictor
	method Method
	tree   *gbtree.Model
	owners []int
	nIn    int
	bg     [][]float64 // encoded background rows
	mean   []float64   // their mean
}

// Explanation is one row's explanation.
type Explanation struct {
	// Scores are the model's raw outputs (as model.Predictor.Scores).
	Scores []float64
	// Class is the predicted class index (-1 for regression).
	Class int
	// Value is what is explained: the prediction (regression), or the
	// margin (trees, linear) or probability (sampled) of Class.
	Value float64
	// Expected is Value's expectation over the training data.
	Expected float64
	// Attributions are per input column and sum to Value − Expected.
	Attributions []float64
}

// New builds an explainer of p over background rows (raw feature values;
// may be nil for tree ensembles with node covers).
func New(p *model.Predictor, background [][]any) (*Explainer, error) {
	a := p.Artifact
	switch a.Problem {
	case model.Regression, model.Binary, model.Multiclass:
	default:
		return nil, fmt.Errorf("explanations need a classification or regression model, not %s", a.Problem)
	}
	e := &Explainer{p: p, owners: a.Encoder.Owners(), nIn: len(a.Encoder.Features)}
	w := p.Width()
	for _, row := range background {
		x := make([]float64, w)
		if err := a.Encoder.Encode(row, x); err != nil {
			return nil, fmt.Errorf("background row: %w", err)
		}
		e.bg = append(e.bg, x)
	}
	if len(e.bg) > 0 {
		e.mean = make([]float64, w)
		for _, x := range e.bg {
			for j, v := range x {
				if !math.IsNaN(v) {
					e.mean[j] += v
				}
			}
		}
		for j := range e.mean {
			e.mean[j] /= float64(len(e.bg))
		}
	}
	switch a.Algorithm {
	case model.XGBoost:
		if m, err := gbtree.Parse(a.XGBoost); err == nil && m.CanExplain() {
			e.tree, e.method = m, TreeSHAP
			return e, nil
		}
	case model.LinearLearner:
		if a.Linear != nil && len(e.bg) > 0 {
			e.method = LinearSHAP
			return e, nil
		}
	}
	if len(e.bg) == 0 {
		return nil, ErrNoBackground
	}
	e.method = Sampling
	return e, nil
}

// Method is how the explainer computes attributions.
func (e *Explainer) Method() Method { return e.method }

// Explain explains the prediction for row (one value per feature).
func (e *Explainer) Explain(row []any) (*Explanation, error) {
	p := e.p
	x := make([]float64, p.Width())
	ex := &Explanation{Scores: make([]float64, p.NumOutputs()), Class: -1, Attributions: make([]float64, e.nIn)}
	if err := p.Scores(row, x, ex.Scores); err != nil {
		return nil, err
	}
	a := p.Artifact
	out, sign := 0, 1.0
	if a.Problem.Classification() {
		ex.Class = p.Class(ex.Scores)
		if a.Problem == model.Multiclass {
			out = ex.Class
		} else if ex.Class == 0 {
			sign = -1
		}
	}
	switch e.method {
	case TreeSHAP:
		nf := e.tree.NumFeatures()
		contrib := make([]float64, e.tree.NumOutputs()*(nf+1))
		if err := e.tree.Contributions(x, contrib); err != nil {
			return nil, err
		}
		phi := contrib[out*(nf+1) : (out+1)*(nf+1)]
		for j := 0; j < nf && j < len(e.owners); j++ {
			ex.Attributions[e.owners[j]] += sign * phi[j]
		}
		ex.Expected = sign * phi[nf]
	case LinearSHAP:
		lin := a.Linear
		wts := lin.Weights[out]
		ex.Expected = lin.Bias[out]
		for j, wj := range wts {
			xj := x[j]
			if math.IsNaN(xj) {
				xj = e.mean[j]
			}
			ex.Attributions[e.owners[j]] += sign * wj * (xj - e.mean[j])
			ex.Expected += wj * e.mean[j]
		}
		ex.Expected *= sign
	case Sampling:
		if err := e.sample(x, out, sign, ex); err != nil {
			return nil, err
		}
	}
	ex.Value = ex.Expected
	for _, v := range ex.Attributions {
		ex.Value += v
	}
	return ex, nil
}

// value is the sampled explainer's value of an encoded row: the
// prediction, or the probability of class out.
func (e *Explainer) value(z, scores []float64, out int, sign float64) (float64, error) {
	if err := e.p.ScoresEncoded(z, scores); err != nil {
		return 0, err
	}
	if sign < 0 {
		return 1 - scores[0], nil
	}
	return scores[out], nil
}

// sample is permutation-sampling Shapley values: for each (permutation,
// background row) pair, columns switch from the background row's values
// to x's in permutation order and each switch's change is credited to its
// column. Each pair's credits sum to f(x) − f(background row).
func (e *Explainer) sample(x []float64, out int, sign float64, ex *Explanation) error {
	rng := rand.New(rand.NewSource(1))
	cols := make([][]int, e.nIn)
	for j, o := range e.owners {
		cols[o] = append(cols[o], j)
	}
	z := make([]float64, len(x))
	scores := make([]float64, e.p.NumOutputs())
	perm := make([]int, e.nIn)
	n := samples
	for s := 0; s < n; s++ {
		copy(z, e.bg[s%len(e.bg)])
		for i := range perm {
			perm[i] = i
		}
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		prev, err := e.value(z, scores, out, sign)
		if err != nil {
			return err
		}
		ex.Expected += prev
		for _, c := range perm {
			for _, j := range cols[c] {
				z[j] = x[j]
			}
			v, err := e.value(z, scores, out, sign)
			if err != nil {
				return err
			}
			ex.Attributions[c] += v - prev
			prev = v
		}
	}
	for i := range ex.Attributions {
		ex.Attributions[i] /= float64(n)
	}
	ex.Expected /= float64(n)
	return nil
}

// Ranked returns the indexes of attributions ordered by |value|, largest
// first, ties by index.
func Ranked(attr []float64) []int {
	idx := make([]int, len(attr))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return math.Abs(attr[idx[a]]) > math.Abs(attr[idx[b]]) })
	return idx
}

// UnmarshalJSON keeps whole numbers of stored background rows integers,
// so that a numeric category (an INT column) encodes as it did in
// training.
func (s *State) UnmarshalJSON(b []byte) error {
	type plain State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return err
	}
	for _, row := range p.Background {
		for i, v := range row {
			if n, ok := v.(json.Number); ok {
				if x, err := n.Int64(); err == nil {
					row[i] = x
				} else if f, err := n.Float64(); err == nil {
					row[i] = f
				}
			}
		}
	}
	*s = State(p)
	return nil
}
