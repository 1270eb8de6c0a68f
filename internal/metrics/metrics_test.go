package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/status"
)

func TestStatusMetricName(t *testing.T) {
	for _, tc := range []struct{ variable, want string }{
		{"Aurora_ml_logical_request_cnt", "sibyl_aurora_ml_logical_request_total"},
		{"Aurora_ml_cache_hit_cnt", "sibyl_aurora_ml_cache_hit_total"},
		{"Sibyl_row_lock_waits", "sibyl_row_lock_waits_total"},
		{"Sibyl_ml_input_tokens", "sibyl_ml_input_tokens_total"},
		{"Sibyl_write_conflicts", "sibyl_write_conflicts_total"},
	} {
		require.Equal(t, tc.want, StatusMetricName(tc.variable), tc.variable)
		require.True(t, model.LegacyValidation.IsValidMetricName(StatusMetricName(tc.variable)))
	}
}

func TestStatementKind(t *testing.T) {
	for kw, want := range map[string]string{
		"SELECT": "select", "WITH": "select", "INSERT": "insert", "REPLACE": "insert", "UPDATE": "update",
		"DELETE": "delete", "CREATE": "ddl", "ALTER": "ddl", "DROP": "ddl", "TRUNCATE": "ddl", "RENAME": "ddl",
		"SET": "other", "SHOW": "other", "BEGIN": "other", "": "other", "LOAD": "other",
	} {
		require.Equal(t, want, kindNames[statementKind(kw)], kw)
	}
}

func TestAuth(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	a, err := NewAuth(token)
	require.NoError(t, err)
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"Bearer " + token, true},
		{"bearer " + token, true},
		{"Bearer  " + token + " ", true},
		{"", false},
		{"Bearer", false},
		{"Bearer " + token[:31], false},
		{"Bearer " + token + "0", false},
		{"Basic " + token, false},
		{token, false},
	} {
		r, _ := http.NewRequest("GET", "/metrics", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		require.Equal(t, tc.want, a.Allowed(r), "%q", tc.header)
	}
	_, err = NewAuth("short")
	require.ErrorContains(t, err, "at least 16")
}

func TestServeRefusesNonLoopbackWithoutAuth(t *testing.T) {
	h := http.NotFoundHandler()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:9"} {
		_, err := Serve(h, ServeOptions{Addr: addr})
		require.True(t, errors.Is(err, ErrInsecure), "%s: %v", addr, err)
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		ok, err := IsLoopback(addr)
		require.NoError(t, err)
		require.True(t, ok, addr)
	}
}

// scrape serves m on a loopback port guarded by token and returns the
// parsed families.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "the text format must parse")
	return fams
}

func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	require.True(t, ok, "missing %s", name)
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
		return m
	}
	t.Fatalf("%s has no series with %v", name, labels)
	return nil
}

func TestServeExposesLiveFiguresBehindAuth(t *testing.T) {
	const token = "test-token-0123456789abcdef"
	reg := status.Global()
	c := reg.Counter("Sibyl_metrics_unit_test")
	c.Add(3)
	m := New(Sources{Status: reg, Version: "test"})
	auth, err := NewAuth(token)
	require.NoError(t, err)
	srv, err := Serve(m.Handler(), ServeOptions{Addr: "127.0.0.1:0", Auth: auth})
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Close(context.Background())) }()

	for _, hdr := range []string{"", "Bearer wrong-token-0123456789abcdef"} {
		req, _ := http.NewRequest("GET", srv.URL(), nil)
		if hdr != "" {
			req.Header.Set("Authorization", hdr)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, hdr)
		require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
	}

	m.ObserveStatement("SELECT", 3*time.Millisecond, false)
	m.ObserveStatement("INSERT", time.Millisecond, true)
	m.ObserveRequest("Churn", 100, 20*time.Millisecond, false)
	m.ObserveRequest("churn", 50, 40*time.Millisecond, true)

	fams := scrape(t, srv.URL(), token)
	f := fams["sibyl_metrics_unit_test_total"]
	require.NotNil(t, f)
	require.Equal(t, dto.MetricType_COUNTER, f.GetType())
	require.EqualValues(t, 3, f.GetMetric()[0].GetCounter().GetValue())
	require.EqualValues(t, 1, value(t, fams, "sibyl_statement_duration_seconds", map[string]string{"kind": "select"}).GetHistogram().GetSampleCount())
	require.EqualValues(t, 1, value(t, fams, "sibyl_statement_errors_total", map[string]string{"kind": "insert"}).GetCounter().GetValue())
	require.EqualValues(t, 0, value(t, fams, "sibyl_statement_errors_total", map[string]string{"kind": "select"}).GetCounter().GetValue())
	h := value(t, fams, "sibyl_ml_endpoint_request_duration_seconds", map[string]string{"endpoint": "churn"}).GetHistogram()
	require.EqualValues(t, 2, h.GetSampleCount(), "endpoint names are case-insensitive: one series")
	require.InDelta(t, 0.06, h.GetSampleSum(), 1e-9)
	require.EqualValues(t, 150, value(t, fams, "sibyl_ml_endpoint_request_rows", map[string]string{"endpoint": "churn"}).GetHistogram().GetSampleSum())
	require.EqualValues(t, 1, value(t, fams, "sibyl_ml_endpoint_request_errors_total", map[string]string{"endpoint": "churn"}).GetCounter().GetValue())
	require.Equal(t, dto.MetricType_GAUGE, fams["sibyl_connections_open"].GetType())
	require.Equal(t, dto.MetricType_COUNTER, fams["sibyl_connections_total"].GetType())
	require.Contains(t, fams, "go_goroutines")
	require.Contains(t, fams, "process_resident_memory_bytes")
	require.Equal(t, "test", value(t, fams, "sibyl_build_info", nil).GetLabel()[1].GetValue())

	// The counters are read at scrape time, not copied.
	c.Add(2)
	fams = scrape(t, srv.URL(), token)
	require.EqualValues(t, 5, fams["sibyl_metrics_unit_test_total"].GetMetric()[0].GetCounter().GetValue())
}

// The hot paths do not allocate: a statement and an endpoint request
// already seen cost observations only.
func TestObserveDoesNotAllocate(t *testing.T) {
	m := New(Sources{})
	m.ObserveRequest("model", 10, time.Millisecond, false)
	require.Zero(t, testing.AllocsPerRun(200, func() { m.ObserveStatement("SELECT", time.Millisecond, false) }))
	require.Zero(t, testing.AllocsPerRun(200, func() { m.ObserveRequest("model", 10, time.Millisecond, true) }))
}
