package e2e

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// Privilege boundaries of issue 13 (items 1, 7, 12, 15, 18 and the grant
// fixes), exercised as the unprivileged accounts an attacker would hold.

// requireDenied runs q and asserts MySQL's error num, SQLSTATE and text.
func requireDenied(t *testing.T, db interface {
	Exec(string, ...any) (sql.Result, error)
}, q string, num uint16, state, text string) {
	t.Helper()
	_, err := db.Exec(q)
	require.Errorf(t, err, "%s must fail", q)
	n, s := mysqlErr(t, err)
	require.Equalf(t, num, n, "%s: %v", q, err)
	require.Equalf(t, state, s, "%s: %v", q, err)
	require.ErrorContainsf(t, err, text, "%s", q)
}

// globalValue reads @@GLOBAL.name as text.
func globalValue(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v sql.NullString
	require.NoError(t, db.QueryRow("SELECT @@GLOBAL."+name).Scan(&v))
	return v.String
}

const sysVarsDenied = "Access denied; you need (at least one of) the SUPER or SYSTEM_VARIABLES_ADMIN privilege(s) for this operation"

func TestSetGlobalNeedsSystemVariablesAdmin(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("", "multiStatements=true")
	mustExec(t, root, "CREATE DATABASE shop", "CREATE TABLE shop.t (id INT PRIMARY KEY, v INT)",
		"CREATE USER mallory IDENTIFIED BY 'pw'", "GRANT SELECT, INSERT, CREATE ROUTINE, TRIGGER, EXECUTE ON shop.* TO mallory",
		"CREATE USER ops IDENTIFIED BY 'pw'", "GRANT SYSTEM_VARIABLES_ADMIN ON *.* TO ops")
	mallory := srv.Open(srv.DSN("mallory", "pw", "shop", "multiStatements=true"))

	// Every kind of variable: SibylDB's, Aurora's, GMS's and Dolt's.
	vars := []struct{ name, value string }{
		{"sibyl_ml_audit_log_size", "1"},
		{"aws_sagemaker_endpoint_url", "'http://127.0.0.1:9'"},
		{"aws_comprehend_backend", "'endpoint:x'"},
		{"aurora_ml_inference_timeout", "1"},
		{"sibyl_ml_max_rows_per_statement", "1"},
		{"sibyl_ml_max_requests_per_statement", "1"},
		{"sibyl_s3_timeout", "1"},
		{"sibyl_select_into_s3_max_file_size", "1"},
		{"sibyl_load_data_fast_path", "0"},
		{"require_secure_transport", "ON"},
		{"local_infile", "ON"},
		{"event_scheduler", "OFF"},
		{"dolt_transaction_commit", "1"},
		{"max_connections", "1"},
		{"innodb_lock_wait_timeout", "1"},
		{"sql_mode", "''"},
	}
	before := map[string]string{}
	for _, v := range vars {
		before[v.name] = globalValue(t, root, v.name)
	}
	for _, v := range vars {
		for _, form := range []string{"SET GLOBAL %s = %s", "SET PERSIST %s = %s", "SET PERSIST_ONLY %s = %s",
			"SET @@global.%s = %s", "SET @@persist.%s = %s", "SET @@SESSION.autocommit = 1, GLOBAL %s = %s"} {
			requireDenied(t, mallory, fmt.Sprintf(form, v.name, v.value), 1227, "42000", sysVarsDenied)
		}
	}
	requireDenied(t, mallory, "SET GLOBAL TRANSACTION ISOLATION LEVEL READ UNCOMMITTED", 1227, "42000", sysVarsDenied)

	// Nor through a prepared statement (text and binary protocol), a
	// stored procedure or a trigger.
	conn, err := mallory.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	ctx := context.Background()
	_, err = conn.ExecContext(ctx, "PREPARE s FROM 'SET GLOBAL sibyl_ml_audit_log_size = 1'")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "EXECUTE s")
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 1227, n, "%v", err)
	stmt, err := mallory.Prepare("SET GLOBAL sibyl_ml_audit_log_size = ?")
	require.NoError(t, err)
	_, err = stmt.Exec(1)
	n, _ = mysqlErr(t, err)
	require.EqualValues(t, 1227, n, "%v", err)
	require.NoError(t, stmt.Close())
	// (GMS's procedure interpreter cannot assign system variables
	// directly, so a procedure goes through dynamic SQL.)
	mustExec(t, mallory, "CREATE PROCEDURE shrink() BEGIN PREPARE st FROM 'SET GLOBAL sibyl_ml_audit_log_size = 1'; EXECUTE st; END")
	requireDenied(t, mallory, "CALL shrink()", 1227, "42000", sysVarsDenied)
	mustExec(t, mallory, "CREATE TRIGGER t_shrink BEFORE INSERT ON t FOR EACH ROW SET @@global.sibyl_ml_audit_log_size = 1")
	requireDenied(t, mallory, "INSERT INTO t VALUES (1, 1)", 1227, "42000", sysVarsDenied)
	require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM shop.t"))

	for _, v := range vars {
		require.Equal(t, before[v.name], globalValue(t, root, v.name), "%s must not have changed", v.name)
	}
	// SET PERSIST wrote nothing that a restart would apply.
	srv.Restart()
	root = srv.DB("")
	for _, v := range vars {
		require.Equal(t, before[v.name], globalValue(t, root, v.name), "%s must not have been persisted", v.name)
	}

	// SYSTEM_VARIABLES_ADMIN (or SUPER) allows it, in every form.
	ops := srv.Open(srv.DSN("ops", "pw", ""))
	mustExec(t, ops, "SET GLOBAL sibyl_ml_audit_log_size = 5000", "SET PERSIST sibyl_s3_timeout = 77")
	require.Equal(t, "5000", globalValue(t, root, "sibyl_ml_audit_log_size"))
	require.Equal(t, "77", globalValue(t, root, "sibyl_s3_timeout"))
	mustExec(t, root, "REVOKE SYSTEM_VARIABLES_ADMIN ON *.* FROM ops")
	requireDenied(t, ops, "SET GLOBAL sibyl_ml_audit_log_size = 1", 1227, "42000", sysVarsDenied)
	// Session variables stay the user's own.
	mustExec(t, srv.Open(srv.DSN("mallory", "pw", "shop")), "SET SESSION sibyl_s3_timeout = 5", "SET sql_mode = ''", "SET autocommit = 1")
}

func TestSetVariableScopeErrors(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE USER mallory IDENTIFIED BY 'pw'")
	mallory := srv.Open(srv.DSN("mallory", "pw", ""))
	for _, db := range []*sql.DB{root, mallory} {
		for _, c := range []struct{ q, name string }{
			{"SET SESSION sibyl_ml_audit_log_size = 1", "sibyl_ml_audit_log_size"},
			{"SET sibyl_ml_audit_log_size = 1", "sibyl_ml_audit_log_size"},
			{"SET @@session.aws_sagemaker_endpoint_url = 'http://127.0.0.1:9'", "aws_sagemaker_endpoint_url"},
			{"SET LOCAL aws_comprehend_backend = 'local'", "aws_comprehend_backend"},
			{"SET @@require_secure_transport = OFF", "require_secure_transport"},
		} {
			requireDenied(t, db, c.q, 1229, "HY000", fmt.Sprintf("Variable '%s' is a GLOBAL variable and should be set with SET GLOBAL", c.name))
		}
	}
	requireDenied(t, root, "SET GLOBAL version_comment = 'x'", 1238, "HY000", "Variable 'version_comment' is a read only variable")
	requireDenied(t, root, "SET GLOBAL timestamp = 5", 1228, "HY000", "Variable 'timestamp' is a SESSION variable and can't be used with SET GLOBAL")
}

func TestSessionMLLimitsCannotBeLifted(t *testing.T) {
	srv, model, root := mlSetup(t, 10, 10, "SAGEMAKER")
	mustExec(t, root, "CREATE USER analyst IDENTIFIED BY 'pw'", "GRANT SELECT, EXECUTE ON ml.* TO analyst",
		"GRANT INVOKE SAGEMAKER ON *.* TO analyst", "SET GLOBAL sibyl_ml_max_rows_per_statement = 3")
	analyst := srv.Open(srv.DSN("analyst", "pw", "ml"))
	for _, lift := range []string{"0", "1000000"} {
		conn, err := analyst.Conn(context.Background())
		require.NoError(t, err)
		_, err = conn.ExecContext(context.Background(), "SET SESSION sibyl_ml_max_rows_per_statement = "+lift)
		require.NoError(t, err)
		before := model.Requests()
		_, err = conn.ExecContext(context.Background(), "SELECT twice(x) FROM nums")
		require.ErrorContains(t, err, "exceeds sibyl_ml_max_rows_per_statement = 3", "SET SESSION ... = %s", lift)
		require.Equal(t, before, model.Requests(), "nothing was sent beyond the administrator's limit")
		// A session may tighten the limit for itself.
		_, err = conn.ExecContext(context.Background(), "SET SESSION sibyl_ml_max_rows_per_statement = 2")
		require.NoError(t, err)
		_, err = conn.ExecContext(context.Background(), "SELECT twice(x) FROM nums WHERE id < 3")
		require.ErrorContains(t, err, "exceeds sibyl_ml_max_rows_per_statement = 2")
		require.NoError(t, conn.Close())
	}
	mustExec(t, root, "SET GLOBAL sibyl_ml_max_rows_per_statement = 0")
	fresh := srv.Open(srv.DSN("analyst", "pw", "ml"))
	require.EqualValues(t, 10, queryInt(t, fresh, "SELECT COUNT(twice(x)) FROM nums"))
}

const setUserIDDenied = "Access denied; you need (at least one of) the SUPER or SET_USER_ID privilege(s) for this operation"
const systemUserDenied = "Access denied; you need (at least one of) the SYSTEM_USER privilege(s) for this operation"

func TestDefinerSpoofing(t *testing.T) {
	srv, model, root := mlSetup(t, 3, 3, "SAGEMAKER")
	mustExec(t, root, "CREATE USER mallory IDENTIFIED BY 'pw'",
		"GRANT SELECT, EXECUTE, CREATE ROUTINE, CREATE VIEW, TRIGGER, EVENT ON ml.* TO mallory",
		"CREATE USER deputy IDENTIFIED BY 'pw'", "GRANT ALL ON ml.* TO deputy", "GRANT SET_USER_ID ON *.* TO deputy")
	mallory := srv.Open(srv.DSN("mallory", "pw", "ml"))

	spoofs := []string{
		"CREATE DEFINER = 'root'@'localhost' FUNCTION steal(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'",
		"CREATE FUNCTION steal(x DOUBLE) RETURNS DOUBLE DEFINER = root@localhost ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'",
		"CREATE DEFINER = `deputy`@`%` FUNCTION steal(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'",
		"CREATE DEFINER = 'root'@'localhost' PROCEDURE p() SELECT 1",
		"CREATE DEFINER = 'root'@'localhost' VIEW v AS SELECT * FROM nums",
		"CREATE DEFINER = 'root'@'localhost' TRIGGER tr BEFORE INSERT ON nums FOR EACH ROW SET NEW.x = 0",
		"CREATE DEFINER = 'root'@'localhost' EVENT ev ON SCHEDULE EVERY 1 DAY DO SELECT 1",
	}
	for _, q := range spoofs {
		requireDenied(t, mallory, q, 1227, "42000", setUserIDDenied)
	}
	_, err := mallory.Exec("SELECT steal(1)")
	require.Error(t, err, "no function was created")
	require.Zero(t, model.Requests())

	// One's own account, however written, needs nothing more.
	for _, q := range []string{
		"CREATE DEFINER = CURRENT_USER FUNCTION mine1(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'",
		"CREATE DEFINER = 'mallory'@'%' FUNCTION mine2(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'",
		"CREATE DEFINER = mallory@'%' PROCEDURE p() SELECT 1",
		"CREATE DEFINER = 'mallory'@'%' VIEW v AS SELECT * FROM nums",
	} {
		mustExec(t, mallory, q)
	}

	// SET_USER_ID allows other definers, but not one holding SYSTEM_USER.
	deputy := srv.Open(srv.DSN("deputy", "pw", "ml"))
	mustExec(t, deputy, "CREATE DEFINER = 'mallory'@'%' PROCEDURE p2() SELECT 1")
	for _, q := range spoofs[:1] {
		requireDenied(t, deputy, q, 1227, "42000", systemUserDenied)
	}
	requireDenied(t, deputy, "CREATE DEFINER = 'root'@'localhost' PROCEDURE p3() SELECT 1", 1227, "42000", systemUserDenied)

	// Dropping another user's ML function needs ALTER ROUTINE on it; the
	// creator holds it on its own function.
	requireDenied(t, mallory, "DROP FUNCTION twice", 1370, "42000", "alter routine command denied to user 'mallory'@")
	requireDenied(t, mallory, "DROP FUNCTION IF EXISTS ml.twice", 1370, "42000", "for routine 'ml.twice'")
	require.EqualValues(t, 6, queryInt(t, root, "SELECT SUM(twice(x)) FROM nums"), "root's function is intact")
	require.Contains(t, showGrants(t, root, "mallory"), "ALTER ROUTINE")
	mustExec(t, mallory, "DROP FUNCTION mine1", "DROP FUNCTION mine2")
	require.NotContains(t, showGrants(t, root, "mallory"), "mine1", "dropping a function drops the grants on it")
	mustExec(t, root, "GRANT ALTER ROUTINE ON ml.* TO mallory")
	mustExec(t, mallory, "DROP FUNCTION twice") // as MySQL: database-level ALTER ROUTINE covers every routine
}

// TestTriggerCannotBorrowMLPrivileges: a user with TRIGGER but no EXECUTE
// on an ML function must not be able to put a call to it in a trigger,
// where a privileged user's INSERT would make the call and store its
// result in a table she reads. Creating such a trigger needs the
// privileges the call needs, as creating one that reads a table needs
// SELECT on it, and the call runs with its definer's privileges when the
// trigger fires, whoever fires it (exec.BindAccounts): a revoked EXECUTE
// stops her trigger for root too.
func TestTriggerCannotBorrowMLPrivileges(t *testing.T) {
	srv, model, root := mlSetup(t, 3, 3, "SAGEMAKER")
	mustExec(t, root, "CREATE TABLE scored (x DOUBLE, p DOUBLE)", "CREATE TABLE copied (x DOUBLE, p DOUBLE)",
		"CREATE USER mallory IDENTIFIED BY 'pw'", "GRANT SELECT, INSERT, TRIGGER ON ml.* TO mallory")
	mallory := srv.Open(srv.DSN("mallory", "pw", "ml"))
	const denied = "execute command denied to user 'mallory'@'%' for routine 'ml.twice'"
	for _, q := range []string{
		"CREATE TRIGGER t1 BEFORE INSERT ON scored FOR EACH ROW SET NEW.p = twice(NEW.x)",
		"CREATE TRIGGER t2 BEFORE INSERT ON scored FOR EACH ROW SET NEW.p = (SELECT twice(NEW.x))",
		"CREATE TRIGGER t3 AFTER INSERT ON scored FOR EACH ROW INSERT INTO copied VALUES (NEW.x, twice(NEW.x))",
		"CREATE TRIGGER t4 AFTER INSERT ON scored FOR EACH ROW INSERT INTO copied SELECT x, twice(x) FROM nums",
		"CREATE TRIGGER t5 BEFORE INSERT ON scored FOR EACH ROW BEGIN IF NEW.x > 0 THEN SET NEW.p = 1 + twice(NEW.x); END IF; END",
	} {
		requireDenied(t, mallory, q, 1370, "42000", denied)
	}
	require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'ml'"))
	mustExec(t, root, "INSERT INTO scored (x) VALUES (21)")
	require.Zero(t, model.Requests(), "no trigger made a call")

	// With EXECUTE on the function, her trigger is hers to create.
	mustExec(t, root, "GRANT EXECUTE ON FUNCTION ml.twice TO mallory")
	mustExec(t, mallory, "CREATE TRIGGER t1 BEFORE INSERT ON scored FOR EACH ROW SET NEW.p = twice(NEW.x)")
	mustExec(t, root, "INSERT INTO scored (x) VALUES (4)")
	require.EqualValues(t, 8, queryInt(t, root, "SELECT p FROM scored WHERE x = 4"))
	mustExec(t, root, "REVOKE EXECUTE ON FUNCTION ml.twice FROM mallory")
	requireDenied(t, root, "INSERT INTO scored (x) VALUES (5)", 1370, "42000", denied)
	require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM scored WHERE x = 5"))
}

func TestSystemUserProtectsRoot(t *testing.T) {
	srv := testserver.Start(t, "--root-password", "rootpw")
	root := srv.Open(srv.DSN("root", "rootpw", ""))
	require.Contains(t, showGrants(t, root, "root@localhost"), "SYSTEM_USER")

	// Even an administrator with SUPER and CREATE USER cannot touch root.
	mustExec(t, root, "CREATE USER admin IDENTIFIED BY 'pw'", "GRANT ALL ON *.* TO admin WITH GRANT OPTION",
		"CREATE USER bob IDENTIFIED BY 'pw'", "CREATE ROLE sysrole", "GRANT SYSTEM_USER ON *.* TO sysrole")
	admin := srv.Open(srv.DSN("admin", "pw", ""))
	for _, q := range []string{
		"ALTER USER root@localhost IDENTIFIED BY 'hacked'",
		"DROP USER root@localhost",
		"DROP USER bob, root@localhost",
		"RENAME USER root@localhost TO toor@localhost",
		"GRANT SELECT ON *.* TO root@localhost",
		"REVOKE SELECT ON *.* FROM root@localhost",
		"GRANT INVOKE SAGEMAKER ON *.* TO root@localhost",
		"GRANT FILE, LOAD FROM S3 ON *.* TO root@localhost",
		"REVOKE CREATE ENDPOINT ON *.* FROM root@localhost",
		"GRANT sysrole TO bob",
		"DROP ROLE sysrole",
		"GRANT SYSTEM_USER ON *.* TO admin",
	} {
		requireDenied(t, admin, q, 1227, "42000", systemUserDenied)
	}
	// root is unchanged: the same password, and bob was not dropped.
	root2 := srv.Open(srv.DSN("root", "rootpw", ""))
	require.EqualValues(t, 1, queryInt(t, root2, "SELECT 1"))
	require.EqualValues(t, 1, queryInt(t, root, "SELECT COUNT(*) FROM mysql.user WHERE user = 'bob'"))
	// Ordinary accounts are still the administrator's to manage.
	mustExec(t, admin, "ALTER USER bob IDENTIFIED BY 'pw2'", "GRANT SELECT ON *.* TO bob", "DROP USER bob")

	// A data dir whose root lacks SYSTEM_USER (made before SibylDB knew
	// it) gets it back at the next start.
	mustExec(t, root, "REVOKE SYSTEM_USER ON *.* FROM root@localhost")
	require.NotContains(t, showGrants(t, root, "root@localhost"), "SYSTEM_USER")
	srv.Restart()
	root = srv.Open(srv.DSN("root", "rootpw", ""))
	require.Contains(t, showGrants(t, root, "root@localhost"), "SYSTEM_USER")
}

func TestCreateModelNeedsDatabasePrivileges(t *testing.T) {
	srv, _, root := mlSetup(t, 0, 1, "SAGEMAKER")
	mustExec(t, root, "CREATE DATABASE hr", "CREATE USER mlops IDENTIFIED BY 'pw'", "GRANT CREATE MODEL TO mlops",
		"GRANT SELECT, CREATE ROUTINE ON ml.* TO mlops", "CREATE USER viewer IDENTIFIED BY 'pw'", "GRANT SELECT ON ml.* TO viewer", "GRANT INVOKE SAGEMAKER ON *.* TO mlops")
	mlops := srv.Open(srv.DSN("mlops", "pw", "ml"))
	requireDenied(t, mlops, "CREATE MODEL hr.x FUNCTION x_fn (DOUBLE) RETURNS DOUBLE SAGEMAKER 'model'",
		1044, "42000", "Access denied for user 'mlops'@")
	for _, db := range []*sql.DB{mlops, root} {
		requireDenied(t, db, "CREATE MODEL sibyl.x FUNCTION x_fn (DOUBLE) RETURNS DOUBLE SAGEMAKER 'model'",
			1044, "42000", "to database 'sibyl'")
	}
	_, err := root.Exec("SHOW MODEL hr.x")
	require.Error(t, err, "no model was created")
	_, err = root.Exec("SELECT sibyl.x_fn(1)")
	require.Error(t, err)

	// With CREATE ROUTINE on the database, the model may go there, and its
	// owner may share it.
	mustExec(t, mlops, "CREATE MODEL ml.r FUNCTION r_fn (DOUBLE) RETURNS DOUBLE SAGEMAKER 'model'")
	viewer := srv.Open(srv.DSN("viewer", "pw", "ml"))
	requireDenied(t, viewer, "GRANT EXECUTE ON MODEL ml.r TO viewer", 1370, "42000", "grant command denied to user 'viewer'@")
	mustExec(t, mlops, "GRANT EXECUTE ON MODEL ml.r TO viewer")
	var got float64
	require.NoError(t, viewer.QueryRow("SELECT r_fn(21)").Scan(&got))
	require.EqualValues(t, 42, got)
	requireDenied(t, mlops, "GRANT EXECUTE ON MODEL ml.r TO root@localhost", 1227, "42000", systemUserDenied)
	mustExec(t, mlops, "REVOKE EXECUTE ON MODEL ml.r FROM viewer")
	_, err = viewer.Exec("SELECT r_fn(21)")
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 1370, n)
}

func TestMixedGrantListsAndOwnGrants(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE hr", "CREATE USER u IDENTIFIED BY 'pw'", "GRANT SELECT ON hr.* TO u",
		"GRANT FILE, LOAD FROM S3 ON *.* TO u",
		"GRANT SELECT INTO S3, PROCESS, INVOKE SAGEMAKER, SYSTEM_VARIABLES_ADMIN ON *.* TO u")
	g := showGrants(t, root, "u")
	for _, want := range []string{"FILE", "PROCESS", "LOAD_FROM_S3", "SELECT_INTO_S3", "INVOKE_SAGEMAKER", "SYSTEM_VARIABLES_ADMIN"} {
		require.Contains(t, strings.ToUpper(g), want)
	}
	mustExec(t, root, "REVOKE FILE, LOAD FROM S3, SYSTEM_VARIABLES_ADMIN ON *.* FROM u")
	g = strings.ToUpper(showGrants(t, root, "u"))
	require.NotContains(t, g, "FILE")
	require.NotContains(t, g, "LOAD_FROM_S3")
	require.NotContains(t, g, "SYSTEM_VARIABLES_ADMIN")
	require.Contains(t, g, "SELECT_INTO_S3")

	// Every account may see its own grants, and only its own.
	u := srv.Open(srv.DSN("u", "pw", ""))
	for _, q := range []string{"SHOW GRANTS", "SHOW GRANTS FOR CURRENT_USER", "SHOW GRANTS FOR CURRENT_USER()"} {
		rows, err := u.Query(q)
		require.NoError(t, err, q)
		var all []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			all = append(all, s)
		}
		require.NoError(t, rows.Close())
		require.Contains(t, strings.Join(all, "\n"), "GRANT SELECT ON `hr`.* TO `u`@`%`", q)
	}
	_, err := u.Exec("SHOW GRANTS FOR root@localhost")
	n, _ := mysqlErr(t, err)
	require.Contains(t, []uint16{1044, 1142}, n, "another account's grants stay private: %v", err)
}

func TestEmptyUserNameIsNotRoot(t *testing.T) {
	// The mariadb/mysql CLIs replace an empty -u with the OS login name;
	// the server must take '' as the anonymous account, which does not
	// exist by default.
	srv := testserver.Start(t, "--root-password", "rootpw")
	for _, pw := range []string{"rootpw", ""} {
		pool, err := sql.Open("mysql", srv.DSN("", pw, ""))
		require.NoError(t, err)
		err = pool.Ping()
		require.NoError(t, pool.Close())
		n, state := mysqlErr(t, err)
		require.EqualValues(t, 1045, n)
		require.Equal(t, "28000", state)
	}
}

func TestSslCipherStatus(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	srv := testserver.Start(t, "--tls-cert", certFile, "--tls-key", keyFile)
	for _, c := range []struct {
		name            string
		max             uint16
		cipher, version string
	}{
		{"tls13", tls.VersionTLS13, "TLS_AES_128_GCM_SHA256", "TLSv1.3"},
		{"tls12", tls.VersionTLS12, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2"},
	} {
		cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MaxVersion: c.max,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
		require.NoError(t, mysql.RegisterTLSConfig("ssl-status-"+c.name, cfg))
		db := srv.Open(srv.DSN("root", "", "", "tls=ssl-status-"+c.name))
		require.Equal(t, c.cipher, sessionStatus(t, db, "Ssl_cipher"), c.name)
		require.Equal(t, c.version, sessionStatus(t, db, "Ssl_version"), c.name)
	}
	require.Empty(t, sessionStatus(t, srv.DB(""), "Ssl_cipher"), "a plain connection has no cipher")
}

func sessionStatus(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var k, v string
	require.NoError(t, db.QueryRow("SHOW SESSION STATUS LIKE '"+name+"'").Scan(&k, &v))
	return v
}

// TestWritesThatReadNeedSelect: as in MySQL, UPDATE and DELETE need
// SELECT on the table when they read its columns (WHERE, ORDER BY, or a
// SET expression). GMS asked UPDATE or DELETE only, and the count of rows
// changed answered any question about the values: an UPDATE-only account
// could find a salary by bisection with SET id = id WHERE s > ?.
func TestWritesThatReadNeedSelect(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE hr", "CREATE TABLE hr.pay (id INT PRIMARY KEY, s INT)",
		"INSERT INTO hr.pay VALUES (1, 1000), (2, 2000)",
		"CREATE USER upd IDENTIFIED BY 'pw'", "GRANT UPDATE ON hr.pay TO upd",
		"CREATE USER del IDENTIFIED BY 'pw'", "GRANT DELETE ON hr.pay TO del")
	upd := srv.Open(srv.DSN("upd", "pw", "hr"))
	del := srv.Open(srv.DSN("del", "pw", "hr"))
	for _, c := range []struct {
		db *sql.DB
		q  string
	}{
		{upd, "UPDATE pay SET id = id WHERE s > 1500"},
		{upd, "UPDATE pay SET s = s + 1"},
		{upd, "UPDATE pay SET s = 0 ORDER BY s LIMIT 1"},
		{del, "DELETE FROM pay WHERE s > 1500"},
		{del, "DELETE FROM pay ORDER BY s LIMIT 1"},
	} {
		// MySQL's wording, naming the command and the table.
		requireDenied(t, c.db, c.q, 1142, "42000", "SELECT command denied to user '"+map[*sql.DB]string{upd: "upd", del: "del"}[c.db]+"'@'%' for table 'pay'")
	}
	require.Equal(t, []string{`"1,1000"`, `"2,2000"`}, dump(t, root, "SELECT CONCAT(id, ',', s) FROM hr.pay ORDER BY id"))
	// Writes that read nothing need nothing more.
	mustExec(t, upd, "UPDATE pay SET s = 5")
	mustExec(t, del, "DELETE FROM pay")
	require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM hr.pay"))
	mustExec(t, root, "INSERT INTO hr.pay VALUES (1, 1000)", "GRANT SELECT ON hr.pay TO upd")
	mustExec(t, upd, "UPDATE pay SET s = s + 1 WHERE id = 1")
	require.EqualValues(t, 1001, queryInt(t, root, "SELECT s FROM hr.pay WHERE id = 1"))
}

// TestLockingReadsNeedAWritePrivilege: as in MySQL 8.0.22+, SELECT ...
// FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE needs UPDATE, DELETE or LOCK
// TABLES besides SELECT. With SELECT alone an account could hold row locks
// that stop every writer of those rows for as long as it kept its
// transaction open.
func TestLockingReadsNeedAWritePrivilege(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE lk", "CREATE TABLE lk.t (id INT PRIMARY KEY, v INT)", "INSERT INTO lk.t VALUES (1, 0)",
		"CREATE USER reader IDENTIFIED BY 'pw'", "GRANT SELECT ON lk.t TO reader",
		"CREATE USER locker IDENTIFIED BY 'pw'", "GRANT SELECT, LOCK TABLES ON lk.* TO locker",
		"CREATE USER writer IDENTIFIED BY 'pw'", "GRANT SELECT, UPDATE ON lk.t TO writer")
	reader := srv.Open(srv.DSN("reader", "pw", "lk"))
	locking := []string{"SELECT v FROM t WHERE id = 1 FOR UPDATE", "SELECT v FROM t WHERE id = 1 FOR SHARE",
		"SELECT v FROM t WHERE id = 1 LOCK IN SHARE MODE", "SELECT v FROM (SELECT * FROM t) d FOR UPDATE"}
	for _, q := range locking {
		requireDenied(t, reader, q, 1142, "42000", "command denied to user 'reader'@'%'")
	}
	require.Zero(t, queryInt(t, reader, "SELECT v FROM t WHERE id = 1"), "plain reads need SELECT only")
	for _, user := range []string{"locker", "writer"} {
		db := srv.Open(srv.DSN(user, "pw", "lk"))
		for _, q := range locking {
			require.Zero(t, queryInt(t, db, q), "%s: %s", user, q)
		}
	}
}

// TestCreateTableLikeNeedsSelectOnItsSource: as in MySQL, CREATE TABLE
// ... LIKE needs SELECT on the table it copies. GMS asked nothing, so an
// account allowed to create tables could copy any table's definition
// (columns, indexes, checks) and read it with SHOW CREATE TABLE.
func TestCreateTableLikeNeedsSelectOnItsSource(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE hr", "CREATE DATABASE sandbox",
		"CREATE TABLE hr.pay (id INT PRIMARY KEY, salary_band INT, CHECK (salary_band < 10))",
		"CREATE USER maker IDENTIFIED BY 'pw'", "GRANT ALL ON sandbox.* TO maker", "GRANT CREATE ON hr.* TO maker")
	maker := srv.Open(srv.DSN("maker", "pw", "sandbox"))
	requireDenied(t, maker, "CREATE TABLE copy1 LIKE hr.pay", 1142, "42000", "command denied to user 'maker'@'%'")
	requireDenied(t, srv.Open(srv.DSN("maker", "pw", "hr")), "CREATE TABLE copy2 LIKE pay", 1142, "42000", "command denied to user 'maker'@'%'")
	require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME LIKE 'copy%'"))
	mustExec(t, root, "GRANT SELECT ON hr.pay TO maker")
	mustExec(t, maker, "CREATE TABLE copy1 LIKE hr.pay")
	require.Contains(t, queryMaps(t, maker, "SHOW CREATE TABLE copy1")[0]["Create Table"], "salary_band")
}

// TestInsertOnDuplicateKeyUpdateNeedsUpdate: as in MySQL, INSERT ... ON
// DUPLICATE KEY UPDATE needs UPDATE on the table as well as INSERT. GMS
// asked only INSERT, so an account allowed to add rows (an append-only
// log writer, say) could overwrite any existing row.
func TestInsertOnDuplicateKeyUpdateNeedsUpdate(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE ledger", "CREATE TABLE ledger.entries (id INT PRIMARY KEY, amount INT)",
		"INSERT INTO ledger.entries VALUES (1, 100)",
		"CREATE TABLE ledger.mirror (id INT PRIMARY KEY, amount INT)",
		"CREATE USER appender IDENTIFIED BY 'pw'", "GRANT INSERT ON ledger.entries TO appender",
		"CREATE USER editor IDENTIFIED BY 'pw'", "GRANT INSERT, UPDATE ON ledger.entries TO editor",
		"GRANT INSERT, TRIGGER ON ledger.mirror TO appender")
	appender := srv.Open(srv.DSN("appender", "pw", "ledger"))
	editor := srv.Open(srv.DSN("editor", "pw", "ledger"))
	amount := func() int64 { return queryInt(t, root, "SELECT amount FROM ledger.entries WHERE id = 1") }

	const odku = "INSERT INTO entries VALUES (1, 0) ON DUPLICATE KEY UPDATE amount = VALUES(amount)"
	requireDenied(t, appender, odku, 1142, "42000", "UPDATE command denied to user 'appender'@'%' for table 'entries'")
	_, err := appender.Exec("INSERT INTO entries VALUES (?, ?) ON DUPLICATE KEY UPDATE amount = ?", 1, 0, 0)
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1142, num, "prepared: %v", err)
	require.EqualValues(t, 100, amount())
	// Nor in a trigger: not when she creates it, nor when it fires (it
	// runs with her privileges) after UPDATE was taken back.
	const trigger = "CREATE TRIGGER mirror_copy AFTER INSERT ON mirror FOR EACH ROW INSERT INTO entries VALUES (NEW.id, NEW.amount) ON DUPLICATE KEY UPDATE amount = VALUES(amount)"
	requireDenied(t, appender, trigger, 1142, "42000", "command denied to user 'appender'@'%'")
	mustExec(t, root, "GRANT UPDATE ON ledger.entries TO appender")
	mustExec(t, appender, trigger)
	mustExec(t, root, "REVOKE UPDATE ON ledger.entries FROM appender")
	requireDenied(t, root, "INSERT INTO ledger.mirror VALUES (1, 0)", 1142, "42000", "command denied to user 'appender'@'%'")
	require.EqualValues(t, 100, amount())

	mustExec(t, appender, "INSERT INTO entries VALUES (2, 5)")
	mustExec(t, editor, odku)
	require.EqualValues(t, 0, amount())
}
