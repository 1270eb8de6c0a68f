package main

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sibyldb/sibyldb/bench/internal/benchserver"
)

// Prediction-throughput mode (--predict-rows N).
const (
	predictTrainRows  = 20000  // rows the model is trained on
	predictGoal       = 300000 // rows/s SELECT SUM(fn(...)) should reach
	predictInsertRows = 5000   // rows per multi-row INSERT
	predictProbeRows  = 100000 // rows each load method loads to compare them
	predictCTEChunk   = 100000 // rows per INSERT ... SELECT of the CTE method
)

// featureMul, featureAdd and featureMod define feature k of row n as
// (n*featureMul[k] + featureAdd[k]) mod featureMod[k], an integer that both
// load methods compute exactly, so they produce identical features. The
// moduli are distinct primes near 10^6, so no two of the first 10^6 rows
// share a feature tuple: the server computes each distinct argument tuple
// of a statement once, and repeated tuples would inflate the throughput.
var (
	featureMul = []int64{7919, 6007, 5003, 4001, 3001, 2003, 1009, 8009, 9001, 557}
	featureAdd = []int64{0, 101, 202, 303, 404, 505, 606, 707, 808, 909}
	featureMod = []int64{1000003, 999983, 999979, 999961, 999959, 999953, 999931, 999917, 999907, 999883}
)

// featureNames are f1..f10.
var featureNames = func() []string {
	out := make([]string, len(featureMul))
	for i := range out {
		out[i] = "f" + strconv.Itoa(i+1)
	}
	return out
}()

// synthTarget is the regression target: a mix of linear terms and one
// interaction, the same formula as synthTargetSQL.
func synthTarget(f []float64) float64 {
	return f[0] + 2*f[1] - f[2] + f[3]*f[4]/1e6
}

const synthTargetSQL = "f1 + 2*f2 - f3 + f4*f5/1000000"

// synthDDL creates a table for the synthetic rows.
func synthDDL(table string) string {
	cols := make([]string, len(featureNames))
	for i, n := range featureNames {
		cols[i] = quote(n) + " DOUBLE"
	}
	return "CREATE TABLE " + quote(table) + " (`id` BIGINT PRIMARY KEY, " + strings.Join(cols, ", ") + ", `y` DOUBLE)"
}

// loadByInserts fills table with rows 0..n-1 by multi-row INSERTs built
// in Go.
func loadByInserts(ctx context.Context, db *sql.DB, table string, n int) error {
	var sb strings.Builder
	f := make([]float64, len(featureMul))
	for lo := 0; lo < n; lo += predictInsertRows {
		sb.Reset()
		sb.WriteString("INSERT INTO " + quote(table) + " VALUES ")
		for i := lo; i < lo+predictInsertRows && i < n; i++ {
			if i > lo {
				sb.WriteByte(',')
			}
			sb.WriteString("(" + strconv.Itoa(i))
			for k := range f {
				f[k] = float64((int64(i)*featureMul[k] + featureAdd[k]) % featureMod[k])
				sb.WriteString("," + strconv.FormatFloat(f[k], 'f', -1, 64))
			}
			sb.WriteString("," + strconv.FormatFloat(synthTarget(f), 'g', -1, 64) + ")")
		}
		if _, err := db.ExecContext(ctx, sb.String()); err != nil {
			return fmt.Errorf("insert rows %d..: %w", lo, err)
		}
	}
	return nil
}

// loadByCTE fills table with rows 0..n-1 by INSERT ... SELECT statements
// over a recursive CTE. GMS stops recursion at 1000 iterations (and
// ignores cte_max_recursion_depth), so the CTE counts to 999 and a cross
// join of two copies makes the row numbers; each statement adds up to
// predictCTEChunk rows.
func loadByCTE(ctx context.Context, db *sql.DB, table string, n int) error {
	feats := make([]string, len(featureMul))
	for k := range feats {
		feats[k] = fmt.Sprintf("(s.n * %d + %d) %% %d AS %s", featureMul[k], featureAdd[k], featureMod[k], quote(featureNames[k]))
	}
	for base := 0; base < n; base += predictCTEChunk {
		q := fmt.Sprintf(`INSERT INTO %s SELECT n, %s, %s FROM (
  SELECT s.n, %s FROM (
    WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 999)
    SELECT %d + a.n * 1000 + b.n AS n FROM k a CROSS JOIN k b WHERE a.n < %d AND %d + a.n * 1000 + b.n < %d
  ) s
) g`, quote(table), quoteList(featureNames), synthTargetSQL, strings.Join(feats, ", "),
			base, predictCTEChunk/1000, base, n)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("insert ... select rows %d..: %w", base, err)
		}
	}
	return nil
}

// loadMethod is one way of loading the synthetic table.
type loadMethod struct {
	name string
	load func(ctx context.Context, db *sql.DB, table string, n int) error
	rate float64 // rows/s in the probe; 0 when it failed
	err  error
}

// median returns the median of v (v is reordered).
func median(v []float64) float64 {
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// timing is the outcome of timeQuery.
type timing struct {
	median float64   // seconds
	runs   []float64 // seconds of each run, in order
	value  float64   // the query's result (last run)
}

// String lists the runs.
func (t timing) String() string {
	parts := make([]string, len(t.runs))
	for i, s := range t.runs {
		parts[i] = fmt.Sprintf("%.2f", s)
	}
	return strings.Join(parts, "/") + " s"
}

// timeQuery runs a one-value query runs times and returns the median
// duration and the last value.
func timeQuery(ctx context.Context, db *sql.DB, q string, runs int) (timing, error) {
	var t timing
	var v sql.NullFloat64
	for i := 0; i < runs; i++ {
		start := time.Now()
		if err := db.QueryRowContext(ctx, q).Scan(&v); err != nil {
			return t, fmt.Errorf("%s: %w", q, err)
		}
		t.runs = append(t.runs, time.Since(start).Seconds())
	}
	t.median = median(append([]float64(nil), t.runs...))
	t.value = v.Float64
	return t, nil
}

// timeWrite runs a statement that creates table runs times (dropping it
// after each run) and returns the median time and check's value over the
// last run's table.
func timeWrite(ctx context.Context, db *sql.DB, stmt, check, table string, runs int) (timing, error) {
	var t timing
	for i := 0; i < runs; i++ {
		start := time.Now()
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return t, fmt.Errorf("%s: %w", stmt, err)
		}
		t.runs = append(t.runs, time.Since(start).Seconds())
		var v sql.NullFloat64
		if err := db.QueryRowContext(ctx, check).Scan(&v); err != nil {
			return t, fmt.Errorf("%s: %w", check, err)
		}
		t.value = v.Float64
		if _, err := db.ExecContext(ctx, "DROP TABLE "+quote(table)); err != nil {
			return t, fmt.Errorf("drop %s: %w", table, err)
		}
	}
	t.median = median(append([]float64(nil), t.runs...))
	return t, nil
}

// runPredict measures prediction throughput through SQL and prints a
// table: load rates, training time, the plain scan rate and the
// SELECT SUM(fn(f1..f10)) rate against the 300k rows/s target.
func runPredict(o options) error {
	n := o.predictRows
	if n < predictTrainRows {
		return fmt.Errorf("--predict-rows must be at least %d (the training rows)", predictTrainRows)
	}
	srv, err := benchserver.Start(o.sibyldb)
	if err != nil {
		return err
	}
	defer srv.Stop()
	db, err := srv.OpenNew("mlbench")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()

	// Compare the load methods on a probe table each, then load the
	// full table with the faster one.
	methods := []*loadMethod{
		{name: fmt.Sprintf("multi-row INSERT (%d rows/statement)", predictInsertRows), load: loadByInserts},
		{name: fmt.Sprintf("INSERT ... SELECT over a recursive CTE (%d rows/statement)", predictCTEChunk), load: loadByCTE},
	}
	probe := min(n, predictProbeRows)
	var best *loadMethod
	for i, m := range methods {
		table := fmt.Sprintf("probe%d", i)
		if _, err := db.ExecContext(ctx, synthDDL(table)); err != nil {
			return fmt.Errorf("create %s: %w", table, err)
		}
		logf("load probe: %s, %d rows...", m.name, probe)
		start := time.Now()
		if m.err = m.load(ctx, db, table, probe); m.err == nil {
			m.rate = float64(probe) / time.Since(start).Seconds()
			if best == nil || m.rate > best.rate {
				best = m
			}
		} else {
			logf("load probe: %s: %v", m.name, m.err)
		}
		if _, err := db.ExecContext(ctx, "DROP TABLE "+quote(table)); err != nil {
			return fmt.Errorf("drop %s: %w", table, err)
		}
	}
	if best == nil {
		return fmt.Errorf("no load method worked: %v; %v", methods[0].err, methods[1].err)
	}
	if _, err := db.ExecContext(ctx, synthDDL("synth")); err != nil {
		return fmt.Errorf("create synth: %w", err)
	}
	logf("loading %d rows with %s...", n, best.name)
	start := time.Now()
	if err := best.load(ctx, db, "synth", n); err != nil {
		return fmt.Errorf("load synth: %w", err)
	}
	loadSecs := time.Since(start).Seconds()

	logf("training XGBoost (100 rounds) on %d rows...", predictTrainRows)
	args := quoteList(featureNames)
	stmt := fmt.Sprintf("CREATE MODEL `synth_model` FROM (SELECT %s, `y` FROM `synth` WHERE `id` < %d) TARGET `y` FUNCTION synth_fn PROBLEM_TYPE REGRESSION AUTO OFF MODEL_TYPE XGBOOST HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '100')",
		args, predictTrainRows)
	tr, err := trainModel(ctx, db, "synth_model", stmt, 10*time.Minute)
	if err != nil {
		return err
	}
	if tr.state != "READY" {
		return fmt.Errorf("synth_model %s: %s\n%s", tr.state, tr.info.get("Failure Reason"), tr.info)
	}

	logf("timing the scan and the predictions (median of 3)...")
	scan1, err := timeQuery(ctx, db, "SELECT SUM(f1) FROM `synth`", 3)
	if err != nil {
		return err
	}
	scan, err := timeQuery(ctx, db, "SELECT SUM(f1+f2+f3+f4+f5+f6+f7+f8+f9+f10) FROM `synth`", 3)
	if err != nil {
		return err
	}
	pred, err := timeQuery(ctx, db, "SELECT SUM(synth_fn("+args+")) FROM `synth`", 3)
	if err != nil {
		return err
	}
	// HeatWave's ML_PREDICT_ROW over the same rows, the CREATE MODEL model
	// used by its handle db.name.
	pairs := make([]string, len(featureNames))
	for i, f := range featureNames {
		pairs[i] = "'" + f + "', " + quote(f)
	}
	hwQuery := "SELECT SUM(JSON_EXTRACT(sys.ML_PREDICT_ROW(JSON_OBJECT(" + strings.Join(pairs, ", ") + "), 'mlbench.synth_model', NULL), '$.Prediction')) FROM `synth`"
	hw, err := timeQuery(ctx, db, hwQuery, 3)
	if err != nil {
		return err
	}
	// ML_PREDICT_TABLE writes every row with its prediction and an
	// ml_results document to a new table; CREATE TABLE ... AS SELECT of
	// the model's function is the same scoring with a smaller write.
	predTable, err := timeWrite(ctx, db, "CALL sys.ML_PREDICT_TABLE('mlbench.synth', 'mlbench.synth_model', 'mlbench.synth_pred', NULL)",
		"SELECT SUM(`Prediction`) FROM `synth_pred`", "synth_pred", 3)
	if err != nil {
		return err
	}
	ctas, err := timeWrite(ctx, db, "CREATE TABLE `synth_ctas` AS SELECT `id`, synth_fn("+args+") AS `p` FROM `synth`",
		"SELECT SUM(`p`) FROM `synth_ctas`", "synth_ctas", 3)
	if err != nil {
		return err
	}
	var sumY float64
	if err := db.QueryRowContext(ctx, "SELECT SUM(`y`) FROM `synth`").Scan(&sumY); err != nil {
		return fmt.Errorf("sum y: %w", err)
	}

	rate := float64(n) / pred.median
	status := "FAIL"
	if rate >= predictGoal {
		status = "PASS"
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "measurement\trows\ttime\tthroughput\ttarget\tresult\truns")
	for _, m := range methods {
		if m.err != nil {
			fmt.Fprintf(w, "load probe: %s\t%d\t-\tfailed: %v\t\t\n", m.name, probe, m.err)
			continue
		}
		fmt.Fprintf(w, "load probe: %s\t%d\t%.1f s\t%.0f rows/s\t\t\n", m.name, probe, float64(probe)/m.rate, m.rate)
	}
	fmt.Fprintf(w, "load synth: %s\t%d\t%.1f s\t%.0f rows/s\t\t\n", best.name, n, loadSecs, float64(n)/loadSecs)
	fmt.Fprintf(w, "CREATE MODEL XGBOOST NUM_ROUND 100 (to READY)\t%d\t%.1f s\t\t\t\n", predictTrainRows, tr.seconds())
	fmt.Fprintf(w, "SELECT SUM(f1) (scan reference, median of 3)\t%d\t%.2f s\t%.0f rows/s\t\t\t%s\n", n, scan1.median, float64(n)/scan1.median, scan1)
	fmt.Fprintf(w, "SELECT SUM(f1+...+f10) (scan reference, median of 3)\t%d\t%.2f s\t%.0f rows/s\t\t\t%s\n", n, scan.median, float64(n)/scan.median, scan)
	fmt.Fprintf(w, "SELECT SUM(synth_fn(f1..f10)) (median of 3)\t%d\t%.2f s\t%.0f rows/s\t>= %d rows/s\t%s\t%s\n", n, pred.median, rate, predictGoal, status, pred)
	hwRate := float64(n) / hw.median
	hwStatus := "FAIL"
	if hwRate >= predictGoal {
		hwStatus = "PASS"
	}
	fmt.Fprintf(w, "SELECT SUM(JSON_EXTRACT(sys.ML_PREDICT_ROW(JSON_OBJECT(f1..f10), ...), '$.Prediction')) (median of 3)\t%d\t%.2f s\t%.0f rows/s\t>= %d rows/s\t%s\t%s\n", n, hw.median, hwRate, predictGoal, hwStatus, hw)
	fmt.Fprintf(w, "CALL sys.ML_PREDICT_TABLE(synth -> new table) (median of 3)\t%d\t%.2f s\t%.0f rows/s\t\t\t%s\n", n, predTable.median, float64(n)/predTable.median, predTable)
	fmt.Fprintf(w, "CREATE TABLE AS SELECT id, synth_fn(f1..f10) (write reference, median of 3)\t%d\t%.2f s\t%.0f rows/s\t\t\t%s\n", n, ctas.median, float64(n)/ctas.median, ctas)
	w.Flush()
	for _, c := range []struct {
		what string
		v    float64
	}{{"ML_PREDICT_ROW", hw.value}, {"ML_PREDICT_TABLE", predTable.value}, {"CREATE TABLE AS SELECT", ctas.value}} {
		if math.Abs(c.v-pred.value) > 1e-6*math.Abs(pred.value)+1e-6 {
			return fmt.Errorf("%s sums to %v, the model's function to %v", c.what, c.v, pred.value)
		}
	}
	fmt.Printf("\nsanity: mean prediction %.2f, mean target %.2f; model: %s, %s\n",
		pred.value/float64(n), sumY/float64(n), tr.info.get("Model Type"), tr.info.get("Hyperparameters"))
	if o.drift {
		return runDriftCost(ctx, db, "SELECT SUM(synth_fn("+args+")) FROM `synth`", n)
	}
	return nil
}
