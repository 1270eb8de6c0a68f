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
