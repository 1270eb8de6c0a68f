package sqlext

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseDriftStatements(t *testing.T) {
	s := DriftStatements{}
	for _, tc := range []struct {
		stmt string
		ok   bool // DriftStatements' statement
		err  bool // a syntax error in it
		desc string
	}{
		{stmt: "SHOW MODEL db.m DRIFT", ok: true, desc: "SHOW MODEL m DRIFT"},
		{stmt: "show model db.m drift since '2026-01-02 03:04:05'", ok: true, desc: "SHOW MODEL m DRIFT"},
		{stmt: "SHOW MODEL db.m DRIFT SINCE", ok: true, err: true},
		{stmt: "SHOW MODEL db.m DRIFT SINCE '2026-01-02' AND", ok: true, err: true},
		{stmt: "EVALUATE MODEL db.m ON (SELECT a, (b), ')' FROM t WHERE x IN (1, 2))", ok: true, desc: "EVALUATE MODEL m"},
		{stmt: "EVALUATE MODEL db.m ON SELECT 1", ok: true, err: true},
		{stmt: "EVALUATE MODEL db.m ON (SELECT 1", ok: true, err: true},
		{stmt: "EVALUATE MODEL db.m ON (SELECT 1) extra", ok: true, err: true},
		{stmt: "EVALUATE MODEL db.m ON ()", ok: true, err: true},
		{stmt: "EVALUATE MODEL db.m (SELECT 1)", ok: true, err: true},
		// The other SHOW MODEL forms are ModelStatements'.
		{stmt: "SHOW MODEL db.m"},
		{stmt: "SHOW MODEL ALL"},
		{stmt: "SHOW MODELS"},
		{stmt: "SHOW TABLES"},
	} {
		t.Run(tc.stmt, func(t *testing.T) {
			n, _, ok, err := s.Parse(context.Background(), tc.stmt)
			require.Equal(t, tc.ok, ok)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			if ok {
				require.Equal(t, tc.desc, n.String())
			}
		})
	}
}

func TestParenthesizedQuery(t *testing.T) {
	stmt := "EVALUATE MODEL m ON ( SELECT a, (b) FROM t WHERE c = ')' )"
	toks, err := Tokens(stmt)
	require.NoError(t, err)
	c := &cursor{toks: toks, pos: 4}
	q, err := parenthesized(c, stmt)
	require.NoError(t, err)
	require.Equal(t, "SELECT a, (b) FROM t WHERE c = ')'", q)
}
