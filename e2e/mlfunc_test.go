package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// doubler answers 2*x for the first argument (NULL stays empty).
func doubler(row []*string) string {
	if len(row) == 0 || row[0] == nil || *row[0] == "" {
		return ""
	}
	f, err := strconv.ParseFloat(*row[0], 64)
	if err != nil {
		return "bad:" + *row[0]
	}
	return strconv.FormatFloat(2*f, 'g', -1, 64)
}

// mlSetup starts a server and a model server, creates database ml with
// table nums(id, x) of n rows (x = id % distinct), and an endpoint and
// function twice(x) calling the model server with protocol.
func mlSetup(t *testing.T, n, distinct int, protocol string, extra ...string) (*testserver.Server, *testserver.ModelServer, *sql.DB) {
	t.Helper()
	model := testserver.StartModelServer(t)
	model.Set(func(b *testserver.Behaviour) { b.Score = doubler })
	srv := testserver.Start(t, extra...)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE ml", "CREATE TABLE ml.nums (id INT PRIMARY KEY, x DOUBLE)")
	insertGenerated(t, db, "ml.nums", n, func(i int) string { return fmt.Sprintf("(%d,%d)", i, i%distinct) })
	db = srv.DB("ml", "multiStatements=true")
	mustExec(t, db,
		fmt.Sprintf("CREATE ENDPOINT model URL '%s' PROTOCOL %s", model.URL, protocol),
		"CREATE FUNCTION twice(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'")
	return srv, model, db
}

// insertGenerated inserts n rows into table in one statement; row(i) is
// the i-th row's parenthesised values.
func insertGenerated(t *testing.T, db *sql.DB, table string, n int, row func(i int) string) {
	t.Helper()
	if n == 0 {
		return
	}
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + table + " VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(row(i))
	}
	mustExec(t, db, sb.String())
}

func mlStatus(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	return globalStatus(t, db, "Aurora_ml%")
}

// batchedQuery runs twice(x) over every row of nums and checks the
// answers; the model server must have seen batches, not single rows.
func batchedQuery(t *testing.T, db *sql.DB, model *testserver.ModelServer, n int) {
	t.Helper()
	rows, err := db.Query("SELECT id, x, twice(x) FROM nums ORDER BY id")
	require.NoError(t, err)
	got := 0
	for rows.Next() {
		var id int
		var x, y float64
		require.NoError(t, rows.Scan(&id, &x, &y))
		require.Equal(t, 2*x, y, "row %d", id)
		got++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, n, got)
	batches := model.Batches()
	require.NotEmpty(t, batches)
	require.Less(t, len(batches), n, "the rows went in batches: %v", batches)
}

func TestEndpointFunctionBatchesWholeTable(t *testing.T) {
	const n = 1000
	_, model, db := mlSetup(t, n, n, "SAGEMAKER")
	mustExec(t, db, "FLUSH STATUS")

	batchedQuery(t, db, model, n)

	// Batches grow 16, 64, 256, 1024...: 1000 rows take 4 requests, not 1000.
	require.EqualValues(t, 4, model.Requests(), "batches %v", model.Batches())
	require.EqualValues(t, n, model.Rows())
	st := mlStatus(t, db)
	require.EqualValues(t, 4, st["Aurora_ml_actual_request_cnt"])
	require.EqualValues(t, 4, st["Aurora_ml_actual_response_cnt"])
	require.EqualValues(t, n, st["Aurora_ml_logical_request_cnt"])
	require.EqualValues(t, n, st["Aurora_ml_logical_response_cnt"])
	require.EqualValues(t, 0, st["Aurora_ml_single_request_cnt"])
	require.Equal(t, []string{"/invocations"}, unique(model.Paths()))
}

func unique(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func TestIdenticalArgumentsAreSentOnce(t *testing.T) {
	_, model, db := mlSetup(t, 500, 7, "SAGEMAKER")
	mustExec(t, db, "FLUSH STATUS")
	var sum float64
	require.NoError(t, db.QueryRow("SELECT SUM(twice(x)) FROM nums WHERE twice(x) >= 0").Scan(&sum))
	want := 0.0
	for i := 0; i < 500; i++ {
		want += 2 * float64(i%7)
	}
	require.Equal(t, want, sum)
	require.EqualValues(t, 7, model.Rows(), "each distinct x is sent once: batches %v", model.Batches())
	require.Greater(t, mlStatus(t, db)["Aurora_ml_cache_hit_cnt"], int64(0))
}

func TestBatchingInEveryClause(t *testing.T) {
	_, model, db := mlSetup(t, 200, 200, "SAGEMAKER")
	mustExec(t, db, "CREATE TABLE out1 (id INT PRIMARY KEY, y DOUBLE)")
	cases := []struct {
		name  string
		query string
		check func(t *testing.T)
	}{
		{"WHERE", "SELECT COUNT(*) FROM nums WHERE twice(x) > 100", func(t *testing.T) {
			require.EqualValues(t, 149, queryInt(t, db, "SELECT COUNT(*) FROM nums WHERE twice(x) > 100"))
		}},
		{"ORDER BY alias", "SELECT id, twice(x) AS y FROM nums ORDER BY y DESC LIMIT 3", func(t *testing.T) {
			require.EqualValues(t, 199, queryInt(t, db, "SELECT id FROM nums ORDER BY twice(x) DESC LIMIT 1"))
		}},
		{"GROUP BY and HAVING", "SELECT twice(x) > 100 AS big, COUNT(*) FROM nums GROUP BY twice(x) > 100 HAVING MAX(twice(x)) > 0", nil},
		{"derived table", "SELECT MAX(y) FROM (SELECT twice(x) AS y FROM nums) d", func(t *testing.T) {
			require.EqualValues(t, 398, queryInt(t, db, "SELECT MAX(y) FROM (SELECT twice(x) AS y FROM nums) d"))
		}},
		{"INSERT SELECT", "INSERT INTO out1 SELECT id, twice(x) FROM nums", func(t *testing.T) {
			require.EqualValues(t, 200, queryInt(t, db, "SELECT COUNT(*) FROM out1 WHERE y = 2 * id"))
		}},
		{"UPDATE SET", "UPDATE out1 SET y = twice(y) WHERE id < 100", func(t *testing.T) {
			require.EqualValues(t, 100, queryInt(t, db, "SELECT COUNT(*) FROM out1 WHERE y = 4 * id"))
		}},
		{"multi-row INSERT VALUES", "INSERT INTO out1 VALUES (1000, twice(1)), (1001, twice(2)), (1002, twice(3))", func(t *testing.T) {
			require.EqualValues(t, 12, queryInt(t, db, "SELECT SUM(y) FROM out1 WHERE id >= 1000"))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustExec(t, db, "FLUSH STATUS")
			model.Reset()
			_, err := db.Exec(c.query)
			require.NoError(t, err)
			st := mlStatus(t, db)
			require.Zero(t, st["Aurora_ml_single_request_cnt"], "%s fell back to per-row calls", c.name)
			require.LessOrEqual(t, model.Requests(), int64(5), "%s: batches %v", c.name, model.Batches())
			if c.check != nil {
				c.check(t)
			}
		})
	}
}

func TestExplainShowsBatchedMachineLearning(t *testing.T) {
	_, _, db := mlSetup(t, 3, 3, "SAGEMAKER")
	var extra string
	row := db.QueryRow("EXPLAIN SELECT id, twice(x) FROM nums")
	cols := make([]any, 12)
	for i := range cols {
		cols[i] = new(sql.NullString)
	}
	require.NoError(t, row.Scan(cols...))
	extra = cols[11].(*sql.NullString).String
	require.Equal(t, "Batched machine learning", extra)

	for _, q := range []string{"EXPLAIN FORMAT=TREE SELECT id, twice(x) FROM nums WHERE twice(x) > 1", "EXPLAIN PLAN SELECT twice(x) FROM nums"} {
		rows, err := db.Query(q)
		require.NoError(t, err)
		var plan []string
		for rows.Next() {
			var l string
			require.NoError(t, rows.Scan(&l))
			plan = append(plan, l)
		}
		require.NoError(t, rows.Err())
		require.Contains(t, strings.Join(plan, "\n"), "Batched machine learning (twice, max batch 10000)", q)
	}
}

func TestCSVQuotingNullsAndUnicode(t *testing.T) {
	model := testserver.StartModelServer(t)
	// JSON answers carry the echo back byte for byte (CSV readers fold a
	// quoted CRLF into LF), so this checks exactly what was sent.
	model.Set(func(b *testserver.Behaviour) { b.JSONResponses = true; b.Score = echoRow })
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE q")
	db = srv.DB("q", "multiStatements=true")
	mustExec(t, db,
		"CREATE TABLE docs (id INT PRIMARY KEY, a VARCHAR(100), b INT)",
		fmt.Sprintf("CREATE ENDPOINT echo URL '%s'", model.URL),
		"CREATE FUNCTION echo2(a VARCHAR(100), b INT) RETURNS VARCHAR(300) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'echo'")
	texts := []string{`plain`, `with, comma`, `with "quotes"`, "multi\nline", "crlf\r\nline", `日本語 ✓ émoji 🚀`, ``}
	for i, s := range texts {
		_, err := db.Exec("INSERT INTO docs VALUES (?, ?, ?)", i, s, i)
		require.NoError(t, err)
	}
	_, err := db.Exec("INSERT INTO docs VALUES (100, NULL, NULL)")
	require.NoError(t, err)
	rows, err := db.Query("SELECT id, echo2(a, b) FROM docs ORDER BY id")
	require.NoError(t, err)
	got := map[int]string{}
	for rows.Next() {
		var id int
		var v string
		require.NoError(t, rows.Scan(&id, &v))
		got[id] = v
	}
	require.NoError(t, rows.Err())
	for i, s := range texts {
		want := fmt.Sprintf("%s|%d", s, i)
		if s == "" {
			want = fmt.Sprintf("<null>|%d", i) // an empty string travels as an empty field, like NULL
		}
		require.Equal(t, want, got[i], "row %d", i)
	}
	require.Equal(t, "<null>|<null>", got[100])
}

// echoRow answers a row as "a|b", NULL as <null>.
func echoRow(row []*string) string {
	parts := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			parts[i] = "<null>"
		} else {
			parts[i] = *v
		}
	}
	return strings.Join(parts, "|")
}

func TestProtocols(t *testing.T) {
	for _, p := range []string{"KSERVE_V2", "MLFLOW", "OPENAI"} {
		t.Run(p, func(t *testing.T) {
			_, model, db := mlSetup(t, 40, 40, p)
			var n int64
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM nums WHERE twice(x) = 2 * x").Scan(&n))
			require.EqualValues(t, 40, n)
			switch p {
			case "OPENAI":
				require.EqualValues(t, 40, model.Requests(), "chat completions carry one row each")
				require.Equal(t, []string{"/v1/chat/completions"}, unique(model.Paths()))
			case "KSERVE_V2":
				require.LessOrEqual(t, model.Requests(), int64(3))
				require.Equal(t, []string{"/v2/models/model/infer"}, unique(model.Paths()))
			case "MLFLOW":
				require.LessOrEqual(t, model.Requests(), int64(3))
				require.Equal(t, []string{"/invocations"}, unique(model.Paths()))
			}
		})
	}
}

func TestSageMakerURLResolution(t *testing.T) {
	model := testserver.StartModelServer(t)
	model.Set(func(b *testserver.Behaviour) { b.Score = doubler })
	srv := testserver.Start(t, "--sagemaker-url", model.URL)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE s", "USE s",
		"CREATE FUNCTION churn(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'churn-endpoint'")
	db = srv.DB("s")
	require.EqualValues(t, 42, queryInt(t, db, "SELECT churn(21)"))
	require.Equal(t, []string{"/endpoints/churn-endpoint/invocations"}, model.Paths())

	// Without CREATE ENDPOINT or a base URL the error says how to fix it.
	mustExec(t, db, "SET GLOBAL aws_sagemaker_endpoint_url = ''")
	_, err := db.Exec("SELECT churn(1)")
	require.ErrorContains(t, err, "endpoint 'churn-endpoint' is not defined")
	require.ErrorContains(t, err, "CREATE ENDPOINT")
}

func TestEndpointFailuresFailTheStatement(t *testing.T) {
	_, model, db := mlSetup(t, 50, 50, "SAGEMAKER")
	mustExec(t, db, "CREATE TABLE copy1 (id INT PRIMARY KEY, y DOUBLE)")

	t.Run("HTTP 500 with message, no partial write", func(t *testing.T) {
		model.Set(func(b *testserver.Behaviour) {
			b.Fail = func(int64) (int, string) { return 500, `{"message":"model crashed: out of memory"}` }
		})
		defer model.Set(func(b *testserver.Behaviour) { b.Fail = nil })
		_, err := db.Exec("INSERT INTO copy1 SELECT id, twice(x) FROM nums")
		require.ErrorContains(t, err, "twice")
		require.ErrorContains(t, err, "endpoint 'model' returned HTTP 500: model crashed: out of memory")
		require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM copy1"))
	})

	t.Run("throttling is retried", func(t *testing.T) {
		model.Reset()
		var calls atomic.Int64
		model.Set(func(b *testserver.Behaviour) {
			b.Fail = func(int64) (int, string) {
				if calls.Add(1) <= 2 {
					return 429, `{"message":"slow down"}`
				}
				return 0, ""
			}
		})
		defer model.Set(func(b *testserver.Behaviour) { b.Fail = nil })
		mustExec(t, db, "FLUSH STATUS")
		require.EqualValues(t, 50, queryInt(t, db, "SELECT COUNT(*) FROM nums WHERE twice(x) = 2 * x"))
		require.EqualValues(t, 2, mlStatus(t, db)["Aurora_ml_retry_request_cnt"])
	})

	t.Run("bad value for the return type", func(t *testing.T) {
		model.Set(func(b *testserver.Behaviour) { b.Score = func([]*string) string { return "not-a-number" } })
		defer model.Set(func(b *testserver.Behaviour) { b.Score = doubler })
		_, err := db.Exec("SELECT twice(x) FROM nums")
		require.ErrorContains(t, err, "ML function 'twice' returned 'not-a-number'")
		require.ErrorContains(t, err, "double")
	})

	t.Run("timeout", func(t *testing.T) {
		mustExec(t, db, "ALTER ENDPOINT model TIMEOUT_MS 200")
		model.Set(func(b *testserver.Behaviour) { b.Delay = 2 * time.Second })
		defer func() {
			model.Set(func(b *testserver.Behaviour) { b.Delay = 0 })
			mustExec(t, db, "ALTER ENDPOINT model TIMEOUT_MS 0")
		}()
		start := time.Now()
		_, err := db.Exec("SELECT twice(x) FROM nums")
		require.ErrorContains(t, err, "timed out")
		require.Less(t, time.Since(start), 20*time.Second, "timeouts and bounded retries, never a hang")
	})

	t.Run("connection refused", func(t *testing.T) {
		mustExec(t, db, "CREATE ENDPOINT gone URL 'http://127.0.0.1:1' ",
			"CREATE FUNCTION gone(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'gone'")
		_, err := db.Exec("SELECT gone(x) FROM nums")
		require.ErrorContains(t, err, "endpoint 'gone'")
		require.ErrorContains(t, err, "connection refused")
		require.EqualValues(t, 1, queryInt(t, db, "SELECT 1"), "connection usable")
	})
}

func TestLimitDoesNotOverInfer(t *testing.T) {
	_, model, db := mlSetup(t, 5000, 5000, "SAGEMAKER")
	model.Set(func(b *testserver.Behaviour) { b.Delay = 20 * time.Millisecond })
	rows, err := db.Query("SELECT twice(x) FROM nums LIMIT 5")
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 5, n)
	require.LessOrEqual(t, model.Rows(), int64(16+64+256), "rows sent for LIMIT 5: batches %v", model.Batches())
}

func TestMLFunctionInTriggerAndPreparedStatement(t *testing.T) {
	model := testserver.StartModelServer(t)
	model.Set(func(b *testserver.Behaviour) {
		b.Score = func(row []*string) string { // fraud if amount > 1000
			f, _ := strconv.ParseFloat(*row[0], 64)
			if f > 1000 {
				return "True"
			}
			return "False"
		}
	})
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE f")
	db = srv.DB("f", "multiStatements=true")
	mustExec(t, db,
		fmt.Sprintf("CREATE ENDPOINT fraud URL '%s'", model.URL),
		"CREATE FUNCTION is_fraud(amount DECIMAL(10,2), merchant VARCHAR(64)) RETURNS VARCHAR(8) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'fraud'",
		"CREATE TABLE txns (id INT AUTO_INCREMENT PRIMARY KEY, amount DECIMAL(10,2), merchant VARCHAR(64))",
		`CREATE TRIGGER check_fraud BEFORE INSERT ON txns FOR EACH ROW
		 BEGIN
		   IF is_fraud(NEW.amount, NEW.merchant) = 'True' THEN
		     SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'transaction blocked: fraud';
		   END IF;
		 END`,
		"FLUSH STATUS")
	_, err := db.Exec("INSERT INTO txns (amount, merchant) VALUES (12.50, 'cafe')")
	require.NoError(t, err)
	_, err = db.Exec("INSERT INTO txns (amount, merchant) VALUES (5000, 'casino')")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1644, num)
	require.EqualValues(t, 1, queryInt(t, db, "SELECT COUNT(*) FROM txns"))
	require.GreaterOrEqual(t, mlStatus(t, db)["Aurora_ml_single_request_cnt"], int64(2), "trigger calls are single requests")

	// Server-side prepared statements call ML functions too.
	prep := srv.DB("f", "interpolateParams=false")
	var verdict string
	require.NoError(t, prep.QueryRow("SELECT is_fraud(?, ?)", 2000, "x").Scan(&verdict))
	require.Equal(t, "True", verdict)
}

func TestConcurrentSessionsCallFunctions(t *testing.T) {
	_, _, db := mlSetup(t, 300, 300, "SAGEMAKER")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				var n int64
				if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM nums WHERE twice(x) = 2 * x").Scan(&n); err != nil {
					errs <- err
					return
				}
				if n != 300 {
					errs <- fmt.Errorf("got %d rows", n)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestFunctionDDLAndRestart(t *testing.T) {
	srv, model, db := mlSetup(t, 10, 10, "SAGEMAKER")
	mustExec(t, db, fmt.Sprintf("ALTER ENDPOINT model HEADERS ('Authorization' = 'Bearer s3cret-token')"))

	var name, create string
	var a, b, c, d sql.NullString
	require.NoError(t, db.QueryRow("SHOW CREATE FUNCTION twice").Scan(&name, &a, &create, &b, &c, &d))
	require.Contains(t, create, "ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'")

	rows, err := db.Query("SHOW ENDPOINTS")
	require.NoError(t, err)
	var shown strings.Builder
	for rows.Next() {
		vals := make([]sql.NullString, 7)
		ptrs := make([]any, 7)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		for _, v := range vals {
			shown.WriteString(v.String + " ")
		}
	}
	require.NoError(t, rows.Err())
	require.Contains(t, shown.String(), "Authorization")
	require.NotContains(t, shown.String(), "s3cret-token", "header values are secrets")

	require.EqualValues(t, 10, queryInt(t, db, "SELECT COUNT(*) FROM nums WHERE twice(x) = 2 * x"))
	require.Equal(t, "Bearer s3cret-token", model.LastHeader("Authorization"))

	// Stored sealed: the catalog row (and so dumps and clones) has only ciphertext.
	var stored string
	require.NoError(t, db.QueryRow("SELECT definition FROM sibyl.catalog_objects WHERE kind = 'endpoint' AND name = 'model'").Scan(&stored))
	require.Contains(t, stored, "sealed_headers")
	require.NotContains(t, stored, "s3cret-token")
	require.NotContains(t, stored, "Authorization")

	srv.Restart()
	db = srv.DB("ml")
	model.Reset()
	require.EqualValues(t, 10, queryInt(t, db, "SELECT COUNT(*) FROM nums WHERE twice(x) = 2 * x"), "functions and endpoints survive restart")
	require.Equal(t, "Bearer s3cret-token", model.LastHeader("Authorization"), "headers are unsealed at start-up")
	require.NotContains(t, srv.Log(), "s3cret-token")

	mustExec(t, db, "DROP FUNCTION twice")
	_, err = db.Exec("SELECT twice(1)")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1305, num)
	mustExec(t, db, "DROP FUNCTION IF EXISTS twice", "DROP ENDPOINT model", "DROP ENDPOINT IF EXISTS model")
	_, err = db.Exec("DROP ENDPOINT model")
	require.ErrorContains(t, err, "does not exist")
}

func TestEndpointHeadersNeverLogged(t *testing.T) {
	srv := testserver.Start(t, "--log-level", "trace")
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE ENDPOINT e URL 'http://127.0.0.1:9' HEADERS ('Authorization' = 'Bearer first-s3cret')",
		"ALTER ENDPOINT e HEADERS ('X-Api-Key' = 'second-s3cret')")
	_, err := db.Exec("CREATE ENDPOINT e2 URL 'ftp://x' HEADERS ('A' = 'third-s3cret')")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")
	require.Eventually(t, func() bool { return strings.Contains(srv.Log(), "ALTER ENDPOINT e HEADERS") }, 5*time.Second, 50*time.Millisecond,
		"statements are logged at trace level")
	require.NotContains(t, srv.Log(), "s3cret")
}

func TestCreateFunctionValidation(t *testing.T) {
	_, _, db := mlSetup(t, 0, 1, "SAGEMAKER")
	cases := []struct {
		sql  string
		want string
	}{
		{"CREATE FUNCTION twice(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'", "already exists"},
		{"CREATE FUNCTION upper(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'", "shadows a built-in"},
		{"CREATE FUNCTION j(x INT) RETURNS JSON ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'", "not supported"},
		{"CREATE FUNCTION t(x INT) RETURNS TEXT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'", "not supported"},
		{"CREATE FUNCTION d(x INT) RETURNS DATE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'", "not supported"},
		{"CREATE FUNCTION b(x INT) RETURNS BIT(1) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'", "not supported"},
		{"CREATE FUNCTION c(x INT) RETURNS INT CONTAINS SQL ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'", "not allowed"},
		{"CREATE FUNCTION r(x INT) RETURNS INT READS SQL DATA ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'", "not allowed"},
		{"CREATE FUNCTION m(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model' MAX_BATCH_SIZE 0", "greater than 0"},
		{"CREATE FUNCTION s(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT 'model'", "syntax"},
		{"CREATE ENDPOINT e2 URL 'ftp://x'", "http://"},
		{"CREATE ENDPOINT e3 URL 'http://x' PROTOCOL GRPC", "unknown protocol"},
	}
	for _, c := range cases {
		_, err := db.Exec(c.sql)
		require.ErrorContains(t, err, c.want, c.sql)
	}
	// Accepted spellings, case-insensitive, with the optional clauses.
	mustExec(t, db,
		"create function ok1 (a varchar(2048), b bigint(20), c double) returns varchar(2048) charset utf8mb4 sql security invoker alias aws_sagemaker_invoke_endpoint endpoint name 'model' max_batch_size 50",
		"CREATE DEFINER = 'root'@'localhost' FUNCTION ok2(x INT) RETURNS DECIMAL(10,2) NOT DETERMINISTIC ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'")
	_, err := db.Exec("SELECT ok1('a')")
	require.ErrorContains(t, err, "expected 3, got 1")
}

func TestMLFunctionsInProceduresAndCorrelatedSubqueries(t *testing.T) {
	_, model, db := mlSetup(t, 20, 20, "SAGEMAKER")
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	ctx := context.Background()
	_, err = conn.ExecContext(ctx, `CREATE PROCEDURE score_sum(IN lim INT, OUT total DOUBLE)
		BEGIN
		  SELECT SUM(twice(x)) INTO total FROM nums WHERE id < lim;
		END`)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "CALL score_sum(10, @t)")
	require.NoError(t, err)
	var total float64
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT @t").Scan(&total))
	require.Equal(t, 90.0, total) // 2 * (0+1+...+9)

	// A correlated subquery cannot be batched by its parent; its calls run
	// one row at a time and still give the right answer.
	model.Reset()
	mustExec(t, db, "FLUSH STATUS")
	var n int64
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM nums a
		WHERE (SELECT twice(b.x) FROM nums b WHERE b.id = a.id) = 2 * a.x`).Scan(&n))
	require.EqualValues(t, 20, n)
	require.Greater(t, model.Rows(), int64(0))
}

func TestEndpointFailingMidStatementLeavesNoPartialWrite(t *testing.T) {
	_, model, db := mlSetup(t, 2000, 2000, "SAGEMAKER")
	mustExec(t, db, "CREATE TABLE scored (id INT PRIMARY KEY, y DOUBLE)")
	// The first two batches succeed, then the endpoint goes down.
	model.Set(func(b *testserver.Behaviour) {
		b.Fail = func(n int64) (int, string) {
			if n > 2 {
				return 503, `{"message":"endpoint is being updated"}`
			}
			return 0, ""
		}
	})
	_, err := db.Exec("INSERT INTO scored SELECT id, twice(x) FROM nums")
	require.ErrorContains(t, err, "HTTP 503")
	require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM scored"), "a failed statement writes nothing")
	_, err = db.Exec("UPDATE nums SET x = twice(x)")
	require.ErrorContains(t, err, "HTTP 503")
	require.EqualValues(t, 1999*2000/2, queryInt(t, db, "SELECT CAST(SUM(x) AS SIGNED) FROM nums"), "a failed UPDATE changes nothing")
}

func TestFunctionsListedInRoutinesAndStats(t *testing.T) {
	_, model, db := mlSetup(t, 100, 100, "SAGEMAKER")
	mustExec(t, db, "CREATE PROCEDURE plain_proc() SELECT 1")
	require.EqualValues(t, 100, queryInt(t, db, "SELECT COUNT(*) FROM nums WHERE twice(x) = 2 * x"))

	var dbName, name, typ, security, lang string
	require.NoError(t, db.QueryRow(`SELECT routine_schema, routine_name, routine_type, security_type, external_language
		FROM information_schema.routines WHERE routine_name = 'twice'`).Scan(&dbName, &name, &typ, &security, &lang))
	require.Equal(t, []string{"ml", "twice", "FUNCTION", "DEFINER", "AWS_SAGEMAKER_INVOKE_ENDPOINT"}, []string{dbName, name, typ, security, lang})
	require.EqualValues(t, 1, queryInt(t, db, "SELECT COUNT(*) FROM information_schema.routines WHERE routine_name = 'plain_proc'"),
		"stored procedures are still listed")

	rows, err := db.Query("SHOW FUNCTION STATUS LIKE 'twi%'")
	require.NoError(t, err)
	cols, err := rows.Columns()
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		require.Equal(t, "twice", vals[1].String)
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 1, n)

	var reqs, nrows, single, errs int64
	var p50, p99 sql.NullFloat64
	require.NoError(t, db.QueryRow(`SELECT requests, rows_scored, single_calls, errors, latency_p50_ms, latency_p99_ms
		FROM information_schema.ML_FUNCTION_STATS WHERE function_schema = 'ml' AND function_name = 'twice'`).
		Scan(&reqs, &nrows, &single, &errs, &p50, &p99))
	require.EqualValues(t, model.Requests(), reqs)
	require.EqualValues(t, 100, nrows)
	require.Zero(t, single)
	require.Zero(t, errs)
	require.True(t, p50.Valid && p99.Valid && p50.Float64 > 0 && p99.Float64 >= p50.Float64, "p50 %v p99 %v", p50, p99)
}

func TestPerStatementLimits(t *testing.T) {
	_, model, db := mlSetup(t, 1000, 1000, "SAGEMAKER")
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	ctx := context.Background()

	_, err = conn.ExecContext(ctx, "SET sibyl_ml_max_rows_per_statement = 100")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "SELECT twice(x) FROM nums")
	require.ErrorContains(t, err, "sibyl_ml_max_rows_per_statement = 100")
	require.LessOrEqual(t, model.Rows(), int64(100), "the request that would pass the limit is never sent")

	// Under the limit the statement runs; the limit is per statement.
	var n int64
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM nums WHERE id < 50 AND twice(x) = 2 * x").Scan(&n))
	require.EqualValues(t, 50, n)
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM nums WHERE id < 50 AND twice(x) = 2 * x").Scan(&n))

	_, err = conn.ExecContext(ctx, "SET sibyl_ml_max_rows_per_statement = 0")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "SET sibyl_ml_max_requests_per_statement = 2")
	require.NoError(t, err)
	model.Reset()
	_, err = conn.ExecContext(ctx, "SELECT twice(x) FROM nums")
	require.ErrorContains(t, err, "sibyl_ml_max_requests_per_statement = 2")
	require.LessOrEqual(t, model.Requests(), int64(2))
}

func TestCircuitBreakerFailsFast(t *testing.T) {
	_, model, db := mlSetup(t, 10, 10, "SAGEMAKER")
	model.Set(func(b *testserver.Behaviour) {
		b.Fail = func(int64) (int, string) { return 503, `{"message":"down"}` }
	})
	for i := 0; i < 5; i++ {
		_, err := db.Exec("SELECT twice(1)")
		require.ErrorContains(t, err, "HTTP 503")
	}
	before := model.Requests()
	_, err := db.Exec("SELECT twice(1)")
	require.ErrorContains(t, err, "failing fast after 5 consecutive failures")
	require.Equal(t, before, model.Requests(), "an open circuit sends nothing")
}

// TestTextAndBlobColumnsAreSentByContent guards against keying or sending
// lazily loaded TEXT/BLOB values by their wrapper instead of their content
// (every row then got the first row's answer).
func TestTextAndBlobColumnsAreSentByContent(t *testing.T) {
	_, model, db := mlSetup(t, 0, 1, "SAGEMAKER")
	model.Set(func(b *testserver.Behaviour) { b.Score = echoRow })
	mustExec(t, db, "CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, raw BLOB)",
		"INSERT INTO docs VALUES (1, 'first', 'a'), (2, 'second', 'b'), (3, 'first', 'c')",
		"CREATE FUNCTION echo_text(t TEXT, r VARCHAR(10)) RETURNS VARCHAR(100) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'")
	rows, err := db.Query("SELECT echo_text(body, raw) FROM docs ORDER BY id")
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		got = append(got, s)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"first|a", "second|b", "first|c"}, got)
}

// TestSubqueryArgumentInInsertValues: an ML call whose argument is a
// subquery, in INSERT ... VALUES, is evaluated against the row GMS gives a
// VALUES tuple; it failed with "unable to find field with index 1".
func TestSubqueryArgumentInInsertValues(t *testing.T) {
	_, model, db := mlSetup(t, 10, 10, "SAGEMAKER")
	mustExec(t, db, "CREATE TABLE scored (id INT PRIMARY KEY, y DOUBLE)",
		"INSERT INTO scored VALUES (1, twice((SELECT MAX(x) FROM nums))), (2, twice((SELECT MIN(x) + 3 FROM nums WHERE x > 4)))")
	require.Equal(t, []string{`"1"|"18"`, `"2"|"16"`}, dump(t, db, "SELECT id, y FROM scored ORDER BY id"))
	require.Positive(t, model.Requests())
}
