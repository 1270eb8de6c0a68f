package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestTriggerTargetsCached checks which triggers fire now that the
// analyzer caches each trigger definition's table and event (GMS patch
// 4): the cache is keyed by the definition's text, so identical
// definitions in two databases, a definition whose table name differs in
// letter case, a table renamed away from its trigger and then re-created,
// and triggers of other events must each fire exactly where they did
// without it. Each statement runs twice so the second meets a warm cache.
func TestTriggerTargetsCached(t *testing.T) {
	srv := testserver.Start(t)
	conn, err := srv.DB("").Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()

	exec := func(t *testing.T, q string) {
		t.Helper()
		_, err := conn.ExecContext(context.Background(), q)
		require.NoError(t, err, q)
	}
	for _, s := range []string{
		"CREATE DATABASE tga", "CREATE DATABASE tgb",
		"CREATE TABLE tga.t (id INT PRIMARY KEY, v INT)",
		"CREATE TABLE tgb.t (id INT PRIMARY KEY, v INT)",
		"CREATE TABLE tga.u (id INT PRIMARY KEY, v INT)",
		"CREATE TABLE tga.Mixed (id INT PRIMARY KEY, v INT)",
		// The same text in both databases: one cache entry, two triggers.
		"USE tga",
		"CREATE TRIGGER bump BEFORE INSERT ON t FOR EACH ROW SET NEW.v = NEW.v + 10",
		"CREATE TRIGGER upd BEFORE UPDATE ON t FOR EACH ROW SET NEW.v = NEW.v + 1000",
		"CREATE TRIGGER mixed BEFORE INSERT ON MIXED FOR EACH ROW SET NEW.v = NEW.v + 100",
		"USE tgb",
		"CREATE TRIGGER bump BEFORE INSERT ON t FOR EACH ROW SET NEW.v = NEW.v + 10",
	} {
		exec(t, s)
	}

	type step struct {
		name, stmt, check string
		want              int64
	}
	run := func(t *testing.T, steps []step, id int) {
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				exec(t, fmt.Sprintf(s.stmt, id))
				var got int64
				require.NoError(t, conn.QueryRowContext(context.Background(), fmt.Sprintf(s.check, id)).Scan(&got))
				require.Equal(t, s.want, got)
			})
		}
	}
	steps := []step{
		{"first database", "INSERT INTO tga.t VALUES (%d, 1)", "SELECT v FROM tga.t WHERE id = %d", 11},
		{"second database, same definition", "INSERT INTO tgb.t VALUES (%d, 1)", "SELECT v FROM tgb.t WHERE id = %d", 11},
		{"table without triggers", "INSERT INTO tga.u VALUES (%d, 1)", "SELECT v FROM tga.u WHERE id = %d", 1},
		{"table name in another letter case", "INSERT INTO tga.mixed VALUES (%d, 1)", "SELECT v FROM tga.Mixed WHERE id = %d", 101},
		{"an update fires only the update trigger", "UPDATE tga.t SET v = 2 WHERE id = %d", "SELECT v FROM tga.t WHERE id = %d", 1002},
	}
	// The second round meets a warm cache.
	run(t, steps, 1)
	run(t, steps, 2)

	// Dropping a trigger and creating one of another event on the same
	// table with the same text otherwise: the new definition decides.
	exec(t, "DROP TRIGGER tgb.bump")
	exec(t, "CREATE TRIGGER bump BEFORE UPDATE ON t FOR EACH ROW SET NEW.v = NEW.v + 10")
	run(t, []step{
		{"dropped insert trigger", "INSERT INTO tgb.t VALUES (%d, 1)", "SELECT v FROM tgb.t WHERE id = %d", 1},
		{"new update trigger", "UPDATE tgb.t SET v = 5 WHERE id = %d", "SELECT v FROM tgb.t WHERE id = %d", 15},
		{"the other database keeps its trigger", "INSERT INTO tga.t VALUES (%d, 1)", "SELECT v FROM tga.t WHERE id = %d", 11},
	}, 3)
}

// TestTriggersFireFromAnyDatabase: a table's triggers fire whatever the
// writing session's current database, and their unqualified names resolve
// in the trigger's database, as in MySQL. Before GMS patch 4 a session
// using another database (or none) wrote the table with its triggers
// skipped: a guard trigger (such as a fraud check) could be bypassed by
// any account with a different USE.
func TestTriggersFireFromAnyDatabase(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root,
		"CREATE DATABASE ta", "CREATE DATABASE tb",
		"CREATE TABLE ta.acct (id INT PRIMARY KEY, v INT)",
		"CREATE TABLE ta.log (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(16))",
		// The other database has a table of the same name: the trigger's
		// unqualified INSERT INTO log must still write ta.log.
		"CREATE TABLE tb.log (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(16))",
	)
	ta := srv.DB("ta")
	mustExec(t, ta,
		"CREATE TRIGGER cap BEFORE INSERT ON acct FOR EACH ROW SET NEW.v = LEAST(NEW.v, 100)",
		"CREATE TRIGGER logins AFTER INSERT ON acct FOR EACH ROW INSERT INTO log (what) VALUES ('insert')",
		"CREATE TRIGGER logupd AFTER UPDATE ON acct FOR EACH ROW INSERT INTO log (what) VALUES ('update')",
		"CREATE TRIGGER logdel AFTER DELETE ON acct FOR EACH ROW INSERT INTO log (what) VALUES ('delete')",
	)

	sessions := []struct {
		name string
		db   *sql.DB
	}{
		{"no current database", root},
		{"another database", srv.DB("tb")},
		{"the trigger's database", ta},
	}
	for i, s := range sessions {
		t.Run(s.name, func(t *testing.T) {
			id := 10 * (i + 1)
			mustExec(t, s.db, fmt.Sprintf("INSERT INTO ta.acct VALUES (%d, 500)", id))
			_, err := s.db.Exec("INSERT INTO ta.acct VALUES (?, ?)", id+1, 700)
			require.NoError(t, err)
			require.EqualValues(t, 200, queryInt(t, root, fmt.Sprintf("SELECT SUM(v) FROM ta.acct WHERE id IN (%d, %d)", id, id+1)), "the BEFORE INSERT trigger capped both rows")
			mustExec(t, s.db, fmt.Sprintf("UPDATE ta.acct SET v = 1 WHERE id = %d", id))
			mustExec(t, s.db, fmt.Sprintf("DELETE FROM ta.acct WHERE id = %d", id+1))
		})
	}
	// Every statement above logged to ta.log, none to tb.log.
	require.EqualValues(t, 2*len(sessions), queryInt(t, root, "SELECT COUNT(*) FROM ta.log WHERE what = 'insert'"))
	require.EqualValues(t, len(sessions), queryInt(t, root, "SELECT COUNT(*) FROM ta.log WHERE what = 'update'"))
	require.EqualValues(t, len(sessions), queryInt(t, root, "SELECT COUNT(*) FROM ta.log WHERE what = 'delete'"))
	require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM tb.log"))
}

// TestWholeTableDeleteKeepsItsTriggers: DELETE without WHERE becomes a
// TRUNCATE only when the table has no ON DELETE trigger. Before GMS patch
// 4 the check looked in the session's current database: from one holding
// a table of the same name the guard trigger below was skipped and every
// row deleted, and from a session using no database the DELETE failed
// with "database not found".
func TestWholeTableDeleteKeepsItsTriggers(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root,
		"CREATE DATABASE da", "CREATE DATABASE db2",
		"CREATE TABLE da.guarded (id INT PRIMARY KEY)", "CREATE TABLE db2.guarded (id INT PRIMARY KEY)",
		"CREATE TABLE da.plain (id INT PRIMARY KEY)", "CREATE TABLE db2.plain (id INT PRIMARY KEY)",
		"INSERT INTO da.guarded VALUES (1), (2)", "INSERT INTO db2.guarded VALUES (1)")
	mustExec(t, srv.DB("da"), `CREATE TRIGGER no_delete BEFORE DELETE ON guarded FOR EACH ROW
		BEGIN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'deletes forbidden'; END`)
	for _, s := range []struct{ name, db string }{
		{"no current database", ""}, {"another database", "db2"}, {"the table's database", "da"},
	} {
		t.Run(s.name, func(t *testing.T) {
			requireDenied(t, srv.DB(s.db), "DELETE FROM da.guarded", 1644, "45000", "deletes forbidden")
			require.EqualValues(t, 2, queryInt(t, root, "SELECT COUNT(*) FROM da.guarded"))

			mustExec(t, root, "INSERT INTO da.plain VALUES (1), (2)", "INSERT INTO db2.plain VALUES (7)")
			mustExec(t, srv.DB(s.db), "DELETE FROM da.plain")
			require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM da.plain"))
			require.EqualValues(t, 1, queryInt(t, root, "SELECT COUNT(*) FROM db2.plain"), "the other database's table is untouched")
			mustExec(t, root, "DELETE FROM db2.plain")
		})
	}
	require.EqualValues(t, 1, queryInt(t, root, "SELECT COUNT(*) FROM db2.guarded"))
}

// TestProceduresRunInTheirDatabase: while a stored procedure runs, its
// database is the current one (MySQL's implicit USE for a routine's
// duration), whatever the caller's, and the caller's is back afterwards.
// Before GMS patch 4, CALL pa.p() from a session using database pb wrote
// pb's table of the same name, and from a session using none it failed
// with "no database selected".
func TestProceduresRunInTheirDatabase(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root,
		"CREATE DATABASE pa", "CREATE DATABASE pb",
		"CREATE TABLE pa.t (id INT PRIMARY KEY, db VARCHAR(16))",
		"CREATE TABLE pb.t (id INT PRIMARY KEY, db VARCHAR(16))",
	)
	pa := srv.DB("pa")
	mustExec(t, pa, "CREATE PROCEDURE put(x INT) BEGIN INSERT INTO t VALUES (x, DATABASE()); END")
	// An unqualified CALL inside a procedure names a procedure of its own database.
	mustExec(t, pa, "CREATE PROCEDURE put_twice(x INT) BEGIN CALL put(x); CALL put(x + 1); END")

	for i, s := range []struct {
		name, db string
	}{
		{"no current database", ""},
		{"another database", "pb"},
		{"the procedure's database", "pa"},
	} {
		t.Run(s.name, func(t *testing.T) {
			conn, err := srv.DB(s.db).Conn(context.Background())
			require.NoError(t, err)
			defer conn.Close()
			id := 10 * (i + 1)
			_, err = conn.ExecContext(context.Background(), "CALL pa.put(?)", id)
			require.NoError(t, err)
			_, err = conn.ExecContext(context.Background(), "CALL pa.put_twice(?)", id+1)
			require.NoError(t, err)
			var cur sql.NullString
			require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT DATABASE()").Scan(&cur))
			require.Equal(t, s.db, cur.String, "the caller's current database is back")
			require.EqualValues(t, 3, queryInt(t, root, fmt.Sprintf("SELECT COUNT(*) FROM pa.t WHERE id BETWEEN %d AND %d AND db = 'pa'", id, id+2)))
		})
	}
	require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM pb.t"), "nothing landed in the caller's database")
}

// TestViewsReadFromAnyDatabase: a view's definition resolves in the view's
// database, and reading db.view works from a session with no current
// database (before GMS patch 4: "no database selected"), or another one
// holding a table of the same name.
func TestViewsReadFromAnyDatabase(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root,
		"CREATE DATABASE va", "CREATE DATABASE vb",
		"CREATE TABLE va.t (id INT PRIMARY KEY)", "INSERT INTO va.t VALUES (1), (2)",
		"CREATE TABLE vb.t (id INT PRIMARY KEY)", "INSERT INTO vb.t VALUES (10)",
	)
	va := srv.DB("va")
	mustExec(t, va, "CREATE VIEW v AS SELECT id FROM t")
	mustExec(t, va, "CREATE VIEW v2 AS SELECT SUM(id) AS s FROM v")
	for _, db := range []string{"", "vb", "va"} {
		t.Run("current database "+db, func(t *testing.T) {
			d := srv.DB(db)
			require.EqualValues(t, 3, queryInt(t, d, "SELECT SUM(id) FROM va.v"))
			require.EqualValues(t, 3, queryInt(t, d, "SELECT s FROM va.v2"))
		})
	}
}
