package e2e

import (
	"context"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

func TestMLPrivileges(t *testing.T) {
	srv, model, root := mlSetup(t, 5, 5, "SAGEMAKER")
	mustExec(t, root,
		"CREATE FUNCTION inv_twice(x DOUBLE) RETURNS DOUBLE SQL SECURITY INVOKER ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'",
		"CREATE USER analyst IDENTIFIED BY 'pw'",
		"GRANT SELECT ON ml.* TO analyst")
	analyst := srv.Open(srv.DSN("analyst", "pw", "ml"))

	denied := func(q string, num uint16, text string) {
		t.Helper()
		before := model.Requests()
		_, err := analyst.Exec(q)
		n, state := mysqlErr(t, err)
		require.Equal(t, num, n, "%s: %v", q, err)
		require.Equal(t, "42000", state)
		require.ErrorContains(t, err, text)
		require.Equal(t, before, model.Requests(), "no data may leave before the privilege check")
	}
	allowed := func(q string) {
		t.Helper()
		_, err := analyst.Exec(q)
		require.NoError(t, err, q)
	}

	denied("SELECT inv_twice(x) FROM nums", 1370, "execute command denied")
	// EXECUTE on the one function (GMS's own GRANT refuses this form).
	mustExec(t, root, "GRANT EXECUTE ON FUNCTION ml.inv_twice TO analyst")
	denied("SELECT inv_twice(x) FROM nums", 1227, "INVOKE SAGEMAKER")
	denied("SELECT twice(x) FROM nums", 1370, "execute command denied")
	mustExec(t, root, "REVOKE EXECUTE ON FUNCTION ml.inv_twice FROM analyst")
	denied("SELECT inv_twice(1)", 1370, "execute command denied")
	mustExec(t, root, "GRANT EXECUTE ON ml.* TO analyst")
	denied("SELECT inv_twice(1)", 1227, "INVOKE SAGEMAKER")
	allowed("SELECT twice(x) FROM nums") // SQL SECURITY DEFINER: root's privileges apply

	// Managing endpoints needs SUPER or CREATE ENDPOINT.
	denied("CREATE ENDPOINT mine URL 'http://127.0.0.1:9'", 1227, "CREATE ENDPOINT")
	denied("SHOW ENDPOINTS", 1227, "CREATE ENDPOINT")
	mustExec(t, root, "GRANT CREATE ENDPOINT ON *.* TO analyst")
	allowed("CREATE ENDPOINT mine URL 'http://127.0.0.1:9'")
	allowed("DROP ENDPOINT mine")
	mustExec(t, root, "REVOKE CREATE ENDPOINT ON *.* FROM analyst")
	denied("DROP ENDPOINT IF EXISTS model", 1227, "CREATE ENDPOINT")

	mustExec(t, root, "GRANT INVOKE SAGEMAKER ON *.* TO analyst")
	allowed("SELECT inv_twice(x) FROM nums")
	require.Contains(t, showGrants(t, root, "analyst"), "INVOKE_SAGEMAKER")

	mustExec(t, root, "REVOKE INVOKE SAGEMAKER ON *.* FROM analyst")
	denied("SELECT inv_twice(x) FROM nums", 1227, "INVOKE SAGEMAKER")

	// Aurora v3: the role carries the privilege.
	mustExec(t, root, "GRANT AWS_SAGEMAKER_ACCESS TO analyst")
	allowed("SELECT inv_twice(x) FROM nums")

	// Only administrators grant ML access, and unknown accounts are errors.
	_, err := analyst.Exec("GRANT INVOKE SAGEMAKER ON *.* TO analyst")
	require.Error(t, err)
	_, err = root.Exec("GRANT INVOKE COMPREHEND ON *.* TO nobody")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1133, num)
	_, err = root.Exec("GRANT INVOKE LAMBDA ON *.* TO analyst")
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1064, num)

	srv.Restart()
	analyst = srv.Open(srv.DSN("analyst", "pw", "ml"))
	allowed("SELECT inv_twice(x) FROM nums")
}

func TestMLAuditLog(t *testing.T) {
	srv, model, db := mlSetup(t, 100, 100, "SAGEMAKER")
	require.EqualValues(t, 100, queryInt(t, db, "SELECT COUNT(*) FROM nums WHERE twice(x) = 2 * x"))
	model.Set(func(b *testserver.Behaviour) {
		b.Fail = func(int64) (int, string) { return 500, `{"message":"model broke"}` }
	})
	_, err := db.Exec("SELECT twice(x) FROM nums")
	require.ErrorContains(t, err, "HTTP 500")

	type row struct {
		user, fn, endpoint, outcome string
		rows, requests, bytes       int64
	}
	read := func() []row {
		rs, err := db.Query("SELECT user, function_name, endpoint, rows_sent, requests, bytes_sent, outcome FROM sibyl.ml_audit_log ORDER BY id")
		require.NoError(t, err)
		defer rs.Close()
		var out []row
		for rs.Next() {
			var r row
			require.NoError(t, rs.Scan(&r.user, &r.fn, &r.endpoint, &r.rows, &r.requests, &r.bytes, &r.outcome))
			out = append(out, r)
		}
		require.NoError(t, rs.Err())
		return out
	}
	var got []row
	require.Eventually(t, func() bool { got = read(); return len(got) >= 2 }, 10*time.Second, 50*time.Millisecond)
	ok, failed := got[len(got)-2], got[len(got)-1]
	require.Equal(t, "root", ok.user)
	require.Equal(t, "ml.twice", ok.fn)
	require.Equal(t, "model", ok.endpoint)
	require.EqualValues(t, 100, ok.rows)
	require.EqualValues(t, 3, ok.requests, "100 rows go out as batches of 16, 64 and 20")
	require.Greater(t, ok.bytes, int64(100))
	require.Equal(t, "OK", ok.outcome)
	require.Contains(t, failed.outcome, "HTTP 500: model broke")

	// Only accounts that may read the sibyl database see the log.
	mustExec(t, db, "CREATE USER auditee IDENTIFIED BY 'pw'", "GRANT SELECT ON ml.* TO auditee")
	other := srv.Open(srv.DSN("auditee", "pw", "ml"))
	_, err = other.Exec("SELECT * FROM sibyl.ml_audit_log")
	require.Error(t, err)

	// The log keeps the newest sibyl_ml_audit_log_size rows.
	model.Set(func(b *testserver.Behaviour) { b.Fail = nil })
	mustExec(t, db, "SET GLOBAL sibyl_ml_audit_log_size = 2")
	for i := 0; i < 4; i++ {
		require.EqualValues(t, 100, queryInt(t, db, "SELECT COUNT(*) FROM nums WHERE twice(x + ?) IS NOT NULL", i))
	}
	require.Eventually(t, func() bool { return len(read()) == 2 }, 10*time.Second, 50*time.Millisecond)
}

func TestNoEgressColumnsNeverLeave(t *testing.T) {
	_, model, db := mlSetup(t, 0, 1, "SAGEMAKER")
	mustExec(t, db,
		"CREATE TABLE customers (id INT PRIMARY KEY, ssn VARCHAR(11) COMMENT 'sibyl:no_egress', score DOUBLE)",
		"INSERT INTO customers VALUES (1, '123-45-6789', 0.5), (2, '987-65-4321', 0.25)",
		"CREATE VIEW customer_ids AS SELECT id, ssn AS tax_id FROM customers",
		"CREATE FUNCTION echo(v VARCHAR(64)) RETURNS VARCHAR(64) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'")
	for _, q := range []string{
		"SELECT echo(ssn) FROM customers",
		"SELECT echo(CONCAT('x', ssn)) FROM customers",
		"SELECT id FROM customers c WHERE echo(c.ssn) = 'x'",
		"SELECT id FROM customers ORDER BY echo(UPPER(ssn))",
		"SELECT echo(s) FROM (SELECT id, LOWER(ssn) AS s FROM customers) d",
		"INSERT INTO customers SELECT id + 10, echo(ssn), score FROM customers",
		"SELECT echo(tax_id) FROM customer_ids",
	} {
		_, err := db.Exec(q)
		require.ErrorContains(t, err, "sibyl:no_egress", q)
	}
	require.Zero(t, model.Requests(), "nothing was sent")

	// Nor through a trigger on the table.
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), `CREATE TRIGGER leak BEFORE INSERT ON customers FOR EACH ROW
		BEGIN
		  IF echo(NEW.ssn) = 'x' THEN SET NEW.score = 0; END IF;
		END`)
	require.NoError(t, err)
	_, err = db.Exec("INSERT INTO customers VALUES (3, '555-55-5555', 0.1)")
	require.ErrorContains(t, err, "sibyl:no_egress")
	require.Zero(t, model.Requests(), "nothing was sent")
	require.EqualValues(t, 2, queryInt(t, db, "SELECT COUNT(*) FROM customers"))
	mustExec(t, db, "DROP TRIGGER leak")

	// Other columns of the same table may go.
	require.EqualValues(t, 2, queryInt(t, db, "SELECT COUNT(*) FROM customers WHERE twice(score) = 2 * score"))
	// The marker is an ordinary column comment, set and cleared with ALTER TABLE.
	mustExec(t, db, "ALTER TABLE customers MODIFY score DOUBLE COMMENT 'sibyl:no_egress'")
	_, err = db.Exec("SELECT twice(score) FROM customers")
	require.ErrorContains(t, err, "customers.score")
}

func TestHostileModelResponses(t *testing.T) {
	_, model, db := mlSetup(t, 20, 20, "SAGEMAKER")
	mustExec(t, db,
		"CREATE TABLE victims (id INT PRIMARY KEY)", "INSERT INTO victims VALUES (1)",
		"CREATE TABLE outputs (id INT PRIMARY KEY, label VARCHAR(200))",
		"CREATE FUNCTION label(x DOUBLE) RETURNS VARCHAR(200) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'")

	// Model output is data: SQL in it is stored and returned as text.
	injection := `x'); DROP TABLE victims; --`
	model.Set(func(b *testserver.Behaviour) {
		b.JSONResponses = true
		b.Score = func([]*string) string { return injection }
	})
	mustExec(t, db, "INSERT INTO outputs SELECT id, label(x) FROM nums")
	var got string
	require.NoError(t, db.QueryRow("SELECT label FROM outputs WHERE id = 3").Scan(&got))
	require.Equal(t, injection, got)
	require.EqualValues(t, 1, queryInt(t, db, "SELECT COUNT(*) FROM victims"))
	// Even assembled into dynamic SQL by a procedure as a quoted value.
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), `CREATE PROCEDURE record_label(IN v DOUBLE)
		BEGIN
		  SET @l = label(v);
		  SET @q = 'INSERT INTO outputs VALUES (100, ?)';
		  PREPARE s FROM @q;
		  EXECUTE s USING @l;
		  DEALLOCATE PREPARE s;
		END`)
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), "CALL record_label(1)")
	require.NoError(t, err)
	require.NoError(t, db.QueryRow("SELECT label FROM outputs WHERE id = 100").Scan(&got))
	require.Equal(t, injection, got)
	require.EqualValues(t, 1, queryInt(t, db, "SELECT COUNT(*) FROM victims"))

	// Malformed answers fail the statement cleanly.
	model.Set(func(b *testserver.Behaviour) {
		b.JSONResponses = false
		b.Fail = func(int64) (int, string) { return 200, `{"predictions": [1]}` } // one result whatever the batch
	})
	_, err = db.Exec("SELECT label(x) FROM nums")
	require.ErrorContains(t, err, "invalid response: 1 results for")
	model.Set(func(b *testserver.Behaviour) {
		b.Fail = func(int64) (int, string) { return 200, `{"predictions": [1, 2` }
	})
	_, err = db.Exec("SELECT label(x) FROM nums")
	require.ErrorContains(t, err, "invalid response")
	model.Set(func(b *testserver.Behaviour) {
		b.Fail = nil
		b.Score = func([]*string) string { return "bad \xff\xfe bytes" }
	})
	_, err = db.Exec("SELECT label(x) FROM nums")
	require.ErrorContains(t, err, `returned "bad \xff\xfe bytes"`)
	require.True(t, utf8.ValidString(err.Error()), "error messages stay valid UTF-8")
	require.EqualValues(t, 1, queryInt(t, db, "SELECT 1"), "the connection survives")
}

func TestSlowDripResponseTimesOut(t *testing.T) {
	_, model, db := mlSetup(t, 50, 50, "SAGEMAKER")
	model.Set(func(b *testserver.Behaviour) { b.Drip = 100 * time.Millisecond })
	mustExec(t, db, "ALTER ENDPOINT model TIMEOUT_MS 300")
	start := time.Now()
	_, err := db.Exec("SELECT twice(x) FROM nums")
	require.ErrorContains(t, err, "timed out")
	require.Less(t, time.Since(start), 15*time.Second, "a dripping response is cut off by the request timeout")
}

func TestUnprivilegedUserAndEveryMLStatement(t *testing.T) {
	srv, model, root := mlSetup(t, 5, 5, "SAGEMAKER")
	mustExec(t, root, "CREATE USER nobody1 IDENTIFIED BY 'pw'", "GRANT SELECT ON ml.* TO nobody1")
	u := srv.Open(srv.DSN("nobody1", "pw", "ml"))
	for _, q := range []string{
		"CREATE FUNCTION mine(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'",
		"DROP FUNCTION twice",
		"CREATE ENDPOINT e URL 'http://127.0.0.1:9'",
		"ALTER ENDPOINT model TIMEOUT_MS 1",
		"DROP ENDPOINT model",
		"SHOW ENDPOINTS",
		"GRANT INVOKE SAGEMAKER ON *.* TO nobody1",
		"GRANT CREATE ENDPOINT ON *.* TO nobody1",
		"GRANT EXECUTE ON FUNCTION ml.twice TO nobody1",
		"REVOKE INVOKE SAGEMAKER ON *.* FROM root@localhost",
		"FLUSH STATUS",
		"SELECT twice(x) FROM nums",
		"SELECT * FROM sibyl.ml_audit_log",
		"SELECT * FROM sibyl.catalog_objects",
		"CREATE MODEL m FROM nums TARGET x FUNCTION m_fn",
		"CREATE MODEL r FUNCTION r_fn (DOUBLE) RETURNS DOUBLE SAGEMAKER 'model'",
		"GRANT CREATE MODEL TO nobody1",
		"GRANT EXECUTE ON MODEL ml.m TO nobody1",
		"SELECT aws_comprehend_detect_sentiment('great', 'en')",
		"SELECT aws_comprehend_detect_pii_entities('a@b.co', 'en')",
		"SELECT sibyl_redact_pii('a@b.co', 'en')",
	} {
		_, err := u.Exec(q)
		require.Error(t, err, q)
		var n uint16
		n, _ = mysqlErr(t, err)
		require.Contains(t, []uint16{1044, 1142, 1227, 1370}, n, "%s: %v", q, err)
	}
	require.Zero(t, model.Requests(), "nothing reached the model")
	// And nothing changed.
	require.EqualValues(t, 5, queryInt(t, root, "SELECT COUNT(*) FROM nums WHERE twice(x) = 2 * x"))
}

// TestTableGrantsAllowCTEs: a user with only table-level grants may name a
// CTE in a query; the CTE is not a table to be granted ("Access denied ...
// to table 'c'" before).
func TestTableGrantsAllowCTEs(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE s", "CREATE TABLE s.t (id INT PRIMARY KEY)", "INSERT INTO s.t VALUES (1), (2)",
		"CREATE TABLE s.hidden (id INT PRIMARY KEY)",
		"CREATE USER tl IDENTIFIED BY 'pw'", "GRANT SELECT ON s.t TO tl")
	tl := srv.Open(srv.DSN("tl", "pw", "s"))
	require.Equal(t, []string{`"1"`, `"2"`}, dump(t, tl, "WITH c AS (SELECT id FROM t) SELECT id FROM c ORDER BY id"))
	require.Equal(t, []string{`"3"`}, dump(t, tl, "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3) SELECT MAX(n) FROM c"))
	_, err := tl.Exec("WITH c AS (SELECT id FROM hidden) SELECT id FROM c")
	num, msg := mysqlErrMsg(t, err)
	require.EqualValues(t, 1142, num, "a CTE over an ungranted table is still refused")
	require.Equal(t, "SELECT command denied to user 'tl'@'%' for table 'hidden'", msg, "in MySQL's words")
}
