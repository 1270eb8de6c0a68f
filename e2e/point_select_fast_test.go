package e2e

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"
)

// execOnce executes the prepared statement stmt and returns its outcome.
func execOnce(t *testing.T, ctx context.Context, stmt *sql.Stmt, args ...any) stmtResult {
	t.Helper()
	var c sql.NullString
	err := stmt.QueryRowContext(ctx, args...).Scan(&c)
	switch {
	case err == sql.ErrNoRows:
		return stmtResult{}
	case err != nil:
		code, _ := mysqlErr(t, err)
		return stmtResult{err: code}
	}
	return stmtResult{rows: []string{"c=" + c.String}}
}

// TestPlanCacheGrantTableDML changes the account of a connection whose
// prepared point select runs from a cached plan by writing mysql.user
// with plain DML, which (unlike GRANT, REVOKE and DROP USER) does not
// invalidate cached plans. The statement, already prepared, must give on
// its next executes what a fresh plan gives: the cached plan's privilege
// check (remembered per grant-table version and account) sees the change.
func TestPlanCacheGrantTableDML(t *testing.T) {
	srv, admin := planCacheServer(t, planCacheVerify)
	ctx := context.Background()
	cases := []struct {
		name, grant, change string
		code                uint16
	}{
		// MySQL: ER_ACCESS_DENIED_ERROR, the account is gone.
		{"account deleted", "GRANT SELECT ON pc.t1 TO 'pcu'@'%'", "DELETE FROM mysql.user WHERE User = 'pcu'", 1045},
		// Without FLUSH PRIVILEGES a grant-table edit changes nothing, as in
		// MySQL; the cached plan must not either.
		{"global select edited", "GRANT SELECT ON *.* TO 'pcu'@'%'", "UPDATE mysql.user SET Select_priv = 'N' WHERE User = 'pcu'", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustExec(t, admin, "CREATE USER 'pcu'@'%' IDENTIFIED BY 'pw'", tc.grant)
			defer mustExec(t, admin, "DROP USER IF EXISTS 'pcu'@'%'")
			conn, err := srv.Open(srv.DSN("pcu", "pw", "pc", "interpolateParams=false")).Conn(ctx)
			require.NoError(t, err)
			defer conn.Close()
			stmt, err := conn.PrepareContext(ctx, "SELECT c FROM t1 WHERE id = ?")
			require.NoError(t, err)
			defer stmt.Close()
			fresh, err := conn.PrepareContext(ctx, "SELECT c FROM t1 WHERE id = ? ORDER BY 1") // never cached
			require.NoError(t, err)
			defer fresh.Close()

			before := planCacheHits(t, admin)
			for i := 0; i < 4; i++ {
				require.Equal(t, "c=c5", execOnce(t, ctx, stmt, 5).String())
			}
			require.Equal(t, int64(3), planCacheHits(t, admin)-before, "executes from the cached plan")

			mustExec(t, admin, tc.change)
			want := execOnce(t, ctx, fresh, 5)
			require.Equal(t, tc.code, want.err, "a fresh plan: %s", want)
			for i := 0; i < 2; i++ {
				require.Equal(t, want.String(), execOnce(t, ctx, stmt, 5).String())
			}
		})
	}
}
