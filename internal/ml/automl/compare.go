package automl

import (
	"fmt"
	"math"

	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// CompareScore scores a trained artifact on labelled rows with the named
// objective (a Report's Objective; "" for the problem's default), so that
// versions of a model trained on different data can be ranked on the same
// rows. Rows with a NULL label, or a class the artifact never saw, are
// skipped. higher reports whether larger scores are better; n is how many
// rows were scored.
func CompareScore(a *model.Artifact, ds *Dataset, objective string) (score float64, higher bool, n int, err error) {
	if a == nil || !a.Problem.Classification() && a.Problem != model.Regression {
		return math.NaN(), false, 0, fmt.Errorf("%w: only supervised models can be compared", ErrBadSetting)
	}
	obj, err := objectiveFor(objective, a.Problem)
	if err != nil {
		return math.NaN(), false, 0, fmt.Errorf("%w: %v", ErrBadSetting, err)
	}
	pred, err := a.Compile()
	if err != nil {
		return math.NaN(), obj.Higher, 0, err
	}
	classIndex := map[string]int{}
	for i, c := range a.Classes {
		classIndex[c] = i
	}
	x := make([]float64, pred.Width())
	var y []float64
	var outs [][]float64
	for i, row := range ds.Rows {
		v := ds.Target[i]
		if v == nil {
			continue
		}
		var label float64
		if a.Problem == model.Regression {
			f, ok := model.Float(v)
			if !ok {
				continue
			}
			label = f
		} else {
			k, ok := classIndex[model.Label(v)]
			if !ok {
				continue
			}
			label = float64(k)
		}
		out := make([]float64, pred.NumOutputs())
		if err := pred.Scores(row, x, out); err != nil {
			return math.NaN(), obj.Higher, 0, err
		}
		y, outs = append(y, label), append(outs, out)
	}
	if len(y) == 0 {
		return math.NaN(), obj.Higher, 0, fmt.Errorf("%w: no labelled comparison rows", ErrEmpty)
	}
	return obj.score(y, outs, a.Problem), obj.Higher, len(y), nil
}
