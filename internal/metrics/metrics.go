// Package metrics publishes SibylDB's figures in the Prometheus text
// format: every counter SHOW STATUS shows (read live at scrape time, not
// copied), per-endpoint request latency and batch size histograms, rows
// and errors per ML function, models by state, connections, statement
// latency by kind, and the Go runtime's and the process's own metrics.
//
// The hot paths pay little: a statement costs one histogram observation
// on a series resolved at start-up, an endpoint request one lookup in a
// sync.Map and two observations; nothing is recorded per row.
package metrics

import (
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/status"
)

// namespace prefixes every SibylDB metric.
const namespace = "sibyl"

// FunctionStatser lists the ML functions' figures (*mlfunc.Manager).
type FunctionStatser interface {
	FunctionStats() []mlfunc.FunctionStats
}

// ModelLister lists the models and their states (*models.Manager).
type ModelLister interface {
	All() []*models.Model
	State(*models.Model) string
}

// Sources are the server's live figures the collectors read at scrape
// time. Any may be nil (tests), and its metrics are then absent.
type Sources struct {
	// Status holds the SHOW STATUS counters, SibylDB's and GMS's.
	Status    *status.Registry
	Functions FunctionStatser
	Models    ModelLister
	// Version is the server's release, published in sibyl_build_info.
	Version string
}

// Statement kinds of sibyl_statement_duration_seconds.
const (
	kindSelect = iota
	kindInsert
	kindUpdate
	kindDelete
	kindDDL
	kindOther
	numKinds
)

var kindNames = [numKinds]string{"select", "insert", "update", "delete", "ddl", "other"}

// statementKind maps a statement's first keyword (upper case, as
// sqlext.FirstKeyword returns it) to its kind. A WITH statement counts as
// a SELECT, which it almost always is.
func statementKind(keyword string) int {
	switch keyword {
	case "SELECT", "WITH", "TABLE", "VALUES":
		return kindSelect
	case "INSERT", "REPLACE":
		return kindInsert
	case "UPDATE":
		return kindUpdate
	case "DELETE":
		return kindDelete
	case "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE":
		return kindDDL
	}
	return kindOther
}

// Buckets: statements from 100µs, model requests from 1ms, both to a
// minute (the default aurora_ml_inference_timeout is 30 s); batch sizes
// up to the largest batches endpoints take.
var (
	statementBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	requestBuckets   = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	batchBuckets     = []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}
)

// Metrics is the server's Prometheus registry and the instruments the
// server updates as it runs.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	statements  [numKinds]prometheus.Observer
	stmtErrors  [numKinds]prometheus.Counter
	reqDuration *prometheus.HistogramVec
	reqRows     *prometheus.HistogramVec
	reqErrors   *prometheus.CounterVec
	endpoints   sync.Map // endpoint name as called -> *endpointSeries
}

type endpointSeries struct {
	duration, rows prometheus.Observer
	errors         prometheus.Counter
}

// New returns the metrics of a server whose figures src holds.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	stmt := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "statement_duration_seconds",
		Help:    "Time from receiving a statement to its last result row, by kind (select, insert, update, delete, ddl, other).",
		Buckets: statementBuckets,
	}, []string{"kind"})
	stmtErr := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "statement_errors_total",
		Help: "Statements that ended in an error, by kind.",
	}, []string{"kind"})
	for k, name := range kindNames {
		m.statements[k] = stmt.WithLabelValues(name)
		m.stmtErrors[k] = stmtErr.WithLabelValues(name)
	}
	m.reqDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "ml_endpoint_request_duration_seconds",
		Help:    "Latency of ML function requests to a model endpoint (or Bedrock model), retries included.",
		Buckets: requestBuckets,
	}, []string{"endpoint"})
	m.reqRows = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Name: "ml_endpoint_request_rows",
		Help:    "Rows sent in one request to a model endpoint (the batch size).",
		Buckets: batchBuckets,
	}, []string{"endpoint"})
	m.reqErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "ml_endpoint_request_errors_total",
		Help: "Requests to a model endpoint that failed (after retries).",
	}, []string{"endpoint"})
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help:        "Always 1; the labels name the server's release and Go version.",
		ConstLabels: prometheus.Labels{"version": src.Version, "goversion": runtime.Version()},
	})
	build.Set(1)
	m.reg.MustRegister(stmt, stmtErr, &endpointCollector{m: m, src: src.Functions}, build,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if src.Status != nil {
		m.reg.MustRegister(&statusCollector{reg: src.Status})
		m.reg.MustRegister(newServerCollector(src.Status))
	}
	if src.Functions != nil {
		m.reg.MustRegister(newFunctionCollector(src.Functions))
	}
	if src.Models != nil {
		m.reg.MustRegister(newModelCollector(src.Models))
	}
	m.handler = promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes are cheap but not free: a runaway scraper waits
		// rather than piling up goroutines.
		MaxRequestsInFlight: 4,
		Timeout:             30 * time.Second,
	}))
	return m
}

// Handler serves the metrics in the Prometheus text format, with no
// authentication of its own: Serve adds it, and a listener that mounts
// the handler elsewhere must guard it the same way (see Auth).
func (m *Metrics) Handler() http.Handler { return m.handler }

// Registry is the Prometheus registry, for tests and for adding
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveStatement records one statement's duration; keyword is its first
// keyword in upper case (sqlext.FirstKeyword). It does not allocate.
func (m *Metrics) ObserveStatement(keyword string, d time.Duration, failed bool) {
	k := statementKind(keyword)
	m.statements[k].Observe(d.Seconds())
	if failed {
		m.stmtErrors[k].Inc()
	}
}

// ObserveRequest implements mlfunc.RequestObserver.
func (m *Metrics) ObserveRequest(endpoint string, rows int, d time.Duration, failed bool) {
	s := m.endpointSeries(endpoint)
	s.duration.Observe(d.Seconds())
	s.rows.Observe(float64(rows))
	if failed {
		s.errors.Inc()
	}
}

// endpointSeries returns endpoint's series, resolved once per name.
// Endpoint names are case-insensitive, so the label is lower case.
func (m *Metrics) endpointSeries(endpoint string) *endpointSeries {
	if s, ok := m.endpoints.Load(endpoint); ok {
		return s.(*endpointSeries)
	}
	label := strings.ToLower(endpoint)
	s, _ := m.endpoints.LoadOrStore(endpoint, &endpointSeries{
		duration: m.reqDuration.WithLabelValues(label),
		rows:     m.reqRows.WithLabelValues(label),
		errors:   m.reqErrors.WithLabelValues(label),
	})
	return s.(*endpointSeries)
}

// endpointCollector publishes the endpoint request series. Before it
// does, it creates (at zero) the series of every endpoint an ML function
// calls: a series that first appears with its first request would hide
// that request from rate(), which needs two samples.
type endpointCollector struct {
	m   *Metrics
	src FunctionStatser
}

func (c *endpointCollector) Describe(ch chan<- *prometheus.Desc) {
	c.m.reqDuration.Describe(ch)
	c.m.reqRows.Describe(ch)
	c.m.reqErrors.Describe(ch)
}

func (c *endpointCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src != nil {
		for _, f := range c.src.FunctionStats() {
			c.m.endpointSeries(f.Endpoint)
		}
	}
	c.m.reqDuration.Collect(ch)
	c.m.reqRows.Collect(ch)
	c.m.reqErrors.Collect(ch)
}
