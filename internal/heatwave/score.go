package heatwave

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/forecast"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
)

// score is CALL sys.ML_SCORE('db.t', 'target', handle, 'metric', @score
// [, options]): it scores the model on a labelled table, read with the
// caller's privileges, and puts the metric in @score.
func (r *Routines) score(ctx *sql.Context, args []any, outVars []string) error {
	md, p, err := r.model(ctx, args[2])
	if err != nil {
		return err
	}
	db, table, err := tableArg(ctx, args[0], "table_name")
	if err != nil {
		return err
	}
	target, err := stringArg(args[1], "target_column_name")
	if err != nil {
		return err
	}
	metricName, err := stringArg(args[3], "metric")
	if err != nil {
		return err
	}
	if md.IsForecast() {
		return r.scoreForecast(ctx, md, db, table, target, metricName, outVars[4])
	}
	if md.IsRecommender() {
		var opts map[string]any
		if len(args) > 5 {
			if opts, err = jsonObject(args[5], "options"); err != nil {
				return err
			}
		}
		return r.scoreRecommend(ctx, md, db, table, target, metricName, opts, outVars[4])
	}
	task := "regression"
	if md.Problem.Classification() {
		task = "classification"
	}
	m, ok := metrics[strings.ToLower(metricName)]
	if !ok || m.task != task {
		return mlError("Invalid metric '%s' for the %s task (supported: %s)", metricName, task, metricNames(task))
	}
	schema, iter, _, err := r.Engine().Query(ctx, "SELECT * FROM "+quoteIdent(db)+"."+quoteIdent(table))
	if err != nil {
		return err
	}
	defer iter.Close(ctx)
	targetIdx := -1
	for i, c := range schema {
		if strings.EqualFold(c.Name, target) {
			targetIdx = i
		}
	}
	if targetIdx < 0 {
		return mlError("ML003018: The target column '%s' does not exist in table %s.%s.", target, db, table)
	}
	featIdx, err := featureColumns(md, schema, db+"."+table)
	if err != nil {
		return err
	}
	classIdx := map[string]int{}
	for k, c := range p.Artifact.Classes {
		classIdx[c] = k
	}
	var y []float64
	var outs [][]float64
	x := make([]float64, p.Width())
	for {
		row, err := iter.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		label, err := sql.UnwrapAny(ctx, row[targetIdx])
		if err != nil {
			return err
		}
		if label == nil {
			continue
		}
		feats := make([]any, len(featIdx))
		for j, c := range featIdx {
			if c >= 0 {
				if feats[j], err = sql.UnwrapAny(ctx, row[c]); err != nil {
					return err
				}
			}
		}
		scores := make([]float64, p.NumOutputs())
		if err := p.Scores(feats, x, scores); err != nil {
			return mlError("ML_SCORE: %v", err)
		}
		if task == "classification" {
			k, ok := classIdx[model.Label(label)]
			if !ok {
				k = -1 // a class the model never saw: always wrong
			}
			y = append(y, float64(k))
		} else {
			f, ok := model.Float(label)
			if !ok {
				return mlError("ML_SCORE: target '%s' value %v is not numeric", target, label)
			}
			y = append(y, f)
		}
		outs = append(outs, scores)
	}
	if len(y) == 0 {
		return mlError("ML_SCORE: table %s.%s has no rows with a target value", db, table)
	}
	var v float64
	if m.name == "r2" {
		v = r2(y, outs)
	} else if v, err = automl.Score(m.name, y, outs, p.Artifact.Problem); err != nil {
		return mlError("ML_SCORE: %v", err)
	}
	if m.negate {
		v = -v
	}
	return setVariable(ctx, outVars[4], v, types.Float64)
}

// r2 is the coefficient of determination.
func r2(y []float64, out [][]float64) float64 {
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ssRes, ssTot float64
	for i, v := range y {
		d := v - out[i][0]
		ssRes += d * d
		ssTot += (v - mean) * (v - mean)
	}
	if ssTot == 0 {
		return 0
	}
	return 1 - ssRes/ssTot
}

// scoreForecast is ML_SCORE of a forecasting model: the table's rows
// within the forecast horizon are forecast as ML_PREDICT_TABLE would and
// compared with their target values (target_column_name may be NULL: the
// model's own). Rows outside the horizon, or without a target value, are
// left out, and a table with none inside it is an error.
func (r *Routines) scoreForecast(ctx *sql.Context, md *models.Model, db, table, target, metricName, scoreVar string) error {
	if !forecast.KnownMetric(metricName) {
		return mlError("Invalid metric '%s' for the forecasting task (supported: %s)", metricName, strings.Join(forecast.Metrics, ", "))
	}
	if target == "" {
		target = md.Target
	}
	schema, iter, _, err := r.Engine().Query(ctx, "SELECT * FROM "+quoteIdent(db)+"."+quoteIdent(table))
	if err != nil {
		return err
	}
	defer iter.Close(ctx)
	targetIdx := slices.IndexFunc(schema, func(c *sql.Column) bool { return strings.EqualFold(c.Name, target) })
	if targetIdx < 0 {
		return mlError("ML003018: The target column '%s' does not exist in table %s.%s.", target, db, table)
	}
	score, err := r.forecastScorer(ctx, md, schema, db+"."+table)
	if err != nil {
		return err
	}
	var actual, pred []float64
	flush := func(batch []sql.Row) error {
		preds, _, err := score(batch)
		if err != nil {
			return err
		}
		for k, row := range batch {
			v, err := sql.UnwrapAny(ctx, row[targetIdx])
			if err != nil {
				return err
			}
			y, ok := model.Float(v)
			if preds[k] == nil || v == nil {
				continue
			}
			if !ok {
				return mlError("ML_SCORE: target '%s' value %v is not numeric", target, v)
			}
			actual, pred = append(actual, y), append(pred, preds[k].(float64))
		}
		return nil
	}
	if err := eachBatch(ctx, iter, flush); err != nil {
		return err
	}
	if len(actual) == 0 {
		return mlError("ML_SCORE: no row of %s.%s with a target value is within the model's forecast horizon", db, table)
	}
	v, err := forecast.Score(metricName, actual, pred)
	if err != nil {
		return mlError("ML_SCORE: %v", err)
	}
	return setVariable(ctx, scoreVar, v, types.Float64)
}
