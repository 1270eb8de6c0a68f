package e2e

import (
	"database/sql"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestForecastCreateTableAs stores a forecasting model's forecasts in a
// table, in both of the forms Redshift's users write: CREATE TABLE t AS
// SELECT FORECAST(m) and CREATE TABLE t AS SELECT * FROM FORECAST(m).
func TestForecastCreateTableAs(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("", "multiStatements=true")
	mustExec(t, root, "CREATE DATABASE ts", "CREATE TABLE ts.sales (store VARCHAR(8), at DATETIME, units DOUBLE, PRIMARY KEY (store, at))",
		"CREATE DATABASE other", "CREATE USER reader IDENTIFIED BY 'pw'", "CREATE USER analyst IDENTIFIED BY 'pw'",
		"GRANT SELECT, CREATE, INSERT, CREATE ROUTINE ON ts.* TO analyst", "GRANT CREATE MODEL TO analyst")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 3 * 7 * 48
	rng := rand.New(rand.NewSource(5))
	for _, store := range []string{"north", "south"} {
		var sb strings.Builder
		sb.WriteString("INSERT INTO ts.sales VALUES ")
		for i := 0; i < n; i++ {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "('%s', '%s', %.3f)", store, start.Add(time.Duration(i)*30*time.Minute).Format(time.DateTime), seasonalValue(i)+rng.NormFloat64()*5)
		}
		mustExec(t, root, sb.String())
	}
	ts := srv.Open(srv.DSN("analyst", "pw", "ts"))
	mustExec(t, ts, `CREATE MODEL sales_fc FROM (SELECT store, at, units FROM sales) TARGET units
		MODEL_TYPE FORECAST SETTINGS (HORIZON 12, FREQUENCY '30min', PERCENTILES '0.1,0.5,0.9')`)
	require.Equal(t, "READY", waitModel(t, ts, "sales_fc")["Model State"])

	// The same rows as the query, in a table with the query's columns.
	want := forecastLines(t, ts, "SELECT * FROM FORECAST(sales_fc)")
	require.Len(t, want, 24)
	for _, tc := range []struct{ stmt, table string }{
		{"CREATE TABLE fc1 AS SELECT FORECAST(sales_fc)", "ts.fc1"},
		{"CREATE TABLE ts.fc2 AS SELECT * FROM FORECAST(ts.sales_fc)", "ts.fc2"},
		{"create table if not exists fc3 as select forecast(sales_fc)", "ts.fc3"},
	} {
		res, err := ts.Exec(tc.stmt)
		require.NoError(t, err, tc.stmt)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.EqualValues(t, 24, n, tc.stmt)
		require.Equal(t, want, forecastLines(t, ts, "SELECT * FROM "+tc.table+" ORDER BY id, time"), tc.stmt)
	}
	require.Equal(t, "id,time,mean,p10,p50,p90", queryString(t, ts,
		"SELECT GROUP_CONCAT(column_name ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'ts' AND table_name = 'fc1'"))

	// SELECT FORECAST(m) reads like SELECT * FROM FORECAST(m).
	require.EqualValues(t, 24, queryInt(t, ts, "SELECT COUNT(*) FROM fc1"))
	require.Equal(t, want, forecastLines(t, ts, "SELECT FORECAST(sales_fc)"))

	// SELECT FORECAST(x) of anything but a forecasting model is left to
	// the engine, as a call of a function named forecast.
	for _, q := range []string{"SELECT forecast(21)", "SELECT forecast(a) FROM (SELECT 3 AS a) x", "SELECT forecast(no_such_model)"} {
		_, err := ts.Exec(q)
		require.Error(t, err, q)
		require.NotContains(t, err.Error(), "forecasting model", q)
	}

	// An existing table is an error unless IF NOT EXISTS; the caller needs
	// CREATE on the target database and may use the model.
	_, err := ts.Exec("CREATE TABLE fc1 AS SELECT FORECAST(sales_fc)")
	code, _ := mysqlErr(t, err)
	require.EqualValues(t, 1050, code)
	res, err := ts.Exec("CREATE TABLE IF NOT EXISTS fc1 AS SELECT FORECAST(sales_fc)")
	require.NoError(t, err)
	affected, err := res.RowsAffected()
	require.NoError(t, err)
	require.Zero(t, affected)
	require.EqualValues(t, 24, queryInt(t, ts, "SELECT COUNT(*) FROM fc1"))
	reader := srv.Open(srv.DSN("reader", "pw", ""))
	mustExec(t, root, "GRANT CREATE, INSERT ON other.* TO reader")
	_, err = reader.Exec("CREATE TABLE other.fc9 AS SELECT FORECAST(ts.sales_fc)")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1370, code)
	// Without CREATE on the target database: the error a plain CREATE
	// TABLE there gets.
	_, err = ts.Exec("CREATE TABLE other.plain (a INT)")
	plainCode, _ := mysqlErr(t, err)
	_, err = ts.Exec("CREATE TABLE other.fc9 AS SELECT FORECAST(ts.sales_fc)")
	code, _ = mysqlErr(t, err)
	require.Equal(t, plainCode, code)
	require.EqualValues(t, 0, queryInt(t, root, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'other'"))
	mustExec(t, root, "GRANT CREATE, INSERT ON other.* TO analyst")
	mustExec(t, ts, "CREATE TABLE other.fc9 AS SELECT FORECAST(ts.sales_fc)")
	require.EqualValues(t, 24, queryInt(t, root, "SELECT COUNT(*) FROM other.fc9"))
}

// forecastLines reads a forecast's rows (id, time, mean, p10, p50, p90)
// as text lines, times to the second and numbers to 9 digits.
func forecastLines(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	require.NoError(t, err, q)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, at string
		var v [4]float64
		require.NoError(t, rows.Scan(&id, &at, &v[0], &v[1], &v[2], &v[3]))
		out = append(out, fmt.Sprintf("%s|%s|%.9g|%.9g|%.9g|%.9g", id, at[:19], v[0], v[1], v[2], v[3]))
	}
	require.NoError(t, rows.Err())
	return out
}
