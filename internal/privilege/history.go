package privilege

import (
	"strings"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// tableHistoryPrefixes start the names of Dolt's per-table system tables
// (doltdb's Dolt*TablePrefix and DoltBlameViewPrefix), whose rows are the
// table's rows at other versions (dolt_history_t, dolt_diff_t,
// dolt_commit_diff_t, dolt_blame_t) or rows about to become its rows
// (dolt_conflicts_t, dolt_constraint_violations_t, dolt_workspace_t).
var tableHistoryPrefixes = []string{
	"dolt_history_", "dolt_diff_", "dolt_commit_diff_", "dolt_blame_",
	"dolt_conflicts_", "dolt_constraint_violations_", "dolt_workspace_",
}

// HistoryOf returns the user table whose versions a Dolt per-table system
// table shows, and whether table is one.
func HistoryOf(table string) (string, bool) {
	t := strings.ToLower(table)
	for _, p := range tableHistoryPrefixes {
		if strings.HasPrefix(t, p) && len(t) > len(p) {
			return table[len(p):], true
		}
	}
	return "", false
}

// historySubject makes reading a table's history need what reading the
// table needs: SELECT on dolt_history_t (dolt_diff_t, ...) is checked as
// SELECT on t. A table's past versions are its data, so a user who may
// read t reads its history, and one who may not cannot read it there
// either; a grant on the system table's own name neither adds nor
// removes anything. Table functions (dolt_diff('a', 'b', 't'), ...) and
// AS OF already ask for SELECT on the table they name.
func historySubject(auth ast.AuthInformation) ast.AuthInformation {
	if auth.AuthType != ast.AuthType_SELECT || len(auth.TargetNames) < 2 {
		return auth
	}
	switch auth.TargetType {
	case ast.AuthTargetType_SingleTableIdentifier, ast.AuthTargetType_TableColumn:
	default:
		return auth
	}
	base, ok := HistoryOf(auth.TargetNames[1])
	if !ok {
		return auth
	}
	// The system tables' columns (to_v, commit_hash, ...) are not the
	// table's: a column-level check becomes a table-level one.
	auth.TargetType = ast.AuthTargetType_SingleTableIdentifier
	auth.TargetNames = []string{auth.TargetNames[0], base}
	return auth
}
