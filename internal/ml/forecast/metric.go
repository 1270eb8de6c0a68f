package forecast

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Forecast accuracy metrics, by HeatWave's names (ML_TRAIN's
// optimization_metric and ML_SCORE's metric for the forecasting task).
// They follow scikit-learn and sktime, whose definitions HeatWave
// documents: the "neg_" ones are errors negated so that greater is
// better, and the symmetric MAPE is a fraction, not a percentage.
const (
	MetricMAE    = "neg_mean_absolute_error"
	MetricMSE    = "neg_mean_squared_error"
	MetricRMSE   = "neg_root_mean_squared_error"
	MetricMaxAE  = "neg_max_absolute_error"
	MetricMedAE  = "neg_median_absolute_error"
	MetricMSLE   = "neg_mean_squared_log_error"
	MetricRMSLE  = "neg_root_mean_squared_log_error"
	MetricSMAPE  = "neg_sym_mean_abs_percent_error"
	MetricR2     = "r2"
	metricPrefix = "neg_"
)

// Metrics are the metric names Score knows, sorted.
var Metrics = func() []string {
	m := []string{MetricMAE, MetricMSE, MetricRMSE, MetricMaxAE, MetricMedAE, MetricMSLE, MetricRMSLE, MetricSMAPE, MetricR2}
	sort.Strings(m)
	return m
}()

// ErrMetric is returned for an unknown metric or data a metric is not
// defined for.
var ErrMetric = errors.New("forecast metric")

// KnownMetric reports whether name (any case) is one of Metrics.
func KnownMetric(name string) bool {
	return containsString(Metrics, strings.ToLower(name))
}

// Score is the metric name (one of Metrics, any case) of forecast pred
// against actual: greater is better.
func Score(name string, actual, pred []float64) (float64, error) {
	name = strings.ToLower(name)
	if len(actual) == 0 || len(actual) != len(pred) {
		return 0, fmt.Errorf("%w: %d actual values for %d forecasts", ErrMetric, len(actual), len(pred))
	}
	n := float64(len(actual))
	abs := make([]float64, len(actual))
	for i := range actual {
		abs[i] = math.Abs(actual[i] - pred[i])
	}
	var loss float64
	switch name {
	case MetricMAE:
		loss = sum(abs) / n
	case MetricMSE, MetricRMSE:
		for _, e := range abs {
			loss += e * e
		}
		if loss /= n; name == MetricRMSE {
			loss = math.Sqrt(loss)
		}
	case MetricMaxAE:
		for _, e := range abs {
			loss = max(loss, e)
		}
	case MetricMedAE:
		loss = quantile(abs, 0.5)
	case MetricMSLE, MetricRMSLE:
		for i := range actual {
			if actual[i] < 0 || pred[i] < 0 {
				return 0, fmt.Errorf("%w: %s cannot be used when the target or the forecast has negative values", ErrMetric, name)
			}
			d := math.Log1p(actual[i]) - math.Log1p(pred[i])
			loss += d * d
		}
		if loss /= n; name == MetricRMSLE {
			loss = math.Sqrt(loss)
		}
	case MetricSMAPE:
		for i := range actual {
			if den := math.Abs(actual[i]) + math.Abs(pred[i]); den > 0 {
				loss += 2 * abs[i] / den
			}
		}
		loss /= n
	case MetricR2:
		mean := sum(actual) / n
		var res, tot float64
		for i := range actual {
			res += abs[i] * abs[i]
			tot += (actual[i] - mean) * (actual[i] - mean)
		}
		if tot == 0 {
			// scikit-learn's convention for a constant target.
			if res == 0 {
				return 1, nil
			}
			return 0, nil
		}
		return 1 - res/tot, nil
	default:
		return 0, fmt.Errorf("%w: unknown metric '%s' (known: %s)", ErrMetric, name, strings.Join(Metrics, ", "))
	}
	return -loss, nil
}

// loss turns a Score into a non-negative loss, smaller is better, so that
// Train's preference for the ensemble (a relative margin) means the same
// for every metric: the negated error, or 1 - R² (proportional to the
// squared error).
func loss(name string, score float64) float64 {
	if strings.HasPrefix(strings.ToLower(name), metricPrefix) {
		return -score
	}
	return 1 - score
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}
