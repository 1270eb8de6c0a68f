// Package llamacpp runs generative language models inside the server with
// llama.cpp: the shared libraries node-llama-cpp ships for linux-x64
// (make deps installs them into bin/llama), loaded at run time without cgo
// (purego, plus libffi for the one call whose argument purego cannot
// carry). It backs CREATE ENDPOINT ... URL 'file:///m.gguf' PROTOCOL
// LLAMA_CPP.
//
// A Model holds the weights once and up to Options.Contexts llama.cpp
// contexts, each generating one sequence at a time: concurrent calls run
// in separate contexts (sharing the weights), so one call's output never
// depends on what else runs, and a fixed seed gives the same text whatever
// the load. Batching several sequences in one context would use the CPU a
// little better, but its numerics depend on the batch's other sequences,
// and SQL users expect f(x) to be a function of x.
package llamacpp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Options configure a loaded model.
type Options struct {
	// Contexts bounds concurrent generations (MAX_CONCURRENCY); default 1.
	Contexts int
	// ContextTokens is each context's window; 0 is the model's training
	// context, at most 4096.
	ContextTokens int
	// Threads is each context's CPU threads (default 1). llama.cpp's
	// threads meet at a spinning barrier after every operation, so more
	// threads than free cores is ruinous (on a busy 2-core machine two
	// threads per context made the test model 270 times slower); give a
	// context more only on cores the server can spare.
	Threads int
}

// Model is a loaded GGUF model.
type Model struct {
	a     *api
	path  string
	model uintptr
	vocab uintptr
	tmpl  uintptr // the model's chat template (char *), 0 when it has none
	nCtx  int
	opts  Options

	slots chan struct{} // one per context that may exist
	mu    sync.Mutex
	idle  []uintptr

	life   sync.RWMutex // generations hold it shared; Close exclusively
	closed bool
}

// ErrClosed is returned by calls on a model that was unloaded.
var ErrClosed = errors.New("model unloaded")

// Open loads the model at path (a path llama.cpp opens; callers confine
// it first).
func Open(path string, o Options) (*Model, error) {
	a, err := load()
	if err != nil {
		return nil, err
	}
	if o.Contexts <= 0 {
		o.Contexts = 1
	}
	if o.Threads <= 0 {
		o.Threads = 1
	}
	p := a.modelDefaultParams()
	p.nGpuLayers = 0
	takeLogs()
	cpath := append([]byte(path), 0)
	m := a.loadModel.call(unsafe.Pointer(&cpath[0]), unsafe.Pointer(&p))
	runtime.KeepAlive(cpath)
	if m == 0 {
		why := takeLogs()
		if why == "" {
			why = "not a model llama.cpp can load"
		}
		return nil, fmt.Errorf("llama.cpp could not load the model: %s", why)
	}
	n := o.ContextTokens
	if n <= 0 {
		n = int(a.modelNCtxTrain(m))
		if n <= 0 || n > 4096 {
			n = 4096
		}
	}
	md := &Model{a: a, path: path, model: m, vocab: a.modelGetVocab(m), nCtx: n, opts: o,
		slots: make(chan struct{}, o.Contexts)}
	md.tmpl = a.modelChatTemplate(m, 0)
	return md, nil
}

// ContextTokens is each context's window in tokens.
func (m *Model) ContextTokens() int { return m.nCtx }

// Close frees the model once running generations end; later calls fail
// with ErrClosed.
func (m *Model) Close() {
	m.life.Lock()
	defer m.life.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	for _, c := range m.idle {
		m.a.free(c)
	}
	m.idle = nil
	m.a.modelFree(m.model)
}

// acquire takes a context, creating one while fewer than Contexts exist.
func (m *Model) acquire(ctx context.Context) (uintptr, error) {
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	m.mu.Lock()
	if n := len(m.idle); n > 0 {
		c := m.idle[n-1]
		m.idle = m.idle[:n-1]
		m.mu.Unlock()
		return c, nil
	}
	m.mu.Unlock()
	p := m.a.contextDefaultParams()
	p.nCtx = uint32(m.nCtx)
	p.nBatch = uint32(m.nCtx)
	p.nUbatch = uint32(min(m.nCtx, 512))
	p.nSeqMax = 1
	p.nThreads = int32(m.opts.Threads)
	p.nThreadsBatch = int32(m.opts.Threads)
	p.noPerf = true
	takeLogs()
	c := m.a.initContext.call(*(*unsafe.Pointer)(unsafe.Pointer(&m.model)), unsafe.Pointer(&p))
	if c == 0 {
		<-m.slots
		return 0, fmt.Errorf("llama.cpp could not create a context of %d tokens: %s", m.nCtx, takeLogs())
	}
	return c, nil
}

func (m *Model) release(c uintptr) {
	m.mu.Lock()
	m.idle = append(m.idle, c)
	m.mu.Unlock()
	<-m.slots
}

// Request is one generation.
type Request struct {
	// Prompt is the text to continue; with Chat it is the user's message,
	// formatted with the model's chat template (and System before it)
	// when the model has one.
	Prompt string
	Chat   bool
	System string
	// MaxTokens bounds the tokens generated (default 512, or what the
	// context leaves after the prompt).
	MaxTokens int
	// Temperature 0 is greedy decoding (the default); above 0 samples with
	// Seed after TopP (1 when nil) filtering.
	Temperature float32
	TopP        *float32
	Seed        uint32
	// Stop ends the text before the first occurrence of any of these.
	Stop []string
}

// Result is a generation's text and accounting.
type Result struct {
	Text string
	// StopReason is end_turn (the model ended), max_tokens or
	// stop_sequence, as Bedrock's Converse reports them.
	StopReason                string
	InputTokens, OutputTokens int
}

// DefaultMaxTokens is the generation bound when a request sets none.
const DefaultMaxTokens = 512

// Generate runs one request in a free context; ctx cancels it between
// tokens.
func (m *Model) Generate(ctx context.Context, r Request) (Result, error) {
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return Result{}, ErrClosed
	}
	text, special, err := m.format(r)
	if err != nil {
		return Result{}, err
	}
	tokens, err := m.tokenize(text, special)
	if err != nil {
		return Result{}, err
	}
	maxTokens := r.MaxTokens
	if maxTokens <= 0 {
		maxTokens = min(DefaultMaxTokens, m.nCtx-len(tokens))
	}
	if len(tokens)+maxTokens > m.nCtx {
		return Result{}, fmt.Errorf("the prompt's %d tokens and maxTokens %d exceed the model's context of %d tokens", len(tokens), maxTokens, m.nCtx)
	}
	c, err := m.acquire(ctx)
	if err != nil {
		return Result{}, err
	}
	defer m.release(c)
	a := m.a
	a.memoryClear(a.getMemory(c), true)

	smpl := a.chainInit(chainParams{noPerf: true})
	defer a.samplerFree(smpl)
	if r.Temperature <= 0 {
		a.chainAdd(smpl, a.initGreedy())
	} else {
		if r.TopP != nil && *r.TopP < 1 {
			a.chainAdd(smpl, a.initTopP(*r.TopP, 1))
		}
		a.chainAdd(smpl, a.initTemp(r.Temperature))
		a.chainAdd(smpl, a.initDist(r.Seed))
	}

	res := Result{InputTokens: len(tokens), StopReason: "max_tokens"}
	if rc := a.decode(c, a.batchGetOne(&tokens[0], int32(len(tokens)))); rc != 0 {
		runtime.KeepAlive(tokens)
		return Result{}, fmt.Errorf("llama.cpp could not evaluate the prompt (%d): %s", rc, takeLogs())
	}
	runtime.KeepAlive(tokens)
	var out []byte
	piece := make([]byte, 256)
	tok := make([]int32, 1)
	for res.OutputTokens < maxTokens {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		t := a.sample(smpl, c, -1)
		if a.vocabIsEOG(m.vocab, t) {
			res.StopReason = "end_turn"
			break
		}
		res.OutputTokens++
		n := a.tokenToPiece(m.vocab, t, &piece[0], int32(len(piece)), 0, false)
		if n < 0 {
			piece = make([]byte, -n)
			n = a.tokenToPiece(m.vocab, t, &piece[0], int32(len(piece)), 0, false)
		}
		if n > 0 {
			out = append(out, piece[:n]...)
		}
		if cut, ok := stopAt(out, r.Stop); ok {
			out = out[:cut]
			res.StopReason = "stop_sequence"
			break
		}
		if res.OutputTokens == maxTokens {
			break
		}
		tok[0] = t
		if rc := a.decode(c, a.batchGetOne(&tok[0], 1)); rc != 0 {
			return Result{}, fmt.Errorf("llama.cpp could not evaluate token %d (%d): %s", res.OutputTokens, rc, takeLogs())
		}
		runtime.KeepAlive(tok)
	}
	// A token limit can cut a multi-byte character; the answer is text.
	res.Text = strings.ToValidUTF8(string(out), "\uFFFD")
	return res, nil
}

// stopAt finds the earliest stop sequence in out.
func stopAt(out []byte, stops []string) (int, bool) {
	cut, found := len(out), false
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := bytes.Index(out, []byte(s)); i >= 0 && i < cut {
			cut, found = i, true
		}
	}
	return cut, found
}

// Tokens counts the tokens of text as a plain prompt.
func (m *Model) Tokens(text string) (int, error) {
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return 0, ErrClosed
	}
	t, err := m.tokenize(text, false)
	return len(t), err
}

// tokenize turns text into tokens, with the model's start token; special
// lets control-token text (from a chat template) become control tokens.
func (m *Model) tokenize(text string, special bool) ([]int32, error) {
	b := append([]byte(text), 0)
	tokens := make([]int32, len(text)+8)
	n := m.a.tokenize(m.vocab, &b[0], int32(len(text)), &tokens[0], int32(len(tokens)), true, special)
	if n < 0 {
		tokens = make([]int32, -n)
		n = m.a.tokenize(m.vocab, &b[0], int32(len(text)), &tokens[0], int32(len(tokens)), true, special)
	}
	runtime.KeepAlive(b)
	if n <= 0 {
		return nil, errors.New("llama.cpp could not tokenize the prompt")
	}
	return tokens[:n], nil
}

// format renders a request as the model's input text: a chat request
// through the model's chat template when it has one, else the plain text
// (system text first).
func (m *Model) format(r Request) (string, bool, error) {
	if !r.Chat || m.tmpl == 0 {
		if r.System != "" {
			return r.System + "\n\n" + r.Prompt, false, nil
		}
		return r.Prompt, false, nil
	}
	var msgs []chatMessage
	var keep [][]byte
	add := func(role, content string) {
		rb, cb := append([]byte(role), 0), append([]byte(content), 0)
		keep = append(keep, rb, cb)
		msgs = append(msgs, chatMessage{role: &rb[0], content: &cb[0]})
	}
	if r.System != "" {
		add("system", r.System)
	}
	add("user", r.Prompt)
	size := 2*len(r.Prompt) + 2*len(r.System) + 1024
	for range 2 {
		buf := make([]byte, size)
		n := m.a.chatApplyTemplate(m.tmpl, &msgs[0], uintptr(len(msgs)), true, &buf[0], int32(len(buf)))
		runtime.KeepAlive(keep)
		if n < 0 {
			// An unsupported template: plain text, as without one.
			return r.System + "\n\n" + r.Prompt, false, nil
		}
		if int(n) <= len(buf) {
			return string(buf[:n]), true, nil
		}
		size = int(n)
	}
	return "", false, errors.New("llama.cpp: chat template output kept growing")
}
