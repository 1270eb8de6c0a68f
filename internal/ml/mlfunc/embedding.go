package mlfunc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/privilege"
	"github.com/sibyldb/sibyldb/internal/remote"
	"github.com/sibyldb/sibyldb/internal/remote/bedrock"
)

// EmbeddingModel is a remote text-embedding model sibyl_embed calls: a
// CREATE ENDPOINT endpoint of protocol OPENAI (/v1/embeddings) or KSERVE_V2,
// or an Amazon Bedrock embedding model. Its calls go through the same
// targets as ML functions: the endpoint's MAX_CONCURRENCY (shared with
// its other calls), circuit breaker, retries, timeouts, per-statement
// limits, audit log and request metrics.
type EmbeddingModel struct {
	m    *Manager
	name string
	// bedrock is set for a Bedrock model ID that names no endpoint.
	bedrock bool
	codec   remote.Codec
	url     string
}

// EmbeddingModel resolves name as sibyl_embed's model argument: an
// endpoint of that name, else a Bedrock embedding model ID. ok is false
// when it is neither.
func (m *Manager) EmbeddingModel(name string) (e EmbeddingModel, ok bool, err error) {
	m.mu.RLock()
	d, isEndpoint := m.endpoints[strings.ToLower(name)]
	m.mu.RUnlock()
	if isEndpoint {
		codec, err := remote.NewEmbeddingCodec(d.Protocol, d.Model)
		if err != nil {
			return EmbeddingModel{}, true, fmt.Errorf("endpoint '%s': %w", d.Name, err)
		}
		return EmbeddingModel{m: m, name: d.Name, codec: codec, url: embeddingURL(d.URL, codec.Path(d.Name))}, true, nil
	}
	if bedrock.IsEmbeddingModel(name) {
		return EmbeddingModel{m: m, name: name, bedrock: true}, true, nil
	}
	return EmbeddingModel{}, false, nil
}

// embeddingURL is the URL an endpoint's embedding requests go to: the
// endpoint URL when it names a path other than chat completions, else the
// protocol's path on the same server.
func embeddingURL(base, path string) string {
	u, err := url.Parse(base)
	if err == nil && strings.HasSuffix(u.Path, "/chat/completions") {
		u.Path = strings.TrimSuffix(u.Path, "/chat/completions") + "/embeddings"
		return u.String()
	}
	return requestURL(base, path)
}

// Name is the model's name as sibyl_embed was given it.
func (e EmbeddingModel) Name() string { return e.name }

// Privilege is Aurora's privilege a caller needs: INVOKE BEDROCK for
// Bedrock models, INVOKE SAGEMAKER for model endpoints.
func (e EmbeddingModel) Privilege() string {
	if e.bedrock {
		return privilege.InvokeBedrock
	}
	return privilege.InvokeSageMaker
}

// defaultEmbeddingBatch is the most texts one request carries when the
// protocol has no limit of its own (KServe v2).
const defaultEmbeddingBatch = 256

// MaxBatch is the most texts one Embed call carries.
func (e EmbeddingModel) MaxBatch() int {
	if e.bedrock {
		return bedrock.EmbeddingBatch(e.name)
	}
	if n := e.codec.RowsPerRequest(); n > 0 {
		return n
	}
	return defaultEmbeddingBatch
}

// Concurrency is how many Embed calls may be in flight.
func (e EmbeddingModel) Concurrency() int {
	if e.bedrock {
		return DefaultBedrockConcurrency
	}
	if t, err := e.m.resolve(e.name); err == nil {
		return t.sem.Cap()
	}
	return DefaultConcurrency
}

// Embed returns one vector per text, as the model gives them.
func (e EmbeddingModel) Embed(ctx *sql.Context, texts []string) ([][]float32, error) {
	const fn = "sibyl_embed"
	var (
		t    *target
		call func(ctx context.Context, sent func(int), used func(tokens int64)) ([]any, error)
	)
	if e.bedrock {
		bt, client, err := e.m.bedrockTarget(e.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		t = bt
		timeout := e.m.timeout(ctx)
		call = func(ctx context.Context, sent func(int), used func(int64)) ([]any, error) {
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			for _, s := range texts {
				sent(len(s))
			}
			vecs, tokens, err := client.Embed(ctx, e.name, texts)
			if err != nil {
				return nil, err
			}
			used(int64(tokens))
			out := make([]any, len(vecs))
			for i, v := range vecs {
				out[i] = v
			}
			return out, nil
		}
	} else {
		et, err := e.m.resolve(e.name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		t = et
		req := remote.Request{Columns: []string{"text"}, Rows: make([][]any, len(texts))}
		for i, s := range texts {
			req.Rows[i] = []any{s}
		}
		timeout := e.m.timeout(ctx)
		call = func(ctx context.Context, sent func(int), used func(int64)) ([]any, error) {
			ep := *t.ep
			ep.Codec, ep.URL, ep.Sent, ep.Used = e.codec, e.url, sent, used
			if !t.fixedTimeout {
				ep.Timeout = timeout
			}
			return ep.Invoke(ctx, req)
		}
	}

	record, err := e.m.Reserve(ctx, fn, e.name, len(texts))
	if err != nil {
		record(0, 0, err)
		return nil, err
	}
	e.m.counters.logicalRequests.Add(uint64(len(texts)))
	var sent int64
	start := time.Now()
	out, err := t.run(ctx, statementKey(ctx), func(cctx context.Context) ([]any, error) {
		// The tokens are known once the model answers (OpenAI's usage,
		// Titan's inputTextTokenCount), so nothing is reserved, but a
		// statement that has used its sibyl_ml_max_tokens_per_statement
		// sends no more. Checked once the call has its slot.
		settle, err := e.m.reserveTokens(ctx, fn, 0)
		if err != nil {
			return nil, err
		}
		var tokens int64
		out, err := call(cctx, func(n int) { sent += int64(n) }, func(n int64) { tokens += n })
		settle(tokens)
		e.m.counters.inputTokens.Add(uint64(tokens))
		return out, err
	})
	if o := e.m.Observer; o != nil && ctx.Err() == nil {
		o.ObserveRequest(e.name, len(texts), time.Since(start), err != nil)
	}
	if err != nil {
		outcome := err
		if ctx.Err() != nil {
			outcome = nil // the statement no longer wants the answer
		}
		record(len(texts), sent, outcome)
		var limitErr *mysql.SQLError
		if errors.As(err, &limitErr) {
			return nil, err // the token limit, naming sibyl_embed already
		}
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	record(len(texts), sent, nil)
	e.m.counters.logicalResponses.Add(uint64(len(texts)))
	vecs := make([][]float32, len(out))
	for i, v := range out {
		vecs[i], _ = v.([]float32)
	}
	return vecs, nil
}
