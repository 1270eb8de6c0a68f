// Package drift watches deployed models for data drift: how far the rows a
// model scores have moved away from the rows it was trained on.
//
// At training time a Baseline records, for every feature and for the
// prediction, a binned distribution of the training rows: decile bins for
// numbers (and dates, as days), the most frequent categories plus "other"
// for everything else, and a bin for NULL / unreadable values in both. While
// the model scores, a Tracker samples the scored rows (Bernoulli sampling at
// the rate sibyl_drift_sample_rate, with geometric skips so that unsampled
// rows cost nothing) into per-time-bucket bin counters. The population
// stability index of a feature over the rows scored since a time compares
// the sampled proportions a_i with the training proportions e_i:
//
//	PSI = sum_i (a_i - e_i) * ln(a_i / e_i)
//
// where a proportion of 0 is replaced by Epsilon (0.0001), the usual
// convention that keeps empty bins finite. PSI < 0.1 is read as stable,
// 0.1 to 0.25 as a moderate shift and above 0.25 as a significant shift.
package drift

import (
	"math"
	"sort"
	"time"

	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// Kinds of distribution.
const (
	Numeric     = "numeric"
	Categorical = "categorical"
)

// Epsilon replaces an empty bin's proportion in PSI.
const Epsilon = 1e-4

// Deciles and TopK size the training distributions.
const (
	Deciles = 10
	TopK    = 20
)

// Distribution is the binned training distribution of one feature or of
// the prediction.
type Distribution struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Edges are the ascending, distinct inner cut points of a numeric
	// distribution: bin 0 holds v <= Edges[0], bin i holds
	// Edges[i-1] < v <= Edges[i], bin len(Edges) holds v > Edges[last].
	Edges []float64 `json:"edges,omitempty"`
	// Categories are the most frequent training categories; one more bin
	// holds all other values.
	Categories []string `json:"categories,omitempty"`
	// Props are the training proportions of each bin; the last bin holds
	// NULL and values that are not of the feature's kind.
	Props []float64 `json:"props"`

	index map[string]int // category -> bin
}

// Bins is the number of bins, Props' length.
func (d *Distribution) Bins() int {
	if d.Kind == Numeric {
		return len(d.Edges) + 2
	}
	return len(d.Categories) + 2
}

// Bin is the bin of value v.
func (d *Distribution) Bin(v any) int {
	missing := d.Bins() - 1
	if v == nil {
		return missing
	}
	if d.Kind == Numeric {
		f, ok := number(v)
		if !ok {
			return missing
		}
		return sort.SearchFloat64s(d.Edges, f)
	}
	if i, ok := d.index[model.Label(v)]; ok {
		return i
	}
	return len(d.Categories) // other
}

func (d *Distribution) prepare() {
	if d.Kind == Categorical {
		d.index = make(map[string]int, len(d.Categories))
		for i, c := range d.Categories {
			d.index[c] = i
		}
	}
}

// number reads numbers, and dates as days since the epoch.
func number(v any) (float64, bool) {
	if t, ok := v.(time.Time); ok {
		return float64(t.Unix()) / 86400, true
	}
	return model.Float(v)
}

// Fit builds the training distribution of values.
func Fit(name, kind string, values []any) Distribution {
	d := Distribution{Name: name, Kind: kind}
	if kind == Numeric {
		var xs []float64
		for _, v := range values {
			if f, ok := number(v); ok {
				xs = append(xs, f)
			}
		}
		sort.Float64s(xs)
		if len(xs) > 0 {
			for q := 1; q < Deciles; q++ {
				e := xs[(len(xs)-1)*q/Deciles]
				if len(d.Edges) == 0 || e > d.Edges[len(d.Edges)-1] {
					d.Edges = append(d.Edges, e)
				}
			}
		}
	} else {
		counts := map[string]int{}
		for _, v := range values {
			if v != nil {
				counts[model.Label(v)]++
			}
		}
		for c := range counts {
			d.Categories = append(d.Categories, c)
		}
		sort.Slice(d.Categories, func(i, j int) bool {
			a, b := d.Categories[i], d.Categories[j]
			if counts[a] != counts[b] {
				return counts[a] > counts[b]
			}
			return a < b
		})
		if len(d.Categories) > TopK {
			d.Categories = d.Categories[:TopK]
		}
	}
	d.prepare()
	d.Props = make([]float64, d.Bins())
	for _, v := range values {
		d.Props[d.Bin(v)]++
	}
	if len(values) > 0 {
		for i := range d.Props {
			d.Props[i] /= float64(len(values))
		}
	}
	return d
}

// PSI is the population stability index of counts (one per bin) against
// the training proportions; NaN when counts is empty.
func (d *Distribution) PSI(counts []int64) float64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	if n == 0 {
		return math.NaN()
	}
	psi := 0.0
	for i, e := range d.Props {
		a := float64(counts[i]) / float64(n)
		a, e = math.Max(a, Epsilon), math.Max(e, Epsilon)
		psi += (a - e) * math.Log(a/e)
	}
	return psi
}

// Baseline is what a trained model's drift is measured against.
type Baseline struct {
	Features   []Distribution `json:"features"`
	Prediction *Distribution  `json:"prediction,omitempty"`
	Rows       int            `json:"rows"`
	Created    time.Time      `json:"created"`
}

// Prepare readies a stored baseline for binning.
func (b *Baseline) Prepare() {
	for i := range b.Features {
		b.Features[i].prepare()
	}
	if b.Prediction != nil {
		b.Prediction.prepare()
	}
}

// Level names a PSI by the usual reading.
func Level(psi float64) string {
	switch {
	case math.IsNaN(psi):
		return "no data"
	case psi < 0.1:
		return "stable"
	case psi <= 0.25:
		return "moderate"
	}
	return "significant"
}

// KindOf maps a model feature kind to a distribution kind.
func KindOf(k model.Kind) string {
	if k == model.Numeric || k == model.Temporal {
		return Numeric
	}
	return Categorical
}

// PredictionKind is the distribution kind of a problem's predictions.
func PredictionKind(p model.Problem) string {
	switch p {
	case model.Regression, model.Anomaly:
		return Numeric
	}
	return Categorical
}
