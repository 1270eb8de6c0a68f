package rcf

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat"
)

const nabDir = "/work/shared/datasets/nab_nyc_taxi"

// taxiSeries is the NAB realKnownCause/nyc_taxi series and its labelled
// anomaly windows.
type taxiSeries struct {
	times   []time.Time
	values  []float64
	windows [][2]time.Time
}

func loadTaxi(t testing.TB) *taxiSeries {
	t.Helper()
	f, err := os.Open(filepath.Join(nabDir, "nyc_taxi.csv"))
	if os.IsNotExist(err) {
		t.Skipf("dataset not available: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	s := &taxiSeries{}
	const layout = "2006-01-02 15:04:05"
	for _, rec := range records[1:] {
		ts, err := time.Parse(layout, rec[0])
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseFloat(rec[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		s.times = append(s.times, ts)
		s.values = append(s.values, v)
	}

	data, err := os.ReadFile(filepath.Join(nabDir, "combined_windows.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string][][2]string
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	for _, w := range all["realKnownCause/nyc_taxi.csv"] {
		var win [2]time.Time
		for i, str := range w {
			if win[i], err = time.Parse(layout+".000000", str); err != nil {
				t.Fatal(err)
			}
		}
		s.windows = append(s.windows, win)
	}
	if len(s.windows) != 5 {
		t.Fatalf("found %d anomaly windows, want 5", len(s.windows))
	}
	return s
}

// taxiFeatures builds the feature vector of every row the way a SQL user
// would, standardising each column by its mean and standard deviation:
//
//	SELECT (value − μv)/σv, (HOUR(timestamp)*60 + MINUTE(timestamp) − μm)/σm FROM nyc_taxi
func taxiFeatures(s *taxiSeries) [][]float64 {
	minutes := make([]float64, len(s.times))
	for i, ts := range s.times {
		minutes[i] = float64(ts.Hour()*60 + ts.Minute())
	}
	vMean, vStd := stat.MeanStdDev(s.values, nil)
	mMean, mStd := stat.MeanStdDev(minutes, nil)
	X := make([][]float64, len(s.values))
	for i := range X {
		X[i] = []float64{(s.values[i] - vMean) / vStd, (minutes[i] - mMean) / mStd}
	}
	return X
}

// windowHits returns the (0-based) anomaly windows that contain at least one
// of the top highest-scoring rows.
func (s *taxiSeries) windowHits(scores []float64, rows []int, top int) []int {
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	hit := make([]bool, len(s.windows))
	for _, i := range order[:top] {
		ts := s.times[rows[i]]
		for w, win := range s.windows {
			if !ts.Before(win[0]) && !ts.After(win[1]) {
				hit[w] = true
			}
		}
	}
	var hits []int
	for w, h := range hit {
		if h {
			hits = append(hits, w)
		}
	}
	return hits
}

// TestNYCTaxiWindows checks anomaly-detection quality on the NAB
// realKnownCause/nyc_taxi series: at least 3 of its 5 labelled anomaly
// windows must contain one of the 20 highest-scoring rows.
//
// Configuration: features (value, minute-of-day), each standardised (see
// taxiFeatures); Trees = 100, SampleSize = 256 (the defaults); fitted on all
// 10,320 rows and scoring all of them. Measured with seeds 1–10: 3 windows
// for every seed (always the marathon, New Year and blizzard windows). Two of
// the three hits are the genuine events; the marathon-window hit is
// 2014-11-02 01:00, the daylight-saving fall-back hour whose bucket counts
// two clock hours of trips (39,197 passengers), i.e. a real anomaly in the
// data but not the marathon itself. Thanksgiving and Christmas (low, but
// smoothly low, traffic) are not in the top 20 with any feature set tried.
//
// Alternatives measured during development (hits per seed, seeds 1–5):
// value alone 3,3,3,3,3; value with a lag-1 value 3,3,3,3,3; a 4-value
// shingle 3,2,3,3,3, plus minute-of-day 3,3,3,3,3; value and
// value − LAG(value, 336) (same time last week) 3,3,3,3,3; a 48-value
// shingle (one day, as in SageMaker's NYC-taxi example) 1,1,1,1,1 — it
// scores the blizzard highest by far but all 20 top rows are consecutive
// shingles of that one event.
func TestNYCTaxiWindows(t *testing.T) {
	s := loadTaxi(t)
	X := taxiFeatures(s)
	rows := make([]int, len(X))
	for i := range rows {
		rows[i] = i
	}
	seeds := []int64{1, 2, 3}
	if !testing.Short() && !raceEnabled {
		seeds = []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	}
	scores := make([]float64, len(X))
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			f, err := Fit(context.Background(), X, Config{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range X {
				scores[i] = f.Score(x)
			}
			hits := s.windowHits(scores, rows, 20)
			t.Logf("seed %d: windows %v of 0..4 contain a top-20 row (mean score %.3f)", seed, hits, stat.Mean(scores, nil))
			if len(hits) < 3 {
				t.Errorf("seed %d: only %d windows hit, want >= 3", seed, len(hits))
			}
		})
	}
}
