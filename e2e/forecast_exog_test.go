package e2e

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// promoValue is the noiseless hourly demand of the exogenous-variable
// tests: a daily cycle plus 80 when a promotion runs.
func promoValue(i int, promo int) float64 {
	return 200 + 50*math.Sin(2*math.Pi*float64(i%24)/24) + 80*float64(promo)
}

// TestHeatWaveForecastingExogenousVariables trains HeatWave's
// 'forecasting' task with exogenous_variables on a series driven by a
// promotion flag no lag can predict, and checks that ML_PREDICT_TABLE
// forecasts from the flag's future values in the rows to predict (which
// must be there, as HeatWave documents), not from its past.
func TestHeatWaveForecastingExogenousVariables(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE ts", "CREATE TABLE ts.sales (at DATETIME PRIMARY KEY, units DOUBLE, promo INT)",
		"CREATE TABLE ts.future (at DATETIME PRIMARY KEY, promo INT)",
		"CREATE TABLE ts.flipped (at DATETIME PRIMARY KEY, promo INT)",
		"CREATE TABLE ts.nopromo (at DATETIME PRIMARY KEY)")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const n, h = 8 * 7 * 24, 24
	rng := rand.New(rand.NewSource(11))
	promos := make([]int, n+h)
	for i := range promos {
		if rng.Float64() < 0.3 {
			promos[i] = 1
		}
	}
	at := func(i int) string { return start.Add(time.Duration(i) * time.Hour).Format(time.DateTime) }
	var sb strings.Builder
	for i := 0; i < n; i++ {
		if sb.Len() == 0 {
			sb.WriteString("INSERT INTO ts.sales VALUES ")
		} else {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "('%s', %.3f, %d)", at(i), promoValue(i, promos[i])+rng.NormFloat64()*3, promos[i])
	}
	mustExec(t, db, sb.String())
	for i := n; i < n+h; i++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO ts.future VALUES ('%s', %d)", at(i), promos[i]),
			fmt.Sprintf("INSERT INTO ts.flipped VALUES ('%s', %d)", at(i), 1-promos[i]),
			fmt.Sprintf("INSERT INTO ts.nopromo VALUES ('%s')", at(i)))
	}

	conn, err := srv.DB("ts").Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	train := func(handle, exog string) {
		t.Helper()
		_, err := conn.ExecContext(t.Context(), "SET @"+handle+" = '"+handle+"'")
		require.NoError(t, err)
		_, err = conn.ExecContext(t.Context(), `CALL sys.ML_TRAIN('ts.sales', 'units', JSON_OBJECT('task', 'forecasting',
			'datetime_index', 'at', 'endogenous_variables', JSON_ARRAY('units')`+exog+`, 'horizon', 24), @`+handle+`)`)
		require.NoError(t, err)
	}
	train("with_promo", ", 'exogenous_variables', JSON_ARRAY('promo')")
	train("without_promo", "")

	// predict runs ML_PREDICT_TABLE and returns the forecasts by hour.
	predict := func(in, handle, out string) []float64 {
		t.Helper()
		_, err := conn.ExecContext(t.Context(), "CALL sys.ML_PREDICT_TABLE('ts."+in+"', '"+handle+"', 'ts."+out+"', NULL)")
		require.NoError(t, err)
		rows, err := db.Query(`SELECT Prediction, JSON_EXTRACT(ml_results, '$.prediction_interval_units[0]'),
			JSON_EXTRACT(ml_results, '$.prediction_interval_units[1]') FROM ts.` + out + ` ORDER BY at`)
		require.NoError(t, err)
		defer rows.Close()
		var preds []float64
		for rows.Next() {
			var pred, lo, hi sql.NullFloat64
			require.NoError(t, rows.Scan(&pred, &lo, &hi))
			require.True(t, pred.Valid && lo.Valid && hi.Valid, "%s row %d", out, len(preds))
			require.LessOrEqual(t, lo.Float64, pred.Float64)
			require.GreaterOrEqual(t, hi.Float64, pred.Float64)
			preds = append(preds, pred.Float64)
		}
		require.NoError(t, rows.Err())
		require.Len(t, preds, h)
		return preds
	}
	mae := func(preds []float64, flip bool) float64 {
		s := 0.0
		for k, p := range preds {
			promo := promos[n+k]
			if flip {
				promo = 1 - promo
			}
			s += math.Abs(p - promoValue(n+k, promo))
		}
		return s / float64(len(preds))
	}
	with := predict("future", "with_promo", "fc_with")
	without := predict("nopromo", "without_promo", "fc_without")
	t.Logf("MAE with the promotion flag %.1f, without %.1f", mae(with, false), mae(without, false))
	require.Less(t, mae(with, false), mae(without, false)/2, "the exogenous variable at least halves the error")
	require.Less(t, mae(with, false), 20.0, "the forecast follows the promotions (effect 80, noise 3)")

	// Other future values, another forecast: the one they call for.
	flipped := predict("flipped", "with_promo", "fc_flipped")
	require.Less(t, mae(flipped, true), 20.0)
	require.Greater(t, mae(flipped, false), 2*mae(with, false))

	// The rows to predict must hold the exogenous variables.
	_, err = conn.ExecContext(t.Context(), "CALL sys.ML_PREDICT_TABLE('ts.nopromo', 'with_promo', 'ts.fc_bad', NULL)")
	code, _ := mysqlErr(t, err)
	require.EqualValues(t, 1644, code)
	require.ErrorContains(t, err, "'promo'")
	require.Zero(t, queryInt(t, db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'ts' AND table_name = 'fc_bad'"))
	// ... and training needs them in the table.
	_, err = conn.ExecContext(t.Context(), `CALL sys.ML_TRAIN('ts.sales', 'units', JSON_OBJECT('task', 'forecasting',
		'datetime_index', 'at', 'endogenous_variables', JSON_ARRAY('units'), 'exogenous_variables', JSON_ARRAY('weather')), @bad)`)
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1644, code)
	require.ErrorContains(t, err, "'weather'")
	_, err = conn.ExecContext(t.Context(), `CALL sys.ML_TRAIN('ts.sales', 'units', JSON_OBJECT('task', 'forecasting',
		'datetime_index', 'at', 'endogenous_variables', JSON_ARRAY('units'), 'exogenous_variables', JSON_ARRAY('units')), @bad)`)
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1644, code)

	// The trained model (its trees) survives a restart.
	srv.Restart()
	conn2, err := srv.DB("ts").Conn(t.Context())
	require.NoError(t, err)
	defer conn2.Close()
	conn, db = conn2, srv.DB("")
	require.InDeltaSlice(t, with, predict("future", "with_promo", "fc_again"), 1e-9)
}
