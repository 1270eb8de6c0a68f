package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// predictRow runs sys.ML_PREDICT_ROW on one JSON row and decodes it.
func predictRow(t *testing.T, db *sql.DB, handle string, row string) map[string]any {
	t.Helper()
	var doc string
	require.NoError(t, db.QueryRow("SELECT sys.ML_PREDICT_ROW("+row+", ?, NULL)", handle).Scan(&doc))
	out := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(doc), &out), doc)
	return out
}

// heatwaveHandle reads a user variable holding a model handle on the
// connection conn.
func userVar(t *testing.T, conn *sql.Conn, name string) sql.NullString {
	t.Helper()
	var v sql.NullString
	require.NoError(t, conn.QueryRowContext(t.Context(), "SELECT @"+name).Scan(&v))
	return v
}

func TestHeatWaveTrainPredictScoreAndCatalog(t *testing.T) {
	srv, db := modelSetup(t, 2000)
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := conn.ExecContext(t.Context(), q, args...)
		require.NoErrorf(t, err, "exec %q", q)
	}

	// Classification with a generated handle; ML_TRAIN returns once the
	// model is trained.
	exec(`CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('task', 'classification',
		'exclude_column_list', JSON_ARRAY('id', 'value')), @churn)`)
	churn := userVar(t, conn, "churn")
	require.True(t, churn.Valid)
	require.Regexp(t, regexp.MustCompile(`^ml\.customers_root_[0-9]+$`), churn.String, "HeatWave's schema.table_user_number handle")
	exec("CALL sys.ML_MODEL_LOAD(@churn, NULL)")
	exec("CALL sys.ML_MODEL_UNLOAD(@churn)")

	// One row: the input echoed, Prediction and ml_results.
	row := predictRow(t, db, churn.String, `JSON_OBJECT('spend', 6.0, 'calls', 5, 'tier', 'b', 'signup', '2020-01-03')`)
	require.Equal(t, "yes", row["Prediction"])
	require.EqualValues(t, 5, row["calls"])
	ml := row["ml_results"].(map[string]any)
	require.Equal(t, "yes", ml["predictions"].(map[string]any)["class"])
	probs := ml["probabilities"].(map[string]any)
	require.InDelta(t, 1, probs["yes"].(float64)+probs["no"].(float64), 1e-9)
	require.Greater(t, probs["yes"].(float64), 0.5)
	row = predictRow(t, db, churn.String, `JSON_OBJECT('spend', -2.0, 'calls', 0, 'tier', 'a', 'signup', '2020-01-03')`)
	require.Equal(t, "no", row["Prediction"])

	// Over a table, per row.
	var rowAcc float64
	require.NoError(t, db.QueryRow(`SELECT AVG(JSON_UNQUOTE(JSON_EXTRACT(sys.ML_PREDICT_ROW(JSON_OBJECT('spend', spend, 'calls', calls,
		'tier', tier, 'signup', signup), ?, NULL), '$.Prediction')) = churn) FROM customers`, churn.String).Scan(&rowAcc))
	require.Greater(t, rowAcc, 0.9)

	// A whole table into a new one keyed like HeatWave's.
	exec("CALL sys.ML_PREDICT_TABLE('ml.customers', @churn, 'ml.churn_out', NULL)")
	require.EqualValues(t, 2000, queryInt(t, db, "SELECT COUNT(*) FROM churn_out"))
	var tableAcc float64
	require.NoError(t, db.QueryRow("SELECT AVG(Prediction = churn) FROM churn_out").Scan(&tableAcc))
	require.InDelta(t, rowAcc, tableAcc, 1e-9, "ML_PREDICT_ROW and ML_PREDICT_TABLE agree")
	var class string
	var probYes, probNo float64
	require.NoError(t, db.QueryRow(`SELECT JSON_UNQUOTE(JSON_EXTRACT(ml_results, '$.predictions.class')),
		JSON_EXTRACT(ml_results, '$.probabilities.yes'), JSON_EXTRACT(ml_results, '$.probabilities.no') FROM churn_out WHERE id = 7`).Scan(&class, &probYes, &probNo))
	require.InDelta(t, 1, probYes+probNo, 1e-9)
	require.Equal(t, class == "yes", probYes >= 0.5)

	// ML_SCORE on the same rows gives the same accuracy.
	exec("CALL sys.ML_SCORE('ml.customers', 'churn', @churn, 'accuracy', @acc, NULL)")
	var acc float64
	require.NoError(t, conn.QueryRowContext(t.Context(), "SELECT @acc").Scan(&acc))
	require.InDelta(t, tableAcc, acc, 1e-9)

	// Regression, with a handle chosen by the user.
	exec("SET @value_model = 'value_model'")
	exec(`CALL sys.ML_TRAIN('ml.customers', 'value', JSON_OBJECT('task', 'regression', 'include_column_list', JSON_ARRAY('spend', 'calls'),
		'model_list', JSON_ARRAY('LinearRegression'), 'notes', 'linear on purpose'), @value_model)`)
	require.Equal(t, "value_model", userVar(t, conn, "value_model").String)
	exec("CALL sys.ML_SCORE('ml.customers', 'value', 'value_model', 'r2', @r2)")
	exec("CALL sys.ML_SCORE('ml.customers', 'value', 'value_model', 'neg_mean_squared_error', @nmse, NULL)")
	var r2, nmse float64
	require.NoError(t, conn.QueryRowContext(t.Context(), "SELECT @r2, @nmse").Scan(&r2, &nmse))
	require.Greater(t, r2, 0.99)
	require.Less(t, nmse, 0.0)
	require.Greater(t, nmse, -0.1)
	row = predictRow(t, db, "value_model", `JSON_OBJECT('spend', 2, 'calls', 3)`)
	require.InDelta(t, 9, row["Prediction"].(float64), 0.2)
	require.InDelta(t, row["Prediction"].(float64), row["ml_results"].(map[string]any)["predictions"].(map[string]any)["prediction"].(float64), 1e-12)

	// The model catalog, with HeatWave's columns.
	rows, err := db.Query(`SELECT model_id, model_handle, model_owner, build_timestamp, target_column_name, train_table_name, model_type,
		task, column_names, model_metadata, notes FROM ML_SCHEMA_root.MODEL_CATALOG ORDER BY model_id`)
	require.NoError(t, err)
	type entry struct {
		id                                            int
		handle, owner                                 string
		built                                         int64
		target, table, mtype, task, cols, meta, notes sql.NullString
	}
	var entries []entry
	for rows.Next() {
		var e entry
		require.NoError(t, rows.Scan(&e.id, &e.handle, &e.owner, &e.built, &e.target, &e.table, &e.mtype, &e.task, &e.cols, &e.meta, &e.notes))
		entries = append(entries, e)
	}
	require.NoError(t, rows.Err())
	require.Len(t, entries, 2)
	require.Equal(t, churn.String, entries[0].handle)
	require.Equal(t, "root", entries[0].owner)
	require.Equal(t, "churn", entries[0].target.String)
	require.Equal(t, "ml.customers", entries[0].table.String)
	require.Equal(t, "classification", entries[0].task.String)
	require.JSONEq(t, `["spend","calls","tier","signup"]`, entries[0].cols.String)
	require.Greater(t, entries[0].built, int64(1_700_000_000))
	require.Equal(t, "value_model", entries[1].handle)
	require.Equal(t, "LinearRegression", entries[1].mtype.String)
	require.Equal(t, "regression", entries[1].task.String)
	require.Equal(t, "linear on purpose", entries[1].notes.String)
	meta := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(entries[1].meta.String), &meta))
	require.Equal(t, "Ready", meta["status"])
	require.EqualValues(t, 2000, meta["n_rows"])

	// A CREATE MODEL model is usable by the routines as db.name ...
	mustExec(t, db, "CREATE MODEL churn_cm FROM (SELECT spend, calls, tier, churn FROM customers) TARGET churn FUNCTION churn_fn")
	require.Equal(t, "READY", waitModel(t, db, "churn_cm")["Model State"])
	exec("CALL sys.ML_PREDICT_TABLE('ml.customers', 'ml.churn_cm', 'ml.cm_out', NULL)")
	require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM cm_out WHERE Prediction <> churn_fn(spend, calls, tier)"),
		"ML_PREDICT_TABLE with a CREATE MODEL model predicts what its function does")
	// ... and an ML_TRAIN model is an ordinary model with a function in
	// its owner's catalog schema.
	name := strings.ReplaceAll(churn.String, ".", "_")
	require.Equal(t, "READY", showModel(t, db, "ML_SCHEMA_root."+name)["Model State"])
	cat := srv.DB("ML_SCHEMA_root")
	var viaFn string
	require.NoError(t, cat.QueryRow("SELECT "+name+"(6.0, 5, 'b', '2020-01-03')").Scan(&viaFn))
	require.Equal(t, "yes", viaFn)

	// Handles survive a restart.
	srv.Restart()
	db = srv.DB("ml")
	require.Equal(t, "yes", predictRow(t, db, churn.String, `JSON_OBJECT('spend', 6.0, 'calls', 5, 'tier', 'b', 'signup', '2020-01-03')`)["Prediction"])
	row = predictRow(t, db, "value_model", `JSON_OBJECT('spend', 2, 'calls', 3)`)
	require.InDelta(t, 9, row["Prediction"].(float64), 0.2)
}

func TestHeatWaveErrors(t *testing.T) {
	_, db := modelSetup(t, 300)
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(t.Context(), "SET @m = 'small'")
	require.NoError(t, err)
	_, err = conn.ExecContext(t.Context(), "CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('task', 'classification', 'include_column_list', JSON_ARRAY('spend', 'calls')), @m)")
	require.NoError(t, err)
	_, err = conn.ExecContext(t.Context(), "CALL sys.ML_PREDICT_TABLE('ml.customers', 'small', 'ml.taken', NULL)")
	require.NoError(t, err)

	for _, tc := range []struct {
		name, stmt string
		code       uint16
		msg        string
	}{
		{"argument count", "CALL sys.ML_TRAIN('ml.customers', 'churn', NULL)", 1318, "Incorrect number of arguments for PROCEDURE sys.ML_TRAIN; expected 4, got 3"},
		{"out parameter not a variable", "CALL sys.ML_TRAIN('ml.customers', 'churn', NULL, 'x')", 1414, "OUT or INOUT argument 4 for routine sys.ML_TRAIN"},
		{"unsupported task", "CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('task', 'topic_modeling'), @x)", 1644, "ML001016"},
		{"unknown option", "CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('task', 'classification', 'nonsense', 1), @x)", 1644, "Invalid option 'nonsense'"},
		{"bad metric for task", "CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('optimization_metric', 'r2'), @x)", 1644, "Invalid optimization_metric 'r2'"},
		{"bad model_list", "CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('model_list', JSON_ARRAY('SVC')), @x)", 1644, "Invalid model 'SVC'"},
		{"missing target column", "CALL sys.ML_TRAIN('ml.customers', 'nope', NULL, @x)", 1644, "ML003018"},
		{"missing table", "CALL sys.ML_TRAIN('ml.nope', 'churn', NULL, @x)", 1146, "nope"},
		{"handle taken", "CALL sys.ML_TRAIN('ml.customers', 'churn', NULL, @m)", 1644, "ML003019"},
		{"unknown handle", "CALL sys.ML_MODEL_LOAD('no_such_model', NULL)", 1644, "ML003000"},
		{"null handle", "CALL sys.ML_MODEL_LOAD(NULL, NULL)", 1644, "ML003015"},
		{"output table exists", "CALL sys.ML_PREDICT_TABLE('ml.customers', 'small', 'ml.taken', NULL)", 1050, "Table 'taken' already exists"},
		{"score metric for other task", "CALL sys.ML_SCORE('ml.customers', 'churn', 'small', 'r2', @s)", 1644, "Invalid metric 'r2' for the classification task"},
		{"predict row unknown handle", "SELECT sys.ML_PREDICT_ROW(JSON_OBJECT('spend', 1), 'no_such_model', NULL)", 1644, "ML003000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := conn.ExecContext(t.Context(), tc.stmt)
			code, _ := mysqlErr(t, err)
			require.Equal(t, tc.code, code, "%v", err)
			require.ErrorContains(t, err, tc.msg)
		})
	}
	// The existing output table is left as it was.
	require.EqualValues(t, 300, queryInt(t, db, "SELECT COUNT(*) FROM taken"))
	// Placeholders of prepared statements (the driver prepares when it
	// does not interpolate) are refused clearly.
	_, err = db.Exec("CALL sys.ML_MODEL_LOAD(?, NULL)", "small")
	code, _ := mysqlErr(t, err)
	require.EqualValues(t, 1235, code)
	require.ErrorContains(t, err, "placeholders")
	// Other CALLs still reach GMS.
	_, err = db.Exec("CALL sys.no_such_routine()")
	require.Error(t, err)
}

func TestHeatWavePrivileges(t *testing.T) {
	srv, root := modelSetup(t, 500)
	mustExec(t, root, "CREATE USER analyst IDENTIFIED BY 'pw'", "CREATE USER viewer IDENTIFIED BY 'pw'",
		"CREATE DATABASE scratch", "CREATE TABLE ml.secret (a DOUBLE, b VARCHAR(3))",
		"GRANT SELECT ON ml.customers TO analyst", "GRANT SELECT ON ml.customers TO viewer",
		"GRANT CREATE, INSERT ON scratch.* TO viewer")
	analyst := srv.Open(srv.DSN("analyst", "pw", "ml"))
	viewer := srv.Open(srv.DSN("viewer", "pw", "ml"))
	train := "CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('include_column_list', JSON_ARRAY('spend', 'calls', 'tier')), @a)"

	// Training adds to the model store: it needs CREATE MODEL, as CREATE
	// MODEL does.
	_, err := analyst.Exec(train)
	code, _ := mysqlErr(t, err)
	require.EqualValues(t, 1227, code)
	mustExec(t, root, "GRANT CREATE MODEL TO analyst")

	// The training data is read with the caller's privileges.
	_, err = analyst.Exec("CALL sys.ML_TRAIN('ml.secret', 'b', NULL, @s)")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1142, code)

	conn, err := analyst.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(t.Context(), train)
	require.NoError(t, err)
	handle := userVar(t, conn, "a").String
	require.Regexp(t, `^ml\.customers_analyst_[0-9]+$`, handle)

	// The owner reads its catalog; others do not.
	require.EqualValues(t, 1, queryInt(t, analyst, "SELECT COUNT(*) FROM ML_SCHEMA_analyst.MODEL_CATALOG WHERE model_owner = 'analyst'"))
	_, err = viewer.Query("SELECT * FROM ML_SCHEMA_analyst.MODEL_CATALOG")
	code, _ = mysqlErr(t, err)
	require.Contains(t, []uint16{1044, 1142}, code)

	// Another user may not use the model ...
	row := `JSON_OBJECT('spend', 6.0, 'calls', 5, 'tier', 'b')`
	_, err = viewer.Exec("SELECT sys.ML_PREDICT_ROW("+row+", ?, NULL)", handle)
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1370, code)
	_, err = viewer.Exec("CALL sys.ML_PREDICT_TABLE('ml.customers', '" + handle + "', 'scratch.v_out', NULL)")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1370, code)
	_, err = viewer.Exec("CALL sys.ML_SCORE('ml.customers', 'churn', '" + handle + "', 'accuracy', @s)")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1370, code)

	// ... until granted EXECUTE on it.
	name := strings.ReplaceAll(handle, ".", "_")
	mustExec(t, root, "GRANT EXECUTE ON MODEL ML_SCHEMA_analyst."+name+" TO viewer")
	var doc string
	require.NoError(t, viewer.QueryRow("SELECT sys.ML_PREDICT_ROW("+row+", ?, NULL)", handle).Scan(&doc))
	require.Contains(t, doc, `"Prediction": "yes"`)
	mustExec(t, viewer, "CALL sys.ML_PREDICT_TABLE('ml.customers', '"+handle+"', 'scratch.v_out', NULL)")
	require.EqualValues(t, 500, queryInt(t, root, "SELECT COUNT(*) FROM scratch.v_out"))

	// The output table needs CREATE and INSERT on its database; the input
	// needs SELECT.
	_, err = analyst.Exec("CALL sys.ML_PREDICT_TABLE('ml.customers', '" + handle + "', 'scratch.a_out', NULL)")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1142, code)
	_, err = viewer.Exec("CALL sys.ML_PREDICT_TABLE('ml.secret', '" + handle + "', 'scratch.v_out2', NULL)")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1142, code)
	require.EqualValues(t, 0, queryInt(t, root, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'scratch' AND table_name IN ('a_out', 'v_out2')"))

	// Model catalog schemas are the server's, which writes MODEL_CATALOG in
	// its own unchecked sessions: nobody, root included, may prepare one
	// for another user, change a catalog table or put a trigger there (it
	// would run with the server's rights when the next model is recorded).
	for _, q := range []string{
		"CREATE DATABASE ML_SCHEMA_viewer",
		"CREATE DATABASE ml_schema_Viewer2",
		"CREATE TRIGGER grab AFTER INSERT ON ML_SCHEMA_analyst.MODEL_CATALOG FOR EACH ROW SET @x = 1",
		"INSERT INTO ML_SCHEMA_analyst.MODEL_CATALOG (model_handle) VALUES ('forged')",
		"DELETE FROM ML_SCHEMA_analyst.MODEL_CATALOG",
		"ALTER TABLE ML_SCHEMA_analyst.MODEL_CATALOG ADD COLUMN x INT",
		"DROP TABLE ML_SCHEMA_analyst.MODEL_CATALOG",
	} {
		_, err := root.Exec(q)
		code, _ := mysqlErr(t, err)
		require.EqualValues(t, 1044, code, q)
	}
	require.EqualValues(t, 1, queryInt(t, analyst, "SELECT COUNT(*) FROM ML_SCHEMA_analyst.MODEL_CATALOG"))

	// DROP MODEL of the model takes its catalog row with it.
	var sibylModel string
	require.NoError(t, analyst.QueryRow("SELECT JSON_UNQUOTE(JSON_EXTRACT(model_metadata, '$.sibyl_model')) FROM ML_SCHEMA_analyst.MODEL_CATALOG WHERE model_handle = ?", handle).Scan(&sibylModel))
	mustExec(t, analyst, "DROP MODEL "+sibylModel)
	require.EqualValues(t, 0, queryInt(t, analyst, "SELECT COUNT(*) FROM ML_SCHEMA_analyst.MODEL_CATALOG"))
}

// seasonalValue is a 30-minute series with a daily and a weekly cycle.
func seasonalValue(i int) float64 {
	day := float64(i%48) / 48
	dow := (i / 48) % 7
	v := 1000 + 600*math.Sin(2*math.Pi*day)
	if dow >= 5 {
		v *= 0.7
	}
	return v
}

func TestHeatWaveForecasting(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE ts", "CREATE TABLE ts.demand (at DATETIME PRIMARY KEY, value DOUBLE)",
		"CREATE TABLE ts.future (at DATETIME PRIMARY KEY)")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday
	const n = 5 * 7 * 48
	rng := rand.New(rand.NewSource(5))
	var sb strings.Builder
	for i := 0; i < n; i++ {
		if sb.Len() == 0 {
			sb.WriteString("INSERT INTO ts.demand VALUES ")
		} else {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "('%s', %.3f)", start.Add(time.Duration(i)*30*time.Minute).Format(time.DateTime), seasonalValue(i)+rng.NormFloat64()*20)
		if i%1000 == 999 || i == n-1 {
			mustExec(t, db, sb.String())
			sb.Reset()
		}
	}
	for i := n; i <= n+48; i++ { // one row past the horizon
		mustExec(t, db, fmt.Sprintf("INSERT INTO ts.future VALUES ('%s')", start.Add(time.Duration(i)*30*time.Minute).Format(time.DateTime)))
	}

	conn, err := srv.DB("ts").Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(t.Context(), `CALL sys.ML_TRAIN('ts.demand', 'value', JSON_OBJECT('task', 'forecasting',
		'datetime_index', 'at', 'endogenous_variables', JSON_ARRAY('value'), 'horizon', 48), @fc)`)
	require.NoError(t, err)
	_, err = conn.ExecContext(t.Context(), "CALL sys.ML_PREDICT_TABLE('ts.future', @fc, 'ts.forecast', NULL)")
	require.NoError(t, err)

	rows, err := db.Query(`SELECT at, Prediction, JSON_EXTRACT(ml_results, '$.prediction_interval_value[0]'),
		JSON_EXTRACT(ml_results, '$.prediction_interval_value[1]') FROM ts.forecast ORDER BY at`)
	require.NoError(t, err)
	defer rows.Close()
	var absErr float64
	k := 0
	for rows.Next() {
		var at string
		var pred, lo, hi sql.NullFloat64
		require.NoError(t, rows.Scan(&at, &pred, &lo, &hi))
		if k == 48 {
			require.False(t, pred.Valid, "past the horizon")
			break
		}
		require.True(t, pred.Valid && lo.Valid && hi.Valid, "step %d", k)
		require.LessOrEqual(t, lo.Float64, pred.Float64)
		require.GreaterOrEqual(t, hi.Float64, pred.Float64)
		absErr += math.Abs(pred.Float64 - seasonalValue(n+k))
		k++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 48, k)
	require.Less(t, absErr/48, 40.0, "the forecast follows the daily cycle (amplitude 600, noise 20)")

	var task, mtype string
	require.NoError(t, db.QueryRow("SELECT task, model_type FROM ML_SCHEMA_root.MODEL_CATALOG").Scan(&task, &mtype))
	require.Equal(t, "forecasting", task)
	require.Contains(t, []string{"SeasonalNaive", "HoltWinters", "GBTLags", "Ensemble"}, mtype)

	_, err = conn.ExecContext(t.Context(), "SELECT sys.ML_PREDICT_ROW(JSON_OBJECT('at', '2024-02-05 00:00:00'), @fc, NULL)")
	code, _ := mysqlErr(t, err)
	require.EqualValues(t, 1644, code)
	_, err = conn.ExecContext(t.Context(), "CALL sys.ML_TRAIN('ts.demand', 'value', JSON_OBJECT('task', 'forecasting'), @x)")
	require.ErrorContains(t, err, "datetime_index")

	// The forecast survives a restart.
	srv.Restart()
	var got float64
	require.NoError(t, srv.DB("ts").QueryRow("SELECT Prediction FROM forecast WHERE at = ?", start.Add(time.Duration(n)*30*time.Minute).Format(time.DateTime)).Scan(&got))
	mustExec(t, srv.DB("ts"), "CALL sys.ML_PREDICT_TABLE('ts.future', '"+handleOf(t, db)+"', 'ts.forecast2', NULL)")
	var again float64
	require.NoError(t, srv.DB("ts").QueryRow("SELECT Prediction FROM forecast2 WHERE at = ?", start.Add(time.Duration(n)*30*time.Minute).Format(time.DateTime)).Scan(&again))
	require.InDelta(t, got, again, 1e-9)
}

func TestRedshiftForecastModel(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE ts", "CREATE TABLE ts.sales (store VARCHAR(8), at DATETIME, units DOUBLE, PRIMARY KEY (store, at))")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 5 * 7 * 48
	rng := rand.New(rand.NewSource(9))
	for _, store := range []string{"north", "south"} {
		scale := map[string]float64{"north": 1, "south": 3}[store]
		var sb strings.Builder
		for i := 0; i < n; i++ {
			if sb.Len() == 0 {
				sb.WriteString("INSERT INTO ts.sales VALUES ")
			} else {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "('%s', '%s', %.3f)", store, start.Add(time.Duration(i)*30*time.Minute).Format(time.DateTime), scale*seasonalValue(i)+rng.NormFloat64()*10)
			if i%1000 == 999 || i == n-1 {
				mustExec(t, db, sb.String())
				sb.Reset()
			}
		}
	}
	ts := srv.DB("ts")
	mustExec(t, ts, `CREATE MODEL sales_fc FROM (SELECT store, at, units FROM sales) TARGET units IAM_ROLE default AUTO ON
		MODEL_TYPE FORECAST SETTINGS (S3_BUCKET 'bucket', HORIZON 24, FREQUENCY '30min', PERCENTILES '0.1,0.5,0.9,mean')`)
	require.Equal(t, "READY", waitModel(t, ts, "sales_fc")["Model State"])

	rows, err := ts.Query("SELECT * FROM FORECAST(sales_fc)")
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	require.Equal(t, []string{"id", "time", "mean", "p10", "p50", "p90"}, cols)
	seen := map[string]int{}
	for rows.Next() {
		var id, at string
		var mean, p10, p50, p90 float64
		require.NoError(t, rows.Scan(&id, &at, &mean, &p10, &p50, &p90))
		k := seen[id]
		require.Equal(t, start.Add(time.Duration(n+k)*30*time.Minute).Format(time.DateTime), at[:19])
		scale := map[string]float64{"north": 1, "south": 3}[id]
		require.InDelta(t, scale*seasonalValue(n+k), mean, scale*60, "%s step %d", id, k)
		require.LessOrEqual(t, p10, p90)
		seen[id]++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]int{"north": 24, "south": 24}, seen)

	for _, tc := range []struct{ stmt, msg string }{
		{"CREATE MODEL f2 FROM sales TARGET units MODEL_TYPE FORECAST SETTINGS (FREQUENCY 'H')", "HORIZON"},
		{"CREATE MODEL f3 FROM sales TARGET units MODEL_TYPE FORECAST SETTINGS (HORIZON 5, FREQUENCY 'fortnight')", "FREQUENCY"},
		{"CREATE MODEL f4 FROM sales TARGET units FUNCTION f4 MODEL_TYPE FORECAST SETTINGS (HORIZON 5)", "takes no FUNCTION"},
		{"SELECT * FROM FORECAST(no_such_model)", "not a forecasting model"},
	} {
		_, err := ts.Exec(tc.stmt)
		require.ErrorContains(t, err, tc.msg, tc.stmt)
	}
}

func TestHeatWaveRecommendation(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE shop", "CREATE TABLE shop.ratings (user_id INT, product_id VARCHAR(8), rating DOUBLE, PRIMARY KEY (user_id, product_id))",
		"CREATE TABLE shop.who (user_id INT PRIMARY KEY)")
	// Two taste groups: even users rate even products, odd users odd
	// ones; each user leaves some of its group unrated.
	rng := rand.New(rand.NewSource(4))
	var sb strings.Builder
	sb.WriteString("INSERT INTO shop.ratings VALUES ")
	first := true
	for u := 0; u < 60; u++ {
		for p := u % 2; p < 40; p += 2 {
			if rng.Float64() < 0.4 {
				continue
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			fmt.Fprintf(&sb, "(%d, 'p%02d', %d)", u, p, 3+rng.Intn(3))
		}
	}
	mustExec(t, db, sb.String(), "INSERT INTO shop.who VALUES (1), (2), (999)")

	conn, err := srv.DB("shop").Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(t.Context(), `CALL sys.ML_TRAIN('shop.ratings', 'rating', JSON_OBJECT('task', 'recommendation',
		'users', 'user_id', 'items', 'product_id'), @rec)`)
	require.NoError(t, err)

	// Scores of (user, item): the user's own group scores higher.
	var own, other float64
	require.NoError(t, conn.QueryRowContext(t.Context(), `SELECT
		JSON_EXTRACT(sys.ML_PREDICT_ROW(JSON_OBJECT('user_id', 2, 'product_id', 'p10'), @rec, NULL), '$.Prediction'),
		JSON_EXTRACT(sys.ML_PREDICT_ROW(JSON_OBJECT('user_id', 2, 'product_id', 'p11'), @rec, NULL), '$.Prediction')`).Scan(&own, &other))
	require.Greater(t, own, other)

	// Top-k items per user, without the ones already rated.
	_, err = conn.ExecContext(t.Context(), `CALL sys.ML_PREDICT_TABLE('shop.who', @rec, 'shop.recs',
		JSON_OBJECT('recommend', 'items', 'topk', 5, 'remove_seen', 'true'))`)
	require.NoError(t, err)
	rows, err := db.Query("SELECT user_id, Prediction, JSON_EXTRACT(ml_results, '$.predictions.product_id') FROM shop.recs ORDER BY user_id")
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var user int
		var pred, list sql.NullString
		require.NoError(t, rows.Scan(&user, &pred, &list))
		n++
		if user == 999 {
			require.False(t, pred.Valid, "an unknown user gets no recommendation")
			continue
		}
		var items []string
		require.NoError(t, json.Unmarshal([]byte(list.String), &items))
		require.Len(t, items, 5)
		require.Equal(t, strings.Join(items, ","), pred.String)
		for _, it := range items {
			var p int
			_, err := fmt.Sscanf(it, "p%d", &p)
			require.NoError(t, err)
			require.Equal(t, user%2, p%2, "user %d gets products of its group: %v", user, items)
			require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM shop.ratings WHERE user_id = ? AND product_id = ?", user, it), "seen items are removed")
		}
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 3, n)

	// The model is also a SQL function of (user, item) in its owner's
	// catalog schema, as a Redshift model's function is.
	var handle string
	require.NoError(t, conn.QueryRowContext(t.Context(), "SELECT @rec").Scan(&handle))
	fn := strings.ReplaceAll(handle, ".", "_")
	var viaFn float64
	require.NoError(t, srv.DB("ML_SCHEMA_root").QueryRow("SELECT "+fn+"(2, 'p10')").Scan(&viaFn))
	require.InDelta(t, own, viaFn, 1e-9)

	var task, mtype string
	require.NoError(t, db.QueryRow("SELECT task, model_type FROM ML_SCHEMA_root.MODEL_CATALOG").Scan(&task, &mtype))
	require.Equal(t, []string{"recommendation", "ALS"}, []string{task, mtype})

	_, err = conn.ExecContext(t.Context(), "CALL sys.ML_TRAIN('shop.ratings', 'rating', JSON_OBJECT('task', 'recommendation', 'users', 'user_id'), @x)")
	require.ErrorContains(t, err, "'users' and 'items'")

	// The trained factors survive a restart, function included.
	srv.Restart()
	var again float64
	require.NoError(t, srv.DB("shop").QueryRow("SELECT JSON_EXTRACT(sys.ML_PREDICT_ROW(JSON_OBJECT('user_id', 2, 'product_id', 'p10'), ?, NULL), '$.Prediction')", handle).Scan(&again))
	require.InDelta(t, own, again, 1e-9)
	require.NoError(t, srv.DB("ML_SCHEMA_root").QueryRow("SELECT "+fn+"(2, 'p10')").Scan(&again))
	require.InDelta(t, own, again, 1e-9)
}

// handleOf is root's only model handle in its catalog.
func handleOf(t *testing.T, db *sql.DB) string {
	t.Helper()
	var h string
	require.NoError(t, db.QueryRow("SELECT model_handle FROM ML_SCHEMA_root.MODEL_CATALOG").Scan(&h))
	return h
}
