package remote

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEmbeddingCodecsDecode(t *testing.T) {
	oai := OpenAIEmbeddingCodec{Model: "m"}
	ks, err := NewEmbeddingCodec(KServeV2, "enc")
	require.NoError(t, err)
	for _, c := range []struct {
		name  string
		codec Codec
		body  string
		rows  int
		want  []any
		err   string
	}{
		{"openai placed by index", oai, `{"data":[{"index":1,"embedding":[3,4]},{"index":0,"embedding":[1,2]}]}`, 2,
			[]any{[]float32{1, 2}, []float32{3, 4}}, ""},
		{"openai count", oai, `{"data":[{"index":0,"embedding":[1]}]}`, 2, nil, "1 embeddings for 2 texts"},
		{"openai repeated index", oai, `{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}`, 2, nil, "out of range or repeated"},
		{"openai out of float32 range", oai, `{"data":[{"index":0,"embedding":[1e300]}]}`, 1, nil, "not a finite 32-bit float"},
		{"openai empty vector", oai, `{"data":[{"index":0,"embedding":[]}]}`, 1, nil, "empty vector"},
		{"kserve rows", ks, `{"outputs":[{"shape":[2,2],"datatype":"FP32","data":[1,2,3,4]}]}`, 2,
			[]any{[]float32{1, 2}, []float32{3, 4}}, ""},
		{"kserve shape", ks, `{"outputs":[{"shape":[1,4],"data":[1,2,3,4]}]}`, 2, nil, "output shape [1 4] for 2 texts"},
		{"kserve count", ks, `{"outputs":[{"data":[1,2,3]}]}`, 2, nil, "3 output values for 2 texts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.codec.Decode("application/json", []byte(c.body), c.rows)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
	for _, c := range []struct {
		body   string
		tokens int64
		known  bool
	}{
		{`{"data":[{"index":0,"embedding":[1]}],"usage":{"prompt_tokens":7,"total_tokens":7}}`, 7, true},
		{`{"data":[{"index":0,"embedding":[1]}],"usage":{"prompt_tokens":0}}`, 0, true},
		{`{"data":[{"index":0,"embedding":[1]}]}`, 0, false},
	} {
		_, tokens, known, err := oai.DecodeTokens("application/json", []byte(c.body), 1)
		require.NoError(t, err)
		require.Equal(t, c.tokens, tokens, c.body)
		require.Equal(t, c.known, known, c.body)
	}
	_, err = NewEmbeddingCodec(SageMaker, "")
	require.ErrorContains(t, err, "no embedding API")
	body, _, err := oai.Encode(Request{Rows: [][]any{{"a"}, {"b c"}}})
	require.NoError(t, err)
	require.JSONEq(t, `{"model":"m","input":["a","b c"],"encoding_format":"float"}`, string(body))
}
