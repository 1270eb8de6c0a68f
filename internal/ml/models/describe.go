package models

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// State is the model's state (TRAINING, READY or FAILED), for SHOW MODEL ALL.
func (m *Manager) State(md *Model) string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return md.State
}

// Describe is SHOW MODEL's key/value rows, in Redshift ML's order and
// wording where Redshift has an equivalent.
func (m *Manager) Describe(md *Model) [][2]string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if md.External {
		return describeExternal(md)
	}
	rows := [][2]string{
		{"Model Name", md.Name},
		{"Schema Name", md.DB},
		{"Owner", md.Owner},
		{"Creation Time", md.Created.Format("Mon, 02.01.2006 15:04:05")},
		{"Model State", md.State},
	}
	if md.State == Failed {
		rows = append(rows, [2]string{"Failure Reason", md.Reason})
	}
	elapsed := time.Since(md.Created)
	if !md.Finished.IsZero() {
		elapsed = md.Finished.Sub(md.Created)
	}
	rows = append(rows, [2]string{"Training Progress", md.Progress()}, [2]string{"Elapsed Time (s)", fmt.Sprintf("%.1f", elapsed.Seconds())})
	if r := md.Report; r != nil && r.Objective != "" {
		rows = append(rows,
			[2]string{"validation:" + strings.ToLower(r.Objective), fmt.Sprintf("%.6f", r.Score)},
			[2]string{"Chosen Candidate", r.Chosen})
		for i, c := range r.Leaderboard {
			v := fmt.Sprintf("%s %s: %s=%.6f (%.1f s)", c.Algorithm, c.Params, r.Objective, c.Score, c.Seconds)
			if c.Error != "" {
				v = fmt.Sprintf("%s %s: failed: %s", c.Algorithm, c.Params, c.Error)
			}
			rows = append(rows, [2]string{fmt.Sprintf("Candidate %d", i+1), v})
		}
	}
	rows = append(rows, [2]string{"", ""}, [2]string{"TRAINING DATA:", ""})
	switch {
	case md.FromQuery != "":
		rows = append(rows, [2]string{"Query", md.FromQuery})
	case md.FromTable != "":
		rows = append(rows, [2]string{"Table", md.FromTable})
	case md.FromURI != "":
		rows = append(rows, [2]string{"Model File", md.FromURI})
	case md.SageMaker != "":
		rows = append(rows, [2]string{"SageMaker Endpoint", md.SageMaker})
	}
	if md.Target != "" {
		rows = append(rows, [2]string{"Target Column", strings.ToUpper(md.Target)})
	}
	rows = append(rows, md.describeLineage()...)
	if md.SageMaker == "" && md.FromURI == "" {
		sampled := ""
		if md.Sampled {
			sampled = " (sampled to MAX_CELLS)"
		}
		rows = append(rows, [2]string{"Rows Used", fmt.Sprintf("%d%s", md.Rows, sampled)}, [2]string{"Cells Used", fmt.Sprint(md.Cells)})
	}
	algorithm := md.ModelType
	if md.Artifact != nil {
		algorithm = md.Artifact.Algorithm
	}
	auto := "ON"
	if !md.Auto {
		auto = "OFF"
	}
	names, typs := make([]string, len(md.Params)), make([]string, len(md.Params))
	for i, p := range md.Params {
		names[i], typs[i] = p.Name, p.Type
	}
	rows = append(rows, [2]string{"", ""}, [2]string{"PARAMETERS:", ""},
		[2]string{"Model Type", strings.ToLower(algorithm)},
		[2]string{"AutoML", auto},
		[2]string{"Problem Type", string(md.Problem)},
		[2]string{"Objective", objectiveName(md)},
		[2]string{"Function Name", strings.Join(md.Functions(), ", ")},
		[2]string{"Function Parameters", strings.Join(names, " ")},
		[2]string{"Function Parameter Types", strings.Join(typs, " ")},
		[2]string{"Max Runtime", fmt.Sprint(md.MaxRuntime)},
		[2]string{"Max Cells", fmt.Sprint(md.MaxCells)},
	)
	if len(md.Hyperparameters) > 0 {
		keys := make([]string, 0, len(md.Hyperparameters))
		for k := range md.Hyperparameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		hp := make([]string, len(keys))
		for i, k := range keys {
			hp[i] = fmt.Sprintf("%s '%s'", strings.ToUpper(k), md.Hyperparameters[k])
		}
		rows = append(rows, [2]string{"Hyperparameters", strings.Join(hp, ", ")})
	}
	if md.IAMRole != "" || len(md.Ignored) > 0 {
		ignored := md.Ignored
		if md.IAMRole != "" {
			ignored = append([]string{"IAM_ROLE"}, ignored...)
		}
		rows = append(rows, [2]string{"Ignored AWS Settings", strings.Join(ignored, ", ") + " (training runs in SibylDB; nothing is sent to AWS)"})
	}
	return rows
}

func objectiveName(md *Model) string {
	if md.Report != nil && md.Report.Objective != "" {
		return md.Report.Objective
	}
	return md.Objective
}

// ExplainFunction is EXPLAIN_MODEL('name'): the model's global feature
// importance as JSON.
func (m *Manager) ExplainFunction() sql.Function {
	return sql.Function1{Name: "explain_model", Fn: func(arg sql.Expression) sql.Expression {
		return &explainModel{m: m, arg: arg}
	}}
}

type explainModel struct {
	m   *Manager
	arg sql.Expression
}

var _ sql.FunctionExpression = (*explainModel)(nil)

func (e *explainModel) FunctionName() string { return "explain_model" }
func (e *explainModel) Description() string {
	return "returns a model's global feature importance as JSON"
}
func (e *explainModel) Resolved() bool             { return e.arg.Resolved() }
func (e *explainModel) String() string             { return "explain_model(" + e.arg.String() + ")" }
func (e *explainModel) Type() sql.Type             { return types.JSON }
func (e *explainModel) IsNullable() bool           { return true }
func (e *explainModel) Children() []sql.Expression { return []sql.Expression{e.arg} }
func (e *explainModel) IsNonDeterministic() bool   { return true }

func (e *explainModel) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(e, len(children), 1)
	}
	return &explainModel{m: e.m, arg: children[0]}, nil
}

func (e *explainModel) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	v, err := e.arg.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	name := fmt.Sprint(v)
	db := ctx.GetCurrentDatabase()
	if d, n, ok := strings.Cut(name, "."); ok {
		db, name = d, n
	}
	md, ok := e.m.Get(db, name)
	if !ok {
		return nil, fmt.Errorf("model %s.%s: %w", db, name, ErrNotFound)
	}
	if e.m.Authorize != nil {
		if err := e.m.Authorize(ctx, md); err != nil {
			return nil, err
		}
	}
	s, err := e.m.Explanation(md)
	if err != nil {
		return nil, err
	}
	out, _, err := types.JSON.Convert(ctx, s)
	return out, err
}

// describeLineage is SHOW MODEL's lineage of the deployed version (or of
// the first version while it trains): what it was trained on, exactly.
func (md *Model) describeLineage() [][2]string {
	n := md.Version
	if n == 0 {
		n = 1
	}
	v := md.versions[n]
	if v == nil {
		return nil
	}
	rows := [][2]string{
		{"Deployed Version", fmt.Sprint(md.Version)},
		{"Latest Version", fmt.Sprint(md.LastVersion)},
		{"Deploy Policy", md.Policy()},
		{"Version Query", v.Query},
	}
	if v.AsOf != "" {
		rows = append(rows, [2]string{"Version As Of", v.AsOf})
	}
	for _, t := range v.Lineage {
		rows = append(rows, [2]string{"Data Version", t.String()})
	}
	rows = append(rows, [2]string{"Random Seed", fmt.Sprint(v.Seed)}, [2]string{"Trained By", v.CreatedBy})
	if v.ArtifactSHA256 != "" {
		rows = append(rows, [2]string{"Artifact SHA256", v.ArtifactSHA256})
	}
	return rows
}
