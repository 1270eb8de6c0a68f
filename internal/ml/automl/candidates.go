package automl

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sibyldb/sibyldb/internal/ml/kmeans"
	"github.com/sibyldb/sibyldb/internal/ml/linear"
	"github.com/sibyldb/sibyldb/internal/ml/mlp"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/rcf"
	"github.com/sibyldb/sibyldb/internal/ml/xgb"
)

// xgbConfig is one XGBoost configuration.
type xgbConfig struct {
	params    [][2]string
	rounds    int
	earlyStop int
}

func (c xgbConfig) String() string {
	parts := []string{}
	for _, p := range c.params {
		parts = append(parts, p[0]+"="+p[1])
	}
	s := fmt.Sprintf("num_round=%d", c.rounds)
	if c.earlyStop > 0 {
		s += fmt.Sprintf(" early_stopping_rounds=%d", c.earlyStop)
	}
	return strings.Join(append(parts, s), " ")
}

// searchSpace is the AUTO ON search: XGBoost's library defaults (so the
// result is never worse than an untuned XGBoost on the validation rows),
// three tuned XGBoost settings with early stopping, a regularised linear
// model and, for data small enough to train quickly, a neural network.
func (t *trainer) searchSpace() []candidate {
	hist := [2]string{"tree_method", "hist"}
	cs := []candidate{
		t.xgboost(xgbConfig{rounds: 100}),
		t.xgboost(xgbConfig{params: [][2]string{hist, {"eta", "0.1"}, {"max_depth", "6"}, {"subsample", "0.8"}, {"colsample_bytree", "0.8"}}, rounds: 1000, earlyStop: 30}),
		t.xgboost(xgbConfig{params: [][2]string{hist, {"eta", "0.05"}, {"max_depth", "4"}, {"min_child_weight", "1"}}, rounds: 2000, earlyStop: 50}),
		t.xgboost(xgbConfig{params: [][2]string{hist, {"eta", "0.05"}, {"max_depth", "8"}, {"subsample", "0.7"}, {"colsample_bytree", "0.7"}, {"min_child_weight", "3"}}, rounds: 2000, earlyStop: 50}),
		t.linear(1e-2),
	}
	if len(t.rows) <= maxForestRows {
		cs = append(cs, t.forest("0.33"), t.forest("0.6"))
	}
	if len(t.rows)*t.scaled.Width() <= 4_000_000 {
		cs = append(cs, t.mlp(mlp.Config{Hidden: []int{64, 32}, Epochs: 200, BatchSize: 64, LearningRate: 1e-3, L2: 1e-4, Seed: t.opt.Seed, ValidationFraction: 0.1, Patience: 10}))
	}
	return cs
}

// maxForestRows bounds the data random forests are tried on: their deep
// trees grow with the rows, and so would the stored model; on large data
// boosting wins anyway.
const maxForestRows = 10000

// forest is a random forest (XGBoost's num_parallel_tree, one round) of
// deep trees over bootstrap-sized samples, each split choosing among a
// fraction of the columns. On small, noisy data it often beats boosting.
// Leaves keep at least rows/500 rows (2 at least), which bounds each tree
// to about a thousand nodes and the stored model to about 10 MB.
func (t *trainer) forest(columns string) candidate {
	minChild := strconv.Itoa(max(2, len(t.trainIdx)/500))
	return t.xgboost(xgbConfig{params: [][2]string{{"tree_method", "hist"}, {"num_parallel_tree", "150"}, {"eta", "1"}, {"max_depth", "16"},
		{"subsample", "0.632"}, {"colsample_bynode", columns}, {"min_child_weight", minChild}, {"lambda", "1e-5"}}, rounds: 1})
}

// fixed is the single configuration AUTO OFF trains.
func (t *trainer) fixed(opt Options) (candidate, error) {
	hp := opt.Hyperparameters
	switch strings.ToUpper(opt.ModelType) {
	case model.XGBoost, "":
		if opt.ModelType == "" {
			return candidate{}, fmt.Errorf("%w: AUTO OFF needs MODEL_TYPE", ErrBadSetting)
		}
		c := xgbConfig{rounds: 100}
		if opt.Objective != "" {
			obj := strings.ToLower(opt.Objective)
			if err := t.checkXGBObjective(obj); err != nil {
				return candidate{}, err
			}
			c.params = append(c.params, [2]string{"objective", obj})
		}
		keys := sortedKeys(hp)
		for _, k := range keys {
			v := hp[k]
			switch k {
			case "num_round":
				n, err := strconv.Atoi(v)
				if err != nil || n <= 0 || n > 100000 {
					return candidate{}, fmt.Errorf("%w: NUM_ROUND '%s' must be an integer in 1..100000", ErrBadSetting, v)
				}
				c.rounds = n
			case "early_stopping_rounds":
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return candidate{}, fmt.Errorf("%w: EARLY_STOPPING_ROUNDS '%s' must be a non-negative integer", ErrBadSetting, v)
				}
				c.earlyStop = n
			default:
				if !xgbHyperparameters[k] {
					return candidate{}, fmt.Errorf("%w: unknown XGBOOST hyperparameter '%s'", ErrBadSetting, strings.ToUpper(k))
				}
				if _, err := strconv.ParseFloat(v, 64); err != nil {
					return candidate{}, fmt.Errorf("%w: hyperparameter %s '%s' is not a number", ErrBadSetting, strings.ToUpper(k), v)
				}
				c.params = append(c.params, [2]string{k, v})
			}
		}
		return t.xgboost(c), nil
	case model.LinearLearner:
		l2 := 1e-2
		for k, v := range hp {
			if k != "wd" && k != "l2" {
				return candidate{}, fmt.Errorf("%w: unknown LINEAR_LEARNER hyperparameter '%s' (use WD)", ErrBadSetting, strings.ToUpper(k))
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return candidate{}, fmt.Errorf("%w: WD '%s' must be a non-negative number", ErrBadSetting, v)
			}
			l2 = f
		}
		return t.linear(l2), nil
	case model.MLP:
		cfg := mlp.Config{Hidden: []int{64, 32}, Epochs: 200, BatchSize: 64, LearningRate: 1e-3, L2: 1e-4, Seed: t.opt.Seed, ValidationFraction: 0.1, Patience: 10}
		for k, v := range hp {
			var err error
			switch k {
			case "hidden_layers":
				cfg.Hidden = nil
				for _, s := range strings.Split(v, ",") {
					n, e := strconv.Atoi(strings.TrimSpace(s))
					if e != nil || n <= 0 || n > 4096 {
						err = e
						if err == nil {
							err = fmt.Errorf("bad size")
						}
						break
					}
					cfg.Hidden = append(cfg.Hidden, n)
				}
			case "epochs":
				cfg.Epochs, err = strconv.Atoi(v)
			case "learning_rate":
				cfg.LearningRate, err = strconv.ParseFloat(v, 64)
			case "mini_batch_size":
				cfg.BatchSize, err = strconv.Atoi(v)
			default:
				return candidate{}, fmt.Errorf("%w: unknown MLP hyperparameter '%s' (use HIDDEN_LAYERS, EPOCHS, LEARNING_RATE, MINI_BATCH_SIZE)", ErrBadSetting, strings.ToUpper(k))
			}
			if err != nil {
				return candidate{}, fmt.Errorf("%w: MLP hyperparameter %s '%s': %v", ErrBadSetting, strings.ToUpper(k), v, err)
			}
		}
		return t.mlp(cfg), nil
	}
	return candidate{}, fmt.Errorf("%w: MODEL_TYPE %s cannot be trained with a TARGET (use XGBOOST, LINEAR_LEARNER or MLP)", ErrBadSetting, opt.ModelType)
}

// xgbHyperparameters are the XGBoost parameters HYPERPARAMETERS accepts.
var xgbHyperparameters = map[string]bool{
	"eta": true, "max_depth": true, "min_child_weight": true, "subsample": true, "colsample_bytree": true,
	"colsample_bylevel": true, "gamma": true, "alpha": true, "lambda": true, "max_delta_step": true,
	"scale_pos_weight": true, "max_bin": true,
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (t *trainer) checkXGBObjective(obj string) error {
	ok := map[model.Problem][]string{
		model.Regression: {"reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror", "count:poisson", "reg:gamma", "reg:tweedie"},
		model.Binary:     {"binary:logistic"},
		model.Multiclass: {"multi:softprob", "multi:softmax"},
	}[t.problem]
	for _, o := range ok {
		if o == obj {
			return nil
		}
	}
	return fmt.Errorf("%w: OBJECTIVE '%s' does not fit %s (use %s)", ErrBadSetting, obj, t.problem, strings.Join(ok, ", "))
}

// xgbObjective is the learning objective and early-stopping metric.
func (t *trainer) xgbObjective() [][2]string {
	switch t.problem {
	case model.Binary:
		return [][2]string{{"objective", "binary:logistic"}, {"eval_metric", "logloss"}}
	case model.Multiclass:
		return [][2]string{{"objective", "multi:softprob"}, {"num_class", strconv.Itoa(len(t.classes))}, {"eval_metric", "mlogloss"}}
	}
	return [][2]string{{"objective", "reg:squarederror"}, {"eval_metric", "rmse"}}
}

func (t *trainer) xgbMatrix(idx []int) (xgb.Matrix, []float32) {
	w := t.trees.Width()
	m := xgb.Matrix{Data: make([]float32, len(idx)*w), Rows: len(idx), Cols: w}
	x := make([]float64, w)
	y := make([]float32, len(idx))
	for k, i := range idx {
		_ = t.trees.Encode(t.rows[i], x)
		for j, v := range x {
			m.Data[k*w+j] = float32(v)
		}
		y[k] = float32(t.y[i])
	}
	return m, y
}

func (t *trainer) xgboost(c xgbConfig) candidate {
	params := append(t.xgbObjective(), [2]string{"nthread", strconv.Itoa(t.threads)}, [2]string{"seed", strconv.FormatInt(t.opt.Seed, 10)})
	params = append(params, c.params...) // user settings win: XGBoost keeps the last value set
	train := func(ctx context.Context, trainIdx, validIdx []int, rounds, earlyStop int) (*xgb.Result, error) {
		m, y := t.xgbMatrix(trainIdx)
		cfg := xgb.TrainConfig{Params: params, Rounds: rounds, EarlyStoppingRounds: earlyStop}
		if len(validIdx) == 0 || earlyStop == 0 {
			cfg.EarlyStoppingRounds = 0
			return xgb.Train(ctx, m, y, nil, nil, nil, cfg)
		}
		vm, vy := t.xgbMatrix(validIdx)
		return xgb.Train(ctx, m, y, nil, &vm, vy, cfg)
	}
	return candidate{algorithm: model.XGBoost, params: c.String(), fit: func(ctx context.Context, trainIdx, validIdx []int) (fitted, error) {
		res, err := train(ctx, trainIdx, validIdx, c.rounds, c.earlyStop)
		if err != nil {
			return fitted{}, err
		}
		a := t.artifact(model.XGBoost, t.trees)
		a.XGBoost = res.Model
		rounds := c.rounds
		if c.earlyStop > 0 {
			// Refit for as many rounds as validation found best, scaled
			// up for the extra rows.
			rounds = int(math.Ceil(float64(res.BestIteration+1) * 1.1))
		}
		return fitted{artifact: a, refit: func(ctx context.Context) (*model.Artifact, error) {
			res, err := train(ctx, all(len(t.rows)), nil, rounds, 0)
			if err != nil {
				return nil, err
			}
			a := t.artifact(model.XGBoost, t.trees)
			a.XGBoost = res.Model
			return a, nil
		}}, nil
	}}
}

func (t *trainer) linear(l2 float64) candidate {
	fit := func(ctx context.Context, idx []int) (*model.Artifact, error) {
		x := t.matrix(t.scaled, idx)
		var m *linear.Model
		var err error
		if t.problem == model.Regression {
			m, err = linear.FitRegression(ctx, x, t.labels(idx), l2)
		} else {
			y := make([]int, len(idx))
			for k, i := range idx {
				y[k] = int(t.y[i])
			}
			m, err = linear.FitLogistic(ctx, x, y, len(t.classes), l2, nil)
		}
		if err != nil {
			return nil, err
		}
		a := t.artifact(model.LinearLearner, t.scaled)
		a.Linear = m
		return a, nil
	}
	return candidate{algorithm: model.LinearLearner, params: fmt.Sprintf("wd=%g", l2), fit: func(ctx context.Context, trainIdx, _ []int) (fitted, error) {
		a, err := fit(ctx, trainIdx)
		if err != nil {
			return fitted{}, err
		}
		return fitted{artifact: a, refit: func(ctx context.Context) (*model.Artifact, error) { return fit(ctx, all(len(t.rows))) }}, nil
	}}
}

func (t *trainer) mlp(cfg mlp.Config) candidate {
	params := fmt.Sprintf("hidden_layers=%s epochs=%d learning_rate=%g", strings.Trim(strings.Join(strings.Fields(fmt.Sprint(cfg.Hidden)), ","), "[]"), cfg.Epochs, cfg.LearningRate)
	return candidate{algorithm: model.MLP, params: params, fit: func(ctx context.Context, trainIdx, _ []int) (fitted, error) {
		// The network holds out its own early-stopping rows, so the model
		// trained here is kept rather than refitted.
		x := t.matrix(t.scaled, trainIdx)
		var m *mlp.Model
		var err error
		if t.problem == model.Regression {
			m, err = mlp.FitRegression(ctx, x, t.labels(trainIdx), cfg)
		} else {
			y := make([]int, len(trainIdx))
			for k, i := range trainIdx {
				y[k] = int(t.y[i])
			}
			m, err = mlp.FitClassifier(ctx, x, y, len(t.classes), cfg)
		}
		if err != nil {
			return fitted{}, err
		}
		a := t.artifact(model.MLP, t.scaled)
		a.MLP = m
		return fitted{artifact: a}, nil
	}}
}

// trainUnsupervised fits KMEANS or RANDOM_CUT_FOREST on all rows.
func trainUnsupervised(ctx context.Context, ds *Dataset, p model.Problem, opt Options) (*model.Artifact, *Report, error) {
	enc, err := model.FitEncoder(ds.Features, ds.Rows, true)
	if err != nil {
		return nil, nil, err
	}
	x := make([][]float64, len(ds.Rows))
	for i, r := range ds.Rows {
		x[i] = make([]float64, enc.Width())
		_ = enc.Encode(r, x[i])
	}
	a := &model.Artifact{Problem: p, Encoder: *enc}
	rep := &Report{Problem: p, TrainRows: len(x), Score: math.NaN()}
	hp := opt.Hyperparameters
	intParam := func(key string, def, lo, hi int) (int, error) {
		v, ok := hp[key]
		if !ok {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%w: %s '%s' must be an integer in %d..%d", ErrBadSetting, strings.ToUpper(key), v, lo, hi)
		}
		return n, nil
	}
	if p == model.Clustering {
		for k := range hp {
			if k != "k" && k != "max_iterations" {
				return nil, nil, fmt.Errorf("%w: unknown KMEANS hyperparameter '%s' (use K)", ErrBadSetting, strings.ToUpper(k))
			}
		}
		if _, ok := hp["k"]; !ok {
			return nil, nil, fmt.Errorf("%w: KMEANS needs HYPERPARAMETERS DEFAULT EXCEPT (K 'n')", ErrBadSetting)
		}
		k, err := intParam("k", 0, 1, len(x))
		if err != nil {
			return nil, nil, err
		}
		iters, err := intParam("max_iterations", 100, 1, 10000)
		if err != nil {
			return nil, nil, err
		}
		if a.KMeans, err = kmeans.Fit(ctx, x, k, opt.Seed, iters); err != nil {
			return nil, nil, err
		}
		a.Algorithm = model.KMeans
		rep.Chosen = fmt.Sprintf("KMEANS k=%d", k)
		sizes := make([]int, k)
		for _, r := range x {
			if c, _ := a.KMeans.Predict(r); c >= 0 && c < k {
				sizes[c]++
			}
		}
		rep.Validation = &Validation{ClusterSizes: sizes}
		return a, rep, nil
	}
	for k := range hp {
		if k != "num_trees" && k != "num_samples_per_tree" {
			return nil, nil, fmt.Errorf("%w: unknown RANDOM_CUT_FOREST hyperparameter '%s' (use NUM_TREES, NUM_SAMPLES_PER_TREE)", ErrBadSetting, strings.ToUpper(k))
		}
	}
	trees, err := intParam("num_trees", 100, 1, 1000)
	if err != nil {
		return nil, nil, err
	}
	samples, err := intParam("num_samples_per_tree", 256, 2, 2048)
	if err != nil {
		return nil, nil, err
	}
	if a.RCF, err = rcf.Fit(ctx, x, rcf.Config{Trees: trees, SampleSize: samples, Seed: opt.Seed}); err != nil {
		return nil, nil, err
	}
	a.Algorithm = model.RandomCutForest
	rep.Chosen = fmt.Sprintf("RANDOM_CUT_FOREST num_trees=%d num_samples_per_tree=%d", trees, samples)
	rep.Validation = anomalyScores(a.RCF, x)
	return a, rep, nil
}

// importance is the global feature importance of a trained model, summed
// from encoded columns back to input columns, largest first: mean |SHAP|
// over up to 2000 rows for trees, |coefficient| for linear models on
// standardised inputs, and permutation importance (how much the validation
// score drops when a column's values are shuffled) for networks.
func (t *trainer) importance(a *model.Artifact) []model.Importance {
	owners := a.Encoder.Owners()
	sums := make([]float64, len(a.Encoder.Features))
	switch a.Algorithm {
	case model.XGBoost:
		n := len(t.rows)
		if n > 2000 {
			n = 2000
		}
		b, err := xgb.Load(a.XGBoost)
		if err != nil {
			return nil
		}
		defer b.Close()
		m, _ := t.xgbMatrix(all(n))
		contrib, shape, err := b.Contributions(m)
		if err != nil || len(shape) < 2 {
			return nil
		}
		stride := m.Cols + 1
		for r := 0; r < len(contrib)/stride; r++ {
			for j := 0; j < m.Cols; j++ {
				sums[owners[j]] += math.Abs(float64(contrib[r*stride+j]))
			}
		}
		for i := range sums {
			sums[i] /= float64(n)
		}
	case model.LinearLearner:
		for _, w := range a.Linear.Weights {
			for j, v := range w {
				sums[owners[j]] += math.Abs(v)
			}
		}
	default:
		sums = t.permutationImportance(a)
		if sums == nil {
			return nil
		}
	}
	out := make([]model.Importance, len(sums))
	for i, s := range sums {
		out[i] = model.Importance{Feature: a.Encoder.Features[i].Name, Value: s}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Value > out[j].Value })
	return out
}

// permutationImportance is, per input column, the drop in the validation
// objective when that column's values are shuffled among the validation
// rows (never negative).
func (t *trainer) permutationImportance(a *model.Artifact) []float64 {
	if len(t.validIdx) < 2 {
		return nil
	}
	base, _, err := t.validate(a)
	if err != nil {
		return nil
	}
	sums := make([]float64, len(a.Encoder.Features))
	saved := make([][]any, len(t.validIdx))
	for c := range a.Encoder.Features {
		for k, i := range t.validIdx {
			saved[k] = t.rows[i]
			row := append([]any(nil), t.rows[i]...)
			t.rows[i] = row
		}
		perm := t.rng.Perm(len(t.validIdx))
		for k, i := range t.validIdx {
			t.rows[i][c] = saved[perm[k]][c]
		}
		score, _, err := t.validate(a)
		for k, i := range t.validIdx {
			t.rows[i] = saved[k]
		}
		if err != nil {
			continue
		}
		drop := base - score
		if !t.objective.Higher {
			drop = score - base
		}
		sums[c] = math.Max(0, drop)
	}
	return sums
}

// anomalyScores scores a sample of the training rows with the forest and
// puts the anomaly threshold at mean + 3 standard deviations of the scores,
// the rule SageMaker's RANDOM_CUT_FOREST documentation gives.
func anomalyScores(f *rcf.Forest, x [][]float64) *Validation {
	v := &Validation{}
	var sum, sq float64
	for _, i := range sample(len(x)) {
		s := f.Score(x[i])
		v.Scores = append(v.Scores, s)
		sum += s
		sq += s * s
	}
	if n := float64(len(v.Scores)); n > 0 {
		mean := sum / n
		v.Threshold = mean + 3*math.Sqrt(math.Max(0, sq/n-mean*mean))
	}
	return v
}
