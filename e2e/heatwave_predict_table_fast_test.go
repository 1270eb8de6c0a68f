package e2e

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// tableRows reads every row of table ordered by order (see dump).
func tableRows(t *testing.T, db *sql.DB, table, order string) []string {
	t.Helper()
	return dump(t, db, "SELECT * FROM "+table+" ORDER BY "+order)
}

// createTable is SHOW CREATE TABLE ml.table.
func createTable(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var name, ddl string
	require.NoError(t, db.QueryRow("SHOW CREATE TABLE ml."+table).Scan(&name, &ddl))
	return ddl
}

// tableHash is Dolt's content hash of a table: its schema, rows and
// indexes, as stored.
func tableHash(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var h string
	require.NoError(t, db.QueryRow("SELECT dolt_hashof_table(?)", table).Scan(&h))
	return h
}

// TestHeatWavePredictTableFastPath checks that ML_PREDICT_TABLE and
// ML_EXPLAIN_TABLE, which write their new output table's storage directly,
// produce exactly the table the engine's row-by-row inserts produce (the
// path they take with sibyl_ml_table_fast_path off), in a transaction as
// any write, and durably.
func TestHeatWavePredictTableFastPath(t *testing.T) {
	srv, db := modelSetup(t, 2000)
	conn := session(t, db,
		`CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('task', 'classification',
			'exclude_column_list', JSON_ARRAY('id', 'value')), @churn)`,
		`CALL sys.ML_TRAIN('ml.customers', 'value', JSON_OBJECT('task', 'regression',
			'exclude_column_list', JSON_ARRAY('id', 'churn')), @value)`)
	churn, value := userVar(t, conn, "churn").String, userVar(t, conn, "value").String

	// Inputs: keyed (with NULL features), keyless (the output gets an
	// added counter key; TEXT and JSON columns are copied), and a key
	// whose order differs from its columns' (the output's key follows
	// the columns, so its rows arrive out of key order).
	mustExec(t, db,
		`CREATE TABLE ml.keyed (id INT PRIMARY KEY, spend DOUBLE, calls INT, tier VARCHAR(8), signup DATE)`,
		`INSERT INTO ml.keyed SELECT id, spend, calls, tier, signup FROM ml.customers`,
		`UPDATE ml.keyed SET spend = NULL WHERE id % 7 = 0`,
		`UPDATE ml.keyed SET tier = NULL, calls = NULL WHERE id % 11 = 0`,
		`CREATE TABLE ml.keyless (spend DOUBLE, calls INT, tier VARCHAR(8), signup DATE, note TEXT, extra JSON)`,
		`INSERT INTO ml.keyless SELECT spend, calls, tier, signup, CONCAT('customer ', id), JSON_OBJECT('id', id) FROM ml.customers WHERE id < 1500`,
		`INSERT INTO ml.keyless VALUES (NULL, NULL, NULL, NULL, NULL, NULL)`,
		`CREATE TABLE ml.twokey (grp INT, id INT, spend DOUBLE, calls INT, tier VARCHAR(8), signup DATE, PRIMARY KEY (id, grp))`,
		`INSERT INTO ml.twokey SELECT id % 3, id, spend, calls, tier, signup FROM ml.customers`,
	)

	tests := []struct {
		name, routine, input, handle, order string
	}{
		{"classification, keyed, NULL features", "ML_PREDICT_TABLE", "keyed", churn, "id"},
		{"regression, keyed, NULL features", "ML_PREDICT_TABLE", "keyed", value, "id"},
		{"classification, added key", "ML_PREDICT_TABLE", "keyless", churn, "_4aad19ca6e_pk_id"},
		{"regression, added key", "ML_PREDICT_TABLE", "keyless", value, "_4aad19ca6e_pk_id"},
		{"regression, key out of column order", "ML_PREDICT_TABLE", "twokey", value, "grp, id"},
		{"explanations, classification", "ML_EXPLAIN_TABLE", "keyed", churn, "id"},
		{"explanations, regression, added key", "ML_EXPLAIN_TABLE", "keyless", value, "_4aad19ca6e_pk_id"},
	}
	type output struct {
		order string
		rows  []string
	}
	outputs := map[string]output{} // the tables written directly
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The same name for both: Dolt's column tags, part of the
			// stored schema, derive from the table's name.
			out := fmt.Sprintf("out%d", i)
			call := fmt.Sprintf("CALL sys.%s('ml.%s', '%s', 'ml.%s', NULL)", tt.routine, tt.input, tt.handle, out)
			before := globalStatus(t, db, "Sibyl_ml_table_%")
			mustExec(t, db, "SET sibyl_ml_table_fast_path = 0; "+call+"; SET sibyl_ml_table_fast_path = 1")
			mid := globalStatus(t, db, "Sibyl_ml_table_%")
			require.EqualValues(t, 1, mid["Sibyl_ml_table_engine"]-before["Sibyl_ml_table_engine"], "the engine path with the switch off")
			ddl, hash := createTable(t, db, out), tableHash(t, db, out)
			want := tableRows(t, db, "ml."+out, tt.order)
			require.Len(t, want, int(queryInt(t, db, "SELECT COUNT(*) FROM ml."+tt.input)))
			mustExec(t, db, "DROP TABLE ml."+out)

			mustExec(t, db, call)
			after := globalStatus(t, db, "Sibyl_ml_table_%")
			require.EqualValues(t, 1, after["Sibyl_ml_table_direct"]-mid["Sibyl_ml_table_direct"], "the direct writer with it on")
			require.Equal(t, ddl, createTable(t, db, out))
			require.Equal(t, want, tableRows(t, db, "ml."+out, tt.order))
			require.Equal(t, hash, tableHash(t, db, out), "the same stored table")
			outputs[out] = output{tt.order, want}
		})
	}

	// A transaction rolls the output table back with its other writes;
	// one that commits keeps it.
	tx, err := db.Begin()
	require.NoError(t, err)
	_, err = tx.Exec("INSERT INTO ml.keyed VALUES (100000, 1.5, 2, 'a', '2020-01-01')")
	require.NoError(t, err)
	_, err = tx.Exec("CALL sys.ML_PREDICT_TABLE('ml.keyed', '" + churn + "', 'ml.in_tx', NULL)")
	require.NoError(t, err)
	var n int
	require.NoError(t, tx.QueryRow("SELECT COUNT(*) FROM ml.in_tx").Scan(&n))
	require.Equal(t, 2001, n, "the transaction sees its own output table, with its own new row")
	require.NoError(t, tx.Rollback())
	_, err = db.Exec("SELECT COUNT(*) FROM ml.in_tx")
	code, _ := mysqlErr(t, err)
	require.EqualValues(t, 1146, code, "rolled back: no such table")
	require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM ml.keyed WHERE id = 100000"))

	tx, err = db.Begin()
	require.NoError(t, err)
	_, err = tx.Exec("CALL sys.ML_PREDICT_TABLE('ml.keyed', '" + value + "', 'ml.in_tx', NULL)")
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	outputs["in_tx"] = output{"id", tableRows(t, db, "ml.in_tx", "id")}
	require.Len(t, outputs["in_tx"].rows, 2000)

	// The output table counts as the transaction's write: when a later
	// statement of the transaction finds a row changed since its
	// snapshot, the transaction fails (as with the engine's row writes)
	// rather than being restarted on a fresh snapshot, which would drop
	// the table without a word.
	tx, err = db.Begin()
	require.NoError(t, err)
	_, err = tx.Exec("CALL sys.ML_PREDICT_TABLE('ml.keyed', '" + churn + "', 'ml.lost', NULL)")
	require.NoError(t, err)
	mustExec(t, db, "UPDATE ml.customers SET value = value + 1 WHERE id = 1")
	_, err = tx.Exec("UPDATE ml.customers SET spend = 0 WHERE id = 1")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1213, code, "the transaction is rolled back")
	_ = tx.Rollback()
	_, err = db.Exec("SELECT COUNT(*) FROM ml.lost")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1146, code)

	// Two transactions writing the same new output table: the second
	// waits for the first's lock on it, as it would for the rows the
	// engine's inserts lock, instead of both writing and the later
	// commit failing.
	first := session(t, db, "BEGIN", "CALL sys.ML_PREDICT_TABLE('ml.keyed', '"+churn+"', 'ml.contended', NULL)")
	second := session(t, db, "SET innodb_lock_wait_timeout = 1")
	_, err = second.ExecContext(t.Context(), "CALL sys.ML_PREDICT_TABLE('ml.keyless', '"+churn+"', 'ml.contended', NULL)")
	code, _ = mysqlErr(t, err)
	require.EqualValues(t, 1205, code, "lock wait timeout")
	_, err = first.ExecContext(t.Context(), "COMMIT")
	require.NoError(t, err)
	require.EqualValues(t, 2000, queryInt(t, db, "SELECT COUNT(*) FROM ml.contended"))
	outputs["contended"] = output{"id", tableRows(t, db, "ml.contended", "id")}

	// Durable: the output tables read the same after a restart.
	srv.Restart()
	db = srv.DB("ml")
	for table, want := range outputs {
		require.Equal(t, want.rows, tableRows(t, db, "ml."+table, want.order), table)
	}
}
