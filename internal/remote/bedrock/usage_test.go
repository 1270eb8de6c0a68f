package bedrock

import (
	"net/http"
	"testing"

	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"
)

// TestBodyUsage reads the token counts of the response bodies InvokeModel
// returns for Anthropic, Titan and Llama models.
func TestBodyUsage(t *testing.T) {
	tests := []struct {
		name, body string
		want       Usage
	}{
		{"anthropic", `{"content":[{"type":"text","text":"hi"}],"usage":{"input_tokens":12,"output_tokens":7}}`, Usage{12, 7, true}},
		{"titan", `{"inputTextTokenCount":5,"results":[{"tokenCount":3,"outputText":"a"},{"tokenCount":4,"outputText":"b"}]}`, Usage{5, 7, true}},
		{"llama", `{"generation":"x","prompt_token_count":9,"generation_token_count":2,"stop_reason":"stop"}`, Usage{9, 2, true}},
		{"unknown shape", `{"outputText":"x"}`, Usage{}},
		{"not json", `plain text`, Usage{}},
		{"anthropic without output", `{"usage":{"input_tokens":12}}`, Usage{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, bodyUsage([]byte(tc.body)))
		})
	}
}

// TestHeaderUsage reads Bedrock's token count headers, refusing partial or
// malformed ones (the body is read then).
func TestHeaderUsage(t *testing.T) {
	resp := func(in, out string) any {
		h := http.Header{}
		if in != "" {
			h.Set("X-Amzn-Bedrock-Input-Token-Count", in)
		}
		if out != "" {
			h.Set("X-Amzn-Bedrock-Output-Token-Count", out)
		}
		return &smithyhttp.Response{Response: &http.Response{Header: h}}
	}
	u, ok := headerUsage(resp("10", "20"))
	require.True(t, ok)
	require.Equal(t, Usage{10, 20, true}, u)
	for _, raw := range []any{resp("10", ""), resp("x", "1"), resp("-1", "2"), nil, "not a response"} {
		_, ok := headerUsage(raw)
		require.False(t, ok, "%v", raw)
	}
}
