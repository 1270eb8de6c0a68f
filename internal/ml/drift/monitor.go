package drift

import (
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/status"
)

// System variables.
const (
	SampleRateVar    = "sibyl_drift_sample_rate"
	BucketSecondsVar = "sibyl_drift_bucket_seconds"
)

// Defaults: 1% of scored rows, in one-minute buckets.
const (
	DefaultSampleRate    = 0.01
	DefaultBucketSeconds = 60
	// MaxBuckets bounds a tracker's memory: older buckets are dropped
	// (24 hours at the default bucket size).
	MaxBuckets = 1440
	// MinRows is how many sampled rows a model needs before its PSI counts
	// towards the Sibyl_model_drift_max_psi_milli status variable: fewer
	// rows give noisy proportions.
	MinRows = 100
	// gaugeWindow is the time the status variable's PSI looks back over.
	gaugeWindow = time.Hour
)

// SystemVariables are the drift settings, global and dynamic.
func SystemVariables() []sql.SystemVariable {
	return []sql.SystemVariable{
		&sql.MysqlSystemVariable{
			Name:    SampleRateVar,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Dynamic: true,
			Type:    types.NewSystemDoubleType(SampleRateVar, 0, 1),
			Default: DefaultSampleRate,
		},
		&sql.MysqlSystemVariable{
			Name:    BucketSecondsVar,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Dynamic: true,
			Type:    types.NewSystemIntType(BucketSecondsVar, 1, 3600, false),
			Default: int64(DefaultBucketSeconds),
		},
	}
}

// sampleRateOverride replaces the system variable in tests.
var sampleRateOverride atomic.Pointer[float64]

func sampleRate() float64 {
	if r := sampleRateOverride.Load(); r != nil {
		return *r
	}
	if _, v, ok := sql.SystemVariables.GetGlobal(SampleRateVar); ok {
		if f, ok := v.(float64); ok {
			return f
		}
	}
	return DefaultSampleRate
}

func bucketSeconds() int64 {
	if _, v, ok := sql.SystemVariables.GetGlobal(BucketSecondsVar); ok {
		switch n := v.(type) {
		case int64:
			return max(n, 1)
		case int:
			return int64(max(n, 1))
		}
	}
	return DefaultBucketSeconds
}

// Monitor holds the trackers of the trained models, keyed by model and
// trained artifact, and publishes the Sibyl_model_drift_* status variables.
type Monitor struct {
	sampled *status.Counter // Sibyl_model_drift_sampled_rows
	maxPSI  *status.Counter // Sibyl_model_drift_max_psi_milli

	mu       sync.RWMutex
	trackers map[string]*Tracker
}

// NewMonitor returns a monitor publishing its status variables in reg (nil:
// none).
func NewMonitor(reg *status.Registry) *Monitor {
	m := &Monitor{trackers: map[string]*Tracker{}}
	if reg != nil {
		m.sampled = reg.Counter("Sibyl_model_drift_sampled_rows")
		m.maxPSI = reg.Counter("Sibyl_model_drift_max_psi_milli")
	}
	return m
}

// Add starts tracking the artifact key with baseline b, replacing any
// tracker of that key.
func (m *Monitor) Add(key string, b *Baseline) *Tracker {
	b.Prepare()
	t := &Tracker{mon: m, key: key, base: b, buckets: map[int64]*bucket{}}
	for _, d := range b.Features {
		t.offsets = append(t.offsets, t.width)
		t.width += d.Bins()
	}
	if b.Prediction != nil {
		t.offsets = append(t.offsets, t.width)
		t.width += b.Prediction.Bins()
	}
	t.lastPSI.Store(math.Float64bits(math.NaN()))
	m.mu.Lock()
	m.trackers[key] = t
	m.mu.Unlock()
	return t
}

// Get returns the tracker of key.
func (m *Monitor) Get(key string) (*Tracker, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.trackers[key]
	return t, ok
}

// Remove stops tracking key.
func (m *Monitor) Remove(key string) {
	m.mu.Lock()
	delete(m.trackers, key)
	m.mu.Unlock()
	m.publish()
}

// publish sets the max-PSI status variable from the trackers' latest PSI.
func (m *Monitor) publish() {
	if m.maxPSI == nil {
		return
	}
	m.mu.RLock()
	best := 0.0
	for _, t := range m.trackers {
		if p := math.Float64frombits(t.lastPSI.Load()); p > best {
			best = p
		}
	}
	m.mu.RUnlock()
	_ = status.Global().SetGlobal(m.maxPSI.Name(), uint64(math.Round(best*1000)))
}

// Tracker counts the sampled rows one trained artifact scores.
type Tracker struct {
	mon     *Monitor
	key     string
	base    *Baseline
	offsets []int // first counter of each feature, then of the prediction
	width   int

	mu      sync.Mutex
	buckets map[int64]*bucket // by bucket start (Unix seconds)
	// lastPSI is the largest PSI over the last hour (float64 bits), as of
	// the last bucket change or report.
	lastPSI atomic.Uint64
}

type bucket struct {
	rows   atomic.Int64
	counts []atomic.Int64
}

// Baseline returns the training distributions.
func (t *Tracker) Baseline() *Baseline { return t.base }

// Observe samples rows (feature values in baseline order) and their
// predictions (nil when the caller has none) at the current sample rate.
func (t *Tracker) Observe(rows [][]any, preds []any) {
	rate := sampleRate()
	if rate <= 0 || len(rows) == 0 {
		return
	}
	// Geometric skips: the gap to the next sampled row of a Bernoulli(rate)
	// process, so unsampled rows cost nothing.
	var logq float64
	if rate < 1 {
		logq = math.Log1p(-rate)
	}
	next := func() int {
		if rate >= 1 {
			return 1
		}
		g := math.Log(1-rand.Float64()) / logq
		if g >= float64(len(rows)) {
			return len(rows) + 1
		}
		return 1 + int(g)
	}
	i := next() - 1
	if i >= len(rows) {
		return
	}
	b := t.bucket(time.Now())
	n := int64(0)
	for ; i < len(rows); i += next() {
		row := rows[i]
		for f := range t.base.Features {
			if f < len(row) {
				b.counts[t.offsets[f]+t.base.Features[f].Bin(row[f])].Add(1)
			}
		}
		if t.base.Prediction != nil && preds != nil {
			b.counts[t.offsets[len(t.base.Features)]+t.base.Prediction.Bin(preds[i])].Add(1)
		}
		n++
	}
	b.rows.Add(n)
	if t.mon.sampled != nil {
		t.mon.sampled.Add(uint64(n))
	}
}

// bucket returns the bucket of time now, creating it (and dropping the
// oldest beyond MaxBuckets) when it is new.
func (t *Tracker) bucket(now time.Time) *bucket {
	size := bucketSeconds()
	start := now.Unix() / size * size
	t.mu.Lock()
	b, ok := t.buckets[start]
	if !ok {
		b = &bucket{counts: make([]atomic.Int64, t.width)}
		t.buckets[start] = b
		if len(t.buckets) > MaxBuckets {
			oldest := start
			for s := range t.buckets {
				oldest = min(oldest, s)
			}
			delete(t.buckets, oldest)
		}
	}
	t.mu.Unlock()
	if !ok {
		// A new bucket: the previous ones are complete, so refresh the
		// status variable (once per bucket, not per row).
		t.Refresh(now)
	}
	return b
}

// Refresh recomputes the tracker's largest PSI over the last hour and
// republishes the monitor's maximum.
func (t *Tracker) Refresh(now time.Time) {
	r := t.Report(now.Add(-gaugeWindow))
	best := math.NaN()
	if r.Rows >= MinRows {
		best = 0
		for _, d := range r.Items {
			if d.PSI > best {
				best = d.PSI
			}
		}
	}
	t.lastPSI.Store(math.Float64bits(best))
	t.mon.publish()
}

// Item is the drift of one feature or of the prediction.
type Item struct {
	Name       string
	Prediction bool
	Kind       string
	PSI        float64 // NaN when nothing was sampled
	Rows       int64   // sampled rows that had a value for it
}

// Report is the drift of a model since a time.
type Report struct {
	Since time.Time // start of the first bucket counted
	Rows  int64     // sampled rows
	Items []Item
}

// Report sums the buckets that end after since and computes each
// feature's and the prediction's PSI.
func (t *Tracker) Report(since time.Time) Report {
	size := bucketSeconds()
	total := make([]int64, t.width)
	r := Report{}
	t.mu.Lock()
	var starts []int64
	for s := range t.buckets {
		if s+size > since.Unix() {
			starts = append(starts, s)
		}
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	for _, s := range starts {
		b := t.buckets[s]
		r.Rows += b.rows.Load()
		for i := range total {
			total[i] += b.counts[i].Load()
		}
	}
	t.mu.Unlock()
	if len(starts) > 0 {
		r.Since = time.Unix(starts[0], 0).UTC()
	}
	item := func(d *Distribution, off int, pred bool) Item {
		counts := total[off : off+d.Bins()]
		it := Item{Name: d.Name, Prediction: pred, Kind: d.Kind, PSI: d.PSI(counts)}
		for _, c := range counts {
			it.Rows += c
		}
		return it
	}
	for f := range t.base.Features {
		r.Items = append(r.Items, item(&t.base.Features[f], t.offsets[f], false))
	}
	if p := t.base.Prediction; p != nil {
		r.Items = append(r.Items, item(p, t.offsets[len(t.base.Features)], true))
	}
	return r
}
