package sqlext

import (
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	"github.com/stretchr/testify/require"
)

func TestParseAlterModel(t *testing.T) {
	s := ModelStatements{}
	ctx := sql.NewEmptyContext()
	ctx.SetCurrentDatabase("db")
	for _, tc := range []struct {
		stmt string
		ok   bool
		err  string
	}{
		{"ALTER MODEL m RETRAIN", true, ""},
		{"alter model db.m retrain as of 'abc123'", true, ""},
		{"ALTER MODEL m RETRAIN FROM (SELECT a, (b) FROM t WHERE c IN (1,2))", true, ""},
		{"ALTER MODEL m RETRAIN FROM db.t", true, ""},
		{"ALTER MODEL m DEPLOY VERSION 3", true, ""},
		{"ALTER MODEL m ROLLBACK", true, ""},
		{"ALTER MODEL m SETTINGS (DEPLOY_POLICY 'manual')", true, ""},
		{"ALTER MODEL m RETRAIN AS OF", true, "syntax"},
		{"ALTER MODEL m RETRAIN FROM (SELECT 1", true, "syntax"},
		{"ALTER MODEL m DEPLOY VERSION x", true, "syntax"},
		{"ALTER MODEL m ROLLBACK now", true, "syntax"},
		{"ALTER MODEL m", true, "syntax"},
		{"SHOW MODEL m VERSIONS", true, ""},
		{"SHOW MODEL m VERSIONS please", true, "syntax"},
		{"CREATE OR REPLACE MODEL m FROM t TARGET y FUNCTION f", true, ""},
		{"CREATE OR REPLACE MODEL m FROM t TARGET y", true, "needs FUNCTION"},
		{"ALTER TABLE t ADD COLUMN c INT", false, ""},
	} {
		node, _, ok, err := s.Parse(ctx, tc.stmt)
		require.Equal(t, tc.ok, ok, tc.stmt)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.stmt)
			continue
		}
		require.NoError(t, err, tc.stmt)
		require.Equal(t, tc.ok, node != nil, tc.stmt)
	}
}

// TestParseEventWithModelBody: an event whose body is ALTER MODEL parses,
// with GMS seeing the body at the positions it cuts the stored body from.
func TestParseEventWithModelBody(t *testing.T) {
	p := NewParser(sql.NewMysqlParser(), ModelStatements{})
	ctx := sql.NewEmptyContext()
	ctx.SetCurrentDatabase("db")
	for _, tc := range []struct{ stmt, body string }{
		{"CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO ALTER MODEL m RETRAIN", "ALTER MODEL m RETRAIN"},
		{"create definer = `u`@`%` event if not exists e on schedule every 1 second starts now() comment 'do it' do  ALTER MODEL db.m RETRAIN FROM (SELECT a, y FROM t)  ",
			"ALTER MODEL db.m RETRAIN FROM (SELECT a, y FROM t)"},
	} {
		st, _, _, err := p.ParseWithOptions(ctx, tc.stmt, ';', false, ast.ParserOptions{})
		require.NoError(t, err, tc.stmt)
		ddl, ok := st.(*ast.DDL)
		require.True(t, ok, "%T", st)
		require.IsType(t, ast.InjectedStatement{}, ddl.EventSpec.Body)
		full := sql.RemoveSpaceAndDelimiter(tc.stmt, ';')
		// GMS trims what it cuts out (planbuilder.buildCreateEvent).
		require.Equal(t, tc.body, strings.TrimSpace(full[ddl.SubStatementPositionStart:ddl.SubStatementPositionEnd]))
	}
	// Ordinary events are GMS's alone.
	st, _, _, err := p.ParseWithOptions(ctx, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO INSERT INTO t VALUES (1)", ';', false, ast.ParserOptions{})
	require.NoError(t, err)
	require.IsType(t, &ast.Insert{}, st.(*ast.DDL).EventSpec.Body)
	_, _, _, err = p.ParseWithOptions(ctx, "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO ALTER MODEL m EXPLODE", ';', false, ast.ParserOptions{})
	require.ErrorContains(t, err, "syntax")
}
