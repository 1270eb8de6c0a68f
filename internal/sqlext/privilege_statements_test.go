package sqlext

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPrivilegeStatementsClaim checks which GRANT/REVOKE statements SibylDB
// takes (any list holding one of its privileges, MySQL's beside them) and
// which it leaves to GMS, and how each is described.
func TestPrivilegeStatementsClaim(t *testing.T) {
	for _, tc := range []struct {
		stmt string
		ok   bool
		desc string
		err  string
	}{
		{stmt: "GRANT SELECT ON db.* TO u", ok: false},
		{stmt: "GRANT SELECT, INSERT ON *.* TO u", ok: false},
		{stmt: "GRANT ALL ON *.* TO u WITH GRANT OPTION", ok: false},
		{stmt: "GRANT SELECT (c) ON db.t TO u", ok: false},
		{stmt: "GRANT 'editor' TO u", ok: false},
		{stmt: "GRANT process TO u", ok: false},
		{stmt: "REVOKE ALL PRIVILEGES, GRANT OPTION FROM u", ok: false},
		{stmt: "GRANT INVOKE SAGEMAKER ON *.* TO u", ok: true, desc: "GRANT INVOKE SAGEMAKER"},
		{stmt: "GRANT FILE, LOAD FROM S3 ON *.* TO u", ok: true, desc: "GRANT FILE, LOAD FROM S3"},
		{stmt: "grant select into s3, create temporary tables, lock tables ON *.* TO u", ok: true,
			desc: "GRANT SELECT INTO S3, CREATE TEMPORARY TABLES, LOCK TABLES"},
		{stmt: "REVOKE SYSTEM_VARIABLES_ADMIN, SET_USER_ID, CONNECTION_ADMIN ON *.* FROM u", ok: true,
			desc: "REVOKE SYSTEM_VARIABLES_ADMIN, SET_USER_ID, CONNECTION_ADMIN"},
		{stmt: "GRANT SYSTEM_USER ON *.* TO root@localhost", ok: true, desc: "GRANT SYSTEM_USER"},
		{stmt: "GRANT CREATE MODEL TO u", ok: true, desc: "GRANT CREATE MODEL"},
		{stmt: "GRANT CREATE MODEL, FILE TO u", ok: true, err: "near 'TO u'"},
		{stmt: "GRANT FILE, LOAD FROM S3 ON db.* TO u", ok: true, err: "You have an error in your SQL syntax"},
		{stmt: "GRANT INVOKE LAMBDA ON *.* TO u", ok: true, err: "near 'LAMBDA"},
		{stmt: "GRANT EXECUTE ON MODEL db.m TO u", ok: true, desc: "GRANT EXECUTE ON MODEL db.m"},
		{stmt: "REVOKE EXECUTE ON FUNCTION db.f FROM u", ok: true, desc: "REVOKE EXECUTE ON FUNCTION db.f"},
	} {
		t.Run(tc.stmt, func(t *testing.T) {
			node, _, ok, err := PrivilegeStatements{}.Parse(context.Background(), tc.stmt)
			require.Equal(t, tc.ok, ok)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			if tc.ok {
				require.Equal(t, tc.desc, node.String())
			}
		})
	}
}
