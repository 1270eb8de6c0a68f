package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sibyldb/sibyldb/bench/internal/benchserver"
	"github.com/sibyldb/sibyldb/internal/ml/llamacpp"
	"github.com/sibyldb/sibyldb/internal/testserver"
)

// localOptions configure the in-process (LLAMA_CPP) benchmark.
type localOptions struct {
	gguf        string // a model the operator supplies; empty: the tiny test model
	rows        int
	tokens      int
	concurrency int
	threads     int
}

type localResult struct {
	model                 string
	load                  time.Duration
	sqlTime, goTime       time.Duration
	sqlTokens, goTokens   int64
	promptTokens, answers int64
}

// benchLocal generates o.rows answers of o.tokens tokens (greedy) through
// SQL from a LLAMA_CPP endpoint with MAX_CONCURRENCY o.concurrency, then
// the same requests with package llamacpp directly, and reports output
// tokens per second of both.
func benchLocal(bin string, o localOptions) (localResult, error) {
	model := o.gguf
	r := localResult{model: model}
	if model == "" {
		dir, err := os.MkdirTemp("", "llmbench-")
		if err != nil {
			return r, err
		}
		defer os.RemoveAll(dir)
		model = filepath.Join(dir, "tiny.gguf")
		if err := os.WriteFile(model, testserver.TinyLlamaGGUF(1), 0o600); err != nil {
			return r, err
		}
		r.model = "tiny test model (2 layers, 32-d, F32)"
	}
	model, err := filepath.Abs(model)
	if err != nil {
		return r, err
	}
	srv, err := benchserver.StartArgs(bin, []string{"--secure-file-priv", filepath.Dir(model)})
	if err != nil {
		return r, err
	}
	defer srv.Stop()
	db, err := srv.OpenNew("bench")
	if err != nil {
		return r, err
	}
	for _, s := range []string{
		"CREATE TABLE prompts (id INT PRIMARY KEY, p TEXT)",
		fmt.Sprintf("CREATE ENDPOINT local URL 'file://%s' PROTOCOL LLAMA_CPP MAX_CONCURRENCY %d THREADS %d", model, o.concurrency, o.threads),
		"CREATE EXTERNAL MODEL local_model FUNCTION gen MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'local', REQUEST_TYPE UNIFIED)",
	} {
		if _, err := db.Exec(s); err != nil {
			return r, fmt.Errorf("%s: %w", s, err)
		}
	}
	for i := 0; i < o.rows; i++ {
		if _, err := db.Exec("INSERT INTO prompts VALUES (?, ?)", i, prompt(i)); err != nil {
			return r, err
		}
	}
	cfg := fmt.Sprintf(`{"maxTokens": %d, "temperature": 0}`, o.tokens)
	start := time.Now()
	var warm string
	if err := db.QueryRow("SELECT gen('warm up', '{\"maxTokens\": 1}')").Scan(&warm); err != nil {
		return r, fmt.Errorf("load: %w", err)
	}
	r.load = time.Since(start)
	before, err := outputTokens(db)
	if err != nil {
		return r, err
	}
	start = time.Now()
	rows, err := db.Query("SELECT gen(p, ?) FROM prompts", cfg)
	if err != nil {
		return r, err
	}
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return r, err
		}
		r.answers++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	r.sqlTime = time.Since(start)
	after, err := outputTokens(db)
	if err != nil {
		return r, err
	}
	r.sqlTokens = after - before

	// The same generations in this process, without SQL.
	llamacpp.Configure(filepath.Join(filepath.Dir(bin), "llama"))
	start = time.Now()
	m, err := llamacpp.Open(model, llamacpp.Options{Contexts: o.concurrency, Threads: o.threads})
	if err != nil {
		return r, err
	}
	defer m.Close()
	if _, err := m.Generate(context.Background(), llamacpp.Request{Prompt: "warm up", Chat: true, MaxTokens: 1}); err != nil {
		return r, err
	}
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	var wg sync.WaitGroup
	start = time.Now()
	for w := 0; w < o.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				g, err := m.Generate(context.Background(), llamacpp.Request{Prompt: prompt(i), Chat: true, MaxTokens: o.tokens})
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				r.goTokens += int64(g.OutputTokens)
				r.promptTokens += int64(g.InputTokens)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < o.rows; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	r.goTime = time.Since(start)
	return r, firstErr
}

func prompt(i int) string { return fmt.Sprintf("Tell me about the number %d.", i) }

func outputTokens(db *sql.DB) (int64, error) {
	var n int64
	err := db.QueryRow(`SELECT output_tokens FROM information_schema.ML_FUNCTION_STATS
		WHERE function_schema = 'bench' AND function_name = 'gen'`).Scan(&n)
	return n, err
}

func printLocal(r localResult, o localOptions) {
	fmt.Printf("\nLLAMA_CPP endpoint: %s; %d prompts x %d tokens, MAX_CONCURRENCY %d, THREADS %d; model load %s\n",
		r.model, o.rows, o.tokens, o.concurrency, o.threads, r.load.Round(time.Millisecond))
	fmt.Printf("  through SQL:  %d tokens in %.2f s = %.0f tokens/s\n", r.sqlTokens, r.sqlTime.Seconds(), float64(r.sqlTokens)/r.sqlTime.Seconds())
	fmt.Printf("  Go, in-process: %d tokens in %.2f s = %.0f tokens/s (SQL / Go time %.3f)\n", r.goTokens, r.goTime.Seconds(),
		float64(r.goTokens)/r.goTime.Seconds(), r.sqlTime.Seconds()/r.goTime.Seconds())
}
