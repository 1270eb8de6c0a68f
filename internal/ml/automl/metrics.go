package automl

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// Objective is a validation metric a model is chosen by.
type Objective struct {
	// Name as written in OBJECTIVE (Redshift's spelling).
	Name string
	// Higher is true when larger values are better.
	Higher bool
	score  func(y []float64, out [][]float64, p model.Problem) float64
}

// objectives are Redshift ML's AutoML objectives.
var objectives = map[string]Objective{
	"mse":      {Name: "MSE", score: mse},
	"rmse":     {Name: "RMSE", score: func(y []float64, o [][]float64, p model.Problem) float64 { return math.Sqrt(mse(y, o, p)) }},
	"mae":      {Name: "MAE", score: mae},
	"accuracy": {Name: "Accuracy", Higher: true, score: accuracy},
	"f1":       {Name: "F1", Higher: true, score: f1},
	"f1macro":  {Name: "F1Macro", Higher: true, score: f1Macro},
	"auc":      {Name: "AUC", Higher: true, score: auc},
}

// defaultObjective is Redshift's default per problem type.
func defaultObjective(p model.Problem) Objective {
	switch p {
	case model.Binary:
		return objectives["f1"]
	case model.Multiclass:
		return objectives["accuracy"]
	}
	return objectives["mse"]
}

// objectiveFor resolves OBJECTIVE, checking it fits the problem.
func objectiveFor(name string, p model.Problem) (Objective, error) {
	if name == "" {
		return defaultObjective(p), nil
	}
	o, ok := objectives[strings.ToLower(name)]
	if !ok {
		return Objective{}, fmt.Errorf("unknown OBJECTIVE '%s' (use MSE, RMSE, MAE, Accuracy, F1, F1Macro or AUC)", name)
	}
	regression := o.Name == "MSE" || o.Name == "RMSE" || o.Name == "MAE"
	if regression != (p == model.Regression) {
		return Objective{}, fmt.Errorf("OBJECTIVE '%s' does not apply to %s", name, p)
	}
	if o.Name == "AUC" && p != model.Binary {
		return Objective{}, fmt.Errorf("OBJECTIVE 'AUC' applies to BINARY_CLASSIFICATION only")
	}
	return o, nil
}

func (o Objective) better(a, b float64) bool {
	if math.IsNaN(b) {
		return !math.IsNaN(a)
	}
	if o.Higher {
		return a > b
	}
	return a < b
}

func mse(y []float64, out [][]float64, _ model.Problem) float64 {
	s := 0.0
	for i := range y {
		d := out[i][0] - y[i]
		s += d * d
	}
	return s / float64(len(y))
}

func mae(y []float64, out [][]float64, _ model.Problem) float64 {
	s := 0.0
	for i := range y {
		s += math.Abs(out[i][0] - y[i])
	}
	return s / float64(len(y))
}

// predictedClass picks the class of one row's outputs.
func predictedClass(out []float64, p model.Problem) int {
	if p == model.Binary {
		if out[0] >= 0.5 {
			return 1
		}
		return 0
	}
	best := 0
	for k := range out {
		if out[k] > out[best] {
			best = k
		}
	}
	return best
}

func accuracy(y []float64, out [][]float64, p model.Problem) float64 {
	ok := 0
	for i := range y {
		if predictedClass(out[i], p) == int(y[i]) {
			ok++
		}
	}
	return float64(ok) / float64(len(y))
}

// f1Class is the F1 score of class c.
func f1Class(y []float64, out [][]float64, p model.Problem, c int) float64 {
	tp, fp, fn := 0, 0, 0
	for i := range y {
		pred := predictedClass(out[i], p)
		switch {
		case pred == c && int(y[i]) == c:
			tp++
		case pred == c:
			fp++
		case int(y[i]) == c:
			fn++
		}
	}
	if tp == 0 {
		return 0
	}
	return 2 * float64(tp) / float64(2*tp+fp+fn)
}

// f1 is the F1 score of the positive class (Classes[1]).
func f1(y []float64, out [][]float64, p model.Problem) float64 { return f1Class(y, out, p, 1) }

func f1Macro(y []float64, out [][]float64, p model.Problem) float64 {
	classes := 2
	if p == model.Multiclass {
		classes = len(out[0])
	}
	s := 0.0
	for c := 0; c < classes; c++ {
		s += f1Class(y, out, p, c)
	}
	return s / float64(classes)
}

// auc is the area under the ROC curve of the positive-class probability
// (Mann-Whitney U with ties counted half).
func auc(y []float64, out [][]float64, _ model.Problem) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return out[idx[a]][0] < out[idx[b]][0] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && out[idx[j]][0] == out[idx[i]][0] {
			j++
		}
		rank := float64(i+j+1) / 2 // average 1-based rank of the tie group
		for k := i; k < j; k++ {
			if y[idx[k]] == 1 {
				pos++
				rankSum += rank
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// Score evaluates outputs against labels with the named metric, as the
// search scores candidates.
func Score(metric string, y []float64, out [][]float64, p model.Problem) (float64, error) {
	o, ok := objectives[strings.ToLower(metric)]
	if !ok {
		return 0, fmt.Errorf("unknown metric %q", metric)
	}
	return o.score(y, out, p), nil
}
