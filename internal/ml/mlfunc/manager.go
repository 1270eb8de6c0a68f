// Package mlfunc implements Aurora MySQL's ML functions: SQL functions bound
// to model endpoints (CREATE FUNCTION ... ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT)
// and the endpoints they call (CREATE ENDPOINT, SibylDB's extension for
// serving stacks other than SageMaker).
package mlfunc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/remote"
	"github.com/sibyldb/sibyldb/internal/remote/bedrock"
	"github.com/sibyldb/sibyldb/internal/secret"
	"github.com/sibyldb/sibyldb/internal/sqlfunc"
	"github.com/sibyldb/sibyldb/internal/status"
)

// Catalog kinds of the objects this package stores.
const (
	kindFunction = "ml_function"
	kindEndpoint = "endpoint"
)

// System variables this package reads.
const (
	// VarSageMakerURL is the base URL endpoint names resolve against when
	// no CREATE ENDPOINT defines them: {base}/endpoints/{name}/invocations.
	VarSageMakerURL = "aws_sagemaker_endpoint_url"
	// VarBedrockRole is Aurora's aws_default_bedrock_role.
	VarBedrockRole = "aws_default_bedrock_role"
	// VarTimeout is the per-request timeout in milliseconds.
	VarTimeout = "aurora_ml_inference_timeout"
)

// Errors callers map to MySQL codes.
var (
	ErrFunctionExists   = errors.New("function already exists")
	ErrNoFunction       = errors.New("function does not exist")
	ErrEndpointExists   = errors.New("endpoint already exists")
	ErrNoEndpoint       = errors.New("endpoint does not exist")
	ErrEndpointInUse    = errors.New("endpoint is used by ML functions")
	ErrUnresolvedTarget = errors.New("no model server")
)

type counters struct {
	logicalRequests, logicalResponses, actualRequests, actualResponses, cacheHits, retries, singleRequests *status.Counter
	// inputTokens and outputTokens are generative models' token usage.
	inputTokens, outputTokens *status.Counter
}

// Request implements remote.Counters.
func (c *counters) Request() { c.actualRequests.Add(1) }

// Response implements remote.Counters.
func (c *counters) Response() { c.actualResponses.Add(1) }

// Retry implements remote.Counters.
func (c *counters) Retry() { c.retries.Add(1) }

// Sealer encrypts values at rest (package secret's Box).
type Sealer interface {
	// Seal binds the ciphertext to object (secret.Object).
	Seal(plaintext []byte, object string) (string, error)
	// Open reports legacy for a value sealed before values were bound;
	// it is bound when the endpoint is next written.
	Open(sealed, object string) (plain []byte, legacy bool, err error)
}

// Manager owns ML functions and endpoints: their definitions (persisted in
// the catalog), their registration as SQL functions, and the HTTP clients
// that call the endpoints.
type Manager struct {
	// Authorize, when set, decides whether the session may call a
	// function; it runs before any row is sent.
	Authorize func(ctx *sql.Context, d *FunctionDef) error
	// Secrets seals endpoint headers before they are stored.
	Secrets Sealer
	// Audit, when set, receives one record per statement and function
	// that sent rows to an endpoint.
	Audit func(AuditRecord)
	// Observer, when set, is told of every endpoint request (package
	// metrics' latency histograms). Set it before the server serves.
	Observer RequestObserver
	// CanReadFiles, when set, decides whether the session holds FILE,
	// which endpoints naming a server file (file:// URLs) need.
	CanReadFiles func(ctx *sql.Context) bool

	catalog  *catalog.Store
	funcs    *sqlfunc.Registry
	counters *counters

	awsOnce sync.Once
	aws     *remote.AWS
	awsErr  error

	bedrockOnce sync.Once
	bedrock     *bedrock.Client

	mu        sync.RWMutex
	defs      map[string]*FunctionDef // db.name, lower case
	endpoints map[string]EndpointDef  // lower-case name
	targets   map[string]*target      // resolved clients by endpoint name or URL
	fnStats   map[string]*fnStats     // db.name, lower case
	usage     statements
}

// NewManager returns a manager publishing Aurora's counters in reg.
func NewManager(cat *catalog.Store, funcs *sqlfunc.Registry, reg *status.Registry) *Manager {
	return &Manager{
		catalog: cat,
		funcs:   funcs,
		counters: &counters{
			logicalRequests:  reg.Counter("Aurora_ml_logical_request_cnt"),
			logicalResponses: reg.Counter("Aurora_ml_logical_response_cnt"),
			actualRequests:   reg.Counter("Aurora_ml_actual_request_cnt"),
			actualResponses:  reg.Counter("Aurora_ml_actual_response_cnt"),
			cacheHits:        reg.Counter("Aurora_ml_cache_hit_cnt"),
			retries:          reg.Counter("Aurora_ml_retry_request_cnt"),
			singleRequests:   reg.Counter("Aurora_ml_single_request_cnt"),
			inputTokens:      reg.Counter("Sibyl_ml_input_tokens"),
			outputTokens:     reg.Counter("Sibyl_ml_output_tokens"),
		},
		defs:      map[string]*FunctionDef{},
		endpoints: map[string]EndpointDef{},
		targets:   map[string]*target{},
		fnStats:   map[string]*fnStats{},
	}
}

// SystemVariables are the variables the ML functions read, for the server
// to register.
func SystemVariables(sageMakerURL string) []sql.SystemVariable {
	vars := []sql.SystemVariable{
		&sql.MysqlSystemVariable{
			Name:    VarSageMakerURL,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Dynamic: true,
			Type:    types.NewSystemStringType(VarSageMakerURL),
			Default: sageMakerURL,
		},
		&sql.MysqlSystemVariable{
			Name:    VarTimeout,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true,
			Type:    types.NewSystemIntType(VarTimeout, 1, 3600000, false),
			Default: int64(30000),
		},
	}
	// Aurora's cluster parameter naming the IAM role for Bedrock. SibylDB
	// takes credentials from the AWS credential chain; the variable is
	// accepted so that Aurora scripts setting it run unchanged.
	vars = append(vars, &sql.MysqlSystemVariable{
		Name:    VarBedrockRole,
		Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
		Dynamic: true,
		Type:    types.NewSystemStringType(VarBedrockRole),
		Default: "",
	})
	return append(vars, limitVariables()...)
}

func key(db, name string) string { return strings.ToLower(db + "." + name) }

// Load registers the stored functions and endpoints; the server calls it at
// start-up.
func (m *Manager) Load(ctx *sql.Context) error {
	eps, err := m.catalog.List(ctx, kindEndpoint)
	if err != nil {
		return err
	}
	for _, o := range eps {
		var d EndpointDef
		if err := json.Unmarshal([]byte(o.Definition), &d); err != nil {
			return fmt.Errorf("stored endpoint %s: %w", o.Name, err)
		}
		if d.SealedHeaders != "" {
			if m.Secrets == nil {
				return fmt.Errorf("stored endpoint %s has sealed headers and no secret key is configured", o.Name)
			}
			plain, _, err := m.Secrets.Open(d.SealedHeaders, secret.Object(kindEndpoint, o.Name))
			if err != nil {
				return fmt.Errorf("stored endpoint %s headers: %w", o.Name, err)
			}
			if err := json.Unmarshal(plain, &d.Headers); err != nil {
				return fmt.Errorf("stored endpoint %s headers: %w", o.Name, err)
			}
			d.SealedHeaders = ""
		}
		m.endpoints[strings.ToLower(d.Name)] = d
	}
	fns, err := m.catalog.List(ctx, kindFunction)
	if err != nil {
		return err
	}
	for _, o := range fns {
		d := &FunctionDef{}
		if err := json.Unmarshal([]byte(o.Definition), d); err != nil {
			return fmt.Errorf("stored ML function %s: %w", o.Name, err)
		}
		if err := d.resolve(); err != nil {
			return fmt.Errorf("stored ML function %s: %w", o.Name, err)
		}
		if err := m.funcs.Register(ctx, d.DB, m.function(d)); err != nil {
			return fmt.Errorf("stored ML function %s: %w", o.Name, err)
		}
		m.defs[key(d.DB, d.Name)] = d
	}
	return nil
}

// CreateFunction validates, stores (in the statement's transaction) and
// registers an ML function.
func (m *Manager) CreateFunction(ctx *sql.Context, d *FunctionDef) error {
	if err := d.resolve(); err != nil {
		return err
	}
	if d.Created.IsZero() {
		d.Created = time.Now().UTC()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := key(d.DB, d.Name)
	if _, ok := m.defs[k]; ok {
		return fmt.Errorf("FUNCTION %s.%s: %w", d.DB, d.Name, ErrFunctionExists)
	}
	if err := m.funcs.Register(ctx, d.DB, m.function(d)); err != nil {
		if errors.Is(err, sqlfunc.ErrExists) {
			return fmt.Errorf("FUNCTION %s.%s: %w", d.DB, d.Name, ErrFunctionExists)
		}
		return err
	}
	def, _ := json.Marshal(d)
	if err := m.catalog.Put(ctx, catalog.Object{Kind: kindFunction, Name: k, Definition: string(def)}); err != nil {
		m.funcs.Drop(d.DB, d.Name)
		return err
	}
	m.defs[k] = d
	return nil
}

// DropFunction removes an ML function; found is false when none exists.
func (m *Manager) DropFunction(ctx *sql.Context, db, name string) (found bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := key(db, name)
	if _, ok := m.defs[k]; !ok {
		return false, nil
	}
	if _, err := m.catalog.Delete(ctx, kindFunction, k); err != nil {
		return true, err
	}
	m.funcs.Drop(db, name)
	delete(m.defs, k)
	return true, nil
}

// Function returns the ML function db.name.
func (m *Manager) Function(db, name string) (*FunctionDef, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	d, ok := m.defs[key(db, name)]
	return d, ok
}

// Functions lists the ML functions ordered by database and name.
func (m *Manager) Functions() []*FunctionDef {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*FunctionDef, 0, len(m.defs))
	for _, d := range m.defs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i].DB, out[i].Name) < key(out[j].DB, out[j].Name) })
	return out
}

// ErrHeadersForNewURL refuses ALTER ENDPOINT ... URL on an endpoint with
// secret headers unless the statement gives HEADERS again.
var ErrHeadersForNewURL = errors.New("changing the URL of an endpoint with HEADERS needs HEADERS (...) again in the same statement: stored secret headers are never sent to a new URL")

// sameMap reports whether a and b are the same map (not equal contents):
// whether a change left the copied headers in place.
func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// CreateEndpoint validates and stores an endpoint.
func (m *Manager) CreateEndpoint(ctx *sql.Context, d EndpointDef, orReplace bool) error {
	if d.IsFile() && m.CanReadFiles != nil && !m.CanReadFiles(ctx) {
		return ErrFileDenied
	}
	if err := d.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := strings.ToLower(d.Name)
	if _, ok := m.endpoints[k]; ok && !orReplace {
		return fmt.Errorf("endpoint '%s': %w", d.Name, ErrEndpointExists)
	}
	return m.putEndpoint(ctx, d)
}

// AlterEndpoint applies change to a stored endpoint.
func (m *Manager) AlterEndpoint(ctx *sql.Context, name string, change func(*EndpointDef)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.endpoints[strings.ToLower(name)]
	if !ok {
		return fmt.Errorf("endpoint '%s': %w", name, ErrNoEndpoint)
	}
	headers := make(map[string]string, len(d.Headers))
	for k, v := range d.Headers {
		headers[k] = v
	}
	d.Headers = headers
	oldURL := d.URL
	change(&d)
	// Secret headers (and URL credentials) were given for the old URL:
	// whoever moves the endpoint elsewhere must give them again, or any
	// CREATE ENDPOINT holder could redirect the owner's secrets.
	if d.URL != oldURL && len(headers) > 0 && sameMap(d.Headers, headers) {
		return fmt.Errorf("endpoint '%s': %w", name, ErrHeadersForNewURL)
	}
	if d.IsFile() && m.CanReadFiles != nil && !m.CanReadFiles(ctx) {
		return ErrFileDenied
	}
	if err := d.Validate(); err != nil {
		return err
	}
	return m.putEndpoint(ctx, d)
}

func (m *Manager) putEndpoint(ctx *sql.Context, d EndpointDef) error {
	stored := d
	if len(d.Headers) > 0 {
		if m.Secrets == nil {
			return errors.New("endpoint headers need a secret key to be stored")
		}
		plain, _ := json.Marshal(d.Headers)
		sealed, err := m.Secrets.Seal(plain, secret.Object(kindEndpoint, d.Name))
		if err != nil {
			return fmt.Errorf("seal endpoint headers: %w", err)
		}
		stored.SealedHeaders = sealed
	}
	def, _ := json.Marshal(stored)
	k := strings.ToLower(d.Name)
	if err := m.catalog.Put(ctx, catalog.Object{Kind: kindEndpoint, Name: k, Definition: string(def)}); err != nil {
		return err
	}
	m.endpoints[k] = d
	unloadTarget(m.targets[k])
	delete(m.targets, k)
	return nil
}

// DropEndpoint removes an endpoint; found is false when none exists.
func (m *Manager) DropEndpoint(ctx *sql.Context, name string) (found bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := strings.ToLower(name)
	if _, ok := m.endpoints[k]; !ok {
		return false, nil
	}
	if _, err := m.catalog.Delete(ctx, kindEndpoint, k); err != nil {
		return true, err
	}
	delete(m.endpoints, k)
	unloadTarget(m.targets[k])
	delete(m.targets, k)
	return true, nil
}

// Endpoints lists the endpoints ordered by name.
func (m *Manager) Endpoints() []EndpointDef {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]EndpointDef, 0, len(m.endpoints))
	for _, d := range m.endpoints {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// resolve finds the client for an endpoint name: a CREATE ENDPOINT
// definition, else a SageMaker-runtime-style URL under
// aws_sagemaker_endpoint_url, else real Amazon SageMaker when the AWS
// credential chain yields a region.
func (m *Manager) resolve(name string) (*target, error) {
	k := strings.ToLower(name)
	m.mu.RLock()
	t, ok := m.targets[k]
	d, defined := m.endpoints[k]
	m.mu.RUnlock()
	if ok {
		return t, nil
	}
	if !defined {
		_, v, _ := sql.SystemVariables.GetGlobal(VarSageMakerURL)
		base, _ := v.(string)
		var sign func(context.Context, *http.Request, []byte) error
		if base == "" {
			m.awsOnce.Do(func() { m.aws, m.awsErr = remote.LoadAWS(context.Background()) })
			if m.awsErr != nil {
				return nil, fmt.Errorf("%w: endpoint '%s' is not defined (create it with CREATE ENDPOINT %s URL '...', set %s, or configure AWS: %v)",
					ErrUnresolvedTarget, name, name, VarSageMakerURL, m.awsErr)
			}
			d = EndpointDef{Name: name, Protocol: remote.SageMaker, URL: m.aws.InvocationsURL(name)}
			sign = m.aws.Sign
		} else {
			d = EndpointDef{Name: name, Protocol: remote.SageMaker,
				URL: strings.TrimRight(base, "/") + "/endpoints/" + name + "/invocations"}
		}
		k = "url:" + d.URL
		m.mu.RLock()
		t, ok = m.targets[k]
		m.mu.RUnlock()
		if ok {
			return t, nil
		}
		t, err := newTarget(d, m.counters)
		if err != nil {
			return nil, err
		}
		t.ep.Sign = sign
		return m.remember(k, t), nil
	}
	t, err := newTarget(d, m.counters)
	if err != nil {
		return nil, err
	}
	return m.remember(k, t), nil
}

// remember caches t under k unless another session got there first.
func (m *Manager) remember(k string, t *target) *target {
	m.mu.Lock()
	defer m.mu.Unlock()
	if existing, ok := m.targets[k]; ok {
		return existing
	}
	m.targets[k] = t
	return t
}

// timeout is aurora_ml_inference_timeout in force for the session.
func (m *Manager) timeout(ctx *sql.Context) time.Duration { return Timeout(ctx) }

// InvokeEndpoint sends req to the named endpoint (resolved as for ML
// functions) with the session's timeout, and returns one answer per row
// and the bytes sent. Remote functions of other packages use it, so every
// endpoint call shares the clients, concurrency limits and circuit
// breakers.
func (m *Manager) InvokeEndpoint(ctx *sql.Context, name string, req remote.Request) ([]any, int64, error) {
	t, err := m.resolve(name)
	if err != nil {
		return nil, 0, err
	}
	var sent int64
	var mu sync.Mutex
	out, err := t.invoke(ctx, statementKey(ctx), req, m.timeout(ctx), func(n int) {
		mu.Lock()
		sent += int64(n)
		mu.Unlock()
	})
	return out, sent, err
}
