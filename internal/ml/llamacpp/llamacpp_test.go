package llamacpp

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// libDirForTest is bin/llama of this checkout, where make deps installs
// llama.cpp; the tests skip without it (as on non-x86-64 machines).
func libDirForTest(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "bin", "llama")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("llama.cpp is not installed in %s (make deps)", dir)
	}
	return dir
}

func tinyModel(t *testing.T, contexts int) *Model {
	Configure(libDirForTest(t))
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	require.NoError(t, os.WriteFile(path, testserver.TinyLlamaGGUF(1), 0o600))
	m, err := Open(path, Options{Contexts: contexts, Threads: 1})
	require.NoError(t, err)
	t.Cleanup(m.Close)
	return m
}

// TestGenerate loads a random-weight model and checks tokenization, fixed
// seeds, token limits, stop sequences and concurrent contexts.
func TestGenerate(t *testing.T) {
	m := tinyModel(t, 3)
	ctx := context.Background()

	n, err := m.Tokens("abc")
	require.NoError(t, err)
	require.Equal(t, 5, n, "<s>, the space prefix and one token per character")

	greedy, err := m.Generate(ctx, Request{Prompt: "hello", MaxTokens: 24})
	require.NoError(t, err)
	require.Equal(t, "max_tokens", greedy.StopReason)
	require.Equal(t, 24, greedy.OutputTokens)
	require.Equal(t, 7, greedy.InputTokens, "<s>, the space prefix, five characters")
	require.NotEmpty(t, strings.TrimSpace(greedy.Text))

	tests := []struct {
		name string
		req  Request
	}{
		{"greedy", Request{Prompt: "hello", MaxTokens: 24}},
		{"sampled", Request{Prompt: "hello", MaxTokens: 24, Temperature: 0.9, Seed: 7}},
		{"top_p", Request{Prompt: "hello", MaxTokens: 24, Temperature: 0.9, TopP: ptr(float32(0.5)), Seed: 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, err := m.Generate(ctx, tc.req)
			require.NoError(t, err)
			// The same request in parallel contexts gives the same text.
			var wg sync.WaitGroup
			got := make([]string, 6)
			for i := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := m.Generate(ctx, tc.req)
					if err == nil {
						got[i] = r.Text
					}
				}()
			}
			wg.Wait()
			for _, g := range got {
				require.Equal(t, first.Text, g)
			}
		})
	}
	other, err := m.Generate(ctx, Request{Prompt: "hello", MaxTokens: 24, Temperature: 0.9, Seed: 8})
	require.NoError(t, err)
	sampled, err := m.Generate(ctx, Request{Prompt: "hello", MaxTokens: 24, Temperature: 0.9, Seed: 7})
	require.NoError(t, err)
	require.NotEqual(t, sampled.Text, other.Text, "another seed, another text")

	// A stop sequence taken from the middle of the greedy text ends it there.
	stop := greedy.Text[10:13]
	cut := strings.Index(greedy.Text, stop)
	stopped, err := m.Generate(ctx, Request{Prompt: "hello", MaxTokens: 24, Stop: []string{"never", stop}})
	require.NoError(t, err)
	require.Equal(t, "stop_sequence", stopped.StopReason)
	require.Equal(t, greedy.Text[:cut], stopped.Text)

	_, err = m.Generate(ctx, Request{Prompt: "hello", MaxTokens: 10000})
	require.ErrorContains(t, err, "exceed the model's context of 512 tokens")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = m.Generate(cancelled, Request{Prompt: "hello"})
	require.ErrorIs(t, err, context.Canceled)

	m.Close()
	_, err = m.Generate(ctx, Request{Prompt: "hello"})
	require.ErrorIs(t, err, ErrClosed)
}

// TestOpenErrors checks the messages for a file that is not a model and a
// missing library directory.
func TestOpenErrors(t *testing.T) {
	Configure(libDirForTest(t))
	bad := filepath.Join(t.TempDir(), "bad.gguf")
	require.NoError(t, os.WriteFile(bad, []byte("not a model"), 0o600))
	_, err := Open(bad, Options{})
	require.ErrorContains(t, err, "llama.cpp could not load the model")
}

func ptr[T any](v T) *T { return &v }

var _ = errors.New
