package e2e

import (
	"database/sql"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// churnFeatures are the feature columns of the Larose telecom churn data as
// loaded by loadChurn (Phone, an identifier, is left out).
var churnFeatures = []string{"state", "account_length", "area_code", "intl_plan", "vmail_plan", "vmail_message",
	"day_mins", "day_calls", "day_charge", "eve_mins", "eve_calls", "eve_charge", "night_mins", "night_calls",
	"night_charge", "intl_mins", "intl_calls", "intl_charge", "custserv_calls"}

// loadChurn loads the shared 3333-row churn file into table churn of db
// (columns id, churnFeatures..., churn); rows with id % 5 = 0 are the test
// split.
func loadChurn(t *testing.T, db *sql.DB) {
	t.Helper()
	const path = "/work/shared/datasets/churn_telecom_larose_3333/churn_3333.txt"
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("churn dataset not present: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs[0], 21)
	mustExec(t, db, `CREATE TABLE churn (id INT PRIMARY KEY, state VARCHAR(2), account_length INT, area_code INT,
		intl_plan VARCHAR(3), vmail_plan VARCHAR(3), vmail_message INT, day_mins DOUBLE, day_calls INT, day_charge DOUBLE,
		eve_mins DOUBLE, eve_calls INT, eve_charge DOUBLE, night_mins DOUBLE, night_calls INT, night_charge DOUBLE,
		intl_mins DOUBLE, intl_calls INT, intl_charge DOUBLE, custserv_calls INT, churn VARCHAR(6))`)
	var sb strings.Builder
	for i, r := range recs[1:] {
		if sb.Len() == 0 {
			sb.WriteString("INSERT INTO churn VALUES ")
		} else {
			sb.WriteByte(',')
		}
		// Every column but Phone (index 3).
		vals := append(append([]string{}, r[:3]...), r[4:]...)
		fmt.Fprintf(&sb, "(%d", i)
		for _, v := range vals {
			fmt.Fprintf(&sb, ",'%s'", v)
		}
		sb.WriteByte(')')
		if (i+1)%1000 == 0 || i == len(recs)-2 {
			mustExec(t, db, sb.String())
			sb.Reset()
		}
	}
}

// driftRow is one row of SHOW MODEL ... DRIFT.
type driftRow struct {
	kind  string
	psi   sql.NullFloat64
	level string
	rows  int64
}

func showDrift(t *testing.T, db *sql.DB, q string) map[string]driftRow {
	t.Helper()
	rows, err := db.Query(q)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]driftRow{}
	for rows.Next() {
		var name string
		var r driftRow
		var since sql.NullString
		require.NoError(t, rows.Scan(&name, &r.kind, &r.psi, &r.level, &r.rows, &since))
		out[name] = r
	}
	require.NoError(t, rows.Err())
	return out
}

// TestModelDriftAndEvaluate trains on the churn data, scores the held-out
// rows unchanged (every PSI below 0.1) and then a copy with day_mins
// doubled (its PSI above 0.25, the other features' below 0.1), and checks
// EVALUATE MODEL against metrics computed here from the predictions.
func TestModelDriftAndEvaluate(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("", "multiStatements=true")
	mustExec(t, root, "CREATE DATABASE ml")
	db := srv.DB("ml", "multiStatements=true")
	loadChurn(t, db)
	// Sample every row in one-second buckets, so the test knows the counts
	// and can look at the rows scored since a time a second ago.
	mustExec(t, root, "SET GLOBAL sibyl_drift_sample_rate = 1", "SET GLOBAL sibyl_drift_bucket_seconds = 1")

	cols := strings.Join(churnFeatures, ", ")
	mustExec(t, db, "CREATE MODEL churn_m FROM (SELECT "+cols+", churn FROM churn WHERE id % 5 <> 0) "+
		"TARGET churn FUNCTION churn_fn MODEL_TYPE XGBOOST SETTINGS (MAX_RUNTIME 300)")
	require.Equal(t, "READY", waitModel(t, db, "churn_m")["Model State"])

	before := showDrift(t, db, "SHOW MODEL churn_m DRIFT")
	require.Len(t, before, len(churnFeatures)+1, "every feature and the prediction")
	for name, r := range before {
		require.Zero(t, r.rows, name)
		require.False(t, r.psi.Valid, "%s: no PSI before scoring", name)
		require.Equal(t, "no data", r.level)
	}

	// Score the held-out rows unchanged.
	testRows := queryInt(t, db, "SELECT COUNT(*) FROM churn WHERE id % 5 = 0")
	var results []scoredRow
	rows, err := db.Query("SELECT churn, churn_fn(" + cols + "), churn_fn_prob(" + cols + ") FROM churn WHERE id % 5 = 0")
	require.NoError(t, err)
	for rows.Next() {
		var s scoredRow
		require.NoError(t, rows.Scan(&s.label, &s.pred, &s.prob))
		results = append(results, s)
	}
	require.NoError(t, rows.Err())
	require.Len(t, results, int(testRows))

	stable := showDrift(t, db, "SHOW MODEL churn_m DRIFT")
	for _, f := range churnFeatures {
		r := stable[f]
		// churn_fn and churn_fn_prob both sample the features.
		require.EqualValues(t, 2*testRows, r.rows, f)
		require.True(t, r.psi.Valid, f)
		require.Lessf(t, r.psi.Float64, 0.1, "%s: PSI of the unshifted test rows", f)
		require.Equal(t, "stable", r.level, f)
	}
	require.Equal(t, "prediction", stable["prediction"].kind)
	require.EqualValues(t, testRows, stable["prediction"].rows, "only the prediction function samples the prediction")
	require.Less(t, stable["prediction"].psi.Float64, 0.1)

	// Score a copy with day_mins doubled, after a point in time.
	time.Sleep(1100 * time.Millisecond)
	var since string
	require.NoError(t, db.QueryRow("SELECT DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f')").Scan(&since))
	time.Sleep(1100 * time.Millisecond)
	mustExec(t, db, "CREATE TABLE churn_shifted AS SELECT * FROM churn WHERE id % 5 = 0", "UPDATE churn_shifted SET day_mins = day_mins * 2")
	require.EqualValues(t, testRows, queryInt(t, db, "SELECT COUNT(churn_fn("+cols+")) FROM churn_shifted"))

	shifted := showDrift(t, db, "SHOW MODEL churn_m DRIFT SINCE '"+since+"'")
	for _, f := range churnFeatures {
		r := shifted[f]
		require.EqualValues(t, testRows, r.rows, "%s: only the rows scored since %s", f, since)
		if f == "day_mins" {
			require.Greaterf(t, r.psi.Float64, 0.25, "PSI of the doubled feature")
			require.Equal(t, "significant", r.level)
			continue
		}
		require.Lessf(t, r.psi.Float64, 0.1, "%s is unchanged in the copy", f)
	}

	// Without SINCE: everything retained, and the same in the table.
	all := showDrift(t, db, "SHOW MODEL churn_m DRIFT")
	require.EqualValues(t, 3*testRows, all["day_mins"].rows)
	info, err := db.Query("SELECT feature, kind, psi, drift, sampled_rows FROM information_schema.MODEL_DRIFT WHERE model_schema = 'ml' AND model_name = 'churn_m'")
	require.NoError(t, err)
	n, maxPSI := 0, 0.0
	for info.Next() {
		var name, kind, level string
		var psi float64
		var sampled int64
		require.NoError(t, info.Scan(&name, &kind, &psi, &level, &sampled))
		require.Equal(t, all[name].kind, kind, name)
		require.InDelta(t, all[name].psi.Float64, psi, 1e-12, name)
		require.Equal(t, all[name].rows, sampled, name)
		maxPSI = math.Max(maxPSI, psi)
		n++
	}
	require.NoError(t, info.Err())
	require.Equal(t, len(churnFeatures)+1, n)
	st := globalStatus(t, root, "Sibyl_model_drift%")
	require.EqualValues(t, 3*testRows, st["Sibyl_model_drift_sampled_rows"], "rows sampled by churn_fn and churn_fn_prob over the test rows and churn_fn over the copy")
	require.InDelta(t, math.Round(maxPSI*1000), st["Sibyl_model_drift_max_psi_milli"], 1, "largest PSI of the last hour, in thousandths")

	// EVALUATE MODEL matches the metrics of the predictions.
	got := evaluate(t, db, "EVALUATE MODEL churn_m ON (SELECT * FROM churn WHERE id % 5 = 0)")
	want := classificationMetrics(t, results, "True.")
	for name, v := range want {
		require.Contains(t, got, name)
		require.InDeltaf(t, v, got[name], 1e-9, "%s", name)
	}
	require.EqualValues(t, testRows, got["rows"])
	require.Greater(t, got["accuracy"], 0.85, "a useful model")
	t.Logf("PSI unshifted: day_mins %.4f, prediction %.4f; shifted: day_mins %.4f; max %.4f; metrics %v",
		stable["day_mins"].psi.Float64, stable["prediction"].psi.Float64, shifted["day_mins"].psi.Float64, maxPSI, got)

	// EVALUATE needs what predicting needs, and reads the query as the
	// caller: EXECUTE on the model and SELECT on the query's tables.
	mustExec(t, root, "CREATE USER runner IDENTIFIED BY 'pw'", "GRANT EXECUTE ON MODEL ml.churn_m TO runner",
		"CREATE USER reader IDENTIFIED BY 'pw'", "GRANT SELECT ON ml.churn TO reader",
		"CREATE USER both_ IDENTIFIED BY 'pw'", "GRANT SELECT ON ml.churn TO both_", "GRANT EXECUTE ON MODEL ml.churn_m TO both_")
	for _, tc := range []struct {
		user string
		code uint16
	}{{"runner", 1142}, {"reader", 1370}, {"both_", 0}} {
		t.Run("evaluate as "+tc.user, func(t *testing.T) {
			conn := srv.Open(srv.DSN(tc.user, "pw", "ml"))
			_, err := conn.Exec("EVALUATE MODEL churn_m ON (SELECT * FROM churn WHERE id % 5 = 0)")
			if tc.code == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			num, _ := mysqlErr(t, err)
			require.EqualValues(t, tc.code, num, "%v", err)
		})
	}
	_, err = db.Exec("EVALUATE MODEL churn_m ON (SELECT state FROM churn)")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1054, num, "the target column is missing: %v", err)

	// The training distributions survive a restart (the sampled counts,
	// kept in memory, start again), and go with the model.
	srv.Restart()
	root, db = srv.DB("", "multiStatements=true"), srv.DB("ml", "multiStatements=true")
	mustExec(t, root, "SET GLOBAL sibyl_drift_sample_rate = 1")
	require.Zero(t, showDrift(t, db, "SHOW MODEL churn_m DRIFT")["day_mins"].rows)
	require.EqualValues(t, testRows, queryInt(t, db, "SELECT COUNT(churn_fn("+cols+")) FROM churn_shifted"))
	again := showDrift(t, db, "SHOW MODEL churn_m DRIFT")
	require.InDelta(t, shifted["day_mins"].psi.Float64, again["day_mins"].psi.Float64, 1e-9, "the same baseline after the restart")
	require.EqualValues(t, 1, queryInt(t, root, "SELECT COUNT(*) FROM sibyl.catalog_objects WHERE kind = 'model_drift' AND name LIKE 'ml.churn_m@%'"))
	mustExec(t, db, "DROP MODEL churn_m")
	require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM sibyl.catalog_objects WHERE kind = 'model_drift'"))
	_, err = db.Exec("SHOW MODEL churn_m DRIFT")
	require.Error(t, err)
}

// scoredRow is a test row's label, prediction and P(positive class).
type scoredRow struct {
	label, pred string
	prob        float64
}

// evaluate runs EVALUATE MODEL and returns its metrics.
func evaluate(t *testing.T, db *sql.DB, q string) map[string]float64 {
	t.Helper()
	rows, err := db.Query(q)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var name string
		var v sql.NullFloat64
		require.NoError(t, rows.Scan(&name, &v))
		out[name] = v.Float64
	}
	require.NoError(t, rows.Err())
	return out
}

// classificationMetrics computes accuracy, precision, recall, F1, AUC and
// log loss of binary predictions, positive being the given label.
func classificationMetrics(t *testing.T, results []scoredRow, positive string) map[string]float64 {
	t.Helper()
	var tp, fp, fn, ok, logLoss float64
	type scoredLabel struct {
		p   float64
		pos bool
	}
	var ranked []scoredLabel
	for _, r := range results {
		pos := r.label == positive
		if r.pred == r.label {
			ok++
		}
		switch {
		case r.pred == positive && pos:
			tp++
		case r.pred == positive:
			fp++
		case pos:
			fn++
		}
		p := r.prob
		if !pos {
			p = 1 - p
		}
		logLoss -= math.Log(math.Min(math.Max(p, 1e-15), 1-1e-15))
		ranked = append(ranked, scoredLabel{r.prob, pos})
	}
	// AUC: the probability that a positive outranks a negative, ties half,
	// counted over all pairs.
	var pairs, wins float64
	for _, a := range ranked {
		if !a.pos {
			continue
		}
		for _, b := range ranked {
			if b.pos {
				continue
			}
			pairs++
			switch {
			case a.p > b.p:
				wins++
			case a.p == b.p:
				wins += 0.5
			}
		}
	}
	n := float64(len(results))
	return map[string]float64{
		"accuracy":  ok / n,
		"precision": tp / (tp + fp),
		"recall":    tp / (tp + fn),
		"f1":        2 * tp / (2*tp + fp + fn),
		"auc":       wins / pairs,
		"log_loss":  logLoss / n,
	}
}

// TestModelDriftFollowsTheDeployedVersion: a retrained version brings its
// own training distributions, and the rows scored while it is deployed
// are measured against them.
func TestModelDriftFollowsTheDeployedVersion(t *testing.T) {
	srv, db := modelSetup(t, 600)
	mustExec(t, srv.DB(""), "SET GLOBAL sibyl_drift_sample_rate = 1")
	mustExec(t, db, `CREATE MODEL dv FROM (SELECT spend, calls, churn FROM customers) TARGET churn FUNCTION dv_fn
		AUTO OFF MODEL_TYPE XGBOOST SETTINGS (DEPLOY_POLICY 'most_recent')`)
	require.Equal(t, "READY", waitModel(t, db, "dv")["Model State"])
	mustExec(t, db, "UPDATE customers SET spend = spend * 3")
	mustExec(t, db, "ALTER MODEL dv RETRAIN")
	require.Equal(t, "READY", waitVersion(t, db, "dv", 2)["State"])
	require.Equal(t, "2", deployedVersion(t, db, "dv"))
	since := queryString(t, db, "SELECT DATE_FORMAT(NOW() - INTERVAL 1 SECOND, '%Y-%m-%d %H:%i:%s')")
	require.EqualValues(t, 600, queryInt(t, db, "SELECT COUNT(dv_fn(spend, calls)) FROM customers"))
	drift := showDrift(t, db, "SHOW MODEL dv DRIFT SINCE '"+since+"'")
	require.Contains(t, drift, "spend")
	require.EqualValues(t, 600, drift["spend"].rows, "every scored row was sampled against version 2's distributions")
	require.True(t, drift["spend"].psi.Valid)
	require.Less(t, drift["spend"].psi.Float64, 0.1, "the tripled spend is version 2's training data: no drift")
}
