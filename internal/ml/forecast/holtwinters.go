package forecast

import (
	"context"
	"math"
)

// hw is additive double-seasonal Holt-Winters (Taylor 2003): a level, a
// daily and a weekly seasonal component, smoothed with alpha, delta and
// omega chosen by grid search on one-step errors, and an AR(1) model of
// those errors added to short-horizon forecasts. With one season (or
// none) it reduces to ordinary Holt-Winters (or simple smoothing).
type hw struct{ day, week int }

// hwState is the filter after the last observation.
type hwState struct {
	level     float64
	d, w      []float64 // seasonal components, indexed by time mod period
	lastErr   float64
	phi       float64
	n         int
	sse       float64
	sseH      float64 // squared errors of forecasts 1..h steps ahead
	day, week int
}

// hwGrid are the seasonal smoothing parameters tried; alphaGrid the
// level's, kept small: a level that moves fast chases noise, which costs
// more than it gains over a day-long horizon (measured on NYC taxi).
var (
	hwGrid    = []float64{0.01, 0.03, 0.1, 0.2, 0.4}
	alphaGrid = []float64{0.005, 0.01, 0.02, 0.05, 0.1}
)

func (m *hw) periods(n int) (int, int) {
	day, week := m.day, m.week
	if week > 0 && n < 3*week {
		week = 0
	}
	if day > 0 && n < 3*day {
		day = 0
	}
	if day == 0 && week > 0 {
		day, week = week, 0
	}
	return day, week
}

func (m *hw) forecast(ctx context.Context, y []float64, h int) ([]float64, error) {
	// Positive series are smoothed in logs, which makes multiplicative
	// seasonality (busy days swing more) additive.
	if positive(y) {
		ly := make([]float64, len(y))
		for i, v := range y {
			ly[i] = math.Log(v)
		}
		f, err := m.additive(ctx, ly, h)
		if err != nil {
			return nil, err
		}
		for i, v := range f {
			f[i] = math.Exp(v)
		}
		return f, nil
	}
	return m.additive(ctx, y, h)
}

func positive(y []float64) bool {
	for _, v := range y {
		if !(v > 0) {
			return false
		}
	}
	return len(y) > 0
}

func (m *hw) additive(ctx context.Context, y []float64, h int) ([]float64, error) {
	day, week := m.periods(len(y))
	// Fit on the recent past: smoothing forgets older data anyway, and the
	// grid search costs a pass per combination.
	start := 0
	if keep := 12*max(week, day) + 1; len(y) > keep && max(week, day) > 0 {
		start = len(y) - keep
	}
	y = y[start:]
	var best *hwState
	for _, a := range alphaGrid {
		for _, d := range gridFor(day) {
			for _, w := range gridFor(week) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				s := runHW(y, day, week, a, d, w, h)
				if best == nil || s.sseH < best.sseH {
					best = s
				}
			}
		}
	}
	out := make([]float64, h)
	n := best.n
	e := best.lastErr
	for k := 0; k < h; k++ {
		t := n + k
		f := best.level
		if day > 0 {
			f += best.d[t%day]
		}
		if week > 0 {
			f += best.w[t%week]
		}
		e *= best.phi
		out[k] = f + e
	}
	return out, nil
}

func gridFor(period int) []float64 {
	if period == 0 {
		return []float64{0}
	}
	return hwGrid
}

// runHW filters y and returns the final state, the sum of squared
// one-step errors after the warm-up (the first cycle) and the sum of
// squared errors of the forecasts 1..h steps ahead made once a day (or
// every h steps) after the warm-up: the parameters are chosen by the
// latter, the error the forecasts will make, not by one-step fit, which
// favours a level that chases noise.
func runHW(y []float64, day, week int, alpha, delta, omega float64, h int) *hwState {
	s := &hwState{day: day, week: week}
	if day > 0 {
		s.d = make([]float64, day)
	}
	if week > 0 {
		s.w = make([]float64, week)
	}
	// Initial components: the mean of the first cycle, the daily profile
	// of the first week, and the weekly profile net of the daily one.
	init := max(day, week)
	if init == 0 || init > len(y) {
		init = min(len(y), 1)
	}
	mean := 0.0
	for _, v := range y[:init] {
		mean += v
	}
	mean /= float64(init)
	s.level = mean
	if day > 0 {
		cnt := make([]float64, day)
		for t := 0; t < init; t++ {
			s.d[t%day] += y[t] - mean
			cnt[t%day]++
		}
		for i := range s.d {
			if cnt[i] > 0 {
				s.d[i] /= cnt[i]
			}
		}
	}
	if week > 0 {
		for t := 0; t < week && t < len(y); t++ {
			s.w[t] = y[t] - mean
			if day > 0 {
				s.w[t] -= s.d[t%day]
			}
		}
	}
	var sumEE, sumE2 float64
	prevErr := 0.0
	warm := init
	stride := max(day, h, 1)
	for t := 0; t < len(y); t++ {
		var dt, wt float64
		if day > 0 {
			dt = s.d[t%day]
		}
		if week > 0 {
			wt = s.w[t%week]
		}
		f := s.level + dt + wt
		err := y[t] - f
		if t >= warm {
			s.sse += err * err
			sumEE += err * prevErr
			sumE2 += prevErr * prevErr
		}
		prevErr = err
		l := alpha*(y[t]-dt-wt) + (1-alpha)*s.level
		if day > 0 {
			s.d[t%day] = delta*(y[t]-l-wt) + (1-delta)*dt
		}
		if week > 0 {
			s.w[t%week] = omega*(y[t]-l-dt) + (1-omega)*wt
		}
		s.level = l
		if t >= warm && (t-warm)%stride == 0 && t+h < len(y) {
			for j := 1; j <= h; j++ {
				f := s.level
				if day > 0 {
					f += s.d[(t+j)%day]
				}
				if week > 0 {
					f += s.w[(t+j)%week]
				}
				e := y[t+j] - f
				s.sseH += e * e
			}
		}
	}
	s.n = len(y)
	s.lastErr = prevErr
	if sumE2 > 0 {
		s.phi = math.Max(-0.99, math.Min(0.99, sumEE/sumE2))
	}
	return s
}
