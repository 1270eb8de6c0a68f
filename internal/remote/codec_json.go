package remote

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// jsonValue converts a SQL value to what JSON protocols expect: numbers stay
// numbers, everything else is its CSV text, NULL is null.
func jsonValue(v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return t, nil
	}
	s, err := FormatValue(v)
	if err != nil {
		return nil, err
	}
	// Decimals arrive as Stringers; send them as numbers.
	if _, ok := v.(fmt.Stringer); ok {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	}
	return s, nil
}

// KServeCodec speaks the Open Inference Protocol v2 (KServe, Triton, MLServer):
// the batch is one input tensor of shape [rows, columns], FP64 when every
// value is numeric, else BYTES.
type KServeCodec struct {
	// Model is the model name in the URL path.
	Model string
}

// Path implements Codec.
func (c KServeCodec) Path(endpointName string) string {
	m := c.Model
	if m == "" {
		m = endpointName
	}
	return "/v2/models/" + m + "/infer"
}

// RowsPerRequest implements Codec.
func (KServeCodec) RowsPerRequest() int { return 0 }

type v2Tensor struct {
	Name     string `json:"name"`
	Shape    []int  `json:"shape"`
	Datatype string `json:"datatype"`
	Data     []any  `json:"data"`
}

// Encode implements Codec.
func (KServeCodec) Encode(req Request) ([]byte, string, error) {
	cols := len(req.Columns)
	data := make([]any, 0, len(req.Rows)*cols)
	numeric := true
	for _, row := range req.Rows {
		for _, v := range row {
			j, err := jsonValue(v)
			if err != nil {
				return nil, "", err
			}
			switch j.(type) {
			case string, nil:
				numeric = false
			}
			data = append(data, j)
		}
	}
	dtype := "FP64"
	if !numeric {
		dtype = "BYTES"
		for i, v := range data {
			if v == nil {
				data[i] = ""
			} else if _, ok := v.(string); !ok {
				data[i] = fmt.Sprint(v)
			}
		}
	}
	body, err := json.Marshal(map[string]any{"inputs": []v2Tensor{{
		Name: "input-0", Shape: []int{len(req.Rows), cols}, Datatype: dtype, Data: data,
	}}})
	return body, "application/json", err
}

// Decode implements Codec: the first output tensor, first value per row.
func (KServeCodec) Decode(_ string, body []byte, rows int) ([]any, error) {
	var resp struct {
		Outputs []struct {
			Shape []int `json:"shape"`
			Data  []any `json:"data"`
		} `json:"outputs"`
		Error string `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&resp); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	if len(resp.Outputs) == 0 {
		return nil, errors.New("no outputs in response")
	}
	o := resp.Outputs[0]
	if rows == 0 {
		return nil, nil
	}
	if len(o.Data)%rows != 0 || len(o.Data) == 0 {
		return nil, fmt.Errorf("%d output values for %d rows", len(o.Data), rows)
	}
	per := len(o.Data) / rows
	out := make([]any, rows)
	for i := range out {
		out[i] = firstScalar(o.Data[i*per])
	}
	return out, nil
}

// MLflowCodec speaks the MLflow scoring server's JSON format
// (dataframe_split with the function's parameter names as columns).
type MLflowCodec struct{}

// Path implements Codec.
func (MLflowCodec) Path(string) string { return "/invocations" }

// RowsPerRequest implements Codec.
func (MLflowCodec) RowsPerRequest() int { return 0 }

// Encode implements Codec.
func (MLflowCodec) Encode(req Request) ([]byte, string, error) {
	data := make([][]any, len(req.Rows))
	for i, row := range req.Rows {
		data[i] = make([]any, len(row))
		for j, v := range row {
			jv, err := jsonValue(v)
			if err != nil {
				return nil, "", err
			}
			data[i][j] = jv
		}
	}
	body, err := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": req.Columns, "data": data}})
	return body, "application/json", err
}

// Decode implements Codec.
func (MLflowCodec) Decode(contentType string, body []byte, rows int) ([]any, error) {
	return DecodePredictions(contentType, body, rows)
}

// OpenAICodec calls an OpenAI-compatible chat completions server. Chat has no
// batch form, so each request carries one row: the row's values, joined by
// newlines, are the user message after the optional system prompt.
type OpenAICodec struct {
	Model  string
	Prompt string
}

// Path implements Codec.
func (OpenAICodec) Path(string) string { return "/v1/chat/completions" }

// RowsPerRequest implements Codec.
func (OpenAICodec) RowsPerRequest() int { return 1 }

// Encode implements Codec.
func (c OpenAICodec) Encode(req Request) ([]byte, string, error) {
	if len(req.Rows) != 1 {
		return nil, "", fmt.Errorf("chat completions take one row per request, got %d", len(req.Rows))
	}
	parts := make([]string, len(req.Rows[0]))
	for i, v := range req.Rows[0] {
		s, err := FormatValue(v)
		if err != nil {
			return nil, "", err
		}
		parts[i] = s
	}
	msgs := []map[string]string{}
	if c.Prompt != "" {
		msgs = append(msgs, map[string]string{"role": "system", "content": c.Prompt})
	}
	msgs = append(msgs, map[string]string{"role": "user", "content": strings.Join(parts, "\n")})
	body, err := json.Marshal(map[string]any{"model": c.Model, "messages": msgs, "temperature": 0})
	return body, "application/json", err
}

// Decode implements Codec.
func (OpenAICodec) Decode(_ string, body []byte, rows int) ([]any, error) {
	var resp struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	if len(resp.Choices) == 0 || rows != 1 {
		return nil, fmt.Errorf("%d choices for %d rows", len(resp.Choices), rows)
	}
	return []any{strings.TrimSpace(resp.Choices[0].Message.Content)}, nil
}

// NewCodec returns the codec for a protocol; model and prompt apply to the
// protocols that use them.
func NewCodec(p Protocol, model, prompt string) Codec {
	switch p {
	case KServeV2:
		return KServeCodec{Model: model}
	case MLflow:
		return MLflowCodec{}
	case OpenAI:
		return OpenAICodec{Model: model, Prompt: prompt}
	default:
		return SageMakerCodec{}
	}
}
