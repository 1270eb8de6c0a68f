package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMLPrivileges(t *testing.T) {
	srv, model, root := mlSetup(t, 5, 5, "SAGEMAKER")
	mustExec(t, root,
		"CREATE FUNCTION inv_twice(x DOUBLE) RETURNS DOUBLE SQL SECURITY INVOKER ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'model'",
		"CREATE USER analyst IDENTIFIED BY 'pw'",
		"GRANT SELECT ON ml.* TO analyst")
	analyst := srv.Open(srv.DSN("analyst", "pw", "ml"))

	denied := func(q string, num uint16, text string) {
		t.Helper()
		before := model.Requests()
		_, err := analyst.Exec(q)
		n, state := mysqlErr(t, err)
		require.Equal(t, num, n, "%s: %v", q, err)
		require.Equal(t, "42000", state)
		require.ErrorContains(t, err, text)
		require.Equal(t, before, model.Requests(), "no data may leave before the privilege check")
	}
	allowed := func(q string) {
		t.Helper()
		_, err := analyst.Exec(q)
		require.NoError(t, err, q)
	}

	denied("SELECT inv_twice(x) FROM nums", 1370, "execute command denied")
	// EXECUTE on the one function (GMS's own GRANT refuses this form).
	mustExec(t, root, "GRANT EXECUTE ON FUNCTION ml.inv_twice TO analyst")
	denied("SELECT inv_twice(x) FROM nums", 1227, "INVOKE SAGEMAKER")
	denied("SELECT twice(x) FROM nums", 1370, "execute command denied")
	mustExec(t, root, "REVOKE EXECUTE ON FUNCTION ml.inv_twice FROM analyst")
	denied("SELECT inv_twice(1)", 1370, "execute command denied")
	mustExec(t, root, "GRANT EXECUTE ON ml.* TO analyst")
	denied("SELECT inv_twice(1)", 1227, "INVOKE SAGEMAKER")
	allowed("SELECT twice(x) FROM nums") // SQL SECURITY DEFINER: root's privileges apply

	// Managing endpoints needs SUPER or CREATE ENDPOINT.
	denied("CREATE ENDPOINT mine URL 'http://127.0.0.1:9'", 1227, "CREATE ENDPOINT")
	denied("SHOW ENDPOINTS", 1227, "CREATE ENDPOINT")
	mustExec(t, root, "GRANT CREATE ENDPOINT ON *.* TO analyst")
	allowed("CREATE ENDPOINT mine URL 'http://127.0.0.1:9'")
	allowed("DROP ENDPOINT mine")
	mustExec(t, root, "REVOKE CREATE ENDPOINT ON *.* FROM analyst")
	denied("DROP ENDPOINT IF EXISTS model", 1227, "CREATE ENDPOINT")

	mustExec(t, root, "GRANT INVOKE SAGEMAKER ON *.* TO analyst")
	allowed("SELECT inv_twice(x) FROM nums")
	var grants []string
	rows, err := root.Query("SHOW GRANTS FOR analyst")
	require.NoError(t, err)
	for rows.Next() {
		var g string
		require.NoError(t, rows.Scan(&g))
		grants = append(grants, g)
	}
	require.NoError(t, rows.Err())
	require.Contains(t, strings.Join(grants, "\n"), "INVOKE_SAGEMAKER")

	mustExec(t, root, "REVOKE INVOKE SAGEMAKER ON *.* FROM analyst")
	denied("SELECT inv_twice(x) FROM nums", 1227, "INVOKE SAGEMAKER")

	// Aurora v3: the role carries the privilege.
	mustExec(t, root, "GRANT AWS_SAGEMAKER_ACCESS TO analyst")
	allowed("SELECT inv_twice(x) FROM nums")

	// Only administrators grant ML access, and unknown accounts are errors.
	_, err = analyst.Exec("GRANT INVOKE SAGEMAKER ON *.* TO analyst")
	require.Error(t, err)
	_, err = root.Exec("GRANT INVOKE COMPREHEND ON *.* TO nobody")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1133, num)
	_, err = root.Exec("GRANT INVOKE LAMBDA ON *.* TO analyst")
	num, _ = mysqlErr(t, err)
	require.EqualValues(t, 1064, num)

	srv.Restart()
	analyst = srv.Open(srv.DSN("analyst", "pw", "ml"))
	allowed("SELECT inv_twice(x) FROM nums")
}
