package e2e

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dmitryikh/leaves"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/gbtree"
	"github.com/sibyldb/sibyldb/internal/ml/xgb"
	"github.com/sibyldb/sibyldb/internal/testserver"
)

// labelOf is the rule the synthetic customers table follows: churn when
// spend is high, or when on tier 'b' with many calls.
func labelOf(spend float64, calls int, tier string) string {
	score := spend + 0.4*float64(calls)
	if tier == "b" {
		score += 2
	}
	if score > 3 {
		return "yes"
	}
	return "no"
}

// modelSetup starts a server with database ml and table customers(id,
// spend DOUBLE, calls INT, tier VARCHAR, signup DATE, churn VARCHAR,
// value DOUBLE) of n rows; value = 3*spend + calls (+ noise).
func modelSetup(t *testing.T, n int) (*testserver.Server, *sql.DB) {
	t.Helper()
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE ml", `CREATE TABLE ml.customers (id INT PRIMARY KEY, spend DOUBLE, calls INT,
		tier VARCHAR(8), signup DATE, churn VARCHAR(3), value DOUBLE)`)
	insertCustomers(t, db, 0, n)
	return srv, srv.DB("ml", "multiStatements=true")
}

func insertCustomers(t *testing.T, db *sql.DB, from, to int) {
	t.Helper()
	rng := rand.New(rand.NewSource(int64(from + 1)))
	for lo := from; lo < to; lo += 2000 {
		var sb strings.Builder
		sb.WriteString("INSERT INTO ml.customers VALUES ")
		for i := lo; i < min(lo+2000, to); i++ {
			spend := rng.NormFloat64()*1.5 + 1
			calls := rng.Intn(6)
			tier := []string{"a", "b", "c"}[rng.Intn(3)]
			if i > lo {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "(%d,%.4f,%d,'%s','2020-01-%02d','%s',%.4f)", i, spend, calls, tier, 1+i%28,
				labelOf(spend, calls, tier), 3*spend+float64(calls)+rng.NormFloat64()*0.1)
		}
		mustExec(t, db, sb.String())
	}
}

// showModel returns SHOW MODEL's key/value rows.
func showModel(t *testing.T, db *sql.DB, name string) map[string]string {
	t.Helper()
	rows, err := db.Query("SHOW MODEL " + name)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		require.NoError(t, rows.Scan(&k, &v))
		out[k] = v
	}
	require.NoError(t, rows.Err())
	return out
}

// waitModel polls SHOW MODEL until the model leaves TRAINING.
func waitModel(t *testing.T, db *sql.DB, name string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		m := showModel(t, db, name)
		if m["Model State"] != "TRAINING" {
			return m
		}
		require.True(t, time.Now().Before(deadline), "model %s still training: %v", name, m)
		time.Sleep(200 * time.Millisecond)
	}
}

func TestCreateModelTrainsPredictsExplainsAndSurvivesRestart(t *testing.T) {
	srv, db := modelSetup(t, 3000)
	start := time.Now()
	mustExec(t, db, `CREATE MODEL churn_model
		FROM (SELECT spend, calls, tier, signup, churn FROM customers WHERE id < 2500)
		TARGET churn FUNCTION predict_churn IAM_ROLE default SETTINGS (S3_BUCKET 'your-bucket', MAX_RUNTIME 600)`)
	require.Less(t, time.Since(start), 10*time.Second, "CREATE MODEL returns once training started")

	m := waitModel(t, db, "churn_model")
	require.Equal(t, "READY", m["Model State"], "%v", m)
	require.Equal(t, "BINARY_CLASSIFICATION", m["Problem Type"])
	require.Equal(t, "F1", m["Objective"])
	require.Equal(t, "CHURN", m["Target Column"])
	require.Equal(t, "spend calls tier signup", m["Function Parameters"])
	require.Equal(t, "2500", m["Rows Used"])
	require.Contains(t, m["Function Name"], "predict_churn_prob")
	require.Contains(t, m, "Candidate 5", "the leaderboard lists every candidate")
	require.Contains(t, m["Ignored AWS Settings"], "S3_BUCKET")

	// Held-out rows (id >= 2500) were never seen in training.
	acc := func() float64 {
		var a float64
		require.NoError(t, db.QueryRow("SELECT AVG(predict_churn(spend, calls, tier, signup) = churn) FROM customers WHERE id >= 2500").Scan(&a))
		return a
	}
	before := acc()
	require.Greater(t, before, 0.93)

	var pmin, pmax float64
	require.NoError(t, db.QueryRow("SELECT MIN(predict_churn_prob(spend, calls, tier, signup)), MAX(predict_churn_prob(spend, calls, tier, signup)) FROM customers").Scan(&pmin, &pmax))
	require.GreaterOrEqual(t, pmin, 0.0)
	require.LessOrEqual(t, pmax, 1.0)
	require.Less(t, pmin, 0.2)
	require.Greater(t, pmax, 0.8)
	var agree float64
	require.NoError(t, db.QueryRow(`SELECT AVG((predict_churn_prob(spend, calls, tier, signup) >= 0.5) = (predict_churn(spend, calls, tier, signup) = 'yes')) FROM customers`).Scan(&agree))
	require.Equal(t, 1.0, agree, "the label is the class whose probability is at least 0.5")

	// Batched like endpoint functions.
	var id, selType, table, partitions, typ, keys, key, keyLen, ref, rowsN, filtered, extra sql.NullString
	require.NoError(t, db.QueryRow("EXPLAIN SELECT predict_churn(spend, calls, tier, signup) FROM customers").
		Scan(&id, &selType, &table, &partitions, &typ, &keys, &key, &keyLen, &ref, &rowsN, &filtered, &extra))
	require.Equal(t, "Batched machine learning", extra.String)

	// Global importance: spend drives the label most, signup not at all.
	var explanation string
	require.NoError(t, db.QueryRow("SELECT explain_model('churn_model')").Scan(&explanation))
	var doc struct {
		Explanations struct {
			KernelShap struct {
				Label0 struct {
					Global map[string]float64 `json:"global_shap_values"`
				} `json:"label0"`
			} `json:"kernel_shap"`
		} `json:"explanations"`
	}
	require.NoError(t, json.Unmarshal([]byte(explanation), &doc), explanation)
	g := doc.Explanations.KernelShap.Label0.Global
	if !strings.Contains(m["Chosen Candidate"], "MLP") {
		require.Len(t, g, 4, explanation)
		require.Greater(t, g["spend"], g["signup"], explanation)
		require.Greater(t, g["tier"], g["signup"], explanation)
	}

	// The training job is audited like an endpoint call.
	require.Eventually(t, func() bool {
		var rows int64
		var outcome string
		err := db.QueryRow("SELECT rows_sent, outcome FROM sibyl.ml_audit_log WHERE function_name = 'CREATE MODEL ml.churn_model'").Scan(&rows, &outcome)
		return err == nil && rows == 2500 && outcome == "OK"
	}, 10*time.Second, 100*time.Millisecond)

	srv.Restart()
	db = srv.DB("ml")
	m = showModel(t, db, "churn_model")
	require.Equal(t, "READY", m["Model State"], "READY models survive restarts")
	require.Equal(t, before, acc(), "same predictions after restart")

	mustExec(t, db, "DROP MODEL churn_model")
	_, err := db.Exec("SELECT predict_churn(1, 1, 'a', '2020-01-01')")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1305, num, "DROP MODEL drops its functions")
	_, err = db.Exec("SHOW MODEL churn_model")
	require.ErrorContains(t, err, "does not exist")
	mustExec(t, db, "DROP MODEL IF EXISTS churn_model")
}

func TestCreateModelVariants(t *testing.T) {
	srv, db := modelSetup(t, 1500)
	mustExec(t, db,
		// AUTO OFF XGBoost regression with hyperparameters, from a table.
		`CREATE TABLE reg AS SELECT spend, calls, value FROM customers`,
		`CREATE MODEL value_xgb FROM reg TARGET value FUNCTION value_xgb
			AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE 'reg:squarederror' PROBLEM_TYPE REGRESSION
			HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '50', MAX_DEPTH '4', ETA '0.3')`,
		`CREATE MODEL value_linear FROM (SELECT spend, calls, value FROM customers) TARGET value FUNCTION value_linear
			AUTO OFF MODEL_TYPE LINEAR_LEARNER`,
		`CREATE MODEL plans FROM (SELECT spend, calls, tier FROM customers) TARGET tier FUNCTION plan_of
			PROBLEM_TYPE MULTICLASS_CLASSIFICATION OBJECTIVE 'Accuracy' SETTINGS (MAX_CELLS 3000)`,
		`CREATE MODEL segments FROM (SELECT spend, calls FROM customers) FUNCTION segment_of
			AUTO OFF MODEL_TYPE KMEANS HYPERPARAMETERS DEFAULT EXCEPT (K '3')`,
		`CREATE MODEL outliers FROM (SELECT spend, calls FROM customers) FUNCTION outlier_score
			AUTO OFF MODEL_TYPE RANDOM_CUT_FOREST`,
	)
	for _, name := range []string{"value_xgb", "value_linear", "plans", "segments", "outliers"} {
		m := waitModel(t, db, name)
		require.Equal(t, "READY", m["Model State"], "%s: %v", name, m)
	}
	all := dump(t, db, "SHOW MODEL ALL")
	require.Len(t, all, 5)
	for _, row := range all {
		require.Contains(t, row, "READY", "SHOW MODEL ALL lists each model with its state")
	}
	m := showModel(t, db, "value_xgb")
	require.Equal(t, "xgboost", m["Model Type"])
	require.Equal(t, "OFF", m["AutoML"])
	require.Contains(t, m["Hyperparameters"], "NUM_ROUND '50'")
	require.Contains(t, m, "Table", "FROM table is recorded as the training data")

	for fn, limit := range map[string]float64{"value_xgb": 1.0, "value_linear": 0.3} {
		var rmse float64
		require.NoError(t, db.QueryRow(fmt.Sprintf("SELECT SQRT(AVG(POW(%s(spend, calls) - value, 2))) FROM customers", fn)).Scan(&rmse))
		require.Less(t, rmse, limit, fn)
	}
	require.Equal(t, "linear_learner", showModel(t, db, "value_linear")["Model Type"])

	m = showModel(t, db, "plans")
	require.Equal(t, "MULTICLASS_CLASSIFICATION", m["Problem Type"])
	require.Equal(t, "1000 (sampled to MAX_CELLS)", m["Rows Used"], "MAX_CELLS 3000 over 3 columns keeps 1000 rows")
	var probs string
	var label string
	require.NoError(t, db.QueryRow("SELECT plan_of(1.0, 2), plan_of_prob(1.0, 2)").Scan(&label, &probs))
	require.Contains(t, []string{"a", "b", "c"}, label)
	var pm map[string]float64
	require.NoError(t, json.Unmarshal([]byte(probs), &pm))
	require.Len(t, pm, 3)
	require.InDelta(t, 1.0, pm["a"]+pm["b"]+pm["c"], 1e-6)

	var clusters int
	require.NoError(t, db.QueryRow("SELECT COUNT(DISTINCT segment_of(spend, calls)) FROM customers").Scan(&clusters))
	require.Equal(t, 3, clusters)

	var normal, outlier float64
	require.NoError(t, db.QueryRow("SELECT AVG(outlier_score(spend, calls)) FROM customers").Scan(&normal))
	require.NoError(t, db.QueryRow("SELECT outlier_score(40, 50)").Scan(&outlier))
	require.Greater(t, outlier, normal, "a far-away point scores higher than the data")

	var expl string
	require.NoError(t, db.QueryRow("SELECT value_linear_explain(2, 3)").Scan(&expl))
	var contrib map[string]float64
	require.NoError(t, json.Unmarshal([]byte(expl), &contrib))
	var pred float64
	require.NoError(t, db.QueryRow("SELECT value_linear(2, 3)").Scan(&pred))
	require.InDelta(t, pred, contrib["spend"]+contrib["calls"]+contrib["bias"], 1e-6, "linear contributions add up to the prediction")
	require.NoError(t, db.QueryRow("SELECT value_xgb_explain(2, 3)").Scan(&expl))
	require.NoError(t, json.Unmarshal([]byte(expl), &contrib))
	require.NoError(t, db.QueryRow("SELECT value_xgb(2, 3)").Scan(&pred))
	require.InDelta(t, pred, contrib["spend"]+contrib["calls"]+contrib["bias"], 1e-3, "SHAP values add up to the prediction")

	// Every model was stored and comes back after a restart, the
	// unsupervised ones too (their validation score is NaN, which JSON
	// cannot spell and once kept them from being stored).
	var segment int
	require.NoError(t, db.QueryRow("SELECT segment_of(1.5, 2)").Scan(&segment))
	srv.Restart()
	db = srv.DB("ml")
	require.Len(t, dump(t, db, "SHOW MODEL ALL"), 5)
	for _, name := range []string{"value_xgb", "value_linear", "plans", "segments", "outliers"} {
		require.Equal(t, "READY", showModel(t, db, name)["Model State"], name)
	}
	var segment2 int
	var outlier2 float64
	require.NoError(t, db.QueryRow("SELECT segment_of(1.5, 2), outlier_score(40, 50)").Scan(&segment2, &outlier2))
	require.Equal(t, segment, segment2)
	require.Equal(t, outlier, outlier2)
}

func TestCreateModelErrors(t *testing.T) {
	_, db := modelSetup(t, 200)
	mustExec(t, db, "CREATE TABLE empty_t (a INT, b VARCHAR(3))", "CREATE TABLE rare (a INT, c VARCHAR(3))",
		"INSERT INTO rare VALUES (1,'x'),(2,'x'),(3,'x'),(4,'x'),(5,'x'),(6,'x'),(7,'x'),(8,'x'),(9,'x'),(10,'y'),(11,'z'),(12,'z')")
	cases := []struct {
		stmt string
		num  uint16
		msg  string
	}{
		{"CREATE MODEL e1 FROM customers TARGET nope FUNCTION f_e1", 1054, "nope"},
		{"CREATE MODEL e2 FROM nope_table TARGET churn FUNCTION f_e2", 1146, "nope_table"},
		{"CREATE MODEL e3 FROM empty_t TARGET b FUNCTION f_e3", 1210, "no rows"},
		{"CREATE MODEL e4 FROM (SELECT spend, churn FROM customers) TARGET churn FUNCTION f_e4 PROBLEM_TYPE REGRESSION", 1210, "numeric target"},
		{"CREATE MODEL e5 FROM rare TARGET c FUNCTION f_e5", 1210, "class 'y'"},
		{"CREATE MODEL e6 FROM customers TARGET churn", 1210, "FUNCTION"},
		{"CREATE MODEL e7 FROM customers FUNCTION f_e7", 1210, "TARGET"},
		{"CREATE MODEL e8 FROM customers TARGET churn FUNCTION f_e8 MODEL_TYPE TREES", 1210, "MODEL_TYPE"},
		{"CREATE MODEL e9 FROM customers TARGET churn FUNCTION f_e9 SETTINGS (MAX_CELS 10)", 1210, "MAX_CELS"},
		{"CREATE MODEL e10 FROM customers TARGET churn FUNCTION f_e10 AUTO OFF MODEL_TYPE XGBOOST HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUNDS '5')", 0, ""},
		{"CREATE MODEL e11 FROM customers TARGET churn FUNCTION concat", 1210, "built-in"},
		{"CREATE MODEL e12 FROM (SELECT spend, churn FROM customers) TARGET churn FUNCTION f_e12 OBJECTIVE 'MSE'", 1210, "does not apply"},
		{"CREATE MODEL e13 FROM (SELECT spend FROM customers) TARGET spend FUNCTION f_e13", 1210, "no feature columns"},
		{"CREATE MODEL e14 FROM (SELECT spend, calls FROM customers) FUNCTION f_e14 AUTO OFF MODEL_TYPE KMEANS", 0, ""},
		{"CREATE MODEL e15 FROM customers TARGET churn FUNCTION f_e15 FUNCTION f_e15b", 1064, "twice"},
	}
	for _, c := range cases {
		_, err := db.Exec(c.stmt)
		if c.num == 0 {
			// Settings only training can check fail the model, not the statement.
			require.NoError(t, err, c.stmt)
			name := strings.Fields(c.stmt)[2]
			m := waitModel(t, db, name)
			require.Equal(t, "FAILED", m["Model State"], c.stmt)
			require.NotEmpty(t, m["Failure Reason"])
			continue
		}
		require.Error(t, err, c.stmt)
		num, _ := mysqlErr(t, err)
		require.Equal(t, c.num, num, "%s: %v", c.stmt, err)
		require.ErrorContains(t, err, c.msg, c.stmt)
	}
	require.Contains(t, showModel(t, db, "e10")["Failure Reason"], "NUM_ROUNDS")
	require.Contains(t, showModel(t, db, "e14")["Failure Reason"], "K")
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM sibyl.catalog_objects WHERE kind = 'model' AND name LIKE 'ml.e%' AND name NOT IN ('ml.e10', 'ml.e14')").Scan(&n))
	require.Zero(t, n, "failed statements leave no model behind")

	mustExec(t, db, "CREATE MODEL ok FROM (SELECT spend, calls, churn FROM customers) TARGET churn FUNCTION f_ok")
	_, err := db.Exec("CREATE MODEL ok FROM (SELECT spend, calls, churn FROM customers) TARGET churn FUNCTION f_ok2")
	require.ErrorContains(t, err, "already exists")
	mustExec(t, db, "CREATE MODEL IF NOT EXISTS ok FROM (SELECT spend, calls, churn FROM customers) TARGET churn FUNCTION f_ok2")
	_, err = db.Exec("CREATE MODEL ok2 FROM (SELECT spend, calls, churn FROM customers) TARGET churn FUNCTION f_ok")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1304, num, "the function name is taken")
	_, err = db.Exec("DROP MODEL nope")
	require.ErrorContains(t, err, "does not exist")
}

func TestDropModelCancelsTrainingAndRestartFailsIt(t *testing.T) {
	srv, db := modelSetup(t, 20000)
	mustExec(t, db, `CREATE MODEL slow FROM (SELECT spend, calls, tier, signup, churn FROM customers) TARGET churn FUNCTION slow_fn`)
	require.Equal(t, "TRAINING", showModel(t, db, "slow")["Model State"])
	_, err := db.Exec("SELECT slow_fn(1, 1, 'a', '2020-01-01')")
	require.ErrorContains(t, err, "still training")
	mustExec(t, db, "DROP MODEL slow")
	_, err = db.Exec("SHOW MODEL slow")
	require.ErrorContains(t, err, "does not exist")

	mustExec(t, db, `CREATE MODEL slow FROM (SELECT spend, calls, tier, signup, churn FROM customers) TARGET churn FUNCTION slow_fn`)
	srv.Kill()
	srv.StartAgain()
	db = srv.DB("ml")
	m := showModel(t, db, "slow")
	require.Equal(t, "FAILED", m["Model State"])
	require.Contains(t, m["Failure Reason"], "restarted during training")
	_, err = db.Exec("SELECT slow_fn(1, 1, 'a', '2020-01-01')")
	require.ErrorContains(t, err, "training failed")

	// MAX_RUNTIME bounds training: the best candidate finished by then wins.
	mustExec(t, db, `CREATE MODEL quick FROM (SELECT spend, calls, tier, signup, churn FROM customers) TARGET churn FUNCTION quick_fn SETTINGS (MAX_RUNTIME 3)`)
	m = waitModel(t, db, "quick")
	elapsed := m["Elapsed Time (s)"]
	var secs float64
	fmt.Sscan(elapsed, &secs)
	require.Less(t, secs, 15.0, "%v", m)
}

func TestModelPrivileges(t *testing.T) {
	srv, root := modelSetup(t, 500)
	mustExec(t, root, "CREATE USER analyst IDENTIFIED BY 'pw'", "CREATE USER viewer IDENTIFIED BY 'pw'",
		"GRANT SELECT, CREATE ROUTINE ON ml.* TO analyst", "GRANT SELECT ON ml.* TO viewer")
	analyst := srv.Open(srv.DSN("analyst", "pw", "ml"))
	viewer := srv.Open(srv.DSN("viewer", "pw", "ml"))

	_, err := analyst.Exec("CREATE MODEL a_model FROM (SELECT spend, calls, churn FROM customers) TARGET churn FUNCTION a_fn")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1227, num)
	require.ErrorContains(t, err, "CREATE MODEL")

	mustExec(t, root, "GRANT CREATE MODEL TO analyst")
	require.Contains(t, showGrants(t, root, "analyst"), "CREATE_MODEL")
	mustExec(t, analyst, "CREATE MODEL a_model FROM (SELECT spend, calls, churn FROM customers) TARGET churn FUNCTION a_fn")
	require.Equal(t, "READY", waitModel(t, analyst, "a_model")["Model State"])
	var label string
	require.NoError(t, analyst.QueryRow("SELECT a_fn(1, 2)").Scan(&label), "the owner may use the model")

	_, err = viewer.Exec("SELECT a_fn(1, 2)")
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1370, num)
	_, err = viewer.Exec("SELECT explain_model('a_model')")
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1370, num)
	_, err = viewer.Exec("DROP MODEL a_model")
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1227, num)

	mustExec(t, root, "GRANT EXECUTE ON MODEL ml.a_model TO viewer")
	require.NoError(t, viewer.QueryRow("SELECT a_fn(1, 2)").Scan(&label))
	require.Contains(t, showGrants(t, root, "viewer"), "a_fn")
	mustExec(t, root, "REVOKE EXECUTE ON MODEL ml.a_model FROM viewer")
	_, err = viewer.Exec("SELECT a_fn_prob(1, 2)")
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1370, num)

	// The creator's privileges on the data apply to the training query.
	mustExec(t, root, "CREATE TABLE secret (a DOUBLE, b VARCHAR(3))", "REVOKE SELECT ON ml.* FROM analyst", "GRANT SELECT ON ml.customers TO analyst")
	_, err = analyst.Exec("CREATE MODEL peek FROM secret TARGET b FUNCTION peek_fn")
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1142, num)
	mustExec(t, analyst, "DROP MODEL a_model")
}

func TestBringYourOwnModelAndServeModel(t *testing.T) {
	srv, db := modelSetup(t, 1000)
	// A model trained outside SibylDB, with libxgboost, saved as JSON.
	rng := rand.New(rand.NewSource(3))
	m := xgb.Matrix{Rows: 500, Cols: 2, Data: make([]float32, 1000)}
	y := make([]float32, 500)
	for i := 0; i < 500; i++ {
		a, b := rng.Float32()*4, rng.Float32()*4
		m.Data[2*i], m.Data[2*i+1] = a, b
		y[i] = a*2 + b
	}
	res, err := xgb.Train(t.Context(), m, y, nil, nil, nil, xgb.TrainConfig{Params: [][2]string{{"objective", "reg:squarederror"}}, Rounds: 20})
	require.NoError(t, err)
	files := filepath.Join(srv.DataDir, ".sibyldb", "files")
	require.NoError(t, os.MkdirAll(files, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(files, "byom.json"), res.Model, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(files, "bad.json"), []byte(`{"learner": {"gradient_booster": 7}}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(files, "garbage.bin"), []byte{0x5b, 0x7b, 0x00, 0xff, 0x13}, 0o644))

	mustExec(t, db, fmt.Sprintf("CREATE MODEL byom FROM 'file://%s/byom.json' FUNCTION byom_fn (FLOAT, FLOAT) RETURNS FLOAT IAM_ROLE default", files))
	require.Equal(t, "READY", showModel(t, db, "byom")["Model State"])
	trees, err := gbtree.Parse(res.Model)
	require.NoError(t, err)
	want := make([]float64, 1)
	require.NoError(t, trees.Predict([]float64{1.5, 2.5}, want))
	var got float64
	require.NoError(t, db.QueryRow("SELECT byom_fn(1.5, 2.5)").Scan(&got))
	require.InDelta(t, want[0], got, 1e-4)

	for _, c := range []struct{ file, msg string }{
		{"bad.json", "invalid model file"},
		{"garbage.bin", "invalid model file"},
		{"missing.json", "no such file"},
	} {
		_, err := db.Exec(fmt.Sprintf("CREATE MODEL bad FROM 'file://%s/%s' FUNCTION bad_fn (FLOAT, FLOAT) RETURNS FLOAT", files, c.file))
		require.ErrorContains(t, err, c.msg, c.file)
	}
	_, err = db.Exec(fmt.Sprintf("CREATE MODEL bad FROM 'file://%s/byom.json' FUNCTION bad_fn (FLOAT) RETURNS FLOAT", files))
	require.ErrorContains(t, err, "2 features")

	// A LightGBM text model (30 features, binary): the function returns the
	// class, fn_prob the probability leaves computes.
	lgText, err := os.ReadFile("testdata/lightgbm_breast_cancer.txt")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(files, "lgb.txt"), lgText, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(files, "lgb_broken.txt"), lgText[:len(lgText)/3], 0o644))
	params := strings.TrimSuffix(strings.Repeat("DOUBLE, ", 30), ", ")
	mustExec(t, db, fmt.Sprintf("CREATE MODEL lgb FROM 'file://%s/lgb.txt' FUNCTION lgb_fn (%s) RETURNS INT", files, params))
	ens, err := leaves.LGEnsembleFromReader(bufio.NewReader(bytes.NewReader(lgText)), true)
	require.NoError(t, err)
	x := make([]float64, 30)
	args := make([]string, 30)
	for i := range x {
		x[i] = float64(i%7) * 1.5
		args[i] = fmt.Sprint(x[i])
	}
	var class int
	var prob float64
	require.NoError(t, db.QueryRow(fmt.Sprintf("SELECT lgb_fn(%[1]s), lgb_fn_prob(%[1]s)", strings.Join(args, ", "))).Scan(&class, &prob))
	require.InDelta(t, ens.PredictSingle(x, 0), prob, 1e-9)
	require.Equal(t, map[bool]int{true: 1, false: 0}[prob >= 0.5], class)
	_, err = db.Exec(fmt.Sprintf("CREATE MODEL lgb2 FROM 'file://%s/lgb_broken.txt' FUNCTION lgb2_fn (%s) RETURNS INT", files, params))
	require.ErrorContains(t, err, "invalid model file")

	// An ONNX model (one float input [batch, 3]), run by ONNX Runtime.
	require.NoError(t, os.WriteFile(filepath.Join(files, "lin.onnx"), testserver.ONNXLinearModel([]float32{1, 2, -1}, 0.5), 0o644))
	mustExec(t, db, fmt.Sprintf("CREATE MODEL lin FROM 'file://%s/lin.onnx' FUNCTION lin_fn (DOUBLE, DOUBLE, DOUBLE) RETURNS DOUBLE", files))
	require.NoError(t, db.QueryRow("SELECT lin_fn(1, 2, 3)").Scan(&got))
	require.InDelta(t, 1+4-3+0.5, got, 1e-6)
	require.EqualValues(t, 1000, queryInt(t, db, "SELECT COUNT(*) FROM customers WHERE ABS(lin_fn(spend, calls, 1) - (spend + 2 * calls - 0.5)) < 1e-3"),
		"batched over a table")
	_, err = db.Exec(fmt.Sprintf("CREATE MODEL lin2 FROM 'file://%s/lin.onnx' FUNCTION lin2_fn (DOUBLE) RETURNS DOUBLE", files))
	require.ErrorContains(t, err, "takes 3 features")
	_, err = db.Exec("CREATE MODEL bad FROM 'file:///etc/passwd' FUNCTION bad_fn (FLOAT) RETURNS FLOAT")
	require.ErrorContains(t, err, "secure-file-priv")

	// A model trained in SQL, deployed with serve-model, called back
	// through the SageMaker function machinery.
	mustExec(t, db, "CREATE MODEL churn FROM (SELECT spend, calls, tier, churn FROM customers) TARGET churn FUNCTION churn_local")
	require.Equal(t, "READY", waitModel(t, db, "churn")["Model State"])
	addr := freeAddr(t)
	cmd := exec.Command(testserver.Binary(t), "serve-model", "--data-dir", srv.DataDir, "--model", "churn", "--addr", addr)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stderr).ReadString('\n')
	require.NoError(t, err)
	require.Contains(t, line, "serving model churn")
	resp, err := http.Get("http://" + addr + "/ping")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)

	mustExec(t, db, fmt.Sprintf("CREATE ENDPOINT churn_service URL 'http://%s/invocations' PROTOCOL SAGEMAKER", addr),
		"CREATE FUNCTION churn_remote (spend DOUBLE, calls INT, tier VARCHAR(8)) RETURNS VARCHAR(3) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'churn_service'",
		"CREATE MODEL churn_sm FUNCTION churn_sm_fn (DOUBLE, INT, VARCHAR(8)) RETURNS VARCHAR(3) SAGEMAKER 'churn_service' IAM_ROLE default")
	var same, total int
	require.NoError(t, db.QueryRow(`SELECT SUM(churn_local(spend, calls, tier) = churn_remote(spend, calls, tier)
		AND churn_remote(spend, calls, tier) = churn_sm_fn(spend, calls, tier)), COUNT(*) FROM customers`).Scan(&same, &total))
	require.Equal(t, total, same, "the served model answers exactly as the in-database one")
	mustExec(t, db, "DROP MODEL churn_sm")
	_, err = db.Exec("SELECT churn_sm_fn(1, 1, 'a')")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1305, num)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
