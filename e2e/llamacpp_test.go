package e2e

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// llamaLibInstalled skips a test when make deps has not installed
// llama.cpp beside the server binary (it ships for linux-x64 only).
func llamaLibInstalled(t *testing.T) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(testserver.Binary(t)), "llama")
	if _, err := os.Stat(dir); err != nil || runtime.GOARCH != "amd64" {
		t.Skipf("llama.cpp is not installed in %s (make deps)", dir)
	}
}

// llamaSetup starts a server whose secure_file_priv holds a tiny
// random-weight GGUF model, with an endpoint on it and the two dialects'
// functions bound to it.
func llamaSetup(t *testing.T, extra ...string) (*testserver.Server, *sql.DB, string) {
	llamaLibInstalled(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "tiny.gguf")
	require.NoError(t, os.WriteFile(model, testserver.TinyLlamaGGUF(1), 0o600))
	srv := testserver.Start(t, append([]string{"--secure-file-priv", dir}, extra...)...)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE gen", "USE gen",
		"CREATE TABLE q (id INT PRIMARY KEY, p TEXT)",
		fmt.Sprintf("CREATE ENDPOINT tiny URL 'file://%s' PROTOCOL LLAMA_CPP MAX_CONCURRENCY 2 THREADS 1", model),
		`CREATE EXTERNAL MODEL local_gen FUNCTION gen_text MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'tiny', REQUEST_TYPE UNIFIED)`,
		"CREATE FUNCTION ask(body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'tiny'")
	for i := 1; i <= 24; i++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO q VALUES (%d, 'prompt %d')", i, i%6))
	}
	return srv, srv.DB("gen"), model
}

// modelMapped reports whether the server process has the model file
// mapped: llama.cpp maps the weights while the model is loaded.
func modelMapped(srv *testserver.Server, model string) bool {
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", srv.PID()))
	return err == nil && strings.Contains(string(maps), model)
}

// mysqlErrMsg returns the MySQL error number and message of err.
func mysqlErrMsg(t *testing.T, err error) (uint16, string) {
	t.Helper()
	var me *mysql.MySQLError
	require.Error(t, err)
	require.Truef(t, errors.As(err, &me), "not a MySQL error: %v", err)
	return me.Number, me.Message
}

func generated(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int
		var s string
		require.NoError(t, rows.Scan(&id, &s))
		out = append(out, fmt.Sprintf("%d:%s", id, s))
	}
	require.NoError(t, rows.Err())
	return out
}

// TestLlamaCppEndpoint runs Redshift's and Aurora's generative functions
// on a model inside the server: loaded on first use, deterministic at
// temperature 0 and with a fixed seed, many rows in one statement in row
// order, token limits, stop sequences, token accounting, unloaded by DROP
// ENDPOINT.
func TestLlamaCppEndpoint(t *testing.T) {
	srv, db, model := llamaSetup(t)
	require.False(t, modelMapped(srv, model), "the model is loaded on first use, not by CREATE ENDPOINT")

	const greedy = `SELECT id, gen_text(p, '{"maxTokens": 12, "temperature": 0}') FROM q ORDER BY id`
	first := generated(t, db, greedy)
	require.Len(t, first, 24)
	require.True(t, modelMapped(srv, model))
	require.Equal(t, first, generated(t, db, greedy), "temperature 0 repeats itself")
	texts := map[string]string{}
	for i, row := range first {
		id, text, _ := strings.Cut(row, ":")
		require.Equal(t, fmt.Sprint(i+1), id, "rows come back in order")
		require.NotEmpty(t, strings.TrimSpace(text))
		// Rows with the same prompt get the same text; different prompts
		// mostly differ.
		p := (i + 1) % 6
		if prev, ok := texts[fmt.Sprint(p)]; ok {
			require.Equal(t, prev, text)
		}
		texts[fmt.Sprint(p)] = text
	}
	distinct := map[string]bool{}
	for _, v := range texts {
		distinct[v] = true
	}
	require.Greater(t, len(distinct), 3, "six prompts, (nearly) six answers")

	// Token accounting: each distinct prompt generated once, 12 tokens
	// each (the test model never ends a text by itself).
	var in, out int64
	require.NoError(t, db.QueryRow(`SELECT input_tokens, output_tokens FROM information_schema.ML_FUNCTION_STATS
		WHERE function_schema = 'gen' AND function_name = 'gen_text'`).Scan(&in, &out))
	require.EqualValues(t, 2*6*12, out, "two statements, six distinct prompts, 12 tokens each")
	require.Positive(t, in)

	// Sampling with a fixed seed repeats itself; another seed differs.
	sampled := func(seed int) []string {
		return generated(t, db, fmt.Sprintf(`SELECT id, gen_text(p, '{"maxTokens": 12, "temperature": 0.9, "topP": 0.95}', '{"seed": %d}') FROM q WHERE id <= 6 ORDER BY id`, seed))
	}
	s5 := sampled(5)
	require.Equal(t, s5, sampled(5))
	require.NotEqual(t, s5, sampled(6))

	// maxTokens and stopSequences.
	var short string
	require.NoError(t, db.QueryRow(`SELECT gen_text('prompt 1', '{"maxTokens": 3, "temperature": 0}')`).Scan(&short))
	_, full, _ := strings.Cut(first[0], ":")
	require.Equal(t, full[:3], short, "three one-character tokens")
	var stop string
	for k := 4; k+3 <= len(full); k++ {
		if w := full[k : k+3]; !strings.ContainsAny(w, `"\'`) {
			stop = w
			break
		}
	}
	require.NotEmpty(t, stop)
	cfg, _ := json.Marshal(map[string]any{"maxTokens": 12, "temperature": 0, "stopSequences": []string{"NEVER", stop}})
	var stopped string
	require.NoError(t, db.QueryRow(`SELECT gen_text('prompt 1', ?)`, string(cfg)).Scan(&stopped))
	require.Equal(t, full[:strings.Index(full, stop)], stopped)

	// Aurora's function: a Llama request body gets a Llama response body.
	var body string
	require.NoError(t, db.QueryRow(`SELECT ask('{"prompt": "prompt 1", "max_gen_len": 5, "temperature": 0}')`).Scan(&body))
	var resp struct {
		Generation           string `json:"generation"`
		PromptTokenCount     int    `json:"prompt_token_count"`
		GenerationTokenCount int    `json:"generation_token_count"`
		StopReason           string `json:"stop_reason"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &resp), body)
	require.Equal(t, 5, resp.GenerationTokenCount)
	require.Equal(t, "length", resp.StopReason)
	require.Equal(t, 10, resp.PromptTokenCount, "<s>, the space prefix and 8 characters")
	require.Len(t, resp.Generation, 5)

	// The endpoint outlives a restart; the model loads again on first use
	// and answers as before.
	srv.Restart()
	db = srv.DB("gen")
	require.False(t, modelMapped(srv, model))
	require.Equal(t, first, generated(t, db, greedy))

	// DROP ENDPOINT unloads the model.
	mustExec(t, db, "DROP FUNCTION gen_text", "DROP FUNCTION ask", "DROP ENDPOINT tiny")
	require.Eventually(t, func() bool { return !modelMapped(srv, model) }, 30*time.Second, 50*time.Millisecond)
}

// TestLlamaCppErrors covers a missing model file, paths outside
// secure_file_priv and malformed endpoints.
func TestLlamaCppErrors(t *testing.T) {
	_, db, model := llamaSetup(t)
	dir := filepath.Dir(model)
	missing := filepath.Join(dir, "missing.gguf")
	mustExec(t, db,
		fmt.Sprintf("CREATE ENDPOINT gone URL 'file://%s' PROTOCOL LLAMA_CPP", missing),
		"CREATE FUNCTION ask_gone(body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'gone'")
	_, err := db.Exec("SELECT ask_gone('hello')")
	code, msg := mysqlErrMsg(t, err)
	require.EqualValues(t, 1017, code)
	require.Equal(t, fmt.Sprintf("ML function 'ask_gone': Can't find file: '%s' (errno: 2 - No such file or directory)", missing), msg)

	tests := []struct {
		stmt string
		code uint16
		msg  string
	}{
		{"CREATE ENDPOINT x URL 'file:///etc/passwd' PROTOCOL LLAMA_CPP", 1290, "--secure-file-priv"},
		{fmt.Sprintf("CREATE ENDPOINT x URL 'file://%s/../../etc/passwd' PROTOCOL LLAMA_CPP", dir), 1290, "--secure-file-priv"},
		{"CREATE ENDPOINT x URL 'tiny.gguf' PROTOCOL LLAMA_CPP", 1105, "must be file:///absolute/path/model.gguf"},
		{fmt.Sprintf("CREATE ENDPOINT x URL 'file://%s' PROTOCOL OPENAI", model), 1105, "must be an http:// or https:// URL"},
		{fmt.Sprintf("CREATE ENDPOINT x URL 'file://%s' PROTOCOL LLAMA_CPP HEADERS ('a' = 'b')", model), 1105, "do not apply to LLAMA_CPP endpoints"},
		{"CREATE ENDPOINT x URL 'http://127.0.0.1:1/' PROTOCOL OPENAI THREADS 2", 1105, "THREADS applies to LLAMA_CPP endpoints only"},
		{fmt.Sprintf("CREATE ENDPOINT x URL 'file://%s' PROTOCOL LLAMA_CPP THREADS -1", model), 1064, "syntax"},
	}
	for _, tc := range tests {
		_, err := db.Exec(tc.stmt)
		code, msg := mysqlErrMsg(t, err)
		require.Equal(t, tc.code, code, tc.stmt)
		require.Contains(t, msg, tc.msg, tc.stmt)
	}
}

// TestLlamaCppPrivilegesAndLibrary checks that a file:// endpoint needs
// FILE, and the error when the server has no llama.cpp library.
func TestLlamaCppPrivilegesAndLibrary(t *testing.T) {
	srv, db, model := llamaSetup(t, "--llama-lib", "/nonexistent/llama")
	mustExec(t, db, "CREATE USER ops IDENTIFIED BY 'pw'", "GRANT CREATE ENDPOINT ON *.* TO ops")
	ops := srv.Open(srv.DSN("ops", "pw", ""))
	for _, stmt := range []string{
		fmt.Sprintf("CREATE ENDPOINT mine URL 'file://%s' PROTOCOL LLAMA_CPP", model),
		"CREATE ENDPOINT mine URL 'file:///etc/shadow' PROTOCOL LLAMA_CPP",
		fmt.Sprintf("ALTER ENDPOINT tiny URL 'file://%s'", model),
	} {
		_, err := ops.Exec(stmt)
		code, msg := mysqlErrMsg(t, err)
		require.EqualValues(t, 1227, code, stmt)
		require.Equal(t, "Access denied; you need (at least one of) the FILE privilege(s) for this operation", msg)
	}
	mustExec(t, ops, "CREATE ENDPOINT web URL 'http://127.0.0.1:1/' PROTOCOL OPENAI")
	mustExec(t, db, "GRANT FILE ON *.* TO ops")
	mustExec(t, ops, fmt.Sprintf("CREATE ENDPOINT mine URL 'file://%s' PROTOCOL LLAMA_CPP", model))

	_, err := db.Exec("SELECT gen_text('hello')")
	code, msg := mysqlErrMsg(t, err)
	require.EqualValues(t, 1126, code)
	require.Contains(t, msg, "ML function 'gen_text': Can't open shared library '/nonexistent/llama'")
}
