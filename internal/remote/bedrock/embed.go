package bedrock

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sibyldb/sibyldb/internal/remote"
)

// Embedding models are called through InvokeModel with their providers'
// own request bodies (Bedrock has no provider-independent embedding API):
//
//   - Amazon Titan Text Embeddings (amazon.titan-embed-text-v1, -v2:0,
//     amazon.titan-embed-g1-text-02): one text per request, {"inputText"}
//     in, {"embedding", "inputTextTokenCount"} out;
//   - Cohere Embed (cohere.embed-english-v3, -multilingual-v3): up to 96
//     texts per request, {"texts", "input_type"} in, {"embeddings"} out.

// IsEmbeddingModel reports whether modelID names an embedding model Embed
// knows the request format of.
func IsEmbeddingModel(modelID string) bool {
	_, ok := embeddingFormat(modelID)
	return ok
}

// EmbeddingBatch is the most texts one Embed call of modelID may carry.
func EmbeddingBatch(modelID string) int {
	if f, _ := embeddingFormat(modelID); f == cohere {
		return 96
	}
	return 1
}

type format int

const (
	titan format = iota + 1
	cohere
)

// embeddingFormat reads the provider from a model ID, which may carry a
// cross-region inference prefix ("us.amazon.titan-...").
func embeddingFormat(modelID string) (format, bool) {
	id := strings.ToLower(modelID)
	for _, p := range []string{"us.", "eu.", "apac.", "global."} {
		id = strings.TrimPrefix(id, p)
	}
	switch {
	case strings.HasPrefix(id, "amazon.titan-embed-text") || strings.HasPrefix(id, "amazon.titan-embed-g1-text"):
		return titan, true
	case strings.HasPrefix(id, "cohere.embed-"):
		return cohere, true
	}
	return 0, false
}

// Embed returns one vector per text and the input tokens the model
// counted (0 when it does not say).
func (c *Client) Embed(ctx context.Context, modelID string, texts []string) ([][]float32, int64, error) {
	f, ok := embeddingFormat(modelID)
	if !ok {
		return nil, 0, &remote.Error{Kind: "Bedrock model", Endpoint: modelID, Message: "not an embedding model SibylDB knows (amazon.titan-embed-text-*, cohere.embed-*)"}
	}
	var req any
	switch {
	case f == titan && len(texts) == 1:
		req = map[string]any{"inputText": texts[0]}
	case f == cohere && len(texts) <= 96:
		req = map[string]any{"texts": texts, "input_type": "search_document", "truncate": "END"}
	default:
		return nil, 0, fmt.Errorf("Bedrock model '%s': %d texts in one request", modelID, len(texts))
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, 0, err
	}
	resp, err := c.InvokeModel(ctx, modelID, "application/json", "application/json", body)
	if err != nil {
		return nil, 0, err
	}
	var out struct {
		Embedding  []float64   `json:"embedding"`
		Embeddings [][]float64 `json:"embeddings"`
		Tokens     int64       `json:"inputTextTokenCount"`
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		return nil, 0, &remote.Error{Kind: "Bedrock model", Endpoint: modelID, Message: "invalid response: " + remote.Trim(err.Error())}
	}
	if f == titan {
		out.Embeddings = [][]float64{out.Embedding}
	}
	if len(out.Embeddings) != len(texts) {
		return nil, 0, &remote.Error{Kind: "Bedrock model", Endpoint: modelID, Message: fmt.Sprintf("invalid response: %d embeddings for %d texts", len(out.Embeddings), len(texts))}
	}
	vecs := make([][]float32, len(texts))
	for i, e := range out.Embeddings {
		if vecs[i], err = remote.Vector(e); err != nil {
			return nil, 0, &remote.Error{Kind: "Bedrock model", Endpoint: modelID, Message: fmt.Sprintf("invalid response: embedding %d: %v", i, err)}
		}
	}
	return vecs, out.Tokens, nil
}
