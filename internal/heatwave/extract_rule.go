package heatwave

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression"
	gmsjson "github.com/dolthub/go-mysql-server/sql/expression/function/json"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"

	"github.com/sibyldb/sibyldb/internal/exec"
)

// RuleID identifies the prediction-extraction rule among the analyzer's
// rules.
const RuleID analyzer.RuleId = 7300

// predictionPath is the JSON path HeatWave's users read a row's
// prediction with: JSON_EXTRACT(ML_PREDICT_ROW(...), '$.Prediction').
const predictionPath = "$.Prediction"

// Install adds the rule that turns JSON_EXTRACT(ML_PREDICT_ROW(
// JSON_OBJECT(...), ...), '$.Prediction') (also inside JSON_UNQUOTE) into
// one batched call that returns the
// prediction alone. It runs ahead of the batching rule, which then batches
// the new call like any other. It must run before the engine is built.
//
// Why: per row, the general form builds the output document (the input
// values, Prediction and an ml_results map with every class probability)
// and JSON_EXTRACT then compiles its path and walks that document, which
// together cost several times the scoring itself. The result is the same
// value: ML_PREDICT_ROW's document always holds Prediction, so
// JSON_EXTRACT of it is the JSON value of the prediction (JSON null when
// the prediction is null), never SQL NULL.
func Install() {
	for _, r := range analyzer.OnceAfterAll {
		if r.Id == RuleID {
			return
		}
	}
	rules := make([]analyzer.Rule, 0, len(analyzer.OnceAfterAll)+1)
	rules = append(rules, analyzer.Rule{Id: RuleID, Apply: extractPredictions})
	analyzer.OnceAfterAll = append(rules, analyzer.OnceAfterAll...)
}

func extractPredictions(_ *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
	return transform.NodeExprs(n, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		x, ok := e.(*gmsjson.JSONExtract)
		if !ok {
			return e, transform.SameTree, nil
		}
		kids := x.Children()
		if len(kids) != 2 {
			return e, transform.SameTree, nil
		}
		call, ok := kids[0].(*exec.FuncCall)
		if !ok || call.Slot() != nil {
			return e, transform.SameTree, nil
		}
		inv, ok := call.Invoker().(*rowInvoker)
		if !ok || inv.keys == nil || inv.predictionOnly {
			return e, transform.SameTree, nil
		}
		lit, ok := kids[1].(*expression.Literal)
		if !ok || lit.Value() != predictionPath {
			return e, transform.SameTree, nil
		}
		only := *inv
		only.predictionOnly = true
		return call.WithInvoker(&only), transform.NewTree, nil
	})
}
