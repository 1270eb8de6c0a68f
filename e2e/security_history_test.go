package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestHistoryNeedsTablePrivileges: a table's past versions are its data.
// A user with SELECT on t1 only reads t1's history, diffs and AS OF
// versions, through the system tables, the table functions and views, and
// gets 1142 for t2's.
func TestHistoryNeedsTablePrivileges(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("", "multiStatements=true")
	mustExec(t, root, "CREATE DATABASE hist", "USE hist",
		"CREATE TABLE t1 (id INT PRIMARY KEY, v VARCHAR(20))", "CREATE TABLE t2 (id INT PRIMARY KEY, secret VARCHAR(20))",
		"INSERT INTO t1 VALUES (1, 'one')", "INSERT INTO t2 VALUES (1, 'old secret')",
		"CALL dolt_commit('-Am', 'first')",
		"UPDATE t1 SET v = 'uno'", "UPDATE t2 SET secret = 'new secret'",
		"CALL dolt_commit('-am', 'second')",
		"CREATE USER alice IDENTIFIED BY 'pw'", "GRANT SELECT ON hist.t1 TO alice", "GRANT CREATE VIEW ON hist.* TO alice",
		"CREATE SQL SECURITY INVOKER VIEW t2_history AS SELECT * FROM dolt_history_t2")
	alice := srv.Open(srv.DSN("alice", "pw", "hist"))

	allowed := []struct {
		q    string
		rows int64
	}{
		{"SELECT COUNT(*) FROM dolt_history_t1", 2},
		{"SELECT COUNT(*) FROM dolt_diff_t1", 2},
		{"SELECT COUNT(*) FROM dolt_commit_diff_t1 WHERE from_commit = HASHOF('HEAD~1') AND to_commit = HASHOF('HEAD')", 1},
		{"SELECT COUNT(*) FROM t1 AS OF 'HEAD~1' WHERE v = 'one'", 1},
		{"SELECT COUNT(*) FROM dolt_diff('HEAD~1', 'HEAD', 't1')", 1},
		{"SELECT COUNT(*) FROM dolt_diff_summary('HEAD~1', 'HEAD', 't1')", 1},
		{"SELECT COUNT(*) FROM dolt_patch('HEAD~1', 'HEAD', 't1')", 1},
		{"SELECT COUNT(*) FROM dolt_schema_diff('HEAD~2', 'HEAD', 't1')", 1},
		{"SELECT COUNT(*) FROM (SELECT * FROM t1 AS OF 'HEAD~1') AS old", 1},
	}
	for _, tc := range allowed {
		t.Run("allowed "+tc.q, func(t *testing.T) {
			require.Equal(t, tc.rows, queryInt(t, alice, tc.q))
		})
	}

	denied := []string{
		"SELECT * FROM dolt_history_t2",
		"SELECT * FROM dolt_diff_t2",
		"SELECT * FROM dolt_blame_t2",
		"SELECT * FROM dolt_commit_diff_t2 WHERE from_commit = HASHOF('HEAD~1') AND to_commit = HASHOF('HEAD')",
		"SELECT * FROM t2 AS OF 'HEAD~1'",
		"SELECT * FROM hist.t2 AS OF 'HEAD~1'",
		"SELECT * FROM (SELECT * FROM t2 AS OF 'HEAD~1') AS old",
		"SELECT * FROM dolt_diff('HEAD~1', 'HEAD', 't2')",
		"SELECT * FROM dolt_diff_summary('HEAD~1', 'HEAD', 't2')",
		"SELECT * FROM dolt_patch('HEAD~1', 'HEAD', 't2')",
		"SELECT * FROM dolt_schema_diff('HEAD~2', 'HEAD', 't2')",
		"SELECT * FROM dolt_query_diff('SELECT * FROM t2 AS OF ''HEAD~1''', 'SELECT * FROM t2')",
		"SELECT * FROM t2_history",
		"CREATE VIEW peek AS SELECT * FROM dolt_history_t2",
		"SELECT * FROM dolt_history_t1 JOIN dolt_history_t2 USING (id)",
	}
	for _, q := range denied {
		t.Run("denied "+q, func(t *testing.T) {
			_, err := alice.Exec(q)
			require.Errorf(t, err, "%s must fail", q)
			num, state := mysqlErr(t, err)
			require.EqualValuesf(t, 1142, num, "%s: %v", q, err)
			require.Equal(t, "42000", state)
		})
	}

	// Summaries that name tables without SELECT on the whole database.
	for _, q := range []string{
		"SELECT * FROM dolt_diff_summary('HEAD~1', 'HEAD')",
		"SELECT * FROM dolt_patch('HEAD~1', 'HEAD')",
		"SELECT * FROM dolt_diff('HEAD~1', 'HEAD', 't1') JOIN dolt_diff('HEAD~1', 'HEAD', 't2')",
	} {
		t.Run("denied "+q, func(t *testing.T) {
			_, err := alice.Exec(q)
			require.Errorf(t, err, "%s must fail", q)
			num, _ := mysqlErr(t, err)
			require.Containsf(t, []uint16{1142, 1044}, num, "%s: %v", q, err)
		})
	}
}
