package heatwave

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"runtime"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/bulkload"
	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/ml/explain"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/ml/sample"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// maxExplained is how many of the most relevant features an explanation
// lists, as HeatWave limits its explanations.
const maxExplained = 100

// explainSampleRows bounds the rows ML_EXPLAIN reads for its model
// explainers (a uniform sample of the table).
const explainSampleRows = 1000

// explainerFor resolves a model for the ML_EXPLAIN_* routines: a ready
// classification or regression model the session may use, and its
// explainer for the requested prediction explainer.
func explainerFor(ctx *sql.Context, m *models.Manager, md *models.Model, opts map[string]any, routine string) (*explain.Explainer, error) {
	switch {
	case md.IsForecast():
		return nil, mlError("%s does not support forecasting models", routine)
	case md.IsRecommender():
		return nil, mlError("%s does not support recommendation models", routine)
	case !md.Problem.Classification() && md.Problem != model.Regression:
		return nil, mlError("%s supports classification and regression models only", routine)
	}
	want := explain.PermutationImportance
	for k, v := range opts {
		switch k {
		case "prediction_explainer":
			if v == nil {
				continue
			}
			want = strings.ToLower(fmt.Sprint(v))
			if want != explain.PermutationImportance && want != explain.SHAP {
				return nil, mlError("Invalid prediction_explainer '%v' for %s (supported: permutation_importance, shap)", v, routine)
			}
		case "batch_size":
		default:
			return nil, mlError("Invalid option '%s' for %s (supported: prediction_explainer)", k, routine)
		}
	}
	st := m.ExplainerState(md)
	if want == explain.SHAP && (st == nil || st.PredictionExplainer != explain.SHAP) {
		return nil, mlError("The shap prediction explainer of model %s is not trained: run sys.ML_EXPLAIN with JSON_OBJECT('prediction_explainer', 'shap') first", models.HandleOf(md))
	}
	e, err := m.Explainer(ctx, md)
	if errors.Is(err, explain.ErrNoBackground) {
		return nil, mlError("The prediction explainer of model %s is not trained: run sys.ML_EXPLAIN on its training table first", models.HandleOf(md))
	}
	if err != nil {
		return nil, modelError(err)
	}
	return e, nil
}

// explanationDoc is HeatWave's explanation of one row: Prediction, Notes,
// one <column>_attribution per explained feature, and ml_results with the
// predictions, attributions and notes. expected_value (the attributions'
// baseline: they sum to the explained value minus it) is SibylDB's
// addition to ml_results.
type explanationDoc struct {
	pred  any
	notes string
	attr  map[string]float64 // by feature, the most relevant ones
	ml    map[string]any
}

func explainRow(md *models.Model, p *model.Predictor, e *explain.Explainer, row []any) (*explanationDoc, error) {
	ex, err := e.Explain(row)
	if err != nil {
		return nil, err
	}
	pred, ml := result(md, p, ex.Scores)
	d := &explanationDoc{pred: pred, attr: map[string]float64{}, ml: ml}
	ranked := explain.Ranked(ex.Attributions)
	for k, i := range ranked {
		if k == maxExplained {
			break
		}
		d.attr[md.Params[i].Name] = ex.Attributions[i]
	}
	if len(ranked) > 0 && ex.Attributions[ranked[0]] != 0 {
		top := ranked[0]
		towards := fmt.Sprintf("predicting %v", pred)
		if !md.Problem.Classification() {
			towards = "the predicted value"
		}
		d.notes = fmt.Sprintf("%s (%v) had the largest impact towards %s", md.Params[top].Name, noteValue(row[top]), towards)
	} else {
		d.notes = "No feature changed the prediction from the expected value"
	}
	attrs := make(map[string]any, len(d.attr))
	for k, v := range d.attr {
		attrs[k] = v
	}
	ml["attributions"], ml["notes"], ml["expected_value"] = attrs, d.notes, ex.Expected
	return d, nil
}

func noteValue(v any) any {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(x)
	}
	return v
}

// ExplainRow is sys.ML_EXPLAIN_ROW(input_data, model_handle[, options]):
// like ML_PREDICT_ROW a batchable function.
func ExplainRow(m *models.Manager) sql.Function {
	inv := &explainInvoker{m: m}
	return sql.FunctionN{Name: "ml_explain_row", Fn: func(args ...sql.Expression) (sql.Expression, error) {
		if len(args) != 2 && len(args) != 3 {
			return nil, sql.ErrInvalidArgumentNumber.New("ML_EXPLAIN_ROW", "2 or 3", len(args))
		}
		return exec.NewFuncCall(inv, args, types.JSON, exec.FuncCallOptions{}), nil
	}}
}

type explainInvoker struct{ m *models.Manager }

func (i *explainInvoker) Key() string      { return "heatwave:ml_explain_row" }
func (i *explainInvoker) Name() string     { return "ML_EXPLAIN_ROW" }
func (i *explainInvoker) MaxBatch() int    { return 256 }
func (i *explainInvoker) Concurrency() int { return runtime.GOMAXPROCS(0) }

// Invoke implements exec.Invoker.
func (i *explainInvoker) Invoke(ctx *sql.Context, rows [][]any) ([]any, error) {
	type resolved struct {
		md *models.Model
		p  *model.Predictor
		e  *explain.Explainer
	}
	byKey := map[string]resolved{}
	out := make([]any, len(rows))
	for r, args := range rows {
		if args[0] == nil {
			continue
		}
		handle, err := stringArg(args[1], "model_handle")
		if err != nil {
			return nil, err
		}
		var opts map[string]any
		if len(args) > 2 && args[2] != nil {
			if opts, err = jsonObject(args[2], "options"); err != nil {
				return nil, err
			}
		}
		key := handle + "\x00" + fmt.Sprint(opts["prediction_explainer"])
		res, ok := byKey[key]
		if !ok {
			md, p, err := lookup(ctx, i.m, handle)
			if err != nil {
				return nil, err
			}
			e, err := explainerFor(ctx, i.m, md, opts, "ML_EXPLAIN_ROW")
			if err != nil {
				return nil, err
			}
			res = resolved{md, p, e}
			byKey[key] = res
		}
		doc, err := jsonObject(args[0], "input_data")
		if err != nil {
			return nil, err
		}
		d, err := explainRow(res.md, res.p, res.e, featureRow(res.md, doc))
		if err != nil {
			return nil, mlError("ML_EXPLAIN_ROW: %v", err)
		}
		outDoc := make(map[string]any, len(doc)+3+len(d.attr))
		for k, v := range doc {
			outDoc[k] = v
		}
		for k, v := range d.attr {
			outDoc[k+"_attribution"] = v
		}
		outDoc["Prediction"], outDoc["Notes"], outDoc["ml_results"] = d.pred, d.notes, d.ml
		out[r] = types.JSONDocument{Val: outDoc}
	}
	return out, nil
}

// explainTable is CALL sys.ML_EXPLAIN_TABLE('db.in', handle, 'db.out'
// [, options]): the input's rows with Prediction, Notes, one
// <feature>_attribution column per feature and ml_results, in a new table.
func (r *Routines) explainTable(ctx *sql.Context, args []any, _ []string) error {
	md, p, err := r.model(ctx, args[1])
	if err != nil {
		return err
	}
	var opts map[string]any
	if len(args) > 3 {
		if opts, err = jsonObject(args[3], "options"); err != nil {
			return err
		}
	}
	e, err := explainerFor(ctx, r.Models, md, opts, "ML_EXPLAIN_TABLE")
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
	inSchema, iter, _, err := r.Engine().Query(ctx, "SELECT * FROM "+quoteIdent(inDB)+"."+quoteIdent(inTable))
	if err != nil {
		return err
	}
	defer iter.Close(ctx)
	featIdx, err := featureColumns(md, inSchema, inDB+"."+inTable)
	if err != nil {
		return err
	}
	outSchema, pkIdx, addedPK := outputSchema(inSchema, outTable, predictionType(md))
	// Prediction, then Notes and the attributions, then ml_results.
	mlCol := outSchema[len(outSchema)-1]
	outSchema = append(outSchema[:len(outSchema)-1], &sql.Column{Name: "Notes", Type: types.LongText, Nullable: true, Source: outTable})
	for _, prm := range md.Params {
		outSchema = append(outSchema, &sql.Column{Name: prm.Name + "_attribution", Type: types.Float64, Nullable: true, Source: outTable})
	}
	outSchema = append(outSchema, mlCol)
	n := int64(0)
	return r.writeTable(ctx, outDB, outTable, outSchema, pkIdx, copyable(inDB, outDB, inSchema), func(emit func(sql.Row) error) error {
		for {
			row, err := iter.Next(ctx)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			feats := make([]any, len(featIdx))
			for j, c := range featIdx {
				if c >= 0 {
					if feats[j], err = sql.UnwrapAny(ctx, row[c]); err != nil {
						return err
					}
				}
			}
			d, err := explainRow(md, p, e, feats)
			if err != nil {
				return mlError("ML_EXPLAIN_TABLE: %v", err)
			}
			outRow := make(sql.Row, 0, len(outSchema))
			if addedPK {
				n++
				outRow = append(outRow, n)
			}
			outRow = append(outRow, row...)
			outRow = append(outRow, d.pred, d.notes)
			for _, prm := range md.Params {
				if v, ok := d.attr[prm.Name]; ok {
					outRow = append(outRow, v)
				} else {
					outRow = append(outRow, nil)
				}
			}
			outRow = append(outRow, types.JSONDocument{Val: d.ml})
			if err := emit(outRow); err != nil {
				return err
			}
		}
	})
}

// writeTable creates the new output table outDB.outTable (the session
// needs CREATE and INSERT on outDB, and the table must not exist) and
// fills it with the rows fill emits, in one statement: on an error the
// table is dropped again. direct is whether the rows' values may be
// written by the direct table writer (see fillTable).
func (r *Routines) writeTable(ctx *sql.Context, outDB, outTable string, schema sql.Schema, pkIdx []int, direct bool, fill func(emit func(sql.Row) error) error) error {
	db, err := r.outputDatabase(ctx, outDB, outTable)
	if err != nil {
		return err
	}
	return r.fillTable(ctx, db, outTable, schema, pkIdx, direct, fill)
}

// outputDatabase checks that the session may create outDB.outTable (CREATE
// and INSERT on outDB) and that it does not exist yet.
func (r *Routines) outputDatabase(ctx *sql.Context, outDB, outTable string) (sql.Database, error) {
	for _, priv := range []sql.PrivilegeType{sql.PrivilegeType_Create, sql.PrivilegeType_Insert} {
		if r.Privileges != nil && !r.Privileges.HasOn(ctx, outDB, priv) {
			return nil, privilege.TableDenied(ctx, strings.ToUpper(priv.String()), outTable)
		}
	}
	db, err := r.Engine().Analyzer.Catalog.Database(ctx, outDB)
	if err != nil {
		return nil, err
	}
	if _, exists, err := db.GetTableInsensitive(ctx, outTable); err != nil {
		return nil, err
	} else if exists {
		return nil, mysql.NewSQLError(mysql.ERTableExists, "42S01", "Table '%s' already exists", outTable)
	}
	if _, ok := db.(sql.TableCreator); !ok {
		return nil, fmt.Errorf("database %s cannot create tables", outDB)
	}
	return db, nil
}

// fillTable creates outTable in db (checked by outputDatabase) and fills it
// with the rows fill emits, in one statement: on an error the table is
// dropped again.
//
// With direct set (the rows' values may be copied into db's storage as
// they are, see copyable) and the fast path on, the new table's row map
// is written directly by bulkload.TableWriter, which encodes the rows in
// parallel and appends them in key order, instead of the engine's
// row-at-a-time inserts; Dolt's per-row insert path (and the ml_results
// document of every row) capped ML_PREDICT_TABLE at a third of the speed
// of a CREATE TABLE ... AS SELECT. The writer declines tables it cannot
// fill exactly as the inserts would before any row is read, and those
// rows then take the engine's path. Either way the transaction's locks
// are taken: the engine's row locks, or the new table's lock.
func (r *Routines) fillTable(ctx *sql.Context, db sql.Database, outTable string, schema sql.Schema, pkIdx []int, direct bool, fill func(emit func(sql.Row) error) error) error {
	if err := db.(sql.TableCreator).CreateTable(ctx, outTable, sql.NewPrimaryKeySchema(schema, pkIdx...), sql.Collation_Default, ""); err != nil {
		return err
	}
	drop := func() {
		if dropper, ok := db.(sql.TableDropper); ok {
			_ = dropper.DropTable(ctx, outTable)
		}
	}
	if direct && fastPathEnabled(ctx) {
		w, reason, err := bulkload.NewTableWriter(ctx, db.Name(), outTable, schema)
		if err != nil {
			drop()
			return err
		}
		if w != nil {
			if err := r.writeDirect(ctx, db.Name(), outTable, w, fill); err != nil {
				w.Abort()
				drop()
				return err
			}
			count(r.DirectWrites)
			return nil
		}
		ctx.GetLogger().Debugf("output table %s is written row by row: %s", outTable, reason)
	}
	count(r.EngineWrites)
	tbl, ok, err := db.GetTableInsensitive(ctx, outTable)
	if err != nil || !ok {
		return fmt.Errorf("output table %s: %v", outTable, err)
	}
	ins, ok := tbl.(sql.InsertableTable)
	if !ok {
		return fmt.Errorf("output table %s is not insertable", outTable)
	}
	ed := ins.Inserter(ctx)
	ed.StatementBegin(ctx)
	if err := fill(func(row sql.Row) error { return ed.Insert(ctx, row) }); err != nil {
		_ = ed.DiscardChanges(ctx, err)
		_ = ed.Close(ctx)
		drop()
		return err
	}
	if err := ed.StatementComplete(ctx); err != nil {
		_ = ed.Close(ctx)
		return err
	}
	return ed.Close(ctx)
}

// writeDirect fills the new table db.table through w: it takes the
// table's lock (as the engine's row writes would take their rows'), then
// writes the rows fill emits.
func (r *Routines) writeDirect(ctx *sql.Context, db, table string, w *bulkload.TableWriter, fill func(emit func(sql.Row) error) error) error {
	if r.LockTable != nil {
		if err := r.LockTable(ctx, db, table); err != nil {
			return err
		}
	}
	if err := fill(w.Insert); err != nil {
		return err
	}
	_, err := w.Finish(ctx)
	return err
}

// copyable reports whether input rows of schema in, read from database
// inDB, may be written to outDB by the direct table writer as they are.
// Values stored out of line (TEXT, BLOB, JSON, geometry) are read as
// references into inDB's storage, which another database's storage does
// not hold; such rows go through the engine's inserts.
func copyable(inDB, outDB string, in sql.Schema) bool {
	if strings.EqualFold(inDB, outDB) {
		return true
	}
	for _, c := range in {
		if types.IsTextBlob(c.Type) || types.IsJSON(c.Type) || types.IsGeometry(c.Type) {
			return false
		}
	}
	return true
}

// explainSample is a uniform sample of a table's rows: the model's
// features and the target.
type explainSample struct {
	rows   [][]any
	target []any
}

// readSample reads up to n uniformly sampled rows of db.table in the
// caller's session (SELECT on the table is needed); target "" reads no
// target.
func (r *Routines) readSample(ctx *sql.Context, md *models.Model, db, table, target string, n int) (*explainSample, error) {
	schema, iter, _, err := r.Engine().Query(ctx, "SELECT * FROM "+quoteIdent(db)+"."+quoteIdent(table))
	if err != nil {
		return nil, err
	}
	defer iter.Close(ctx)
	featIdx, err := featureColumns(md, schema, db+"."+table)
	if err != nil {
		return nil, err
	}
	targetIdx := -1
	if target != "" {
		for i, c := range schema {
			if strings.EqualFold(c.Name, target) {
				targetIdx = i
			}
		}
		if targetIdx < 0 {
			return nil, mlError("ML003018: The target column '%s' does not exist in table %s.%s.", target, db, table)
		}
	}
	res := sample.NewReservoir(n, 42)
	s := &explainSample{}
	for {
		row, err := iter.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		slot, keep := res.Next()
		if !keep {
			continue
		}
		feats := make([]any, len(featIdx))
		for j, c := range featIdx {
			if c >= 0 {
				if feats[j], err = sql.UnwrapAny(ctx, row[c]); err != nil {
					return nil, err
				}
			}
		}
		var y any
		if targetIdx >= 0 {
			if y, err = sql.UnwrapAny(ctx, row[targetIdx]); err != nil {
				return nil, err
			}
		}
		if slot == len(s.rows) {
			s.rows, s.target = append(s.rows, feats), append(s.target, y)
		} else {
			s.rows[slot], s.target[slot] = feats, y
		}
	}
	if len(s.rows) == 0 {
		return nil, mlError("Table %s.%s is empty", db, table)
	}
	return s, nil
}

// background is the explainer's background: the first BackgroundRows of
// a uniform sample, as JSON-safe values.
func (s *explainSample) background() [][]any {
	n := min(len(s.rows), explain.BackgroundRows)
	out := make([][]any, n)
	for i := range out {
		row := make([]any, len(s.rows[i]))
		for j, v := range s.rows[i] {
			switch x := v.(type) {
			case []byte:
				row[j] = string(x)
			case float64:
				if math.IsNaN(x) || math.IsInf(x, 0) {
					row[j] = nil
				} else {
					row[j] = x
				}
			default:
				if b, err := json.Marshal(v); err != nil || string(b) == "" {
					row[j] = fmt.Sprint(v)
				} else {
					row[j] = v
				}
			}
		}
		out[i] = row
	}
	return out
}

// explainOptions are ML_EXPLAIN's options.
type explainOptions struct {
	modelExplainer      string
	predictionExplainer string
	columns             []string
	targetValue         string
}

func parseExplainOptions(opts map[string]any) (*explainOptions, error) {
	o := &explainOptions{modelExplainer: explain.PermutationImportance, predictionExplainer: explain.PermutationImportance}
	for k, v := range opts {
		switch k {
		case "model_explainer":
			if v == nil {
				continue
			}
			o.modelExplainer = strings.ToLower(fmt.Sprint(v))
			switch o.modelExplainer {
			case explain.PermutationImportance, explain.SHAP, explain.FastSHAP, explain.PartialDependence:
			default:
				return nil, mlError("Invalid model_explainer '%v' (supported: permutation_importance, partial_dependence, shap, fast_shap)", v)
			}
		case "prediction_explainer":
			if v == nil {
				continue
			}
			o.predictionExplainer = strings.ToLower(fmt.Sprint(v))
			if o.predictionExplainer != explain.PermutationImportance && o.predictionExplainer != explain.SHAP {
				return nil, mlError("Invalid prediction_explainer '%v' (supported: permutation_importance, shap)", v)
			}
		case "columns_to_explain":
			cols, err := stringList(v, k)
			if err != nil {
				return nil, err
			}
			o.columns = cols
		case "target_value":
			o.targetValue = model.Label(v)
		default:
			return nil, mlError("Invalid option '%s' for ML_EXPLAIN (supported: model_explainer, prediction_explainer, columns_to_explain, target_value)", k)
		}
	}
	if len(o.columns) > 0 && o.modelExplainer != explain.PartialDependence {
		return nil, mlError("columns_to_explain applies to the partial_dependence model explainer only")
	}
	return o, nil
}

// mlExplain is CALL sys.ML_EXPLAIN('db.table', 'target', handle,
// options): it trains the model's prediction explainer (background rows
// from the table) and runs a model explainer over the table, storing both
// with the model and the explanation in its MODEL_CATALOG row. It changes
// the model, so only the model's owner may run it.
func (r *Routines) mlExplain(ctx *sql.Context, args []any, _ []string) error {
	md, p, err := r.model(ctx, args[2])
	if err != nil {
		return err
	}
	if owner := privilege.ParseAccount(md.Owner).User; owner != ctx.Session.Client().User {
		return mlError("ML_EXPLAIN changes model %s, which only its owner '%s' may do", models.HandleOf(md), owner)
	}
	switch {
	case md.IsForecast():
		return mlError("ML_EXPLAIN does not support forecasting models")
	case md.IsRecommender():
		return mlError("ML_EXPLAIN does not support recommendation models")
	case !md.Problem.Classification() && md.Problem != model.Regression:
		return mlError("ML_EXPLAIN supports classification and regression models only")
	}
	var opts map[string]any
	if len(args) > 3 {
		if opts, err = jsonObject(args[3], "options"); err != nil {
			return err
		}
	}
	o, err := parseExplainOptions(opts)
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
	if target == "" && o.modelExplainer == explain.PermutationImportance {
		return mlError("target_column_name is required for the permutation_importance model explainer")
	}
	s, err := r.readSample(ctx, md, db, table, target, explainSampleRows)
	if err != nil {
		return err
	}
	return r.storeExplainer(ctx, md, p, s, o)
}

// storeExplainer trains the explainers of o on sample s and stores them.
func (r *Routines) storeExplainer(ctx *sql.Context, md *models.Model, p *model.Predictor, s *explainSample, o *explainOptions) error {
	bg := s.background()
	e, err := explain.New(p, bg)
	if err != nil {
		return mlError("ML_EXPLAIN: %v", err)
	}
	var expl any
	switch o.modelExplainer {
	case explain.PermutationImportance:
		expl, err = permutationImportance(md, p, s)
	case explain.SHAP, explain.FastSHAP:
		n := len(s.rows)
		if o.modelExplainer == explain.FastSHAP {
			n = min(n, explain.BackgroundRows)
		}
		expl, err = meanAbsSHAP(md, e, s.rows[:n])
	case explain.PartialDependence:
		expl, err = partialDependence(md, p, s, o)
	}
	if err != nil {
		return err
	}
	prev := r.Models.ExplainerState(md)
	st := &explain.State{PredictionExplainer: o.predictionExplainer, Background: bg, ModelExplanation: map[string]any{}}
	if md.Artifact != nil {
		st.ArtifactID = models.ArtifactID(md.Artifact)
	}
	if prev != nil && prev.ArtifactID == st.ArtifactID {
		for k, v := range prev.ModelExplanation {
			st.ModelExplanation[k] = v
		}
	}
	st.ModelExplanation[o.modelExplainer] = expl
	for k := range st.ModelExplanation {
		st.ModelExplainers = append(st.ModelExplainers, k)
	}
	sort.Strings(st.ModelExplainers)
	if err := r.Models.SetExplainer(md, st); err != nil {
		return err
	}
	return r.recordExplanation(ctx, md, st)
}

// recordExplanation writes the model explanation and the explainers'
// names into the model's MODEL_CATALOG row (models made by CREATE MODEL
// have none).
func (r *Routines) recordExplanation(ctx *sql.Context, md *models.Model, st *explain.State) error {
	if md.Handle == "" {
		return nil
	}
	schema := Schema(privilege.ParseAccount(md.Owner).User)
	explJSON, _ := json.Marshal(st.ModelExplanation)
	q := fmt.Sprintf("UPDATE %s.%s SET model_explanation = %s, "+
		"model_metadata = JSON_SET(COALESCE(model_metadata, JSON_OBJECT()), '$.options.model_explainer', %s, '$.options.prediction_explainer', %s) "+
		"WHERE model_handle = %s",
		quoteIdent(schema), catalogTable, quoteString(string(explJSON)),
		quoteString(strings.Join(st.ModelExplainers, ", ")), quoteString(st.PredictionExplainer), quoteString(md.Handle))
	ictx, err := r.NewContext(ctx)
	if err != nil {
		return err
	}
	defer sql.SessionEnd(ictx.Session)
	if err := catalog.Exec(ictx, r.Engine(), q); err != nil {
		return fmt.Errorf("model catalog %s: %w", schema, err)
	}
	return nil
}

// sampleScore is the model's score on the sample: accuracy or R².
func sampleScore(md *models.Model, p *model.Predictor, rows [][]any, target []any) (float64, error) {
	all, err := p.ScoresBatch(rows)
	if err != nil {
		return 0, err
	}
	if md.Problem.Classification() {
		right, n := 0, 0
		for i, y := range target {
			if y == nil {
				continue
			}
			n++
			if p.Artifact.Classes[p.Class(all[i])] == model.Label(y) {
				right++
			}
		}
		if n == 0 {
			return 0, mlError("ML_EXPLAIN: no row has a target value")
		}
		return float64(right) / float64(n), nil
	}
	var ys []float64
	var outs [][]float64
	for i, y := range target {
		if f, ok := model.Float(y); ok {
			ys, outs = append(ys, f), append(outs, all[i])
		}
	}
	if len(ys) == 0 {
		return 0, mlError("ML_EXPLAIN: no row has a numeric target value")
	}
	return r2(ys, outs), nil
}

// permutationImportance is, per feature, how much the model's score
// (accuracy, or R² for regression) on the sample drops when the feature's
// values are shuffled among its rows.
func permutationImportance(md *models.Model, p *model.Predictor, s *explainSample) (map[string]float64, error) {
	base, err := sampleScore(md, p, s.rows, s.target)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewSource(7))
	out := map[string]float64{}
	shuffled := make([][]any, len(s.rows))
	for j, prm := range md.Params {
		perm := rng.Perm(len(s.rows))
		for i, row := range s.rows {
			c := append([]any(nil), row...)
			c[j] = s.rows[perm[i]][j]
			shuffled[i] = c
		}
		sc, err := sampleScore(md, p, shuffled, s.target)
		if err != nil {
			return nil, err
		}
		out[prm.Name] = round6(base - sc)
	}
	return out, nil
}

// meanAbsSHAP is, per feature, the mean absolute attribution over rows.
func meanAbsSHAP(md *models.Model, e *explain.Explainer, rows [][]any) (map[string]float64, error) {
	sums := make([]float64, len(md.Params))
	for _, row := range rows {
		ex, err := e.Explain(row)
		if err != nil {
			return nil, mlError("ML_EXPLAIN: %v", err)
		}
		for j, v := range ex.Attributions {
			sums[j] += math.Abs(v)
		}
	}
	out := map[string]float64{}
	for j, prm := range md.Params {
		out[prm.Name] = round6(sums[j] / float64(len(rows)))
	}
	return out, nil
}

// pdPoints bounds the grid of a partial dependence column; pdRows the
// rows averaged at each point.
const (
	pdPoints = 10
	pdRows   = 200
)

// partialDependence is, for each column to explain, the model's mean
// prediction (regression) or probability of the target class over the
// sample's rows with the column set to each of a grid of its values.
func partialDependence(md *models.Model, p *model.Predictor, s *explainSample, o *explainOptions) (map[string]any, error) {
	cols := o.columns
	if len(cols) == 0 {
		for _, prm := range md.Params {
			cols = append(cols, prm.Name)
		}
	}
	out := 0
	a := p.Artifact
	if a.Problem.Classification() {
		want := o.targetValue
		if want == "" {
			want = a.Classes[len(a.Classes)-1]
		}
		out = -1
		for k, c := range a.Classes {
			if c == want {
				out = k
			}
		}
		if out < 0 {
			return nil, mlError("target_value '%s' is not a class of the model (classes: %s)", want, strings.Join(a.Classes, ", "))
		}
	}
	value := func(scores []float64) float64 {
		if a.Problem == model.Binary {
			if out == 1 {
				return scores[0]
			}
			return 1 - scores[0]
		}
		return scores[out]
	}
	rows := s.rows[:min(len(s.rows), pdRows)]
	res := map[string]any{}
	for _, c := range cols {
		j := -1
		for k, prm := range md.Params {
			if strings.EqualFold(prm.Name, c) {
				j = k
			}
		}
		if j < 0 {
			return nil, mlError("Column '%s' of columns_to_explain is not a feature of the model", c)
		}
		grid := gridOf(s.rows, j)
		preds := make([]float64, len(grid))
		for g, v := range grid {
			batch := make([][]any, len(rows))
			for i, row := range rows {
				r := append([]any(nil), row...)
				r[j] = v
				batch[i] = r
			}
			all, err := p.ScoresBatch(batch)
			if err != nil {
				return nil, mlError("ML_EXPLAIN: %v", err)
			}
			sum := 0.0
			for _, sc := range all {
				sum += value(sc)
			}
			preds[g] = round6(sum / float64(len(all)))
		}
		res[md.Params[j].Name] = map[string]any{"values": grid, "predictions": preds}
	}
	return res, nil
}

// gridOf is up to pdPoints values of column j: quantiles of a numeric
// column, the most frequent values of another.
func gridOf(rows [][]any, j int) []any {
	var nums []float64
	counts := map[string]int{}
	first := map[string]any{}
	numeric := true
	for _, r := range rows {
		v := r[j]
		if v == nil {
			continue
		}
		if _, isStr := v.(string); !isStr {
			if f, ok := model.Float(v); ok {
				nums = append(nums, f)
				continue
			}
		}
		numeric = false
		l := model.Label(v)
		counts[l]++
		if _, ok := first[l]; !ok {
			first[l] = l
		}
	}
	if numeric && len(nums) > 0 {
		sort.Float64s(nums)
		var grid []any
		last := math.NaN()
		for k := 0; k < pdPoints; k++ {
			v := nums[k*(len(nums)-1)/(pdPoints-1)]
			if v != last {
				grid = append(grid, v)
				last = v
			}
		}
		return grid
	}
	levels := make([]string, 0, len(counts))
	for l := range counts {
		levels = append(levels, l)
	}
	sort.Slice(levels, func(a, b int) bool {
		if counts[levels[a]] != counts[levels[b]] {
			return counts[levels[a]] > counts[levels[b]]
		}
		return levels[a] < levels[b]
	})
	grid := make([]any, 0, pdPoints)
	for _, l := range levels[:min(len(levels), pdPoints)] {
		grid = append(grid, first[l])
	}
	return grid
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// defaultExplainer is what ML_TRAIN runs after training, as HeatWave's
// ML_TRAIN runs ML_EXPLAIN with the permutation_importance explainers:
// a failure is a warning, the model is trained either way.
func (r *Routines) defaultExplainer(ctx *sql.Context, md *models.Model, db, table string) {
	_, p, err := lookup(ctx, r.Models, models.HandleOf(md))
	if err == nil {
		var s *explainSample
		if s, err = r.readSample(ctx, md, db, table, md.Target, explainSampleRows); err == nil {
			err = r.storeExplainer(ctx, md, p, s, &explainOptions{modelExplainer: explain.PermutationImportance, predictionExplainer: explain.PermutationImportance})
		}
	}
	if err != nil {
		ctx.Warn(mysql.ERUnknownError, "ML_TRAIN: the permutation_importance explainers were not trained: %v", err)
	}
}
