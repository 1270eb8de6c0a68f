package server

import (
	"testing"

	"github.com/dolthub/go-mysql-server/sql/analyzer"

	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/ml/vector/vecsql"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// TestAnalyzerRuleIDsAreDistinct: each of SibylDB's analyzer rules is
// installed unless its id is already present, so two rules sharing an id
// silently drop one of them (a merge once dropped the privilege rule that
// keeps the system database immutable).
func TestAnalyzerRuleIDsAreDistinct(t *testing.T) {
	seen := map[analyzer.RuleId]string{}
	for name, id := range map[string]analyzer.RuleId{
		"exec":      exec.RuleID,
		"warnings":  warningsRuleID,
		"privilege": privilege.RuleID,
		"vecsql":    vecsql.RuleID,
	} {
		if other, ok := seen[id]; ok {
			t.Fatalf("rules %s and %s share analyzer rule id %d", name, other, id)
		}
		seen[id] = name
	}
}
