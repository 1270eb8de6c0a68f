package e2e

// Issue 13, items 2, 3, 8 and 16: a statement must not be able to end the
// server, exhaust its memory or CPU beyond what an administrator allows, or
// lock other users out, and internal errors must not reach clients with
// the server's stack.

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// requireNoStack fails if err's text carries a Go stack or source path.
func requireNoStack(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, leak := range []string{"goroutine ", ".go:", "runtime/debug", "panic("} {
		require.NotContains(t, err.Error(), leak, "the client must get a short message, not the server's stack")
	}
}

// TestPanickingArgumentsAreStatementErrors runs the arguments that made
// go-mysql-server's built-ins panic, inside ML function calls (evaluated in
// the batch goroutine, where a panic ended the server) and alone. Each
// gives MySQL's answer; the server keeps running.
func TestPanickingArgumentsAreStatementErrors(t *testing.T) {
	srv, _, db := mlSetup(t, 5, 5, "SAGEMAKER")
	cases := []struct {
		name  string
		query string
		code  uint16 // 0: succeeds
		want  string // first column of the first row, when it succeeds ("*": any)
	}{
		{"locate in endpoint function", "SELECT twice(LOCATE('a', 'abc', -9223372036854775808)) FROM nums", 0, "0"},
		{"locate", "SELECT LOCATE('a', 'abc', -9223372036854775808)", 0, "0"},
		{"locate negative", "SELECT LOCATE('b', 'abc', -1)", 0, "0"},
		{"locate still works", "SELECT LOCATE('b', 'abcb', 3)", 0, "4"},
		{"empty vector in endpoint function", "SELECT twice(LENGTH(STRING_TO_VECTOR('[]'))) FROM nums", 6138, ""},
		{"empty vector", "SELECT STRING_TO_VECTOR('[]')", 6138, ""},
		{"empty vector to string", "SELECT VECTOR_TO_STRING(x'')", 3064, ""},                        // not a vector: MySQL's ER_INCORRECT_TYPE
		{"distance to empty vector", "SELECT VEC_DISTANCE(STRING_TO_VECTOR('[1]'), x'')", 4206, ""}, // no index names the metric (MariaDB)
		{"regexp_instr in endpoint function", "SELECT twice(REGEXP_INSTR('abc', 'b', 100)) FROM nums", 3685, ""},
		{"regexp_instr", "SELECT REGEXP_INSTR('abc', 'b', 100)", 3685, ""},
		{"regexp_substr", "SELECT REGEXP_SUBSTR('abc', 'b', 100)", 3685, ""},
		{"regexp_like still works", "SELECT REGEXP_LIKE('abc', 'b')", 0, "1"},
		{"regexp_instr still works", "SELECT REGEXP_INSTR('abcb', 'b', 3)", 0, "4"},
		{"local comprehend", "SELECT aws_comprehend_detect_sentiment(REGEXP_SUBSTR('abc', 'b', 100), 'en') FROM nums", 3685, ""},
		{"local comprehend with locate", "SELECT aws_comprehend_detect_sentiment(CONCAT('great ', LOCATE('a', 'abc', -9223372036854775808)), 'en') FROM nums", 0, "*"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got sql.NullString
			err := db.QueryRow(c.query).Scan(&got)
			requireNoStack(t, err)
			if c.code == 0 {
				require.NoError(t, err, c.query)
				if c.want != "*" {
					require.Equal(t, c.want, got.String, c.query)
				}
			} else {
				num, _ := mysqlErr(t, err)
				require.Equal(t, c.code, num, "%s: %v", c.query, err)
			}
			// The server is still there for a new connection.
			fresh := srv.DB("ml")
			require.NoError(t, fresh.QueryRow("SELECT 1").Scan(new(int)))
		})
	}
}

// withConn runs fn on one connection, so session state (warnings) holds
// between its statements.
func withConn(t *testing.T, db *sql.DB, fn func(c *sql.Conn)) {
	t.Helper()
	c, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer c.Close()
	fn(c)
}

// warnings returns SHOW WARNINGS as "level code message" lines.
func warnings(t *testing.T, c *sql.Conn) []string {
	t.Helper()
	rows, err := c.QueryContext(context.Background(), "SHOW WARNINGS")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var level, msg string
		var code int
		require.NoError(t, rows.Scan(&level, &code, &msg))
		out = append(out, fmt.Sprintf("%s %d %s", level, code, msg))
	}
	require.NoError(t, rows.Err())
	return out
}

// TestStringResultsBoundedByMaxAllowedPacket: string functions whose
// result size the user controls return NULL with warning 1301 above
// max_allowed_packet, as MySQL does, instead of allocating it. The limit
// is set small so that nothing large is allocated even when it fails.
func TestStringResultsBoundedByMaxAllowedPacket(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "SET GLOBAL max_allowed_packet = 65536")
	db := srv.DB("") // new sessions take the global value
	cases := []struct {
		fn, expr string
	}{
		{"repeat", "REPEAT('a', 2000000000)"},
		{"repeat", "REPEAT(REPEAT('a', 60000), 60000)"},
		{"space", "SPACE(2000000000)"},
		{"lpad", "LPAD('a', 2000000000, 'b')"},
		{"rpad", "RPAD('a', 70000, 'b')"},
		{"replace", "REPLACE(REPEAT('a', 1000), 'a', REPEAT('b', 100))"},
		{"concat", "CONCAT(REPEAT('a', 40000), REPEAT('b', 40000))"},
		{"concat_ws", "CONCAT_WS(REPEAT(',', 40000), 'a', 'b', 'c')"},
		{"insert", "INSERT(REPEAT('a', 40000), 1, 1, REPEAT('b', 40000))"},
		{"export_set", "EXPORT_SET(-1, REPEAT('y', 2000), 'n', ',', 64)"},
		// Every entity found gets the mask.
		{"sibyl_redact_pii", "sibyl_redact_pii(REPEAT('mail a@b.co ', 100), 'en', REPEAT('#', 10000))"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			withConn(t, db, func(conn *sql.Conn) {
				var got sql.NullInt64
				require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT LENGTH("+c.expr+")").Scan(&got))
				require.False(t, got.Valid, "%s must be NULL above max_allowed_packet, got length %d", c.expr, got.Int64)
				require.Contains(t, warnings(t, conn),
					fmt.Sprintf("Warning 1301 Result of %s() was larger than max_allowed_packet (65536) - truncated", c.fn))
			})
		})
	}
	// Results within the limit are unchanged.
	for expr, want := range map[string]int64{
		"REPEAT('ab', 1000)":                    2000,
		"LPAD('x', 60000, 'ab')":                60000,
		"CONCAT(REPEAT('a', 30000), 'b')":       30001,
		"REPLACE(REPEAT('a', 10), 'a', 'bcd')":  30,
		"EXPORT_SET(5, 'Y', 'N', ',', 4)":       7,
		"SPACE(65536)":                          65536,
		"INSERT('abc', 2, 1, REPEAT('x', 100))": 102,
	} {
		var got int64
		require.NoError(t, db.QueryRow("SELECT LENGTH("+expr+")").Scan(&got), expr)
		require.Equal(t, want, got, expr)
	}
}

// rawSockets opens n TCP connections that never speak.
func rawSockets(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		require.NoError(t, err)
		conns = append(conns, c)
	}
	return conns
}

// TestUnauthenticatedConnectionsDoNotLockOut: connections that never
// finish the handshake do not take the slots of max_connections and are
// closed after connect_timeout; one connection beyond max_connections is
// kept for an administrator (CONNECTION_ADMIN or SUPER), as in MySQL.
func TestUnauthenticatedConnectionsDoNotLockOut(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "SET GLOBAL connect_timeout = 2",
		"CREATE USER app IDENTIFIED BY 'pw'")

	// More silent sockets than the default max_connections (151).
	silent := rawSockets(t, srv.Addr, 200)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("mysql", srv.DSN("root", "", ""))
	require.NoError(t, err)
	defer admin.Close()
	require.NoError(t, admin.PingContext(ctx), "root must get in while unauthenticated sockets are open")
	app, err := sql.Open("mysql", srv.DSN("app", "pw", ""))
	require.NoError(t, err)
	defer app.Close()
	require.NoError(t, app.PingContext(ctx), "an ordinary user must get in too")

	// The server closes every silent socket after connect_timeout.
	var wg sync.WaitGroup
	closedAfter := make([]time.Duration, len(silent))
	for i, c := range silent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err := io.Copy(io.Discard, c) // the greeting, then EOF
			if err == nil {
				closedAfter[i] = time.Since(start)
			} else {
				closedAfter[i] = -1
			}
		}()
	}
	wg.Wait()
	for i, d := range closedAfter {
		require.Truef(t, d > 0 && d < 8*time.Second, "socket %d: closed after %v, want about connect_timeout (2 s)", i, d)
	}
}

// TestMaxConnectionsKeepsOneForAdministrators: at max_connections ordinary
// users get 1040; an administrator still gets the one extra connection.
func TestMaxConnectionsKeepsOneForAdministrators(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE USER app IDENTIFIED BY 'pw'", "GRANT SELECT ON *.* TO app")
	root.SetMaxOpenConns(1)
	// root's own pool holds one connection.
	mustExec(t, root, "SET GLOBAL max_connections = 3")

	var held []*sql.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	app, err := sql.Open("mysql", srv.DSN("app", "pw", ""))
	require.NoError(t, err)
	defer app.Close()
	for i := 0; i < 2; i++ {
		c, err := app.Conn(context.Background())
		require.NoError(t, err, "connection %d of max_connections", i+2)
		held = append(held, c)
	}
	_, err = app.Conn(context.Background())
	num, state := mysqlErr(t, err)
	require.EqualValues(t, 1040, num, "%v", err)
	require.Equal(t, "08004", state)
	require.ErrorContains(t, err, "Too many connections")

	// The administrator's reserved connection.
	admin, err := sql.Open("mysql", srv.DSN("root", "", ""))
	require.NoError(t, err)
	defer admin.Close()
	c, err := admin.Conn(context.Background())
	require.NoError(t, err, "root must get the connection reserved for administrators")
	held = append(held, c)
	// Only one.
	_, err = admin.Conn(context.Background())
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1040, num, "%v", err)

	// Closing a connection frees its slot.
	require.NoError(t, held[0].Close())
	held = held[1:]
	require.Eventually(t, func() bool {
		c, err := app.Conn(context.Background())
		if err != nil {
			return false
		}
		held = append(held, c)
		return true
	}, 5*time.Second, 50*time.Millisecond)
}

// sumOf is SELECT 1+1+...+1 with n terms.
func sumOf(n int) string {
	var sb strings.Builder
	sb.WriteString("SELECT 1")
	for i := 1; i < n; i++ {
		sb.WriteString("+1")
	}
	return sb.String()
}

// TestDeepExpressionsRefusedBeforeAnalysis: the analyzer's cost grows with
// the square of an expression's depth and does not heed KILL, so a
// statement nested deeper than sibyl_max_expression_depth is refused at
// once with 1436, as MySQL refuses what would overrun its stack.
func TestDeepExpressionsRefusedBeforeAnalysis(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := db.ExecContext(ctx, sumOf(100000))
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1436, num, "%v", err)
	require.ErrorContains(t, err, "sibyl_max_expression_depth")
	require.Less(t, time.Since(start), 10*time.Second)

	var got int
	require.NoError(t, db.QueryRow(sumOf(200)).Scan(&got))
	require.Equal(t, 200, got)
	// Generated OR chains within the limit still run.
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM (SELECT 1 AS x) t WHERE x = 0"+strings.Repeat(" OR x = 1", 300)).Scan(&got))
	require.Equal(t, 1, got)

	mustExec(t, db, "SET GLOBAL sibyl_max_expression_depth = 100")
	_, err = db.Exec(sumOf(200))
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1436, num, "%v", err)
}

// crossJoin runs for many minutes unless stopped: a 900-row recursive CTE
// joined with itself three times.
const crossJoin = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 900) SELECT COUNT(*) FROM r a, r b, r c"

// waitRunning waits until connection id shows a statement starting with
// prefix in the process list. It names the connection: a statement killed
// by an earlier case may still be unwinding under the same text.
func waitRunning(t *testing.T, db *sql.DB, id int64, prefix string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		err := db.QueryRow("SELECT COUNT(*) FROM information_schema.processlist WHERE id = ? AND info LIKE ?", id, prefix+"%").Scan(&n)
		return err == nil && n == 1
	}, 20*time.Second, 50*time.Millisecond)
}

// startLongStatement runs crossJoin on a connection of db and returns the
// connection's id, once root sees the statement running, and the channel
// its result arrives on. The connection closes when the test ends.
func startLongStatement(t *testing.T, db, root *sql.DB) (int64, <-chan error) {
	t.Helper()
	ctx := context.Background()
	victim, err := db.Conn(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { victim.Close() })
	var id int64
	require.NoError(t, victim.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id))
	done := make(chan error, 1)
	go func() {
		_, err := victim.ExecContext(ctx, crossJoin)
		done <- err
	}()
	waitRunning(t, root, id, "WITH RECURSIVE r(n)")
	return id, done
}

// TestKillStopsLongStatements: KILL QUERY and KILL CONNECTION stop a long
// statement promptly, and its client gets MySQL's 1317.
func TestKillStopsLongStatements(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	for _, kill := range []string{"KILL QUERY", "KILL CONNECTION", "KILL"} {
		t.Run(kill, func(t *testing.T) {
			id, done := startLongStatement(t, srv.DB(""), root)
			mustExec(t, root, fmt.Sprintf("%s %d", kill, id))
			select {
			case err := <-done:
				if kill == "KILL QUERY" {
					num, state := mysqlErr(t, err)
					require.EqualValues(t, 1317, num, "%v", err)
					require.Equal(t, "70100", state)
				} else {
					require.Error(t, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s did not stop the statement within 10 s", kill)
			}
		})
	}
}

// TestStatementMemoryLimit: a statement that makes the heap grow beyond
// sibyl_max_statement_memory is stopped with 3170; the server and other
// sessions carry on. The limit is set low (32 MiB) so that the test costs
// little; the statement would need many gigabytes.
func TestStatementMemoryLimit(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	var def uint64
	require.NoError(t, root.QueryRow("SELECT @@global.sibyl_max_statement_memory").Scan(&def))
	require.Greater(t, def, uint64(0), "on by default")

	mustExec(t, root, "SET GLOBAL sibyl_max_statement_memory = 33554432")
	user := srv.DB("")
	cases := []string{
		// Doubles its rows at every iteration: 2^21 rows.
		"WITH RECURSIVE r(n, s) AS (SELECT 1, 'row' UNION ALL SELECT n+1, s FROM r, (SELECT 1 UNION ALL SELECT 2) d WHERE n < 21) SELECT COUNT(*) FROM r",
		// One large group: GROUP_CONCAT is bounded only by
		// group_concat_max_len (200 MB here).
		"SELECT LENGTH(GROUP_CONCAT(REPEAT('x', 20000))) FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 10000) SELECT n FROM r) t",
	}
	mustExec(t, user, "SET SESSION group_concat_max_len = 4294967295", "SET SESSION cte_max_recursion_depth = 100000")
	for _, q := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := user.ExecContext(ctx, q)
		cancel()
		num, _ := mysqlErr(t, err)
		require.EqualValues(t, 3170, num, "%s: %v", q, err)
		require.ErrorContains(t, err, "sibyl_max_statement_memory")
	}
	var one int
	require.NoError(t, user.QueryRow("SELECT 1").Scan(&one))

	// Off.
	mustExec(t, root, "SET GLOBAL sibyl_max_statement_memory = 0")
	var n int
	require.NoError(t, user.QueryRow("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 1000) SELECT COUNT(*) FROM r").Scan(&n))
	require.Equal(t, 1000, n)
}

// TestCTEMaxRecursionDepth: cte_max_recursion_depth (MySQL's default 1000)
// stops a runaway recursive CTE with 3636, as in MySQL.
func TestCTEMaxRecursionDepth(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	cases := []struct {
		setting string
		query   string
		rows    int    // 0: fails
		after   string // iterations in the error
	}{
		{"", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 500) SELECT COUNT(*) FROM r", 500, ""},
		{"", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT COUNT(*) FROM r", 0, "1001"},
		{"", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 5000) SELECT COUNT(*) FROM r", 0, "1001"},
		{"SET SESSION cte_max_recursion_depth = 10", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT COUNT(*) FROM r", 0, "11"},
		{"SET SESSION cte_max_recursion_depth = 6000", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 5000) SELECT COUNT(*) FROM r", 5000, ""},
		// A CTE joined with itself: two runs, each within the limit.
		{"", "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 1000) SELECT COUNT(*) FROM r a JOIN r b WHERE a.i <= 3", 3000, ""},
		// Each run of a CTE counts from zero.
		{"", "SELECT (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 600) SELECT COUNT(*) FROM r) + (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 600) SELECT COUNT(*) FROM r)", 1200, ""},
	}
	for _, c := range cases {
		withConn(t, db, func(conn *sql.Conn) {
			ctx := context.Background()
			if c.setting != "" {
				_, err := conn.ExecContext(ctx, c.setting)
				require.NoError(t, err)
			}
			var n int
			err := conn.QueryRowContext(ctx, c.query).Scan(&n)
			if c.rows > 0 {
				require.NoError(t, err, c.query)
				require.Equal(t, c.rows, n, c.query)
				return
			}
			num, _ := mysqlErr(t, err)
			require.EqualValues(t, 3636, num, "%s: %v", c.query, err)
			require.ErrorContains(t, err, "Recursive query aborted after "+c.after+" iterations. Try increasing @@cte_max_recursion_depth to a larger value.")
		})
	}
}

// TestUsersKillTheirOwnThreads: as in MySQL, a user without
// CONNECTION_ADMIN or SUPER may KILL her own threads (the mariadb client's
// Ctrl-C sends KILL QUERY as the same user) and gets 1095 for another
// account's and 1094 for an unknown one; the grammar asked SUPER of every
// KILL.
func TestUsersKillTheirOwnThreads(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE USER eve IDENTIFIED BY 'pw'", "CREATE USER mal IDENTIFIED BY 'pw'")
	id, done := startLongStatement(t, srv.Open(srv.DSN("eve", "pw", "")), root)

	requireDenied(t, srv.Open(srv.DSN("mal", "pw", "")), fmt.Sprintf("KILL QUERY %d", id), 1095, "HY000",
		fmt.Sprintf("You are not owner of thread %d", id))
	requireDenied(t, srv.Open(srv.DSN("eve", "pw", "")), "KILL QUERY 999999", 1094, "HY000", "Unknown thread id: 999999")
	// An administrator without SYSTEM_USER may not end root's threads.
	mustExec(t, root, "CREATE USER admin IDENTIFIED BY 'pw'", "GRANT SUPER ON *.* TO admin")
	var rootID int64
	require.NoError(t, root.QueryRow("SELECT CONNECTION_ID()").Scan(&rootID))
	requireDenied(t, srv.Open(srv.DSN("admin", "pw", "")), fmt.Sprintf("KILL QUERY %d", rootID), 1095, "HY000", "You are not owner of thread")
	mustExec(t, srv.Open(srv.DSN("eve", "pw", "")), fmt.Sprintf("KILL QUERY %d", id))
	select {
	case err := <-done:
		num, _ := mysqlErr(t, err)
		require.EqualValues(t, 1317, num, "%v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("her KILL QUERY did not stop her statement within 10 s")
	}
}
