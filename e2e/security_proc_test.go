package e2e

import (
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// expectDenied runs q and requires MySQL error num.
func expectDenied(t *testing.T, db interface {
	Exec(string, ...any) (sql.Result, error)
}, q string, num uint16) {
	t.Helper()
	_, err := db.Exec(q)
	require.Errorf(t, err, "%s must be refused", q)
	n, _ := mysqlErr(t, err)
	require.Equalf(t, num, n, "%s: %v", q, err)
}

// shopWithHistory creates shop.t with three commits (1 row, 2 rows, 3 rows)
// and a branch feature.
func shopWithHistory(t *testing.T, srv *testserver.Server) *sql.DB {
	t.Helper()
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE shop")
	shop := srv.DB("shop")
	mustExec(t, shop,
		"CREATE TABLE t (id INT PRIMARY KEY)",
		"INSERT INTO t VALUES (1)",
		"CALL dolt_commit('-Am', 'one')",
		"INSERT INTO t VALUES (2)",
		"CALL dolt_commit('-am', 'two')",
		"INSERT INTO t VALUES (3)",
		"CALL dolt_commit('-am', 'three')",
		"CALL dolt_branch('feature')")
	return shop
}

// TestDoltProceduresNeedThePrivilegesOfTheirEffect: EXECUTE alone (README's
// grant for ML users) no longer rewrites data or history through Dolt's
// procedures; each procedure takes the privileges of its effect on the
// database it acts on, and server-wide ones take SUPER.
func TestDoltProceduresNeedThePrivilegesOfTheirEffect(t *testing.T) {
	srv := testserver.Start(t)
	shop := shopWithHistory(t, srv)
	mustExec(t, shop,
		"CREATE USER ml IDENTIFIED BY 'pw'",
		"GRANT SELECT, EXECUTE ON shop.* TO ml",
		"CREATE USER writer IDENTIFIED BY 'pw'",
		"GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE ON shop.* TO writer",
		"CREATE USER tablewriter IDENTIFIED BY 'pw'",
		"GRANT EXECUTE ON shop.* TO tablewriter",
		"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER ON shop.t TO tablewriter",
		"CREATE USER owner IDENTIFIED BY 'pw'",
		"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, EXECUTE ON shop.* TO owner")
	ml := srv.Open(srv.DSN("ml", "pw", "shop"))
	writer := srv.Open(srv.DSN("writer", "pw", "shop"))
	tableWriter := srv.Open(srv.DSN("tablewriter", "pw", "shop"))
	owner := srv.Open(srv.DSN("owner", "pw", "shop"))

	rows := func() int64 { return queryInt(t, shop, "SELECT COUNT(*) FROM t") }
	commits := func() int64 { return queryInt(t, shop, "SELECT COUNT(*) FROM dolt_log") }
	refs := func() int64 {
		return queryInt(t, shop, "SELECT (SELECT COUNT(*) FROM dolt_branches) + (SELECT COUNT(*) FROM dolt_tags)")
	}

	type account struct {
		name string
		db   *sql.DB
	}
	data := []string{
		"CALL dolt_reset('--hard', 'HEAD~2')",
		"CALL dolt_revert('HEAD')",
		"CALL dolt_branch('-D', 'feature')",
		"CALL dolt_branch('-f', 'feature', 'HEAD~2')",
		"CALL dolt_branch('copy')",
		"CALL dolt_checkout('-b', 'mine')",
		"CALL dolt_checkout('t')",
		"CALL dolt_merge('feature')",
		"CALL dolt_cherry_pick('HEAD~1')",
		"CALL dolt_rm('t')",
		"CALL dolt_clean()",
		"CALL dolt_stash('push')",
		"CALL dolt_rebase('-i', 'HEAD~1')",
		"CALL dolt_conflicts_resolve('--ours', 't')",
	}
	history := []string{
		"CALL dolt_commit('--allow-empty', '-m', 'forged')",
		"CALL dolt_commit_hash_out(@h, '--allow-empty', '-m', 'forged')",
		"CALL dolt_tag('v1')",
		"CALL dolt_add('-A')",
		"CALL dolt_verify_constraints()",
	}
	admin := []string{
		"CALL dolt_gc()",
		"CALL dolt_stats_purge()",
		"CALL dolt_stats_stop()",
		"CALL dolt_stats_gc()",
		"CALL dolt_remote('add', 'origin', 'file:///tmp/x')",
		"CALL dolt_backup('add', 'b', 'file:///tmp/x')",
		"CALL dolt_thread_dump()",
	}
	for _, a := range []account{{"ml", ml}, {"tablewriter", tableWriter}} {
		t.Run(a.name, func(t *testing.T) {
			for _, q := range append(append([]string{}, data...), history...) {
				expectDenied(t, a.db, q, 1044)
			}
			for _, q := range admin {
				expectDenied(t, a.db, q, 1227)
			}
			require.EqualValues(t, 3, rows(), "the table is intact")
			require.EqualValues(t, 4, commits(), "no commit was written (3 + the initial one)")
			require.EqualValues(t, 2, refs(), "no branch or tag was made or removed")
		})
	}
	// Reading the commit graph needs SELECT on the database.
	var ahead, behind int64
	require.NoError(t, ml.QueryRow("CALL dolt_count_commits('--from', 'HEAD~1', '--to', 'HEAD')").Scan(&ahead, &behind))
	expectDenied(t, tableWriter, "CALL dolt_count_commits('--from', 'HEAD~1', '--to', 'HEAD')", 1044)

	t.Run("stats procedures take SUPER", func(t *testing.T) {
		expectDenied(t, owner, "CALL dolt_stats_purge()", 1227)
		expectDenied(t, owner, "CALL dolt_stats_stop()", 1227)
	})

	t.Run("writer may commit but not rewrite", func(t *testing.T) {
		for _, q := range data {
			expectDenied(t, writer, q, 1044)
		}
		mustExec(t, writer, "CALL dolt_commit('--allow-empty', '-m', 'by writer')", "CALL dolt_tag('v1')")
		require.EqualValues(t, 5, commits())
		require.EqualValues(t, 3, rows())
	})

	t.Run("owner of the database may rewrite it", func(t *testing.T) {
		mustExec(t, owner, "CALL dolt_reset('--hard', 'HEAD~2')")
		require.EqualValues(t, 2, rows())
	})

	t.Run("Dolt system tables", func(t *testing.T) {
		// Deleting or moving a branch is DROP-level; the table grant on
		// shop.* alone (INSERT/UPDATE/DELETE) is not enough.
		expectDenied(t, writer, "DELETE FROM dolt_branches WHERE name = 'feature'", 1142)
		expectDenied(t, writer, "INSERT INTO dolt_branches (name, hash) VALUES ('x', HASHOF('HEAD'))", 1142)
		expectDenied(t, ml, "DELETE FROM dolt_branches WHERE name = 'feature'", 1142)
		// Remotes and stored definitions take SUPER.
		expectDenied(t, owner, "INSERT INTO dolt_remotes (name, url) VALUES ('o', 'file:///tmp/o')", 1142)
		expectDenied(t, ml, "INSERT INTO dolt_ignore VALUES ('x%', 1)", 1142)
		expectDenied(t, ml, "INSERT INTO dolt_docs VALUES ('README.md', 'pwned')", 1142)
		require.EqualValues(t, 2, queryInt(t, shop, "SELECT COUNT(*) FROM dolt_branches"))
		require.EqualValues(t, 0, queryInt(t, shop, "SELECT COUNT(*) FROM dolt_remotes"))
		// The database's owner manages its docs.
		docs := queryInt(t, shop, "SELECT COUNT(*) FROM dolt_docs")
		mustExec(t, owner, "REPLACE INTO dolt_docs VALUES ('README.md', 'hello')")
		require.EqualValues(t, docs+1, queryInt(t, shop, "SELECT COUNT(*) FROM dolt_docs"))
	})

	t.Run("branch and AS OF names keep table privileges", func(t *testing.T) {
		mustExec(t, shop, "CALL dolt_branch('feature2')", "CREATE TABLE secret (id INT PRIMARY KEY)",
			"CREATE USER outsider IDENTIFIED BY 'pw'", "GRANT SELECT ON shop.t TO outsider")
		outsider := srv.Open(srv.DSN("outsider", "pw", ""))
		for _, q := range []string{"SELECT * FROM `shop/feature2`.secret", "SELECT * FROM shop.secret AS OF 'HEAD'"} {
			_, err := outsider.Query(q)
			n, _ := mysqlErr(t, err)
			require.Containsf(t, []uint16{1142, 1044}, n, "%s: %v", q, err)
		}
		_, err := outsider.Exec("INSERT INTO `shop/feature2`.t VALUES (9)")
		n, _ := mysqlErr(t, err)
		require.EqualValues(t, 1142, n, "%v", err)
		// One connection, so that USE holds for the next statement.
		onBranch := srv.Open(srv.DSN("owner", "pw", "shop"))
		onBranch.SetMaxOpenConns(1)
		mustExec(t, shop, "REVOKE DROP ON shop.* FROM owner")
		mustExec(t, onBranch, "USE `shop/feature2`")
		expectDenied(t, onBranch, "CALL dolt_reset('--hard', 'HEAD~1')", 1044)
	})
}

// TestSystemDatabaseIsImmutable: nobody, root included, changes the sibyl
// database directly, neither with DML/DDL nor with Dolt's procedures;
// SibylDB's own writes (catalog and audit log) still work.
func TestSystemDatabaseIsImmutable(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root,
		"CREATE ENDPOINT kept URL 'http://127.0.0.1:9'",
		"CREATE USER dba IDENTIFIED BY 'pw'",
		"GRANT ALL PRIVILEGES ON *.* TO dba")
	sys := srv.DB("sibyl")
	dba := srv.Open(srv.DSN("dba", "pw", "sibyl"))
	objects := func() int64 { return queryInt(t, root, "SELECT COUNT(*) FROM sibyl.catalog_objects") }
	before := objects()
	require.Positive(t, before)

	for _, db := range []*sql.DB{sys, dba} {
		for _, q := range []string{
			"CALL dolt_reset('--hard', 'HEAD~1')",
			"CALL dolt_revert('HEAD')",
			"CALL dolt_commit('--allow-empty', '-m', 'x')",
			"CALL dolt_branch('b')",
			"CALL dolt_checkout('-b', 'b')",
			"CALL dolt_tag('t')",
			"CALL dolt_clean()",
			"CALL dolt_gc()",
			"DELETE FROM sibyl.ml_audit_log",
			"DELETE FROM catalog_objects",
			"UPDATE sibyl.catalog_objects SET definition = '{}'",
			"INSERT INTO sibyl.catalog_objects VALUES ('endpoint', 'x', '{}', NOW())",
			"REPLACE INTO sibyl.catalog_objects VALUES ('endpoint', 'kept', '{}', NOW())",
			"DROP TABLE sibyl.catalog_objects",
			"TRUNCATE TABLE sibyl.ml_audit_log",
			"ALTER TABLE sibyl.catalog_objects ADD COLUMN x INT",
			"CREATE INDEX ix ON sibyl.catalog_objects (updated_at)",
			"RENAME TABLE sibyl.catalog_objects TO sibyl.gone",
			"CREATE TABLE sibyl.extra (id INT PRIMARY KEY)",
			"CREATE VIEW sibyl.v AS SELECT 1",
			"CREATE PROCEDURE sibyl.p() SELECT 1",
			"CREATE TRIGGER tr BEFORE INSERT ON sibyl.ml_audit_log FOR EACH ROW SET NEW.outcome = 'OK'",
			"DROP DATABASE sibyl",
			"INSERT INTO sibyl.dolt_branches (name, hash) VALUES ('x', HASHOF('HEAD'))",
			"DELETE FROM sibyl.dolt_branches",
		} {
			expectDenied(t, db, q, 1044)
		}
	}
	// From another database, through a branch name, a stored procedure
	// or a trigger body (which GMS builds without authorization).
	expectDenied(t, root, "DELETE FROM `sibyl/main`.catalog_objects", 1044)
	mustExec(t, root, "CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY)",
		"CREATE PROCEDURE shop.wipe() DELETE FROM sibyl.catalog_objects")
	expectDenied(t, root, "CALL shop.wipe()", 1044)
	if _, err := root.Exec("CREATE TRIGGER shop.wipe_on_insert AFTER INSERT ON shop.t FOR EACH ROW DELETE FROM sibyl.catalog_objects"); err == nil {
		expectDenied(t, root, "INSERT INTO shop.t VALUES (1)", 1044)
	} else {
		n, _ := mysqlErr(t, err)
		require.EqualValues(t, 1044, n, "%v", err)
	}

	// Reading stays possible for those granted it.
	require.Equal(t, before, objects())
	require.EqualValues(t, 1, queryInt(t, root, "SELECT COUNT(*) FROM sibyl.catalog_objects WHERE name = 'kept'"))

	// SibylDB itself still writes its catalog, and it survives a restart.
	mustExec(t, root, "CREATE ENDPOINT added URL 'http://127.0.0.1:9'", "DROP ENDPOINT kept")
	srv.Restart()
	root = srv.DB("")
	require.EqualValues(t, 1, queryInt(t, root, "SELECT COUNT(*) FROM sibyl.catalog_objects WHERE name = 'added'"))
	require.EqualValues(t, 0, queryInt(t, root, "SELECT COUNT(*) FROM sibyl.catalog_objects WHERE name = 'kept'"))
}

// TestTriggerWithMLFunctionOnlyAffectsStatementsThatFireIt: a trigger that
// calls an ML function on one table does not stop users without EXECUTE
// from deleting from, or dropping, other tables; the statements that fire
// it need what MySQL requires: privileges on the table they write, while
// the trigger calls the function with its definer's privileges.
func TestTriggerWithMLFunctionOnlyAffectsStatementsThatFireIt(t *testing.T) {
	srv, _, root := mlSetup(t, 3, 3, "SAGEMAKER")
	mustExec(t, root,
		"CREATE TABLE scored (id INT PRIMARY KEY, x DOUBLE, score DOUBLE)",
		"CREATE TRIGGER score_it BEFORE INSERT ON scored FOR EACH ROW SET NEW.score = twice(NEW.x)",
		"CREATE TRIGGER rescore AFTER DELETE ON nums FOR EACH ROW INSERT INTO scored VALUES (OLD.id + 100, OLD.x, 0)",
		"CREATE TABLE other (id INT PRIMARY KEY)",
		"CREATE TABLE gone (id INT PRIMARY KEY)",
		"INSERT INTO other VALUES (1), (2)",
		"CREATE USER clerk IDENTIFIED BY 'pw'",
		"GRANT SELECT, INSERT, UPDATE, DELETE, DROP ON ml.other TO clerk",
		"GRANT DROP ON ml.gone TO clerk",
		"GRANT SELECT, INSERT, DELETE ON ml.scored TO clerk",
		"GRANT SELECT, DELETE ON ml.nums TO clerk")
	clerk := srv.Open(srv.DSN("clerk", "pw", "ml"))
	for _, q := range []string{
		"DELETE FROM other WHERE id = 1",
		"UPDATE other SET id = 3 WHERE id = 2",
		"INSERT INTO other VALUES (7)",
		"DELETE FROM scored",
		"DROP TABLE gone",
	} {
		_, err := clerk.Exec(q)
		require.NoErrorf(t, err, "%s fires no ML trigger", q)
	}
	// Defining triggers still takes TRIGGER, however the statement is
	// spelled or batched.
	multi := srv.Open(srv.DSN("clerk", "pw", "ml", "multiStatements=true"))
	for _, q := range []string{
		"CREATE TRIGGER t2 BEFORE INSERT ON other FOR EACH ROW SET NEW.id = NEW.id + 1",
		"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t3 BEFORE INSERT ON other FOR EACH ROW SET NEW.id = NEW.id + 1 */",
		"DROP TRIGGER score_it",
	} {
		expectDenied(t, clerk, q, 1142)
	}
	_, err := multi.Exec("DELETE FROM other WHERE id = 99; CREATE TRIGGER t4 BEFORE INSERT ON other FOR EACH ROW SET NEW.id = NEW.id + 1")
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 1142, n, "%v", err)
	require.EqualValues(t, 2, queryInt(t, root, "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = 'ml'"))

	// Statements that fire the trigger, directly or through another
	// trigger, run its call as the trigger's definer (root), as MySQL runs
	// a trigger's body: the clerk needs no EXECUTE on the function.
	expectDenied(t, clerk, "SELECT twice(1)", 1370)
	mustExec(t, clerk, "INSERT INTO scored VALUES (1, 2, 0)")
	require.EqualValues(t, 4, queryInt(t, root, "SELECT score FROM scored WHERE id = 1"))
	mustExec(t, clerk, "DELETE FROM nums WHERE id = 0")
	require.EqualValues(t, 2, queryInt(t, root, "SELECT COUNT(*) FROM nums"))
	require.EqualValues(t, 2*queryInt(t, root, "SELECT x FROM scored WHERE id = 100"),
		queryInt(t, root, "SELECT score FROM scored WHERE id = 100"))
}

// TestMetadataShowsOnlyWhatTheUserMayAccess: information_schema, SHOW
// statements and Dolt's history functions show a user only the objects
// they hold some privilege on, as MySQL does.
func TestMetadataShowsOnlyWhatTheUserMayAccess(t *testing.T) {
	srv, root := modelSetup(t, 300)
	mustExec(t, root,
		"CREATE DATABASE hr",
		"CREATE TABLE hr.salaries (id INT PRIMARY KEY, pay INT)",
		"INSERT INTO hr.salaries VALUES (1, 100)",
		"CREATE DATABASE shop",
		"CREATE TABLE shop.t (id INT PRIMARY KEY)",
		"CREATE TABLE shop.secret (id INT PRIMARY KEY)",
		"CREATE ENDPOINT e URL 'http://127.0.0.1:9'",
		"CREATE FUNCTION hr.rate(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'e'",
		"CREATE FUNCTION shop.open_fn(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'e'",
		"CREATE MODEL churn FROM (SELECT spend, calls, churn FROM customers WHERE tier <> 'secret-filter') TARGET churn FUNCTION churn_fn",
		"CREATE USER m IDENTIFIED BY 'pw'",
		"GRANT SELECT ON shop.t TO m",
		"GRANT EXECUTE ON FUNCTION shop.open_fn TO m",
		"CREATE USER ops IDENTIFIED BY 'pw'",
		"GRANT PROCESS ON *.* TO ops")
	mustExec(t, srv.DB("shop"), "CALL dolt_commit('-Am', 'secret: layoffs in March')")
	m := srv.Open(srv.DSN("m", "pw", "shop"))
	ops := srv.Open(srv.DSN("ops", "pw", ""))

	strings := func(db *sql.DB, q string) []string {
		t.Helper()
		rows, err := db.Query(q)
		require.NoError(t, err, q)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		require.NoError(t, rows.Err())
		return out
	}

	// Routines: only the ML function m may execute.
	require.Equal(t, []string{"open_fn"}, strings(m, "SELECT routine_name FROM information_schema.routines WHERE routine_schema IN ('hr', 'shop', 'ml')"))
	require.Equal(t, []string{"open_fn"}, strings(m, "SELECT function_name FROM information_schema.ml_function_stats"))
	expectDenied(t, m, "SHOW CREATE FUNCTION hr.rate", 1305)
	var name, mode, create, cs, coll, dbColl string
	require.NoError(t, m.QueryRow("SHOW CREATE FUNCTION shop.open_fn").Scan(&name, &mode, &create, &cs, &coll, &dbColl))
	require.Contains(t, create, "open_fn")
	require.Len(t, strings(root, "SELECT routine_name FROM information_schema.routines WHERE routine_schema IN ('hr', 'shop')"), 2)

	// Tables: only the one granted.
	require.Equal(t, []string{"t"}, strings(m, "SELECT table_name FROM information_schema.tables WHERE table_schema IN ('hr', 'shop', 'ml')"))
	require.Equal(t, []string{"t"}, strings(m, "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema IN ('hr', 'shop', 'ml')"))
	require.Equal(t, []string{"t"}, strings(m, "SELECT DISTINCT table_name FROM information_schema.statistics WHERE table_schema IN ('hr', 'shop', 'ml')"))
	require.Equal(t, []string{"secret", "t"}, strings(root, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop' ORDER BY 1"))

	// Models: not m's, not on a database m may use.
	rows, err := m.Query("SHOW MODEL ALL")
	require.NoError(t, err)
	require.False(t, rows.Next(), "SHOW MODEL ALL lists no model of another database")
	require.NoError(t, rows.Close())
	_, err = m.Exec("SHOW MODEL ml.churn")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret-filter")
	require.Len(t, dump(t, root, "SHOW MODEL ALL"), 1)

	// PROCESSLIST: without PROCESS, only one's own threads.
	slow := srv.DB("")
	done := make(chan error, 1)
	go func() { _, err := slow.Exec("SELECT SLEEP(2), 'root statement text'"); done <- err }()
	require.Eventually(t, func() bool {
		return len(strings(ops, "SELECT info FROM information_schema.processlist WHERE info LIKE '%root statement text%' AND info NOT LIKE '%processlist%'")) == 1
	}, 5*time.Second, 20*time.Millisecond, "PROCESS shows every thread")
	require.Empty(t, strings(m, "SELECT info FROM information_schema.processlist WHERE user <> 'm'"))
	require.NotEmpty(t, strings(m, "SELECT info FROM information_schema.processlist WHERE user = 'm'"))
	// SHOW PROCESSLIST, which MySQL lets anyone run (GMS refused it
	// without PROCESS), shows the same: her own threads, with the host
	// and port she connected from.
	for _, q := range []string{"SHOW PROCESSLIST", "SHOW FULL PROCESSLIST"} {
		own := queryMaps(t, m, q)
		require.NotEmpty(t, own, q)
		for _, p := range own {
			require.Equal(t, "m", p["User"], q)
			require.Regexp(t, `^localhost:\d+$`, p["Host"], q)
		}
	}
	require.NoError(t, <-done)

	// Dolt history: the reflog, like dolt_log(), needs SELECT on every table.
	expectDenied(t, m, "SELECT commit_message FROM dolt_reflog()", 1142)
	expectDenied(t, m, "SELECT message FROM dolt_log()", 1142)
	mustExec(t, root, "GRANT SELECT ON shop.* TO m")
	require.Contains(t, strings(m, "SELECT commit_message FROM dolt_reflog()"), "secret: layoffs in March")
}

// TestDoltFunctionsNeedTheirPrivileges: Dolt's functions checked no
// privilege. DOLT_HASHOF_TABLE answered for a table the user may not read
// (a content hash: with a table of the same shape elsewhere she could
// confirm guesses of its rows), DOLT_HASHOF_DB for a database whose
// tables she may not all read, and DOLT_JOIN_COST planned any query in an
// engine without authorization.
func TestDoltFunctionsNeedTheirPrivileges(t *testing.T) {
	srv := testserver.Start(t)
	shop := shopWithHistory(t, srv)
	mustExec(t, shop, "CREATE TABLE secret (id INT PRIMARY KEY, v INT)", "INSERT INTO secret VALUES (1, 42)",
		"CREATE USER tl IDENTIFIED BY 'pw'", "GRANT SELECT ON shop.t TO tl",
		"CREATE USER reader IDENTIFIED BY 'pw'", "GRANT SELECT ON shop.* TO reader")
	tl := srv.Open(srv.DSN("tl", "pw", "shop"))
	reader := srv.Open(srv.DSN("reader", "pw", "shop"))

	expectDenied(t, tl, "SELECT DOLT_HASHOF_TABLE('secret')", 1142)
	expectDenied(t, tl, "SELECT * FROM dolt_hashof_table('secret')", 1142)
	expectDenied(t, tl, "SELECT DOLT_HASHOF_DB()", 1044)
	require.NotEmpty(t, queryString(t, reader, "SELECT DOLT_HASHOF_DB()"))
	// The commit graph answers to anyone who may use the database: a user
	// reads her table's history by commit hash.
	for _, q := range []string{"SELECT HASHOF('HEAD')", "SELECT DOLT_HASHOF('HEAD')",
		"SELECT DOLT_MERGE_BASE('main', 'feature')", "SELECT HAS_ANCESTOR('HEAD', 'HEAD~1')"} {
		require.Equal(t, queryString(t, reader, q), queryString(t, tl, q), q)
	}
	for _, db := range []*sql.DB{tl, reader} {
		expectDenied(t, db, "SELECT DOLT_JOIN_COST('SELECT * FROM secret a JOIN t b ON a.id = b.id')", 1227)
	}
	// What the grants cover still answers, the same as for root.
	require.Equal(t, queryString(t, shop, "SELECT DOLT_HASHOF_TABLE('t')"), queryString(t, tl, "SELECT DOLT_HASHOF_TABLE('t')"))
	require.Equal(t, queryString(t, shop, "SELECT DOLT_HASHOF_TABLE('secret')"), queryString(t, reader, "SELECT DOLT_HASHOF_TABLE('secret')"))
	require.Contains(t, queryString(t, shop, "SELECT DOLT_JOIN_COST('SELECT * FROM secret a JOIN t b ON a.id = b.id')"), "join")
}
