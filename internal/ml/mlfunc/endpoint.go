package mlfunc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sibyldb/sibyldb/internal/fileaccess"
	"github.com/sibyldb/sibyldb/internal/remote"
)

// EndpointDef is a model server created with CREATE ENDPOINT.
type EndpointDef struct {
	Name           string          `json:"name"`
	URL            string          `json:"url"`
	Protocol       remote.Protocol `json:"protocol"`
	TimeoutMS      int             `json:"timeout_ms,omitempty"`
	MaxConcurrency int             `json:"max_concurrency,omitempty"`
	// Threads is a LLAMA_CPP endpoint's CPU threads per context (THREADS).
	Threads int    `json:"threads,omitempty"`
	Model   string `json:"model,omitempty"`
	Prompt  string `json:"prompt,omitempty"`
	// CABundle is PEM text, or the path of a PEM file inside
	// secure_file_priv, of extra
	// certificate authorities trusted for this HTTPS endpoint.
	CABundle string `json:"ca_bundle,omitempty"`
	// Headers are secrets: kept in memory, stored only sealed.
	Headers       map[string]string `json:"-"`
	SealedHeaders string            `json:"sealed_headers,omitempty"`
}

// maxCABundle bounds a CA_BUNDLE file (a bundle of every public root is
// about 200 KB).
const maxCABundle = 1 << 20

// ErrCABundleFile is the one error for a CA_BUNDLE path that cannot be used.
var ErrCABundleFile = errors.New("CA_BUNDLE must be PEM text or a readable PEM file of at most 1 MB inside secure_file_priv")

// DefaultConcurrency is how many requests one endpoint has in flight when
// CREATE ENDPOINT does not say.
const DefaultConcurrency = 4

// Validate checks a definition before it is stored.
func (d *EndpointDef) Validate() error {
	if d.Protocol == remote.LlamaCpp {
		return d.validateLlamaCpp()
	}
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
	if d.Threads != 0 {
		return fmt.Errorf("endpoint '%s': THREADS applies to LLAMA_CPP endpoints only", d.Name)
	}
	if d.CABundle != "" {
		if _, err := d.client(1); err != nil {
			return err
		}
	}
	return nil
}

// client builds the endpoint's HTTP client.
func (d *EndpointDef) client(conns int) (*http.Client, error) {
	if d.CABundle == "" {
		return remote.NewHTTPClient(conns), nil
	}
	pem := []byte(d.CABundle)
	if !strings.HasPrefix(strings.TrimSpace(d.CABundle), "-----BEGIN") {
		// A path is a server file: confined to secure_file_priv, a regular
		// file, bounded. One error whatever the reason, so that the
		// option tells nothing about files outside.
		var err error
		if pem, err = fileaccess.ReadFile(fileaccess.SecureFilePriv(), d.CABundle, maxCABundle); err != nil {
			return nil, fmt.Errorf("endpoint '%s': %w", d.Name, ErrCABundleFile)
		}
	}
	c, err := remote.NewHTTPClientWithCA(conns, pem)
	if err != nil {
		return nil, fmt.Errorf("endpoint '%s': CA_BUNDLE: %w", d.Name, err)
	}
	return c, nil
}

// DisplayURL is the URL with its user information (a password, a token)
// replaced by ***: it is a secret like the headers.
func (d *EndpointDef) DisplayURL() string {
	u, err := url.Parse(d.URL)
	if err != nil || u.User == nil {
		return d.URL
	}
	u.User = nil
	return strings.Replace(u.String(), "://", "://***@", 1)
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
// semaphore that bounds its concurrent requests across all statements and
// shares them fairly between statements.
type target struct {
	ep  *remote.Endpoint
	sem *fairSem
	// fixedTimeout is the endpoint's TIMEOUT_MS; without one each call uses
	// aurora_ml_inference_timeout as the calling session sees it.
	fixedTimeout bool
	breaker      breaker
	// local is a LLAMA_CPP endpoint's in-process model (ep then only
	// names it); system is its PROMPT.
	local  *localModel
	system string
}

// The circuit breaker: after breakerThreshold consecutive failed calls
// (each already retried), an endpoint fails fast for breakerCooldown, then
// lets one call through to probe it.
const (
	breakerThreshold = 5
	breakerCooldown  = 10 * time.Second
)

type breaker struct {
	mu        sync.Mutex
	failures  int
	openUntil time.Time
}

func (b *breaker) allow(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if wait := time.Until(b.openUntil); wait > 0 {
		return &remote.Error{Endpoint: name, Message: fmt.Sprintf(
			"failing fast after %d consecutive failures; retrying the endpoint in %s", breakerThreshold, wait.Round(time.Second))}
	}
	return nil
}

// record notes a call's outcome. Only failures that say the endpoint is
// unwell count: transport errors, throttling and 5xx, not bad requests or
// calls the statement itself cancelled.
func (b *breaker) record(ctx context.Context, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var re *remote.Error
	switch {
	case err == nil:
		b.failures = 0
	case ctx.Err() != nil:
	case errors.As(err, &re) && (re.Status == 0 || re.Status == 429 || re.Status >= 500):
		b.failures++
		if b.failures >= breakerThreshold {
			b.openUntil = time.Now().Add(breakerCooldown)
			b.failures = breakerThreshold - 1 // one more failure after the cool-down reopens it
		}
	}
}

func (t *target) invoke(ctx context.Context, stmt stmtKey, req remote.Request, timeout time.Duration, sent func(bytes int)) ([]any, error) {
	if t.local != nil {
		return nil, &remote.Error{Endpoint: t.ep.Name, Message: "a LLAMA_CPP endpoint generates text for ML functions only"}
	}
	return t.run(ctx, stmt, func(ctx context.Context) ([]any, error) {
		ep := *t.ep
		if !t.fixedTimeout {
			ep.Timeout = timeout
		}
		ep.Sent = sent
		return ep.Invoke(ctx, req)
	})
}

// run makes one call through the target's circuit breaker, within its
// share of the target's concurrency.
func (t *target) run(ctx context.Context, stmt stmtKey, call func(context.Context) ([]any, error)) ([]any, error) {
	if err := t.breaker.allow(t.ep.Name); err != nil {
		return nil, err
	}
	if err := t.sem.acquire(ctx, stmt); err != nil {
		return nil, err
	}
	defer t.sem.release(stmt)
	out, err := call(ctx)
	t.breaker.record(ctx, err)
	return out, err
}

func newTarget(d EndpointDef, c remote.Counters) (*target, error) {
	if d.Protocol == remote.LlamaCpp {
		return newLocalTarget(d)
	}
	conc := d.MaxConcurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	var timeout time.Duration
	if d.TimeoutMS > 0 {
		timeout = time.Duration(d.TimeoutMS) * time.Millisecond
	}
	codec := remote.NewCodec(d.Protocol, d.Model, d.Prompt)
	client, err := d.client(conc)
	if err != nil {
		return nil, err
	}
	return &target{
		ep: &remote.Endpoint{
			Name:       d.Name,
			URL:        requestURL(d.URL, codec.Path(d.Name)),
			Codec:      codec,
			Timeout:    timeout,
			Headers:    d.Headers,
			MaxRetries: 3,
			Client:     client,
			Counters:   c,
		},
		sem:          newFairSem(conc),
		fixedTimeout: d.TimeoutMS > 0,
	}, nil
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
