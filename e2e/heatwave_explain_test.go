package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// explainRow runs sys.ML_EXPLAIN_ROW on one JSON row and decodes it.
func explainRow(t *testing.T, db *sql.DB, handle, row, opts string) map[string]any {
	t.Helper()
	var doc string
	require.NoError(t, db.QueryRow("SELECT sys.ML_EXPLAIN_ROW("+row+", ?, "+opts+")", handle).Scan(&doc))
	out := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(doc), &out), doc)
	return out
}

// attributionSum is the sum of a row explanation's <col>_attribution
// values over cols.
func attributionSum(t *testing.T, doc map[string]any, cols ...string) float64 {
	t.Helper()
	sum := 0.0
	for _, c := range cols {
		v, ok := doc[c+"_attribution"].(float64)
		require.Truef(t, ok, "%s_attribution missing in %v", c, doc)
		sum += v
	}
	return sum
}

// explainSetup makes ml.house: price = 3a - 2b + 5 [c = 'x'] + noise,
// with an irrelevant column d.
func explainSetup(t *testing.T, db *sql.DB) {
	t.Helper()
	mustExec(t, db, "CREATE TABLE ml.house (id INT PRIMARY KEY, a DOUBLE, b DOUBLE, c VARCHAR(4), d DOUBLE, price DOUBLE)")
	rng := rand.New(rand.NewSource(3))
	var sb strings.Builder
	sb.WriteString("INSERT INTO ml.house VALUES ")
	for i := 0; i < 1500; i++ {
		a, b, d := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		c := []string{"x", "y", "z"}[rng.Intn(3)]
		price := 3*a - 2*b + rng.NormFloat64()*0.1
		if c == "x" {
			price += 5
		}
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "(%d,%.5f,%.5f,'%s',%.5f,%.5f)", i, a, b, c, d, price)
	}
	mustExec(t, db, sb.String())
}

func TestHeatWaveExplainRow(t *testing.T) {
	srv, db := modelSetup(t, 2000)
	explainSetup(t, db)
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	exec := func(q string) {
		t.Helper()
		_, err := conn.ExecContext(t.Context(), q)
		require.NoErrorf(t, err, "exec %q", q)
	}
	cols := []string{"a", "b", "c", "d"}
	exec(`CALL sys.ML_TRAIN('ml.house', 'price', JSON_OBJECT('task', 'regression', 'model_list', JSON_ARRAY('XGBRegressor'),
		'exclude_column_list', JSON_ARRAY('id')), @trees)`)
	exec(`CALL sys.ML_TRAIN('ml.house', 'price', JSON_OBJECT('task', 'regression', 'model_list', JSON_ARRAY('LinearRegression'),
		'exclude_column_list', JSON_ARRAY('id')), @linear)`)
	exec(`CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('task', 'classification', 'model_list', JSON_ARRAY('XGBClassifier'),
		'include_column_list', JSON_ARRAY('spend', 'calls', 'tier')), @churn)`)
	trees, linear, churn := userVar(t, conn, "trees").String, userVar(t, conn, "linear").String, userVar(t, conn, "churn").String

	row := `JSON_OBJECT('a', 2.0, 'b', -1.0, 'c', 'x', 'd', 0.3, 'note', 'kept')`
	for _, tc := range []struct {
		name, handle string
	}{{"trees", trees}, {"linear", linear}} {
		t.Run(tc.name, func(t *testing.T) {
			doc := explainRow(t, db, tc.handle, row, "NULL")
			// HeatWave's shape: the input (extra columns kept), Prediction,
			// Notes, <column>_attribution, ml_results.
			require.Equal(t, "kept", doc["note"])
			pred := doc["Prediction"].(float64)
			require.InDelta(t, 3*2+2+5, pred, 0.8)
			ml := doc["ml_results"].(map[string]any)
			attrs := ml["attributions"].(map[string]any)
			require.Len(t, attrs, 4)
			for _, c := range cols {
				require.Equal(t, doc[c+"_attribution"], attrs[c])
			}
			// Shapley efficiency: the attributions add up to the
			// prediction minus the expected value.
			expected := ml["expected_value"].(float64)
			require.InDelta(t, pred, expected+attributionSum(t, doc, cols...), 1e-3*(1+math.Abs(pred)))
			// a (3 x 2 above its mean of ~0) and c = 'x' drive the price;
			// d does nothing.
			require.Greater(t, doc["a_attribution"].(float64), 4.0)
			require.Greater(t, doc["c_attribution"].(float64), 2.0)
			require.Greater(t, doc["b_attribution"].(float64), 1.0)
			require.Less(t, math.Abs(doc["d_attribution"].(float64)), 0.5)
			require.Equal(t, "a (2) had the largest impact towards the predicted value", doc["Notes"])
			require.Equal(t, doc["Notes"], ml["notes"])
		})
	}

	// A linear model's attribution is its coefficient times the distance
	// from the mean: one more unit of a adds 3.
	lo := explainRow(t, db, linear, `JSON_OBJECT('a', 0.5, 'b', 0.0, 'c', 'y', 'd', 0.0)`, "NULL")
	hi := explainRow(t, db, linear, `JSON_OBJECT('a', 1.5, 'b', 0.0, 'c', 'y', 'd', 0.0)`, "NULL")
	require.InDelta(t, 3, hi["a_attribution"].(float64)-lo["a_attribution"].(float64), 0.05)
	require.InDelta(t, 0, hi["b_attribution"].(float64)-lo["b_attribution"].(float64), 1e-9)

	// Classifier: attributions are in log-odds towards the predicted
	// class, adding up to its logit minus the expected one.
	for _, r := range []string{
		`JSON_OBJECT('spend', 6.0, 'calls', 5, 'tier', 'b')`,
		`JSON_OBJECT('spend', -2.0, 'calls', 0, 'tier', 'a')`,
	} {
		doc := explainRow(t, db, churn, r, "JSON_OBJECT('prediction_explainer', 'permutation_importance')")
		pred := doc["Prediction"].(string)
		ml := doc["ml_results"].(map[string]any)
		p := ml["probabilities"].(map[string]any)[pred].(float64)
		require.Greater(t, p, 0.5)
		logit := math.Log(p / (1 - p))
		require.InDelta(t, logit, ml["expected_value"].(float64)+attributionSum(t, doc, "spend", "calls", "tier"), 1e-3*(1+math.Abs(logit)))
		require.Contains(t, doc["Notes"], "had the largest impact towards predicting "+pred)
	}

	// Over a table, per row, in one query.
	var n, bad int64
	require.NoError(t, db.QueryRow(`SELECT COUNT(*), SUM(ABS(JSON_EXTRACT(e, '$.Prediction') - JSON_EXTRACT(e, '$.ml_results.expected_value')
		- JSON_EXTRACT(e, '$.a_attribution') - JSON_EXTRACT(e, '$.b_attribution') - JSON_EXTRACT(e, '$.c_attribution') - JSON_EXTRACT(e, '$.d_attribution')) > 0.01)
		FROM (SELECT sys.ML_EXPLAIN_ROW(JSON_OBJECT('a', a, 'b', b, 'c', c, 'd', d), ?, NULL) AS e FROM house) x`, trees).Scan(&n, &bad))
	require.EqualValues(t, 1500, n)
	require.EqualValues(t, 0, bad)

	// The shap prediction explainer needs ML_EXPLAIN first.
	_, err = db.Exec("SELECT sys.ML_EXPLAIN_ROW("+row+", ?, JSON_OBJECT('prediction_explainer', 'shap'))", trees)
	code, _ := mysqlErr(t, err)
	require.EqualValues(t, 1644, code)
	require.ErrorContains(t, err, "run sys.ML_EXPLAIN")
	_, err = db.Exec("SELECT sys.ML_EXPLAIN_ROW("+row+", ?, JSON_OBJECT('prediction_explainer', 'lime'))", trees)
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1644, code)

	// Forecasting and recommendation models are not explained.
	mustExec(t, db, "CREATE TABLE ml.series (ts DATETIME PRIMARY KEY, y DOUBLE)")
	var sb strings.Builder
	sb.WriteString("INSERT INTO ml.series VALUES ")
	for i := 0; i < 400; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "(TIMESTAMP('2024-01-01') + INTERVAL %d HOUR, %.3f)", i, 10+5*math.Sin(float64(i)*2*math.Pi/24))
	}
	mustExec(t, db, sb.String())
	exec(`CALL sys.ML_TRAIN('ml.series', 'y', JSON_OBJECT('task', 'forecasting', 'datetime_index', 'ts', 'endogenous_variables', JSON_ARRAY('y')), @fc)`)
	_, err = db.Exec("SELECT sys.ML_EXPLAIN_ROW(JSON_OBJECT('ts', '2024-02-01'), ?, NULL)", userVar(t, conn, "fc").String)
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1644, code)
	require.ErrorContains(t, err, "forecasting")
	_ = srv
}

func TestHeatWaveExplainAndExplainTable(t *testing.T) {
	srv, root := modelSetup(t, 10)
	explainSetup(t, root)
	mustExec(t, root, "CREATE USER owner IDENTIFIED BY 'pw'", "CREATE USER other IDENTIFIED BY 'pw'",
		"GRANT SELECT ON ml.* TO owner", "GRANT CREATE MODEL TO owner", "GRANT CREATE, INSERT ON ml.* TO owner",
		"GRANT SELECT ON ml.house TO other", "CREATE TABLE ml.house_new AS SELECT id, a, b, c, d FROM ml.house WHERE id < 20")
	db := srv.Open(srv.DSN("owner", "pw", "ml"))
	other := srv.Open(srv.DSN("other", "pw", "ml"))
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	exec := func(q string) {
		t.Helper()
		_, err := conn.ExecContext(t.Context(), q)
		require.NoErrorf(t, err, "exec %q", q)
	}
	exec(`CALL sys.ML_TRAIN('ml.house', 'price', JSON_OBJECT('task', 'regression', 'model_list', JSON_ARRAY('XGBRegressor'),
		'exclude_column_list', JSON_ARRAY('id')), @m)`)
	handle := userVar(t, conn, "m").String
	catalogJSON := func(col string) map[string]any {
		t.Helper()
		var s string
		require.NoError(t, db.QueryRow("SELECT "+col+" FROM ML_SCHEMA_owner.MODEL_CATALOG WHERE model_handle = ?", handle).Scan(&s))
		out := map[string]any{}
		require.NoError(t, json.Unmarshal([]byte(s), &out), s)
		return out
	}

	// ML_TRAIN trains the permutation_importance explainers: the model
	// explanation ranks the columns that drive the target first.
	pi := catalogJSON("model_explanation")["permutation_importance"].(map[string]any)
	require.Greater(t, pi["a"].(float64), pi["d"].(float64)+0.1)
	require.Greater(t, pi["c"].(float64), pi["d"].(float64)+0.1)
	require.Less(t, math.Abs(pi["d"].(float64)), 0.05)

	// ML_EXPLAIN with shap: the model explanation gains mean |SHAP| and
	// the shap prediction explainer becomes usable.
	exec("CALL sys.ML_EXPLAIN('ml.house', 'price', @m, JSON_OBJECT('model_explainer', 'shap', 'prediction_explainer', 'shap'))")
	expl := catalogJSON("model_explanation")
	require.Contains(t, expl, "permutation_importance")
	shap := expl["shap"].(map[string]any)
	// Mean |3a| over a standard normal a is 3·sqrt(2/π) ≈ 2.39.
	require.InDelta(t, 2.39, shap["a"].(float64), 0.3)
	require.Less(t, shap["d"].(float64), 0.2)
	opts := catalogJSON("model_metadata")["options"].(map[string]any)
	require.Equal(t, "shap", opts["prediction_explainer"])
	require.Equal(t, "permutation_importance, shap", opts["model_explainer"])
	doc := explainRow(t, db, handle, `JSON_OBJECT('a', 1.0, 'b', 0.0, 'c', 'y', 'd', 0.0)`, "JSON_OBJECT('prediction_explainer', 'shap')")
	require.Greater(t, doc["a_attribution"].(float64), 2.0)

	// partial_dependence over one column: the mean prediction rises with a.
	exec("CALL sys.ML_EXPLAIN('ml.house', 'price', @m, JSON_OBJECT('model_explainer', 'partial_dependence', 'columns_to_explain', JSON_ARRAY('a')))")
	pd := catalogJSON("model_explanation")["partial_dependence"].(map[string]any)["a"].(map[string]any)
	preds := pd["predictions"].([]any)
	require.GreaterOrEqual(t, len(preds), 5)
	require.Greater(t, preds[len(preds)-1].(float64)-preds[0].(float64), 10.0)

	// ML_EXPLAIN_TABLE: the input rows with Prediction, Notes, one
	// attribution column per feature and ml_results.
	exec("CALL sys.ML_EXPLAIN_TABLE('ml.house_new', @m, 'ml.house_explained', NULL)")
	require.EqualValues(t, 20, queryInt(t, db, "SELECT COUNT(*) FROM house_explained"))
	require.EqualValues(t, 0, queryInt(t, db, `SELECT COUNT(*) FROM house_explained WHERE
		ABS(Prediction - JSON_EXTRACT(ml_results, '$.expected_value') - a_attribution - b_attribution - c_attribution - d_attribution) > 0.01
		OR Notes NOT LIKE '% had the largest impact towards the predicted value'`))
	var colNames []string
	rows, err := db.Query("SELECT column_name FROM information_schema.columns WHERE table_schema = 'ml' AND table_name = 'house_explained' ORDER BY ordinal_position")
	require.NoError(t, err)
	for rows.Next() {
		var c string
		require.NoError(t, rows.Scan(&c))
		colNames = append(colNames, c)
	}
	require.NoError(t, rows.Err())
	// house_new has no primary key: HeatWave's counter column keys it.
	require.Equal(t, []string{"_4aad19ca6e_pk_id", "id", "a", "b", "c", "d", "Prediction", "Notes", "a_attribution", "b_attribution", "c_attribution", "d_attribution", "ml_results"}, colNames)
	_, err = db.Exec("CALL sys.ML_EXPLAIN_TABLE('ml.house_new', '" + handle + "', 'ml.house_explained', NULL)")
	code, _ := mysqlErr(t, err)
	require.EqualValues(t, 1050, code)

	// Only the owner may retrain explainers; another user may not even
	// see the model until granted EXECUTE on it, and then may explain
	// with it but not change it.
	name := strings.ReplaceAll(handle, ".", "_")
	_, err = other.Exec("CALL sys.ML_EXPLAIN('ml.house', 'price', '" + handle + "', NULL)")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1370, code)
	mustExec(t, root, "GRANT EXECUTE ON MODEL ML_SCHEMA_owner."+name+" TO other")
	explainRow(t, other, handle, `JSON_OBJECT('a', 1.0, 'b', 0.0, 'c', 'y', 'd', 0.0)`, "NULL")
	_, err = other.Exec("CALL sys.ML_EXPLAIN('ml.house', 'price', '" + handle + "', NULL)")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1644, code)
	require.ErrorContains(t, err, "only its owner")

	// Bad options are refused.
	for _, q := range []string{
		"CALL sys.ML_EXPLAIN('ml.house', 'price', @m, JSON_OBJECT('model_explainer', 'lime'))",
		"CALL sys.ML_EXPLAIN('ml.house', 'price', @m, JSON_OBJECT('columns_to_explain', JSON_ARRAY('a')))",
		"CALL sys.ML_EXPLAIN('ml.house', 'price', @m, JSON_OBJECT('model_explainer', 'partial_dependence', 'columns_to_explain', JSON_ARRAY('zz')))",
		"CALL sys.ML_EXPLAIN('ml.house', 'nope', @m, NULL)",
	} {
		_, err := conn.ExecContext(t.Context(), q)
		code, _ := mysqlErr(t, err)
		require.EqualValues(t, 1644, code, q)
	}

	// Each ML_EXPLAIN sets the prediction explainer (the partial
	// dependence run above went back to permutation_importance); the
	// explainers survive a restart with the model.
	_, err = db.Exec("SELECT sys.ML_EXPLAIN_ROW(JSON_OBJECT('a', 1.0), ?, JSON_OBJECT('prediction_explainer', 'shap'))", handle)
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1644, code)
	exec("CALL sys.ML_EXPLAIN('ml.house', 'price', @m, JSON_OBJECT('model_explainer', 'fast_shap', 'prediction_explainer', 'shap'))")
	require.Equal(t, []string{"fast_shap", "partial_dependence", "permutation_importance", "shap"}, sortedKeys(catalogJSON("model_explanation")))
	srv.Restart()
	db = srv.Open(srv.DSN("owner", "pw", "ml"))
	doc = explainRow(t, db, handle, `JSON_OBJECT('a', 1.0, 'b', 0.0, 'c', 'y', 'd', 0.0)`, "JSON_OBJECT('prediction_explainer', 'shap')")
	require.Greater(t, doc["a_attribution"].(float64), 2.0)
}

func TestHeatWaveModelActive(t *testing.T) {
	srv, root := modelSetup(t, 300)
	mustExec(t, root, "CREATE USER u1 IDENTIFIED BY 'pw'", "GRANT SELECT ON ml.customers TO u1", "GRANT CREATE MODEL TO u1")
	u1 := srv.Open(srv.DSN("u1", "pw", "ml"))
	conn, err := u1.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	active := func(c *sql.Conn, who string) []any {
		t.Helper()
		_, err := c.ExecContext(t.Context(), "CALL sys.ML_MODEL_ACTIVE("+who+", @info)")
		require.NoError(t, err)
		v := userVar(t, c, "info")
		require.True(t, v.Valid)
		var out []any
		require.NoError(t, json.Unmarshal([]byte(v.String), &out), v.String)
		require.Len(t, out, 2)
		return out
	}
	// Nothing trained yet.
	info := active(conn, "'current'")
	require.EqualValues(t, 0, info[0].(map[string]any)["total model size(bytes)"])
	require.Empty(t, info[1])

	_, err = conn.ExecContext(t.Context(), `CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('task', 'classification',
		'include_column_list', JSON_ARRAY('spend', 'calls', 'tier')), @m)`)
	require.NoError(t, err)
	handle := userVar(t, conn, "m").String
	for _, who := range []string{"'current'", "NULL"} {
		info = active(conn, who)
		total := info[0].(map[string]any)["total model size(bytes)"].(float64)
		require.Greater(t, total, 100.0)
		models := info[1].(map[string]any)
		require.Len(t, models, 1)
		meta := models[handle].(map[string]any)
		require.Equal(t, "classification", meta["task"])
		require.Equal(t, "Ready", meta["status"])
		require.EqualValues(t, 3, meta["n_columns"])
		require.Equal(t, total, meta["model_size(byte)"])
		require.Equal(t, "permutation_importance", meta["options"].(map[string]any)["prediction_explainer"])
	}

	// root has no models of its own, but with 'all' sees u1's (it may
	// read every catalog).
	rc, err := root.Conn(t.Context())
	require.NoError(t, err)
	defer rc.Close()
	require.Empty(t, active(rc, "'current'")[1])
	all := active(rc, "'all'")
	list := all[1].(map[string]any)["u1"].([]any)
	require.Len(t, list, 1)
	require.Contains(t, list[0].(map[string]any), handle)

	_, err = conn.ExecContext(t.Context(), "CALL sys.ML_MODEL_ACTIVE('everyone', @info)")
	code, _ := mysqlErr(t, err)
	require.EqualValues(t, 1644, code)
	_, err = conn.ExecContext(t.Context(), "CALL sys.ML_MODEL_ACTIVE('current', 'x')")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1414, code)
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ML_PREDICT_ROW(JSON_OBJECT(...)) takes the object's values directly
// (no JSON document per row); it must answer exactly as the call on a
// document does, whatever the keys' case, duplicates, extra keys, NULLs
// and column types.
func TestHeatWavePredictRowObjectArgs(t *testing.T) {
	_, db := modelSetup(t, 1000)
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(t.Context(), `CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('task', 'classification',
		'exclude_column_list', JSON_ARRAY('id', 'value')), @m)`)
	require.NoError(t, err)
	handle := userVar(t, conn, "m").String
	for _, obj := range []string{
		"JSON_OBJECT('spend', spend, 'calls', calls, 'tier', tier, 'signup', signup)",
		"JSON_OBJECT('SPEND', spend, 'Calls', calls, 'tier', IF(id % 7 = 0, NULL, tier), 'extra', id)",
		"JSON_OBJECT('spend', 100, 'calls', calls, 'spend', spend, 'signup', signup, 'tier', tier)",
	} {
		q := fmt.Sprintf(`SELECT COUNT(*), SUM(CAST(sys.ML_PREDICT_ROW(%s, ?, NULL) AS CHAR) = CAST(sys.ML_PREDICT_ROW(CAST(%s AS JSON), ?, NULL) AS CHAR))
			FROM customers`, obj, obj)
		var n, same int64
		require.NoError(t, db.QueryRow(q, handle, handle).Scan(&n, &same), q)
		require.EqualValues(t, 1000, n, obj)
		require.EqualValues(t, n, same, obj)
	}
	// The document keeps the object's keys and values.
	doc := predictRow(t, db, handle, "JSON_OBJECT('Spend', 6.0, 'calls', 5, 'tier', 'b', 'note', NULL)")
	require.Equal(t, 6.0, doc["Spend"])
	require.Contains(t, doc, "note")
	require.Nil(t, doc["note"])
	require.Equal(t, "yes", doc["Prediction"])
}
