// Package model is a trained model as SibylDB stores and runs it: the
// preprocessing that turns a SQL row into numbers (Encoder), the fitted
// algorithm, and the labels its outputs stand for (Artifact).
//
// An Artifact is plain JSON, stored in the catalog, so a model survives
// restarts and can be copied to a model server (`sibyldb serve-model`).
// Prediction is pure Go: no cgo call runs per row.
package model

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Kind is how a feature column is turned into numbers.
type Kind string

// The feature kinds.
const (
	// Numeric columns are used as they are (trees) or standardised
	// (linear models and networks); missing values become NaN or the mean.
	Numeric Kind = "numeric"
	// Categorical columns are one-hot encoded over their most frequent
	// levels; other levels, and NULL, set no indicator.
	Categorical Kind = "categorical"
	// Temporal columns (DATE, DATETIME, TIMESTAMP) become year, month,
	// day of month, day of week, hour and days since 1970.
	Temporal Kind = "temporal"
)

// MaxCategories bounds the one-hot levels of a categorical column; rarer
// levels share the all-zero encoding.
const MaxCategories = 64

// temporalParts are the numbers a temporal column expands to.
var temporalParts = []string{"year", "month", "day", "weekday", "hour", "epoch_days"}

// Feature describes how one input column is encoded.
type Feature struct {
	Name string `json:"name"`
	// Type is the column's SQL type as declared, for the prediction
	// function's signature.
	Type string `json:"type"`
	Kind Kind   `json:"kind"`
	// Mean and Std of the numbers the column contributes (per part for
	// temporal columns), from the training data: they impute missing
	// values and standardise when the encoder scales.
	Mean []float64 `json:"mean,omitempty"`
	Std  []float64 `json:"std,omitempty"`
	// Categories are the one-hot levels of a categorical column.
	Categories []string `json:"categories,omitempty"`

	index map[string]int
}

// width is how many numbers the feature contributes.
func (f *Feature) width() int {
	switch f.Kind {
	case Categorical:
		return len(f.Categories)
	case Temporal:
		return len(temporalParts)
	}
	return 1
}

// Encoder turns rows of SQL values into feature vectors.
type Encoder struct {
	Features []Feature `json:"features"`
	// Scale standardises numbers and imputes missing ones with the mean,
	// as linear models and networks need; trees see raw numbers and NaN.
	Scale bool `json:"scale"`
}

// Width is the length of an encoded vector.
func (e *Encoder) Width() int {
	n := 0
	for i := range e.Features {
		n += e.Features[i].width()
	}
	return n
}

// Names are the encoded columns' names, for importance reports: a
// categorical column contributes name=level, a temporal one name.part.
func (e *Encoder) Names() []string {
	var out []string
	for _, f := range e.Features {
		switch f.Kind {
		case Categorical:
			for _, c := range f.Categories {
				out = append(out, f.Name+"="+c)
			}
		case Temporal:
			for _, p := range temporalParts {
				out = append(out, f.Name+"."+p)
			}
		default:
			out = append(out, f.Name)
		}
	}
	return out
}

// Owners maps each encoded column to the input column it came from, so
// per-column contributions can be summed back to what the user wrote.
func (e *Encoder) Owners() []int {
	var out []int
	for i := range e.Features {
		for j := 0; j < e.Features[i].width(); j++ {
			out = append(out, i)
		}
	}
	return out
}

// prepare builds lookup tables after decoding.
func (e *Encoder) prepare() error {
	for i := range e.Features {
		f := &e.Features[i]
		switch f.Kind {
		case Numeric, Temporal, Categorical:
		default:
			return fmt.Errorf("feature %q: unknown kind %q", f.Name, f.Kind)
		}
		if f.Kind != Categorical && (len(f.Mean) != f.width() || len(f.Std) != f.width()) {
			return fmt.Errorf("feature %q: statistics do not match its width", f.Name)
		}
		f.index = make(map[string]int, len(f.Categories))
		for j, c := range f.Categories {
			f.index[c] = j
		}
	}
	return nil
}

// Encode writes the feature vector of row (one value per feature, in
// order) into out, which has Width entries.
func (e *Encoder) Encode(row []any, out []float64) error {
	if len(row) != len(e.Features) {
		return fmt.Errorf("expected %d features, got %d", len(e.Features), len(row))
	}
	k := 0
	for i := range e.Features {
		f := &e.Features[i]
		v := row[i]
		switch f.Kind {
		case Numeric:
			x, ok := Float(v)
			out[k] = e.finish(f, 0, x, ok)
			k++
		case Categorical:
			for j := range f.Categories {
				out[k+j] = 0
			}
			if v != nil {
				if j, ok := f.index[Label(v)]; ok {
					out[k+j] = 1
				}
			}
			k += len(f.Categories)
		case Temporal:
			t, ok := Time(v)
			for p := range temporalParts {
				x := 0.0
				if ok {
					x = temporalPart(t, p)
				}
				out[k+p] = e.finish(f, p, x, ok)
			}
			k += len(temporalParts)
		}
	}
	return nil
}

func (e *Encoder) finish(f *Feature, part int, x float64, ok bool) float64 {
	if !e.Scale {
		if !ok {
			return math.NaN()
		}
		return x
	}
	if !ok {
		return 0 // the mean, standardised
	}
	return (x - f.Mean[part]) / f.Std[part]
}

func temporalPart(t time.Time, part int) float64 {
	switch temporalParts[part] {
	case "year":
		return float64(t.Year())
	case "month":
		return float64(t.Month())
	case "day":
		return float64(t.Day())
	case "weekday":
		return float64(t.Weekday())
	case "hour":
		return float64(t.Hour())
	}
	return float64(t.Unix()) / 86400
}

// FitEncoder learns the encoding of columns from training rows: the
// statistics of numeric and temporal columns and the levels of categorical
// ones. cols[i] describes rows[*][i].
func FitEncoder(cols []Feature, rows [][]any, scale bool) (*Encoder, error) {
	e := &Encoder{Features: make([]Feature, len(cols)), Scale: scale}
	for i, c := range cols {
		f := Feature{Name: c.Name, Type: c.Type, Kind: c.Kind}
		switch c.Kind {
		case Categorical:
			counts := map[string]int{}
			for _, r := range rows {
				if r[i] != nil {
					counts[Label(r[i])]++
				}
			}
			f.Categories = topLevels(counts, MaxCategories)
		case Numeric, Temporal:
			w := f.width()
			sum, sq, n := make([]float64, w), make([]float64, w), 0
			for _, r := range rows {
				var xs [6]float64
				ok := false
				if c.Kind == Numeric {
					xs[0], ok = Float(r[i])
				} else if t, tok := Time(r[i]); tok {
					ok = true
					for p := range temporalParts {
						xs[p] = temporalPart(t, p)
					}
				}
				if !ok {
					continue
				}
				n++
				for p := 0; p < w; p++ {
					sum[p] += xs[p]
					sq[p] += xs[p] * xs[p]
				}
			}
			f.Mean, f.Std = make([]float64, w), make([]float64, w)
			for p := 0; p < w; p++ {
				f.Std[p] = 1
				if n == 0 {
					continue
				}
				f.Mean[p] = sum[p] / float64(n)
				if v := sq[p]/float64(n) - f.Mean[p]*f.Mean[p]; v > 1e-12 {
					f.Std[p] = math.Sqrt(v)
				}
			}
		default:
			return nil, fmt.Errorf("feature %q: unknown kind %q", c.Name, c.Kind)
		}
		e.Features[i] = f
	}
	if err := e.prepare(); err != nil {
		return nil, err
	}
	return e, nil
}

// topLevels returns the n most frequent levels, ties broken by name, in
// name order.
func topLevels(counts map[string]int, n int) []string {
	levels := make([]string, 0, len(counts))
	for l := range counts {
		levels = append(levels, l)
	}
	sort.Slice(levels, func(i, j int) bool {
		if counts[levels[i]] != counts[levels[j]] {
			return counts[levels[i]] > counts[levels[j]]
		}
		return levels[i] < levels[j]
	})
	if len(levels) > n {
		levels = levels[:n]
	}
	sort.Strings(levels)
	return levels
}

// Float converts a SQL value to a number; ok is false for NULL and for
// values that are not numbers.
func Float(v any) (float64, bool) {
	switch x := v.(type) {
	case nil:
		return 0, false
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case float32:
		return float64(x), !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	case int16:
		return float64(x), true
	case int8:
		return float64(x), true
	case int:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint8:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case decimal.Decimal:
		f, _ := x.Float64()
		return f, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	case []byte:
		return Float(string(x))
	case time.Time:
		return float64(x.Unix()) / 86400, true
	}
	return 0, false
}

// Time converts a SQL date or time value; ok is false otherwise.
func Time(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02 15:04:05", "2006-01-02", time.RFC3339Nano} {
			if t, err := time.Parse(layout, x); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// Label is the text form of a value used as a category or class label.
func Label(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case time.Time:
		return x.Format("2006-01-02 15:04:05.999999")
	case decimal.Decimal:
		return x.String()
	}
	return fmt.Sprint(v)
}
