package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"text/tabwriter"
)

// driftRates are the sibyl_drift_sample_rate settings --drift compares:
// off, the default, and every row.
var driftRates = []float64{0, 0.01, 1}

// driftRounds is how many times each setting is timed. The settings take
// turns, in forward then reverse order (ABC CBA ...), so that a slow
// phase of a shared machine, or a position effect, hits them all alike.
const driftRounds = 8

// runDriftCost times SELECT SUM(fn(...)) over n rows under each drift
// sampling rate and prints the throughput and its cost against sampling
// off. The target is a cost of at most 5% at the default rate.
func runDriftCost(ctx context.Context, db *sql.DB, q string, n int) error {
	times := make([][]float64, len(driftRates))
	for round := 0; round < driftRounds; round++ {
		for k := range driftRates {
			i := k
			if round%2 == 1 {
				i = len(driftRates) - 1 - k
			}
			r := driftRates[i]
			if _, err := db.ExecContext(ctx, fmt.Sprintf("SET GLOBAL sibyl_drift_sample_rate = %g", r)); err != nil {
				return fmt.Errorf("set sample rate: %w", err)
			}
			t, err := timeQuery(ctx, db, q, 1)
			if err != nil {
				return err
			}
			times[i] = append(times[i], t.runs[0])
		}
	}
	if _, err := db.ExecContext(ctx, "SET GLOBAL sibyl_drift_sample_rate = DEFAULT"); err != nil {
		return fmt.Errorf("reset sample rate: %w", err)
	}
	off := median(append([]float64(nil), times[0]...))
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "drift sampling (sibyl_drift_sample_rate)\trows\tmedian of %d\tthroughput\tcost vs off\ttarget\tresult\tfastest/slowest run\n", driftRounds)
	for i, r := range driftRates {
		m := median(append([]float64(nil), times[i]...))
		lo, hi := fastest(times[i]), slowest(times[i])
		cost := m/off - 1
		target, result := "", ""
		if r == 0.01 {
			target, result = "<= 5%", "PASS"
			if cost > 0.05 {
				result = "FAIL"
			}
		}
		fmt.Fprintf(w, "%g\t%d\t%.3f s\t%.0f rows/s\t%+.1f%%\t%s\t%s\t%.3f/%.3f s\n", r, n, m, float64(n)/m, cost*100, target, result, lo, hi)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// On a shared machine the runs of one setting spread by more than
	// the sampling costs; the spread of the runs with sampling off says
	// how small a difference the table can resolve.
	fmt.Printf("noise: the runs with sampling off spread by %.1f%% (slowest/fastest - 1)\n", (slowest(times[0])/fastest(times[0])-1)*100)
	return nil
}

func fastest(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func slowest(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
