package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// onErrorCase is one kind of endpoint function whose calls fail for the
// rows with a "bad" prompt (ids 2 and 5).
type onErrorCase struct {
	name string
	// call is the function call on a row of q, fn the function's name.
	fn, call string
	// create makes the same function with ON ERROR NULL, named fn_null.
	create string
	// provider is the part of the provider's message the error repeats.
	provider string
	local    bool
}

// onErrorSetup starts a server with one function of every backend kind:
// SageMaker (HTTP text/csv), Bedrock InvokeModel, an OPENAI endpoint and a
// LLAMA_CPP endpoint, each failing on the bad rows of gen.q.
func onErrorSetup(t *testing.T) (*testserver.Server, []onErrorCase) {
	model := testserver.StartModelServer(t)
	model.Set(func(b *testserver.Behaviour) {
		b.FailRow = func(row []*string) (int, string) {
			if row[0] != nil && strings.HasPrefix(*row[0], "bad") {
				return 400, `{"error":"model says no to bad input"}`
			}
			return 0, ""
		}
		b.Score = func(row []*string) string { return "ok " + *row[0] }
	})
	bed := testserver.StartBedrockServer(t)
	dir := t.TempDir()
	gguf := filepath.Join(dir, "tiny.gguf")
	require.NoError(t, os.WriteFile(gguf, testserver.TinyLlamaGGUF(1), 0o600))
	srv := testserver.StartWithEnv(t, bed.Env(), "--secure-file-priv", dir)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE gen", "USE gen",
		"CREATE TABLE q (id INT PRIMARY KEY, p TEXT, body TEXT, cfg TEXT, r TEXT)",
		"CREATE TABLE out_t (id INT PRIMARY KEY, r TEXT)",
		fmt.Sprintf("CREATE ENDPOINT smep URL '%s' PROTOCOL SAGEMAKER", model.URL),
		fmt.Sprintf("CREATE ENDPOINT oaep URL '%s' PROTOCOL OPENAI MODEL 'm'", model.URL),
		fmt.Sprintf("CREATE ENDPOINT tiny URL 'file://%s' PROTOCOL LLAMA_CPP MAX_CONCURRENCY 2", gguf),
		"CREATE FUNCTION sm(x TEXT) RETURNS VARCHAR(200) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'smep' MAX_BATCH_SIZE 1",
		"CREATE FUNCTION oa(x TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'oaep'",
		"CREATE FUNCTION titan(body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'amazon.titan-text-express-v1'",
		"CREATE EXTERNAL MODEL local_gen FUNCTION gen_text MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'tiny')")
	for i := 1; i <= 6; i++ {
		p, body, cfg := fmt.Sprintf("good %d", i), fmt.Sprintf(`{"inputText": "good %d"}`, i), `{"maxTokens": 4, "temperature": 0}`
		if i == 2 || i == 5 {
			p, body, cfg = fmt.Sprintf("bad %d", i), `{"prompt": "no inputText"}`, `{"maxTokens": 100000}`
		}
		mustExec(t, db, fmt.Sprintf("INSERT INTO q (id, p, body, cfg) VALUES (%d, '%s', '%s', '%s')", i, p, body, cfg))
	}
	cases := []onErrorCase{
		{name: "SageMaker", fn: "sm", call: "sm(p)", provider: "model says no to bad input",
			create: "CREATE FUNCTION sm_null(x TEXT) RETURNS VARCHAR(200) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'smep' MAX_BATCH_SIZE 1 ON ERROR NULL"},
		{name: "OpenAI", fn: "oa", call: "oa(p)", provider: "model says no to bad input",
			create: "CREATE FUNCTION oa_null(x TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'oaep' ON ERROR NULL"},
		{name: "Bedrock", fn: "titan", call: "titan(body)", provider: "ValidationException: Malformed input request",
			create: "CREATE FUNCTION titan_null(body TEXT) RETURNS TEXT ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'amazon.titan-text-express-v1' ON ERROR NULL"},
		{name: "LlamaCpp", fn: "gen_text", call: "gen_text(p, cfg)", provider: "exceed the model's context", local: true,
			create: "CREATE EXTERNAL MODEL local_null FUNCTION gen_text_null MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'tiny') ON ERROR NULL"},
	}
	return srv, cases
}

// results runs SELECT id, call FROM q and returns "id:value" (NULL as
// "id:NULL") in id order.
func results(t *testing.T, c *sql.Conn, call string) ([]string, error) {
	t.Helper()
	rows, err := c.QueryContext(context.Background(), "SELECT id, "+call+" FROM q ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int
		var v sql.NullString
		require.NoError(t, rows.Scan(&id, &v))
		if v.Valid {
			out = append(out, fmt.Sprintf("%d:ok", id))
		} else {
			out = append(out, fmt.Sprintf("%d:NULL", id))
		}
	}
	return out, rows.Err()
}

// TestMLOnErrorNull checks, for every kind of endpoint function, that a
// failed call fails its statement by default (and a failed INSERT or
// UPDATE changes nothing), and that sibyl_ml_on_error = 'NULL' or a
// function's ON ERROR NULL turns the failed rows into NULL with a warning
// naming the function and the provider's message.
func TestMLOnErrorNull(t *testing.T) {
	srv, cases := onErrorSetup(t)
	db := srv.DB("gen")
	want := []string{"1:ok", "2:NULL", "3:ok", "4:ok", "5:NULL", "6:ok"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.local {
				llamaLibInstalled(t)
			}
			c := session(t, db)
			ctx := context.Background()

			// Default: the statement fails, naming function and provider.
			_, err := results(t, c, tc.call)
			require.ErrorContains(t, err, fmt.Sprintf("ML function '%s'", tc.fn))
			require.ErrorContains(t, err, tc.provider)
			_, err = c.ExecContext(ctx, "INSERT INTO out_t SELECT id, "+tc.call+" FROM q")
			require.ErrorContains(t, err, tc.provider)
			_, err = c.ExecContext(ctx, "UPDATE q SET r = "+tc.call)
			require.ErrorContains(t, err, tc.provider)
			var n, set int
			require.NoError(t, c.QueryRowContext(ctx, "SELECT COUNT(*) FROM out_t").Scan(&n))
			require.NoError(t, c.QueryRowContext(ctx, "SELECT COUNT(r) FROM q").Scan(&set))
			require.Zero(t, n, "the failed INSERT inserted nothing")
			require.Zero(t, set, "the failed UPDATE changed nothing")

			// The session asks for NULL.
			_, err = c.ExecContext(ctx, "SET sibyl_ml_on_error = 'NULL'")
			require.NoError(t, err)
			got, err := results(t, c, tc.call)
			require.NoError(t, err)
			require.Equal(t, want, got)
			w := warnings(t, c)
			require.Len(t, w, 2, "one warning per failed row")
			for _, msg := range w {
				require.Contains(t, msg, fmt.Sprintf("Warning 1105 ML function '%s': ", tc.fn))
				require.Contains(t, msg, tc.provider)
				require.Contains(t, msg, "the result is NULL")
			}
			_, err = c.ExecContext(ctx, "INSERT INTO out_t SELECT id, "+tc.call+" FROM q")
			require.NoError(t, err)
			require.NoError(t, c.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(r) FROM out_t").Scan(&n, &set))
			require.Equal(t, []int{6, 4}, []int{n, set})
			_, err = c.ExecContext(ctx, "UPDATE q SET r = "+tc.call)
			require.NoError(t, err)
			require.NoError(t, c.QueryRowContext(ctx, "SELECT COUNT(r) FROM q").Scan(&set))
			require.Equal(t, 4, set)
			_, err = c.ExecContext(ctx, "DELETE FROM out_t")
			require.NoError(t, err)
			_, err = c.ExecContext(ctx, "UPDATE q SET r = NULL")
			require.NoError(t, err)

			// Back to ERROR; the function's own ON ERROR NULL still applies.
			_, err = c.ExecContext(ctx, "SET sibyl_ml_on_error = 'ERROR'")
			require.NoError(t, err)
			_, err = c.ExecContext(ctx, tc.create)
			require.NoError(t, err)
			got, err = results(t, c, strings.Replace(tc.call, tc.fn+"(", tc.fn+"_null(", 1))
			require.NoError(t, err)
			require.Equal(t, want, got)
			require.Len(t, warnings(t, c), 2)
		})
	}

	var create string
	require.NoError(t, db.QueryRow("SHOW CREATE FUNCTION sm_null").Scan(new(string), new(string), &create, new(string), new(string), new(string)))
	require.True(t, strings.HasSuffix(create, " ON ERROR NULL"), create)
	_, err := db.Exec("SET sibyl_ml_on_error = 'MAYBE'")
	require.ErrorContains(t, err, "sibyl_ml_on_error")
}
