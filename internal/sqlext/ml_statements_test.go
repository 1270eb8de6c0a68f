package sqlext

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/remote"
)

func parseCreate(t *testing.T, stmt string) (*mlfunc.FunctionDef, error) {
	t.Helper()
	toks, err := Tokens(stmt)
	require.NoError(t, err)
	require.True(t, isMLCreateFunction(toks), stmt)
	return parseCreateFunction(&cursor{toks: toks}, "db1")
}

func TestParseCreateFunction(t *testing.T) {
	def, err := parseCreate(t, `CREATE FUNCTION will_churn(state VARCHAR(2048), acc_length BIGINT(20), day_mins DOUBLE, rate DECIMAL(10,2))
		RETURNS VARCHAR(2048) CHARSET utf8mb4 SQL SECURITY INVOKER
		ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'churn-endpoint' MAX_BATCH_SIZE 500`)
	require.NoError(t, err)
	require.Equal(t, "db1", def.DB)
	require.Equal(t, "will_churn", def.Name)
	require.Equal(t, []mlfunc.Param{
		{Name: "state", Type: "VARCHAR ( 2048 )"},
		{Name: "acc_length", Type: "BIGINT ( 20 )"},
		{Name: "day_mins", Type: "DOUBLE"},
		{Name: "rate", Type: "DECIMAL ( 10 , 2 )"},
	}, def.Params)
	require.Equal(t, "VARCHAR ( 2048 ) CHARSET utf8mb4", def.Returns)
	require.Equal(t, "INVOKER", def.Security)
	require.Equal(t, "churn-endpoint", def.Endpoint)
	require.Equal(t, 500, def.MaxBatch)

	def, err = parseCreate(t, "create definer = `admin`@`%` function other.f() returns int alias aws_sagemaker_invoke_endpoint endpoint name 'e'")
	require.NoError(t, err)
	require.Equal(t, "other", def.DB)
	require.Equal(t, "`admin`@`%`", def.Definer)
	require.Empty(t, def.Params)

	for _, bad := range []string{
		"CREATE FUNCTION f(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT 'e'",
		"CREATE FUNCTION f(x INT) RETURNS INT ALIAS SOMETHING_ELSE ENDPOINT NAME 'e'",
		"CREATE FUNCTION f(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'e' EXTRA",
		"CREATE FUNCTION f(x INT) RETURNS INT MODIFIES SQL DATA ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'e'",
		"CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'e'",
		"CREATE FUNCTION f(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'e' MAX_BATCH_SIZE -1",
	} {
		_, err := parseCreate(t, bad)
		require.Error(t, err, bad)
	}

	toks, err := Tokens("CREATE FUNCTION f(x INT) RETURNS INT RETURN x * 2")
	require.NoError(t, err)
	require.False(t, isMLCreateFunction(toks), "stored functions stay with GMS")
}

func TestParseEndpointOptions(t *testing.T) {
	toks, err := Tokens(`URL 'http://m:8080' PROTOCOL kserve_v2 TIMEOUT_MS 1500 MAX_CONCURRENCY 8 MODEL 'churn'
		PROMPT 'Label it.' HEADERS ('Authorization' = 'Bearer x', 'X-Team' = 'ml')`)
	require.NoError(t, err)
	d := mlfunc.EndpointDef{Name: "e"}
	require.NoError(t, parseEndpointOptions(&cursor{toks: toks}, &d))
	require.Equal(t, mlfunc.EndpointDef{Name: "e", URL: "http://m:8080", Protocol: remote.KServeV2, TimeoutMS: 1500,
		MaxConcurrency: 8, Model: "churn", Prompt: "Label it.",
		Headers: map[string]string{"Authorization": "Bearer x", "X-Team": "ml"}}, d)

	// ALTER applies only the options it names.
	toks, err = Tokens("TIMEOUT_MS 10")
	require.NoError(t, err)
	var change mlfunc.EndpointDef
	change.Headers = map[string]string{}
	apply, err := parseEndpointChanges(&cursor{toks: toks}, &change)
	require.NoError(t, err)
	apply(&d, change)
	require.Equal(t, 10, d.TimeoutMS)
	require.Equal(t, "http://m:8080", d.URL)
	require.Len(t, d.Headers, 2)

	for _, bad := range []string{"URL http://x", "PROTOCOL grpc", "TIMEOUT_MS soon", "HEADERS ('a' 'b')", "COLOR 'red'"} {
		toks, err := Tokens(bad)
		require.NoError(t, err)
		var d mlfunc.EndpointDef
		require.Error(t, parseEndpointOptions(&cursor{toks: toks}, &d), bad)
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"CREATE ENDPOINT e URL 'http://x' HEADERS ('Authorization' = 'Bearer s3cret', 'X-K' = 'it''s')": "CREATE ENDPOINT e URL 'http://x' HEADERS ('Authorization' = '***', 'X-K' = '***')",
		"alter endpoint e headers('A'='b\\'c') TIMEOUT_MS 5":                                            "alter endpoint e headers('A'='***') TIMEOUT_MS 5",
		"SELECT 'headers (x = y)' FROM t":                                                               "SELECT 'headers (x = y)' FROM t",
		"SELECT 1":                                                                                      "SELECT 1",
	}
	for in, want := range cases {
		require.Equal(t, want, Redact(in), in)
	}
}
