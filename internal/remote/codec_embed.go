package remote

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Embedding codecs turn a batch of texts into one request to an embedding
// model and the response into one []float32 per text. They are Codecs, so
// embedding calls share Endpoint's transport (timeouts, retries, size
// limits, signing) with every other model call.

// NewEmbeddingCodec returns the embedding codec of a protocol: OpenAI's
// /v1/embeddings (OpenAI, vLLM, Ollama, llama.cpp's server, LocalAI) or an
// Open Inference Protocol v2 model (KServe, Triton, MLServer) that maps a
// BYTES input [n, 1] to an FP32 output [n, dim]. model is the model name
// the request carries (OpenAI) or the URL names (v2).
func NewEmbeddingCodec(p Protocol, model string) (Codec, error) {
	switch p {
	case OpenAI:
		return OpenAIEmbeddingCodec{Model: model}, nil
	case KServeV2:
		return KServeEmbeddingCodec{KServeCodec{Model: model}}, nil
	}
	return nil, fmt.Errorf("protocol %s has no embedding API (use an OPENAI or KSERVE_V2 endpoint)", p)
}

// OpenAIEmbeddingCodec speaks OpenAI's embeddings API: {"model", "input":
// [texts]} in, {"data": [{"index", "embedding"}], "usage"} out.
type OpenAIEmbeddingCodec struct{ Model string }

// Path implements Codec.
func (OpenAIEmbeddingCodec) Path(string) string { return "/v1/embeddings" }

// RowsPerRequest implements Codec: OpenAI takes at most 2048 inputs.
func (OpenAIEmbeddingCodec) RowsPerRequest() int { return 2048 }

// Encode implements Codec: each row's first value is a text.
func (c OpenAIEmbeddingCodec) Encode(req Request) ([]byte, string, error) {
	texts, err := rowTexts(req)
	if err != nil {
		return nil, "", err
	}
	body := map[string]any{"input": texts, "encoding_format": "float"}
	if c.Model != "" {
		body["model"] = c.Model
	}
	b, err := json.Marshal(body)
	return b, "application/json", err
}

// Decode implements Codec. The answers are placed by their index, as the
// API does not promise order.
func (c OpenAIEmbeddingCodec) Decode(ctype string, body []byte, rows int) ([]any, error) {
	out, _, _, err := c.DecodeTokens(ctype, body, rows)
	return out, err
}

// DecodeTokens implements TokenDecoder: the tokens are usage.prompt_tokens.
func (OpenAIEmbeddingCodec) DecodeTokens(_ string, body []byte, rows int) ([]any, int64, bool, error) {
	var resp struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		} `json:"data"`
		Usage *struct {
			PromptTokens int64 `json:"prompt_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, 0, false, fmt.Errorf("JSON: %w", err)
	}
	if len(resp.Data) != rows {
		return nil, 0, false, fmt.Errorf("%d embeddings for %d texts", len(resp.Data), rows)
	}
	out := make([]any, rows)
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= rows || out[d.Index] != nil {
			return nil, 0, false, fmt.Errorf("embedding index %d is out of range or repeated", d.Index)
		}
		v, err := Vector(d.Embedding)
		if err != nil {
			return nil, 0, false, fmt.Errorf("embedding %d: %w", d.Index, err)
		}
		out[d.Index] = v
	}
	if resp.Usage == nil {
		return out, 0, false, nil
	}
	return out, resp.Usage.PromptTokens, true, nil
}

// KServeEmbeddingCodec sends texts as KServeCodec does (a BYTES tensor [n,
// 1]) and reads the first output, [n, dim], as n vectors.
type KServeEmbeddingCodec struct{ KServeCodec }

// Encode implements Codec.
func (c KServeEmbeddingCodec) Encode(req Request) ([]byte, string, error) {
	texts, err := rowTexts(req)
	if err != nil {
		return nil, "", err
	}
	rows := make([][]any, len(texts))
	for i, t := range texts {
		rows[i] = []any{t}
	}
	return c.KServeCodec.Encode(Request{Columns: []string{"text"}, Rows: rows})
}

// Decode implements Codec.
func (KServeEmbeddingCodec) Decode(_ string, body []byte, rows int) ([]any, error) {
	var resp struct {
		Outputs []struct {
			Shape []int     `json:"shape"`
			Data  []float64 `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	if len(resp.Outputs) == 0 {
		return nil, errors.New("no outputs in response")
	}
	o := resp.Outputs[0]
	if rows == 0 {
		return nil, nil
	}
	if len(o.Data) == 0 || len(o.Data)%rows != 0 {
		return nil, fmt.Errorf("%d output values for %d texts", len(o.Data), rows)
	}
	dim := len(o.Data) / rows
	if len(o.Shape) == 2 && (o.Shape[0] != rows || o.Shape[1] != dim) {
		return nil, fmt.Errorf("output shape %v for %d texts", o.Shape, rows)
	}
	out := make([]any, rows)
	for i := range out {
		v, err := Vector(o.Data[i*dim : (i+1)*dim])
		if err != nil {
			return nil, fmt.Errorf("embedding %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// rowTexts is each row's first value as text.
func rowTexts(req Request) ([]string, error) {
	texts := make([]string, len(req.Rows))
	for i, row := range req.Rows {
		if len(row) == 0 {
			return nil, fmt.Errorf("row %d has no text", i)
		}
		s, err := FormatValue(row[0])
		if err != nil {
			return nil, err
		}
		texts[i] = s
	}
	return texts, nil
}

// Vector converts a model's numbers to a vector, refusing values a VECTOR
// cannot hold.
func Vector(f []float64) ([]float32, error) {
	if len(f) == 0 {
		return nil, errors.New("empty vector")
	}
	out := make([]float32, len(f))
	for i, x := range f {
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > math.MaxFloat32 {
			return nil, fmt.Errorf("value %d (%v) is not a finite 32-bit float", i, x)
		}
		out[i] = float32(x)
	}
	return out, nil
}
