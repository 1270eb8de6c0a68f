package onnxtext

import (
	"bytes"
	"fmt"
	"math"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/pretrained"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/sibyldb/sibyldb/internal/ml/onnxrt"
)

// Embedder is a sentence-transformer exported to ONNX (for example
// all-MiniLM-L6-v2 through Hugging Face Optimum or sentence-transformers)
// with its tokenizer.json. A text's embedding is
// the model's "sentence_embedding" output when it has one, else the mean of
// its token vectors (the first [batch, sequence, hidden] output, e.g.
// last_hidden_state) over the attention mask, as sentence-transformers
// pools; either way scaled to unit length. It is safe for concurrent use.
type Embedder struct {
	session *ort.DynamicAdvancedSession
	tok     *tokenizer.Tokenizer
	inputs  []string
	// pooled is set when the output is already one vector per text.
	pooled bool
	dim    int
}

// NewEmbedder loads a model from the bytes of its model.onnx and
// tokenizer.json; name names it in errors. The caller reads the files (the
// server through package fileaccess, which confines them to
// secure_file_priv).
func NewEmbedder(name string, model, tokenizerJSON []byte) (*Embedder, error) {
	if err := onnxrt.Ready(); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, fmt.Errorf("ONNX model %s: %w", name, err)
	}
	modelPath := name
	e := &Embedder{}
	if e.inputs, err = textInputs(modelPath, ins); err != nil {
		return nil, err
	}
	output := ""
	for _, o := range outs {
		d := o.Dimensions
		switch {
		case o.Name == "sentence_embedding" && len(d) == 2:
			output, e.pooled, e.dim = o.Name, true, int(d[1])
		case output == "" && len(d) == 3:
			output, e.dim = o.Name, int(d[2])
		}
		if e.pooled {
			break
		}
	}
	if output == "" || e.dim <= 0 {
		return nil, fmt.Errorf("ONNX model %s: want a sentence_embedding [batch, hidden] or a [batch, sequence, hidden] output with a fixed hidden size", modelPath)
	}
	if e.tok, err = pretrained.FromReader(bytes.NewReader(tokenizerJSON)); err != nil {
		return nil, fmt.Errorf("tokenizer.json of %s: %w", name, err)
	}
	if e.session, err = ort.NewDynamicAdvancedSessionWithONNXData(model, e.inputs, []string{output}, nil); err != nil {
		return nil, fmt.Errorf("ONNX model %s: %w", modelPath, err)
	}
	return e, nil
}

// Dim is the embedding size.
func (e *Embedder) Dim() int { return e.dim }

// Close releases the session.
func (e *Embedder) Close() { _ = e.session.Destroy() }

// Embed returns one unit-length vector per text, in one run.
func (e *Embedder) Embed(texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	inputs, mask, seq, err := encode(e.tok, e.inputs, texts)
	if err != nil {
		return nil, err
	}
	defer destroy(inputs)
	outputs := []ort.Value{nil}
	if err := e.session.Run(inputs, outputs); err != nil {
		return nil, fmt.Errorf("ONNX Runtime: %w", err)
	}
	defer destroy(outputs)
	t, ok := outputs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("ONNX model output is %T, want float32", outputs[0])
	}
	data, shape := t.GetData(), t.GetShape()
	n, d := len(texts), e.dim
	want := ort.NewShape(int64(n), int64(seq), int64(d))
	if e.pooled {
		want = ort.NewShape(int64(n), int64(d))
	}
	if !shapeEqual(shape, want) {
		return nil, fmt.Errorf("ONNX model output has shape %v, want %v", shape, want)
	}
	out := make([][]float32, n)
	for i := range out {
		v := make([]float64, d)
		if e.pooled {
			for k := range v {
				v[k] = float64(data[i*d+k])
			}
		} else {
			tokens := 0.0
			for j := 0; j < seq; j++ {
				if mask[i*seq+j] == 0 {
					continue
				}
				tokens++
				row := data[(i*seq+j)*d : (i*seq+j+1)*d]
				for k, x := range row {
					v[k] += float64(x)
				}
			}
			for k := range v {
				v[k] /= max(tokens, 1)
			}
		}
		out[i] = unit(v)
	}
	return out, nil
}

func shapeEqual(a, b ort.Shape) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// unit scales v to length 1 (a zero vector stays zero).
func unit(v []float64) []float32 {
	var ss float64
	for _, x := range v {
		ss += x * x
	}
	out := make([]float32, len(v))
	if ss == 0 {
		return out
	}
	inv := 1 / math.Sqrt(ss)
	for k, x := range v {
		out[k] = float32(x * inv)
	}
	return out
}
