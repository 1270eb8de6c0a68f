package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
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

// queryIDs runs q, which selects id and twice(x) from nums (x = id), checks
// every answer and returns the ids.
func queryIDs(t *testing.T, db *sql.DB, q string, args ...any) []int {
	t.Helper()
	rows, err := db.Query(q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		var y float64
		require.NoError(t, rows.Scan(&id, &y))
		require.Equal(t, float64(2*id), y, "row %d", id)
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

func span(from, n, step int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i*step
	}
	return out
}

// TestLimitBoundsReadAhead checks that a LIMIT above the projection that
// calls a model bounds what the read-ahead sends: every row sent costs money
// with a priced model.
func TestLimitBoundsReadAhead(t *testing.T) {
	_, model, db := mlSetup(t, 3000, 3000, "SAGEMAKER")
	model.Set(func(b *testserver.Behaviour) { b.Delay = 5 * time.Millisecond })
	for _, tc := range []struct {
		query string
		ids   []int
	}{
		{"SELECT id, twice(x) FROM nums ORDER BY id DESC LIMIT 200", span(2999, 200, -1)},
		{"SELECT id, twice(x) FROM nums ORDER BY id LIMIT 200", span(0, 200, 1)},
		{"SELECT id, twice(x) FROM nums ORDER BY id LIMIT 100, 200", span(100, 200, 1)},
		{"SELECT id, twice(x) FROM nums ORDER BY id DESC LIMIT 200 OFFSET 2900", span(99, 100, -1)},
		{"SELECT id, twice(x) FROM (SELECT * FROM nums ORDER BY id DESC LIMIT 200) d ORDER BY id DESC", span(2999, 200, -1)},
		{"SELECT id, twice(x) FROM nums ORDER BY id DESC LIMIT 3", span(2999, 3, -1)},
		{"SELECT id, twice(x) FROM nums ORDER BY id LIMIT 0", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			model.Reset()
			require.Equal(t, tc.ids, queryIDs(t, db, tc.query))
			require.LessOrEqual(t, model.Rows(), int64(len(tc.ids)), "rows sent: batches %v", model.Batches())
		})
	}

	t.Run("found rows", func(t *testing.T) {
		conn, err := db.Conn(context.Background())
		require.NoError(t, err)
		defer conn.Close()
		rows, err := conn.QueryContext(context.Background(), "SELECT SQL_CALC_FOUND_ROWS id, twice(x) FROM nums ORDER BY id LIMIT 5")
		require.NoError(t, err)
		for rows.Next() {
		}
		require.NoError(t, rows.Err())
		var found int
		require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT FOUND_ROWS()").Scan(&found))
		require.Equal(t, 3000, found)
	})

	t.Run("prepared", func(t *testing.T) {
		model.Reset()
		require.Equal(t, span(0, 30, 1), queryIDs(t, db, "SELECT id, twice(x) FROM nums ORDER BY id LIMIT ?", 30))
		require.LessOrEqual(t, model.Rows(), int64(30), "rows sent: batches %v", model.Batches())
	})
}

// mlFunctionStats reads one function's row of ML_FUNCTION_STATS.
func mlFunctionStats(t *testing.T, db *sql.DB, name string) (requests, errors, cancelled int64) {
	t.Helper()
	require.NoError(t, db.QueryRow(`SELECT requests, errors, cancelled FROM information_schema.ML_FUNCTION_STATS
		WHERE function_schema = DATABASE() AND function_name = ?`, name).Scan(&requests, &errors, &cancelled))
	return requests, errors, cancelled
}

// TestCancelledReadAheadIsNotAnError checks that requests a statement
// abandons when it has its rows (read-ahead in flight at LIMIT) are counted
// as cancelled, not as errors, while real failures still are errors.
func TestCancelledReadAheadIsNotAnError(t *testing.T) {
	_, model, db := mlSetup(t, 500, 500, "SAGEMAKER")
	// The first batch (the Batch sends 16 rows first: x 0..15) answers only
	// once a read-ahead request has arrived; every later batch is held
	// until the test ends, so it is in flight when LIMIT 5 is satisfied.
	// Requests are told apart by their rows, not by arrival order or timing.
	hold := make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	defer release()
	model.Set(func(b *testserver.Behaviour) {
		b.Score = func(row []*string) string {
			if x, _ := strconv.Atoi(*row[0]); x < 16 {
				for deadline := time.Now().Add(30 * time.Second); model.InFlight() < 2 && time.Now().Before(deadline); {
					time.Sleep(5 * time.Millisecond)
				}
			} else {
				<-hold
			}
			return doubler(row)
		}
	})
	// The filter's Batch cannot be bounded by the LIMIT: it reads ahead.
	rows, err := db.Query("SELECT id, twice(x) FROM nums WHERE twice(x) >= 0 ORDER BY id LIMIT 5")
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 5, n)
	require.Greater(t, model.Requests(), int64(1), "the read-ahead sent a second request")
	// The client may have its rows before the server has closed the
	// statement and recorded the cancellation.
	var reqs, errs, cancelled int64
	require.Eventually(t, func() bool {
		reqs, errs, cancelled = mlFunctionStats(t, db, "twice")
		return cancelled+errs > 0
	}, 30*time.Second, 20*time.Millisecond)
	require.Zero(t, errs, "requests cancelled at statement end are not errors")
	require.Positive(t, cancelled)
	require.EqualValues(t, model.Requests(), reqs)
	cancelledBefore := cancelled

	// A real failure still counts.
	release()
	model.Set(func(b *testserver.Behaviour) {
		b.Score = doubler
		b.Fail = func(int64) (int, string) { return 400, `{"message":"bad input"}` }
	})
	_, err = db.Exec("SELECT twice(1)")
	require.ErrorContains(t, err, "bad input")
	_, errs, cancelled = mlFunctionStats(t, db, "twice")
	require.EqualValues(t, 1, errs)
	require.EqualValues(t, cancelledBefore, cancelled)
}

// TestEndpointConcurrencySharedFairly checks that an endpoint's
// MAX_CONCURRENCY is shared between statements: a short SELECT arriving
// while long statements keep the endpoint busy gets the next free slot
// instead of queueing behind every request they have waiting.
func TestEndpointConcurrencySharedFairly(t *testing.T) {
	const delay = 300 * time.Millisecond
	srv, model, db := mlSetup(t, 200, 200, "SAGEMAKER")
	// Every request is one row and waits the same delay, so rows are
	// scored in the order their requests arrived: scored counts them, and
	// shortAt is the position of the short statement's row.
	var scored, shortAt atomic.Int64
	var served sync.Map // which long statements have had a row scored
	model.Set(func(b *testserver.Behaviour) {
		b.Delay = delay
		b.Score = func(row []*string) string {
			n := scored.Add(1)
			if row[0] != nil {
				switch v, _ := strconv.ParseFloat(*row[0], 64); {
				case v == 1000.5:
					shortAt.Store(n)
				case v < 100:
					served.Store("update", true)
				case v < 140:
					served.Store("select1", true)
				default:
					served.Store("select2", true)
				}
			}
			return doubler(row)
		}
	})
	mustExec(t, db,
		"CREATE TABLE out1 (id INT PRIMARY KEY, y DOUBLE)",
		"INSERT INTO out1 SELECT id, 0 FROM nums WHERE id < 40",
		fmt.Sprintf("CREATE ENDPOINT slow URL '%s' PROTOCOL SAGEMAKER MAX_CONCURRENCY 2", model.URL),
		"CREATE FUNCTION one_by_one(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'slow' MAX_BATCH_SIZE 1")

	// Three long statements, one row per request, each keeping its share
	// of requests queued on the endpoint.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, q := range []string{
		"UPDATE out1 SET y = one_by_one(id)",
		"SELECT SUM(one_by_one(x)) FROM nums WHERE id BETWEEN 100 AND 139",
		"SELECT SUM(one_by_one(x)) FROM nums WHERE id BETWEEN 140 AND 179",
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = srv.DB("ml").ExecContext(ctx, q)
		}()
	}
	defer wg.Wait()
	defer cancel()
	// Once every long statement has been served, the model holds new
	// requests until hold is closed: when two requests that arrived after
	// that hold both slots, nothing leaves the queue while the short
	// statement joins it, so the order in which slots are given out cannot
	// depend on how fast a loaded machine runs the statements.
	require.Eventually(t, func() bool {
		n := 0
		served.Range(func(any, any) bool { n++; return true })
		return n == 3
	}, 30*time.Second, 10*time.Millisecond, "every long statement has a row scored")
	hold := make(chan struct{})
	var release sync.Once
	defer release.Do(func() { close(hold) })
	model.Set(func(b *testserver.Behaviour) { b.Hold = hold })
	atHold := model.Requests() // requests counted from here on are held
	require.Eventually(t, func() bool { return model.Requests()-atHold >= 2 }, 30*time.Second, 10*time.Millisecond)

	// The short statement joins the queue while nothing can leave it.
	short := make(chan error, 1)
	var v float64
	go func() { short <- db.QueryRow("SELECT one_by_one(1000.5) /* short-one */").Scan(&v) }()
	require.Eventually(t, func() bool {
		p, ok := progressOf(t, db, "short-one")
		return ok && strings.HasPrefix(p.state, "scoring")
	}, 30*time.Second, 10*time.Millisecond, "the short statement never started scoring")
	time.Sleep(delay / 2)

	// The short statement takes the first slot that frees: no request
	// queued by the long statements goes before it (at most one may: the
	// two held requests free both slots at once, and the short one's and
	// a long one's request then race to the model). A single FIFO queue
	// sent every queued request first.
	before := model.Requests()
	release.Do(func() { close(hold) })
	require.NoError(t, <-short)
	require.Equal(t, 2001.0, v)
	ahead := shortAt.Load() - before - 1
	require.LessOrEqual(t, ahead, int64(1), "%d requests of the long statements went before the short one", ahead)
}

// bedrockSetup starts a Bedrock test server and a SibylDB server whose AWS
// SDK reaches it, with database gen holding prompts(id, p): n rows over
// distinct different prompts.
func bedrockSetup(t *testing.T, n, distinct int) (*testserver.Server, *testserver.BedrockServer, *sql.DB) {
	t.Helper()
	bed := testserver.StartBedrockServer(t)
	srv := testserver.StartWithEnv(t, bed.Env())
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE gen", "CREATE TABLE gen.prompts (id INT PRIMARY KEY, p TEXT)")
	insertGenerated(t, db, "gen.prompts", n, func(i int) string { return fmt.Sprintf("(%d,'prompt number %d')", i, i%distinct) })
	db = srv.DB("gen", "multiStatements=true")
	mustExec(t, db, `CREATE FUNCTION titan(body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL
		MODEL ID 'amazon.titan-text-express-v1' CONTENT_TYPE 'application/json' ACCEPT 'application/json'`)
	return srv, bed, db
}

// TestBedrockInvokeModel runs Aurora's aws_bedrock_invoke_model function
// over a table through the real aws-sdk-go-v2 client against a Bedrock
// server that verifies every SigV4 signature: answers in row order,
// requests concurrent up to the limit, identical prompts sent once.
func TestBedrockInvokeModel(t *testing.T) {
	const n, distinct = 200, 40
	_, bed, db := bedrockSetup(t, n, distinct)
	bed.SetDelay(50 * time.Millisecond)
	mustExec(t, db, "FLUSH STATUS")

	rows, err := db.Query(`SELECT id, JSON_UNQUOTE(JSON_EXTRACT(titan(JSON_OBJECT('inputText', p)), '$.outputText'))
		FROM prompts ORDER BY id`)
	require.NoError(t, err)
	got := 0
	for rows.Next() {
		var id int
		var out string
		require.NoError(t, rows.Scan(&id, &out))
		require.Equal(t, got, id)
		require.Equal(t, fmt.Sprintf("PROMPT NUMBER %d", id%distinct), out)
		got++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, n, got)

	require.Zero(t, bed.BadSignatures())
	recv := bed.Received()
	require.Len(t, recv, distinct, "each distinct prompt is sent once")
	for _, r := range recv {
		require.Equal(t, "invoke", r.Op)
		require.Equal(t, "amazon.titan-text-express-v1", r.ModelID)
		require.Equal(t, "application/json", r.ContentType)
		require.Equal(t, "application/json", r.Accept)
	}
	require.Greater(t, bed.MaxInflight(), 1, "requests run concurrently")
	require.LessOrEqual(t, bed.MaxInflight(), 16)
	st := mlStatus(t, db)
	require.EqualValues(t, distinct, st["Aurora_ml_actual_request_cnt"])
	require.EqualValues(t, distinct, st["Aurora_ml_logical_request_cnt"])

	var fn, endpoint string
	var reqs, nrows, errs int64
	require.NoError(t, db.QueryRow(`SELECT function_name, endpoint, requests, rows_scored, errors FROM information_schema.ML_FUNCTION_STATS
		WHERE function_schema = 'gen'`).Scan(&fn, &endpoint, &reqs, &nrows, &errs))
	require.Equal(t, []any{"titan", "amazon.titan-text-express-v1", int64(distinct), int64(distinct), int64(0)}, []any{fn, endpoint, reqs, nrows, errs})

	// NULL in, NULL out, nothing sent.
	bed.Reset()
	var out sql.NullString
	require.NoError(t, db.QueryRow("SELECT titan(NULL)").Scan(&out))
	require.False(t, out.Valid)
	require.Zero(t, bed.Requests())
}

// TestBedrockThrottlingAndErrors checks that throttling is retried with
// backoff, and that failures name the function, the model and Bedrock's
// own message.
func TestBedrockThrottlingAndErrors(t *testing.T) {
	_, bed, db := bedrockSetup(t, 0, 1)
	mustExec(t, db, "FLUSH STATUS")
	bed.Throttle(2)
	var out string
	require.NoError(t, db.QueryRow(`SELECT titan('{"inputText":"hello there"}')`).Scan(&out))
	require.JSONEq(t, `{"outputText":"HELLO THERE","inputTextTokenCount":2}`, out)
	require.EqualValues(t, 3, bed.Requests(), "two throttled attempts, then the answer")
	require.EqualValues(t, 2, mlStatus(t, db)["Aurora_ml_retry_request_cnt"])

	mustExec(t, db, `CREATE FUNCTION gone(body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'missing.model-v1'`)
	for _, tc := range []struct{ query, want string }{
		{`SELECT gone('{"inputText":"x"}')`, "ML function 'gone': Bedrock model 'missing.model-v1' returned HTTP 404: ResourceNotFoundException: Could not resolve the foundation model"},
		{`SELECT titan('{"prompt":"x"}')`, "ML function 'titan': Bedrock model 'amazon.titan-text-express-v1' returned HTTP 400: ValidationException: Malformed input request"},
	} {
		_, err := db.Exec(tc.query)
		require.ErrorContains(t, err, tc.want)
	}
	// Throttled past the retries: the statement fails with Bedrock's message.
	bed.Throttle(100)
	_, err := db.Exec(`SELECT titan('{"inputText":"again"}')`)
	require.ErrorContains(t, err, "HTTP 429: ThrottlingException: Too many requests")
}

// TestBedrockFunctionDDL covers CREATE FUNCTION ... ALIAS
// AWS_BEDROCK_INVOKE_MODEL as Aurora accepts and refuses it, SHOW CREATE
// FUNCTION, information_schema.ROUTINES and restart.
func TestBedrockFunctionDDL(t *testing.T) {
	srv, _, db := bedrockSetup(t, 0, 1)
	for _, tc := range []struct{ stmt, want string }{
		{"CREATE FUNCTION j(b TEXT) RETURNS JSON ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'm'", "RETURNS JSON is not supported"},
		{"CREATE FUNCTION two(a TEXT, b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'm'", "takes one argument"},
		{"CREATE FUNCTION nomodel(b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL", "syntax"},
		{"CREATE FUNCTION t0(b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'm' TIMEOUT_MS 0", "TIMEOUT_MS must be greater than 0"},
		{"CREATE FUNCTION twice_opt(b TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'm' ACCEPT 'a' ACCEPT 'b'", "syntax"},
	} {
		_, err := db.Exec(tc.stmt)
		require.ErrorContains(t, err, tc.want, tc.stmt)
	}
	mustExec(t, db, `CREATE FUNCTION claude(body LONGTEXT) RETURNS LONGTEXT SQL SECURITY INVOKER ALIAS AWS_BEDROCK_INVOKE_MODEL
		MODEL ID 'anthropic.claude-3-haiku-20240307-v1:0' TIMEOUT_MS 5000 ACCEPT '*/*'`)
	want := "CREATE DEFINER=`root`@`localhost` FUNCTION `claude`(`body` LONGTEXT) RETURNS LONGTEXT SQL SECURITY INVOKER ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'anthropic.claude-3-haiku-20240307-v1:0' CONTENT_TYPE 'application/json' ACCEPT '*/*' TIMEOUT_MS 5000"
	showCreate := func(db *sql.DB) string {
		var name, mode, create, cs, cc, dc string
		require.NoError(t, db.QueryRow("SHOW CREATE FUNCTION claude").Scan(&name, &mode, &create, &cs, &cc, &dc))
		return create
	}
	require.Equal(t, want, showCreate(db))
	var lang string
	var ext sql.NullString
	require.NoError(t, db.QueryRow(`SELECT external_language, external_name FROM information_schema.routines
		WHERE routine_schema = 'gen' AND routine_name = 'claude'`).Scan(&lang, &ext))
	require.Equal(t, "AWS_BEDROCK_INVOKE_MODEL", lang)
	require.False(t, ext.Valid, "EXTERNAL_NAME is always NULL, as in MySQL")
	mustExec(t, db, "SET GLOBAL aws_default_bedrock_role = 'arn:aws:iam::123456789012:role/bedrock'")

	srv.Restart()
	require.Equal(t, want, showCreate(srv.DB("gen")))
}

// TestBedrockPrivileges checks INVOKE BEDROCK and the AWS_BEDROCK_ACCESS
// role, enforced before anything is sent, and that INVOKE SAGEMAKER does
// not stand in for them.
func TestBedrockPrivileges(t *testing.T) {
	srv, bed, root := bedrockSetup(t, 3, 3)
	mustExec(t, root,
		"CREATE FUNCTION inv_titan(body TEXT) RETURNS TEXT SQL SECURITY INVOKER ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'amazon.titan-text-express-v1'",
		"CREATE USER writer IDENTIFIED BY 'pw'",
		"GRANT SELECT, EXECUTE ON gen.* TO writer",
		"GRANT INVOKE SAGEMAKER ON *.* TO writer")
	writer := srv.Open(srv.DSN("writer", "pw", "gen"))
	q := `SELECT inv_titan(JSON_OBJECT('inputText', p)) FROM prompts`
	_, err := writer.Exec(q)
	num, state := mysqlErr(t, err)
	require.EqualValues(t, 1227, num)
	require.Equal(t, "42000", state)
	require.ErrorContains(t, err, "INVOKE BEDROCK")
	require.Zero(t, bed.Requests(), "nothing is sent before the privilege check")
	_, err = writer.Exec(`SELECT titan(JSON_OBJECT('inputText', p)) FROM prompts`)
	require.NoError(t, err, "SQL SECURITY DEFINER: the definer's INVOKE BEDROCK applies")

	mustExec(t, root, "GRANT INVOKE BEDROCK ON *.* TO writer")
	require.Contains(t, showGrants(t, root, "writer"), "INVOKE_BEDROCK")
	_, err = writer.Exec(q)
	require.NoError(t, err)
	mustExec(t, root, "REVOKE INVOKE BEDROCK ON *.* FROM writer")
	_, err = writer.Exec(q)
	require.ErrorContains(t, err, "INVOKE BEDROCK")

	mustExec(t, root, "GRANT AWS_BEDROCK_ACCESS TO writer")
	_, err = writer.Exec(q)
	require.NoError(t, err, "Aurora v3's role carries the privilege")

	// Columns marked no_egress never reach Bedrock either.
	mustExec(t, root, "CREATE TABLE secrets (id INT PRIMARY KEY, ssn VARCHAR(11) COMMENT 'sibyl:no_egress')",
		"INSERT INTO secrets VALUES (1, '123-45-6789')")
	bed.Reset()
	_, err = root.Exec(`SELECT titan(JSON_OBJECT('inputText', ssn)) FROM secrets`)
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1227, num)
	require.ErrorContains(t, err, "sibyl:no_egress")
	require.Zero(t, bed.Requests())
}

// TestBedrockModelIDNamingAnEndpoint checks that a MODEL ID naming a
// CREATE ENDPOINT ... PROTOCOL OPENAI endpoint calls that server's chat
// completions, with no AWS involved.
func TestBedrockModelIDNamingAnEndpoint(t *testing.T) {
	model := testserver.StartModelServer(t)
	model.Set(func(b *testserver.Behaviour) {
		b.Score = func(row []*string) string { return "answer to " + *row[0] }
	})
	srv := testserver.Start(t) // no AWS configuration at all
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE gen", "USE gen",
		"CREATE TABLE q (id INT PRIMARY KEY, p TEXT)",
		"INSERT INTO q VALUES (1, 'why is the sky blue'), (2, 'what is SQL'), (3, 'why is the sky blue')",
		fmt.Sprintf("CREATE ENDPOINT `llama-3-8b` URL '%s' PROTOCOL OPENAI MODEL 'llama3' MAX_CONCURRENCY 4", model.URL),
		"CREATE FUNCTION ask(prompt TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'llama-3-8b'",
		"CREATE FUNCTION nowhere(prompt TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'not-an-endpoint'")
	db = srv.DB("gen")
	rows, err := db.Query("SELECT id, ask(p) FROM q ORDER BY id")
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var id int
		var a string
		require.NoError(t, rows.Scan(&id, &a))
		got = append(got, fmt.Sprintf("%d:%s", id, a))
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"1:answer to why is the sky blue", "2:answer to what is SQL", "3:answer to why is the sky blue"}, got)
	require.EqualValues(t, 2, model.Requests(), "the repeated prompt is sent once")
	require.Equal(t, []string{"/v1/chat/completions"}, unique(model.Paths()))

	_, err = db.Exec("SELECT nowhere('x')")
	require.ErrorContains(t, err, "model 'not-an-endpoint' names no endpoint")
}

// TestRedshiftExternalModel covers Redshift ML's CREATE EXTERNAL MODEL ...
// MODEL_TYPE BEDROCK: UNIFIED requests through Converse with PROMPT,
// SUFFIX and the inference configuration, RAW requests through
// InvokeModel, RESPONSE_TYPE SUPER as JSON, token accounting, SHOW MODEL
// and DROP MODEL.
func TestRedshiftExternalModel(t *testing.T) {
	srv, bed, db := bedrockSetup(t, 30, 10)
	mustExec(t, db,
		`CREATE EXTERNAL MODEL summarizer FUNCTION summarize IAM_ROLE default MODEL_TYPE BEDROCK
			SETTINGS (MODEL_ID 'anthropic.claude-3-haiku-20240307-v1:0', PROMPT 'summarize:', SUFFIX 'thanks', REQUEST_TYPE UNIFIED)`,
		`CREATE EXTERNAL MODEL raw_titan FUNCTION titan_raw IAM_ROLE 'arn:aws:iam::123456789012:role/r' MODEL_TYPE BEDROCK
			SETTINGS (MODEL_ID 'amazon.titan-text-express-v1', REQUEST_TYPE RAW, RESPONSE_TYPE SUPER)`,
		`CREATE EXTERNAL MODEL chat FUNCTION chat_super MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'meta.llama3-8b-instruct-v1:0', RESPONSE_TYPE SUPER)`)

	rows, err := db.Query("SELECT id, summarize(p) FROM prompts ORDER BY id")
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var id int
		var s string
		require.NoError(t, rows.Scan(&id, &s))
		require.Equal(t, fmt.Sprintf("SUMMARIZE: PROMPT NUMBER %d THANKS", id%10), s)
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 30, n)
	require.Len(t, bed.Received(), 10, "identical prompts are sent once")
	require.Equal(t, "converse", bed.Received()[0].Op)
	require.Zero(t, bed.BadSignatures())

	var in, out int64
	require.NoError(t, db.QueryRow(`SELECT input_tokens, output_tokens FROM information_schema.ML_FUNCTION_STATS
		WHERE function_schema = 'gen' AND function_name = 'summarize'`).Scan(&in, &out))
	require.EqualValues(t, 10*5, in, "5 words per prompt")
	require.EqualValues(t, 10*5, out)
	st := globalStatus(t, db, "Sibyl_ml_%_tokens")
	require.EqualValues(t, 50, st["Sibyl_ml_input_tokens"])
	require.EqualValues(t, 50, st["Sibyl_ml_output_tokens"])

	for _, tc := range []struct{ query, want string }{
		{`SELECT summarize('one two three four', '{"maxTokens": 2}')`, "SUMMARIZE: ONE"},
		{`SELECT summarize('one two three four', '{"stopSequences": ["THREE"], "temperature": 0.2, "topP": 0.9}')`, "SUMMARIZE: ONE TWO "},
		{`SELECT summarize('x', NULL, '{"top_k": 5}')`, "SUMMARIZE: X THANKS"},
		{`SELECT JSON_UNQUOTE(JSON_EXTRACT(titan_raw('{"inputText":"raw body"}'), '$.outputText'))`, "RAW BODY"},
		{`SELECT JSON_EXTRACT(chat_super('a b c'), '$.usage.outputTokens')`, "3"},
		{`SELECT JSON_UNQUOTE(JSON_EXTRACT(chat_super('a b c'), '$.output.message.content[0].text'))`, "A B C"},
	} {
		var got string
		require.NoError(t, db.QueryRow(tc.query).Scan(&got), tc.query)
		require.Equal(t, tc.want, got, tc.query)
	}
	last := bed.Received()
	var conv map[string]any
	for _, r := range last {
		if r.Op == "converse" && strings.Contains(string(r.Body), "top_k") {
			require.NoError(t, json.Unmarshal(r.Body, &conv))
		}
	}
	require.Equal(t, map[string]any{"top_k": 5.0}, conv["additionalModelRequestFields"])

	for _, tc := range []struct{ query, want string }{
		{`SELECT summarize('x', '{"MaxTokens": 2}')`, "unknown key 'MaxTokens'"},
		{`SELECT summarize('x', '{"maxTokens": -1}')`, "maxTokens must be a positive integer"},
		{`SELECT summarize('x', 'not json')`, "must be a JSON object"},
		{`SELECT titan_raw('{"inputText":"x"}', '{"maxTokens": 2}')`, "REQUEST_TYPE RAW takes the model's request body only"},
		{`SELECT summarize('a', '{}', '{}', 'extra')`, "Incorrect number of arguments"},
		{`CREATE EXTERNAL MODEL bad FUNCTION bad_fn MODEL_TYPE BEDROCK SETTINGS (PROMPT 'x')`, "SETTINGS needs MODEL_ID"},
		{`CREATE EXTERNAL MODEL bad FUNCTION bad_fn MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'm', REQUEST_TYPE BATCH)`, "REQUEST_TYPE must be RAW or UNIFIED"},
		{`CREATE EXTERNAL MODEL bad FUNCTION bad_fn MODEL_TYPE SAGEMAKER SETTINGS (MODEL_ID 'm')`, "MODEL_TYPE must be BEDROCK"},
		{`CREATE EXTERNAL MODEL bad FUNCTION bad_fn MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'm', TEMPERATURE 1)`, "unknown setting TEMPERATURE"},
	} {
		_, err := db.Exec(tc.query)
		require.ErrorContains(t, err, tc.want, tc.query)
	}

	// The per-statement token limit refuses the request whose reservation
	// (its maxTokens) would pass it, before it is sent.
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), "SET sibyl_ml_max_tokens_per_statement = 25")
	require.NoError(t, err)
	bed.Reset()
	_, err = conn.ExecContext(context.Background(), `SELECT summarize(CONCAT(p, ' again'), '{"maxTokens": 10}') FROM prompts`)
	require.ErrorContains(t, err, "sibyl_ml_max_tokens_per_statement = 25")
	require.LessOrEqual(t, len(bed.Received()), 2, "at most two requests of 10 tokens fit in 25")
	var small string
	require.NoError(t, conn.QueryRowContext(context.Background(), `SELECT summarize('a b', '{"maxTokens": 10}')`).Scan(&small))
	require.Equal(t, "SUMMARIZE: A B THANKS", small, "the limit is per statement")
	require.NoError(t, conn.Close())

	show := showModel(t, db, "summarizer")
	require.Equal(t, "anthropic.claude-3-haiku-20240307-v1:0", show["Model ID"])
	require.Equal(t, "UNIFIED", show["Request Type"])
	require.Equal(t, "summarize", show["Function Name"])
	require.Equal(t, "READY", show["Model State"])

	srv.Restart()
	db = srv.DB("gen")
	var s string
	require.NoError(t, db.QueryRow("SELECT summarize('after restart')").Scan(&s))
	require.Equal(t, "SUMMARIZE: AFTER RESTART THANKS", s)
	mustExec(t, db, "DROP MODEL summarizer")
	_, err = db.Exec("SELECT summarize('x')")
	require.ErrorContains(t, err, "summarize")
	_, err = db.Exec("SHOW MODEL summarizer")
	require.Error(t, err)
}

// TestAthenaUsingExternalFunction covers Athena's statement-scoped
// functions: declared for one query, batched like any endpoint function,
// called with the caller's INVOKE SAGEMAKER, gone after the statement.
func TestAthenaUsingExternalFunction(t *testing.T) {
	srv, model, db := mlSetup(t, 100, 100, "SAGEMAKER")
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	ctx := context.Background()
	model.Reset()
	rows, err := conn.QueryContext(ctx, `USING EXTERNAL FUNCTION dbl(x DOUBLE) RETURNS DOUBLE SAGEMAKER 'model',
		EXTERNAL FUNCTION label(v VARCHAR) RETURNS VARCHAR SAGEMAKER 'model'
		SELECT id, dbl(x), label(CONCAT('n', id)) FROM nums ORDER BY id`)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var id int
		var y float64
		var l string
		require.NoError(t, rows.Scan(&id, &y, &l))
		require.Equal(t, float64(2*id), y)
		require.Equal(t, fmt.Sprintf("bad:n%d", id), l, "the model server's doubler answers bad: for text")
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 100, n)
	require.LessOrEqual(t, model.Requests(), int64(8), "batched: batches %v", model.Batches())

	_, err = conn.ExecContext(ctx, "SELECT dbl(1)")
	require.ErrorContains(t, err, "dbl", "the function was visible to its statement only")

	for _, tc := range []struct{ stmt, want string }{
		{"USING EXTERNAL FUNCTION f(x DOUBLE) RETURNS DOUBLE LAMBDA 'fn' SELECT f(1)", "LAMBDA is not supported"},
		{"USING EXTERNAL FUNCTION f(x DOUBLE) RETURNS DOUBLE SAGEMAKER 'model' DELETE FROM nums", "must be followed by a query"},
		{"USING EXTERNAL FUNCTION upper(x VARCHAR) RETURNS VARCHAR SAGEMAKER 'model' SELECT upper('a')", "shadows a built-in"},
	} {
		_, err := conn.ExecContext(ctx, tc.stmt)
		require.ErrorContains(t, err, tc.want, tc.stmt)
	}

	// The caller's INVOKE SAGEMAKER applies; no EXECUTE grant is needed.
	mustExec(t, db, "CREATE USER athena IDENTIFIED BY 'pw'", "GRANT SELECT ON ml.* TO athena")
	user := srv.Open(srv.DSN("athena", "pw", "ml"))
	q := "USING EXTERNAL FUNCTION dbl(x DOUBLE) RETURNS DOUBLE SAGEMAKER 'model' SELECT SUM(dbl(x)) FROM nums"
	_, err = user.Exec(q)
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1227, num, "%v", err)
	require.ErrorContains(t, err, "INVOKE SAGEMAKER")
	mustExec(t, db, "GRANT INVOKE SAGEMAKER ON *.* TO athena")
	var sum float64
	require.NoError(t, user.QueryRow(q).Scan(&sum))
	require.Equal(t, float64(99*100), sum)
}
