// Package remote calls model servers over HTTP: SageMaker-style text/csv
// endpoints, KServe / Open Inference Protocol v2, MLflow scoring servers and
// OpenAI-compatible chat servers.
//
// Every protocol is a Codec that turns a batch of argument rows into one
// HTTP request and the response back into one value per row. Transport
// concerns (timeouts, retries with backoff, connection reuse, counters) are
// shared and live in Endpoint.
package remote

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Protocol names a serving protocol.
type Protocol string

// The protocols SibylDB speaks.
const (
	SageMaker Protocol = "SAGEMAKER"
	KServeV2  Protocol = "KSERVE_V2"
	MLflow    Protocol = "MLFLOW"
	OpenAI    Protocol = "OPENAI"
	// LlamaCpp is a GGUF model run inside the server (package llamacpp);
	// it has no HTTP codec.
	LlamaCpp Protocol = "LLAMA_CPP"
)

// ParseProtocol accepts a protocol name in any case.
func ParseProtocol(s string) (Protocol, error) {
	switch p := Protocol(strings.ToUpper(s)); p {
	case SageMaker, KServeV2, MLflow, OpenAI, LlamaCpp:
		return p, nil
	}
	return "", fmt.Errorf("unknown protocol %q (supported: SAGEMAKER, KSERVE_V2, MLFLOW, OPENAI, LLAMA_CPP)", s)
}

// Request is one batch: the argument values of each row, and the names of
// the arguments (protocols with named columns use them).
type Request struct {
	Columns []string
	Rows    [][]any
}

// Codec encodes a batch into an HTTP request body and decodes the response
// into exactly one value per row (string, float64, bool or nil).
type Codec interface {
	// Path is the URL path to post to when the endpoint URL has none.
	Path(endpointName string) string
	Encode(req Request) (body []byte, contentType string, err error)
	Decode(contentType string, body []byte, rows int) ([]any, error)
	// RowsPerRequest limits a batch; 0 means no limit.
	RowsPerRequest() int
}

// Counters receives transport events; the ML layer maps them to Aurora's
// status counters.
type Counters interface {
	Request()
	Response()
	Retry()
}

// Endpoint is a configured model server.
type Endpoint struct {
	Name    string
	URL     string // full URL to post to
	Codec   Codec
	Timeout time.Duration
	// Headers are sent with every request (e.g. Authorization). They are
	// secrets: never put them in errors or logs.
	Headers map[string]string
	// MaxRetries bounds retries of throttled, 5xx and connection failures.
	MaxRetries int
	Client     *http.Client
	Counters   Counters
	// MaxRequestBytes and MaxResponseBytes bound one request and one
	// response; zero means the defaults.
	MaxRequestBytes, MaxResponseBytes int
	// Sent, when set, is told the size of every request body sent
	// (retries included), for auditing.
	Sent func(bytes int)
	// Used, when set, is told the tokens each answer reports using, for
	// codecs that are TokenDecoders.
	Used func(tokens int64)
	// Sign, when set, signs each request just before it is sent (AWS
	// SigV4 for real SageMaker endpoints); body is the request payload.
	Sign func(ctx context.Context, req *http.Request, body []byte) error
}

// Default size limits. SageMaker rejects request payloads over 6 MB, so
// larger batches are split to stay under it; a response over 64 MB is
// refused, so a model server that streams without end cannot exhaust the
// server's memory.
const (
	DefaultMaxRequestBytes  = 6 << 20
	DefaultMaxResponseBytes = 64 << 20
)

var errTooLarge = errors.New("response too large")

// Error is a failed call, with what a user needs to fix it.
type Error struct {
	// Kind names what Endpoint is in messages; empty means "endpoint".
	Kind     string
	Endpoint string
	Status   int // HTTP status, 0 for transport errors
	Message  string
}

// Error implements error; the message never includes request headers.
func (e *Error) Error() string {
	kind := e.Kind
	if kind == "" {
		kind = "endpoint"
	}
	if e.Status == 0 {
		return fmt.Sprintf("%s '%s': %s", kind, e.Endpoint, e.Message)
	}
	if e.Message == "" {
		return fmt.Sprintf("%s '%s' returned HTTP %d", kind, e.Endpoint, e.Status)
	}
	return fmt.Sprintf("%s '%s' returned HTTP %d: %s", kind, e.Endpoint, e.Status, e.Message)
}

// Trim makes a provider's text safe to show in an error: valid UTF-8, no
// control characters, bounded length.
func Trim(s string) string { return trim(s) }

// Invoke sends one batch and returns one value per row. A batch whose
// request would exceed MaxRequestBytes is sent as two halves, recursively.
func (e *Endpoint) Invoke(ctx context.Context, req Request) ([]any, error) {
	body, ctype, err := e.Codec.Encode(req)
	if err != nil {
		return nil, &Error{Endpoint: e.Name, Message: "encode request: " + err.Error()}
	}
	limit := e.MaxRequestBytes
	if limit <= 0 {
		limit = DefaultMaxRequestBytes
	}
	if len(body) > limit {
		if len(req.Rows) == 1 {
			return nil, &Error{Endpoint: e.Name, Message: fmt.Sprintf("one row's request is %d bytes, over the %d-byte request limit", len(body), limit)}
		}
		half := len(req.Rows) / 2
		first, err := e.Invoke(ctx, Request{Columns: req.Columns, Rows: req.Rows[:half]})
		if err != nil {
			return nil, err
		}
		second, err := e.Invoke(ctx, Request{Columns: req.Columns, Rows: req.Rows[half:]})
		if err != nil {
			return nil, err
		}
		return append(first, second...), nil
	}
	respType, respBody, err := e.post(ctx, body, ctype)
	if err != nil {
		return nil, err
	}
	var out []any
	if td, ok := e.Codec.(TokenDecoder); ok && e.Used != nil {
		var tokens int64
		var known bool
		if out, tokens, known, err = td.DecodeTokens(respType, respBody, len(req.Rows)); err == nil && known {
			e.Used(tokens)
		}
	} else {
		out, err = e.Codec.Decode(respType, respBody, len(req.Rows))
	}
	if err != nil {
		return nil, &Error{Endpoint: e.Name, Message: "invalid response: " + trim(err.Error())}
	}
	return out, nil
}

// TokenDecoder is implemented by codecs whose answers report the tokens a
// request used (OpenAI's usage): DecodeTokens is Decode that also returns
// them, known false when the answer does not say.
type TokenDecoder interface {
	DecodeTokens(ctype string, body []byte, rows int) (out []any, tokens int64, known bool, err error)
}

func (e *Endpoint) post(ctx context.Context, body []byte, ctype string) (string, []byte, error) {
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		ctype, resp, status, err := e.once(ctx, body, ctype)
		if err == nil && status/100 == 2 {
			return ctype, resp, nil
		}
		// A response too large to accept will be as large next time.
		retryable := (err != nil && !errors.Is(err, errTooLarge) && !errors.Is(err, ErrRedirect)) || status == http.StatusTooManyRequests || status >= 500
		var callErr *Error
		if err != nil {
			callErr = &Error{Endpoint: e.Name, Message: transportMessage(err)}
		} else {
			callErr = &Error{Endpoint: e.Name, Status: status, Message: errorMessage(resp)}
		}
		if !retryable || attempt >= e.MaxRetries || ctx.Err() != nil {
			return "", nil, callErr
		}
		if e.Counters != nil {
			e.Counters.Retry()
		}
		sleep := backoff + time.Duration(rand.Int63n(int64(backoff)))
		select {
		case <-ctx.Done():
			return "", nil, callErr
		case <-time.After(sleep):
		}
		backoff *= 2
	}
}

// once makes a single HTTP request within the endpoint's timeout.
func (e *Endpoint) once(ctx context.Context, body []byte, ctype string) (string, []byte, int, error) {
	if e.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return "", nil, 0, err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json, text/csv")
	for k, v := range e.Headers {
		req.Header.Set(k, v)
	}
	if e.Sign != nil {
		if err := e.Sign(ctx, req, body); err != nil {
			return "", nil, 0, err
		}
	}
	if e.Counters != nil {
		e.Counters.Request()
	}
	if e.Sent != nil {
		e.Sent(len(body))
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		return "", nil, 0, err
	}
	defer resp.Body.Close()
	limit := e.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return "", nil, 0, err
	}
	if len(data) > limit {
		return "", nil, 0, fmt.Errorf("%w: response larger than %d bytes", errTooLarge, limit)
	}
	if e.Counters != nil {
		e.Counters.Response()
	}
	return resp.Header.Get("Content-Type"), data, resp.StatusCode, nil
}

func transportMessage(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "request timed out"
	case errors.Is(err, context.Canceled):
		return "request cancelled"
	}
	if errors.Is(err, ErrRedirect) {
		return ErrRedirect.Error()
	}
	if errors.Is(err, errTooLarge) {
		return strings.TrimPrefix(err.Error(), errTooLarge.Error()+": ")
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "connection refused") {
		return "connection refused" + strings.TrimPrefix(msg[i:], ": connection refused")
	}
	return msg
}

// errorMessage extracts the provider's message from an error body: the
// usual JSON "message"/"detail"/"error" fields, short and sanitised. Any
// other body is not echoed: an endpoint URL may name an internal service,
// and its bytes must not come back to the user (an SSRF oracle).
func errorMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
		Error   any    `json:"error"`
		Detail  string `json:"detail"`
	}
	if err := jsonUnmarshal(body, &m); err == nil {
		switch {
		case m.Message != "":
			return trim(m.Message)
		case m.Detail != "":
			return trim(m.Detail)
		case m.Error != nil:
			if s, ok := m.Error.(string); ok {
				return trim(s)
			}
			if obj, ok := m.Error.(map[string]any); ok {
				if s, ok := obj["message"].(string); ok {
					return trim(s)
				}
			}
		}
	}
	return ""
}

// maxMessage bounds what a provider's message adds to an error.
const maxMessage = 160

// trim makes a provider's text safe to show: valid UTF-8, no control
// characters, at most maxMessage bytes.
func trim(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
	s = strings.TrimSpace(s)
	if len(s) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return s[:cut] + "..."
	}
	return s
}

// ErrRedirect is returned for an endpoint that answers with a redirect.
// Model calls carry the request body and secret headers; following a
// redirect would send both wherever the endpoint points.
var ErrRedirect = errors.New("the endpoint answered with a redirect, which is not followed (give the final URL)")

// NewHTTPClient returns a client that keeps connections alive and reuses
// them across batches; maxConns bounds connections per host.
func NewHTTPClient(maxConns int) *http.Client {
	c, _ := NewHTTPClientWithCA(maxConns, nil)
	return c
}

// NewHTTPClientWithCA is NewHTTPClient trusting, for HTTPS, the system
// roots plus the PEM certificates in caPEM.
func NewHTTPClientWithCA(maxConns int, caPEM []byte) (*http.Client, error) {
	if maxConns <= 0 {
		maxConns = 8
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxConns
	t.MaxConnsPerHost = maxConns
	t.Proxy = nil // model endpoints are addressed directly
	if len(caPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("CA bundle holds no PEM certificate")
		}
		t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return ErrRedirect }}, nil
}
