// Command forecastbench measures SibylDB's forecasters on NAB's NYC taxi
// series (30-minute passenger counts): rolling origins over the last four
// weeks, one day ahead (48 steps), retraining at every origin. It prints
// MASE (scaled by the weekly seasonal naive in-sample error) and MAE per
// model, the share of actuals inside each model's 80% interval, and the
// same for the model rolling-origin validation chose.
//
//	go run -tags gms_pure_go ./bench/forecastbench [-data ../shared/datasets/nab_nyc_taxi/nyc_taxi.csv]
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sibyldb/sibyldb/internal/ml/forecast"
)

func main() {
	path := flag.String("data", "/work/shared/datasets/nab_nyc_taxi/nyc_taxi.csv", "nyc_taxi.csv of NAB")
	weeks := flag.Int("weeks", 4, "weeks of rolling origins at the end of the series")
	only := flag.String("models", "", "comma-separated forecasters to try (default: all)")
	skip := flag.Int("skip", 0, "weeks left off the end of the series: a tuning window before the benchmark's (e.g. 4)")
	flag.Parse()
	y, err := load(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	const weekSteps = 336
	if *skip > 0 {
		y = y[:len(y)-*skip*weekSteps]
	}
	const h, week = 48, 336
	cfg := forecast.Config{Horizon: h, Step: 30 * time.Minute, Quantiles: []float64{0.1, 0.5, 0.9}}
	if *only != "" {
		cfg.Models = append(strings.Split(*only, ","), forecast.SeasonalNaive)
	}
	type acc struct{ mase, mae, covered, n float64 }
	stats := map[string]*acc{}
	add := func(name string, hist, actual []float64, f forecast.Forecast) {
		a := stats[name]
		if a == nil {
			a = &acc{}
			stats[name] = a
		}
		a.mase += forecast.MASE(hist, actual, f.Mean, week)
		for k, v := range actual {
			a.mae += math.Abs(v - f.Mean[k])
			if lo, hi := f.Quantiles["p10"], f.Quantiles["p90"]; v >= lo[k] && v <= hi[k] {
				a.covered++
			}
		}
		a.n++
	}
	chosen := map[string]int{}
	start := time.Now()
	origins := *weeks * 7
	for d := 0; d < origins; d++ {
		cut := len(y) - (origins-d)*h
		res, err := forecast.Train(context.Background(), y[:cut], cfg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		actual := y[cut : cut+h]
		for name, f := range res.Candidates {
			add(name, y[:cut], actual, f)
		}
		add("Auto (validated choice)", y[:cut], actual, res.Forecast)
		chosen[res.Model]++
	}
	names := make([]string, 0, len(stats))
	for n := range stats {
		names = append(names, n)
	}
	sort.Strings(names)
	base := stats[forecast.SeasonalNaive].mase / stats[forecast.SeasonalNaive].n
	fmt.Printf("NYC taxi, %d origins x %d steps (30 min), retrained per origin, %.0f s\n\n", origins, h, time.Since(start).Seconds())
	fmt.Printf("%-26s %8s %10s %12s %14s\n", "model", "MASE", "MAE", "vs snaive", "80% coverage")
	for _, n := range names {
		a := stats[n]
		m := a.mase / a.n
		fmt.Printf("%-26s %8.3f %10.1f %+11.1f%% %13.1f%%\n", n, m, a.mae/(a.n*h), (m/base-1)*100, 100*a.covered/(a.n*h))
	}
	fmt.Printf("\nchosen by validation: %v\n", chosen)
}

func load(path string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	var y []float64
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		y = append(y, v)
	}
	return y, nil
}
