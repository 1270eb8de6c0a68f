package privilege

import (
	"testing"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	"github.com/stretchr/testify/require"
)

func TestHistorySubject(t *testing.T) {
	sel := func(typ string, names ...string) ast.AuthInformation {
		return ast.AuthInformation{AuthType: ast.AuthType_SELECT, TargetType: typ, TargetNames: names}
	}
	for _, tc := range []struct {
		in, want ast.AuthInformation
	}{
		{sel(ast.AuthTargetType_SingleTableIdentifier, "db", "dolt_history_t1"), sel(ast.AuthTargetType_SingleTableIdentifier, "db", "t1")},
		{sel(ast.AuthTargetType_SingleTableIdentifier, "", "DOLT_DIFF_Orders"), sel(ast.AuthTargetType_SingleTableIdentifier, "", "Orders")},
		{sel(ast.AuthTargetType_SingleTableIdentifier, "db", "dolt_commit_diff_t"), sel(ast.AuthTargetType_SingleTableIdentifier, "db", "t")},
		{sel(ast.AuthTargetType_TableColumn, "db", "dolt_conflicts_t", "our_v"), sel(ast.AuthTargetType_SingleTableIdentifier, "db", "t")},
		// Database-wide summaries and ordinary tables are unchanged.
		{sel(ast.AuthTargetType_SingleTableIdentifier, "db", "dolt_diff"), sel(ast.AuthTargetType_SingleTableIdentifier, "db", "dolt_diff")},
		{sel(ast.AuthTargetType_SingleTableIdentifier, "db", "dolt_log"), sel(ast.AuthTargetType_SingleTableIdentifier, "db", "dolt_log")},
		{sel(ast.AuthTargetType_SingleTableIdentifier, "db", "history_t"), sel(ast.AuthTargetType_SingleTableIdentifier, "db", "history_t")},
		// Writes keep their own checks (SystemTableClass).
		{ast.AuthInformation{AuthType: ast.AuthType_DELETE, TargetType: ast.AuthTargetType_SingleTableIdentifier, TargetNames: []string{"db", "dolt_conflicts_t"}},
			ast.AuthInformation{AuthType: ast.AuthType_DELETE, TargetType: ast.AuthTargetType_SingleTableIdentifier, TargetNames: []string{"db", "dolt_conflicts_t"}}},
	} {
		require.Equal(t, tc.want, historySubject(tc.in), "%v", tc.in.TargetNames)
	}
}
