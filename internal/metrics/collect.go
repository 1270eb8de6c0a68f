package metrics

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/status"
)

// StatusMetricName is the Prometheus name of a SHOW STATUS counter:
// lower case, prefixed sibyl_ (Sibyl_* counters already are), Aurora's
// redundant _cnt suffix dropped, and _total added as Prometheus names
// counters. Aurora_ml_logical_request_cnt becomes
// sibyl_aurora_ml_logical_request_total.
func StatusMetricName(variable string) string {
	n := strings.TrimSuffix(strings.ToLower(variable), "_cnt")
	if !strings.HasPrefix(n, namespace+"_") {
		n = namespace + "_" + n
	}
	return n + "_total"
}

// statusCollector publishes every SibylDB counter of the status registry
// (Aurora_ml_*, Sibyl_*) as a Prometheus counter. They only grow, except
// that FLUSH STATUS resets them to zero, which Prometheus's rate() reads
// as a counter reset, as it should. The set of counters is whatever the
// server's packages registered, so the collector is unchecked (Describe
// sends nothing) and reads the registry afresh at every scrape.
type statusCollector struct {
	reg *status.Registry

	mu    sync.Mutex
	descs map[string]*prometheus.Desc // by status variable name
}

func (c *statusCollector) Describe(chan<- *prometheus.Desc) {}

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	// The values are read under the registry's lock and sent after it,
	// so a slow scraper never holds up a package registering a counter.
	type reading struct {
		name  string
		value uint64
	}
	var rs []reading
	c.reg.Each(func(name string, v uint64) { rs = append(rs, reading{name, v}) })
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.descs == nil {
		c.descs = map[string]*prometheus.Desc{}
	}
	for _, r := range rs {
		d, ok := c.descs[r.name]
		if !ok {
			d = prometheus.NewDesc(StatusMetricName(r.name), "SHOW GLOBAL STATUS LIKE '"+r.name+"'.", nil, nil)
			c.descs[r.name] = d
		}
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(r.value))
	}
}

// serverStatus are the engine's own status variables (kept by
// go-mysql-server) that say how busy the server is.
var serverStatus = []struct {
	variable, name, help string
	kind                 prometheus.ValueType
}{
	{"Threads_connected", "connections_open", "Client connections open now (Threads_connected).", prometheus.GaugeValue},
	{"Connections", "connections_total", "Connection attempts since the server started (Connections).", prometheus.CounterValue},
	{"Aborted_connects", "connections_aborted_total", "Connection attempts that failed (Aborted_connects).", prometheus.CounterValue},
	{"Max_used_connections", "connections_max_used", "Most connections open at once since the server started (Max_used_connections).", prometheus.GaugeValue},
	{"Threads_running", "threads_running", "Connections running a statement now (Threads_running).", prometheus.GaugeValue},
	{"Questions", "questions_total", "Statements clients sent (Questions).", prometheus.CounterValue},
	{"Slow_queries", "slow_queries_total", "Statements that took longer than long_query_time (Slow_queries).", prometheus.CounterValue},
}

type serverCollector struct {
	reg   *status.Registry
	descs []*prometheus.Desc
}

func newServerCollector(reg *status.Registry) *serverCollector {
	c := &serverCollector{reg: reg}
	for _, s := range serverStatus {
		c.descs = append(c.descs, prometheus.NewDesc(namespace+"_"+s.name, s.help, nil, nil))
	}
	return c
}

func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	for i, s := range serverStatus {
		_, v, ok := c.reg.GetGlobal(s.variable)
		if !ok {
			continue
		}
		f, ok := number(v)
		if !ok {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.descs[i], s.kind, f)
	}
}

// number converts a status variable's value, whatever integer type the
// engine keeps it in.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// functionCollector publishes information_schema.ML_FUNCTION_STATS'
// counters per function.
type functionCollector struct {
	src                                      FunctionStatser
	requests, rows, errors, single, canceled *prometheus.Desc
	inTokens, outTokens                      *prometheus.Desc
}

func newFunctionCollector(src FunctionStatser) *functionCollector {
	labels := []string{"schema", "function", "endpoint"}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_ml_function_"+name, help, labels, nil)
	}
	return &functionCollector{src: src,
		requests:  d("requests_total", "Requests the ML function sent to its endpoint."),
		rows:      d("rows_total", "Rows the ML function's endpoint scored (answers received)."),
		errors:    d("errors_total", "Requests of the ML function that failed."),
		single:    d("single_calls_total", "Calls of the ML function that could not be batched (one row per request)."),
		canceled:  d("cancelled_requests_total", "Requests the statement abandoned before the answer came (LIMIT reached, KILL QUERY)."),
		inTokens:  d("input_tokens_total", "Input tokens generative models reported for the ML function."),
		outTokens: d("output_tokens_total", "Output tokens generative models reported for the ML function."),
	}
}

func (c *functionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.rows, c.errors, c.single, c.canceled, c.inTokens, c.outTokens} {
		ch <- d
	}
}

func (c *functionCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.src.FunctionStats() {
		lv := []string{s.Schema, s.Name, strings.ToLower(s.Endpoint)}
		for _, m := range []struct {
			d *prometheus.Desc
			v uint64
		}{{c.requests, s.Requests}, {c.rows, s.Rows}, {c.errors, s.Errors}, {c.single, s.SingleCalls},
			{c.canceled, s.Cancelled}, {c.inTokens, s.InputTokens}, {c.outTokens, s.OutputTokens}} {
			ch <- prometheus.MustNewConstMetric(m.d, prometheus.CounterValue, float64(m.v), lv...)
		}
	}
}

// modelStates are the states SHOW MODEL prints; each is published even
// at zero, so dashboards and alerts see a series from the start.
var modelStates = []string{models.Training, models.Ready, models.Failed}

// modelCollector publishes how many models (CREATE MODEL) are in each
// state: the TRAINING ones are the training jobs running now.
type modelCollector struct {
	src  ModelLister
	desc *prometheus.Desc
}

func newModelCollector(src ModelLister) *modelCollector {
	return &modelCollector{src: src, desc: prometheus.NewDesc(namespace+"_ml_models",
		"Models by state (TRAINING, READY, FAILED, as SHOW MODEL prints it); TRAINING counts the training jobs running now.",
		[]string{"state"}, nil)}
}

func (c *modelCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *modelCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[string]int{}
	for _, md := range c.src.All() {
		counts[c.src.State(md)]++
	}
	for _, s := range modelStates {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[s]), s)
		delete(counts, s)
	}
	for s, n := range counts { // a state added later still shows
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), s)
	}
}
