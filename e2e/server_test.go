// Package e2e tests the sibyldb binary from the outside, as users run it:
// a real server process, a real data directory, and real MySQL clients.
package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// mysqlErr returns the MySQL error number and SQLSTATE of err.
func mysqlErr(t *testing.T, err error) (uint16, string) {
	t.Helper()
	var me *mysql.MySQLError
	require.Error(t, err)
	require.Truef(t, errors.As(err, &me), "not a MySQL error: %v", err)
	return me.Number, string(me.SQLState[:])
}

// session opens a connection of its own on db, closed when the test
// ends, and runs stmts on it in order: a client holding a transaction
// open, or one with its own session variables.
func session(t *testing.T, db *sql.DB, stmts ...string) *sql.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := db.Conn(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	for _, q := range stmts {
		_, err := c.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	return c
}

func mustExec(t *testing.T, db interface {
	Exec(string, ...any) (sql.Result, error)
}, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		_, err := db.Exec(s)
		require.NoErrorf(t, err, "exec %q", s)
	}
}

// showGrants returns SHOW GRANTS FOR account, one grant per line.
func showGrants(t *testing.T, db *sql.DB, account string) string {
	t.Helper()
	rows, err := db.Query("SHOW GRANTS FOR " + account)
	require.NoError(t, err)
	defer rows.Close()
	var grants []string
	for rows.Next() {
		var g string
		require.NoError(t, rows.Scan(&g))
		grants = append(grants, g)
	}
	require.NoError(t, rows.Err())
	return strings.Join(grants, "\n")
}

// globalStatus reads SHOW GLOBAL STATUS LIKE pattern as name -> value.
func globalStatus(t *testing.T, db *sql.DB, pattern string) map[string]int64 {
	t.Helper()
	// GMS cannot bind a placeholder in SHOW ... LIKE, so the pattern (a
	// test constant) is inlined.
	rows, err := db.Query("SHOW GLOBAL STATUS LIKE '" + pattern + "'")
	require.NoError(t, err)
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		require.NoError(t, rows.Scan(&k, &v))
		m[k] = v
	}
	require.NoError(t, rows.Err())
	return m
}

func queryInt(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoErrorf(t, db.QueryRow(q, args...).Scan(&n), "query %q", q)
	return n
}

func TestServerIdentityAndDefaults(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	var comment, filePriv string
	var autoGC, lockWait int
	require.NoError(t, db.QueryRow("SELECT @@version_comment, @@secure_file_priv, @@dolt_auto_gc_enabled, @@innodb_lock_wait_timeout").
		Scan(&comment, &filePriv, &autoGC, &lockWait))
	require.Contains(t, comment, "SibylDB")
	require.NotContains(t, strings.ToLower(comment), "dolt")
	require.Equal(t, filepath.Join(srv.DataDir, ".sibyldb", "files"), filePriv, "file I/O confined to the data dir")
	require.Equal(t, 1, autoGC, "automatic GC keeps the journal from growing without bound")
	require.Equal(t, 50, lockWait, "MySQL's default lock wait timeout")
	require.NotContains(t, srv.Log(), "insecure")
}

func TestCRUDDDLAndPersistence(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db,
		"CREATE DATABASE shop",
		`CREATE TABLE shop.customers (
			id INT AUTO_INCREMENT PRIMARY KEY,
			email VARCHAR(255) NOT NULL,
			city VARCHAR(64),
			UNIQUE KEY email_uq (email),
			KEY city_idx (city))`,
		"INSERT INTO shop.customers (email, city) VALUES ('a@x.io', 'Oslo'), ('b@x.io', 'Lima'), ('c@x.io', 'Oslo')",
		"UPDATE shop.customers SET city = 'Bergen' WHERE email = 'c@x.io'",
		"DELETE FROM shop.customers WHERE email = 'b@x.io'",
		"ALTER TABLE shop.customers ADD COLUMN score DOUBLE DEFAULT 0.5",
	)
	// GMS needs a current database for CREATE VIEW even when the name is
	// qualified (MySQL does not); see the closing note of issue 2.
	mustExec(t, srv.DB("shop"), "CREATE VIEW oslo AS SELECT id, email FROM customers WHERE city = 'Oslo'")
	res, err := db.Exec("INSERT INTO shop.customers (email) VALUES ('d@x.io')")
	require.NoError(t, err)
	id, err := res.LastInsertId()
	require.NoError(t, err)
	require.EqualValues(t, 4, id, "AUTO_INCREMENT continues after deleted ids")

	_, err = db.Exec("INSERT INTO shop.customers (email) VALUES ('a@x.io')")
	num, state := mysqlErr(t, err)
	require.EqualValues(t, 1062, num)
	require.Equal(t, "23000", state)

	check := func(db *sql.DB) {
		rows, err := db.Query("SELECT id, email, COALESCE(city, ''), score FROM shop.customers ORDER BY id")
		require.NoError(t, err)
		defer rows.Close()
		var got []string
		for rows.Next() {
			var id int
			var email, city string
			var score float64
			require.NoError(t, rows.Scan(&id, &email, &city, &score))
			got = append(got, fmt.Sprintf("%d %s %s %.1f", id, email, city, score))
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []string{"1 a@x.io Oslo 0.5", "3 c@x.io Bergen 0.5", "4 d@x.io  0.5"}, got)
		require.EqualValues(t, 1, queryInt(t, db, "SELECT COUNT(*) FROM oslo"))
	}
	check(srv.DB("shop"))

	srv.Restart()
	check(srv.DB("shop"))
}

func TestTransactions(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE bank", "CREATE TABLE bank.acct (id INT PRIMARY KEY, bal INT NOT NULL)",
		"INSERT INTO bank.acct VALUES (1, 100), (2, 100)")

	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	mustExec(t, tx, "UPDATE bank.acct SET bal = bal - 30 WHERE id = 1", "UPDATE bank.acct SET bal = bal + 30 WHERE id = 2")
	require.NoError(t, tx.Rollback())
	require.EqualValues(t, 200, queryInt(t, db, "SELECT SUM(bal) FROM bank.acct"))
	require.EqualValues(t, 100, queryInt(t, db, "SELECT bal FROM bank.acct WHERE id = 1"))

	tx, err = db.BeginTx(ctx, nil)
	require.NoError(t, err)
	mustExec(t, tx, "UPDATE bank.acct SET bal = bal - 30 WHERE id = 1", "UPDATE bank.acct SET bal = bal + 30 WHERE id = 2")
	require.NoError(t, tx.Commit())
	require.EqualValues(t, 70, queryInt(t, db, "SELECT bal FROM bank.acct WHERE id = 1"))

	// autocommit=0 keeps changes private until COMMIT.
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "SET autocommit = 0")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "INSERT INTO bank.acct VALUES (3, 5)")
	require.NoError(t, err)
	require.EqualValues(t, 2, queryInt(t, db, "SELECT COUNT(*) FROM bank.acct"), "uncommitted row visible to another session")
	_, err = conn.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	require.EqualValues(t, 3, queryInt(t, db, "SELECT COUNT(*) FROM bank.acct"))
}

func TestForeignKeysTriggersAndProcedures(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db,
		"CREATE DATABASE pay",
		"CREATE TABLE pay.cards (id INT PRIMARY KEY, holder VARCHAR(64))",
		`CREATE TABLE pay.txns (id INT AUTO_INCREMENT PRIMARY KEY, card_id INT NOT NULL, amount DECIMAL(10,2) NOT NULL,
			FOREIGN KEY (card_id) REFERENCES pay.cards(id))`,
		`CREATE TRIGGER pay.block_large BEFORE INSERT ON pay.txns FOR EACH ROW
		 BEGIN
		   IF NEW.amount > 1000 THEN
		     SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'amount over limit';
		   END IF;
		 END`,
		`CREATE PROCEDURE pay.card_total(IN c INT, OUT total DECIMAL(10,2))
		 BEGIN
		   SELECT COALESCE(SUM(amount), 0) INTO total FROM pay.txns WHERE card_id = c;
		 END`,
		"INSERT INTO pay.cards VALUES (1, 'ada')",
		"INSERT INTO pay.txns (card_id, amount) VALUES (1, 10.50), (1, 20.25)",
	)

	_, err := db.Exec("INSERT INTO pay.txns (card_id, amount) VALUES (2, 1.00)")
	num, state := mysqlErr(t, err)
	require.EqualValues(t, 1452, num, "foreign key violation")
	require.Equal(t, "23000", state)

	_, err = db.Exec("INSERT INTO pay.txns (card_id, amount) VALUES (1, 5000)")
	num, state = mysqlErr(t, err)
	require.EqualValues(t, 1644, num, "SIGNAL from trigger")
	require.Equal(t, "45000", state)
	require.Contains(t, err.Error(), "amount over limit")
	require.EqualValues(t, 2, queryInt(t, db, "SELECT COUNT(*) FROM pay.txns"), "signalled insert must not be stored")

	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), "CALL pay.card_total(1, @t)")
	require.NoError(t, err)
	var total string
	require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT @t").Scan(&total))
	require.Equal(t, "30.75", total)
}

func TestErrorsKeepConnectionUsable(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	db.SetMaxOpenConns(1) // every statement on the same connection

	cases := []struct {
		query string
		num   uint16
		state string
	}{
		{"SELEC 1", 1064, "42000"},
		{"SELECT * FROM information_schema.no_such_table", 1146, "42S02"},
		{"SELECT no_such_column FROM information_schema.tables", 1054, "42S22"},
		{"USE no_such_db", 1049, "42000"},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			_, err := db.Exec(c.query)
			num, state := mysqlErr(t, err)
			require.Equal(t, c.num, num)
			require.Equal(t, c.state, state)
			require.EqualValues(t, 1, queryInt(t, db, "SELECT 1"), "connection unusable after error")
		})
	}
}

func TestAuthenticationErrors(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE USER 'alice'@'%' IDENTIFIED BY 's3cret'")

	cases := []struct{ name, user, pass string }{
		{"unknown user", "mallory", "x"},
		{"unknown user no password", "mallory", ""},
		{"wrong password", "alice", "wrong"},
		{"missing password", "alice", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, params := range []string{"allowNativePasswords=true", "allowCleartextPasswords=false"} {
				pool, err := sql.Open("mysql", srv.DSN(c.user, c.pass, "", params))
				require.NoError(t, err)
				err = pool.Ping()
				pool.Close()
				num, state := mysqlErr(t, err)
				require.EqualValues(t, 1045, num)
				require.Equal(t, "28000", state)
			}
		})
	}
	alice := srv.Open(srv.DSN("alice", "s3cret", ""))
	require.EqualValues(t, 1, queryInt(t, alice, "SELECT 1"))
}

func TestUsersRolesAndGrantsPersist(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root,
		"CREATE DATABASE hr",
		"CREATE TABLE hr.staff (id INT PRIMARY KEY, name VARCHAR(32))",
		"INSERT INTO hr.staff VALUES (1, 'grace')",
		"CREATE USER 'reader'@'%' IDENTIFIED BY 'pw1'",
		"GRANT SELECT ON hr.* TO 'reader'@'%'",
		"CREATE ROLE 'editor'",
		"GRANT SELECT, INSERT, UPDATE ON hr.* TO 'editor'",
		"CREATE USER 'writer'@'%' IDENTIFIED BY 'pw2' DEFAULT ROLE 'editor'",
		"GRANT 'editor' TO 'writer'@'%'",
	)
	check := func() {
		reader := srv.Open(srv.DSN("reader", "pw1", "hr"))
		require.EqualValues(t, 1, queryInt(t, reader, "SELECT COUNT(*) FROM staff WHERE id = 1"))
		_, err := reader.Exec("INSERT INTO staff VALUES (2, 'mallory')")
		num, state := mysqlErr(t, err)
		require.EqualValues(t, 1142, num, "INSERT without privilege")
		require.Equal(t, "42000", state)

		writer := srv.Open(srv.DSN("writer", "pw2", "hr"))
		_, err = writer.Exec("INSERT INTO staff VALUES (3, 'linus') ON DUPLICATE KEY UPDATE name = name")
		require.NoError(t, err)

		require.Contains(t, showGrants(t, root, "'reader'@'%'"), "GRANT SELECT ON `hr`.* TO `reader`@`%`")
	}
	check()
	srv.Restart()
	root = srv.DB("")
	check()
}

func TestPreparedStatementsAndMultiStatements(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE p", "CREATE TABLE p.kv (k VARCHAR(16) PRIMARY KEY, v INT)")

	for _, mode := range []string{"interpolateParams=false", "interpolateParams=true"} {
		t.Run(mode, func(t *testing.T) {
			c := srv.DB("p", mode)
			_, err := c.Exec("DELETE FROM kv")
			require.NoError(t, err)
			stmt, err := c.Prepare("INSERT INTO kv VALUES (?, ?)")
			require.NoError(t, err)
			for i := 0; i < 5; i++ {
				_, err := stmt.Exec(fmt.Sprintf("k%d", i), i*i)
				require.NoError(t, err)
			}
			require.NoError(t, stmt.Close())
			var v int
			require.NoError(t, c.QueryRow("SELECT v FROM kv WHERE k = ?", "k3").Scan(&v))
			require.Equal(t, 9, v)
			_, err = c.Exec("INSERT INTO kv VALUES (?, ?)", "k1", 0)
			num, _ := mysqlErr(t, err)
			require.EqualValues(t, 1062, num)
		})
	}

	multi := srv.DB("p", "multiStatements=true")
	_, err := multi.Exec("INSERT INTO kv VALUES ('m1', 1); INSERT INTO kv VALUES ('m2', 2); UPDATE kv SET v = v + 10 WHERE k LIKE 'm%'")
	require.NoError(t, err)
	require.EqualValues(t, 23, queryInt(t, db, "SELECT SUM(v) FROM p.kv WHERE k LIKE 'm%'"))
}

func TestMariadbCLI(t *testing.T) {
	srv := testserver.Start(t)
	out, err := srv.Mariadb(`
CREATE DATABASE demo;
USE demo;
CREATE TABLE reviews (id INT PRIMARY KEY AUTO_INCREMENT, body TEXT);
INSERT INTO reviews (body) VALUES ('great, really'), ('awful'), ('it''s fine');
SELECT id, body FROM reviews ORDER BY id;
SELECT @@version_comment;
`, "-u", "root")
	require.NoError(t, err, out)
	require.Contains(t, out, "1\tgreat, really\n2\tawful\n3\tit's fine\n")
	require.Contains(t, out, "SibylDB")

	out, err = srv.Mariadb("SELEC 1;\n", "-u", "root")
	require.Error(t, err)
	require.Contains(t, out, "ERROR 1064 (42000)")

	out, err = srv.Mariadb("SELECT 1;\n", "-u", "nobody", "-pnope")
	require.Error(t, err)
	require.Contains(t, out, "ERROR 1045 (28000)")
}

func TestFlushStatusResetsCounters(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE s", "CREATE TABLE s.t (id INT PRIMARY KEY, v INT)", "INSERT INTO s.t VALUES (1, 0)")

	// Produce one lock wait: a transaction holds a row lock while a
	// second writer of the row waits and times out.
	ctx := context.Background()
	holder := session(t, db, "BEGIN", "UPDATE s.t SET v = 1 WHERE id = 1")
	waiter := session(t, db, "SET SESSION innodb_lock_wait_timeout = 1")
	_, err := waiter.ExecContext(ctx, "UPDATE s.t SET v = 2 WHERE id = 1")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1205, num)
	_, err = holder.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)

	status := func() map[string]int64 { return globalStatus(t, db, "Sibyl_row_lock%") }
	before := status()
	require.GreaterOrEqual(t, before["Sibyl_row_lock_waits"], int64(1))
	require.GreaterOrEqual(t, before["Sibyl_row_lock_timeouts"], int64(1))

	mustExec(t, db, "FLUSH STATUS")
	after := status()
	require.Equal(t, map[string]int64{"Sibyl_row_lock_waits": 0, "Sibyl_row_lock_timeouts": 0}, after)

	mustExec(t, db, "FLUSH LOCAL STATUS")
	_, err = db.Exec("FLUSH STATUS EXTRA")
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1064, num)
}

func TestRefusesNonLoopbackWithoutRootPassword(t *testing.T) {
	bin := testserver.Binary(t)
	out, err := runCommand(t, bin, "serve", "--data-dir", t.TempDir(), "--addr", "0.0.0.0:0")
	require.Error(t, err)
	require.Contains(t, out, "non-loopback")
}

func TestSIGTERMExitsCleanly(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE z", "CREATE TABLE z.t (id INT PRIMARY KEY)", "INSERT INTO z.t VALUES (1)")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// A statement still running when SIGTERM arrives is allowed to finish.
		_, _ = db.Exec("SELECT SLEEP(1)")
	}()
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, srv.Stop(), "exit status after SIGTERM")
	wg.Wait()
	require.Contains(t, srv.Log(), "shutdown complete")
}

func TestSetPersistSurvivesRestart(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "SET PERSIST innodb_lock_wait_timeout = 7")
	require.EqualValues(t, 7, queryInt(t, srv.DB(""), "SELECT @@global.innodb_lock_wait_timeout"))
	srv.Restart()
	require.EqualValues(t, 7, queryInt(t, srv.DB(""), "SELECT @@global.innodb_lock_wait_timeout"))
}

func TestMaxConnections(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "SET PERSIST max_connections = 3")
	srv.Restart()
	db := srv.DB("")
	db.SetMaxOpenConns(10)
	db.SetMaxIdleConns(0) // a released connection is really closed
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for len(conns) < 3 {
		// The pool's first connection (srv.DB pings) is closed
		// asynchronously: its slot may need a moment to free.
		require.Eventually(t, func() bool {
			c, err := db.Conn(ctx)
			if err != nil {
				return false
			}
			if c.PingContext(ctx) != nil {
				c.Close()
				return false
			}
			conns = append(conns, c)
			return true
		}, 10*time.Second, 50*time.Millisecond)
	}
	// As mysqld, one connection beyond max_connections is kept for an
	// administrator (root has SUPER); the next is refused.
	reserved, err := db.Conn(ctx)
	require.NoError(t, err, "the connection kept for administrators")
	conns = append(conns, reserved)
	extra, err := sql.Open("mysql", srv.DSN("root", "", "", "timeout=5s"))
	require.NoError(t, err)
	defer extra.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = extra.PingContext(pctx)
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1040, num, "a fifth connection is refused: %v", err)
	conns[0].Close()
	conns = conns[1:]
	require.Eventually(t, func() bool { return extra.PingContext(ctx) == nil }, 10*time.Second, 100*time.Millisecond,
		"a slot frees when a connection closes")
}
