package vecsql

import (
	"testing"

	"github.com/dolthub/go-mysql-server/sql/analyzer"
)

// TestInstallRemovesEngineVectorRule: the storage keeps vector indexes as
// definitions only (patches/dolt/0004), so the engine's rule that would
// read one must be gone once Install ran, and SibylDB's rule present.
func TestInstallRemovesEngineVectorRule(t *testing.T) {
	Install()
	for _, r := range analyzer.OnceAfterDefault {
		if r.Id.String() == gmsVectorRule {
			t.Fatalf("rule %s still installed", gmsVectorRule)
		}
	}
	found := false
	for _, r := range analyzer.OnceAfterAll {
		found = found || r.Id == RuleID
	}
	if !found {
		t.Fatal("SibylDB's vector rule is not installed")
	}
}

// TestInstallJoinOrderRule: the rule that hints a join's vector-indexed
// table first must run right before the engine plans joins (it only
// hints the planner), exactly once however often Install runs.
func TestInstallJoinOrderRule(t *testing.T) {
	Install()
	Install()
	at, n := -1, 0
	for i, r := range analyzer.OnceAfterDefault {
		if r.Id == joinOrderRuleID {
			at, n = i, n+1
		}
	}
	if n != 1 {
		t.Fatalf("join order rule installed %d times", n)
	}
	if next := analyzer.OnceAfterDefault[at+1].Id.String(); next != gmsJoinPlanRule {
		t.Fatalf("join order rule runs before %s, not %s", next, gmsJoinPlanRule)
	}
}
