// Package automl turns a table and a target column into a trained model
// with no ML expertise from the user, as Redshift ML's CREATE MODEL does
// with SageMaker Autopilot, but in-process: infer the problem type, split
// off validation rows, preprocess, try several algorithms and settings,
// pick the best by the objective, refit on all rows and explain the result.
package automl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// Dataset is training data: feature columns and, for supervised problems,
// the target values.
type Dataset struct {
	Features []model.Feature // Name, Type and Kind of each feature column
	Rows     [][]any         // one value per feature
	Target   []any           // one value per row; nil for unsupervised models
	// TargetName and TargetNumeric describe the target column.
	TargetName    string
	TargetNumeric bool
}

// Options are CREATE MODEL's choices; zero values mean "decide".
type Options struct {
	// Auto searches algorithms and settings (AUTO ON); off trains
	// ModelType once with Hyperparameters.
	Auto      bool
	ModelType string
	Problem   model.Problem
	// Objective is the AutoML metric (AUTO ON) or the XGBoost objective
	// (AUTO OFF, MODEL_TYPE XGBOOST).
	Objective       string
	Hyperparameters map[string]string // lower-case keys
	// Algorithms, when set, restricts the AUTO search to candidates of
	// these algorithms (HeatWave's model_list).
	Algorithms []string
	Seed       int64
	// Progress reports the fraction of the search done.
	Progress func(fraction float64, stage string)
	// Step, if set, reports the search by candidate: done of total
	// candidates trained; refit is true while the chosen one is refitted
	// on all rows.
	Step func(done, total int, refit bool)
}

// Candidate is one trained-and-scored configuration of the search.
type Candidate struct {
	Algorithm string  `json:"algorithm"`
	Params    string  `json:"params"`
	Score     float64 `json:"score"`
	Seconds   float64 `json:"seconds"`
	Error     string  `json:"error,omitempty"`
}

// Report describes a training run.
type Report struct {
	Problem     model.Problem `json:"problem_type"`
	Objective   string        `json:"objective"`
	Score       float64       `json:"validation_score"`
	Chosen      string        `json:"chosen"`
	Leaderboard []Candidate   `json:"leaderboard"`
	TrainRows   int           `json:"train_rows"`
	ValidRows   int           `json:"validation_rows"`
	// Validation is what the chosen candidate answered on the validation
	// rows, kept for the console's plots (ROC, confusion matrix,
	// residuals). It is recorded while training because it cannot be
	// recomputed afterwards: the model kept is refitted on all rows, so
	// scoring it on the validation rows again would flatter it.
	Validation *Validation `json:"validation,omitempty"`
}

// MaxValidationRows bounds the rows a Validation keeps, evenly sampled, and
// maxValidationValues the numbers it keeps (a classifier keeps one per
// class and row), so the report stays small in the catalog.
const (
	MaxValidationRows   = 1000
	maxValidationValues = 50000
)

// Validation is a sample of a model's outputs for plotting.
type Validation struct {
	// Actual is each row's label: the class index into Classes, or the
	// value for regression.
	Actual []float64 `json:"actual,omitempty"`
	// Outputs are the model's raw outputs per row (model.Predictor.Scores):
	// the value, P(Classes[1]) or the class probabilities.
	Outputs [][]float64 `json:"outputs,omitempty"`
	Classes []string    `json:"classes,omitempty"`
	// ClusterSizes counts the training rows per KMEANS cluster.
	ClusterSizes []int `json:"cluster_sizes,omitempty"`
	// Scores are RANDOM_CUT_FOREST anomaly scores of (a sample of) the
	// training rows, and Threshold the score above which a row is
	// anomalous by the usual rule for RCF, mean + 3 standard deviations.
	Scores    []float64 `json:"scores,omitempty"`
	Threshold float64   `json:"threshold,omitempty"`
}

// sample returns up to MaxValidationRows positions of n, evenly spread.
func sample(n int) []int { return sampleUpTo(n, MaxValidationRows) }

// sampleUpTo returns up to limit positions of n, evenly spread.
func sampleUpTo(n, limit int) []int {
	if n <= limit {
		return all(n)
	}
	out := make([]int, limit)
	for i := range out {
		out[i] = i * n / limit
	}
	return out
}

// Errors the SQL layer reports as user errors.
var (
	ErrEmpty      = errors.New("the training query returned no rows")
	ErrFewRows    = errors.New("too few rows")
	ErrBadTarget  = errors.New("unsuitable target")
	ErrBadSetting = errors.New("invalid setting")
)

// MinRows is the least number of training rows supervised training takes.
const MinRows = 10

// Prepare checks a dataset and decides the problem type, so that CREATE
// MODEL can report bad input at once, before training starts.
func Prepare(ds *Dataset, opt Options) (model.Problem, []string, error) {
	if len(ds.Rows) == 0 {
		return "", nil, ErrEmpty
	}
	if len(ds.Features) == 0 {
		return "", nil, fmt.Errorf("%w: no feature columns besides the target", ErrBadSetting)
	}
	switch strings.ToUpper(opt.ModelType) {
	case model.KMeans:
		return model.Clustering, nil, nil
	case model.RandomCutForest:
		return model.Anomaly, nil, nil
	}
	if ds.Target == nil {
		return "", nil, fmt.Errorf("%w: TARGET is required for this model type", ErrBadSetting)
	}
	if len(ds.Rows) < MinRows {
		return "", nil, fmt.Errorf("%w: %d rows; training needs at least %d", ErrFewRows, len(ds.Rows), MinRows)
	}
	counts := map[string]int{}
	allNumbers, allIntegers, nulls := true, true, 0
	for _, v := range ds.Target {
		if v == nil {
			nulls++
			continue
		}
		counts[model.Label(v)]++
		f, ok := model.Float(v)
		if !ok || !ds.TargetNumeric {
			allNumbers, allIntegers = false, false
		} else if f != math.Trunc(f) {
			allIntegers = false
		}
	}
	if nulls == len(ds.Target) {
		return "", nil, fmt.Errorf("%w: target '%s' is NULL in every row", ErrBadTarget, ds.TargetName)
	}
	p := opt.Problem
	if p == "" {
		switch {
		case len(counts) == 2:
			p = model.Binary
		case !allNumbers:
			p = model.Multiclass
		case allIntegers && len(counts) <= 10:
			p = model.Multiclass
		default:
			p = model.Regression
		}
	}
	if opt.Auto {
		if _, err := objectiveFor(opt.Objective, p); err != nil {
			return "", nil, fmt.Errorf("%w: %v", ErrBadSetting, err)
		}
	}
	if p == model.Regression {
		if !allNumbers {
			return "", nil, fmt.Errorf("%w: PROBLEM_TYPE REGRESSION needs a numeric target; '%s' is not numeric", ErrBadTarget, ds.TargetName)
		}
		return p, nil, nil
	}
	if len(counts) < 2 {
		return "", nil, fmt.Errorf("%w: target '%s' has only one class", ErrBadTarget, ds.TargetName)
	}
	if p == model.Binary && len(counts) != 2 {
		return "", nil, fmt.Errorf("%w: BINARY_CLASSIFICATION needs exactly 2 classes; '%s' has %d", ErrBadTarget, ds.TargetName, len(counts))
	}
	if len(counts) > 1000 {
		return "", nil, fmt.Errorf("%w: target '%s' has %d classes (at most 1000)", ErrBadTarget, ds.TargetName, len(counts))
	}
	classes := make([]string, 0, len(counts))
	for c, n := range counts {
		if n < 2 {
			return "", nil, fmt.Errorf("%w: class '%s' of target '%s' has %d row; every class needs at least 2", ErrFewRows, c, ds.TargetName, n)
		}
		classes = append(classes, c)
	}
	sortLabels(classes, allNumbers)
	return p, classes, nil
}

// sortLabels orders class labels numerically when they are numbers, so
// that for 0/1 targets class 1 is the positive one.
func sortLabels(classes []string, numeric bool) {
	sort.Slice(classes, func(i, j int) bool {
		if numeric {
			a, _ := strconv.ParseFloat(classes[i], 64)
			b, _ := strconv.ParseFloat(classes[j], 64)
			return a < b
		}
		return classes[i] < classes[j]
	})
}

// Train fits a model. ctx bounds it (MAX_RUNTIME): when the deadline hits
// after at least one candidate was scored, the best so far is refitted
// and returned.
func Train(ctx context.Context, ds *Dataset, opt Options) (*model.Artifact, *Report, error) {
	p, classes, err := Prepare(ds, opt)
	if err != nil {
		return nil, nil, err
	}
	if p == model.Clustering || p == model.Anomaly {
		return trainUnsupervised(ctx, ds, p, opt)
	}
	// Rows with a NULL target teach nothing.
	rows, target := make([][]any, 0, len(ds.Rows)), make([]float64, 0, len(ds.Rows))
	classIndex := map[string]int{}
	for i, c := range classes {
		classIndex[c] = i
	}
	for i, v := range ds.Target {
		if v == nil {
			continue
		}
		if p == model.Regression {
			f, _ := model.Float(v)
			target = append(target, f)
		} else {
			target = append(target, float64(classIndex[model.Label(v)]))
		}
		rows = append(rows, ds.Rows[i])
	}
	t := &trainer{ds: ds, rows: rows, y: target, problem: p, classes: classes, opt: opt,
		rng: rand.New(rand.NewSource(opt.Seed)), threads: runtime.GOMAXPROCS(0)}
	t.split()
	if t.trees, err = model.FitEncoder(ds.Features, rows, false); err != nil {
		return nil, nil, err
	}
	if t.scaled, err = model.FitEncoder(ds.Features, rows, true); err != nil {
		return nil, nil, err
	}
	var cands []candidate
	if opt.Auto {
		if t.objective, err = objectiveFor(opt.Objective, p); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrBadSetting, err)
		}
		cands = t.searchSpace()
		if len(opt.Algorithms) > 0 {
			kept := cands[:0]
			for _, c := range cands {
				for _, a := range opt.Algorithms {
					if strings.EqualFold(c.algorithm, a) {
						kept = append(kept, c)
						break
					}
				}
			}
			if len(kept) == 0 {
				return nil, nil, fmt.Errorf("%w: no candidate of the algorithms %v fits this data", ErrBadSetting, opt.Algorithms)
			}
			cands = kept
		}
	} else {
		t.objective = defaultObjective(p)
		c, err := t.fixed(opt)
		if err != nil {
			return nil, nil, err
		}
		cands = []candidate{c}
	}
	return t.run(ctx, cands)
}

type trainer struct {
	ds        *Dataset
	rows      [][]any
	y         []float64
	problem   model.Problem
	classes   []string
	opt       Options
	objective Objective
	rng       *rand.Rand
	threads   int

	trainIdx, validIdx []int
	trees, scaled      *model.Encoder
}

// split holds out 20% of rows (stratified by class) for validation.
func (t *trainer) split() {
	groups := map[int][]int{}
	for i, y := range t.y {
		g := 0
		if t.problem != model.Regression {
			g = int(y)
		}
		groups[g] = append(groups[g], i)
	}
	keys := make([]int, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		idx := groups[k]
		t.rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		nv := int(math.Round(float64(len(idx)) * 0.2))
		if nv == 0 && len(idx) > 1 {
			nv = 1
		}
		t.validIdx = append(t.validIdx, idx[:nv]...)
		t.trainIdx = append(t.trainIdx, idx[nv:]...)
	}
	sort.Ints(t.trainIdx)
	sort.Ints(t.validIdx)
}

// candidate is one configuration to try: fit trains it on the given rows
// (validation rows may steer early stopping) and returns a model whose
// refit, on all rows, reproduces the configuration.
type candidate struct {
	algorithm string
	params    string
	fit       func(ctx context.Context, train, valid []int) (fitted, error)
}

// fitted is a trained candidate.
type fitted struct {
	artifact *model.Artifact
	// refit trains the same configuration on all rows (nil: keep this
	// model, e.g. when its training already used a validation split).
	refit func(ctx context.Context) (*model.Artifact, error)
}

func (t *trainer) run(ctx context.Context, cands []candidate) (*model.Artifact, *Report, error) {
	rep := &Report{Problem: t.problem, Objective: t.objective.Name, TrainRows: len(t.trainIdx), ValidRows: len(t.validIdx), Score: math.NaN()}
	var best *fitted
	bestScore := math.NaN()
	for i, c := range cands {
		if ctx.Err() != nil && best != nil {
			break
		}
		t.progress(float64(i)/float64(len(cands)+1), "training "+c.algorithm)
		t.step(i, len(cands), false)
		start := time.Now()
		f, err := c.fit(ctx, t.trainIdx, t.validIdx)
		entry := Candidate{Algorithm: c.algorithm, Params: c.params, Seconds: time.Since(start).Seconds(), Score: math.NaN()}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, nil, err
			}
			entry.Error = err.Error()
			rep.Leaderboard = append(rep.Leaderboard, entry)
			continue
		}
		score, kept, err := t.validate(f.artifact)
		if err != nil {
			entry.Error = err.Error()
		}
		entry.Score = score
		rep.Leaderboard = append(rep.Leaderboard, entry)
		if err == nil && (best == nil || t.objective.better(score, bestScore)) {
			ff := f
			best, bestScore = &ff, score
			rep.Chosen = c.algorithm + " " + c.params
			rep.Validation = kept
		}
	}
	if best == nil {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("no candidate finished within MAX_RUNTIME: %w", err)
		}
		msgs := []string{}
		for _, c := range rep.Leaderboard {
			msgs = append(msgs, c.Algorithm+": "+c.Error)
		}
		return nil, nil, fmt.Errorf("every candidate failed: %s", strings.Join(msgs, "; "))
	}
	rep.Score = bestScore
	art := best.artifact
	if best.refit != nil && ctx.Err() == nil {
		t.progress(float64(len(cands))/float64(len(cands)+1), "refitting on all rows")
		t.step(len(cands), len(cands), true)
		if a, err := best.refit(ctx); err == nil {
			art = a
		} else if errors.Is(err, context.Canceled) {
			return nil, nil, err
		}
	}
	sort.SliceStable(rep.Leaderboard, func(i, j int) bool {
		return t.objective.better(rep.Leaderboard[i].Score, rep.Leaderboard[j].Score)
	})
	art.Importance = t.importance(art)
	t.progress(1, "done")
	return art, rep, nil
}

func (t *trainer) step(done, total int, refit bool) {
	if t.opt.Step != nil {
		t.opt.Step(done, total, refit)
	}
}

func (t *trainer) progress(f float64, stage string) {
	if t.opt.Progress != nil {
		t.opt.Progress(f, stage)
	}
}

// validate scores an artifact on the validation rows, returning with the
// score a sample of its outputs for the report.
func (t *trainer) validate(a *model.Artifact) (float64, *Validation, error) {
	pred, err := a.Compile()
	if err != nil {
		return math.NaN(), nil, err
	}
	x := make([]float64, pred.Width())
	outs := make([][]float64, len(t.validIdx))
	y := make([]float64, len(t.validIdx))
	for k, i := range t.validIdx {
		outs[k] = make([]float64, pred.NumOutputs())
		if err := pred.Scores(t.rows[i], x, outs[k]); err != nil {
			return math.NaN(), nil, err
		}
		y[k] = t.y[i]
	}
	s := t.objective.score(y, outs, t.problem)
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return s, nil, errors.New("validation score is not a number")
	}
	v := &Validation{Classes: t.classes}
	limit := MaxValidationRows
	if w := pred.NumOutputs() + 1; w*limit > maxValidationValues {
		limit = max(1, maxValidationValues/w)
	}
	for _, k := range sampleUpTo(len(y), limit) {
		v.Actual = append(v.Actual, y[k])
		v.Outputs = append(v.Outputs, outs[k])
	}
	return s, v, nil
}

// artifact starts an artifact for this problem with encoder e.
func (t *trainer) artifact(algorithm string, e *model.Encoder) *model.Artifact {
	a := &model.Artifact{Algorithm: algorithm, Problem: t.problem, Encoder: *e}
	if t.problem.Classification() {
		a.Classes = t.classes
	}
	return a
}

// matrix encodes the rows idx with e.
func (t *trainer) matrix(e *model.Encoder, idx []int) [][]float64 {
	out := make([][]float64, len(idx))
	w := e.Width()
	for k, i := range idx {
		out[k] = make([]float64, w)
		_ = e.Encode(t.rows[i], out[k])
	}
	return out
}

func (t *trainer) labels(idx []int) []float64 {
	out := make([]float64, len(idx))
	for k, i := range idx {
		out[k] = t.y[i]
	}
	return out
}

func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
