package mlfunc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/remote"
	"github.com/sibyldb/sibyldb/internal/remote/bedrock"
)

// Redshift's REQUEST_TYPE: RAW sends the input as the model's own request
// body (InvokeModel); UNIFIED sends it as a user message through Converse.
const (
	RequestRaw     = "RAW"
	RequestUnified = "UNIFIED"
)

// The aliases of CREATE FUNCTION ... ALIAS, as Aurora writes them.
const (
	AliasSageMaker = "AWS_SAGEMAKER_INVOKE_ENDPOINT"
	AliasBedrock   = "AWS_BEDROCK_INVOKE_MODEL"
)

// DefaultBedrockConcurrency is how many requests one Bedrock model has in
// flight at once across all statements (Bedrock has no batch API: one row
// is one request). A model ID that names a CREATE ENDPOINT uses that
// endpoint's MAX_CONCURRENCY instead.
const DefaultBedrockConcurrency = 16

// IsBedrock reports a function created with ALIAS AWS_BEDROCK_INVOKE_MODEL.
func (d *FunctionDef) IsBedrock() bool { return d.Alias == AliasBedrock }

// AliasName is the function's alias as written in CREATE FUNCTION.
func (d *FunctionDef) AliasName() string {
	if d.IsBedrock() {
		return AliasBedrock
	}
	return AliasSageMaker
}

// Target is what the function calls: its endpoint name, or its model ID.
func (d *FunctionDef) Target() string {
	if d.IsBedrock() {
		return d.ModelID
	}
	return d.Endpoint
}

// resolveBedrock validates what is particular to Bedrock functions.
func (d *FunctionDef) resolveBedrock() error {
	if d.ModelID == "" {
		return errors.New("AWS_BEDROCK_INVOKE_MODEL needs MODEL ID 'model-id'")
	}
	if d.Request != "" {
		// A Redshift external model: f(input [, config [, additional]]).
		if len(d.Params) != 3 || d.OptionalParams != 2 {
			return fmt.Errorf("external model function '%s' must take (input [, inference_config [, additional_fields]])", d.Name)
		}
		return nil
	}
	if len(d.Params) != 1 {
		return fmt.Errorf("an AWS_BEDROCK_INVOKE_MODEL function takes one argument, the request body; '%s' declares %d", d.Name, len(d.Params))
	}
	if f := strings.Fields(d.Returns); len(f) > 0 && strings.EqualFold(f[0], "JSON") {
		// Aurora refuses it too: the answer is text; CAST(f(...) AS JSON)
		// gives JSON.
		return errors.New("RETURNS JSON is not supported for AWS_BEDROCK_INVOKE_MODEL functions: return a string type (TEXT, LONGTEXT) and CAST the result AS JSON")
	}
	if d.ContentType == "" {
		d.ContentType = "application/json"
	}
	if d.Accept == "" {
		d.Accept = "application/json"
	}
	if d.TimeoutMS < 0 {
		return errors.New("TIMEOUT_MS must be positive")
	}
	return nil
}

// checkBedrockReturnType allows what Aurora allows for Bedrock functions,
// whose answer is a response body: the character string types, TEXT ones
// included (the answer is utf8mb4 whatever charset was declared).
func checkBedrockReturnType(t sql.Type) (sql.Type, error) {
	if types.IsJSON(t) {
		return t, nil // Redshift's RESPONSE_TYPE SUPER; Aurora's refused earlier
	}
	if types.IsText(t) {
		st := t.(sql.StringType)
		return types.MustCreateString(st.Type(), st.Length(), sql.Collation_utf8mb4_0900_bin), nil
	}
	return nil, fmt.Errorf("return type %s is not supported for AWS_BEDROCK_INVOKE_MODEL functions: use VARCHAR or a TEXT type", t.String())
}

// endpointOf returns the endpoint a function calls; isEndpoint is false
// for a Bedrock function whose model ID names no CREATE ENDPOINT, which
// calls Amazon Bedrock itself.
func (m *Manager) endpointOf(d *FunctionDef) (name string, isEndpoint bool) {
	if !d.IsBedrock() {
		return d.Endpoint, true
	}
	m.mu.RLock()
	_, ok := m.endpoints[strings.ToLower(d.ModelID)]
	m.mu.RUnlock()
	return d.ModelID, ok
}

// bedrockTarget returns the target of a Bedrock model: its own concurrency
// and circuit breaker, one SDK client for all models.
func (m *Manager) bedrockTarget(modelID string) (*target, *bedrock.Client, error) {
	m.awsOnce.Do(func() { m.aws, m.awsErr = remote.LoadAWS(context.Background()) })
	if m.awsErr != nil {
		return nil, nil, fmt.Errorf("%w: model '%s' names no endpoint (CREATE ENDPOINT %s URL '...' PROTOCOL OPENAI) and AWS is not configured for Amazon Bedrock: %v",
			ErrUnresolvedTarget, modelID, modelID, m.awsErr)
	}
	m.bedrockOnce.Do(func() {
		m.bedrock = bedrock.New(m.aws.Config(), bedrock.Options{Counters: m.counters, HTTPClient: remote.NewHTTPClient(DefaultBedrockConcurrency)})
	})
	k := "bedrock:" + modelID
	m.mu.RLock()
	t, ok := m.targets[k]
	m.mu.RUnlock()
	if !ok {
		t = m.remember(k, &target{ep: &remote.Endpoint{Name: modelID}, sem: newFairSem(DefaultBedrockConcurrency)})
	}
	return t, m.bedrock, nil
}

// invokeBedrock sends each row's argument, the model's request body, with
// InvokeModel, and returns the response bodies.
func (i *invoker) invokeBedrock(ctx *sql.Context, rows [][]any) ([]any, error) {
	d := i.def
	t, client, err := i.m.bedrockTarget(d.ModelID)
	if err != nil {
		return nil, fmt.Errorf("ML function '%s': %w", d.Name, err)
	}
	timeout := i.m.timeout(ctx)
	if d.TimeoutMS > 0 {
		timeout = time.Duration(d.TimeoutMS) * time.Millisecond
	}
	out := make([]any, len(rows))
	for r, row := range rows {
		args, err := i.convertArgs(ctx, row)
		if err != nil {
			return nil, err
		}
		if args[0] == nil {
			continue // NULL in, NULL out, nothing sent
		}
		body, err := requestBody(args[0])
		if err != nil {
			return nil, fmt.Errorf("ML function '%s': %w", d.Name, err)
		}
		var call func(ctx context.Context) (any, error)
		release := func() {}
		if d.Request == "" {
			call = func(cctx context.Context) (any, error) {
				// Aurora's raw InvokeModel: the tokens are known once the
				// model answers, so nothing is reserved, but a statement
				// that has used its sibyl_ml_max_tokens_per_statement
				// sends no more. Checked once the call has its slot, when
				// the calls before it have settled.
				settle, err := i.m.reserveTokens(ctx, d.DB+"."+d.Name, 0)
				if err != nil {
					return nil, err
				}
				b, u, err := client.InvokeModelUsage(cctx, d.ModelID, d.ContentType, d.Accept, body)
				if err != nil {
					return nil, err
				}
				if u.Known {
					settle(u.InputTokens + u.OutputTokens)
					i.m.recordTokens(d, u.InputTokens, u.OutputTokens)
				}
				return string(b), nil
			}
		} else {
			if call, release, err = i.redshiftCall(ctx, client, string(body), args[1:]); err != nil {
				var limitErr *mysql.SQLError
				if errors.As(err, &limitErr) {
					return nil, err // names the function already
				}
				return nil, fmt.Errorf("ML function '%s': %w", d.Name, err)
			}
		}
		res, err := i.send(ctx, d.ModelID, 1, func(sent func(int)) ([]any, error) {
			return t.run(ctx, statementKey(ctx), func(ctx context.Context) ([]any, error) {
				ctx, cancel := context.WithTimeout(ctx, timeout)
				defer cancel()
				sent(len(body))
				v, err := call(ctx)
				if err != nil {
					return nil, err
				}
				return []any{v}, nil
			})
		})
		release()
		if err != nil {
			return nil, err
		}
		out[r] = res[0]
	}
	return out, nil
}

// requestBody is an argument as the bytes of a request body.
func requestBody(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	}
	s, err := remote.FormatValue(v)
	return []byte(s), err
}
