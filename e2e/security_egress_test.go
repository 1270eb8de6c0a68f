package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// secretSSN is the marked value no model request may ever contain.
const secretSSN = "123-45-6789"

// egressCase is one way of moving a marked value towards a remote model.
// Its statements run in order on one fresh connection; the last must be
// refused with the no_egress error, the others must succeed. call writes
// the remote call on an argument; sfx makes object names unique.
type egressCase struct {
	name    string
	stmts   func(call func(string) string, sfx string) []string
	cleanup func(sfx string) []string
}

// expand replaces each F(...) in q by the remote call on its argument.
func expand(q string, call func(string) string) string {
	var sb strings.Builder
	for {
		i := strings.Index(q, "F(")
		if i < 0 || (i > 0 && (isIdentByte(q[i-1]))) {
			if i < 0 {
				sb.WriteString(q)
				return sb.String()
			}
			sb.WriteString(q[:i+2])
			q = q[i+2:]
			continue
		}
		sb.WriteString(q[:i])
		depth, j := 0, i+1
		for ; j < len(q); j++ {
			if q[j] == '(' {
				depth++
			} else if q[j] == ')' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		sb.WriteString(call(q[i+2 : j]))
		q = q[j+1:]
	}
}

func isIdentByte(b byte) bool {
	return b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

func sel(q string) func(func(string) string, string) []string {
	return func(call func(string) string, _ string) []string { return []string{expand(q, call)} }
}

var egressCases = []egressCase{
	{name: "direct", stmts: sel("SELECT F(ssn) FROM customers")},
	{name: "derived ORDER BY LIMIT", stmts: sel("SELECT F(s) FROM (SELECT ssn AS s FROM customers ORDER BY id LIMIT 5) d")},
	{name: "derived DISTINCT", stmts: sel("SELECT F(s) FROM (SELECT DISTINCT ssn AS s FROM customers) d")},
	{name: "derived WHERE", stmts: sel("SELECT F(s) FROM (SELECT ssn AS s FROM customers WHERE id > 0) d")},
	{name: "GROUP_CONCAT", stmts: sel("SELECT F(g) FROM (SELECT GROUP_CONCAT(ssn) AS g FROM customers) d")},
	{name: "MAX", stmts: sel("SELECT F(m) FROM (SELECT MAX(ssn) AS m FROM customers) d")},
	{name: "JSON_ARRAYAGG", stmts: sel("SELECT F(CAST(j AS CHAR)) FROM (SELECT JSON_ARRAYAGG(ssn) AS j FROM customers) d")},
	{name: "scalar subquery", stmts: sel("SELECT F((SELECT MAX(ssn) FROM customers))")},
	{name: "correlated subquery", stmts: sel("SELECT F((SELECT c2.ssn FROM customers c2 WHERE c2.id = c.id)) FROM customers c")},
	{name: "recursive CTE", stmts: sel("WITH RECURSIVE r(n, s) AS (SELECT 1, CAST('a' AS CHAR(40)) UNION ALL SELECT n + 1, (SELECT MAX(ssn) FROM customers) FROM r WHERE n < 3) SELECT F(s) FROM r")},
	{name: "UNION", stmts: sel("SELECT F(x) FROM (SELECT name AS x FROM customers UNION SELECT ssn FROM customers) u")},
	{name: "window function", stmts: sel("SELECT F(w) FROM (SELECT FIRST_VALUE(ssn) OVER (ORDER BY id) AS w FROM customers) d")},
	{name: "VALUES ROW", stmts: sel("SELECT F(x) FROM (VALUES ROW((SELECT MAX(ssn) FROM customers))) v(x)")},
	{name: "aggregate view", stmts: sel("SELECT F(m) FROM max_ssn")},
	{name: "UNION view", stmts: sel("SELECT F(v) FROM all_ids")},
	{name: "HAVING", stmts: sel("SELECT F(name) FROM customers GROUP BY name HAVING MAX(ssn) > '0'")},
	{name: "WHERE on the marked column", stmts: sel("SELECT F(name) FROM customers WHERE ssn LIKE '123%'")},
	{name: "CASE on the marked column", stmts: sel("SELECT CASE WHEN ssn LIKE '1%' THEN F(name) END FROM customers")},
	{name: "generated column", stmts: sel("SELECT F(g) FROM gen")},
	{name: "INSERT SELECT into a table whose trigger calls the model",
		stmts: func(call func(string) string, sfx string) []string {
			return []string{
				fmt.Sprintf("CREATE TABLE sink%s (id INT PRIMARY KEY, v VARCHAR(40) COMMENT 'sibyl:no_egress', r VARCHAR(40))", sfx),
				fmt.Sprintf("CREATE TRIGGER sink%s_bi BEFORE INSERT ON sink%s FOR EACH ROW SET NEW.r = %s", sfx, sfx, call("NEW.v")),
				fmt.Sprintf("INSERT INTO sink%s (id, v) SELECT id, ssn FROM customers", sfx),
			}
		},
		cleanup: func(sfx string) []string { return []string{fmt.Sprintf("DROP TABLE sink%s", sfx)} }},
	{name: "trigger local variable",
		stmts: func(call func(string) string, sfx string) []string {
			return []string{
				fmt.Sprintf(`CREATE TRIGGER loc%s BEFORE INSERT ON customers FOR EACH ROW BEGIN
					DECLARE v VARCHAR(40);
					SET v = CONCAT('x', NEW.ssn);
					IF %s = 'never' THEN SET NEW.name = 'y'; END IF;
				END`, sfx, call("v")),
				"INSERT INTO customers VALUES (99, '" + secretSSN + "', 'zed')",
			}
		},
		cleanup: func(sfx string) []string { return []string{fmt.Sprintf("DROP TRIGGER loc%s", sfx)} }},
	{name: "stored procedure",
		stmts: func(call func(string) string, sfx string) []string {
			return []string{
				fmt.Sprintf(`CREATE PROCEDURE leak%s() BEGIN
					DECLARE v VARCHAR(40);
					SELECT ssn INTO v FROM customers WHERE id = 1;
					SELECT %s;
				END`, sfx, call("v")),
				fmt.Sprintf("CALL leak%s()", sfx),
			}
		},
		cleanup: func(sfx string) []string { return []string{fmt.Sprintf("DROP PROCEDURE leak%s", sfx)} }},
	{name: "procedure argument",
		stmts: func(call func(string) string, sfx string) []string {
			return []string{
				fmt.Sprintf("CREATE PROCEDURE arg%s(IN v VARCHAR(40)) BEGIN SELECT %s; END", sfx, call("v")),
				fmt.Sprintf("CALL arg%s((SELECT MAX(ssn) FROM customers))", sfx),
			}
		},
		cleanup: func(sfx string) []string { return []string{fmt.Sprintf("DROP PROCEDURE arg%s", sfx)} }},
	{name: "user variable", stmts: func(call func(string) string, _ string) []string {
		return []string{"SET @v = (SELECT MAX(ssn) FROM customers)", "SELECT " + call("@v")}
	}},
	{name: "SELECT INTO user variable", stmts: func(call func(string) string, _ string) []string {
		return []string{"SELECT ssn INTO @v FROM customers WHERE id = 1", "SELECT " + call("CONCAT('x', @v)")}
	}},
	{name: "prepared statement with user variable", stmts: func(call func(string) string, _ string) []string {
		return []string{"SET @v = (SELECT MAX(ssn) FROM customers)",
			"PREPARE s FROM 'SELECT " + strings.ReplaceAll(call("?"), "'", "''") + "'", "EXECUTE s USING @v"}
	}},
	{name: "dynamic SQL", stmts: func(call func(string) string, _ string) []string {
		return []string{"SET @q = CONCAT('SELECT " + strings.ReplaceAll(call("'x'"), "'", "''") + ", ''', (SELECT MAX(ssn) FROM customers), '''')",
			"PREPARE s FROM @q", "EXECUTE s"}
	}},
	{name: "Dolt history table", stmts: sel("SELECT F(ssn) FROM dolt_history_customers")},
	{name: "Dolt diff table", stmts: sel("SELECT F(to_ssn) FROM dolt_diff_customers")},
	{name: "Dolt diff table function", stmts: sel("SELECT F(to_ssn) FROM dolt_diff('HEAD~1', 'HEAD', 'customers')")},
	{name: "AS OF", stmts: sel("SELECT F(ssn) FROM customers AS OF 'HEAD'")},
	{name: "CREATE TABLE AS SELECT copy", stmts: func(call func(string) string, sfx string) []string {
		return []string{fmt.Sprintf("CREATE TABLE cp%s AS SELECT id, ssn AS tax FROM customers", sfx),
			fmt.Sprintf("SELECT %s FROM cp%s", call("tax"), sfx)}
	}, cleanup: func(sfx string) []string { return []string{fmt.Sprintf("DROP TABLE cp%s", sfx)} }},
}

// egressSinks are the remote model calls: an endpoint function over the
// SageMaker protocol, one over the OpenAI protocol, and Comprehend with a
// remote backend (a SageMaker endpoint, and the Comprehend API itself on a
// loopback URL).
type egressSink struct {
	name    string
	backend string // aws_comprehend_backend, for the Comprehend sinks
	call    func(string) string
}

var egressSinks = []egressSink{
	{name: "sagemaker", call: func(a string) string { return "sm_echo(" + a + ")" }},
	{name: "openai", call: func(a string) string { return "oa_echo(" + a + ")" }},
	{name: "comprehend_endpoint", backend: "endpoint:sm",
		call: func(a string) string { return "aws_comprehend_detect_sentiment(" + a + ", 'en')" }},
	{name: "comprehend_api", backend: "comprehend",
		call: func(a string) string { return "aws_comprehend_detect_sentiment(" + a + ", 'en')" }},
}

func TestSecurityNoEgress(t *testing.T) {
	model := testserver.StartModelServer(t)
	srv := testserver.StartWithEnv(t, []string{"AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=secret", "AWS_ENDPOINT_URL_COMPREHEND=" + model.URL,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true"})
	root := srv.DB("", "multiStatements=true")
	mustExec(t, root, "CREATE DATABASE hr")
	db := srv.DB("hr")
	// Every connection is new: user variables of one case must not carry
	// into the next.
	db.SetMaxIdleConns(0)
	mustExec(t, db,
		"CREATE TABLE customers (id INT PRIMARY KEY, ssn VARCHAR(11) COMMENT 'sibyl:no_egress', name VARCHAR(40))",
		"INSERT INTO customers VALUES (1, '"+secretSSN+"', 'ann'), (2, '"+secretSSN+"', 'bob')",
		"CREATE VIEW max_ssn AS SELECT MAX(ssn) AS m FROM customers",
		"CREATE VIEW all_ids AS SELECT name AS v FROM customers UNION SELECT ssn FROM customers",
		"CREATE TABLE gen (id INT PRIMARY KEY, ssn VARCHAR(11) COMMENT 'sibyl:no_egress', g VARCHAR(20) AS (CONCAT('x', ssn)) STORED)",
		"INSERT INTO gen (id, ssn) VALUES (1, '"+secretSSN+"')",
		"CALL dolt_commit('-Am', 'customers')",
		fmt.Sprintf("CREATE ENDPOINT sm URL '%s' PROTOCOL SAGEMAKER", model.URL),
		fmt.Sprintf("CREATE ENDPOINT oa URL '%s' PROTOCOL OPENAI", model.URL),
		"CREATE FUNCTION sm_echo(v VARCHAR(200)) RETURNS VARCHAR(200) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'sm'",
		"CREATE FUNCTION oa_echo(v VARCHAR(200)) RETURNS VARCHAR(200) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'oa'")

	ctx := context.Background()
	for _, sink := range egressSinks {
		if sink.backend != "" {
			mustExec(t, db, "SET GLOBAL aws_comprehend_backend = '"+sink.backend+"'")
		}
		for _, c := range egressCases {
			t.Run(sink.name+"/"+c.name, func(t *testing.T) {
				sfx := "_" + sink.name
				conn, err := db.Conn(ctx)
				require.NoError(t, err)
				defer conn.Close()
				if c.cleanup != nil {
					defer func() {
						for _, q := range c.cleanup(sfx) {
							_, err := db.Exec(q)
							require.NoError(t, err, q)
						}
					}()
				}
				before := model.Requests()
				stmts := c.stmts(sink.call, sfx)
				for i, q := range stmts {
					_, err := conn.ExecContext(ctx, q)
					if i < len(stmts)-1 {
						require.NoError(t, err, q)
						continue
					}
					require.Error(t, err, q)
					code, state := mysqlErr(t, err)
					require.EqualValues(t, 1227, code, q)
					require.Equal(t, "42000", state, q)
					require.ErrorContains(t, err, "sibyl:no_egress", q)
				}
				require.Equal(t, before, model.Requests(), "no request was sent")
			})
		}
	}
	require.False(t, model.Received(secretSSN), "the marked value never reached the model server")

	// Writing marked data into an unmarked column is refused; a marked
	// destination takes it.
	mustExec(t, db, "CREATE TABLE plain (id INT PRIMARY KEY, v VARCHAR(40))",
		"CREATE TABLE safe (id INT PRIMARY KEY, v VARCHAR(40) COMMENT 'sibyl:no_egress')",
		"INSERT INTO plain VALUES (1, 'a')")
	for _, q := range []string{
		"INSERT INTO plain SELECT id + 10, ssn FROM customers",
		"UPDATE plain SET v = (SELECT MAX(ssn) FROM customers)",
		"INSERT INTO plain VALUES (1, 'b') ON DUPLICATE KEY UPDATE v = (SELECT MAX(ssn) FROM customers)",
	} {
		_, err := db.Exec(q)
		require.Error(t, err, q)
		code, _ := mysqlErr(t, err)
		require.EqualValues(t, 1227, code, q)
		require.ErrorContains(t, err, "cannot be copied into plain.v", q)
	}
	mustExec(t, db, "INSERT INTO safe SELECT id, ssn FROM customers")
	require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM plain WHERE v LIKE '%-%'"))

	// Untainted data still goes, through every sink; a filter on an
	// unmarked column and a marked column shown beside the call are fine.
	mustExec(t, db, "SET GLOBAL aws_comprehend_backend = 'endpoint:sm'")
	model.Set(func(b *testserver.Behaviour) { b.Score = func([]*string) string { return "POSITIVE" } })
	for _, q := range []string{
		"SELECT sm_echo(name) FROM customers",
		"SELECT id, ssn, oa_echo(name) FROM customers WHERE id = 1",
		"SELECT sm_echo(s) FROM (SELECT DISTINCT name AS s FROM customers ORDER BY name LIMIT 5) d",
		"SELECT aws_comprehend_detect_sentiment(name, 'en') FROM customers",
		"SELECT sm_echo(x) FROM (SELECT name AS x FROM customers UNION ALL SELECT 'y') u",
	} {
		before := model.Requests()
		rows, err := db.Query(q)
		require.NoError(t, err, q)
		for rows.Next() {
		}
		require.NoError(t, rows.Err(), q)
		rows.Close()
		require.Greater(t, model.Requests(), before, q)
	}
	// The in-process Comprehend backend may read marked columns: the data
	// does not leave.
	mustExec(t, db, "SET GLOBAL aws_comprehend_backend = 'local'")
	var n int64
	require.NoError(t, db.QueryRow("SELECT COUNT(aws_comprehend_detect_sentiment(ssn, 'en')) FROM customers").Scan(&n))
	require.EqualValues(t, 2, n)
	require.False(t, model.Received(secretSSN), "the marked value never reached the model server")
}
