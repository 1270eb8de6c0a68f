package heatwave

import (
	"context"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	hwjson "github.com/dolthub/go-mysql-server/sql/expression/function/json"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
)

// batchRows is how many rows one scoring batch holds.
const batchRows = 2048

// result is HeatWave's prediction of one row: the Prediction value and
// the ml_results document.
func result(md *models.Model, p *model.Predictor, scores []float64) (any, map[string]any) {
	a := p.Artifact
	pred := prediction(md, p, scores)
	if !a.Problem.Classification() {
		return pred, map[string]any{"predictions": map[string]any{"prediction": pred}}
	}
	label := pred
	probs := make(map[string]any, len(a.Classes))
	if a.Problem == model.Binary {
		probs[a.Classes[1]] = scores[0]
		probs[a.Classes[0]] = 1 - scores[0]
	} else {
		for k, c := range a.Classes {
			probs[c] = scores[k]
		}
	}
	return label, map[string]any{"predictions": map[string]any{"class": label}, "probabilities": probs}
}

// prediction is the Prediction value of one row: the class label, or the
// regression value (nil when it is not a finite number).
func prediction(md *models.Model, p *model.Predictor, scores []float64) any {
	a := p.Artifact
	if a.Problem.Classification() {
		return typedLabel(md, a.Classes[p.Class(scores)])
	}
	if v := scores[0]; !math.IsNaN(v) && !math.IsInf(v, 0) {
		return v
	}
	return nil
}

// typedLabel converts a class label back to the target column's type, so
// that an INT target predicts numbers.
func typedLabel(md *models.Model, label string) any {
	if t, err := mlfunc.ParseType(md.TargetType); err == nil && types.IsNumber(t) {
		if v, _, err := t.Convert(context.Background(), label); err == nil {
			return v
		}
	}
	return label
}

// predictionType is the SQL type of ML_PREDICT_TABLE's Prediction column.
func predictionType(md *models.Model) sql.Type {
	if md.Problem.Classification() {
		if t, err := mlfunc.ParseType(md.TargetType); err == nil {
			return t
		}
		return types.LongText
	}
	return types.Float64
}

// featureRow picks the model's feature values out of a JSON object, by
// column name (case-insensitively, as MySQL column names compare).
func featureRow(md *models.Model, doc map[string]any) []any {
	row := make([]any, len(md.Params))
	for i, prm := range md.Params {
		if v, ok := doc[prm.Name]; ok {
			row[i] = v
			continue
		}
		for k, v := range doc {
			if strings.EqualFold(k, prm.Name) {
				row[i] = v
				break
			}
		}
	}
	return row
}

// PredictRow is sys.ML_PREDICT_ROW(input_data, model_handle[, options]):
// a batchable function, so a SELECT over a table scores its rows in
// batches like a CREATE MODEL function.
//
// The usual call builds its input with JSON_OBJECT('col', expr, ...) per
// row. Then the call takes the values themselves as arguments (keyed by
// the literal names): no JSON document is built, keyed and taken apart
// again per row, which would cost more than scoring the row.
func PredictRow(m *models.Manager) sql.Function {
	return sql.FunctionN{Name: "ml_predict_row", Fn: func(args ...sql.Expression) (sql.Expression, error) {
		if len(args) != 2 && len(args) != 3 {
			return nil, sql.ErrInvalidArgumentNumber.New("ML_PREDICT_ROW", "2 or 3", len(args))
		}
		if keys, vals, ok := objectPairs(args[0]); ok {
			opts := sql.Expression(expression.NewLiteral(nil, types.Null))
			if len(args) == 3 {
				opts = args[2]
			}
			call := append([]sql.Expression{args[1], opts}, vals...)
			return exec.NewFuncCall(&rowInvoker{m: m, keys: keys}, call, types.JSON, exec.FuncCallOptions{}), nil
		}
		return exec.NewFuncCall(&rowInvoker{m: m}, args, types.JSON, exec.FuncCallOptions{}), nil
	}}
}

// objectPairs splits JSON_OBJECT('k1', v1, ...) with literal string keys
// into its keys and value expressions.
func objectPairs(e sql.Expression) ([]string, []sql.Expression, bool) {
	var obj sql.Expression
	switch o := e.(type) {
	case hwjson.JSONObject:
		obj = o
	case *hwjson.JSONObject:
		obj = o
	default:
		return nil, nil, false
	}
	kids := obj.Children()
	if len(kids) == 0 || len(kids)%2 != 0 {
		return nil, nil, false
	}
	keys := make([]string, 0, len(kids)/2)
	vals := make([]sql.Expression, 0, len(kids)/2)
	for i := 0; i < len(kids); i += 2 {
		lit, ok := kids[i].(*expression.Literal)
		if !ok {
			return nil, nil, false
		}
		k, ok := lit.Value().(string)
		if !ok {
			return nil, nil, false
		}
		keys, vals = append(keys, k), append(vals, kids[i+1])
	}
	return keys, vals, true
}

// rowInvoker scores ML_PREDICT_ROW calls. With keys set, a call's
// arguments are (handle, options, value of keys[0], ...); without, they
// are (input_data, handle[, options]). With predictionOnly (set by the
// rule in extract_rule.go), a result is what JSON_EXTRACT(result,
// '$.Prediction') would be.
type rowInvoker struct {
	m              *models.Manager
	keys           []string
	predictionOnly bool
}

func (i *rowInvoker) Key() string {
	if i.keys == nil {
		return "heatwave:ml_predict_row"
	}
	key := "heatwave:ml_predict_row\x00" + strings.Join(i.keys, "\x00")
	if i.predictionOnly {
		key = "heatwave:ml_predict_row.Prediction\x00" + strings.Join(i.keys, "\x00")
	}
	return key
}
func (i *rowInvoker) Name() string     { return "ML_PREDICT_ROW" }
func (i *rowInvoker) MaxBatch() int    { return batchRows }
func (i *rowInvoker) Concurrency() int { return runtime.GOMAXPROCS(0) }

// featureArgs maps each of the model's features to the index of the key
// naming it (exactly, else case-insensitively; the last of equal keys, as
// JSON_OBJECT keeps the last), -1 when none does.
func featureArgs(md *models.Model, keys []string) []int {
	idx := make([]int, len(md.Params))
	for f, prm := range md.Params {
		idx[f] = -1
		for k, key := range keys {
			if key == prm.Name {
				idx[f] = k
			}
		}
		if idx[f] >= 0 {
			continue
		}
		for k, key := range keys {
			if strings.EqualFold(key, prm.Name) {
				idx[f] = k
				break
			}
		}
	}
	return idx
}

// Invoke implements exec.Invoker: rows are grouped by model handle, each
// model checked once per batch.
func (i *rowInvoker) Invoke(ctx *sql.Context, rows [][]any) ([]any, error) {
	type resolved struct {
		md     *models.Model
		p      *model.Predictor
		feat   []int
		x      []float64
		scores []float64
		row    []any
	}
	byHandle := map[string]*resolved{}
	out := make([]any, len(rows))
	handleAt, optsAt := 1, 2
	if i.keys != nil {
		handleAt, optsAt = 0, 1
	}
	for r, args := range rows {
		var doc map[string]any
		if i.keys == nil && args[0] == nil {
			continue
		}
		handle, err := stringArg(args[handleAt], "model_handle")
		if err != nil {
			return nil, err
		}
		res, ok := byHandle[handle]
		if !ok {
			md, p, err := lookup(ctx, i.m, handle)
			if err != nil {
				return nil, err
			}
			if md.IsForecast() {
				return nil, mlError("ML_PREDICT_ROW does not support forecasting models; use ML_PREDICT_TABLE")
			}
			res = &resolved{md: md, p: p}
			if p != nil {
				res.x, res.scores, res.row = make([]float64, p.Width()), make([]float64, p.NumOutputs()), make([]any, len(md.Params))
				if i.keys != nil {
					res.feat = featureArgs(md, i.keys)
				}
			}
			byHandle[handle] = res
		}
		var opts map[string]any
		if len(args) > optsAt && args[optsAt] != nil {
			if opts, err = jsonObject(args[optsAt], "options"); err != nil {
				return nil, err
			}
		}
		switch {
		case i.keys == nil:
			if doc, err = jsonObject(args[0], "input_data"); err != nil {
				return nil, err
			}
		case !i.predictionOnly || res.md.IsRecommender():
			// The document is the output (or, for a recommender, where
			// the user and item are looked up); a prediction alone needs
			// none.
			doc = make(map[string]any, len(i.keys)+2)
			for k, key := range i.keys {
				doc[key] = jsonValue(ctx, args[2+k])
			}
		}
		if res.md.IsRecommender() {
			ro, err := recommendOptions(opts)
			if err != nil {
				return nil, err
			}
			rec, err := i.m.Recommender(ctx, res.md)
			if err != nil {
				return nil, modelError(err)
			}
			pred, ml := recommendRow(res.md, rec, ro, func(name string) any { return lookupFold(doc, name) })
			if i.predictionOnly {
				out[r] = types.JSONDocument{Val: pred}
				continue
			}
			outDoc := make(map[string]any, len(doc)+2)
			for k, v := range doc {
				outDoc[k] = v
			}
			outDoc["Prediction"], outDoc["ml_results"] = pred, ml
			out[r] = types.JSONDocument{Val: outDoc}
			continue
		}
		feats := res.row
		if i.keys != nil {
			for f, k := range res.feat {
				feats[f] = nil
				if k >= 0 {
					feats[f] = args[2+k]
				}
			}
		} else {
			feats = featureRow(res.md, doc)
		}
		if err := res.p.Scores(feats, res.x, res.scores); err != nil {
			return nil, mlError("ML_PREDICT_ROW: %v", err)
		}
		if i.predictionOnly {
			out[r] = types.JSONDocument{Val: prediction(res.md, res.p, res.scores)}
			continue
		}
		pred, ml := result(res.md, res.p, res.scores)
		if i.keys != nil {
			// doc is this row's own map: it becomes the output.
			doc["Prediction"], doc["ml_results"] = pred, ml
			out[r] = types.JSONDocument{Val: doc}
			continue
		}
		outDoc := make(map[string]any, len(doc)+2)
		for k, v := range doc {
			outDoc[k] = v
		}
		outDoc["Prediction"], outDoc["ml_results"] = pred, ml
		out[r] = types.JSONDocument{Val: outDoc}
	}
	return out, nil
}

// jsonValue is a value as JSON_OBJECT stores it in its document.
func jsonValue(ctx *sql.Context, v any) any {
	if w, ok := v.(sql.JSONWrapper); ok {
		if x, err := w.ToInterface(ctx); err == nil {
			return x
		}
	}
	return v
}

// predictTable is CALL sys.ML_PREDICT_TABLE('db.in', handle, 'db.out'
// [, options]): it scores every row of the input table in batches and
// writes them, with Prediction and ml_results, to a new output table. The
// input is read with the caller's privileges; the output needs CREATE and
// INSERT on its database.
func (r *Routines) predictTable(ctx *sql.Context, args []any, _ []string) error {
	md, p, err := r.model(ctx, args[1])
	if err != nil {
		return err
	}
	inDB, inTable, err := tableArg(ctx, args[0], "table_name")
	if err != nil {
		return err
	}
	outDB, outTable, err := tableArg(ctx, args[2], "output_table_name")
	if err != nil {
		return err
	}
	var opts map[string]any
	if len(args) > 3 {
		if opts, err = jsonObject(args[3], "options"); err != nil {
			return err
		}
	}
	db, err := r.outputDatabase(ctx, outDB, outTable)
	if err != nil {
		return err
	}

	inSchema, iter, _, err := r.Engine().Query(ctx, "SELECT * FROM "+quoteIdent(inDB)+"."+quoteIdent(inTable))
	if err != nil {
		return err
	}
	defer iter.Close(ctx)
	var featIdx []int
	var score func(batch []sql.Row) ([]any, []map[string]any, error)
	predType := sql.Type(types.Float64)
	if md.IsForecast() {
		if score, err = r.forecastScorer(ctx, md, inSchema, inDB+"."+inTable); err != nil {
			return err
		}
	} else if md.IsRecommender() {
		if score, err = r.recommendScorer(ctx, md, inSchema, opts); err != nil {
			return err
		}
		if ro, _ := recommendOptions(opts); ro.recommend != "ratings" {
			predType = types.LongText
		}
	} else {
		if featIdx, err = featureColumns(md, inSchema, inDB+"."+inTable); err != nil {
			return err
		}
		predType = predictionType(md)
	}
	outSchema, pkIdx, addedPK := outputSchema(inSchema, outTable, predType)
	return r.fillTable(ctx, db, outTable, outSchema, pkIdx, copyable(inDB, outDB, inSchema), func(emit func(sql.Row) error) error {
		return r.scoreRows(ctx, iter, md, p, featIdx, score, addedPK, len(outSchema), emit)
	})
}

// scoreRows reads the input rows in batches, scores them and emits each
// with its prediction and ml_results (and, when the output table has an
// added key, a counter first).
//
// A model's batches are scored on up to GOMAXPROCS goroutines while this
// one goes on reading and writing rows; rows are emitted in input order.
// The input is read, and rows are written, only here: the session's
// iterator and table writer are not safe for concurrent use. The scorers
// of forecasting and recommendation models run here too.
func (r *Routines) scoreRows(ctx *sql.Context, iter sql.RowIter, md *models.Model, p *model.Predictor, featIdx []int,
	score func(batch []sql.Row) ([]any, []map[string]any, error), addedPK bool, width int, emit func(sql.Row) error) error {
	n := int64(0)
	write := func(b *scoredBatch) error {
		<-b.done
		if b.err != nil {
			return b.err
		}
		for k, row := range b.rows {
			outRow := make(sql.Row, 0, width)
			if addedPK {
				n++
				outRow = append(outRow, n)
			}
			outRow = append(outRow, row...)
			outRow = append(outRow, b.preds[k], types.JSONDocument{Val: b.mls[k]})
			if err := emit(outRow); err != nil {
				return err
			}
		}
		return nil
	}
	var pending []*scoredBatch
	submit := func(batch []sql.Row) error {
		b := &scoredBatch{rows: batch, done: make(chan struct{})}
		if score != nil {
			b.preds, b.mls, b.err = score(batch)
			close(b.done)
		} else {
			feats := make([][]any, len(batch))
			for k, row := range batch {
				f := make([]any, len(featIdx))
				for j, c := range featIdx {
					if c >= 0 {
						v, err := sql.UnwrapAny(ctx, row[c])
						if err != nil {
							return err
						}
						f[j] = v
					}
				}
				feats[k] = f
			}
			go b.score(md, p, feats)
		}
		pending = append(pending, b)
		for len(pending) > runtime.GOMAXPROCS(0) {
			if err := write(pending[0]); err != nil {
				return err
			}
			pending = pending[1:]
		}
		return nil
	}
	if err := eachBatch(ctx, iter, submit); err != nil {
		return err
	}
	for _, b := range pending {
		if err := write(b); err != nil {
			return err
		}
	}
	return nil
}

// eachBatch reads iter to its end in batches of batchRows rows (the last
// may be shorter, none is empty) and calls fn with each, which may keep
// it.
func eachBatch(ctx *sql.Context, iter sql.RowIter, fn func([]sql.Row) error) error {
	batch := make([]sql.Row, 0, batchRows)
	for {
		row, err := iter.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if batch = append(batch, row); len(batch) == batchRows {
			if err := fn(batch); err != nil {
				return err
			}
			batch = make([]sql.Row, 0, batchRows)
		}
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

// scoredBatch is one batch of ML_PREDICT_TABLE's input rows and, once
// done is closed, their predictions and ml_results documents (or err).
type scoredBatch struct {
	rows  []sql.Row
	preds []any
	mls   []map[string]any
	err   error
	done  chan struct{}
}

// score scores the batch's features with the model and closes done.
func (b *scoredBatch) score(md *models.Model, p *model.Predictor, feats [][]any) {
	defer close(b.done)
	all, err := p.ScoresBatch(feats)
	if err != nil {
		b.err = mlError("ML_PREDICT_TABLE: %v", err)
		return
	}
	b.preds, b.mls = make([]any, len(all)), make([]map[string]any, len(all))
	for k, scores := range all {
		b.preds[k], b.mls[k] = result(md, p, scores)
	}
}

// pkColumn is the key HeatWave adds to an output table whose input has
// no primary key.
const pkColumn = "_4aad19ca6e_pk_id"

// outputSchema is the input's columns plus Prediction and ml_results,
// keyed by the input's primary key or by an added counter column.
func outputSchema(in sql.Schema, table string, predType sql.Type) (sql.Schema, []int, bool) {
	var out sql.Schema
	var pk []int
	added := true
	for _, c := range in {
		if c.PrimaryKey {
			added = false
		}
	}
	if added {
		out = append(out, &sql.Column{Name: pkColumn, Type: types.Int64, PrimaryKey: true, Source: table})
		pk = append(pk, 0)
	}
	for _, c := range in {
		cc := &sql.Column{Name: c.Name, Type: c.Type, Nullable: c.Nullable, PrimaryKey: c.PrimaryKey && !added, Source: table}
		if cc.PrimaryKey {
			pk = append(pk, len(out))
		} else {
			cc.Nullable = true
		}
		out = append(out, cc)
	}
	out = append(out,
		&sql.Column{Name: "Prediction", Type: predType, Nullable: true, Source: table},
		&sql.Column{Name: "ml_results", Type: types.JSON, Nullable: true, Source: table})
	return out, pk, added
}

// featureColumns maps the model's features to input columns (-1 when the
// input lacks one: it scores as missing, as HeatWave imputes it).
func featureColumns(md *models.Model, schema sql.Schema, table string) ([]int, error) {
	idx := make([]int, len(md.Params))
	found := 0
	for i, prm := range md.Params {
		idx[i] = -1
		for j, c := range schema {
			if strings.EqualFold(c.Name, prm.Name) {
				idx[i] = j
				found++
				break
			}
		}
	}
	if found == 0 {
		return nil, mlError("Table %s has none of the model's feature columns", table)
	}
	return idx, nil
}
