package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// xgbScript trains XGBClassifier() with default parameters; see its doc.
//
//go:embed xgb_baseline.py
var xgbScript []byte

// systemPython is Debian's interpreter, which has python3-xgboost (the
// python3 on PATH may be a pyenv without it).
const systemPython = "/usr/bin/python3"

// xgbBaseline writes f's training and test rows to CSV files in a
// temporary directory and returns the test F1 of t.positive that
// xgb_baseline.py reports: XGBClassifier() defaults on the same features,
// with the text columns one-hot encoded.
func xgbBaseline(ctx context.Context, f *frame, t *task) (float64, error) {
	if _, err := os.Stat(systemPython); err != nil {
		return 0, fmt.Errorf("%s: %w", systemPython, err)
	}
	dir, err := os.MkdirTemp("", "mlbench-xgb-")
	if err != nil {
		return 0, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "xgb_baseline.py")
	if err := os.WriteFile(script, xgbScript, 0o644); err != nil {
		return 0, fmt.Errorf("write script: %w", err)
	}
	train, test := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	if err := writeCSV(train, f, false); err != nil {
		return 0, err
	}
	if err := writeCSV(test, f, true); err != nil {
		return 0, err
	}
	args := []string{script, train, test, t.target, t.positive}
	for _, c := range f.cols {
		if c.kind == text && c.name != t.target {
			args = append(args, c.name)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 3 {
			return 0, fmt.Errorf("xgboost is not installed for %s: %s", systemPython, strings.TrimSpace(stderr.String()))
		}
		return 0, fmt.Errorf("%s xgb_baseline.py: %w: %s", systemPython, err, strings.TrimSpace(stderr.String()))
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(stdout.String()), 64)
	if err != nil {
		return 0, fmt.Errorf("xgb_baseline.py printed %q: %w", stdout.String(), err)
	}
	return v, nil
}

// writeCSV writes the test (or training) rows of f with a header row;
// NULL is an empty field.
func writeCSV(path string, f *frame, test bool) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	w := csv.NewWriter(out)
	header := make([]string, len(f.cols))
	for i, c := range f.cols {
		header[i] = c.name
	}
	_ = w.Write(header)
	rec := make([]string, len(f.cols))
	for i, row := range f.rows {
		if f.test[i] != test {
			continue
		}
		for j, v := range row {
			switch x := v.(type) {
			case nil:
				rec[j] = ""
			case float64:
				rec[j] = strconv.FormatFloat(x, 'g', -1, 64)
			case time.Time:
				rec[j] = x.Format("2006-01-02 15:04:05")
			default:
				rec[j] = fmt.Sprint(x)
			}
		}
		_ = w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		out.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}
