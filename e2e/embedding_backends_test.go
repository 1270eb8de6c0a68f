package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// vectorText reads VECTOR_TO_STRING's text as floats.
func vectorText(t *testing.T, s string) []float64 {
	t.Helper()
	var v []float64
	require.NoError(t, json.Unmarshal([]byte(s), &v), "vector text %q", s)
	return v
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestEmbedWithONNXSentenceTransformer: sibyl_embed(text, 'onnx:/folder')
// runs a sentence-transformer the operator put under secure_file_priv
// (model.onnx + tokenizer.json; the test builds a tiny random-weight one)
// and returns the mean-pooled, normalised vectors computed independently
// of ONNX Runtime, for literals and for a STORED generated column, batched.
// Using it needs FILE; the folder must be under secure_file_priv.
func TestEmbedWithONNXSentenceTransformer(t *testing.T) {
	files := t.TempDir()
	dir := filepath.Join(files, "encoder")
	require.NoError(t, os.Mkdir(dir, 0o755))
	enc := testserver.NewSentenceEncoder(8, 11)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model.onnx"), enc.Model, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), enc.Tokenizer, 0o644))
	srv := testserver.Start(t, "--secure-file-priv", files)
	root := srv.DB("", "multiStatements=true")
	model := "onnx:" + dir
	mustExec(t, root, "CREATE DATABASE emb", "CREATE USER reader IDENTIFIED BY 'pw'", "GRANT SELECT, INSERT ON emb.* TO reader")

	var s string
	require.NoError(t, root.QueryRow("SELECT VECTOR_TO_STRING(sibyl_embed('The movie was good', ?))", model).Scan(&s), "a prepared statement with the model as a parameter")
	require.InDeltaSlice(t, float64s(enc.Expected("The movie was good")), vectorText(t, s), 1e-5)

	texts := []string{"the movie was good", "bad", "awful awful movie", "the", "unknown words only", "good great movie", "was", "the bad movie was awful"}
	db := srv.DB("emb", "multiStatements=true")
	mustExec(t, db, fmt.Sprintf("CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, emb VECTOR(8) AS (sibyl_embed(body, '%s')) STORED)", model))
	var values []string
	for i := 0; i < 200; i++ {
		values = append(values, fmt.Sprintf("(%d, '%s')", i, texts[i%len(texts)]))
	}
	mustExec(t, db, "INSERT INTO docs (id, body) VALUES "+strings.Join(values, ","))
	rows, err := db.Query("SELECT id, body, VECTOR_TO_STRING(emb), VECTOR_TO_STRING(sibyl_embed(body, '" + model + "')) FROM docs ORDER BY id")
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var id int
		var body, stored, computed string
		require.NoError(t, rows.Scan(&id, &body, &stored, &computed))
		want := float64s(enc.Expected(body))
		require.InDeltaSlicef(t, want, vectorText(t, stored), 1e-5, "stored vector of row %d", id)
		require.InDeltaSlicef(t, want, vectorText(t, computed), 1e-5, "vector of row %d in a SELECT", id)
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 200, n)
	// Nearest neighbour by cosine through the model.
	var nearest string
	require.NoError(t, db.QueryRow("SELECT body FROM docs ORDER BY VEC_DISTANCE_COSINE(emb, sibyl_embed('the bad movie was awful', '"+model+"')), id LIMIT 1").Scan(&nearest))
	require.Equal(t, "the bad movie was awful", nearest)

	for _, c := range []struct {
		name  string
		db    *sql.DB
		query string
		code  uint16
		msg   string
	}{
		{"no FILE privilege", srv.Open(srv.DSN("reader", "pw", "emb")), "SELECT sibyl_embed('good', '" + model + "')", 1227, "FILE"},
		{"outside secure_file_priv", root, "SELECT sibyl_embed('good', 'onnx:/etc')", 1290, "secure-file-priv"},
		{"no model in the folder", root, "SELECT sibyl_embed('good', 'onnx:" + files + "')", 1210, "model.onnx"},
		{"model not constant", db, "SELECT sibyl_embed(body, body) FROM docs", 1210, "constant string"},
		{"unknown model", root, "SELECT sibyl_embed('good', 'nosuchmodel')", 1210, "unknown model 'nosuchmodel'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.db.Exec(c.query)
			num, _ := mysqlErr(t, err)
			require.EqualValues(t, c.code, num, "%v", err)
			require.ErrorContains(t, err, c.msg)
		})
	}
	// A user without FILE cannot fill a column through the model either.
	reader := srv.Open(srv.DSN("reader", "pw", "emb"))
	_, err = reader.Exec("INSERT INTO docs (id, body) VALUES (1000, 'good')")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1227, num)
	require.EqualValues(t, 200, queryInt(t, root, "SELECT COUNT(*) FROM emb.docs"))
}

// TestEmbedWithRemoteModels: sibyl_embed(text, 'endpoint') calls an
// OpenAI-compatible /v1/embeddings server or a KServe v2 model in batches
// (vectors placed by index whatever the answer's order), and
// 'amazon.titan-embed-text-v2:0' calls Amazon Bedrock (a SigV4-checking
// test server) one text per request. Calls need INVOKE SAGEMAKER or
// INVOKE BEDROCK, never carry no_egress columns, and are audited.
func TestEmbedWithRemoteModels(t *testing.T) {
	oai := testserver.StartModelServer(t)
	kserve := testserver.StartModelServer(t)
	kserve.Set(func(b *testserver.Behaviour) { b.Embed = testserver.TextVector })
	bed := testserver.StartBedrockServer(t)
	srv := testserver.StartWithEnv(t, bed.Env())
	root := srv.DB("", "multiStatements=true")
	mustExec(t, root, "CREATE DATABASE emb",
		fmt.Sprintf("CREATE ENDPOINT oai URL '%s' PROTOCOL OPENAI MODEL 'text-embedding-3-small'", oai.URL),
		fmt.Sprintf("CREATE ENDPOINT ks URL '%s' PROTOCOL KSERVE_V2 MODEL 'encoder'", kserve.URL),
		fmt.Sprintf("CREATE ENDPOINT scorer URL '%s' PROTOCOL SAGEMAKER", oai.URL),
		"CREATE TABLE emb.docs (id INT PRIMARY KEY, body TEXT, ssn VARCHAR(11) COMMENT 'sibyl:no_egress')",
		"CREATE USER app IDENTIFIED BY 'pw'", "GRANT SELECT ON emb.* TO app")
	const n = 300
	var values []string
	words := 0 // the test servers count a text's words as its tokens
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("document %d about %s", i, strings.Repeat("e", i%5))
		values = append(values, fmt.Sprintf("(%d, '%s', '000-00-%04d')", i, body, i))
		words += len(strings.Fields(body))
	}
	mustExec(t, root, "INSERT INTO emb.docs VALUES "+strings.Join(values, ","))

	for _, c := range []struct {
		model        string
		server       func() int64
		maxRequests  int64
		wantPath     string
		wantBodyPart string
		tokens       int // what the model reports using (KServe has no usage)
	}{
		{"oai", oai.Requests, 10, "/v1/embeddings", `"model":"text-embedding-3-small"`, words},
		{"ks", kserve.Requests, 10, "/v2/models/encoder/infer", `"datatype":"BYTES"`, 0},
		{"amazon.titan-embed-text-v2:0", bed.Requests, n, "", `"inputText"`, words},
	} {
		t.Run(c.model, func(t *testing.T) {
			before := c.server()
			tokensBefore := globalStatus(t, root, "Sibyl_ml_input_tokens")["Sibyl_ml_input_tokens"]
			rows, err := root.Query("SELECT body, VECTOR_TO_STRING(sibyl_embed(body, ?)) FROM emb.docs ORDER BY id", c.model)
			require.NoError(t, err)
			got := 0
			for rows.Next() {
				var body, vec string
				require.NoError(t, rows.Scan(&body, &vec))
				require.InDeltaSlicef(t, testserver.TextVector(body), vectorText(t, vec), 1e-4, "vector of %q", body)
				got++
			}
			require.NoError(t, rows.Err())
			require.Equal(t, n, got)
			sent := c.server() - before
			require.Positive(t, sent)
			require.LessOrEqual(t, sent, c.maxRequests, "texts are sent in batches where the API has them")
			require.EqualValues(t, c.tokens, globalStatus(t, root, "Sibyl_ml_input_tokens")["Sibyl_ml_input_tokens"]-tokensBefore,
				"the tokens the model reported")
		})
	}

	// The per-statement token limit holds embedding calls too: Titan embeds
	// one text per request, so the statement stops once it has used 50.
	conn, err := root.Conn(t.Context())
	require.NoError(t, err)
	_, err = conn.ExecContext(t.Context(), "SET sibyl_ml_max_tokens_per_statement = 50")
	require.NoError(t, err)
	sentBefore := bed.Requests()
	_, err = conn.ExecContext(t.Context(), "SELECT sibyl_embed(body, 'amazon.titan-embed-text-v2:0') FROM emb.docs")
	require.ErrorContains(t, err, "sibyl_embed")
	require.ErrorContains(t, err, "statement exceeds sibyl_ml_max_tokens_per_statement = 50")
	require.Less(t, bed.Requests()-sentBefore, int64(n/2), "the statement stopped sending once over the limit")
	require.NoError(t, conn.Close())
	require.Contains(t, oai.Paths(), "/v1/embeddings")
	require.True(t, oai.Received(`"input":["document`), "OpenAI gets the texts as an input array")
	require.Contains(t, kserve.Paths(), "/v2/models/encoder/infer")

	// Privileges: model endpoints need INVOKE SAGEMAKER, Bedrock INVOKE BEDROCK.
	app := srv.Open(srv.DSN("app", "pw", "emb"))
	for model, priv := range map[string]string{"oai": "INVOKE SAGEMAKER", "amazon.titan-embed-text-v2:0": "INVOKE BEDROCK"} {
		_, err := app.Exec("SELECT sibyl_embed(body, ?) FROM docs", model)
		num, _ := mysqlErr(t, err)
		require.EqualValues(t, 1227, num, "%v", err)
		require.ErrorContains(t, err, priv)
	}
	mustExec(t, root, "GRANT INVOKE SAGEMAKER ON *.* TO app")
	var vec string
	require.NoError(t, app.QueryRow("SELECT VECTOR_TO_STRING(sibyl_embed('hello there', 'oai'))").Scan(&vec))
	require.InDeltaSlice(t, testserver.TextVector("hello there"), vectorText(t, vec), 1e-4)

	// no_egress columns never leave the server, not even as embeddings.
	before := oai.Requests()
	_, err = root.Exec("SELECT sibyl_embed(ssn, 'oai') FROM emb.docs")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1227, num, "%v", err)
	require.ErrorContains(t, err, "sibyl:no_egress")
	require.Equal(t, before, oai.Requests())

	// An endpoint without an embedding API is refused by name.
	_, err = root.Exec("SELECT sibyl_embed('x', 'scorer')")
	require.ErrorContains(t, err, "endpoint 'scorer': protocol SAGEMAKER has no embedding API")

	// A failing model fails the statement, naming the function and model.
	oai.Set(func(b *testserver.Behaviour) {
		b.Fail = func(int64) (int, string) { return 400, `{"error": {"message": "input too long"}}` }
	})
	_, err = root.Exec("SELECT sibyl_embed('x', 'oai')")
	require.ErrorContains(t, err, "sibyl_embed")
	require.ErrorContains(t, err, "endpoint 'oai' returned HTTP 400: input too long")

	// Every call is in the audit log under sibyl_embed.
	require.Eventually(t, func() bool {
		return queryInt(t, root, "SELECT COUNT(DISTINCT endpoint) FROM sibyl.ml_audit_log WHERE function_name = 'sibyl_embed'") >= 3
	}, 10*time.Second, 50*time.Millisecond)
}
