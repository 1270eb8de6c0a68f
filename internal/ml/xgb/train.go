package xgb

/*
#include <stdlib.h>
#include <xgboost/c_api.h>
*/
import "C"

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

// TrainConfig controls a training run.
type TrainConfig struct {
	// Params are passed in order to XGBoosterSetParam: objective, eta,
	// max_depth, num_class, eval_metric, nthread, seed, subsample, ...
	// A repeated eval_metric adds a metric rather than replacing one.
	Params [][2]string
	// Rounds is the maximum number of boosting rounds.
	Rounds int
	// EarlyStoppingRounds stops training when the last evaluation metric on
	// the validation set has not improved for that many rounds; 0 disables
	// it. It requires a validation set.
	EarlyStoppingRounds int
	// Progress, if set, is called after each round with the round number
	// (from 0) and the last validation metric, or NaN without a validation
	// set.
	Progress func(round int, validScore float64)
}

// Result is the outcome of Train.
type Result struct {
	// Model is the XGBoost JSON model. With early stopping it holds only
	// the rounds up to and including BestIteration.
	Model []byte
	// BestIteration is the round with the best validation score when early
	// stopping is on, and the last round otherwise.
	BestIteration int
	// BestScore is the validation score at BestIteration, or NaN without a
	// validation set.
	BestScore float64
	// Rounds is how many rounds were actually trained.
	Rounds int
}

// Train fits a model on train and labels. weights may be nil; valid and
// validLabels may be nil, but early stopping needs them. ctx is checked
// between rounds, so cancellation takes effect after the round in progress
// and Train returns ctx.Err().
func Train(ctx context.Context, train Matrix, labels, weights []float32, valid *Matrix, validLabels []float32, cfg TrainConfig) (*Result, error) {
	if err := validateTrain(train, labels, weights, valid, validLabels, cfg); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	dtrain, err := newDMatrix(train, labels, weights)
	if err != nil {
		return nil, err
	}
	defer dtrain.free()
	var dvalid *dmatrix
	if valid != nil {
		if dvalid, err = newDMatrix(*valid, validLabels, nil); err != nil {
			return nil, err
		}
		defer dvalid.free()
	}

	// Registering the matrices at creation lets XGBoost cache their
	// predictions between rounds.
	cache := []C.DMatrixHandle{dtrain.h}
	if dvalid != nil {
		cache = append(cache, dvalid.h)
	}
	var h C.BoosterHandle
	if err := check("XGBoosterCreate", C.XGBoosterCreate(&cache[0], C.bst_ulong(len(cache)), &h)); err != nil {
		return nil, err
	}
	defer C.XGBoosterFree(h)
	for _, p := range cfg.Params {
		if err := setParam(h, p[0], p[1]); err != nil {
			return nil, err
		}
	}

	stop := earlyStopper{patience: cfg.EarlyStoppingRounds, best: -1, bestScore: math.NaN(), last: math.NaN()}
	res := &Result{BestScore: math.NaN()}
	for round := 0; round < cfg.Rounds; round++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := check("XGBoosterUpdateOneIter", C.XGBoosterUpdateOneIter(h, C.int(round), dtrain.h)); err != nil {
			return nil, fmt.Errorf("round %d: %w", round, err)
		}
		res.Rounds = round + 1
		score := math.NaN()
		if dvalid != nil {
			name, value, err := evalValid(h, round, dvalid)
			if err != nil {
				return nil, fmt.Errorf("round %d: %w", round, err)
			}
			score = value
			stop.metric = name
		}
		if cfg.Progress != nil {
			cfg.Progress(round, score)
		}
		if dvalid != nil && stop.observe(round, score) {
			break
		}
	}

	res.BestIteration, res.BestScore = res.Rounds-1, stop.last
	if cfg.EarlyStoppingRounds > 0 && stop.best >= 0 {
		res.BestIteration, res.BestScore = stop.best, stop.bestScore
	}

	final := h
	if res.BestIteration+1 < res.Rounds {
		var sliced C.BoosterHandle
		rc := C.XGBoosterSlice(h, 0, C.int(res.BestIteration+1), 1, &sliced)
		if err := check("XGBoosterSlice", rc); err != nil {
			return nil, err
		}
		defer C.XGBoosterFree(sliced)
		final = sliced
	}
	if res.Model, err = saveJSON(final); err != nil {
		return nil, err
	}
	return res, nil
}

func validateTrain(train Matrix, labels, weights []float32, valid *Matrix, validLabels []float32, cfg TrainConfig) error {
	if err := train.validate("training"); err != nil {
		return err
	}
	if len(labels) != train.Rows {
		return fmt.Errorf("%w: %d labels for %d training rows", ErrInvalidInput, len(labels), train.Rows)
	}
	if weights != nil && len(weights) != train.Rows {
		return fmt.Errorf("%w: %d weights for %d training rows", ErrInvalidInput, len(weights), train.Rows)
	}
	if cfg.Rounds <= 0 {
		return fmt.Errorf("%w: rounds must be positive, got %d", ErrInvalidInput, cfg.Rounds)
	}
	if cfg.EarlyStoppingRounds < 0 {
		return fmt.Errorf("%w: early stopping rounds must not be negative, got %d", ErrInvalidInput, cfg.EarlyStoppingRounds)
	}
	if valid == nil {
		if cfg.EarlyStoppingRounds > 0 {
			return fmt.Errorf("%w: early stopping needs a validation set", ErrInvalidInput)
		}
		return nil
	}
	if err := valid.validate("validation"); err != nil {
		return err
	}
	if valid.Cols != train.Cols {
		return fmt.Errorf("%w: validation matrix has %d columns, training has %d", ErrInvalidInput, valid.Cols, train.Cols)
	}
	if len(validLabels) != valid.Rows {
		return fmt.Errorf("%w: %d validation labels for %d validation rows", ErrInvalidInput, len(validLabels), valid.Rows)
	}
	return nil
}

func setParam(h C.BoosterHandle, name, value string) error {
	cname, cvalue := C.CString(name), C.CString(value)
	defer C.free(unsafe.Pointer(cname))
	defer C.free(unsafe.Pointer(cvalue))
	if err := check("XGBoosterSetParam", C.XGBoosterSetParam(h, cname, cvalue)); err != nil {
		return fmt.Errorf("parameter %s=%q: %w", name, value, err)
	}
	return nil
}

// evalValid evaluates the validation set after round and returns the last
// metric's name and value. The OS thread must be locked: the result string
// is thread-local.
func evalValid(h C.BoosterHandle, round int, dvalid *dmatrix) (string, float64, error) {
	cname := C.CString("valid")
	defer C.free(unsafe.Pointer(cname))
	dmats := []C.DMatrixHandle{dvalid.h}
	names := []*C.char{cname}
	var out *C.char
	rc := C.XGBoosterEvalOneIter(h, C.int(round), &dmats[0], &names[0], 1, &out)
	if err := check("XGBoosterEvalOneIter", rc); err != nil {
		return "", 0, err
	}
	return parseEval(C.GoString(out))
}

// parseEval extracts the last metric from an evaluation line such as
// "[3]\tvalid-logloss:0.25\tvalid-auc:0.91".
func parseEval(line string) (string, float64, error) {
	fields := strings.Split(strings.TrimSpace(line), "\t")
	last := fields[len(fields)-1]
	colon := strings.LastIndexByte(last, ':')
	if len(fields) < 2 || colon < 0 {
		return "", 0, fmt.Errorf("unexpected evaluation output %q", line)
	}
	value, err := strconv.ParseFloat(last[colon+1:], 64)
	if err != nil {
		return "", 0, fmt.Errorf("evaluation output %q: %w", line, err)
	}
	return strings.TrimPrefix(last[:colon], "valid-"), value, nil
}

// maximize reports whether a larger value of the named metric is better.
// The list follows XGBoost's own early-stopping callback; parameterised
// names ("ndcg@5", "map@3-") are matched on the part before '@' or '-'.
func maximize(metric string) bool {
	base := metric
	if i := strings.IndexByte(base, '@'); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimSuffix(base, "-")
	switch base {
	case "auc", "aucpr", "map", "ndcg", "pre", "interval-regression-accuracy":
		return true
	}
	return false
}

// earlyStopper tracks the best validation score seen so far.
type earlyStopper struct {
	patience  int
	metric    string
	best      int
	bestScore float64
	last      float64
}

// observe records round's score and reports whether training should stop.
// NaN scores never count as improvements.
func (s *earlyStopper) observe(round int, score float64) bool {
	s.last = score
	better := !math.IsNaN(score) && (s.best < 0 || math.IsNaN(s.bestScore) ||
		(maximize(s.metric) && score > s.bestScore) ||
		(!maximize(s.metric) && score < s.bestScore))
	if better {
		s.best, s.bestScore = round, score
	}
	return s.patience > 0 && s.best >= 0 && round-s.best >= s.patience
}
