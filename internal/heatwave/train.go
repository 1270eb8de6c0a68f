package heatwave

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/privilege"
	"github.com/sibyldb/sibyldb/internal/progress"
)

// trainOptions are ML_TRAIN's options this implementation acts on.
// Accepted-and-ignored ones raise a warning; unknown ones an error, as
// HeatWave rejects them.
var ignoredOptions = map[string]bool{"notes": true, "ensemble_score": true, "experimental": true}

// supportedTasks are the ML_TRAIN tasks SibylDB trains.
const supportedTasks = "classification, regression, forecasting, and recommendation"

// train is CALL sys.ML_TRAIN('db.table', 'target', options, @handle).
func (r *Routines) train(ctx *sql.Context, args []any, outVars []string) error {
	// ML_TRAIN adds to the model store CREATE MODEL writes, so the same
	// privilege governs it.
	if r.Privileges != nil && !r.Privileges.Allowed(ctx, privilege.Account{}, privilege.CreateModel) {
		return privilege.Denied(privilege.CreateModel)
	}
	db, table, err := tableArg(ctx, args[0], "table_name")
	if err != nil {
		return err
	}
	target, err := stringArg(args[1], "target_column_name")
	if err != nil {
		return err
	}
	opts, err := jsonObject(args[2], "options")
	if err != nil {
		return err
	}
	task := "classification"
	if v, ok := opts["task"]; ok && v != nil {
		task = strings.ToLower(fmt.Sprint(v))
	}
	if task != "classification" && task != "regression" && task != "forecasting" && task != "recommendation" {
		return mlError("ML001016: Only %s tasks are supported.", supportedTasks)
	}
	switch task {
	case "forecasting":
		return r.trainForecast(ctx, db, table, target, opts, outVars[3])
	case "recommendation":
		return r.trainRecommend(ctx, db, table, target, opts, outVars[3])
	}
	if target == "" {
		return mlError("target_column_name is required for the %s task", task)
	}
	spec := &models.Spec{Auto: true, Target: target, Hyperparameters: map[string]string{}, Settings: map[string]string{}}
	if b, err := json.Marshal(opts); err == nil {
		spec.Options = string(b)
	}
	var include, exclude, excluded []string
	for k, v := range opts {
		switch k {
		case "task":
		case "model_list":
			names, err := stringList(v, k)
			if err != nil {
				return err
			}
			if spec.Algorithms, err = algorithms(names, k); err != nil {
				return err
			}
		case "exclude_model_list":
			if excluded, err = stringList(v, k); err != nil {
				return err
			}
		case "optimization_metric":
			if spec.Objective, err = objective(fmt.Sprint(v), task); err != nil {
				return err
			}
		case "include_column_list":
			if include, err = stringList(v, k); err != nil {
				return err
			}
		case "exclude_column_list":
			if exclude, err = stringList(v, k); err != nil {
				return err
			}
		default:
			if !ignoredOptions[k] {
				return mlError("Invalid option '%s' for ML_TRAIN (supported: task, model_list, exclude_model_list, optimization_metric, include_column_list, exclude_column_list, notes)", k)
			}
			ctx.Warn(mysql.ERUnknownError, "ML_TRAIN option %s is accepted and ignored", k)
		}
	}

	if excluded != nil {
		if spec.Algorithms, err = withoutExcluded(task, spec.Algorithms, excluded); err != nil {
			return err
		}
	}

	// The training columns, read in the caller's session: SELECT on the
	// table is what training needs.
	cols, err := r.columns(ctx, db, table)
	if err != nil {
		return err
	}
	if !containsFold(cols, target) {
		return mlError("ML003018: The target column '%s' does not exist in table %s.%s.", target, db, table)
	}
	use := make([]string, 0, len(cols))
	for _, c := range cols {
		if strings.EqualFold(c, target) || (!containsFold(exclude, c) && (len(include) == 0 || containsFold(include, c))) {
			use = append(use, c)
		}
	}
	for _, c := range append(append([]string{}, include...), exclude...) {
		if !containsFold(cols, c) {
			return mlError("Column '%s' of the column list does not exist in table %s.%s", c, db, table)
		}
	}
	quoted := make([]string, len(use))
	for i, c := range use {
		quoted[i] = quoteIdent(c)
	}
	spec.FromQuery = "SELECT " + strings.Join(quoted, ", ") + " FROM " + quoteIdent(db) + "." + quoteIdent(table)
	if task == "regression" {
		spec.ProblemType = string(model.Regression)
	} else if spec.ProblemType, err = r.classificationType(ctx, db, table, target); err != nil {
		return err
	}

	return r.trainModel(ctx, spec, db, table, task, outVars[3], r.Models.Create)
}

// trainModel names the model by its handle, stores it in the caller's
// catalog schema, trains it with create and waits for the training job,
// as HeatWave's ML_TRAIN returns when the model is trained.
func (r *Routines) trainModel(ctx *sql.Context, spec *models.Spec, db, table, task, handleVar string,
	create func(*sql.Context, *models.Spec, string) error) error {
	user := ctx.Session.Client().User
	schema := Schema(user)
	if err := r.ensureCatalog(ctx, schema); err != nil {
		return err
	}
	_, handle, _ := ctx.GetUserVariable(ctx, handleVar)
	spec.Handle, _ = handle.(string)
	if spec.Handle == "" {
		spec.Handle = r.generateHandle(db, table, user)
	} else if _, taken := r.Models.ByHandle(spec.Handle); taken {
		return mlError("ML003019: Model handle %s already exists in the model catalog.", spec.Handle)
	}
	spec.DB, spec.Name = schema, modelName(spec.Handle)
	spec.Function = spec.Name
	if md, taken := r.Models.Get(spec.DB, spec.Name); taken {
		return mlError("ML003019: Model handle %s already exists in the model catalog (as model %s.%s).", spec.Handle, md.DB, md.Name)
	}

	owner := fmt.Sprintf("`%s`@`%s`", user, ctx.Session.Client().Address)
	start := time.Now()
	if err := create(ctx, spec, owner); err != nil {
		return trainError(err)
	}
	md, ok := r.Models.Get(spec.DB, spec.Name)
	if !ok {
		return mlError("model %s was dropped during training", spec.Handle)
	}
	end := progress.Begin(ctx, md.TrainingProgress)
	err := r.Models.Wait(ctx, md)
	end()
	if err != nil {
		return fmt.Errorf("ML_TRAIN interrupted; model %s goes on training in the background: %w", spec.Handle, err)
	}
	if state := r.Models.State(md); state != models.Ready {
		return mlError("ML_TRAIN failed for model %s: %s", spec.Handle, md.Reason)
	}
	if err := r.recordModel(ctx, schema, md, db+"."+table, task, time.Since(start)); err != nil {
		return err
	}
	if task == "classification" || task == "regression" {
		r.defaultExplainer(ctx, md, db, table)
	}
	return setVariable(ctx, handleVar, spec.Handle, types.LongText)
}

// trainForecast is ML_TRAIN's 'forecasting' task.
func (r *Routines) trainForecast(ctx *sql.Context, db, table, target string, opts map[string]any, handleVar string) error {
	for k := range opts {
		switch k {
		case "task", "datetime_index", "endogenous_variables", "exogenous_variables", "horizon",
			"model_list", "exclude_model_list", "optimization_metric":
		case "notes":
			ctx.Warn(mysql.ERUnknownError, "ML_TRAIN option %s is accepted and ignored for forecasting", k)
		default:
			return mlError("Invalid option '%s' for ML_TRAIN with the forecasting task", k)
		}
	}
	fs, target, err := r.trainForecastSpec(opts, target)
	if err != nil {
		return err
	}
	cols, err := r.columns(ctx, db, table)
	if err != nil {
		return err
	}
	for _, c := range append([]string{fs.TimeColumn, target}, fs.Exogenous...) {
		if !containsFold(cols, c) {
			return mlError("ML003018: The column '%s' does not exist in table %s.%s.", c, db, table)
		}
	}
	sel := []string{quoteIdent(fs.TimeColumn), quoteIdent(target)}
	for _, c := range fs.Exogenous {
		sel = append(sel, quoteIdent(c))
	}
	spec := &models.Spec{Target: target, Forecast: fs, ModelType: models.ModelTypeForecast,
		FromQuery: "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(db) + "." + quoteIdent(table)}
	if b, err := json.Marshal(opts); err == nil {
		spec.Options = string(b)
	}
	return r.trainModel(ctx, spec, db, table, "forecasting", handleVar, r.Models.CreateForecast)
}

// trainError maps the model store's errors to MySQL ones.
func trainError(err error) error {
	var se *mysql.SQLError
	switch {
	case errors.As(err, &se):
		return err
	case errors.Is(err, automl.ErrEmpty), errors.Is(err, automl.ErrFewRows), errors.Is(err, automl.ErrBadTarget), errors.Is(err, automl.ErrBadSetting):
		return mlError("ML_TRAIN: %v", err)
	}
	return err
}

// Schema is the model catalog schema of user, as HeatWave names it.
func Schema(user string) string { return privilege.ModelCatalogSchemaPrefix + user }

var nonWord = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// modelName turns a handle into the model's (and its function's) name.
func modelName(handle string) string {
	n := nonWord.ReplaceAllString(handle, "_")
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

// generateHandle makes HeatWave's schema.table_user_<unix time> handle,
// unique in the store.
func (r *Routines) generateHandle(db, table, user string) string {
	ts := time.Now().Unix()
	for {
		h := fmt.Sprintf("%s.%s_%s_%d", db, table, user, ts)
		if _, taken := r.Models.ByHandle(h); !taken {
			if _, taken := r.Models.Get(Schema(user), modelName(h)); !taken {
				return h
			}
		}
		ts++
	}
}

// columns lists the table's columns, read in the caller's session.
func (r *Routines) columns(ctx *sql.Context, db, table string) ([]string, error) {
	schema, iter, _, err := r.Engine().Query(ctx, "SELECT * FROM "+quoteIdent(db)+"."+quoteIdent(table)+" LIMIT 0")
	if err != nil {
		return nil, err
	}
	if _, err := sql.RowIterToRows(ctx, iter); err != nil {
		return nil, err
	}
	out := make([]string, len(schema))
	for i, c := range schema {
		out[i] = c.Name
	}
	return out, nil
}

// classificationType decides binary or multiclass from the target's
// distinct values: HeatWave's 'classification' covers both.
func (r *Routines) classificationType(ctx *sql.Context, db, table, target string) (string, error) {
	_, iter, _, err := r.Engine().Query(ctx, "SELECT COUNT(DISTINCT "+quoteIdent(target)+") FROM "+quoteIdent(db)+"."+quoteIdent(table))
	if err != nil {
		return "", err
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		return "", err
	}
	if len(rows) == 1 && fmt.Sprint(rows[0][0]) == "2" {
		return string(model.Binary), nil
	}
	return string(model.Multiclass), nil
}

// algorithms maps HeatWave's model_list to the SibylDB algorithms the
// search may choose.
func algorithms(names []string, option string) ([]string, error) {
	algos := map[string]bool{}
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "XGB"), strings.HasPrefix(n, "LGBM"), strings.HasPrefix(n, "RandomForest"), strings.HasPrefix(n, "ExtraTrees"), strings.HasPrefix(n, "DecisionTree"):
			algos[model.XGBoost] = true
		case strings.HasPrefix(n, "Logistic"), strings.HasPrefix(n, "Linear"), strings.HasPrefix(n, "SGD"), strings.HasPrefix(n, "Ridge"), strings.HasPrefix(n, "Lasso"), strings.HasPrefix(n, "ElasticNet"):
			algos[model.LinearLearner] = true
		case strings.HasPrefix(n, "MLP"):
			algos[model.MLP] = true
		default:
			return nil, mlError("Invalid model '%s' in %s (SibylDB trains XGBClassifier/XGBRegressor, LogisticRegression/LinearRegression and MLPClassifier/MLPRegressor families)", n, option)
		}
	}
	out := make([]string, 0, len(algos))
	for a := range algos {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

// heatwaveModels are HeatWave's model names of each task that SibylDB
// trains one of its algorithms for (see algorithms).
var heatwaveModels = map[string][]string{
	"classification": {"XGBClassifier", "LGBMClassifier", "RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier",
		"LogisticRegression", "LinearSVC", "MLPClassifier"},
	"regression": {"XGBRegressor", "LGBMRegressor", "RandomForestRegressor", "ExtraTreesRegressor", "DecisionTreeRegressor",
		"LinearRegression", "LinearSVR", "MLPRegressor"},
}

// withoutExcluded applies exclude_model_list to the algorithms the
// search may choose (nil: all). One SibylDB algorithm stands for several
// HeatWave models (the gradient-boosted trees for XGBoost, LightGBM and
// the forests), so it leaves the search only when every model of the
// task it stands for is excluded: excluding RandomForestClassifier alone
// keeps the trees, which also stand for XGBClassifier.
func withoutExcluded(task string, allowed, excluded []string) ([]string, error) {
	if _, err := algorithms(excluded, "exclude_model_list"); err != nil {
		return nil, err
	}
	if allowed == nil {
		allowed, _ = algorithms(heatwaveModels[task], "")
	}
	var out []string
	for _, a := range allowed {
		for _, m := range heatwaveModels[task] {
			if algo, _ := algorithms([]string{m}, ""); algo[0] == a && !containsFold(excluded, m) {
				out = append(out, a)
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, mlError("model_list and exclude_model_list leave no model to train for the %s task", task)
	}
	return out, nil
}

// metrics maps HeatWave's optimization and scoring metrics to SibylDB's.
var metrics = map[string]struct {
	name   string
	task   string
	negate bool
}{
	"accuracy":                {"accuracy", "classification", false},
	"f1":                      {"f1", "classification", false},
	"f1_macro":                {"f1macro", "classification", false},
	"roc_auc":                 {"auc", "classification", false},
	"neg_mean_squared_error":  {"mse", "regression", true},
	"neg_mean_absolute_error": {"mae", "regression", true},
	"r2":                      {"r2", "regression", false},
}

func metricNames(task string) string {
	var names []string
	for k, m := range metrics {
		if m.task == task {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// objective maps optimization_metric to the search's objective.
func objective(metric, task string) (string, error) {
	m, ok := metrics[strings.ToLower(metric)]
	if !ok || m.task != task || m.name == "r2" {
		return "", mlError("Invalid optimization_metric '%s' for the %s task (supported: %s)", metric, task, strings.ReplaceAll(metricNames(task), "r2, ", ""))
	}
	return m.name, nil
}

// jsonObject reads a JSON object argument; NULL is an empty object.
func jsonObject(v any, what string) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	var doc any
	switch d := v.(type) {
	case string:
		if err := json.Unmarshal([]byte(d), &doc); err != nil {
			return nil, mlError("%s must be a JSON object: %v", what, err)
		}
	case []byte:
		if err := json.Unmarshal(d, &doc); err != nil {
			return nil, mlError("%s must be a JSON object: %v", what, err)
		}
	default:
		if w, ok := v.(sql.JSONWrapper); ok {
			val, err := w.ToInterface(context.Background())
			if err != nil {
				return nil, err
			}
			doc = val
		}
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, mlError("%s must be a JSON object", what)
	}
	return m, nil
}

// stringList reads a JSON array of strings.
func stringList(v any, what string) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		if s, ok := v.(string); ok {
			var out []string
			if err := json.Unmarshal([]byte(s), &out); err == nil {
				return out, nil
			}
		}
		return nil, mlError("%s must be a JSON array of strings", what)
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, mlError("%s must be a JSON array of strings", what)
		}
		out[i] = s
	}
	return out, nil
}

func containsFold(xs []string, x string) bool {
	for _, y := range xs {
		if strings.EqualFold(x, y) {
			return true
		}
	}
	return false
}
