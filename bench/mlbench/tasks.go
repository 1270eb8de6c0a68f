package main

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// env is what every task run needs.
type env struct {
	db  *sql.DB
	dir string // the datasets directory
	opt options
}

// Metric names.
const (
	metricF1       = "F1"
	metricAccuracy = "accuracy"
	metricRMSE     = "RMSE"
	metricAUC      = "AUC"
	metricWindows  = "windows hit by top-20"
)

// task is one dataset of the benchmark and how to score it.
type task struct {
	name    string // directory under the datasets directory
	table   string // SQL table (and model) name
	problem string // PROBLEM_TYPE, or "ANOMALY" for RANDOM_CUT_FOREST
	target  string // target column
	// positive is the positive class label for F1 and AUC.
	positive  string
	metric    string
	goal      float64 // the metric's threshold; for churn, the baseline's F1
	objective string  // CREATE MODEL OBJECTIVE
	// maxRuntime is MAX_RUNTIME in seconds; maxTrain, when set, is the
	// longest training time that passes.
	maxRuntime int
	maxTrain   float64
	// xgbBaseline: the baseline (and the F1 goal) is python3-xgboost.
	xgbBaseline bool
	load        func(dir string) (*frame, error)
	run         func(ctx context.Context, e *env, t *task) *result
}

// tasks are the benchmark's datasets, in the order they run.
var tasks = []*task{
	{name: "churn_sagemaker_synthetic", table: "churn", problem: "BINARY_CLASSIFICATION", target: "churn",
		positive: "True.", metric: metricF1, objective: "F1", maxRuntime: 55, maxTrain: 60, xgbBaseline: true,
		load: loadChurn, run: runSupervised},
	{name: "tabular_adult_income", table: "adult", problem: "BINARY_CLASSIFICATION", target: "income",
		positive: ">50K", metric: metricAccuracy, goal: 0.87, objective: "Accuracy", maxRuntime: 180,
		load: loadAdult, run: runSupervised},
	{name: "tabular_breast_cancer_wdbc", table: "wdbc", problem: "BINARY_CLASSIFICATION", target: "diagnosis",
		positive: "M", metric: metricAccuracy, goal: 0.96, objective: "Accuracy", maxRuntime: 60,
		load: loadWDBC, run: runSupervised},
	{name: "tabular_iris", table: "iris", problem: "MULTICLASS_CLASSIFICATION", target: "species",
		metric: metricAccuracy, goal: 0.93, objective: "Accuracy", maxRuntime: 30,
		load: loadIris, run: runSupervised},
	{name: "tabular_wine_quality", table: "wine_red", problem: "REGRESSION", target: "quality",
		metric: metricRMSE, goal: 0.60, objective: "MSE", maxRuntime: 60,
		load: loadWine, run: runSupervised},
	{name: "tabular_california_housing", table: "housing", problem: "REGRESSION", target: "median_house_value",
		metric: metricRMSE, goal: 50000, objective: "MSE", maxRuntime: 180,
		load: loadHousing, run: runSupervised},
	{name: "fraud_creditcard_ulb_sample", table: "fraud", problem: "BINARY_CLASSIFICATION", target: "class",
		positive: "1", metric: metricAUC, goal: 0.97, objective: "AUC", maxRuntime: 60,
		load: loadFraud, run: runSupervised},
	{name: "nab_nyc_taxi", table: "nyc_taxi", problem: "ANOMALY", metric: metricWindows, goal: 3,
		maxRuntime: 120, load: loadTaxi, run: runAnomaly},
}

// result is one row of the output table.
type result struct {
	dataset, rows, problem string
	trainSecs              float64 // NaN when unknown
	chosen                 string
	metric, value, target  string
	baseline               string
	status                 string // PASS, FAIL or ERROR
	err                    error
	notes                  []string   // printed under the table
	model                  *modelInfo // SHOW MODEL, printed for FAIL/ERROR rows (or with -v)
}

// newResult starts a task's row.
func newResult(t *task) *result {
	r := &result{dataset: t.name, problem: t.problem, metric: t.metric, trainSecs: math.NaN(),
		chosen: "-", value: "-", baseline: "-", status: "ERROR"}
	switch {
	case t.metric == metricRMSE:
		r.target = fmt.Sprintf("<= %s", fmtNum(t.goal))
	case t.metric == metricWindows:
		r.target = fmt.Sprintf(">= %.0f/5", t.goal)
	case t.xgbBaseline:
		r.target = ">= baseline"
		if t.maxTrain > 0 {
			r.target += fmt.Sprintf(", <= %.0f s", t.maxTrain)
		}
	default:
		r.target = fmt.Sprintf(">= %s", fmtNum(t.goal))
	}
	return r
}

// fail records an error and returns r.
func (r *result) fail(err error) *result {
	r.status, r.err = "ERROR", err
	r.notes = append(r.notes, err.Error())
	return r
}

// fmtNum formats a metric value.
func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.Abs(v) >= 1000:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// maxRuntime is the MAX_RUNTIME to use for t.
func (e *env) maxRuntime(t *task) int {
	if e.opt.maxRuntime > 0 {
		return e.opt.maxRuntime
	}
	return t.maxRuntime
}

// runSupervised loads a labelled dataset, trains on its training rows
// and scores the test rows.
func runSupervised(ctx context.Context, e *env, t *task) *result {
	r := newResult(t)
	f, err := t.load(filepath.Join(e.dir, t.name))
	if err != nil {
		return r.fail(fmt.Errorf("load: %w", err))
	}
	ti := f.col(t.target)
	if ti < 0 {
		return r.fail(fmt.Errorf("no target column %s", t.target))
	}
	if f.test == nil {
		f.splitRows(t.target, t.problem != "REGRESSION", e.opt.seed)
	}
	ntrain, ntest := f.counts()
	r.rows = fmt.Sprintf("%d/%d", ntrain, ntest)
	if err := loadFrame(ctx, e.db, t.table, f, 1000); err != nil {
		return r.fail(err)
	}
	var features []string
	for _, c := range f.cols {
		if c.name != t.target {
			features = append(features, c.name)
		}
	}
	fn := "predict_" + t.table
	stmt := fmt.Sprintf("CREATE MODEL %s FROM (SELECT %s, %s FROM %s WHERE `split` = 'train') TARGET %s FUNCTION %s PROBLEM_TYPE %s OBJECTIVE '%s' SETTINGS (MAX_RUNTIME %d)",
		quote(t.table+"_model"), quoteList(features), quote(t.target), quote(t.table), quote(t.target),
		fn, t.problem, t.objective, e.maxRuntime(t))
	tr, err := trainModel(ctx, e.db, t.table+"_model", stmt, time.Duration(e.maxRuntime(t)+120)*time.Second)
	if tr != nil {
		r.model = tr.info
		r.trainSecs = tr.seconds()
		if c := tr.info.get("Chosen Candidate"); c != "" {
			r.chosen = c
		}
	}
	if err != nil {
		return r.fail(err)
	}
	if tr.state != "READY" {
		return r.fail(fmt.Errorf("model %s: %s: %s", t.table+"_model", tr.state, tr.info.get("Failure Reason")))
	}

	// Predict the test rows.
	args := quoteList(features)
	q := fmt.Sprintf("SELECT %s, %s(%s) FROM %s WHERE `split` = 'test' ORDER BY `id`", quote(t.target), fn, args, quote(t.table))
	if t.metric == metricAUC {
		q = fmt.Sprintf("SELECT %s, %s_prob(%s) FROM %s WHERE `split` = 'test' ORDER BY `id`", quote(t.target), fn, args, quote(t.table))
	}
	truth, pred, err := queryPairs(ctx, e.db, q)
	if err != nil {
		return r.fail(fmt.Errorf("predict: %w", err))
	}
	var trainLabels []string
	var trainValues []float64
	for i, row := range f.rows {
		if !f.test[i] {
			trainLabels = append(trainLabels, label(row[ti]))
			if v, ok := row[ti].(float64); ok {
				trainValues = append(trainValues, v)
			}
		}
	}

	var value float64
	higher := true
	switch t.metric {
	case metricAccuracy, metricF1:
		p := make([]string, len(pred))
		nulls := 0
		for i, v := range pred {
			if v == nil {
				nulls++
				continue
			}
			p[i] = normalizeLabel(*v, f.cols[ti].kind)
		}
		if nulls > 0 {
			r.notes = append(r.notes, fmt.Sprintf("%d of %d predictions were NULL (counted as wrong)", nulls, len(pred)))
		}
		tl := derefAll(truth, f.cols[ti].kind)
		if t.metric == metricF1 {
			value = f1(tl, p, t.positive)
		} else {
			value = accuracy(tl, p)
			maj := mostCommon(trainLabels)
			constant := make([]string, len(tl))
			for i := range constant {
				constant[i] = maj
			}
			r.baseline = fmt.Sprintf("%s (majority)", fmtNum(accuracy(tl, constant)))
		}
	case metricRMSE:
		higher = false
		tv, pv, err := floats(truth, pred)
		if err != nil {
			return r.fail(fmt.Errorf("predictions: %w", err))
		}
		value = rmse(tv, pv)
		m := mean(trainValues)
		constant := make([]float64, len(tv))
		for i := range constant {
			constant[i] = m
		}
		r.baseline = fmt.Sprintf("%s (train mean)", fmtNum(rmse(tv, constant)))
	case metricAUC:
		tv, pv, err := floats(truth, pred)
		if err != nil {
			return r.fail(fmt.Errorf("predictions: %w", err))
		}
		pos := make([]bool, len(tv))
		for i, v := range tv {
			pos[i] = label(v) == t.positive
		}
		value = auc(pos, pv)
		r.baseline = "0.5000 (constant)"
	}
	r.value = fmtNum(value)

	goal := t.goal
	if t.xgbBaseline {
		b, err := xgbBaseline(ctx, f, t)
		switch {
		case err != nil:
			r.baseline = "n/a (xgboost)"
			r.notes = append(r.notes, "xgboost baseline: "+err.Error())
			goal = math.NaN()
		default:
			r.baseline = fmt.Sprintf("%s (xgboost defaults)", fmtNum(b))
			goal = b
		}
	}
	switch {
	case math.IsNaN(value):
		r.status = "FAIL"
	case math.IsNaN(goal):
		r.status = "n/a"
	case higher && value >= goal, !higher && value <= goal:
		r.status = "PASS"
	default:
		r.status = "FAIL"
	}
	if t.maxTrain > 0 && r.trainSecs > t.maxTrain {
		r.status = "FAIL"
		r.notes = append(r.notes, fmt.Sprintf("training took %.1f s, more than %.0f s", r.trainSecs, t.maxTrain))
	}
	return r
}

// normalizeLabel renders a predicted label like label() renders the
// truth, so that numeric labels compare equal ("1" vs "1.0").
func normalizeLabel(s string, k kind) string {
	if k == numeric || k == integer {
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return label(v)
		}
	}
	return s
}

// queryPairs runs a two-column query and returns both columns as
// strings (nil for NULL).
func queryPairs(ctx context.Context, db *sql.DB, q string) (a, b []*string, err error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var x, y sql.NullString
		if err := rows.Scan(&x, &y); err != nil {
			return nil, nil, err
		}
		a, b = append(a, nullable(x)), append(b, nullable(y))
	}
	return a, b, rows.Err()
}

func nullable(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

// derefAll normalizes labels of kind k, turning NULLs into "".
func derefAll(v []*string, k kind) []string {
	out := make([]string, len(v))
	for i, s := range v {
		if s != nil {
			out[i] = normalizeLabel(*s, k)
		}
	}
	return out
}

// floats parses the truth and prediction columns as numbers.
func floats(truth, pred []*string) ([]float64, []float64, error) {
	tv, pv := make([]float64, len(truth)), make([]float64, len(pred))
	for i := range truth {
		if truth[i] == nil || pred[i] == nil {
			return nil, nil, fmt.Errorf("row %d: NULL value or prediction", i+1)
		}
		var err error
		if tv[i], err = strconv.ParseFloat(*truth[i], 64); err != nil {
			return nil, nil, fmt.Errorf("row %d: %w", i+1, err)
		}
		if pv[i], err = strconv.ParseFloat(*pred[i], 64); err != nil {
			return nil, nil, fmt.Errorf("row %d: %w", i+1, err)
		}
	}
	return tv, pv, nil
}

// runAnomaly trains a RANDOM_CUT_FOREST model on the NYC taxi series
// (value and minute of day) and counts the labelled anomaly windows that
// contain at least one of the 20 highest-scoring points.
func runAnomaly(ctx context.Context, e *env, t *task) *result {
	const top = 20
	r := newResult(t)
	dir := filepath.Join(e.dir, t.name)
	f, err := t.load(dir)
	if err != nil {
		return r.fail(fmt.Errorf("load: %w", err))
	}
	windows, err := loadTaxiWindows(dir)
	if err != nil {
		return r.fail(fmt.Errorf("load windows: %w", err))
	}
	r.rows = fmt.Sprintf("%d/-", len(f.rows))
	r.target = fmt.Sprintf(">= %.0f/%d", t.goal, len(windows))
	if err := loadFrame(ctx, e.db, t.table, f, 1000); err != nil {
		return r.fail(err)
	}
	const minute = "HOUR(`ts`) * 60 + MINUTE(`ts`)"
	fn := "anomaly_" + t.table
	stmt := fmt.Sprintf("CREATE MODEL %s FROM (SELECT `value`, %s AS `minute_of_day` FROM %s) FUNCTION %s AUTO OFF MODEL_TYPE RANDOM_CUT_FOREST SETTINGS (MAX_RUNTIME %d)",
		quote(t.table+"_model"), minute, quote(t.table), fn, e.maxRuntime(t))
	tr, err := trainModel(ctx, e.db, t.table+"_model", stmt, time.Duration(e.maxRuntime(t)+120)*time.Second)
	if tr != nil {
		r.model = tr.info
		r.trainSecs = tr.seconds()
		r.chosen = "random_cut_forest"
		if mt := tr.info.get("Model Type"); mt != "" {
			r.chosen = mt
		}
	}
	if err != nil {
		return r.fail(err)
	}
	if tr.state != "READY" {
		return r.fail(fmt.Errorf("model %s: %s: %s", t.table+"_model", tr.state, tr.info.get("Failure Reason")))
	}
	q := fmt.Sprintf("SELECT `id`, %s(`value`, %s) FROM %s ORDER BY `id`", fn, minute, quote(t.table))
	ids, scores, err := queryPairs(ctx, e.db, q)
	if err != nil {
		return r.fail(fmt.Errorf("score: %w", err))
	}
	idv, sv, err := floats(ids, scores)
	if err != nil {
		return r.fail(fmt.Errorf("scores: %w", err))
	}
	times := make([]time.Time, len(idv))
	for i, id := range idv {
		times[i] = f.rows[int(id)][0].(time.Time)
	}
	hit, hits := windowsHit(times, sv, windows, top)
	r.value = fmt.Sprintf("%d/%d", hit, len(windows))
	r.notes = append(r.notes, "top-20 points per window: "+hits)

	// Baseline: the 20 largest |z-scores| of the raw value.
	vals := make([]float64, len(f.rows))
	for i, row := range f.rows {
		vals[i] = row[1].(float64)
	}
	m, sd := mean(vals), 0.0
	for _, v := range vals {
		sd += (v - m) * (v - m)
	}
	sd = math.Sqrt(sd / float64(len(vals)))
	z := make([]float64, len(vals))
	ts := make([]time.Time, len(vals))
	for i, v := range vals {
		z[i] = math.Abs(v-m) / sd
		ts[i] = f.rows[i][0].(time.Time)
	}
	bhit, _ := windowsHit(ts, z, windows, top)
	r.baseline = fmt.Sprintf("%d/%d (|z| of value)", bhit, len(windows))
	r.status = "FAIL"
	if float64(hit) >= t.goal {
		r.status = "PASS"
	}
	return r
}

// windowsHit counts the windows holding at least one of the top highest
// scores and describes how many top points each window got.
func windowsHit(times []time.Time, scores []float64, windows []window, top int) (int, string) {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	if len(idx) > top {
		idx = idx[:top]
	}
	per := make([]int, len(windows))
	outside := 0
	for _, i := range idx {
		in := false
		for w, win := range windows {
			if !times[i].Before(win.start) && !times[i].After(win.end) {
				per[w]++
				in = true
			}
		}
		if !in {
			outside++
		}
	}
	hit := 0
	parts := make([]string, len(windows))
	for w, n := range per {
		if n > 0 {
			hit++
		}
		parts[w] = fmt.Sprintf("%s: %d", windows[w].start.Format("2006-01-02"), n)
	}
	return hit, strings.Join(parts, ", ") + fmt.Sprintf(", outside any window: %d", outside)
}

// printResults prints the table, then notes and SHOW MODEL of failures.
// With verbose, SHOW MODEL of every model is printed.
func printResults(results []*result, verbose bool) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "dataset\trows train/test\tproblem\ttrain s\tchosen candidate\tmetric\tSibylDB\ttarget\tbaseline\tresult")
	for _, r := range results {
		secs := "-"
		if !math.IsNaN(r.trainSecs) {
			secs = fmt.Sprintf("%.1f", r.trainSecs)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.dataset, r.rows, r.problem, secs,
			r.chosen, r.metric, r.value, r.target, r.baseline, r.status)
	}
	w.Flush()
	for _, r := range results {
		showModel := r.model != nil && (verbose || r.status != "PASS")
		if len(r.notes) == 0 && !showModel {
			continue
		}
		fmt.Printf("\n%s (%s):\n", r.dataset, r.status)
		for _, n := range r.notes {
			fmt.Printf("  note: %s\n", n)
		}
		if showModel {
			fmt.Printf("  SHOW MODEL:\n%s", r.model)
		}
	}
}
