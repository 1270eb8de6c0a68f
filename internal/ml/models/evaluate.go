package models

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// ErrNotSupervised is returned when evaluating a model that has no target.
var ErrNotSupervised = errors.New("only classification and regression models can be evaluated")

// Metric is one evaluation metric.
type Metric struct {
	Name  string
	Value float64
}

// Evaluate scores the rows of query (run in ctx's session, so the caller's
// privileges on its tables apply) with md's deployed artifact and compares
// the predictions with the query's column named like md's TARGET. The
// feature columns are found by name. Rows whose label is NULL are skipped.
//
// Classification: accuracy; precision, recall and F1 of the positive class
// (the second class label, as the training leaderboard's F1) for binary
// models, their macro averages for multiclass ones; AUC (binary); log loss
// (probabilities clipped to [1e-15, 1-1e-15]; a label the model never saw
// counts as probability 1e-15). Regression: MSE, RMSE, MAE and R2.
func (m *Manager) Evaluate(ctx *sql.Context, md *Model, query string) ([]Metric, error) {
	// The query runs inside the EVALUATE statement: interpreted, its end
	// does not end the statement (GMS would otherwise mark the session's
	// query finished and cancel it before EVALUATE returns its rows), nor
	// commit the statement's transaction.
	return sql.RunInterpreted(ctx, func(ctx *sql.Context) ([]Metric, error) { return m.evaluate(ctx, md, query) })
}

func (m *Manager) evaluate(ctx *sql.Context, md *Model, query string) ([]Metric, error) {
	p, err := m.predictor(md)
	if err != nil {
		return nil, err
	}
	if m.Authorize != nil {
		if err := m.Authorize(ctx, md); err != nil {
			return nil, err
		}
	}
	a := p.Artifact
	if md.Target == "" || !(a.Problem == model.Regression || a.Problem.Classification()) {
		return nil, fmt.Errorf("model '%s': %w", md.Name, ErrNotSupervised)
	}
	schema, iter, err := m.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	defer iter.Close(ctx)
	col := map[string]int{}
	for i, c := range schema {
		col[strings.ToLower(c.Name)] = i
	}
	target, ok := col[strings.ToLower(md.Target)]
	if !ok {
		return nil, sql.ErrColumnNotFound.New(md.Target)
	}
	feats := make([]int, len(md.Params))
	for k, prm := range md.Params {
		if feats[k], ok = col[strings.ToLower(prm.Name)]; !ok {
			return nil, sql.ErrColumnNotFound.New(prm.Name)
		}
	}
	var labels []any
	var outs [][]float64
	var batch [][]any
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		o, err := scoreRows(p, batch)
		if err != nil {
			return fmt.Errorf("model '%s': %w", md.Name, err)
		}
		outs = append(outs, o...)
		batch = batch[:0]
		return nil
	}
	for {
		row, err := iter.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		y := plain(ctx, row[target])
		if y == nil {
			continue
		}
		x := make([]any, len(feats))
		for k, i := range feats {
			x[k] = plain(ctx, row[i])
		}
		labels = append(labels, y)
		batch = append(batch, x)
		if len(batch) == predictBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("model '%s': the evaluation query returned no rows with a label", md.Name)
	}
	rows := Metric{"rows", float64(len(labels))}
	if a.Problem == model.Regression {
		return append([]Metric{rows}, regressionMetrics(labels, outs)...), nil
	}
	return append([]Metric{rows}, classificationMetrics(p, labels, outs)...), nil
}

// scoreRows returns the raw outputs of rows.
func scoreRows(p *model.Predictor, rows [][]any) ([][]float64, error) {
	if p.Batched() {
		return p.ScoresBatch(rows)
	}
	x := make([]float64, p.Width())
	out := make([][]float64, len(rows))
	for i, row := range rows {
		out[i] = make([]float64, p.NumOutputs())
		if err := p.Scores(row, x, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func regressionMetrics(labels []any, outs [][]float64) []Metric {
	var n, sse, sae, sum float64
	ys := make([]float64, 0, len(labels))
	for i, l := range labels {
		y, ok := model.Float(l)
		if !ok {
			continue
		}
		d := outs[i][0] - y
		sse += d * d
		sae += math.Abs(d)
		sum += y
		n++
		ys = append(ys, y)
	}
	mean := sum / n
	sst := 0.0
	for _, y := range ys {
		sst += (y - mean) * (y - mean)
	}
	mse := sse / n
	return []Metric{{"mse", mse}, {"rmse", math.Sqrt(mse)}, {"mae", sae / n}, {"r2", 1 - sse/sst}}
}

func classificationMetrics(p *model.Predictor, labels []any, outs [][]float64) []Metric {
	a := p.Artifact
	classIdx := map[string]int{}
	for k, c := range a.Classes {
		classIdx[c] = k
	}
	k := len(a.Classes)
	tp, fp, fn := make([]float64, k), make([]float64, k), make([]float64, k)
	var correct, logLoss float64
	ys := make([]int, len(labels))
	for i, l := range labels {
		y, ok := classIdx[model.Label(l)]
		if !ok {
			y = -1
		}
		ys[i] = y
		pred := p.Class(outs[i])
		if pred == y {
			correct++
			tp[y]++
		} else {
			fp[pred]++
			if y >= 0 {
				fn[y]++
			}
		}
		prob := 0.0
		switch {
		case y < 0:
		case a.Problem == model.Binary && y == 1:
			prob = outs[i][0]
		case a.Problem == model.Binary:
			prob = 1 - outs[i][0]
		default:
			prob = outs[i][y]
		}
		logLoss -= math.Log(math.Min(math.Max(prob, 1e-15), 1-1e-15))
	}
	n := float64(len(labels))
	prf := func(c int) (float64, float64, float64) {
		var pr, rc, f float64
		if tp[c]+fp[c] > 0 {
			pr = tp[c] / (tp[c] + fp[c])
		}
		if tp[c]+fn[c] > 0 {
			rc = tp[c] / (tp[c] + fn[c])
		}
		if tp[c] > 0 {
			f = 2 * tp[c] / (2*tp[c] + fp[c] + fn[c])
		}
		return pr, rc, f
	}
	var precision, recall, f1 float64
	if a.Problem == model.Binary {
		precision, recall, f1 = prf(1)
	} else {
		for c := 0; c < k; c++ {
			pr, rc, f := prf(c)
			precision, recall, f1 = precision+pr/float64(k), recall+rc/float64(k), f1+f/float64(k)
		}
	}
	ms := []Metric{{"accuracy", correct / n}, {"precision", precision}, {"recall", recall}, {"f1", f1}}
	if a.Problem == model.Binary {
		ms = append(ms, Metric{"auc", binaryAUC(ys, outs)})
	}
	return append(ms, Metric{"log_loss", logLoss / n})
}

// binaryAUC is the area under the ROC curve of P(positive class), as the
// training leaderboard computes it; NaN without both classes. Rows whose
// label the model never saw (-1) have no place in the ranking.
func binaryAUC(ys []int, outs [][]float64) float64 {
	y := make([]float64, 0, len(ys))
	out := make([][]float64, 0, len(ys))
	for i, c := range ys {
		if c >= 0 {
			y = append(y, float64(c))
			out = append(out, outs[i])
		}
	}
	v, err := automl.Score("auc", y, out, model.Binary)
	if err != nil {
		return math.NaN()
	}
	return v
}
