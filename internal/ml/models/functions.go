package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/xgb"
)

// output is what one of a model's functions returns.
type output int

const (
	outPredict output = iota // the label, value, cluster or score
	outProb                  // fn_prob: probability (binary) or JSON of class probabilities
	outExplain               // fn_explain: JSON of per-column contributions
)

// predictBatch is how many rows one Invoke of a local model evaluates:
// enough to amortise the batching machinery, small enough to keep both
// cores busy.
const predictBatch = 2048

// register adds the model's functions to the function registry.
func (m *Manager) register(ctx *sql.Context, md *Model) error {
	var done []string
	for _, f := range md.functions() {
		if err := m.funcs.Register(ctx, md.DB, m.function(md, f.name, f.out)); err != nil {
			for _, d := range done {
				m.funcs.Drop(md.DB, d)
			}
			return fmt.Errorf("FUNCTION %s.%s: %w", md.DB, f.name, err)
		}
		done = append(done, f.name)
	}
	return nil
}

func (m *Manager) unregister(md *Model) {
	for _, fn := range md.Functions() {
		m.funcs.Drop(md.DB, fn)
	}
}

// resultType is the SQL type a function of md returns.
func (md *Model) resultType(out output) sql.Type {
	if out == outPredict && md.Returns != "" {
		if t, err := mlfunc.ParseType(md.Returns); err == nil {
			return t
		}
	}
	switch {
	case out == outExplain, out == outProb && md.Problem == model.Multiclass:
		return types.JSON
	case out == outProb:
		return types.Float64
	case md.Problem == model.Clustering:
		return types.Int64
	case md.Recommend != nil:
		return types.Float64
	case md.Problem.Classification():
		if t, err := mlfunc.ParseType(md.TargetType); err == nil {
			return t
		}
		return types.LongText
	}
	return types.Float64
}

func (m *Manager) function(md *Model, name string, out output) sql.Function {
	typ := md.resultType(out)
	return sql.FunctionN{Name: name, Fn: func(args ...sql.Expression) (sql.Expression, error) {
		if len(args) != len(md.Params) {
			return nil, mysql.NewSQLError(1318, mysql.SSClientError,
				"Incorrect number of arguments for FUNCTION %s.%s; expected %d, got %d", md.DB, name, len(md.Params), len(args))
		}
		// One invoker per call in a plan, bound to the version deployed
		// when the statement was planned: the operators above may read
		// all their input (a sort, SLEEPs) before the first row is
		// scored, and a deployment meanwhile must not switch versions
		// for this statement.
		inv := &invoker{m: m, md: md, name: name, out: out, boundPid: unboundPid}
		inv.bound, _ = m.predictor(md)
		return exec.NewFuncCall(inv, args, typ, exec.FuncCallOptions{}), nil
	}}
}

// invoker evaluates one of a model's functions in-process.
type invoker struct {
	m    *Manager
	md   *Model
	name string
	out  output

	// version, when not 0, is the version this call always uses
	// (sibyl_predict); 0 follows the deployed version.
	version int

	// mu guards the binding: the predictor a statement (pid) resolved
	// when it first used the function. A plan is run by one statement at
	// a time (a prepared statement's plan by its executions in turn), so
	// one binding per invoker suffices, and a deployment while a
	// statement runs does not change the version it scores with.
	mu       sync.Mutex
	boundPid uint64
	bound    *model.Predictor

	booster    *xgb.Booster
	boosterArt *model.Artifact
	boosterErr error
}

// unboundPid marks a binding made when the plan was built, before the
// executing statement's pid is known.
const unboundPid = ^uint64(0)

// bind returns the predictor this statement scores with, resolving it at
// the statement's first use.
func (i *invoker) bind(ctx *sql.Context) (*model.Predictor, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.bound != nil && (i.boundPid == ctx.Pid() || i.boundPid == unboundPid) {
		// The version bound when the plan was built serves its first
		// execution; a later execution of the same plan (a prepared
		// statement) resolves the deployed version again.
		i.boundPid = ctx.Pid()
		return i.bound, nil
	}
	p, err := i.m.VersionPredictor(i.md, i.version)
	if errors.Is(err, ErrNoVersion) || (i.version != 0 && errors.Is(err, ErrNotReady)) {
		return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "Incorrect arguments to sibyl_predict: %s", err.Error())
	}
	if err != nil {
		return nil, err
	}
	i.bound, i.boundPid = p, ctx.Pid()
	return p, nil
}

var (
	_ exec.Invoker    = (*invoker)(nil)
	_ exec.Authorizer = (*invoker)(nil)
)

func (i *invoker) Key() string {
	return fmt.Sprintf("model:%s:%s:v%d", i.md.key(), i.name, i.version)
}
func (i *invoker) Name() string     { return i.name }
func (i *invoker) MaxBatch() int    { return predictBatch }
func (i *invoker) Concurrency() int { return runtime.GOMAXPROCS(0) }

// Authorize implements exec.Authorizer: the model must be ready and the
// session allowed to use it.
func (i *invoker) Authorize(ctx *sql.Context) error {
	if _, err := i.bind(ctx); err != nil {
		return err
	}
	if i.m.Authorize != nil {
		return i.m.Authorize(ctx, i.md)
	}
	return nil
}

// predictor returns a ready model's compiled predictor.
func (m *Manager) predictor(md *Model) (*model.Predictor, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	switch md.State {
	case Ready:
		return md.predictor, nil
	case Training:
		return nil, mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState,
			"Model '%s' is not ready: it is still training (%s)", md.Name, md.Progress())
	}
	return nil, mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState,
		"Model '%s' is not ready: training failed: %s", md.Name, md.Reason)
}

// Invoke implements exec.Invoker.
func (i *invoker) Invoke(ctx *sql.Context, rows [][]any) ([]any, error) {
	if i.md.Recommend != nil {
		return i.recommendScores(ctx, rows)
	}
	p, err := i.bind(ctx)
	if err != nil {
		return nil, err
	}
	if i.out == outExplain {
		return i.explain(p, rows)
	}
	res := make([]any, len(rows))
	if p.Batched() {
		all, err := p.ScoresBatch(rows)
		if err != nil {
			return nil, fmt.Errorf("model '%s': %w", i.md.Name, err)
		}
		for r, scores := range all {
			res[r] = value(p, i.out, scores)
		}
		i.observe(p, rows, res)
		return res, nil
	}
	// Pure-Go models: one row at a time, reusing the scratch space.
	x := make([]float64, p.Width())
	scores := make([]float64, p.NumOutputs())
	for r, row := range rows {
		if res[r], err = result(p, i.out, row, x, scores); err != nil {
			return nil, fmt.Errorf("model '%s': %w", i.md.Name, err)
		}
	}
	i.observe(p, rows, res)
	return res, nil
}

// observe samples a scored batch for drift; the prediction's distribution
// is known from the prediction function's results only.
func (i *invoker) observe(p *model.Predictor, rows [][]any, res []any) {
	if i.out != outPredict {
		res = nil
	}
	i.m.observe(i.md, p, rows, res)
}

// recommendScores is a recommendation model's function: the score of
// (user, item), NULL for a user or item the model never saw.
func (i *invoker) recommendScores(ctx *sql.Context, rows [][]any) ([]any, error) {
	rec, err := i.m.Recommender(ctx, i.md)
	if err != nil {
		return nil, err
	}
	res := make([]any, len(rows))
	for r, row := range rows {
		if s, ok := rec.Score(row[0], row[1]); ok {
			res[r] = s
		}
	}
	return res, nil
}

// result evaluates one row for a function returning out; x and scores are
// scratch space of the predictor's width and output count.
func result(p *model.Predictor, out output, row []any, x, scores []float64) (any, error) {
	if err := p.Scores(row, x, scores); err != nil {
		return nil, err
	}
	return value(p, out, scores), nil
}

// value is the SQL value of a function returning out, from a row's raw
// scores.
func value(p *model.Predictor, out output, scores []float64) any {
	a := p.Artifact
	switch {
	case out == outProb && a.Problem == model.Binary:
		return scores[0]
	case out == outProb:
		probs := make(map[string]any, len(a.Classes))
		for k, c := range a.Classes {
			probs[c] = scores[k]
		}
		return types.JSONDocument{Val: probs}
	case a.Problem.Classification():
		return a.Classes[p.Class(scores)]
	case a.Problem == model.Clustering:
		return int64(scores[0])
	case math.IsNaN(scores[0]) || math.IsInf(scores[0], 0):
		return nil
	}
	return scores[0]
}

// explain returns per-row contributions of each input column, summed over
// its encoded columns, plus the bias: TreeSHAP values (XGBoost, computed
// by libxgboost once per batch) or coefficient x standardised value
// (linear models), on the margin (log-odds) scale for classifiers.
func (i *invoker) explain(p *model.Predictor, rows [][]any) ([]any, error) {
	a := p.Artifact
	names := a.Encoder.Features
	owners := a.Encoder.Owners()
	w := p.Width()
	res := make([]any, len(rows))
	x := make([]float64, w)
	switch a.Algorithm {
	case model.XGBoost:
		i.mu.Lock()
		if i.boosterArt != a {
			i.booster, i.boosterErr = xgb.Load(a.XGBoost)
			i.boosterArt = a
		}
		booster, boosterErr := i.booster, i.boosterErr
		i.mu.Unlock()
		if boosterErr != nil {
			return nil, boosterErr
		}
		mat := xgb.Matrix{Data: make([]float32, len(rows)*w), Rows: len(rows), Cols: w}
		for r, row := range rows {
			if err := a.Encoder.Encode(row, x); err != nil {
				return nil, err
			}
			for j, v := range x {
				mat.Data[r*w+j] = float32(v)
			}
		}
		contrib, _, err := booster.Contributions(mat)
		if err != nil {
			return nil, err
		}
		groups := len(contrib) / (len(rows) * (w + 1))
		for r := range rows {
			doc := map[string]any{}
			sums := make([]float64, len(names))
			bias := 0.0
			for g := 0; g < groups; g++ {
				// Multiclass: explain the predicted class.
				base := (r*groups + g) * (w + 1)
				if groups > 1 {
					out := make([]float64, p.NumOutputs())
					_ = p.Scores(rows[r], x, out)
					if g != p.Class(out) {
						continue
					}
				}
				for j := 0; j < w; j++ {
					sums[owners[j]] += float64(contrib[base+j])
				}
				bias += float64(contrib[base+w])
			}
			for k, f := range names {
				doc[f.Name] = sums[k]
			}
			doc["bias"] = bias
			res[r] = types.JSONDocument{Val: doc}
		}
	case model.LinearLearner:
		for r, row := range rows {
			if err := a.Encoder.Encode(row, x); err != nil {
				return nil, err
			}
			out := make([]float64, p.NumOutputs())
			p.Scores(row, x, out)
			k := 0
			if len(a.Linear.Weights) > 1 {
				k = p.Class(out)
			}
			sums := make([]float64, len(names))
			for j, v := range x {
				sums[owners[j]] += a.Linear.Weights[k][j] * v
			}
			doc := map[string]any{"bias": a.Linear.Bias[k]}
			for n, f := range names {
				doc[f.Name] = sums[n]
			}
			res[r] = types.JSONDocument{Val: doc}
		}
	default:
		return nil, fmt.Errorf("%s models have no per-row explanation (EXPLAIN_MODEL gives no importances for them either)", strings.ToLower(a.Algorithm))
	}
	return res, nil
}

// Explanation is EXPLAIN_MODEL's result in Redshift ML's shape.
func (m *Manager) Explanation(md *Model) (string, error) {
	p, err := m.predictor(md)
	if err != nil {
		return "", err
	}
	shap := map[string]float64{}
	for _, imp := range p.Artifact.Importance {
		shap[imp.Feature] = imp.Value
	}
	doc := map[string]any{
		"version": "1.0",
		"explanations": map[string]any{
			"kernel_shap": map[string]any{
				"label0": map[string]any{"global_shap_values": shap},
			},
		},
		"algorithm": p.Artifact.Algorithm,
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
