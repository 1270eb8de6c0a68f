package mlfunc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/remote"
)

// DefaultMaxBatch is Aurora's default MAX_BATCH_SIZE.
const DefaultMaxBatch = 10000

// Param is one declared argument.
type Param struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// FunctionDef is a function created with CREATE FUNCTION ... ALIAS
// AWS_SAGEMAKER_INVOKE_ENDPOINT.
type FunctionDef struct {
	DB       string    `json:"db"`
	Name     string    `json:"name"`
	Params   []Param   `json:"params"`
	Returns  string    `json:"returns"`
	Endpoint string    `json:"endpoint"`
	MaxBatch int       `json:"max_batch_size"`
	Definer  string    `json:"definer"`
	Security string    `json:"security"`
	Created  time.Time `json:"created"`
	// Alias is AWS_BEDROCK_INVOKE_MODEL for Bedrock functions; empty (as
	// in definitions stored before Bedrock) is AWS_SAGEMAKER_INVOKE_ENDPOINT.
	Alias string `json:"alias,omitempty"`
	// ModelID, ContentType, Accept and TimeoutMS are a Bedrock function's
	// MODEL ID, CONTENT_TYPE, ACCEPT and TIMEOUT_MS.
	ModelID     string `json:"model_id,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Accept      string `json:"accept,omitempty"`
	TimeoutMS   int    `json:"timeout_ms,omitempty"`
	// OptionalParams is how many trailing parameters a call may leave out
	// (they are NULL): Redshift's f(input [, config [, additional]]).
	OptionalParams int `json:"optional_params,omitempty"`
	// Request, Prompt, Suffix and Response are a Redshift external
	// model's REQUEST_TYPE (RAW or UNIFIED; empty for Aurora's functions),
	// PROMPT, SUFFIX and RESPONSE_TYPE (VARCHAR or SUPER).
	Request  string `json:"request_type,omitempty"`
	Prompt   string `json:"prompt,omitempty"`
	Suffix   string `json:"suffix,omitempty"`
	Response string `json:"response_type,omitempty"`
	// Scoped marks a function one statement declared (Athena's USING
	// EXTERNAL FUNCTION): never stored, called with the caller's rights.
	Scoped bool `json:"-"`
	// OnError is NULL when the function was created with ON ERROR NULL:
	// a failed call gives NULL and a warning (see VarOnError).
	OnError string `json:"on_error,omitempty"`

	paramTypes []sql.Type
	returnType sql.Type
}

// resolve parses the declared types; it is the validation CREATE FUNCTION
// runs and what loading a stored definition repeats.
func (d *FunctionDef) resolve() error {
	d.paramTypes = make([]sql.Type, len(d.Params))
	seen := map[string]bool{}
	for i, p := range d.Params {
		if seen[strings.ToLower(p.Name)] {
			return fmt.Errorf("duplicate parameter '%s'", p.Name)
		}
		seen[strings.ToLower(p.Name)] = true
		t, err := ParseType(p.Type)
		if err != nil {
			return fmt.Errorf("parameter '%s': %w", p.Name, err)
		}
		d.paramTypes[i] = t
	}
	if d.IsBedrock() {
		if err := d.resolveBedrock(); err != nil {
			return err
		}
	}
	t, err := ParseType(d.Returns)
	if err != nil {
		return err
	}
	check := CheckReturnType
	if d.IsBedrock() {
		check = checkBedrockReturnType
	}
	if d.returnType, err = check(t); err != nil {
		return err
	}
	if d.MaxBatch == 0 {
		d.MaxBatch = DefaultMaxBatch
	}
	if d.MaxBatch < 0 {
		return fmt.Errorf("MAX_BATCH_SIZE must be positive")
	}
	return nil
}

// CreateStatement renders the definition as SHOW CREATE FUNCTION prints it.
func (d *FunctionDef) CreateStatement() string {
	params := make([]string, len(d.Params))
	for i, p := range d.Params {
		params[i] = fmt.Sprintf("`%s` %s", p.Name, p.Type)
	}
	if d.IsBedrock() {
		out := fmt.Sprintf("CREATE DEFINER=%s FUNCTION `%s`(%s) RETURNS %s SQL SECURITY %s ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID '%s' CONTENT_TYPE '%s' ACCEPT '%s'",
			d.Definer, d.Name, strings.Join(params, ", "), d.Returns, d.Security, quote(d.ModelID), quote(d.ContentType), quote(d.Accept))
		if d.TimeoutMS > 0 {
			out += fmt.Sprintf(" TIMEOUT_MS %d", d.TimeoutMS)
		}
		return out + d.onErrorClause()
	}
	return fmt.Sprintf("CREATE DEFINER=%s FUNCTION `%s`(%s) RETURNS %s SQL SECURITY %s ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME '%s' MAX_BATCH_SIZE %d",
		d.Definer, d.Name, strings.Join(params, ", "), d.Returns, d.Security, strings.ReplaceAll(d.Endpoint, "'", "''"), d.MaxBatch) + d.onErrorClause()
}

func (d *FunctionDef) onErrorClause() string {
	if d.OnError == OnErrorNull {
		return " ON ERROR NULL"
	}
	return ""
}

func quote(s string) string { return strings.ReplaceAll(s, "'", "''") }

// ScopedFunction validates a function declared by one statement (Athena's
// USING EXTERNAL FUNCTION) and returns it, neither stored nor registered.
func (m *Manager) ScopedFunction(d *FunctionDef) (sql.Function, error) {
	d.Scoped, d.Security = true, "INVOKER"
	if err := d.resolve(); err != nil {
		return nil, err
	}
	return m.function(d), nil
}

// function makes the sql.Function the registry serves.
func (m *Manager) function(d *FunctionDef) sql.Function {
	inv := &invoker{m: m, def: d}
	opts := exec.FuncCallOptions{
		Single: func() {
			m.counters.singleRequests.Add(1)
			m.stats(d).single.Add(1)
		},
		Convert: inv.convert,
	}
	return sql.FunctionN{Name: d.Name, Fn: func(args ...sql.Expression) (sql.Expression, error) {
		if len(args) > len(d.Params) || len(args) < len(d.Params)-d.OptionalParams {
			return nil, mysql.NewSQLError(1318, mysql.SSClientError,
				"Incorrect number of arguments for FUNCTION %s.%s; expected %d, got %d", d.DB, d.Name, len(d.Params), len(args))
		}
		for len(args) < len(d.Params) {
			args = append(args, expression.NewLiteral(nil, types.Null))
		}
		return exec.NewFuncCall(inv, args, d.returnType, opts), nil
	}}
}

// invoker calls one ML function's endpoint; it is the exec.Invoker the
// batching operator drives.
type invoker struct {
	m   *Manager
	def *FunctionDef
}

var _ exec.Invoker = (*invoker)(nil)

func (i *invoker) Key() string { return "mlfunc:" + i.def.DB + "." + i.def.Name }

// Authorize implements exec.Authorizer: privileges, and the statement's
// limits, are settled before any row is sent.
func (i *invoker) Authorize(ctx *sql.Context) error {
	i.m.StartStatement(ctx)
	if i.m.Authorize == nil {
		return nil
	}
	return i.m.Authorize(ctx, i.def)
}

// Remote implements exec.RemoteInvoker: endpoint functions send data off
// the server.
func (i *invoker) Remote() bool { return true }

// RecordCacheHits implements exec.CacheHitRecorder.
func (i *invoker) RecordCacheHits(n int) { i.m.counters.cacheHits.Add(uint64(n)) }
func (i *invoker) Name() string          { return i.def.Name }

func (i *invoker) MaxBatch() int {
	name, isEndpoint := i.m.endpointOf(i.def)
	if !isEndpoint {
		return 1 // Bedrock has no batch API
	}
	if t, err := i.m.resolve(name); err == nil {
		if n := t.ep.Codec.RowsPerRequest(); n > 0 && n < i.def.MaxBatch {
			return n
		}
	}
	return i.def.MaxBatch
}

func (i *invoker) Concurrency() int {
	name, isEndpoint := i.m.endpointOf(i.def)
	if !isEndpoint {
		return DefaultBedrockConcurrency
	}
	if t, err := i.m.resolve(name); err == nil {
		return t.sem.Cap()
	}
	return DefaultConcurrency
}

// Invoke implements exec.Invoker: arguments are converted to the declared
// parameter types and sent in one request.
func (i *invoker) Invoke(ctx *sql.Context, rows [][]any) ([]any, error) {
	name, isEndpoint := i.m.endpointOf(i.def)
	if !isEndpoint {
		return i.invokeBedrock(ctx, rows)
	}
	t, err := i.m.resolve(name)
	if err != nil {
		return nil, fmt.Errorf("ML function '%s': %w", i.def.Name, err)
	}
	if t.local != nil {
		return i.invokeLocal(ctx, name, t, rows)
	}
	req := remote.Request{Columns: make([]string, len(i.def.Params)), Rows: make([][]any, len(rows))}
	for c, p := range i.def.Params {
		req.Columns[c] = p.Name
	}
	for r, row := range rows {
		conv, err := i.convertArgs(ctx, row)
		if err != nil {
			return nil, err
		}
		req.Rows[r] = conv
	}
	return i.send(ctx, name, len(rows), func(sent func(int)) ([]any, error) {
		return t.invoke(ctx, statementKey(ctx), req, i.m.timeout(ctx), sent)
	})
}

// convertArgs converts one row's arguments to the declared parameter types.
func (i *invoker) convertArgs(ctx *sql.Context, row []any) ([]any, error) {
	conv := make([]any, len(row))
	for c, v := range row {
		if v == nil {
			continue
		}
		cv, _, err := i.def.paramTypes[c].Convert(ctx, v)
		if err != nil {
			return nil, fmt.Errorf("ML function '%s': argument '%s' value %v is not a valid %s", i.def.Name, i.def.Params[c].Name, v, i.def.paramTypes[c])
		}
		if u, err := sql.UnwrapAny(ctx, cv); err == nil {
			cv = u
		}
		conv[c] = cv
	}
	return conv, nil
}

// send makes one request of n rows to target through call, within the
// statement's limits, and keeps the function's figures and the audit
// record. call reports the bytes it sends through sent.
func (i *invoker) send(ctx *sql.Context, target string, n int, call func(sent func(int)) ([]any, error)) ([]any, error) {
	record, err := i.m.Reserve(ctx, i.def.DB+"."+i.def.Name, target, n)
	if err != nil {
		record(0, 0, err)
		return nil, err
	}
	i.m.counters.logicalRequests.Add(uint64(n))
	st := i.m.stats(i.def)
	st.requests.Add(1)
	start := time.Now()
	var sent atomic.Int64
	out, err := call(func(b int) { sent.Add(int64(b)) })
	if err != nil && ctx.Err() != nil {
		// The statement no longer wants the answer: it is not an error of
		// the endpoint, and its truncated latency would skew the figures.
		st.cancelled.Add(1)
		record(n, sent.Load(), nil)
		return nil, fmt.Errorf("ML function '%s': %w", i.def.Name, err)
	}
	elapsed := time.Since(start)
	st.observe(elapsed)
	if o := i.m.Observer; o != nil {
		o.ObserveRequest(target, n, elapsed, err != nil)
	}
	var limitErr *mysql.SQLError
	if errors.As(err, &limitErr) {
		// A per-statement limit reached inside the call: it names the
		// function, stops the statement whatever sibyl_ml_on_error says,
		// and is no error of the endpoint.
		record(n, sent.Load(), err)
		return nil, limitErr
	}
	if err != nil {
		err = fmt.Errorf("ML function '%s': %w", i.def.Name, err)
		st.errors.Add(1)
		record(n, sent.Load(), err)
		if i.onErrorNull(ctx) {
			return failedRows(n, err), nil
		}
		return nil, err
	}
	record(n, sent.Load(), nil)
	st.rows.Add(uint64(len(out)))
	i.m.counters.logicalResponses.Add(uint64(len(out)))
	return out, nil
}

// convert turns the endpoint's answer into the declared return type.
func (i *invoker) convert(ctx *sql.Context, v any, argsOf func() ([]any, error)) (any, error) {
	if f, ok := v.(failedCall); ok {
		return warnNull(ctx, f.msg)
	}
	out, _, err := i.def.returnType.Convert(ctx, v)
	if err != nil && i.onErrorNull(ctx) {
		return warnNull(ctx, fmt.Sprintf("ML function '%s' returned %s, which is not a valid %s", i.def.Name, printable(v), i.def.returnType))
	}
	if err != nil {
		args, _ := argsOf()
		in := make([]string, len(args))
		for k, a := range args {
			in[k], _ = remote.FormatValue(a)
		}
		return nil, fmt.Errorf("ML function '%s' returned %s for (%s), which is not a valid %s",
			i.def.Name, printable(v), strings.Join(in, ", "), i.def.returnType)
	}
	return out, nil
}

// maxEcho bounds how much of an answer an error message repeats: enough
// to recognise a wrong value, too little to read back what some internal
// service an endpoint URL names has answered.
const maxEcho = 16

// printable renders a model's answer for an error message: quoted, with
// invalid UTF-8 escaped, and cut short.
func printable(v any) string {
	s := fmt.Sprint(v)
	if len(s) > maxEcho {
		s = s[:maxEcho] + "..."
	}
	if utf8.ValidString(s) {
		return "'" + s + "'"
	}
	return strconv.Quote(s)
}
