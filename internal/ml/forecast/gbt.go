package forecast

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/sibyldb/sibyldb/internal/ml/xgb"
)

// gbt is gradient-boosted trees (libxgboost) on lag and calendar
// features, and on the exogenous variables at the forecast time when the
// series has any. Every lag is at least the horizon, so one model
// forecasts every step directly from observed values.
type gbt struct {
	day, week int
	step      time.Duration
	// exog are the exogenous variables, each aligned with the whole
	// training series: a forecast from an earlier origin (validation)
	// reads their values over its horizon, as a user supplies them for
	// the future.
	exog [][]float64

	// last memoises the latest forecast: the ensemble asks for the same
	// one right after the model itself.
	mu   sync.Mutex
	last struct {
		n, h int
		tail float64
		out  []float64
	}
}

// maxGBTRows bounds the training rows (the most recent ones).
const maxGBTRows = 4000

// view is a window of a series: at(i) is the value at time i of the
// whole series, NaN outside the window. The stored model of a series
// with exogenous variables keeps only the tail its features read.
type view struct {
	v   []float64
	off int
}

func (s view) at(i int) float64 {
	if j := i - s.off; j >= 0 && j < len(s.v) {
		return s.v[j]
	}
	return math.NaN()
}

// lags are the lags the features use for horizon h.
func lagsFor(day, week, h int) []int {
	var out []int
	add := func(l int) {
		if l >= h && l > 0 {
			for _, x := range out {
				if x == l {
					return
				}
			}
			out = append(out, l)
		}
	}
	add(h)
	add(h + 1)
	if day > 0 {
		for k := 1; k <= 3; k++ {
			add(k * day)
		}
		for k := 1; day*k < h; k++ {
			add(day * (k + 1))
		}
	}
	if week > 0 {
		add(week)
		add(2 * week)
		add(3 * week)
	}
	return out
}

// gbtShape is what the features of a series depend on: its seasons and
// the horizon (every lag is at least the horizon).
type gbtShape struct {
	Day     int   `json:"day"`
	Week    int   `json:"week"`
	Horizon int   `json:"horizon"`
	Lags    []int `json:"lags"`
	Exog    int   `json:"exogenous"`
}

func newShape(day, week, h, exog int) gbtShape {
	return gbtShape{Day: day, Week: week, Horizon: h, Lags: lagsFor(day, week, h), Exog: exog}
}

// width is the number of features.
func (s gbtShape) width() int { return len(s.Lags) + 6 + s.Exog }

// reach is how far back from the first forecast time the features read.
func (s gbtShape) reach() int {
	r := s.Horizon + max(s.Day, 1) + s.Week
	for _, l := range s.Lags {
		r = max(r, l)
	}
	return r + 1
}

// level is the mean of the last day known at time t (the window ending h
// steps before it): features and target are scaled by it, so the trees
// learn shapes that carry over to a new level (a holiday, a storm).
func (s gbtShape) level(y view, t int) float64 {
	win := max(s.Day, 1)
	sum, n := 0.0, 0
	for i := t - s.Horizon - win + 1; i <= t-s.Horizon; i++ {
		if v := y.at(i); !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	if n == 0 || sum == 0 {
		return 1
	}
	return sum / float64(n)
}

// features writes the features of time t into x, scaled by lvl: the
// lags, the level itself, the change since a week before the last known
// value, the time of day, the day of the week, robust seasonal profiles
// and the exogenous values at t (unscaled: their effect need not follow
// the level).
func (s gbtShape) features(y view, t int, lvl float64, ex []float64, x []float32) {
	get := func(i int) float32 { return float32(y.at(i) / lvl) }
	h := s.Horizon
	k := 0
	for _, l := range s.Lags {
		x[k] = get(t - l)
		k++
	}
	x[k] = float32(lvl)
	k++
	if s.Week > 0 {
		x[k] = get(t-h) - get(t-h-s.Week)
	} else {
		x[k] = float32(math.NaN())
	}
	k++
	if s.Day > 0 {
		x[k] = float32(t % s.Day)
		x[k+1] = float32((t / s.Day) % 7)
	} else {
		x[k], x[k+1] = float32(math.NaN()), float32(math.NaN())
	}
	k += 2
	// The median of the same time in the last three weeks (an unusual
	// week does not move it) and the mean of the same time over the last
	// days whose value is known.
	x[k], x[k+1] = float32(math.NaN()), float32(math.NaN())
	if s.Week > 0 {
		var w [3]float64
		n := 0
		for c := 1; c <= 3; c++ {
			if c*s.Week >= h {
				if v := y.at(t - c*s.Week); !math.IsNaN(v) {
					w[n] = v
					n++
				}
			}
		}
		if n == 3 {
			x[k] = float32((w[0] + w[1] + w[2] - max(w[0], w[1], w[2]) - min(w[0], w[1], w[2])) / lvl)
		}
	}
	if s.Day > 0 {
		sum, n := 0.0, 0
		for c := 1; c <= 7; c++ {
			if c*s.Day >= h {
				if v := y.at(t - c*s.Day); !math.IsNaN(v) {
					sum += v
					n++
				}
			}
		}
		if n > 0 {
			x[k+1] = float32(sum / float64(n) / lvl)
		}
	}
	k += 2
	for v := 0; v < s.Exog; v++ {
		x[k+v] = float32(math.NaN())
		if v < len(ex) {
			x[k+v] = float32(ex[v])
		}
	}
}

// base is the scaled seasonal naive value the trees correct: the value a
// week (else a day) before t when that lag is at least the horizon, else
// 0. Learning the correction keeps the strong seasonal shape where trees
// would average it away. (The median of the last three weeks was
// measured worse on the NYC taxi series: the most recent week carries
// the most information.)
func (s gbtShape) base(y view, t int, lvl float64) float64 {
	for _, p := range []int{s.Week, s.Day} {
		if p > 0 && p >= s.Horizon {
			if v := y.at(t - p); !math.IsNaN(v) {
				return v / lvl
			}
		}
	}
	return 0
}

func (m *gbt) shape(h int) gbtShape { return newShape(m.day, m.week, h, len(m.exog)) }

// exogAt returns the exogenous values at time t (nil without any).
func (m *gbt) exogAt(t int) []float64 {
	if len(m.exog) == 0 {
		return nil
	}
	out := make([]float64, len(m.exog))
	for v, xs := range m.exog {
		out[v] = math.NaN()
		if t < len(xs) {
			out[v] = xs[t]
		}
	}
	return out
}

func (m *gbt) forecast(ctx context.Context, y []float64, h int) ([]float64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.last; l.out != nil && l.n == len(y) && l.h == h && l.tail == y[len(y)-1] {
		return append([]float64(nil), l.out...), nil
	}
	sh := m.shape(h)
	model, err := m.train(ctx, y, sh)
	if err != nil {
		return nil, err
	}
	b, err := xgb.Load(model)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	steps := make([]int, h)
	ex := make([][]float64, h)
	for k := range steps {
		steps[k] = k
		ex[k] = m.exogAt(len(y) + k)
	}
	out, err := predictGBT(b, sh, view{v: y}, len(y), steps, ex)
	if err == nil {
		m.last.n, m.last.h, m.last.tail, m.last.out = len(y), h, y[len(y)-1], append([]float64(nil), out...)
	}
	return out, err
}

// train fits the trees on the rows of y (the most recent maxGBTRows)
// and returns the XGBoost JSON model.
func (m *gbt) train(ctx context.Context, y []float64, sh gbtShape) ([]byte, error) {
	maxLag := 0
	for _, l := range sh.Lags {
		maxLag = max(maxLag, l)
	}
	first := min(maxLag, len(y)-1)
	if len(y)-first > maxGBTRows {
		first = len(y) - maxGBTRows
	}
	w := sh.width()
	rows := len(y) - first
	data := make([]float32, rows*w)
	labels := make([]float32, rows)
	yv := view{v: y}
	for r := 0; r < rows; r++ {
		t := first + r
		lvl := sh.level(yv, t)
		sh.features(yv, t, lvl, m.exogAt(t), data[r*w:(r+1)*w])
		labels[r] = float32(y[t]/lvl - sh.base(yv, t, lvl))
	}
	params := [][2]string{{"objective", "reg:squarederror"}, {"eta", "0.1"}, {"max_depth", "6"},
		{"subsample", "0.8"}, {"colsample_bytree", "0.8"}, {"min_child_weight", "3"}, {"tree_method", "hist"}, {"seed", "1"}}
	res, err := xgb.Train(ctx, xgb.Matrix{Data: data, Rows: rows, Cols: w}, labels, nil, nil, nil, xgb.TrainConfig{
		Params: params,
		Rounds: 150,
	})
	if err != nil {
		return nil, err
	}
	return res.Model, nil
}

// predictGBT forecasts the given steps (0 is the time n, right after the
// last observation) of the series y holds the tail of, with ex[i] the
// exogenous values at steps[i].
func predictGBT(b *xgb.Booster, sh gbtShape, y view, n int, steps []int, ex [][]float64) ([]float64, error) {
	w := sh.width()
	fx := make([]float32, len(steps)*w)
	lvls := make([]float64, len(steps))
	for i, k := range steps {
		if k < 0 || k >= sh.Horizon {
			return nil, fmt.Errorf("step %d is outside the horizon of %d steps", k, sh.Horizon)
		}
		lvls[i] = sh.level(y, n+k)
		sh.features(y, n+k, lvls[i], ex[i], fx[i*w:(i+1)*w])
	}
	pred, err := b.Predict(xgb.Matrix{Data: fx, Rows: len(steps), Cols: w})
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(steps))
	for i, k := range steps {
		out[i] = (float64(pred[i]) + sh.base(y, n+k, lvls[i])) * lvls[i]
	}
	return out, nil
}
