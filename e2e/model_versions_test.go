package e2e

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// churnPath is the shared synthetic churn data set (see its SOURCE.md).
const churnPath = "/work/shared/datasets/churn_sagemaker_synthetic/churn.txt"

// churnTrainColumns are the columns the churn models train on, the label last.
const churnTrainColumns = "account_length, intl_plan, vmail_plan, vmail_message, day_mins, day_calls, eve_mins, night_mins, intl_mins, intl_calls, custserv_calls"

// churnSetup starts a server with database ml holding table churn (id
// plus the churn file's useful columns), skipping when the shared data
// set is absent.
func churnSetup(t *testing.T, extra ...string) (*testserver.Server, *sql.DB) {
	t.Helper()
	f, err := os.Open(churnPath)
	if err != nil {
		t.Skipf("churn dataset not present: %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	srv := testserver.Start(t, extra...)
	mustExec(t, srv.DB(""), "CREATE DATABASE ml")
	db := srv.DB("ml")
	mustExec(t, db, `CREATE TABLE churn (id INT PRIMARY KEY, account_length INT, intl_plan VARCHAR(3), vmail_plan VARCHAR(3),
		vmail_message INT, day_mins DOUBLE, day_calls INT, eve_mins DOUBLE, night_mins DOUBLE, intl_mins DOUBLE,
		intl_calls INT, custserv_calls INT, churn VARCHAR(8))`)
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	rows := recs[1:]
	for lo := 0; lo < len(rows); lo += 1000 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO churn VALUES ")
		for i := lo; i < min(lo+1000, len(rows)); i++ {
			r := rows[i]
			if i > lo {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,%s,'%s','%s',%s,%s,%s,%s,%s,%s,%s,%s,'%s')", i, r[col["Account Length"]], r[col["Int'l Plan"]],
				r[col["VMail Plan"]], r[col["VMail Message"]], r[col["Day Mins"]], r[col["Day Calls"]], r[col["Eve Mins"]],
				r[col["Night Mins"]], r[col["Intl Mins"]], r[col["Intl Calls"]], r[col["CustServ Calls"]], r[col["Churn?"]])
		}
		mustExec(t, db, sb.String())
	}
	return srv, db
}

// modelVersion is a row of SHOW MODEL m VERSIONS.
type modelVersion map[string]string

func showVersions(t *testing.T, db *sql.DB, name string) []modelVersion {
	t.Helper()
	rows, err := db.Query("SHOW MODEL " + name + " VERSIONS")
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []modelVersion
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		v := modelVersion{}
		for i, c := range cols {
			v[c] = vals[i].String
		}
		out = append(out, v)
	}
	require.NoError(t, rows.Err())
	return out
}

// waitVersion polls SHOW MODEL m VERSIONS until version n has finished.
func waitVersion(t *testing.T, db *sql.DB, name string, n int) modelVersion {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		for _, v := range showVersions(t, db, name) {
			if v["Version"] == fmt.Sprint(n) && v["State"] != "TRAINING" {
				return v
			}
		}
		require.True(t, time.Now().Before(deadline), "version %d of %s did not finish: %v", n, name, showVersions(t, db, name))
		time.Sleep(200 * time.Millisecond)
	}
}

func deployedVersion(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	for _, v := range showVersions(t, db, name) {
		if v["Deployed"] == "YES" {
			return v["Version"]
		}
	}
	return ""
}

// churnPredictions are fn's predictions of every row; fn is a function
// name, or a call's beginning ending in ", " (sibyl_predict('m', 2, ).
func churnPredictions(t *testing.T, db *sql.DB, fn string) []string {
	t.Helper()
	call := fn + "(" + churnTrainColumns + ")"
	if strings.HasSuffix(fn, ", ") {
		call = fn + churnTrainColumns + ")"
	}
	rows, err := db.Query("SELECT " + call + " FROM churn ORDER BY id")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// requireSamePredictions fails with the first differing row, not a dump
// of thousands of values.
func requireSamePredictions(t *testing.T, want, got []string, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("%s: row %d differs (%d rows in all): want %q, got %q", msg, i, differing(want, got), want[i], got[i])
		}
	}
}

func differing(a, b []string) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

var dataVersionRE = regexp.MustCompile(`^ml\.churn@([0-9a-v]{32})$`)

// TestModelLineageRetrainAsOfIsBitIdentical trains on the churn table,
// changes the table, retrains AS OF the commit the first version recorded
// and gets the same artifact, byte for byte; the pinned commit is readable
// with AS OF and the user's branch history is untouched.
func TestModelLineageRetrainAsOfIsBitIdentical(t *testing.T) {
	cases := []struct{ name, clauses string }{
		{"xgboost", "AUTO OFF MODEL_TYPE XGBOOST"},
		{"linear", "AUTO OFF MODEL_TYPE LINEAR_LEARNER"},
		{"auto", "AUTO ON"},
	}
	_, db := churnSetup(t)
	logBefore := queryInt(t, db, "SELECT COUNT(*) FROM dolt_log")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "lin_" + tc.name
			mustExec(t, db, fmt.Sprintf("CREATE MODEL %s FROM (SELECT %s, churn FROM churn) TARGET churn FUNCTION %s_fn %s",
				name, churnTrainColumns, name, tc.clauses))
			m := waitModel(t, db, name)
			require.Equal(t, "READY", m["Model State"], "%v", m)
			require.Equal(t, "1", m["Deployed Version"])
			require.Equal(t, fmt.Sprintf("SELECT %s, churn FROM churn", churnTrainColumns), m["Version Query"])
			require.Equal(t, "42", m["Random Seed"])
			match := dataVersionRE.FindStringSubmatch(m["Data Version"])
			require.NotNil(t, match, "SHOW MODEL shows the table's commit: %v", m)
			commit := match[1]
			// The recorded version reads back what was trained on.
			require.EqualValues(t, 5000, queryInt(t, db, fmt.Sprintf("SELECT COUNT(*) FROM churn AS OF '%s'", commit)))

			// Change the data: flip a third of the labels, drop rows.
			mustExec(t, db, "UPDATE churn SET churn = IF(churn = 'True.', 'False.', 'True.') WHERE id % 3 = 0",
				"DELETE FROM churn WHERE id >= 4500")
			mustExec(t, db, fmt.Sprintf("ALTER MODEL %s RETRAIN AS OF '%s'", name, commit))
			v2 := waitVersion(t, db, name, 2)
			require.Equal(t, "READY", v2["State"], "%v", v2)
			require.Equal(t, "5000", v2["Rows"])
			require.Contains(t, v2["Data Versions"], commit)
			v1 := showVersions(t, db, name)[0]
			require.NotEmpty(t, v1["Artifact SHA256"])
			require.Equal(t, v1["Artifact SHA256"], v2["Artifact SHA256"], "retraining AS OF the recorded commit reproduces the model")

			// Retraining on today's data is a different model.
			mustExec(t, db, fmt.Sprintf("ALTER MODEL %s RETRAIN", name))
			v3 := waitVersion(t, db, name, 3)
			require.Equal(t, "READY", v3["State"], "%v", v3)
			require.Equal(t, "4500", v3["Rows"])
			require.NotEqual(t, v1["Artifact SHA256"], v3["Artifact SHA256"])
			require.NotContains(t, v3["Data Versions"], commit)

			// Put the data back for the next case.
			mustExec(t, db, "UPDATE churn SET churn = IF(churn = 'True.', 'False.', 'True.') WHERE id % 3 = 0")
			mustExec(t, db, fmt.Sprintf("INSERT INTO churn SELECT * FROM churn AS OF '%s' WHERE id >= 4500", commit))
		})
	}
	// Lineage commits are on hidden tags, not on the user's branch.
	require.Equal(t, logBefore, queryInt(t, db, "SELECT COUNT(*) FROM dolt_log"))
	require.Positive(t, queryInt(t, db, "SELECT COUNT(*) FROM dolt_tags WHERE tag_name LIKE 'sibyl/model/ml/lin_xgboost/v%'"))
	// DROP MODEL removes them.
	mustExec(t, db, "DROP MODEL lin_xgboost")
	require.Zero(t, queryInt(t, db, "SELECT COUNT(*) FROM dolt_tags WHERE tag_name LIKE 'sibyl/model/ml/lin_xgboost/%'"))

	// Data the user committed is recorded as their commit; no tag.
	mustExec(t, db, "CALL dolt_commit('-Am', 'churn data')")
	head := queryString(t, db, "SELECT commit_hash FROM dolt_log LIMIT 1")
	mustExec(t, db, fmt.Sprintf("CREATE MODEL lin_head FROM (SELECT %s, churn FROM churn) TARGET churn FUNCTION lin_head_fn AUTO OFF MODEL_TYPE XGBOOST", churnTrainColumns))
	m := waitModel(t, db, "lin_head")
	require.Equal(t, "ml.churn@"+head, m["Data Version"])
	require.Zero(t, queryInt(t, db, "SELECT COUNT(*) FROM dolt_tags WHERE tag_name LIKE 'sibyl/model/ml/lin_head/%'"))
}

// TestModelVersionsDeployRollback is the life of a production model: v1
// trained on churn data; the data goes bad (labels inverted) and v2 is
// trained but not deployed, being worse on the comparison rows; v3 on
// good data scores as well and is deployed; DEPLOY VERSION and ROLLBACK
// switch what the prediction function returns.
func TestModelVersionsDeployRollback(t *testing.T) {
	srv, db := churnSetup(t)
	mustExec(t, db, fmt.Sprintf("CREATE MODEL cm FROM (SELECT %s, churn FROM churn) TARGET churn FUNCTION churn_fn AUTO OFF MODEL_TYPE XGBOOST", churnTrainColumns))
	require.Equal(t, "READY", waitModel(t, db, "cm")["Model State"])
	p1 := churnPredictions(t, db, "churn_fn")

	mustExec(t, db, "UPDATE churn SET churn = IF(churn = 'True.', 'False.', 'True.')")
	mustExec(t, db, "ALTER MODEL cm RETRAIN")
	v2 := waitVersion(t, db, "cm", 2)
	require.Equal(t, "READY", v2["State"], "%v", v2)
	v1 := showVersions(t, db, "cm")[0]
	require.NotEmpty(t, v1["Comparison Score"])
	require.Equal(t, v1["Comparison Rows"], v2["Comparison Rows"], "every version is scored on the same rows")
	require.Less(t, v2["Comparison Score"], v1["Comparison Score"])
	require.Equal(t, "1", deployedVersion(t, db, "cm"), "best_score keeps the better version deployed")
	requireSamePredictions(t, p1, churnPredictions(t, db, "churn_fn"), "version 1 predictions")

	mustExec(t, db, "UPDATE churn SET churn = IF(churn = 'True.', 'False.', 'True.')")
	mustExec(t, db, "ALTER MODEL cm RETRAIN")
	v3 := waitVersion(t, db, "cm", 3)
	require.Equal(t, "READY", v3["State"], "%v", v3)
	require.Equal(t, "3", deployedVersion(t, db, "cm"), "a version scoring at least as well is deployed: %v", showVersions(t, db, "cm"))
	requireSamePredictions(t, p1, churnPredictions(t, db, "churn_fn"), "version 1 predictions")

	// Deploy the bad version by hand: predictions switch.
	mustExec(t, db, "ALTER MODEL cm DEPLOY VERSION 2")
	p2 := churnPredictions(t, db, "churn_fn")
	require.Greater(t, differing(p1, p2), 2500, "version 2 learned inverted labels")
	m := showModel(t, db, "cm")
	require.Equal(t, "2", m["Deployed Version"])

	// Roll back: version 3 again.
	mustExec(t, db, "ALTER MODEL cm ROLLBACK")
	require.Equal(t, "3", deployedVersion(t, db, "cm"))
	requireSamePredictions(t, p1, churnPredictions(t, db, "churn_fn"), "version 1 predictions")

	// most_recent deploys whatever trains; manual deploys nothing.
	mustExec(t, db, "ALTER MODEL cm SETTINGS (DEPLOY_POLICY 'most_recent')")
	mustExec(t, db, "UPDATE churn SET churn = IF(churn = 'True.', 'False.', 'True.')")
	mustExec(t, db, "ALTER MODEL cm RETRAIN")
	waitVersion(t, db, "cm", 4)
	require.Equal(t, "4", deployedVersion(t, db, "cm"))
	mustExec(t, db, "ALTER MODEL cm SETTINGS (DEPLOY_POLICY 'manual')", "ALTER MODEL cm RETRAIN FROM (SELECT "+churnTrainColumns+", churn FROM churn WHERE id < 4000)")
	v5 := waitVersion(t, db, "cm", 5)
	require.Equal(t, "4000", v5["Rows"])
	require.Equal(t, "4", deployedVersion(t, db, "cm"))

	// Errors.
	for _, tc := range []struct {
		stmt string
		code uint16
		msg  string
	}{
		{"ALTER MODEL cm DEPLOY VERSION 42", 1210, "unknown model version"},
		{"ALTER MODEL nosuch ROLLBACK", 1105, "does not exist"},
		{"ALTER MODEL cm SETTINGS (DEPLOY_POLICY 'sometimes')", 1210, "DEPLOY_POLICY"},
		{"ALTER MODEL cm RETRAIN FROM (SELECT day_mins, churn FROM churn)", 1210, "differ from the function's parameters"},
		{"ALTER MODEL cm EXPLODE", 1064, ""},
	} {
		_, err := db.Exec(tc.stmt)
		code, _ := mysqlErr(t, err)
		require.Equal(t, tc.code, code, "%s: %v", tc.stmt, err)
		require.Contains(t, err.Error(), tc.msg, tc.stmt)
	}

	// Someone who may use the model may not change it.
	mustExec(t, srv.DB(""), "CREATE USER analyst IDENTIFIED BY 'pw'", "GRANT SELECT, EXECUTE ON ml.* TO analyst")
	adb := srv.Open(srv.DSN("analyst", "pw", "ml"))
	require.Len(t, churnPredictions(t, adb, "churn_fn"), 5000)
	for _, stmt := range []string{"ALTER MODEL cm ROLLBACK", "ALTER MODEL cm DEPLOY VERSION 1", "ALTER MODEL cm RETRAIN"} {
		_, err := adb.Exec(stmt)
		code, _ := mysqlErr(t, err)
		require.EqualValues(t, 1227, code, stmt)
	}
	require.Equal(t, "4", deployedVersion(t, db, "cm"))

	// Versions and the deployment survive a restart.
	srv.Restart()
	db = srv.DB("ml")
	require.Equal(t, "4", deployedVersion(t, db, "cm"))
	require.Len(t, showVersions(t, db, "cm"), 5)
	requireSamePredictions(t, p2, churnPredictions(t, db, "churn_fn"), "version 4 learned the same inverted labels as version 2")

	// Any kept version can be called by number, deployed or not.
	requireSamePredictions(t, p1, churnPredictions(t, db, "sibyl_predict('cm', 3, "), "sibyl_predict of version 3")
	requireSamePredictions(t, p2, churnPredictions(t, db, "sibyl_predict('ml.cm', 2, "), "sibyl_predict of version 2")
	requireSamePredictions(t, p2, churnPredictions(t, db, "sibyl_predict('cm', 0, "), "version 0 is the deployed version")
	for _, q := range []string{
		"SELECT sibyl_predict('cm', 42, " + churnTrainColumns + ") FROM churn",
		"SELECT sibyl_predict('cm', id, " + churnTrainColumns + ") FROM churn",
		"SELECT sibyl_predict('cm', 1, day_mins) FROM churn",
	} {
		_, err := db.Query(q)
		code, _ := mysqlErr(t, err)
		require.Contains(t, []uint16{1210, 1318}, code, "%s: %v", q, err)
	}
}

// TestModelDeployIsAtomicForRunningStatements holds a scoring statement
// half-way (a SLEEP on one row between the batches the model scores) while
// another session deploys a different version: the statement's rows all
// come from the version deployed when it started.
func TestModelDeployIsAtomicForRunningStatements(t *testing.T) {
	_, db := churnSetup(t)
	mustExec(t, db, fmt.Sprintf("CREATE MODEL am FROM (SELECT %s, churn FROM churn) TARGET churn FUNCTION am_fn AUTO OFF MODEL_TYPE XGBOOST SETTINGS (DEPLOY_POLICY 'manual')", churnTrainColumns))
	require.Equal(t, "READY", waitModel(t, db, "am")["Model State"])
	p1 := churnPredictions(t, db, "am_fn")
	mustExec(t, db, "UPDATE churn SET churn = IF(churn = 'True.', 'False.', 'True.')", "ALTER MODEL am RETRAIN")
	require.Equal(t, "READY", waitVersion(t, db, "am", 2)["State"])
	requireSamePredictions(t, p1, churnPredictions(t, db, "am_fn"), "manual: version 1 still deployed")

	type result struct {
		preds []string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		rows, err := db.QueryContext(context.Background(), fmt.Sprintf(
			"SELECT am_fn(%s) FROM churn WHERE IF(id = 3000, SLEEP(3), 0) = 0 ORDER BY id", churnTrainColumns))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				done <- result{err: err}
				return
			}
			out = append(out, s)
		}
		done <- result{preds: out, err: rows.Err()}
	}()
	// Deploy once the statement is scoring (its plan, which binds the
	// version, is built by then), not after a fixed wait a busy machine
	// could outlast.
	require.Eventually(t, func() bool {
		p, ok := progressOf(t, db, "am_fn(")
		return ok && strings.HasPrefix(p.state, "scoring")
	}, time.Minute, 10*time.Millisecond)
	mustExec(t, db, "ALTER MODEL am DEPLOY VERSION 2")
	r := <-done
	require.NoError(t, r.err)
	requireSamePredictions(t, p1, r.preds, "the running statement kept version 1 from start to end")
	require.Greater(t, differing(p1, churnPredictions(t, db, "am_fn")), 2500, "the next statement uses version 2")
}

// TestModelCrashDuringRetrainKeepsDeployedVersion kills the server with
// SIGKILL while version 2 trains: after the restart version 1 still
// serves the same predictions and version 2 is FAILED, never deployed.
func TestModelCrashDuringRetrainKeepsDeployedVersion(t *testing.T) {
	srv, db := churnSetup(t)
	mustExec(t, db, fmt.Sprintf("CREATE MODEL cr FROM (SELECT %s, churn FROM churn) TARGET churn FUNCTION cr_fn AUTO OFF MODEL_TYPE XGBOOST SETTINGS (DEPLOY_POLICY 'most_recent')", churnTrainColumns))
	require.Equal(t, "READY", waitModel(t, db, "cr")["Model State"])
	p1 := churnPredictions(t, db, "cr_fn")

	// Version 2 searches every AutoML candidate on inverted labels: it
	// would be deployed (most_recent) had it finished.
	mustExec(t, db, "UPDATE churn SET churn = IF(churn = 'True.', 'False.', 'True.')")
	mustExec(t, db, fmt.Sprintf("CREATE OR REPLACE MODEL cr FROM (SELECT %s, churn FROM churn) TARGET churn FUNCTION cr_fn AUTO ON SETTINGS (DEPLOY_POLICY 'most_recent')", churnTrainColumns))
	vs := showVersions(t, db, "cr")
	require.Len(t, vs, 2)
	require.Equal(t, "TRAINING", vs[1]["State"], "version 2 is training when the server is killed")
	srv.Kill()

	srv.StartAgain()
	db = srv.DB("ml")
	vs = showVersions(t, db, "cr")
	require.Len(t, vs, 2)
	require.Equal(t, "FAILED", vs[1]["State"])
	require.Equal(t, "the server restarted during training", vs[1]["Reason"])
	require.Equal(t, "YES", vs[0]["Deployed"])
	require.Equal(t, "READY", showModel(t, db, "cr")["Model State"])
	requireSamePredictions(t, p1, churnPredictions(t, db, "cr_fn"), "version 1 serves after the crash")

	// The model trains on: version 3 replaces it as the policy says.
	mustExec(t, db, "ALTER MODEL cr RETRAIN")
	require.Equal(t, "READY", waitVersion(t, db, "cr", 3)["State"])
	require.Equal(t, "3", deployedVersion(t, db, "cr"))
	require.Greater(t, differing(p1, churnPredictions(t, db, "cr_fn")), 2500)
}

// TestModelScheduledRetrain retrains a model from MySQL's event scheduler
// (CREATE EVENT ... DO ALTER MODEL m RETRAIN) with the privileges of the
// event's definer, keeps at most sibyl_model_max_versions versions, and
// goes on after a restart.
func TestModelScheduledRetrain(t *testing.T) {
	srv, root := churnSetup(t)
	mustExec(t, root,
		"CREATE USER mlops IDENTIFIED BY 'pw'", "GRANT SELECT, CREATE ROUTINE, EVENT ON ml.* TO mlops", "GRANT CREATE MODEL ON *.* TO mlops",
		"CREATE USER intruder IDENTIFIED BY 'pw'", "GRANT SELECT, EVENT ON ml.* TO intruder")
	db := srv.Open(srv.DSN("mlops", "pw", "ml"))
	mustExec(t, db, fmt.Sprintf("CREATE MODEL sm FROM (SELECT %s, churn FROM churn WHERE id < 1000) TARGET churn FUNCTION sm_fn AUTO OFF MODEL_TYPE XGBOOST", churnTrainColumns))
	require.Equal(t, "READY", waitModel(t, db, "sm")["Model State"])

	// An event of someone who may not alter the model runs as them and
	// changes nothing.
	idb := srv.Open(srv.DSN("intruder", "pw", "ml"))
	mustExec(t, idb, "CREATE EVENT not_mine ON SCHEDULE EVERY 1 SECOND DO ALTER MODEL sm RETRAIN")
	time.Sleep(3 * time.Second)
	require.Len(t, showVersions(t, db, "sm"), 1, "the intruder's event did not retrain the model")
	mustExec(t, idb, "DROP EVENT not_mine")

	mustExec(t, root, "SET GLOBAL sibyl_model_max_versions = 3")
	mustExec(t, db, "CREATE EVENT retrain_sm ON SCHEDULE EVERY 2 SECOND DO ALTER MODEL sm RETRAIN")
	var body string
	require.NoError(t, db.QueryRow("SELECT EVENT_DEFINITION FROM information_schema.EVENTS WHERE EVENT_NAME = 'retrain_sm'").Scan(&body))
	require.Equal(t, "ALTER MODEL sm RETRAIN", body)

	latest := func(db *sql.DB) int {
		n := 0
		for _, v := range showVersions(t, db, "sm") {
			var k int
			fmt.Sscan(v["Version"], &k)
			if k > n && v["State"] == "READY" {
				n = k
			}
		}
		return n
	}
	waitFor := func(db *sql.DB, n int) {
		deadline := time.Now().Add(2 * time.Minute)
		for latest(db) < n {
			require.True(t, time.Now().Before(deadline), "no version %d: %v", n, showVersions(t, db, "sm"))
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitFor(db, 5)
	vs := showVersions(t, db, "sm")
	require.LessOrEqual(t, len(vs), 4, "old versions are removed (3 kept, plus one training): %v", vs)
	for _, v := range vs {
		require.Equal(t, "mlops@%", v["Created By"][:len("mlops@")]+"%", "the event runs as its definer")
	}

	srv.Restart()
	db = srv.Open(srv.DSN("mlops", "pw", "ml"))
	before := latest(db)
	waitFor(db, before+1)
	mustExec(t, db, "DROP EVENT retrain_sm")
}
