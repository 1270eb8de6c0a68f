package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestRoutinesRunWithTheirDefinersPrivileges: as in MySQL, a trigger and a
// SQL SECURITY DEFINER procedure (the default) run with the privileges of
// the account that defined them, checked when they run; a SQL SECURITY
// INVOKER procedure runs with its caller's. Before go-mysql-server patch 6
// every procedure ran with its caller's privileges and a trigger's body was
// not checked when it fired, so a user with TRIGGER on one table and CREATE
// ROUTINE could leave code for root to run: root's next INSERT into her
// table rewrote a table she may not touch.
func TestRoutinesRunWithTheirDefinersPrivileges(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE app",
		"CREATE TABLE app.t (id INT PRIMARY KEY)",
		"CREATE TABLE app.salaries (id INT PRIMARY KEY, s INT)",
		"INSERT INTO app.salaries VALUES (1, 1000)",
		"CREATE TABLE app.audit (id INT PRIMARY KEY AUTO_INCREMENT, note VARCHAR(64))",
		"CREATE USER eve IDENTIFIED BY 'pw'",
		"GRANT SELECT, INSERT, TRIGGER ON app.t TO eve",
		"GRANT CREATE ROUTINE, ALTER ROUTINE, EXECUTE ON app.* TO eve")
	eve := srv.Open(srv.DSN("eve", "pw", "app"))
	app := srv.DB("app")
	salary := func() int64 { return queryInt(t, root, "SELECT s FROM app.salaries WHERE id = 1") }
	const denied = "command denied to user 'eve'@'%'"

	t.Run("a planted procedure runs as its definer", func(t *testing.T) {
		// Harmless when the trigger is created, swapped afterwards.
		mustExec(t, eve, "CREATE PROCEDURE p() SELECT 1",
			"CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW CALL p()",
			"DROP PROCEDURE p",
			"CREATE PROCEDURE p() UPDATE salaries SET s = 0")
		requireDenied(t, app, "INSERT INTO t VALUES (1)", 1142, "42000", "UPDATE command denied to user 'eve'@'%' for table 'salaries'")
		requireDenied(t, app, "CALL p()", 1142, "42000", denied)
		require.EqualValues(t, 1000, salary())
		require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM app.t"), "the firing statement failed as a whole")
		mustExec(t, root, "DROP TRIGGER app.tr", "DROP PROCEDURE app.p")
	})

	t.Run("definitions record their definer", func(t *testing.T) {
		mustExec(t, eve, "CREATE PROCEDURE mine() SELECT 1",
			"CREATE TRIGGER mine BEFORE INSERT ON t FOR EACH ROW SET NEW.id = NEW.id")
		require.Equal(t, "CREATE DEFINER = `eve`@`%` PROCEDURE mine() SELECT 1",
			queryMaps(t, root, "SHOW CREATE PROCEDURE app.mine")[0]["Create Procedure"])
		require.Equal(t, "CREATE DEFINER = `eve`@`%` TRIGGER mine BEFORE INSERT ON t FOR EACH ROW SET NEW.id = NEW.id",
			queryMaps(t, root, "SHOW CREATE TRIGGER app.mine")[0]["SQL Original Statement"])
		require.Equal(t, "eve@%", queryString(t, root, "SELECT DEFINER FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'app' AND ROUTINE_NAME = 'mine'"))
		require.Equal(t, "eve@%", queryString(t, root, "SELECT DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'app' AND TRIGGER_NAME = 'mine'"))
		mustExec(t, root, "DROP TRIGGER app.mine", "DROP PROCEDURE app.mine")
	})

	t.Run("a trigger writes what its definer may, for anyone", func(t *testing.T) {
		mustExec(t, root, "CREATE TRIGGER app.log_t AFTER INSERT ON app.t FOR EACH ROW INSERT INTO app.audit (note) VALUES (CONCAT('row ', NEW.id))")
		mustExec(t, eve, "INSERT INTO t VALUES (2)")
		require.Equal(t, []string{`"row 2"`}, dump(t, root, "SELECT note FROM app.audit"))
		requireDenied(t, eve, "INSERT INTO audit (note) VALUES ('forged')", 1142, "42000", denied)
		mustExec(t, root, "DROP TRIGGER app.log_t", "DELETE FROM app.t", "DELETE FROM app.audit")
	})

	t.Run("a revoked privilege leaves the definer's trigger too", func(t *testing.T) {
		mustExec(t, root, "GRANT SELECT, UPDATE ON app.salaries TO eve")
		mustExec(t, eve, "CREATE TRIGGER bump BEFORE INSERT ON t FOR EACH ROW UPDATE salaries SET s = s + 1")
		mustExec(t, root, "INSERT INTO app.t VALUES (3)")
		require.EqualValues(t, 1001, salary())
		mustExec(t, root, "REVOKE SELECT, UPDATE ON app.salaries FROM eve")
		requireDenied(t, app, "INSERT INTO t VALUES (4)", 1142, "42000", denied)
		requireDenied(t, eve, "INSERT INTO t VALUES (4)", 1142, "42000", denied)
		require.EqualValues(t, 1001, salary())
		mustExec(t, root, "DROP TRIGGER app.bump", "DELETE FROM app.t")
	})

	t.Run("SQL SECURITY INVOKER runs as the caller", func(t *testing.T) {
		mustExec(t, eve,
			"CREATE PROCEDURE as_invoker() SQL SECURITY INVOKER SELECT CURRENT_USER()",
			"CREATE PROCEDURE as_definer() SELECT CURRENT_USER()",
			"CREATE PROCEDURE raise_invoker() SQL SECURITY INVOKER UPDATE salaries SET s = s + 10")
		one := srv.Open(srv.DSN("root", "", "app"))
		one.SetMaxOpenConns(1)
		require.Equal(t, "root@localhost", queryString(t, one, "CALL as_invoker()"))
		require.Equal(t, "eve@%", queryString(t, one, "CALL as_definer()"))
		require.Equal(t, "root@localhost", queryString(t, one, "SELECT CURRENT_USER()"), "the caller is restored")
		mustExec(t, one, "CALL raise_invoker()")
		require.EqualValues(t, 1011, salary())
		requireDenied(t, eve, "CALL raise_invoker()", 1142, "42000", denied)
		require.EqualValues(t, 1011, salary())
	})

	t.Run("USER() names who connected, CURRENT_USER() whose privileges run", func(t *testing.T) {
		// An audit trigger records the writer with USER(): in MySQL it
		// names the connected user and her host (loopback is localhost)
		// even in a definer's trigger; CURRENT_USER() names the account
		// whose privileges run (eve's is eve@%).
		mustExec(t, root, "CREATE TABLE app.who (u VARCHAR(64), c VARCHAR(64), sub VARCHAR(64), su VARCHAR(64), sy VARCHAR(64))",
			"CREATE TRIGGER app.who_wrote AFTER INSERT ON app.t FOR EACH ROW "+
				"INSERT INTO app.who VALUES (USER(), CURRENT_USER(), (SELECT CURRENT_USER()), SESSION_USER(), SYSTEM_USER())")
		mustExec(t, eve, "INSERT INTO t VALUES (6)")
		require.Equal(t, []string{`"eve@localhost"|"root@localhost"|"root@localhost"|"eve@localhost"|"eve@localhost"`},
			dump(t, root, "SELECT u, c, sub, su, sy FROM app.who"))
		require.Equal(t, "eve@localhost eve@%", queryString(t, eve, "SELECT CONCAT(USER(), ' ', CURRENT_USER())"))
		mustExec(t, eve, "CREATE PROCEDURE whoami() SELECT CONCAT(USER(), ' ', CURRENT_USER())")
		require.Equal(t, "root@localhost eve@%", queryString(t, app, "CALL whoami()"))
		mustExec(t, root, "DROP TRIGGER app.who_wrote", "DROP PROCEDURE app.whoami", "DROP TABLE app.who", "DELETE FROM app.t")
	})

	t.Run("a dropped definer's routines no longer run", func(t *testing.T) {
		mustExec(t, eve, "CREATE PROCEDURE orphan() SELECT 1",
			"CREATE TRIGGER orphan BEFORE INSERT ON t FOR EACH ROW SET NEW.id = NEW.id")
		mustExec(t, root, "DROP USER eve")
		for _, q := range []string{"CALL orphan()", "INSERT INTO t VALUES (5)"} {
			_, err := app.Exec(q)
			require.Error(t, err, q)
			require.Contains(t, err.Error(), "Access denied for user 'eve'", q)
		}
		require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM app.t"))
	})
}

// TestViewsReadWithTheirDefinersPrivileges: as in MySQL, a view (SQL
// SECURITY DEFINER by default) reads its tables with its definer's
// privileges, so SELECT on the view is all a reader needs: the usual way
// to show some columns or rows of a table and not the rest. A SQL SECURITY
// INVOKER view needs the reader's own privileges on its tables, and a
// definer who loses hers loses her views for everyone. Before go-mysql-
// server patch 6 every view was read with the reader's privileges.
func TestViewsReadWithTheirDefinersPrivileges(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE hr",
		"CREATE TABLE hr.staff (id INT PRIMARY KEY, name VARCHAR(16), salary INT)",
		"INSERT INTO hr.staff VALUES (1, 'ann', 100), (2, 'bob', 200)",
		"CREATE VIEW hr.directory AS SELECT id, name FROM hr.staff",
		"CREATE OR REPLACE ALGORITHM = MERGE VIEW hr.directory2 AS SELECT id, name FROM hr.staff",
		"CREATE SQL SECURITY INVOKER VIEW hr.directory_inv AS SELECT id, name FROM hr.staff",
		"CREATE USER reader IDENTIFIED BY 'pw'",
		"GRANT SELECT ON hr.directory TO reader", "GRANT SELECT ON hr.directory2 TO reader", "GRANT SELECT ON hr.directory_inv TO reader",
		"CREATE USER vera IDENTIFIED BY 'pw'", "GRANT SELECT ON hr.staff TO vera", "GRANT CREATE VIEW ON hr.* TO vera")
	reader := srv.Open(srv.DSN("reader", "pw", "hr"))
	const staffDenied = "SELECT command denied to user 'reader'@'%' for table 'staff'"

	for _, v := range []string{"directory", "directory2"} {
		require.Equal(t, []string{`"1,ann"`, `"2,bob"`}, dump(t, reader, "SELECT CONCAT(id, ',', name) FROM "+v+" ORDER BY id"), v)
	}
	requireDenied(t, reader, "SELECT * FROM directory_inv", 1142, "42000", staffDenied)
	requireDenied(t, reader, "SELECT salary FROM staff", 1142, "42000", staffDenied)
	require.Equal(t, "root@localhost", queryString(t, root,
		"SELECT DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'hr' AND TABLE_NAME = 'directory2'"))
	// SHOW CREATE VIEW names both, as MySQL's does, so that a dump
	// restores an INVOKER view as one (go-mysql-server patch 9).
	require.Equal(t, "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY INVOKER VIEW `directory_inv` AS SELECT id, name FROM hr.staff",
		queryMaps(t, root, "SHOW CREATE VIEW hr.directory_inv")[0]["Create View"])
	require.Equal(t, []string{`"directory|DEFINER"`, `"directory2|DEFINER"`, `"directory_inv|INVOKER"`},
		dump(t, root, "SELECT CONCAT(TABLE_NAME, '|', SECURITY_TYPE) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = 'hr' ORDER BY TABLE_NAME"))

	vera := srv.Open(srv.DSN("vera", "pw", "hr"))
	mustExec(t, vera, "CREATE VIEW names AS SELECT name FROM staff")
	require.Equal(t, "CREATE ALGORITHM=UNDEFINED DEFINER=`vera`@`%` SQL SECURITY DEFINER VIEW `names` AS SELECT name FROM staff",
		queryMaps(t, root, "SHOW CREATE VIEW hr.names")[0]["Create View"])
	mustExec(t, root, "GRANT SELECT ON hr.names TO reader")
	require.EqualValues(t, 2, queryInt(t, reader, "SELECT COUNT(*) FROM names"))
	// Its unqualified `staff` is hr's whatever database the reader uses
	// (go-mysql-server patch 9: it was looked up in the reader's).
	elsewhere := srv.Open(srv.DSN("reader", "pw", ""))
	require.EqualValues(t, 2, queryInt(t, elsewhere, "SELECT COUNT(*) FROM hr.names"))
	require.EqualValues(t, 2, queryInt(t, root, "SELECT COUNT(*) FROM hr.names"))
	// And an INVOKER view's `staff` is checked as hr.staff: a reader who
	// may read a `staff` of her own database was let through to hr's.
	mustExec(t, root, "CREATE DATABASE mine", "CREATE TABLE mine.staff (salary INT)",
		"GRANT SELECT ON mine.* TO reader")
	mustExec(t, vera, "CREATE SQL SECURITY INVOKER VIEW pay AS SELECT salary FROM staff")
	mustExec(t, root, "GRANT SELECT ON hr.pay TO reader")
	fromMine := srv.Open(srv.DSN("reader", "pw", "mine"))
	requireDenied(t, fromMine, "SELECT salary FROM hr.pay", 1142, "42000", staffDenied)
	mustExec(t, root, "REVOKE SELECT ON hr.staff FROM vera")
	requireDenied(t, reader, "SELECT COUNT(*) FROM names", 1142, "42000", "SELECT command denied to user 'vera'@'%' for table 'staff'")
}

// TestRoutinesSetSystemVariables: SET GLOBAL and SET SESSION in a
// procedure body set the system variable (they failed with "variable
// could not be found" before go-mysql-server patch 8), with the
// privileges the body runs with: any caller of root's procedure may set a
// global through it, as in MySQL, and a user's own procedure may not. A
// routine variable named like a system variable is still the routine's.
func TestRoutinesSetSystemVariables(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE app",
		"CREATE PROCEDURE app.limit_rows(n INT) SET SESSION sql_select_limit = n",
		"CREATE PROCEDURE app.set_gc(n BIGINT) SET GLOBAL sibyl_storage_gc_threshold = n",
		"CREATE PROCEDURE app.shadow() BEGIN DECLARE wait_timeout INT DEFAULT 1; "+
			"SET wait_timeout = 5; SET @seen = wait_timeout; SET @@session.wait_timeout = 77; END",
		"CREATE USER eve IDENTIFIED BY 'pw'",
		"GRANT EXECUTE, CREATE ROUTINE, ALTER ROUTINE ON app.* TO eve")
	one := srv.Open(srv.DSN("root", "", ""))
	one.SetMaxOpenConns(1)
	mustExec(t, one, "CALL app.limit_rows(3)")
	require.EqualValues(t, 3, queryInt(t, one, "SELECT @@session.sql_select_limit"))
	mustExec(t, one, "CALL app.shadow()")
	require.EqualValues(t, 5, queryInt(t, one, "SELECT @seen"))
	require.EqualValues(t, 77, queryInt(t, one, "SELECT @@session.wait_timeout"))

	eve := srv.Open(srv.DSN("eve", "pw", "app"))
	mustExec(t, eve, "CALL set_gc(12345)")
	require.Equal(t, "12345", globalValue(t, root, "sibyl_storage_gc_threshold"))
	mustExec(t, eve, "CREATE PROCEDURE mine() SET GLOBAL sibyl_storage_gc_threshold = 1")
	requireDenied(t, eve, "CALL mine()", 1227, "42000", "SYSTEM_VARIABLES_ADMIN")
	require.Equal(t, "12345", globalValue(t, root, "sibyl_storage_gc_threshold"))
}
