package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/ml/forecast"
	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// ModelTypeForecast is Redshift's MODEL_TYPE FORECAST.
const ModelTypeForecast = "FORECAST"

// ForecastSpec describes a forecasting model's data: which columns are
// the series id (optional), the time and the target, and what to
// forecast.
type ForecastSpec struct {
	IDColumn   string    `json:"id_column,omitempty"`
	TimeColumn string    `json:"time_column"`
	Horizon    int       `json:"horizon"`
	Frequency  string    `json:"frequency,omitempty"` // as given; "" infers it
	Quantiles  []float64 `json:"quantiles"`
	// Exogenous are HeatWave's exogenous_variables: numeric columns the
	// forecast depends on, whose values over the horizon are given at
	// prediction time.
	Exogenous []string `json:"exogenous,omitempty"`
	// Models restricts the candidate forecasters (forecast.Models names;
	// nil: the default ones), and Metric chooses among them (one of
	// forecast.Metrics; "": the mean absolute error): HeatWave's
	// model_list / exclude_model_list and optimization_metric.
	Models []string `json:"models,omitempty"`
	Metric string   `json:"metric,omitempty"`
}

// SeriesForecast is the trained forecast of one series: from the step
// after its last observation, Horizon steps.
type SeriesForecast struct {
	ID    string          `json:"id,omitempty"`
	Start time.Time       `json:"start"`
	Step  time.Duration   `json:"step"`
	Rows  int             `json:"rows"`
	Model string          `json:"model"`
	Fcst  forecast.Result `json:"forecast"`
}

// Times are the forecast's timestamps.
func (s *SeriesForecast) Times() []time.Time {
	out := make([]time.Time, len(s.Fcst.Mean))
	for k := range out {
		out[k] = s.Start.Add(time.Duration(k) * s.Step)
	}
	return out
}

// At returns the forecast step at t (ok false outside the horizon or off
// the grid).
func (s *SeriesForecast) At(t time.Time) (int, bool) {
	d := t.Sub(s.Start)
	if d < 0 || s.Step <= 0 || d%s.Step != 0 {
		return 0, false
	}
	k := int(d / s.Step)
	return k, k < s.Horizon()
}

// Horizon is how many steps the forecast covers.
func (s *SeriesForecast) Horizon() int {
	if s.Fcst.Exog != nil {
		return s.Fcst.Exog.Horizon()
	}
	return len(s.Fcst.Mean)
}

// ParseFrequency reads Redshift's FREQUENCY ('1min', '30min', 'H', 'D',
// 'W', '15min', '2H' ...).
func ParseFrequency(f string) (time.Duration, error) {
	s := strings.TrimSpace(f)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n := 1
	if i > 0 {
		n, _ = strconv.Atoi(s[:i])
	}
	unit := map[string]time.Duration{"min": time.Minute, "T": time.Minute, "H": time.Hour, "h": time.Hour,
		"D": 24 * time.Hour, "d": 24 * time.Hour, "W": 7 * 24 * time.Hour, "S": time.Second, "s": time.Second}[s[i:]]
	if unit == 0 || n <= 0 {
		return 0, fmt.Errorf("unknown FREQUENCY '%s' (use e.g. '1min', '30min', 'H', '2H', 'D', 'W')", f)
	}
	return time.Duration(n) * unit, nil
}

// IsForecast reports whether md forecasts time series.
func (md *Model) IsForecast() bool { return md.Forecast != nil }

// CreateForecast starts training a forecasting model: it reads the series
// in the creating session, checks them, and trains every series in the
// background.
func (m *Manager) CreateForecast(ctx *sql.Context, spec *Spec, owner string) error {
	md := newModel(ctx, spec, owner)
	keep, release, err := m.reserve(md)
	if err != nil {
		return err
	}
	defer release()
	series, err := m.readSeries(ctx, md)
	if err != nil {
		return err
	}
	if err := m.persist(md); err != nil {
		return err
	}
	keep()
	m.startJob(md, func(ctx context.Context) { m.trainForecast(ctx, md, series) })
	return nil
}

// rawSeries is one series as read.
type rawSeries struct {
	id     string
	times  []time.Time
	values []float64
	exog   [][]float64 // per exogenous variable, like values
}

// readSeries reads (id,) time, target ordered by id and time.
func (m *Manager) readSeries(ctx *sql.Context, md *Model) ([]*rawSeries, error) {
	schema, iter, err := m.Query(ctx, md.trainingQuery())
	if err != nil {
		return nil, err
	}
	defer iter.Close(ctx)
	col := func(name string) int {
		for i, c := range schema {
			if strings.EqualFold(c.Name, name) {
				return i
			}
		}
		return -1
	}
	fs := md.Forecast
	if fs.TimeColumn == "" {
		for _, c := range schema {
			if strings.EqualFold(c.Name, md.Target) {
				continue
			}
			if kindOf(c.Type) == model.Temporal {
				if fs.TimeColumn != "" {
					return nil, fmt.Errorf("%w: the query has two time columns (%s, %s); give one time, one id and the target", errBadForecast, fs.TimeColumn, c.Name)
				}
				fs.TimeColumn = c.Name
			} else {
				if fs.IDColumn != "" {
					return nil, fmt.Errorf("%w: the query has columns besides the id (%s), time and target: %s", errBadForecast, fs.IDColumn, c.Name)
				}
				fs.IDColumn = c.Name
			}
		}
		if fs.TimeColumn == "" {
			return nil, fmt.Errorf("%w: the query needs a DATE, DATETIME or TIMESTAMP column", errBadForecast)
		}
	}
	ti, yi, ii := col(fs.TimeColumn), col(md.Target), -1
	if ti < 0 {
		return nil, sql.ErrColumnNotFound.New(fs.TimeColumn)
	}
	if yi < 0 {
		return nil, sql.ErrColumnNotFound.New(md.Target)
	}
	if fs.IDColumn != "" {
		if ii = col(fs.IDColumn); ii < 0 {
			return nil, sql.ErrColumnNotFound.New(fs.IDColumn)
		}
	}
	xi := make([]int, len(fs.Exogenous))
	for v, name := range fs.Exogenous {
		if xi[v] = col(name); xi[v] < 0 {
			return nil, sql.ErrColumnNotFound.New(name)
		}
	}
	md.TargetType = schema[yi].Type.String()
	byID := map[string]*rawSeries{}
	rows := 0
	for {
		row, err := iter.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		rows++
		t, ok := plain(ctx, row[ti]).(time.Time)
		if !ok {
			return nil, fmt.Errorf("%w: time column '%s' must be a DATE, DATETIME or TIMESTAMP", errBadForecast, fs.TimeColumn)
		}
		v, ok := model.Float(plain(ctx, row[yi]))
		if !ok {
			v = math.NaN()
		}
		id := ""
		if ii >= 0 {
			id = model.Label(plain(ctx, row[ii]))
		}
		s := byID[id]
		if s == nil {
			s = &rawSeries{id: id, exog: make([][]float64, len(xi))}
			byID[id] = s
		}
		s.times = append(s.times, t)
		s.values = append(s.values, v)
		for v, i := range xi {
			x, ok := model.Float(plain(ctx, row[i]))
			if !ok {
				x = math.NaN()
			}
			s.exog[v] = append(s.exog[v], x)
		}
	}
	md.Rows = rows
	out := make([]*rawSeries, 0, len(byID))
	for _, s := range byID {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: the training query returned no rows", errBadForecast)
	}
	return out, nil
}

var errBadForecast = errors.New("invalid forecasting data")

// ErrBadForecast reports unusable forecasting data or settings.
var ErrBadForecast = errBadForecast

// regular puts a series on a regular grid of step (the most common gap
// when step is 0), averaging duplicates and leaving gaps missing (NaN);
// its exogenous variables are put on the same grid.
func regular(s *rawSeries, step time.Duration) ([]float64, [][]float64, time.Time, time.Duration, error) {
	idx := make([]int, len(s.times))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s.times[idx[a]].Before(s.times[idx[b]]) })
	if step == 0 {
		gaps := map[time.Duration]int{}
		for k := 1; k < len(idx); k++ {
			if d := s.times[idx[k]].Sub(s.times[idx[k-1]]); d > 0 {
				gaps[d]++
			}
		}
		best := 0
		for d, n := range gaps {
			if n > best || (n == best && d < step) {
				step, best = d, n
			}
		}
		if step == 0 {
			return nil, nil, time.Time{}, 0, fmt.Errorf("%w: series '%s' needs observations at two different times", errBadForecast, s.id)
		}
	}
	start := s.times[idx[0]].Truncate(step)
	if !s.times[idx[0]].Equal(start) {
		start = s.times[idx[0]]
	}
	n := int(s.times[idx[len(idx)-1]].Sub(start)/step) + 1
	if n > 5_000_000 {
		return nil, nil, time.Time{}, 0, fmt.Errorf("%w: series '%s' spans %d steps of %s", errBadForecast, s.id, n, step)
	}
	grid := func(values []float64) []float64 {
		sum := make([]float64, n)
		cnt := make([]int, n)
		for _, i := range idx {
			k := int(s.times[i].Sub(start) / step)
			if !math.IsNaN(values[i]) {
				sum[k] += values[i]
				cnt[k]++
			}
		}
		for k := range sum {
			if cnt[k] == 0 {
				sum[k] = math.NaN()
			} else {
				sum[k] /= float64(cnt[k])
			}
		}
		return sum
	}
	var exog [][]float64
	for _, x := range s.exog {
		exog = append(exog, grid(x))
	}
	return grid(s.values), exog, start, step, nil
}

func (m *Manager) trainForecast(ctx context.Context, md *Model, series []*rawSeries) {
	defer m.jobs.Done()
	defer listJob(md, "CREATE MODEL "+md.key(), md.progressText)()
	defer close(md.done)
	defer md.cancel()
	start := time.Now()
	var step time.Duration
	var err error
	if md.Forecast.Frequency != "" {
		step, err = ParseFrequency(md.Forecast.Frequency)
	}
	var out []SeriesForecast
	for i, s := range series {
		if err != nil {
			break
		}
		md.progress.Store(fmt.Sprintf("%.0f%% series %d of %d", 100*float64(i)/float64(len(series)), i+1, len(series)))
		var y []float64
		var exog [][]float64
		var first time.Time
		var st time.Duration
		if y, exog, first, st, err = regular(s, step); err != nil {
			break
		}
		var res *forecast.Result
		h := md.Forecast.Horizon
		if h == 0 {
			// One day of steps (HeatWave's task takes no horizon).
			if h, _ = forecast.Seasons(st); h == 0 {
				h = 12
			}
		}
		res, err = forecast.Train(ctx, y, forecast.Config{Horizon: h, Step: st, Quantiles: md.Forecast.Quantiles, Exog: exog,
			Models: md.Forecast.Models, Metric: md.Forecast.Metric})
		if err != nil {
			err = fmt.Errorf("series '%s': %w", s.id, err)
			break
		}
		res.Candidates = nil
		out = append(out, SeriesForecast{ID: s.id, Start: first.Add(time.Duration(len(y)) * st), Step: st, Rows: len(s.values), Model: res.Model, Fcst: *res})
	}
	if errors.Is(err, context.Canceled) && m.ctx.Err() == nil {
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("training did not finish within MAX_RUNTIME (%d s)", md.MaxRuntime)
	}
	m.finishJob(md, start, err, func() { md.Series = out })
}

// finishJob ends a training job whose result is not an artifact
// (forecasting, recommendation): md becomes FAILED with err, or READY with
// what ready sets (under m.mu), and is stored unless it was dropped while
// it trained.
func (m *Manager) finishJob(md *Model, start time.Time, err error, ready func()) {
	m.mu.Lock()
	md.Finished = time.Now().UTC()
	if err != nil {
		md.State, md.Reason = Failed, err.Error()
	} else {
		md.State = Ready
		ready()
	}
	md.progress.Store(fmt.Sprintf("finished in %.1f s", time.Since(start).Seconds()))
	_, live := m.models[md.key()]
	m.mu.Unlock()
	if !live {
		return
	}
	m.mu.RLock()
	err = m.persist(md)
	m.mu.RUnlock()
	if err != nil {
		m.Log.WithError(err).Errorf("model %s: storing the training result", md.key())
	}
}

// Forecasts returns a ready forecasting model's series after checking the
// session may use it.
func (m *Manager) Forecasts(ctx *sql.Context, md *Model) ([]SeriesForecast, error) {
	m.mu.RLock()
	state, reason, series := md.State, md.Reason, md.Series
	m.mu.RUnlock()
	if err := m.usable(ctx, md, state, reason); err != nil {
		return nil, err
	}
	return series, nil
}

// usable checks that a forecasting or recommendation model in state (with
// reason, when it failed) is ready, and that the session may use it.
func (m *Manager) usable(ctx *sql.Context, md *Model, state, reason string) error {
	switch state {
	case Training:
		return fmt.Errorf("%w: model '%s' is still training (%s)", ErrNotReady, md.Name, md.Progress())
	case Failed:
		return fmt.Errorf("%w: model '%s' failed: %s", ErrNotReady, md.Name, reason)
	}
	if m.Authorize != nil {
		return m.Authorize(ctx, md)
	}
	return nil
}

// createRedshiftForecast reads MODEL_TYPE FORECAST's SETTINGS (HORIZON,
// FREQUENCY, PERCENTILES; MAX_RUNTIME; the AWS-only ones ignored).
func (m *Manager) createRedshiftForecast(ctx *sql.Context, spec *Spec, owner string) error {
	fs := &ForecastSpec{Quantiles: []float64{0.1, 0.5, 0.9}}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errBadForecast}, args...)...)
	}
	sp := *spec
	sp.Forecast = fs
	for k, v := range spec.Settings {
		switch k {
		case "horizon":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 || n > 100000 {
				return bad("HORIZON '%s' must be a positive integer", v)
			}
			fs.Horizon = n
		case "frequency":
			if _, err := ParseFrequency(v); err != nil {
				return bad("%v", err)
			}
			fs.Frequency = v
		case "percentiles":
			fs.Quantiles = nil
			for _, p := range strings.Split(v, ",") {
				p = strings.TrimSpace(p)
				if strings.EqualFold(p, "mean") {
					continue
				}
				q, err := strconv.ParseFloat(p, 64)
				if err != nil || q <= 0 || q >= 1 {
					return bad("PERCENTILES '%s': each must be a number between 0 and 1 (or 'mean')", v)
				}
				fs.Quantiles = append(fs.Quantiles, q)
			}
		case "max_runtime", "max_cells", "s3_bucket", "kms_key_id", "s3_garbage_collect":
		default:
			return bad("unknown setting '%s' for MODEL_TYPE FORECAST (use HORIZON, FREQUENCY, PERCENTILES, MAX_RUNTIME)", strings.ToUpper(k))
		}
	}
	if fs.Horizon == 0 {
		return bad("MODEL_TYPE FORECAST needs SETTINGS (HORIZON n)")
	}
	// The id and time columns are the query's other columns: the time
	// column by its type, the id column the remaining one.
	sp.Settings = nil
	return m.CreateForecast(ctx, &sp, owner)
}
