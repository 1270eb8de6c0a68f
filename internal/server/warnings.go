package server

import (
	"slices"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// warningsRuleID identifies mysqlWarnings among the analyzer's rules.
const warningsRuleID analyzer.RuleId = 7001

// ignoredErrors are the row errors that INSERT, UPDATE and LOAD DATA
// IGNORE turn into warnings, which the engine files as Notes: duplicate
// key, bad value, out of range, truncation, NULL in NOT NULL, too long,
// foreign key, CHECK constraint.
var ignoredErrors = map[uint16]bool{1062: true, 1366: true, 1264: true, 1265: true, 1292: true,
	1048: true, 1406: true, 1452: true, 3819: true}

// installWarnings makes SHOW WARNINGS list what MySQL lists: the warnings
// in the order the statement raised them (the engine's session hands them
// out newest first), and an ignored row error at level Warning, not
// Note. The rule rewrites the list the engine bound, before any LIMIT
// applies to it. Like exec.Install, it must run before the engine is built.
func installWarnings() {
	for _, r := range analyzer.OnceAfterAll {
		if r.Id == warningsRuleID {
			return
		}
	}
	analyzer.OnceAfterAll = append(slices.Clone(analyzer.OnceAfterAll), analyzer.Rule{Id: warningsRuleID, Apply: mysqlWarnings})
}

func mysqlWarnings(ctx *sql.Context, a *analyzer.Analyzer, n sql.Node, scope *plan.Scope, sel analyzer.RuleSelector, flags *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	switch w := n.(type) {
	case *plan.Limit, *plan.Offset:
		// SHOW WARNINGS [LIMIT [offset,] n] binds as ShowWarnings at the
		// root or under LIMIT and OFFSET only (as the engine's own
		// clearWarnings assumes), so no other statement is walked.
		child, same, err := mysqlWarnings(ctx, a, n.Children()[0], scope, sel, flags)
		if err != nil || same {
			return n, transform.SameTree, err
		}
		out, err := n.WithChildren(child)
		return out, transform.NewTree, err
	case plan.ShowWarnings:
		if len(w) == 0 {
			return n, transform.SameTree, nil
		}
		out := make(plan.ShowWarnings, len(w))
		for i, warn := range w {
			if warn.Level == "Note" && ignoredErrors[uint16(warn.Code)] {
				c := *warn
				c.Level = "Warning"
				warn = &c
			}
			out[len(w)-1-i] = warn
		}
		return out, transform.NewTree, nil
	}
	return n, transform.SameTree, nil
}
