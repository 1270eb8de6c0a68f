package mlfunc

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/sibyldb/sibyldb/internal/remote"
)

// EndpointDef is a model server created with CREATE ENDPOINT.
type EndpointDef struct {
	Name           string          `json:"name"`
	URL            string          `json:"url"`
	Protocol       remote.Protocol `json:"protocol"`
	TimeoutMS      int             `json:"timeout_ms,omitempty"`
	MaxConcurrency int             `json:"max_concurrency,omitempty"`
	Model          string          `json:"model,omitempty"`
	Prompt         string          `json:"prompt,omitempty"`
	// Headers are secrets: kept in memory, stored only sealed.
	Headers       map[string]string `json:"-"`
	SealedHeaders string            `json:"sealed_headers,omitempty"`
}

// DefaultConcurrency is how many requests one endpoint has in flight when
// CREATE ENDPOINT does not say.
const DefaultConcurrency = 4

// Validate checks a definition before it is stored.
func (d *EndpointDef) Validate() error {
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint '%s': URL %q must be an http:// or https:// URL", d.Name, d.URL)
	}
	if d.Protocol == "" {
		d.Protocol = remote.SageMaker
	}
	if _, err := remote.ParseProtocol(string(d.Protocol)); err != nil {
		return fmt.Errorf("endpoint '%s': %w", d.Name, err)
	}
	if d.TimeoutMS < 0 || d.MaxConcurrency < 0 {
		return fmt.Errorf("endpoint '%s': TIMEOUT_MS and MAX_CONCURRENCY must be positive", d.Name)
	}
	return nil
}

// HeaderNames lists header names (never values: they are secrets).
func (d *EndpointDef) HeaderNames() []string {
	names := make([]string, 0, len(d.Headers))
	for k := range d.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// target is a resolved endpoint ready to call: the HTTP endpoint plus a
// semaphore that bounds its concurrent requests across all statements.
type target struct {
	ep  *remote.Endpoint
	sem chan struct{}
	// fixedTimeout is the endpoint's TIMEOUT_MS; without one each call uses
	// aurora_ml_inference_timeout as the calling session sees it.
	fixedTimeout bool
}

func (t *target) invoke(ctx context.Context, req remote.Request, timeout time.Duration) ([]any, error) {
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-t.sem }()
	ep := *t.ep
	if !t.fixedTimeout {
		ep.Timeout = timeout
	}
	return ep.Invoke(ctx, req)
}

func newTarget(d EndpointDef, c remote.Counters) *target {
	conc := d.MaxConcurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	var timeout time.Duration
	if d.TimeoutMS > 0 {
		timeout = time.Duration(d.TimeoutMS) * time.Millisecond
	}
	codec := remote.NewCodec(d.Protocol, d.Model, d.Prompt)
	return &target{
		ep: &remote.Endpoint{
			Name:       d.Name,
			URL:        requestURL(d.URL, codec.Path(d.Name)),
			Codec:      codec,
			Timeout:    timeout,
			Headers:    d.Headers,
			MaxRetries: 3,
			Client:     remote.NewHTTPClient(conc),
			Counters:   c,
		},
		sem:          make(chan struct{}, conc),
		fixedTimeout: d.TimeoutMS > 0,
	}
}

// requestURL uses the endpoint URL as given when it has a path, else appends
// the protocol's standard path.
func requestURL(base, path string) string {
	u, err := url.Parse(base)
	if err != nil || (u.Path != "" && u.Path != "/") {
		return base
	}
	return strings.TrimRight(base, "/") + path
}
