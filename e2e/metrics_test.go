package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/metrics"
	"github.com/sibyldb/sibyldb/internal/testserver"
)

const metricsToken = "e2e-metrics-token-4f9c1d2b7a6e8f03"

var metricsURLRE = regexp.MustCompile(`metrics on (\S+/metrics)`)

// metricsURL is where the server said it serves its metrics.
func metricsURL(t *testing.T, srv *testserver.Server) string {
	t.Helper()
	m := metricsURLRE.FindStringSubmatch(srv.Log())
	require.NotNil(t, m, "the server logs where it serves metrics:\n%s", srv.Log())
	return strings.TrimSuffix(m[1], `"`)
}

// tokenFile writes the metrics token to a file only its owner reads.
func tokenFile(t *testing.T, token string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "metrics.token")
	require.NoError(t, os.WriteFile(p, []byte(token+"\n"), 0o600))
	return p
}

// getMetrics fetches url with the bearer token (none when empty).
func getMetrics(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, body
}

// scrapeMetrics fetches and parses the metrics; the text format must be
// valid.
func scrapeMetrics(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := getMetrics(t, url, token)
	require.Equal(t, http.StatusOK, code, "%s", body)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "the Prometheus text format must parse")
	return fams
}

// series returns the value of family name's series with labels.
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	require.True(t, ok, "the server exposes %s", name)
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount())
		}
		t.Fatalf("%s: unexpected type %s", name, f.GetType())
	}
	t.Fatalf("%s has no series with %v", name, labels)
	return 0
}

// prometheus is a running Prometheus server.
type prometheus struct {
	t    *testing.T
	addr string
}

// startPrometheus runs the real Prometheus server scraping target (a
// HOST:PORT serving /metrics) every second with the bearer token in
// credentialsFile.
func startPrometheus(t *testing.T, target, credentialsFile string) *prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (scripts/install-deps.sh installs it)")
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sibyldb
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: %s
    static_configs:
      - targets: ['%s']
`, credentialsFile, target)
	cfgFile := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(cfg), 0o600))
	addr, err := testserver.FreeAddr()
	require.NoError(t, err)
	var log bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus log:\n%s", log.String())
		}
	})
	return &prometheus{t: t, addr: addr}
}

// query runs an instant PromQL query; ok is false while Prometheus is not
// up yet or the query has no result.
func (p *prometheus) query(q string) (value float64, ok bool) {
	resp, err := http.Get("http://" + p.addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, false
	}
	require.NotEqual(p.t, "error", out.Status, "query %s: %s", q, out.Error)
	if len(out.Data.Result) == 0 {
		return 0, false
	}
	s, _ := out.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// await polls q until cond holds of its value.
func (p *prometheus) await(q string, cond func(float64) bool) float64 {
	p.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		v, ok := p.query(q)
		if ok && cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("prometheus: %s is %v (ok %v) after 45s", q, v, ok)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestMetricsScrapedByPrometheus scrapes the server with the real
// Prometheus server, authenticated with the bearer token, and queries it:
// after a batched ML query the rate of model requests is non-zero and the
// endpoint latency histogram has the batches.
func TestMetricsScrapedByPrometheus(t *testing.T) {
	const n = 600
	tok := tokenFile(t, metricsToken)
	srv, model, db := mlSetup(t, n, n, "SAGEMAKER", "--metrics-addr", "127.0.0.1:0", "--metrics-token-file", tok)
	u, err := url.Parse(metricsURL(t, srv))
	require.NoError(t, err)
	prom := startPrometheus(t, u.Host, tok)

	// The first scrape happens before the query, so rate() sees the
	// counters grow between two samples.
	prom.await(`up{job="sibyldb"}`, func(v float64) bool { return v == 1 })
	prom.await(`sibyl_aurora_ml_actual_request_total`, func(v float64) bool { return v == 0 })
	prom.await(`sibyl_ml_endpoint_request_duration_seconds_count{endpoint="model"}`, func(v float64) bool { return v == 0 })

	batchedQuery(t, db, model, n)
	requests := float64(len(model.Batches()))

	prom.await(`rate(sibyl_aurora_ml_actual_request_total[30s])`, func(v float64) bool { return v > 0 })
	prom.await(`rate(sibyl_aurora_ml_logical_request_total[30s])`, func(v float64) bool { return v > 0 })
	prom.await(`sibyl_aurora_ml_logical_request_total`, func(v float64) bool { return v == n })
	prom.await(`sibyl_ml_endpoint_request_duration_seconds_count{endpoint="model"}`, func(v float64) bool { return v == requests })
	prom.await(`sibyl_ml_endpoint_request_rows_sum{endpoint="model"}`, func(v float64) bool { return v == n })
	p99 := prom.await(`histogram_quantile(0.99, sum by (le) (rate(sibyl_ml_endpoint_request_duration_seconds_bucket{endpoint="model"}[30s])))`,
		func(v float64) bool { return v > 0 && !math.IsNaN(v) && !math.IsInf(v, 0) })
	require.Less(t, p99, 60.0)
	prom.await(`sibyl_ml_function_rows_total{schema="ml",function="twice",endpoint="model"}`, func(v float64) bool { return v == n })
	prom.await(`sum(rate(sibyl_statement_duration_seconds_count{kind="select"}[30s]))`, func(v float64) bool { return v > 0 })
	prom.await(`go_goroutines`, func(v float64) bool { return v > 0 })
}

// TestMetricsEndpoint checks /metrics through the real server: the token
// is required, the text format is valid, every SHOW STATUS counter is
// there with its value, and the figures follow what the server did (ML
// requests and failures, a trained model, statements, connections). The
// Grafana dashboard uses only metrics the server exposes.
func TestMetricsEndpoint(t *testing.T) {
	const n = 300
	srv, model, db := mlSetup(t, n, n, "SAGEMAKER", "--metrics-addr", "127.0.0.1:0", "--metrics-token-file", tokenFile(t, metricsToken))
	url := metricsURL(t, srv)

	for _, tok := range []string{"", "wrong-token-0123456789abcdef", metricsToken[1:]} {
		code, _ := getMetrics(t, url, tok)
		require.Equal(t, http.StatusUnauthorized, code, "token %q", tok)
	}

	batchedQuery(t, db, model, n)
	// An endpoint failure: a client error is not retried.
	model.Set(func(b *testserver.Behaviour) {
		b.Fail = func(int64) (int, string) { return http.StatusBadRequest, `{"error":"bad input"}` }
	})
	_, err := db.Exec("SELECT twice(x) FROM nums WHERE id < 5")
	require.Error(t, err)
	model.Set(func(b *testserver.Behaviour) { b.Fail = nil })
	mustExec(t, db, `CREATE MODEL lin FROM (SELECT id, x FROM nums) TARGET x FUNCTION lin_fn
		AUTO OFF MODEL_TYPE LINEAR_LEARNER PROBLEM_TYPE REGRESSION`)
	require.Equal(t, "READY", waitModel(t, db, "lin")["Model State"])
	lockWaitTimeout(t, db)

	// SHOW STATUS first: the scrape comes after, so counters can only
	// have grown in between (the audit log writes in the background).
	want := globalStatus(t, db, "Aurora_ml%")
	for k, v := range globalStatus(t, db, "Sibyl%") {
		want[k] = v
	}
	require.GreaterOrEqual(t, len(want), 20, "%v", want)
	fams := scrapeMetrics(t, url, metricsToken)
	for name, v := range want {
		f, ok := fams[metrics.StatusMetricName(name)]
		require.True(t, ok, "%s is exposed as %s", name, metrics.StatusMetricName(name))
		require.Equal(t, dto.MetricType_COUNTER, f.GetType(), name)
		got := f.GetMetric()[0].GetCounter().GetValue()
		if strings.HasPrefix(name, "Aurora_ml") {
			require.EqualValues(t, v, got, name)
		} else {
			require.GreaterOrEqual(t, got, float64(v), name)
		}
	}
	require.EqualValues(t, n+5, want["Aurora_ml_logical_request_cnt"], "the figures are the server's own")

	fn := map[string]string{"schema": "ml", "function": "twice", "endpoint": "model"}
	require.EqualValues(t, n, series(t, fams, "sibyl_ml_function_rows_total", fn))
	require.EqualValues(t, 1, series(t, fams, "sibyl_ml_function_errors_total", fn))
	require.EqualValues(t, len(model.Batches())+1, series(t, fams, "sibyl_ml_function_requests_total", fn))
	ep := map[string]string{"endpoint": "model"}
	require.EqualValues(t, len(model.Batches())+1, series(t, fams, "sibyl_ml_endpoint_request_duration_seconds", ep))
	require.EqualValues(t, 1, series(t, fams, "sibyl_ml_endpoint_request_errors_total", ep))
	require.Equal(t, dto.MetricType_HISTOGRAM, fams["sibyl_ml_endpoint_request_rows"].GetType())

	require.EqualValues(t, 1, series(t, fams, "sibyl_ml_models", map[string]string{"state": "READY"}))
	require.EqualValues(t, 0, series(t, fams, "sibyl_ml_models", map[string]string{"state": "TRAINING"}))
	require.EqualValues(t, 0, series(t, fams, "sibyl_ml_models", map[string]string{"state": "FAILED"}))

	require.GreaterOrEqual(t, series(t, fams, "sibyl_statement_duration_seconds", map[string]string{"kind": "ddl"}), 5.0)
	require.GreaterOrEqual(t, series(t, fams, "sibyl_statement_duration_seconds", map[string]string{"kind": "insert"}), 1.0)
	require.GreaterOrEqual(t, series(t, fams, "sibyl_statement_duration_seconds", map[string]string{"kind": "select"}), 2.0)
	require.GreaterOrEqual(t, series(t, fams, "sibyl_statement_errors_total", map[string]string{"kind": "select"}), 1.0)
	require.GreaterOrEqual(t, series(t, fams, "sibyl_statement_errors_total", map[string]string{"kind": "update"}), 1.0)
	require.GreaterOrEqual(t, series(t, fams, "sibyl_row_lock_waits_total", nil), 1.0)
	require.GreaterOrEqual(t, series(t, fams, "sibyl_row_lock_timeouts_total", nil), 1.0)
	require.GreaterOrEqual(t, series(t, fams, "sibyl_connections_open", nil), 1.0, "the test's pool holds a connection")
	require.GreaterOrEqual(t, series(t, fams, "sibyl_connections_total", nil), 1.0)
	require.Equal(t, dto.MetricType_GAUGE, fams["sibyl_connections_open"].GetType())
	require.Greater(t, series(t, fams, "go_goroutines", nil), 0.0)
	require.Contains(t, fams, "process_resident_memory_bytes")

	checkDashboard(t, fams)
}

// lockWaitTimeout makes one statement wait for a row lock until
// innodb_lock_wait_timeout (1205).
func lockWaitTimeout(t *testing.T, db *sql.DB) {
	t.Helper()
	mustExec(t, db, "CREATE TABLE locked (id INT PRIMARY KEY, v INT)", "INSERT INTO locked VALUES (1, 0)")
	ctx := context.Background()
	holder := session(t, db, "BEGIN", "UPDATE locked SET v = 1 WHERE id = 1")
	other := session(t, db, "SET innodb_lock_wait_timeout = 1")
	_, err := other.ExecContext(ctx, "UPDATE locked SET v = 2 WHERE id = 1")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1205, num)
	_, err = holder.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
}

// promNameRE finds metric names in PromQL: SibylDB's and the Go runtime's
// and process's.
var promNameRE = regexp.MustCompile(`\b(?:sibyl|go|process)_[a-zA-Z0-9_:]*`)

// checkDashboard fails when deploy/grafana/sibyldb.json uses a metric the
// server does not expose, so the dashboard cannot silently rot.
func checkDashboard(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "deploy", "grafana", "sibyldb.json"))
	require.NoError(t, err)
	var dash map[string]any
	require.NoError(t, json.Unmarshal(raw, &dash), "the dashboard is JSON")
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && (k == "expr" || k == "definition" || k == "query") {
					exprs = append(exprs, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(dash)
	used := map[string]bool{}
	for _, e := range exprs {
		for _, name := range promNameRE.FindAllString(e, -1) {
			used[name] = true
		}
	}
	require.GreaterOrEqual(t, len(used), 25, "the dashboard's queries name the metrics: %v", used)
	exposed := func(name string) bool {
		if _, ok := fams[name]; ok {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f, ok := fams[strings.TrimSuffix(name, suffix)]; ok && strings.HasSuffix(name, suffix) &&
				(f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY) {
				return true
			}
		}
		return false
	}
	for name := range used {
		require.True(t, exposed(name), "the Grafana dashboard uses %s, which the server does not expose", name)
	}
}

// TestMetricsFlagsRefused: the server refuses, before it starts, to serve
// metrics off loopback without a token, or with an unusable token.
func TestMetricsFlagsRefused(t *testing.T) {
	short := tokenFile(t, "short")
	good := tokenFile(t, metricsToken)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"non-loopback without auth", []string{"--metrics-addr", "0.0.0.0:0"}, "refusing to serve metrics on a non-loopback address without authentication"},
		{"all interfaces without auth", []string{"--metrics-addr", ":0"}, "refusing to serve metrics on a non-loopback address"},
		{"short token", []string{"--metrics-addr", "127.0.0.1:0", "--metrics-token-file", short}, "at least 16"},
		{"missing token file", []string{"--metrics-addr", "127.0.0.1:0", "--metrics-token-file", filepath.Join(t.TempDir(), "none")}, "no such file"},
		{"token without address", []string{"--metrics-token-file", good}, "--metrics-token-file needs --metrics-addr or --http-addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			args := append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0"}, tc.args...)
			out, err := exec.CommandContext(ctx, testserver.Binary(t), args...).CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "%s", out)
			require.Equal(t, 2, exit.ExitCode(), "%s", out)
			require.Contains(t, string(out), tc.want)
			require.NotContains(t, string(out), "listening on")
		})
	}
}
