// Command mlbench measures the quality and training time of the models
// SibylDB's CREATE MODEL trains, entirely through SQL, on the shared
// benchmark datasets (/work/shared/datasets), and prints one table row per
// dataset.
//
// For each dataset it starts nothing but the sibyldb binary (a fresh data
// directory on a free loopback port), loads the rows with multi-row
// INSERTs into a table that has a split column, trains with
//
//	CREATE MODEL m FROM (SELECT features..., target FROM t WHERE split='train')
//	    TARGET target FUNCTION fn PROBLEM_TYPE ... OBJECTIVE ... SETTINGS (MAX_RUNTIME n)
//
// (AutoML on), polls SHOW MODEL until the model is READY or FAILED,
// predicts the test rows with fn(...) (or fn_prob(...) for AUC) in a
// SELECT and scores the predictions in Go. Datasets without an official
// split are split 80/20 (stratified for classification) with a fixed seed;
// the test rows are never used for training or model selection. The NAB
// NYC-taxi series is scored with an unsupervised RANDOM_CUT_FOREST model
// instead: the 20 highest anomaly scores should fall into at least 3 of
// the 5 labelled anomaly windows.
//
// The baseline column is a reference, labelled with what it is: for the
// churn dataset it is Debian's python3-xgboost, XGBClassifier() with its
// default parameters, trained on the same split and the same features with
// the categorical columns one-hot encoded (see xgb_baseline.py, run with
// /usr/bin/python3; "n/a" when xgboost is not installed there), and the
// churn row passes when SibylDB's F1 is at least that and training took at
// most 60 s. For the other datasets it is the majority class (accuracy),
// the training mean (RMSE), a constant score (AUC) or the 20 largest
// |z-scores| of the raw value (NAB).
//
// With --predict-rows N it instead measures prediction throughput: it
// loads N synthetic rows of 10 numeric features, trains a 100-round XGBoost
// regression model on 20,000 of them and times SELECT SUM(fn(f1..f10)) over
// all N rows (median of 3).
//
// Run it from the repository root after building the server:
//
//	go build -tags gms_pure_go -o bin/sibyldb ./cmd/sibyldb
//	go run -tags gms_pure_go ./bench/mlbench --sibyldb bin/sibyldb
//	go run -tags gms_pure_go ./bench/mlbench --sibyldb bin/sibyldb --only tabular_iris,nab_nyc_taxi
//	go run -tags gms_pure_go ./bench/mlbench --sibyldb bin/sibyldb --predict-rows 1000000
//	go run -tags gms_pure_go ./bench/mlbench --sibyldb bin/sibyldb --predict-rows 1000000 --drift
//
// --drift adds a table of the same prediction query's throughput with
// drift sampling off, at the default sibyl_drift_sample_rate (0.01) and
// on every row (1), each timed 8 times in turns; the default rate should
// cost at most 5%.
//
// It exits non-zero only when it cannot run (e.g. the server does not
// start); a FAIL row is a result, not an error.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sibyldb/sibyldb/bench/internal/benchserver"
)

// options are the command-line flags.
type options struct {
	sibyldb     string
	datasets    string
	only        map[string]bool
	maxRuntime  int
	seed        int64
	predictRows int
	drift       bool
	verbose     bool
}

func main() {
	var o options
	var only string
	flag.StringVar(&o.sibyldb, "sibyldb", "bin/sibyldb", "path to the sibyldb binary")
	flag.StringVar(&o.datasets, "datasets", "", "directory holding the datasets (default /work/shared/datasets, else ../shared/datasets next to the repository)")
	flag.StringVar(&only, "only", "", "comma-separated dataset names to run (default: all)")
	flag.IntVar(&o.maxRuntime, "max-runtime", 0, "MAX_RUNTIME in seconds for every model (0: each dataset's default)")
	flag.Int64Var(&o.seed, "seed", 20240601, "seed of the train/test splits")
	flag.IntVar(&o.predictRows, "predict-rows", 0, "measure prediction throughput over this many synthetic rows instead (0: skip)")
	flag.BoolVar(&o.drift, "drift", false, "with --predict-rows: also compare the throughput with drift sampling off, at the default rate and on every row")
	flag.BoolVar(&o.verbose, "v", false, "print SHOW MODEL for every model, not only failing ones")
	flag.Parse()
	if only != "" {
		o.only = map[string]bool{}
		for _, n := range strings.Split(only, ",") {
			if n = strings.TrimSpace(n); n != "" {
				o.only[n] = true
			}
		}
	}
	var err error
	if o.predictRows > 0 {
		err = runPredict(o)
	} else {
		err = runQuality(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mlbench:", err)
		os.Exit(1)
	}
}

// datasetsDir finds the shared datasets directory: the flag's value, or
// /work/shared/datasets, or shared/datasets next to the repository that
// holds the working directory.
func datasetsDir(flagValue string) (string, error) {
	candidates := []string{flagValue}
	if flagValue == "" {
		candidates = []string{"/work/shared/datasets"}
		if root, ok := repoRoot(); ok {
			candidates = append(candidates, filepath.Join(root, "..", "shared", "datasets"))
		}
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("datasets directory not found (tried %s); use --datasets", strings.Join(candidates, ", "))
}

// repoRoot returns the nearest directory at or above the working
// directory that has a go.mod.
func repoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// runQuality runs the quality benchmark and prints its table.
func runQuality(o options) error {
	dir, err := datasetsDir(o.datasets)
	if err != nil {
		return err
	}
	var selected []*task
	known := map[string]bool{}
	var names []string
	for _, t := range tasks {
		known[t.name] = true
		names = append(names, t.name)
		if o.only == nil || o.only[t.name] {
			selected = append(selected, t)
		}
	}
	for n := range o.only {
		if !known[n] {
			return fmt.Errorf("--only: unknown dataset %q (have %s)", n, strings.Join(names, ", "))
		}
	}
	srv, err := benchserver.Start(o.sibyldb)
	if err != nil {
		return err
	}
	defer srv.Stop()
	db, err := srv.OpenNew("mlbench")
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()

	env := &env{db: db, dir: dir, opt: o}
	start := time.Now()
	var results []*result
	for _, t := range selected {
		logf("%s: loading and training...", t.name)
		tStart := time.Now()
		r := t.run(ctx, env, t)
		if r.err != nil {
			logf("%s: error: %v", t.name, r.err)
		}
		logf("%s: %s %s = %s (%s) in %.0f s", t.name, r.status, r.metric, r.value, r.target, time.Since(tStart).Seconds())
		results = append(results, r)
		if !srv.Alive() {
			printResults(results, o.verbose)
			return fmt.Errorf("%w during %s:\n%s", benchserver.ErrServerDied, t.name, srv.Log())
		}
	}
	printResults(results, o.verbose)
	fmt.Printf("\ntotal wall time %.0f s\n", time.Since(start).Seconds())
	return nil
}

// logf prints progress to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
