package model

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/dmitryikh/leaves"

	"github.com/sibyldb/sibyldb/internal/ml/gbtree"
	"github.com/sibyldb/sibyldb/internal/ml/kmeans"
	"github.com/sibyldb/sibyldb/internal/ml/linear"
	"github.com/sibyldb/sibyldb/internal/ml/mlp"
	"github.com/sibyldb/sibyldb/internal/ml/rcf"
)

// Problem is what a model predicts.
type Problem string

// The problem types, named as Redshift ML's PROBLEM_TYPE values (plus the
// two unsupervised ones).
const (
	Regression Problem = "REGRESSION"
	Binary     Problem = "BINARY_CLASSIFICATION"
	Multiclass Problem = "MULTICLASS_CLASSIFICATION"
	Clustering Problem = "CLUSTERING"
	Anomaly    Problem = "ANOMALY_DETECTION"
)

// Classification reports whether the problem predicts a class.
func (p Problem) Classification() bool { return p == Binary || p == Multiclass }

// Algorithm names, as Redshift ML's MODEL_TYPE values.
const (
	XGBoost         = "XGBOOST"
	LinearLearner   = "LINEAR_LEARNER"
	MLP             = "MLP"
	KMeans          = "KMEANS"
	RandomCutForest = "RANDOM_CUT_FOREST"
	// LightGBM models are brought from outside (LightGBM's text format).
	LightGBM = "LIGHTGBM"
	// ONNX models are brought from outside and run by ONNX Runtime.
	ONNX = "ONNX"
)

// Importance is one input column's share of a model's predictions.
type Importance struct {
	Feature string  `json:"feature"`
	Value   float64 `json:"importance"`
}

// Artifact is a trained model: everything prediction needs, as JSON.
type Artifact struct {
	Algorithm string  `json:"algorithm"`
	Problem   Problem `json:"problem_type"`
	Encoder   Encoder `json:"encoder"`
	// Classes are the class labels (text form) of a classifier; output k
	// of the algorithm is the probability of Classes[k] (for binary
	// problems the single output is the probability of Classes[1]).
	Classes []string `json:"classes,omitempty"`

	XGBoost json.RawMessage `json:"xgboost,omitempty"`
	// LightGBMText is a LightGBM model in LightGBM's text format.
	LightGBMText string `json:"lightgbm,omitempty"`
	// ONNXData is an ONNX model taking one float tensor [batch, features].
	ONNXData []byte `json:"onnx,omitempty"`

	Linear *linear.Model `json:"linear,omitempty"`
	MLP    *mlp.Model    `json:"mlp,omitempty"`
	KMeans *kmeans.Model `json:"kmeans,omitempty"`
	RCF    *rcf.Forest   `json:"rcf,omitempty"`

	// Importance is the global feature importance (mean |SHAP| for trees,
	// |coefficient| x standard deviation for linear models), largest first.
	Importance []Importance `json:"importance,omitempty"`
}

// Predictor evaluates an artifact on rows. It is safe for concurrent use.
type Predictor struct {
	Artifact *Artifact
	outputs  int
	eval     func(x, out []float64) error
	// batch, when set, scores many encoded rows in one call (ONNX
	// Runtime, whose cost is per call).
	batch func(x [][]float64) ([][]float64, error)
}

// infallible adapts a prediction function that cannot fail.
func infallible(f func(x, out []float64)) func(x, out []float64) error {
	return func(x, out []float64) error { f(x, out); return nil }
}

// Compile checks a (possibly stored, possibly corrupt) artifact and
// prepares it for prediction.
func (a *Artifact) Compile() (*Predictor, error) {
	if err := a.Encoder.prepare(); err != nil {
		return nil, err
	}
	width := a.Encoder.Width()
	p := &Predictor{Artifact: a}
	switch a.Algorithm {
	case XGBoost:
		m, err := gbtree.Parse(a.XGBoost)
		if err != nil {
			return nil, fmt.Errorf("model trees: %w", err)
		}
		if m.NumFeatures() > width {
			return nil, fmt.Errorf("model trees use %d features, the encoder gives %d", m.NumFeatures(), width)
		}
		p.outputs, p.eval = m.NumOutputs(), m.Predict
	case LightGBM:
		ens, err := loadLightGBM(a.LightGBMText)
		if err != nil {
			return nil, err
		}
		if ens.NFeatures() > width {
			return nil, fmt.Errorf("LightGBM model uses %d features, the encoder gives %d", ens.NFeatures(), width)
		}
		p.outputs = ens.NOutputGroups()
		p.eval = func(x, out []float64) (err error) {
			// leaves trusts the file's tree structure: a corrupt model
			// must fail the row, not the server.
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("LightGBM model: %v", r)
				}
			}()
			return ens.Predict(x, 0, out)
		}
	case ONNX:
		m, err := LoadONNX(a.ONNXData)
		if err != nil {
			return nil, err
		}
		if m.Features != width {
			return nil, fmt.Errorf("ONNX model takes %d features, the encoder gives %d", m.Features, width)
		}
		p.outputs, p.eval, p.batch = m.Outputs, m.Predict, m.PredictBatch
	case LinearLearner:
		if a.Linear == nil {
			return nil, errors.New("linear model missing")
		}
		if err := a.Linear.Validate(); err != nil {
			return nil, err
		}
		if len(a.Linear.Weights) == 0 || len(a.Linear.Weights[0]) != width {
			return nil, fmt.Errorf("linear model does not take %d features", width)
		}
		p.outputs, p.eval = a.Linear.NumOutputs(), infallible(a.Linear.Predict)
	case MLP:
		if a.MLP == nil {
			return nil, errors.New("network missing")
		}
		if err := a.MLP.Validate(); err != nil {
			return nil, err
		}
		if a.MLP.NumFeatures() != width {
			return nil, fmt.Errorf("network does not take %d features", width)
		}
		p.outputs, p.eval = a.MLP.NumOutputs(), infallible(a.MLP.Predict)
	case KMeans:
		if a.KMeans == nil {
			return nil, errors.New("centroids missing")
		}
		if err := a.KMeans.Validate(); err != nil {
			return nil, err
		}
		if a.KMeans.NumFeatures() != width {
			return nil, fmt.Errorf("centroids do not have %d features", width)
		}
		p.outputs = 2
		p.eval = infallible(func(x, out []float64) {
			c, d := a.KMeans.Predict(x)
			out[0], out[1] = float64(c), d
		})
	case RandomCutForest:
		if a.RCF == nil {
			return nil, errors.New("forest missing")
		}
		if err := a.RCF.Validate(); err != nil {
			return nil, err
		}
		if a.RCF.NumFeatures() != width {
			return nil, fmt.Errorf("forest does not take %d features", width)
		}
		p.outputs = 1
		p.eval = infallible(func(x, out []float64) { out[0] = a.RCF.Score(x) })
	default:
		return nil, fmt.Errorf("unknown algorithm %q", a.Algorithm)
	}
	switch a.Problem {
	case Binary:
		if len(a.Classes) != 2 || p.outputs != 1 {
			return nil, errors.New("binary classifier needs two classes and one output")
		}
	case Multiclass:
		if len(a.Classes) < 2 || p.outputs != len(a.Classes) {
			return nil, errors.New("multiclass classifier outputs do not match its classes")
		}
	case Regression, Clustering, Anomaly:
	default:
		return nil, fmt.Errorf("unknown problem type %q", a.Problem)
	}
	return p, nil
}

// Width is the length of the encoded feature vector.
func (p *Predictor) Width() int { return p.Artifact.Encoder.Width() }

// NumOutputs is the number of raw outputs per row.
func (p *Predictor) NumOutputs() int { return p.outputs }

// Scores encodes row into x (Width entries) and writes the raw outputs into
// out (NumOutputs entries): the value (regression), P(Classes[1])
// (binary), class probabilities (multiclass), cluster and distance
// (clustering) or the anomaly score.
func (p *Predictor) Scores(row []any, x, out []float64) error {
	if err := p.Artifact.Encoder.Encode(row, x); err != nil {
		return err
	}
	return p.eval(x, out)
}

// ScoresEncoded is Scores on an already encoded row x (Width entries), for
// explainers that vary encoded columns directly.
func (p *Predictor) ScoresEncoded(x, out []float64) error { return p.eval(x, out) }

// Batched reports whether the algorithm scores batches in one call (ONNX
// Runtime), so callers should use ScoresBatch.
func (p *Predictor) Batched() bool { return p.batch != nil }

// ScoresBatch is Scores for many rows: one raw output row per input row.
func (p *Predictor) ScoresBatch(rows [][]any) ([][]float64, error) {
	w := p.Width()
	xs := make([][]float64, len(rows))
	for i, row := range rows {
		xs[i] = make([]float64, w)
		if err := p.Artifact.Encoder.Encode(row, xs[i]); err != nil {
			return nil, err
		}
	}
	if p.batch != nil {
		return p.batch(xs)
	}
	out := make([][]float64, len(rows))
	for i, x := range xs {
		out[i] = make([]float64, p.outputs)
		if err := p.eval(x, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Class is the index into Classes a classifier's outputs pick.
func (p *Predictor) Class(out []float64) int {
	if p.Artifact.Problem == Binary {
		if out[0] >= 0.5 {
			return 1
		}
		return 0
	}
	best := 0
	for k, v := range out {
		if v > out[best] || math.IsNaN(out[best]) {
			best = k
		}
	}
	return best
}

// loadLightGBM parses a LightGBM text model with leaves, turning its
// panics on malformed input into errors.
func loadLightGBM(text string) (ens *leaves.Ensemble, err error) {
	if !strings.HasPrefix(text, "tree\n") {
		return nil, errors.New("not a LightGBM text model (it starts with \"tree\")")
	}
	defer func() {
		if r := recover(); r != nil {
			ens, err = nil, fmt.Errorf("LightGBM model: %v", r)
		}
	}()
	ens, err = leaves.LGEnsembleFromReader(bufio.NewReader(strings.NewReader(text)), true)
	if err != nil {
		return nil, fmt.Errorf("LightGBM model: %w", err)
	}
	if ens.NOutputGroups() < 1 || ens.NFeatures() < 1 {
		return nil, errors.New("LightGBM model has no outputs or features")
	}
	return ens, nil
}

// LightGBMInfo reads what a LightGBM text model predicts: its feature
// count and its objective's problem type and classes.
func LightGBMInfo(text string) (features int, problem Problem, classes []string, err error) {
	ens, err := loadLightGBM(text)
	if err != nil {
		return 0, "", nil, err
	}
	objective := ""
	for _, line := range strings.SplitN(text, "\n", 64) {
		if v, ok := strings.CutPrefix(line, "objective="); ok {
			objective = v
		}
	}
	switch {
	case strings.HasPrefix(objective, "binary"):
		return ens.NFeatures(), Binary, []string{"0", "1"}, nil
	case strings.HasPrefix(objective, "multiclass"):
		for k := 0; k < ens.NOutputGroups(); k++ {
			classes = append(classes, fmt.Sprint(k))
		}
		return ens.NFeatures(), Multiclass, classes, nil
	}
	return ens.NFeatures(), Regression, nil, nil
}
