package heatwave

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/ml/forecast"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
)

// forecastScorer returns ML_PREDICT_TABLE's scorer for a forecasting
// model: each input row's datetime_index (and series id) picks a trained
// forecast step; rows outside the forecast horizon get NULL and a warning.
// A model with exogenous variables forecasts each row from its values of
// them, which the table must therefore have, as HeatWave requires.
func (r *Routines) forecastScorer(ctx *sql.Context, md *models.Model, schema sql.Schema, table string) (func([]sql.Row) ([]any, []map[string]any, error), error) {
	series, err := r.Models.Forecasts(ctx, md)
	if err != nil {
		return nil, modelError(err)
	}
	fs := md.Forecast
	col := func(name string) int {
		for i, c := range schema {
			if strings.EqualFold(c.Name, name) {
				return i
			}
		}
		return -1
	}
	ti, ii := col(fs.TimeColumn), -1
	if ti < 0 {
		return nil, mlError("Table %s lacks the datetime_index column '%s' of the forecasting model", table, fs.TimeColumn)
	}
	if fs.IDColumn != "" {
		if ii = col(fs.IDColumn); ii < 0 {
			return nil, mlError("Table %s lacks the series id column '%s' of the forecasting model", table, fs.IDColumn)
		}
	}
	xi := make([]int, len(fs.Exogenous))
	for v, name := range fs.Exogenous {
		if xi[v] = col(name); xi[v] < 0 {
			return nil, mlError("Table %s lacks the column '%s' of the forecasting model's exogenous_variables: their values over the forecast horizon are needed", table, name)
		}
	}
	byID := make(map[string]*models.SeriesForecast, len(series))
	for i := range series {
		byID[series[i].ID] = &series[i]
	}
	lo, hi := forecast.QuantileKey(lowQ(fs.Quantiles)), forecast.QuantileKey(highQ(fs.Quantiles))
	outside := 0
	// exogRows gathers, per series with an exogenous model, the batch's
	// rows to forecast together.
	type exogRows struct {
		rows, steps []int
		x           [][]float64
	}
	return func(batch []sql.Row) ([]any, []map[string]any, error) {
		preds := make([]any, len(batch))
		mls := make([]map[string]any, len(batch))
		put := func(k, step int, mean float64, q map[string][]float64, qi int) {
			preds[k] = mean
			ml := map[string]any{"predictions": map[string]any{md.Target: mean}}
			if q[lo] != nil && q[hi] != nil {
				ml["prediction_interval_"+md.Target] = []any{q[lo][qi], q[hi][qi]}
			}
			mls[k] = ml
		}
		var pending map[*models.SeriesForecast]*exogRows
		for k, row := range batch {
			v, err := sql.UnwrapAny(ctx, row[ti])
			if err != nil {
				return nil, nil, err
			}
			t, ok := v.(time.Time)
			id := ""
			if ii >= 0 {
				iv, err := sql.UnwrapAny(ctx, row[ii])
				if err != nil {
					return nil, nil, err
				}
				id = labelOf(iv)
			}
			s := byID[id]
			step, inside := 0, false
			if ok && s != nil {
				step, inside = s.At(t)
			}
			if !inside {
				outside++
				if outside == 1 {
					ctx.Warn(mysql.ERUnknownError, "rows of %s outside the model's forecast horizon (or of unknown series) are predicted as NULL", table)
				}
				mls[k] = map[string]any{"predictions": map[string]any{md.Target: nil}}
				continue
			}
			if s.Fcst.Exog == nil {
				put(k, step, s.Fcst.Mean[step], s.Fcst.Quantiles, step)
				continue
			}
			x := make([]float64, len(xi))
			for v, i := range xi {
				val, err := sql.UnwrapAny(ctx, row[i])
				if err != nil {
					return nil, nil, err
				}
				f, ok := model.Float(val)
				if !ok {
					f = math.NaN() // missing: the trees' default branch
				}
				x[v] = f
			}
			if pending == nil {
				pending = map[*models.SeriesForecast]*exogRows{}
			}
			p := pending[s]
			if p == nil {
				p = &exogRows{}
				pending[s] = p
			}
			p.rows, p.steps, p.x = append(p.rows, k), append(p.steps, step), append(p.x, x)
		}
		for s, p := range pending {
			mean, q, err := s.Fcst.Exog.Predict(p.steps, p.x)
			if err != nil {
				return nil, nil, err
			}
			for j, k := range p.rows {
				put(k, p.steps[j], mean[j], q, j)
			}
		}
		return preds, mls, nil
	}, nil
}

func labelOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	}
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(sprint(v)), "\""))
}

func lowQ(qs []float64) float64 {
	lo := 1.0
	for _, q := range qs {
		lo = min(lo, q)
	}
	return lo
}

func highQ(qs []float64) float64 {
	hi := 0.0
	for _, q := range qs {
		hi = max(hi, q)
	}
	return hi
}

// trainForecast is ML_TRAIN's 'forecasting' task: the target (or the
// first of endogenous_variables) forecast from datetime_index. The
// horizon defaults to one day of steps; the SibylDB option 'horizon' sets
// it.
func (r *Routines) trainForecastSpec(opts map[string]any, target string) (*models.ForecastSpec, string, error) {
	fs := &models.ForecastSpec{Quantiles: []float64{0.1, 0.5, 0.9}}
	if v, ok := opts["datetime_index"].(string); ok {
		fs.TimeColumn = v
	}
	if fs.TimeColumn == "" {
		return nil, "", mlError("ML001051: datetime_index must be specified for the forecasting task.")
	}
	if v, ok := opts["endogenous_variables"]; ok {
		vars, err := stringList(v, "endogenous_variables")
		if err != nil {
			return nil, "", err
		}
		if len(vars) != 1 {
			return nil, "", mlError("endogenous_variables: SibylDB forecasts one endogenous variable per model, got %d", len(vars))
		}
		if target == "" {
			target = vars[0]
		} else if !strings.EqualFold(target, vars[0]) {
			return nil, "", mlError("ML001052: the target column '%s' must be the endogenous variable '%s'.", target, vars[0])
		}
	}
	if target == "" {
		return nil, "", mlError("endogenous_variables must be specified for the forecasting task.")
	}
	if v, ok := opts["exogenous_variables"]; ok && v != nil {
		vars, err := stringList(v, "exogenous_variables")
		if err != nil {
			return nil, "", err
		}
		for i, x := range vars {
			if strings.EqualFold(x, target) || strings.EqualFold(x, fs.TimeColumn) {
				return nil, "", mlError("exogenous_variables: '%s' is the endogenous variable or the datetime_index", x)
			}
			for _, y := range vars[:i] {
				if strings.EqualFold(x, y) {
					return nil, "", mlError("exogenous_variables: '%s' is listed twice", x)
				}
			}
		}
		fs.Exogenous = vars
	}
	if v, ok := opts["horizon"]; ok {
		f, ok := model.Float(v)
		if !ok || f < 1 || f != float64(int(f)) || f > 100000 {
			return nil, "", mlError("horizon must be a positive integer, got %v", v)
		}
		fs.Horizon = int(f)
	}
	var err error
	if fs.Models, err = forecastModels(opts); err != nil {
		return nil, "", err
	}
	if v, ok := opts["optimization_metric"]; ok && v != nil {
		m := strings.ToLower(fmt.Sprint(v))
		if !forecast.KnownMetric(m) {
			return nil, "", mlError("Invalid optimization_metric '%v' for the forecasting task (supported: %s)", v, strings.Join(forecast.Metrics, ", "))
		}
		fs.Metric = m
	}
	return fs, target, nil
}

// forecasterNames maps HeatWave's forecasting model names, and SibylDB's
// own, to the forecasters SibylDB trains. HeatWave's exponential
// smoothing family (ETS, Holt-Winters, Theta, STL with ES) is the
// double-seasonal Holt-Winters; its autoregressive family (SARIMAX,
// VARMAX, dynamic factor, STL with ARIMA) is the trees on lag features,
// SibylDB's autoregressive model.
var forecasterNames = map[string]string{
	"naiveforecaster":     forecast.SeasonalNaive,
	"expsmoothforecaster": forecast.HoltWinters,
	"etsforecaster":       forecast.HoltWinters,
	"thetaforecaster":     forecast.HoltWinters,
	"stlwesforecaster":    forecast.HoltWinters,
	"stlwetsforecaster":   forecast.HoltWinters,
	"sarimaxforecaster":   forecast.GBT,
	"varmaxforecaster":    forecast.GBT,
	"dynfactorforecaster": forecast.GBT,
	"stlwarimaforecaster": forecast.GBT,
	"seasonalnaive":       forecast.SeasonalNaive,
	"seasonalmedian":      forecast.SeasonalMedian,
	"scaledseasonalnaive": forecast.ScaledNaive,
	"holtwinters":         forecast.HoltWinters,
	"gbtlags":             forecast.GBT,
	"ensemble":            forecast.Ensemble,
}

// forecastModels are the candidates model_list and exclude_model_list
// leave (nil: the default ones). The ensemble combines Holt-Winters and
// the trees: a list names it to have it, and excluding either part
// excludes it.
func forecastModels(opts map[string]any) ([]string, error) {
	read := func(key string) ([]string, error) {
		v, ok := opts[key]
		if !ok || v == nil {
			return nil, nil
		}
		names, err := stringList(v, key)
		if err != nil {
			return nil, err
		}
		out := make([]string, 0, len(names))
		for _, n := range names {
			m, ok := forecasterNames[strings.ToLower(n)]
			if !ok {
				return nil, mlError("Invalid model '%s' in %s for the forecasting task (SibylDB forecasts with NaiveForecaster, the exponential smoothing family ETSForecaster/ExpSmoothForecaster/ThetaForecaster/STLwESForecaster/STLwETSForecaster, the autoregressive family SARIMAXForecaster/VARMAXForecaster/DynFactorForecaster/STLwARIMAForecaster, or its own names %s)",
					n, key, strings.Join(append(append([]string{}, forecast.Models...), forecast.SeasonalMedian, forecast.ScaledNaive), ", "))
			}
			out = append(out, m)
		}
		return out, nil
	}
	include, err := read("model_list")
	if err != nil {
		return nil, err
	}
	exclude, err := read("exclude_model_list")
	if err != nil {
		return nil, err
	}
	if include == nil && exclude == nil {
		return nil, nil
	}
	if include == nil {
		include = forecast.Models
	}
	if slices.Contains(exclude, forecast.HoltWinters) || slices.Contains(exclude, forecast.GBT) {
		exclude = append(exclude, forecast.Ensemble)
	}
	var out []string
	for _, m := range include {
		if !slices.Contains(exclude, m) && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, mlError("model_list and exclude_model_list leave no model to train for the forecasting task")
	}
	return out, nil
}

func sprint(v any) string { return fmt.Sprint(v) }
