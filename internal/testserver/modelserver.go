package testserver

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ModelServer is a real HTTP model server on loopback that speaks the
// serving protocols exactly (SageMaker text/csv invocations, KServe v2,
// MLflow scoring, OpenAI chat completions), computes its answers with
// Score, and counts what it receives so tests can check batching.
type ModelServer struct {
	URL string
	// CACert is the PEM certificate an HTTPS model server is trusted by.
	CACert []byte

	behaviour Behaviour // guarded by mu; change it with Set

	requests atomic.Int64
	inFlight atomic.Int64
	rows     atomic.Int64
	mu       sync.Mutex
	batches  []int
	paths    []string
	headers  []http.Header
	bodies   [][]byte // request bodies, for Received
	last     Recorded
	srv      *httptest.Server
}

// Behaviour is what the server does with a request.
type Behaviour struct {
	// Score maps one row of argument values (as text; nil for NULL) to the
	// result. Default: the first value, echoed.
	Score func(row []*string) string
	// JSONResponses answers SageMaker CSV requests with JSON predictions.
	JSONResponses bool
	// Delay is added to every request (a slow model).
	Delay time.Duration
	// Hold, when set, keeps every request waiting until it is closed:
	// tests use it to look at the server while model calls are in flight.
	Hold <-chan struct{}
	// Drip, when set, sends the response one byte at a time with this
	// pause between bytes (a server that never quite finishes).
	Drip time.Duration
	// Fail, when set, decides per request whether to fail and with what
	// status and body (status 0 = no failure).
	Fail func(n int64) (status int, body string)
	// FailRow, when set, fails a request holding a row for which it
	// returns a status other than 0, with that status and body.
	FailRow func(row []*string) (status int, body string)
	// Embed, when set, makes KServe v2 requests embedding requests: the
	// answer is an FP32 tensor [rows, dim] of Embed(first value). OpenAI
	// /v1/embeddings requests always use it (default TextVector).
	Embed func(text string) []float64
}

// TextVector is the test servers' embedding of a text: its length in
// bytes, its number of words, its number of letters e, and 1.5.
func TextVector(text string) []float64 {
	return []float64{float64(len(text)), float64(len(strings.Fields(text))), float64(strings.Count(text, "e")), 1.5}
}

// Set changes the server's Behaviour safely while it serves.
func (m *ModelServer) Set(change func(b *Behaviour)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	change(&m.behaviour)
}

// StartModelServer starts a model server that is closed when the test ends.
func StartModelServer(t testing.TB) *ModelServer {
	m := NewModelServer()
	t.Cleanup(m.Close)
	return m
}

// NewModelServer starts a model server on a free loopback port; Close
// stops it. Benchmarks use it directly.
func NewModelServer() *ModelServer {
	m := &ModelServer{}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	m.URL = m.srv.URL
	return m
}

// StartTLSModelServer is StartModelServer over HTTPS, with a certificate
// from a private authority; CACert is that authority in PEM.
func StartTLSModelServer(t testing.TB) *ModelServer {
	m := &ModelServer{}
	m.srv = httptest.NewTLSServer(http.HandlerFunc(m.serve))
	m.URL = m.srv.URL
	m.CACert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.srv.Certificate().Raw})
	t.Cleanup(m.Close)
	return m
}

// Close stops the server (to test an endpoint going away).
func (m *ModelServer) Close() { m.srv.Close() }

// Requests is the number of requests received.
func (m *ModelServer) Requests() int64 { return m.requests.Load() }

// InFlight is the number of requests being answered now.
func (m *ModelServer) InFlight() int64 { return m.inFlight.Load() }

// Rows is the number of rows received.
func (m *ModelServer) Rows() int64 { return m.rows.Load() }

// Batches lists the rows per request, in arrival order.
func (m *ModelServer) Batches() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]int(nil), m.batches...)
}

// Paths lists the request paths.
func (m *ModelServer) Paths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.paths...)
}

// Recorded is a request as the server received it.
type Recorded struct {
	Method, Host, Path string
	Header             http.Header
	Body               []byte
}

// Last returns the last scoring request received.
func (m *ModelServer) Last() Recorded {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}

// LastHeader returns a header of the last request.
func (m *ModelServer) LastHeader(name string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.headers) == 0 {
		return ""
	}
	return m.headers[len(m.headers)-1].Get(name)
}

// Received reports whether any request body so far contained s: tests of
// data that must not leave use it.
func (m *ModelServer) Received(s string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.bodies {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// Reset clears the counts.
func (m *ModelServer) Reset() {
	m.requests.Store(0)
	m.rows.Store(0)
	m.mu.Lock()
	m.batches, m.paths, m.headers, m.bodies = nil, nil, nil, nil
	m.mu.Unlock()
}

func score(b Behaviour, row []*string) string {
	if b.Score != nil {
		return b.Score(row)
	}
	if len(row) == 0 || row[0] == nil {
		return ""
	}
	return *row[0]
}

func (m *ModelServer) serve(w http.ResponseWriter, r *http.Request) {
	n := m.requests.Add(1)
	m.mu.Lock()
	b := m.behaviour
	m.mu.Unlock()
	if r.Method == http.MethodGet {
		w.WriteHeader(http.StatusOK) // /ping, /v2/health/ready
		return
	}
	m.inFlight.Add(1)
	defer m.inFlight.Add(-1)
	if b.Hold != nil {
		select {
		case <-b.Hold:
		case <-r.Context().Done():
			return
		}
	}
	if b.Delay > 0 {
		time.Sleep(b.Delay)
	}
	if b.Fail != nil {
		if status, body := b.Fail(n); status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return
		}
	}
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	m.bodies = append(m.bodies, body)
	m.mu.Unlock()
	var rows [][]*string
	var err error
	switch {
	case strings.HasSuffix(r.URL.Path, "/invocations") && strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv"):
		rows, err = parseCSV(body)
	case strings.HasSuffix(r.URL.Path, "/invocations"):
		rows, err = parseMLflow(body)
	case strings.HasSuffix(r.URL.Path, "/infer"):
		rows, err = parseKServe(body)
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		rows, err = parseChat(body)
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		rows, err = parseEmbeddings(body)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if b.FailRow != nil {
		for _, row := range rows {
			if status, body := b.FailRow(row); status != 0 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, body)
				return
			}
		}
	}
	m.rows.Add(int64(len(rows)))
	m.mu.Lock()
	m.batches = append(m.batches, len(rows))
	m.paths = append(m.paths, r.URL.Path)
	m.headers = append(m.headers, r.Header.Clone())
	m.last = Recorded{Method: r.Method, Host: r.Host, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	m.mu.Unlock()

	embed := b.Embed
	if embed == nil && strings.HasSuffix(r.URL.Path, "/embeddings") {
		embed = TextVector
	}
	if embed != nil {
		writeEmbeddings(w, r.URL.Path, rows, embed)
		return
	}
	results := make([]string, len(rows))
	for i, row := range rows {
		results[i] = score(b, row)
	}
	if b.Drip > 0 {
		w.Header().Set("Content-Type", "text/csv")
		body := []byte(strings.Join(results, "\n") + "\n")
		for _, c := range body {
			if _, err := w.Write([]byte{c}); err != nil {
				return
			}
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(b.Drip):
			}
		}
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/infer"):
		data := make([]any, len(results))
		for i, s := range results {
			data[i] = s
		}
		writeJSON(w, map[string]any{"model_name": "m", "outputs": []map[string]any{
			{"name": "output-0", "shape": []int{len(results)}, "datatype": "BYTES", "data": data}}})
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		writeJSON(w, map[string]any{"id": "c", "object": "chat.completion", "choices": []map[string]any{
			{"index": 0, "message": map[string]string{"role": "assistant", "content": results[0]}, "finish_reason": "stop"}}})
	case strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") && !b.JSONResponses:
		w.Header().Set("Content-Type", "text/csv")
		cw := csv.NewWriter(w)
		for _, s := range results {
			_ = cw.Write([]string{s})
		}
		cw.Flush()
	default:
		writeJSON(w, map[string]any{"predictions": results})
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// parseCSV reads text/csv rows; an unquoted empty field is NULL.
func parseCSV(body []byte) ([][]*string, error) {
	var rows [][]*string
	for len(body) > 0 {
		// One record per line, honouring quotes that span lines.
		rec, rest, err := nextCSVRecord(body)
		if err != nil {
			return nil, err
		}
		rows = append(rows, rec)
		body = rest
	}
	return rows, nil
}

func nextCSVRecord(b []byte) ([]*string, []byte, error) {
	var rec []*string
	var field strings.Builder
	quoted, inQuotes, i := false, false, 0
	emit := func() {
		s := field.String()
		if s == "" && !quoted {
			rec = append(rec, nil)
		} else {
			rec = append(rec, &s)
		}
		field.Reset()
		quoted = false
	}
	for i < len(b) {
		c := b[i]
		switch {
		case inQuotes && c == '"' && i+1 < len(b) && b[i+1] == '"':
			field.WriteByte('"')
			i++
		case inQuotes && c == '"':
			inQuotes = false
		case inQuotes:
			field.WriteByte(c)
		case c == '"':
			inQuotes, quoted = true, true
		case c == ',':
			emit()
		case c == '\r' && i+1 < len(b) && b[i+1] == '\n':
		case c == '\n':
			emit()
			return rec, b[i+1:], nil
		default:
			field.WriteByte(c)
		}
		i++
	}
	if inQuotes {
		return nil, nil, fmt.Errorf("unterminated quote")
	}
	emit()
	return rec, nil, nil
}

func strs(vals []any) []*string {
	out := make([]*string, len(vals))
	for i, v := range vals {
		if v == nil {
			continue
		}
		s := fmt.Sprint(v)
		if f, ok := v.(float64); ok {
			s = fmt.Sprintf("%g", f)
		}
		out[i] = &s
	}
	return out
}

func parseMLflow(body []byte) ([][]*string, error) {
	var req struct {
		DataframeSplit struct {
			Columns []string `json:"columns"`
			Data    [][]any  `json:"data"`
		} `json:"dataframe_split"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	rows := make([][]*string, len(req.DataframeSplit.Data))
	for i, r := range req.DataframeSplit.Data {
		if len(r) != len(req.DataframeSplit.Columns) {
			return nil, fmt.Errorf("row %d has %d values for %d columns", i, len(r), len(req.DataframeSplit.Columns))
		}
		rows[i] = strs(r)
	}
	return rows, nil
}

func parseKServe(body []byte) ([][]*string, error) {
	var req struct {
		Inputs []struct {
			Shape    []int  `json:"shape"`
			Datatype string `json:"datatype"`
			Data     []any  `json:"data"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	if len(req.Inputs) != 1 || len(req.Inputs[0].Shape) != 2 {
		return nil, fmt.Errorf("want one input tensor of rank 2")
	}
	in := req.Inputs[0]
	n, k := in.Shape[0], in.Shape[1]
	if len(in.Data) != n*k {
		return nil, fmt.Errorf("shape %v but %d values", in.Shape, len(in.Data))
	}
	rows := make([][]*string, n)
	for i := range rows {
		rows[i] = strs(in.Data[i*k : (i+1)*k])
	}
	return rows, nil
}

// parseEmbeddings reads an OpenAI embeddings request: input is a string or
// an array of strings.
func parseEmbeddings(body []byte) ([][]*string, error) {
	var req struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var texts []string
	if err := json.Unmarshal(req.Input, &texts); err != nil {
		var one string
		if err := json.Unmarshal(req.Input, &one); err != nil {
			return nil, fmt.Errorf("'input' must be a string or an array of strings")
		}
		texts = []string{one}
	}
	rows := make([][]*string, len(texts))
	for i := range texts {
		rows[i] = []*string{&texts[i]}
	}
	return rows, nil
}

// writeEmbeddings answers an embedding request: OpenAI's list (in reverse
// order, which the API allows: clients must place vectors by index, and
// usage.prompt_tokens counting a text's words as its tokens) or a
// KServe v2 FP32 tensor [rows, dim].
func writeEmbeddings(w http.ResponseWriter, path string, rows [][]*string, embed func(string) []float64) {
	vecs := make([][]float64, len(rows))
	for i, row := range rows {
		text := ""
		if len(row) > 0 && row[0] != nil {
			text = *row[0]
		}
		vecs[i] = embed(text)
	}
	if strings.HasSuffix(path, "/infer") {
		var data []float64
		for _, v := range vecs {
			data = append(data, v...)
		}
		dim := 0
		if len(vecs) > 0 {
			dim = len(vecs[0])
		}
		writeJSON(w, map[string]any{"model_name": "m", "outputs": []map[string]any{
			{"name": "embedding", "shape": []int{len(vecs), dim}, "datatype": "FP32", "data": data}}})
		return
	}
	data := make([]map[string]any, 0, len(vecs))
	tokens := 0
	for i := len(vecs) - 1; i >= 0; i-- {
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": vecs[i]})
		if len(rows[i]) > 0 && rows[i][0] != nil {
			tokens += words(*rows[i][0])
		}
	}
	writeJSON(w, map[string]any{"object": "list", "data": data, "model": "m",
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens}})
}

func parseChat(body []byte) ([][]*string, error) {
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	if len(req.Messages) == 0 {
		return nil, fmt.Errorf("no messages")
	}
	last := req.Messages[len(req.Messages)-1].Content
	parts := strings.Split(last, "\n")
	row := make([]*string, len(parts))
	for i := range parts {
		row[i] = &parts[i]
	}
	return [][]*string{row}, nil
}
