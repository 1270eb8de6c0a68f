package mlfunc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/fileaccess"
	"github.com/sibyldb/sibyldb/internal/ml/llamacpp"
	"github.com/sibyldb/sibyldb/internal/remote"
	"github.com/sibyldb/sibyldb/internal/remote/bedrock"
)

// A LLAMA_CPP endpoint runs a GGUF model inside the server:
//
//	CREATE ENDPOINT name URL 'file:///dir/model.gguf' PROTOCOL LLAMA_CPP
//	    [MAX_CONCURRENCY n] [THREADS n] [PROMPT 'system prompt'] [TIMEOUT_MS n]
//
// The file is a server file: creating (or altering) such an endpoint needs
// the FILE privilege besides CREATE ENDPOINT, and the path must lie inside
// secure_file_priv, as for LOAD DATA INFILE; the model is opened through
// package fileaccess when first used, and llama.cpp reads the descriptor
// that was checked. It is loaded once, on first use, kept while the
// endpoint exists, and unloaded by DROP ENDPOINT (or a CREATE OR REPLACE /
// ALTER that changes it). MAX_CONCURRENCY is the number of llama.cpp
// contexts generating at once (see package llamacpp), THREADS the CPU
// threads each uses (default 1: rows are the parallelism, and llama.cpp's
// threads spin at every step, so threads beyond free cores slow every
// generation down by orders of magnitude on a busy server).

// ErrFileDenied is CREATE / ALTER ENDPOINT of a file:// model without the
// FILE privilege.
var ErrFileDenied = mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
	"Access denied; you need (at least one of) the FILE privilege(s) for this operation")

// modelPath is a LLAMA_CPP endpoint's file path.
func (d *EndpointDef) modelPath() (string, error) {
	u, err := url.Parse(d.URL)
	if err != nil || u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") || !strings.HasPrefix(u.Path, "/") {
		return "", fmt.Errorf("endpoint '%s': a LLAMA_CPP endpoint's URL must be file:///absolute/path/model.gguf, not %q", d.Name, d.URL)
	}
	return u.Path, nil
}

// IsFile reports an endpoint whose URL names a server file.
func (d *EndpointDef) IsFile() bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(d.URL)), "file:")
}

// validateLlamaCpp checks a LLAMA_CPP endpoint: a file:// URL inside
// secure_file_priv, no HTTP options.
func (d *EndpointDef) validateLlamaCpp() error {
	p, err := d.modelPath()
	if err != nil {
		return err
	}
	if len(d.Headers) > 0 || d.CABundle != "" || d.Model != "" {
		return fmt.Errorf("endpoint '%s': HEADERS, CA_BUNDLE and MODEL do not apply to LLAMA_CPP endpoints", d.Name)
	}
	if d.TimeoutMS < 0 || d.MaxConcurrency < 0 || d.Threads < 0 {
		return fmt.Errorf("endpoint '%s': TIMEOUT_MS, MAX_CONCURRENCY and THREADS must be positive", d.Name)
	}
	if _, err := fileaccess.Resolve(fileaccess.SecureFilePriv(), p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fileaccess.ErrOutsideStatement()
	}
	return nil
}

// localModel is a LLAMA_CPP endpoint's model, loaded on first use.
type localModel struct {
	name, path        string
	contexts, threads int

	mu     sync.Mutex
	model  *llamacpp.Model
	closed bool
}

// get loads the model once; a failure is not remembered (the file may be
// put in place later).
func (l *localModel) get() (*llamacpp.Model, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("endpoint '%s' was dropped", l.name)
	}
	if l.model != nil {
		return l.model, nil
	}
	f, err := fileaccess.Open(fileaccess.SecureFilePriv(), l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, mysql.NewSQLError(1017, "HY000", "Can't find file: '%s' (errno: 2 - No such file or directory)", l.path)
	case errors.Is(err, fileaccess.ErrOutside):
		return nil, fileaccess.ErrOutsideStatement()
	case err != nil:
		return nil, mysql.NewSQLError(1017, "HY000", "Can't find file: '%s' (%v)", l.path, err)
	}
	defer f.Close()
	// llama.cpp opens the descriptor that was checked, not the path, so a
	// link swapped in meanwhile cannot lead it outside secure_file_priv.
	m, err := llamacpp.Open(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), llamacpp.Options{Contexts: l.contexts, Threads: l.threads})
	if errors.Is(err, llamacpp.ErrNoLibrary) {
		return nil, mysql.NewSQLError(1126, "HY000", "Can't open shared library '%s' (errno: 2 %s)", llamacpp.LibraryDir(), err.Error())
	}
	if err != nil {
		return nil, fmt.Errorf("endpoint '%s': model %s: %w", l.name, l.path, err)
	}
	l.model = m
	return m, nil
}

// close unloads the model once running generations end.
func (l *localModel) close() {
	l.mu.Lock()
	m := l.model
	l.model, l.closed = nil, true
	l.mu.Unlock()
	if m != nil {
		m.Close()
	}
}

// loaded reports whether the model is in memory (SHOW ENDPOINTS, tests).
func (l *localModel) loaded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.model != nil
}

// unloadTarget releases what a forgotten target holds; m.mu is held.
func unloadTarget(t *target) {
	if t != nil && t.local != nil {
		go t.local.close() // waits for running generations
	}
}

// LocalModelLoaded reports whether the named LLAMA_CPP endpoint's model is
// loaded.
func (m *Manager) LocalModelLoaded(name string) bool {
	m.mu.RLock()
	t, ok := m.targets[strings.ToLower(name)]
	m.mu.RUnlock()
	return ok && t.local != nil && t.local.loaded()
}

func newLocalTarget(d EndpointDef) (*target, error) {
	p, err := d.modelPath()
	if err != nil {
		return nil, err
	}
	conc := d.MaxConcurrency
	if conc <= 0 {
		conc = 1
	}
	var timeout time.Duration
	if d.TimeoutMS > 0 {
		timeout = time.Duration(d.TimeoutMS) * time.Millisecond
	}
	return &target{
		ep:           &remote.Endpoint{Name: d.Name, Codec: remote.OpenAICodec{}, Timeout: timeout},
		sem:          newFairSem(conc),
		fixedTimeout: d.TimeoutMS > 0,
		local:        &localModel{name: d.Name, path: p, contexts: conc, threads: max(1, d.Threads)},
		system:       d.Prompt,
	}, nil
}

// llamaBody is the request body of Meta Llama models on Bedrock's
// InvokeModel, which an Aurora function bound to a LLAMA_CPP endpoint may
// send instead of plain text; seed and stop are SibylDB's additions.
type llamaBody struct {
	Prompt      *string  `json:"prompt"`
	MaxGenLen   *int     `json:"max_gen_len"`
	Temperature *float32 `json:"temperature"`
	TopP        *float32 `json:"top_p"`
	Seed        *uint32  `json:"seed"`
	Stop        []string `json:"stop"`
}

// invokeLocal generates one answer per row with a LLAMA_CPP endpoint's
// model: Redshift's UNIFIED functions with their inference configuration
// (and {"seed": n} as additional model fields), Aurora's functions with a
// Llama request body (answered with a Llama response body) or plain text
// (answered with text), SageMaker-style functions with their arguments as
// one message.
func (i *invoker) invokeLocal(ctx *sql.Context, name string, t *target, rows [][]any) ([]any, error) {
	d := i.def
	model, err := t.local.get()
	if err != nil {
		var se *mysql.SQLError
		if errors.As(err, &se) {
			return nil, mysql.NewSQLError(se.Num, se.State, "ML function '%s': %s", d.Name, se.Message)
		}
		return nil, fmt.Errorf("ML function '%s': %w", d.Name, err)
	}
	timeout := i.m.timeout(ctx)
	out := make([]any, len(rows))
	for r, row := range rows {
		args, err := i.convertArgs(ctx, row)
		if err != nil {
			return nil, err
		}
		if args[0] == nil {
			continue
		}
		req, asJSON, err := i.localRequest(args, t.system)
		if err != nil {
			return nil, fmt.Errorf("ML function '%s': %w", d.Name, err)
		}
		reserve := int64(req.MaxTokens)
		if reserve <= 0 {
			reserve = llamacpp.DefaultMaxTokens
		}
		settle, err := i.m.reserveTokens(ctx, d.DB+"."+d.Name, reserve)
		if err != nil {
			return nil, err
		}
		var started atomic.Bool
		res, err := i.send(ctx, name, 1, func(sent func(int)) ([]any, error) {
			return t.run(ctx, statementKey(ctx), func(cctx context.Context) ([]any, error) {
				started.Store(true)
				if !t.fixedTimeout {
					var cancel context.CancelFunc
					cctx, cancel = context.WithTimeout(cctx, timeout)
					defer cancel()
				} else if t.ep.Timeout > 0 {
					var cancel context.CancelFunc
					cctx, cancel = context.WithTimeout(cctx, t.ep.Timeout)
					defer cancel()
				}
				sent(len(req.Prompt) + len(req.System))
				g, err := model.Generate(cctx, req)
				if err != nil {
					settle(0)
					return nil, &remote.Error{Kind: "model", Endpoint: name, Message: err.Error()}
				}
				settle(int64(g.InputTokens + g.OutputTokens))
				i.m.recordTokens(d, int64(g.InputTokens), int64(g.OutputTokens))
				return []any{i.localAnswer(g, asJSON)}, nil
			})
		})
		if !started.Load() {
			settle(0)
		}
		if err != nil {
			return nil, err
		}
		out[r] = res[0]
	}
	return out, nil
}

// localRequest builds the generation a row asks for; asJSON says the
// answer is a Llama response body.
func (i *invoker) localRequest(args []any, system string) (llamacpp.Request, bool, error) {
	d := i.def
	input, err := requestBody(args[0])
	if err != nil {
		return llamacpp.Request{}, false, err
	}
	req := llamacpp.Request{System: system, Chat: true}
	switch {
	case d.Request == RequestUnified:
		text := string(input)
		if d.Prompt != "" {
			text = d.Prompt + " " + text
		}
		if d.Suffix != "" {
			text += " " + d.Suffix
		}
		req.Prompt = text
		var inf bedrock.Inference
		if len(args) > 1 && args[1] != nil {
			b, err := requestBody(args[1])
			if err != nil {
				return req, false, err
			}
			if inf, err = parseInference(string(b)); err != nil {
				return req, false, err
			}
		}
		if inf.MaxTokens != nil {
			req.MaxTokens = int(*inf.MaxTokens)
		}
		if inf.Temperature != nil {
			req.Temperature = *inf.Temperature
		}
		req.TopP, req.Stop = inf.TopP, inf.StopSequences
		if len(args) > 2 && args[2] != nil {
			b, err := requestBody(args[2])
			if err != nil {
				return req, false, err
			}
			var extra struct {
				Seed *uint32 `json:"seed"`
			}
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&extra); err != nil {
				return req, false, errors.New(`a LLAMA_CPP model's additional fields are {"seed": n} only`)
			}
			if extra.Seed != nil {
				req.Seed = *extra.Seed
			}
		}
		return req, false, nil
	case d.IsBedrock():
		var body llamaBody
		if json.Unmarshal(input, &body) == nil && body.Prompt != nil {
			req.Prompt, req.Chat, req.Stop = *body.Prompt, false, body.Stop
			if body.MaxGenLen != nil {
				req.MaxTokens = *body.MaxGenLen
			}
			if body.Temperature != nil {
				req.Temperature = *body.Temperature
			}
			if body.Seed != nil {
				req.Seed = *body.Seed
			}
			req.TopP = body.TopP
			return req, true, nil
		}
		req.Prompt = string(input)
		return req, false, nil
	}
	parts := make([]string, len(args))
	for k, a := range args {
		s, err := remote.FormatValue(a)
		if err != nil {
			return req, false, err
		}
		parts[k] = s
	}
	req.Prompt = strings.Join(parts, "\n")
	return req, false, nil
}

// localAnswer is a generation as the function returns it.
func (i *invoker) localAnswer(g llamacpp.Result, asJSON bool) any {
	if asJSON {
		reason := map[string]string{"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}[g.StopReason]
		b, _ := json.Marshal(map[string]any{"generation": g.Text, "prompt_token_count": g.InputTokens,
			"generation_token_count": g.OutputTokens, "stop_reason": reason})
		return string(b)
	}
	if i.def.Response == "SUPER" {
		b, _ := json.Marshal(map[string]any{
			"output":     map[string]any{"message": map[string]any{"role": "assistant", "content": []map[string]string{{"text": g.Text}}}},
			"stopReason": g.StopReason,
			"usage":      map[string]int{"inputTokens": g.InputTokens, "outputTokens": g.OutputTokens, "totalTokens": g.InputTokens + g.OutputTokens},
		})
		return string(b)
	}
	return g.Text
}
