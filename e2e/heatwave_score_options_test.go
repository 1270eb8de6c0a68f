package e2e

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestHeatWaveForecastingOptions checks ML_TRAIN's model_list,
// exclude_model_list and optimization_metric for the forecasting task,
// and ML_SCORE of forecasting models.
func TestHeatWaveForecastingOptions(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE ts", "CREATE TABLE ts.demand (at DATETIME PRIMARY KEY, value DOUBLE)",
		"CREATE TABLE ts.actual (at DATETIME PRIMARY KEY, value DOUBLE)")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday
	const n, week = 5 * 7 * 48, 7 * 48
	rng := rand.New(rand.NewSource(11))
	y := make([]float64, n+48)
	for i := range y {
		y[i] = math.Round((seasonalValue(i)+rng.NormFloat64()*20)*1000) / 1000
	}
	at := func(i int) string { return start.Add(time.Duration(i) * 30 * time.Minute).Format(time.DateTime) }
	insert := func(table string, from, to int) {
		var sb strings.Builder
		for i := from; i < to; i++ {
			if sb.Len() == 0 {
				sb.WriteString("INSERT INTO ts." + table + " VALUES ")
			} else {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "('%s', %.3f)", at(i), y[i])
			if (i-from)%1000 == 999 || i == to-1 {
				mustExec(t, db, sb.String())
				sb.Reset()
			}
		}
	}
	insert("demand", 0, n)
	insert("actual", n, n+48) // the next day, as it happened

	conn, err := srv.DB("ts").Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	train := func(options string) error {
		// A set @fc would name the new model: each gets its own handle.
		_, err := conn.ExecContext(t.Context(), "SET @fc = NULL")
		require.NoError(t, err)
		_, err = conn.ExecContext(t.Context(), `CALL sys.ML_TRAIN('ts.demand', 'value', JSON_OBJECT('task', 'forecasting',
			'datetime_index', 'at', 'endogenous_variables', JSON_ARRAY('value'), 'horizon', 48`+options+`), @fc)`)
		return err
	}
	// catalogued is the newest model's type and optimization metric.
	catalogued := func() (string, string) {
		var mtype, metric string
		require.NoError(t, conn.QueryRowContext(t.Context(), `SELECT model_type, JSON_UNQUOTE(JSON_EXTRACT(model_metadata, '$.optimization_metric'))
			FROM ML_SCHEMA_root.MODEL_CATALOG WHERE model_handle = @fc`).Scan(&mtype, &metric))
		return mtype, metric
	}

	for _, tc := range []struct {
		name, options, model, metric string
	}{
		{"default", "", "", "neg_mean_absolute_error"},
		{"HeatWave's naive model", ", 'model_list', JSON_ARRAY('NaiveForecaster')", "SeasonalNaive", "neg_mean_absolute_error"},
		{"exponential smoothing by RMSE", ", 'model_list', JSON_ARRAY('ETSForecaster'), 'optimization_metric', 'neg_root_mean_squared_error'",
			"HoltWinters", "neg_root_mean_squared_error"},
		// Excluding the trees excludes the ensemble holding them.
		{"all but the naive model and the trees", ", 'exclude_model_list', JSON_ARRAY('NaiveForecaster', 'SARIMAXForecaster')", "HoltWinters", "neg_mean_absolute_error"},
		{"SibylDB's own names", ", 'model_list', JSON_ARRAY('GBTLags', 'holtwinters'), 'exclude_model_list', JSON_ARRAY('HoltWinters'), 'optimization_metric', 'R2'",
			"GBTLags", "r2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, train(tc.options))
			mtype, metric := catalogued()
			if tc.model != "" {
				require.Equal(t, tc.model, mtype)
			} else {
				require.Contains(t, []string{"SeasonalNaive", "HoltWinters", "GBTLags", "Ensemble"}, mtype)
			}
			require.Equal(t, tc.metric, metric)
		})
	}

	// The seasonal naive forecast repeats the last week: ML_SCORE's
	// metrics of it can be computed from the data alone.
	require.NoError(t, train(", 'model_list', JSON_ARRAY('NaiveForecaster')"))
	var sumAbs, sumSq, maxAbs, sumY float64
	for k := 0; k < 48; k++ {
		e := y[n+k] - y[n+k-week]
		sumAbs += math.Abs(e)
		sumSq += e * e
		maxAbs = max(maxAbs, math.Abs(e))
		sumY += y[n+k]
	}
	var sumTot float64
	for k := 0; k < 48; k++ {
		sumTot += (y[n+k] - sumY/48) * (y[n+k] - sumY/48)
	}
	for _, tc := range []struct {
		metric, target string
		want           float64
	}{
		{"neg_mean_absolute_error", "'value'", -sumAbs / 48},
		{"neg_mean_squared_error", "NULL", -sumSq / 48}, // the model's own target
		{"neg_root_mean_squared_error", "'value'", -math.Sqrt(sumSq / 48)},
		{"NEG_MAX_ABSOLUTE_ERROR", "'value'", -maxAbs},
		{"r2", "'value'", 1 - sumSq/sumTot},
	} {
		_, err := conn.ExecContext(t.Context(), "CALL sys.ML_SCORE('ts.actual', "+tc.target+", @fc, '"+tc.metric+"', @score, NULL)")
		require.NoError(t, err, tc.metric)
		var got float64
		require.NoError(t, conn.QueryRowContext(t.Context(), "SELECT @score").Scan(&got))
		require.InDelta(t, tc.want, got, 1e-6, tc.metric)
	}
	// Rows outside the horizon are left out, with a warning; a table
	// with none inside it is an error.
	mustExec(t, db, fmt.Sprintf("INSERT INTO ts.actual VALUES ('%s', 1)", at(n+200)))
	_, err = conn.ExecContext(t.Context(), "CALL sys.ML_SCORE('ts.actual', 'value', @fc, 'neg_mean_absolute_error', @score, NULL)")
	require.NoError(t, err)
	var got float64
	require.NoError(t, conn.QueryRowContext(t.Context(), "SELECT @score").Scan(&got))
	require.InDelta(t, -sumAbs/48, got, 1e-6)

	for _, tc := range []struct{ stmt, msg string }{
		{"CALL sys.ML_SCORE('ts.actual', 'value', @fc, 'accuracy', @score, NULL)", "Invalid metric 'accuracy' for the forecasting task"},
		{"CALL sys.ML_SCORE('ts.actual', 'nope', @fc, 'r2', @score, NULL)", "The target column 'nope' does not exist"},
		{"CALL sys.ML_SCORE('ts.demand', 'value', @fc, 'r2', @score, NULL)", "within the model's forecast horizon"},
	} {
		_, err := conn.ExecContext(t.Context(), tc.stmt)
		code, msg := mysqlErrMsg(t, err)
		require.EqualValues(t, 1644, code, tc.stmt)
		require.Contains(t, msg, tc.msg, tc.stmt)
	}

	for _, tc := range []struct{ options, msg string }{
		{", 'model_list', JSON_ARRAY('ProphetForecaster')", "Invalid model 'ProphetForecaster' in model_list for the forecasting task"},
		{", 'exclude_model_list', JSON_ARRAY('XGBRegressor')", "Invalid model 'XGBRegressor' in exclude_model_list"},
		{", 'model_list', JSON_ARRAY('NaiveForecaster'), 'exclude_model_list', JSON_ARRAY('NaiveForecaster')", "leave no model"},
		{", 'optimization_metric', 'accuracy'", "Invalid optimization_metric 'accuracy' for the forecasting task"},
		{", 'model_list', 'NaiveForecaster'", "model_list"},
	} {
		code, msg := mysqlErrMsg(t, train(tc.options))
		require.EqualValues(t, 1644, code, tc.options)
		require.Contains(t, msg, tc.msg, tc.options)
	}
}

// TestHeatWaveRecommendationScore checks ML_SCORE's ranking metrics of a
// recommendation model against the top-k lists ML_PREDICT_TABLE gives.
func TestHeatWaveRecommendationScore(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE shop",
		"CREATE TABLE shop.ratings (user_id INT, product_id VARCHAR(8), rating DOUBLE, PRIMARY KEY (user_id, product_id))",
		"CREATE TABLE shop.held (user_id INT, product_id VARCHAR(8), rating DOUBLE, PRIMARY KEY (user_id, product_id))",
		"CREATE TABLE shop.who (user_id INT PRIMARY KEY)")
	// Two taste groups (even users rate even products, odd users odd
	// ones); some of each user's ratings are held out, a few of them of
	// the other group, and user 999 is unknown to the model.
	rng := rand.New(rand.NewSource(8))
	var train, held []string
	for u := 0; u < 60; u++ {
		for p := 0; p < 40; p++ {
			row := fmt.Sprintf("(%d, 'p%02d', %d)", u, p, 1+rng.Intn(5))
			switch r := rng.Float64(); {
			case p%2 == u%2 && r < 0.5:
				train = append(train, row)
			case p%2 == u%2 && r < 0.7, r < 0.03:
				held = append(held, row)
			}
		}
	}
	held = append(held, "(999, 'p01', 5)")
	mustExec(t, db, "INSERT INTO shop.ratings VALUES "+strings.Join(train, ","), "INSERT INTO shop.held VALUES "+strings.Join(held, ","),
		"INSERT INTO shop.who SELECT DISTINCT user_id FROM shop.held")
	conn, err := srv.DB("shop").Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(t.Context(), `CALL sys.ML_TRAIN('shop.ratings', 'rating', JSON_OBJECT('task', 'recommendation',
		'users', 'user_id', 'items', 'product_id'), @rec)`)
	require.NoError(t, err)
	_, err = conn.ExecContext(t.Context(), `CALL sys.ML_PREDICT_TABLE('shop.who', @rec, 'shop.recs',
		JSON_OBJECT('recommend', 'items', 'topk', 5))`)
	require.NoError(t, err)

	// The expected metrics, from the recommended lists and held-out rows.
	recs := map[int][]string{}
	rows, err := db.Query("SELECT user_id, Prediction FROM shop.recs WHERE Prediction IS NOT NULL")
	require.NoError(t, err)
	for rows.Next() {
		var u int
		var list string
		require.NoError(t, rows.Scan(&u, &list))
		recs[u] = strings.Split(list, ",")
	}
	require.NoError(t, rows.Err())
	rows.Close()
	expect := func(minRating float64) map[string]float64 {
		relevant := map[int]map[string]bool{}
		rows, err := db.Query("SELECT user_id, product_id FROM shop.held WHERE rating >= ? AND user_id <> 999", minRating)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var u int
			var p string
			require.NoError(t, rows.Scan(&u, &p))
			if relevant[u] == nil {
				relevant[u] = map[string]bool{}
			}
			relevant[u][p] = true
		}
		require.NoError(t, rows.Err())
		sums := map[string]float64{}
		for u, rel := range relevant {
			hits, dcg, idcg := 0, 0.0, 0.0
			for r, p := range recs[u] {
				if rel[p] {
					hits++
					dcg += 1 / math.Log2(float64(r)+2)
				}
			}
			for r := 0; r < min(5, len(rel)); r++ {
				idcg += 1 / math.Log2(float64(r)+2)
			}
			sums["precision_at_k"] += float64(hits) / 5
			sums["recall_at_k"] += float64(hits) / float64(len(rel))
			sums["ndcg_at_k"] += dcg / idcg
			if hits > 0 {
				sums["hit_ratio_at_k"]++
			}
		}
		for k := range sums {
			sums[k] /= float64(len(relevant))
		}
		return sums
	}
	for _, threshold := range []float64{0, 4} {
		want := expect(threshold)
		for metric, v := range want {
			opts := "JSON_OBJECT('topk', 5)"
			if threshold > 0 {
				opts = fmt.Sprintf("JSON_OBJECT('topk', 5, 'threshold', %g)", threshold)
			}
			_, err := conn.ExecContext(t.Context(), "CALL sys.ML_SCORE('shop.held', 'rating', @rec, '"+metric+"', @score, "+opts+")")
			require.NoError(t, err, metric)
			var got float64
			require.NoError(t, conn.QueryRowContext(t.Context(), "SELECT @score").Scan(&got))
			require.InDelta(t, v, got, 1e-9, "%s threshold %g", metric, threshold)
		}
		require.Greater(t, want["hit_ratio_at_k"], 0.5, "the taste groups are learnt")
	}

	for _, tc := range []struct{ stmt, msg string }{
		{"CALL sys.ML_SCORE('shop.held', 'rating', @rec, 'accuracy', @score, NULL)", "Invalid metric 'accuracy' for the recommendation task"},
		{"CALL sys.ML_SCORE('shop.held', 'rating', @rec, 'ndcg_at_k', @score, JSON_OBJECT('topk', 0))", "topk must be a positive integer"},
		{"CALL sys.ML_SCORE('shop.held', 'rating', @rec, 'ndcg_at_k', @score, JSON_OBJECT('threshold', 'high'))", "threshold must be a number"},
		{"CALL sys.ML_SCORE('shop.held', 'rating', @rec, 'ndcg_at_k', @score, JSON_OBJECT('threshold', 9))", "has no relevant item"},
	} {
		_, err := conn.ExecContext(t.Context(), tc.stmt)
		code, msg := mysqlErrMsg(t, err)
		require.EqualValues(t, 1644, code, tc.stmt)
		require.Contains(t, msg, tc.msg, tc.stmt)
	}
}

// TestHeatWaveExcludeModelList checks exclude_model_list for
// classification: a SibylDB algorithm leaves the search only when every
// HeatWave model it stands for is excluded.
func TestHeatWaveExcludeModelList(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE ml", "CREATE TABLE ml.pts (id INT PRIMARY KEY, x1 DOUBLE, x2 DOUBLE, label VARCHAR(4))")
	rng := rand.New(rand.NewSource(12))
	var vals []string
	for i := 0; i < 400; i++ {
		x1, x2 := rng.Float64(), rng.Float64()
		label := "no"
		if x1+0.5*x2 > 0.8 {
			label = "yes"
		}
		vals = append(vals, fmt.Sprintf("(%d, %.4f, %.4f, '%s')", i, x1, x2, label))
	}
	mustExec(t, db, "INSERT INTO ml.pts VALUES "+strings.Join(vals, ","))
	conn, err := srv.DB("ml").Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	train := func(options string) error {
		_, err := conn.ExecContext(t.Context(), "SET @m = NULL")
		require.NoError(t, err)
		_, err = conn.ExecContext(t.Context(), `CALL sys.ML_TRAIN('ml.pts', 'label', JSON_OBJECT('task', 'classification',
			'exclude_column_list', JSON_ARRAY('id')`+options+`), @m)`)
		return err
	}
	trees := "'XGBClassifier', 'LGBMClassifier', 'RandomForestClassifier', 'ExtraTreesClassifier', 'DecisionTreeClassifier'"
	for _, tc := range []struct{ options, model string }{
		{", 'exclude_model_list', JSON_ARRAY(" + trees + ", 'MLPClassifier')", "LogisticRegression"},
		{", 'exclude_model_list', JSON_ARRAY('RandomForestClassifier', 'LogisticRegression', 'LinearSVC', 'MLPClassifier')", "XGBClassifier"},
		{", 'model_list', JSON_ARRAY('MLPClassifier', 'LogisticRegression'), 'exclude_model_list', JSON_ARRAY('LogisticRegression', 'LinearSVC')", "MLPClassifier"},
	} {
		require.NoError(t, train(tc.options), tc.options)
		var mtype string
		require.NoError(t, conn.QueryRowContext(t.Context(), "SELECT model_type FROM ML_SCHEMA_root.MODEL_CATALOG WHERE model_handle = @m").Scan(&mtype))
		require.Equal(t, tc.model, mtype, tc.options)
	}
	for _, tc := range []struct{ options, msg string }{
		{", 'exclude_model_list', JSON_ARRAY(" + trees + ", 'MLPClassifier', 'LogisticRegression', 'LinearSVC')", "leave no model to train for the classification task"},
		{", 'exclude_model_list', JSON_ARRAY('SVC')", "Invalid model 'SVC' in exclude_model_list"},
	} {
		code, msg := mysqlErrMsg(t, train(tc.options))
		require.EqualValues(t, 1644, code, tc.options)
		require.Contains(t, msg, tc.msg, tc.options)
	}
}
