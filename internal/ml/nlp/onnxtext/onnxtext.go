// Package onnxtext runs a user-supplied transformer text classifier (for
// example DistilBERT fine-tuned on SST-2, exported to ONNX) with its
// Hugging Face tokenizer.json, through ONNX Runtime.
//
// ONNX Runtime is loaded by package onnxrt; Load needs it ready.
package onnxtext

import (
	"fmt"

	"github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/pretrained"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
	"github.com/sibyldb/sibyldb/internal/ml/onnxrt"
)

// MaxTokens bounds a document's tokens (BERT-style models take 512).
const MaxTokens = 512

// Classifier is a loaded model and tokenizer; it is safe for concurrent use.
type Classifier struct {
	session *ort.DynamicAdvancedSession
	tok     *tokenizer.Tokenizer
	inputs  []string // input_ids, attention_mask and token_type_ids, as the model declares
	output  string
	// Labels is the number of classes the model scores.
	Labels int
}

// Load opens an ONNX classifier and its tokenizer.json. The model must take
// input_ids (and may take attention_mask and token_type_ids) as int64
// [batch, sequence] and give one float [batch, labels] output of logits.
func Load(modelPath, tokenizerPath string) (*Classifier, error) {
	if err := onnxrt.Ready(); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfo(modelPath)
	if err != nil {
		return nil, fmt.Errorf("ONNX model %s: %w", modelPath, err)
	}
	c := &Classifier{}
	if c.inputs, err = textInputs(modelPath, ins); err != nil {
		return nil, err
	}
	if len(outs) != 1 {
		return nil, fmt.Errorf("ONNX model %s: want text inputs and one logits output, have %d inputs and %d outputs", modelPath, len(ins), len(outs))
	}
	c.output = outs[0].Name
	dims := outs[0].Dimensions
	if len(dims) != 2 || dims[1] < 2 {
		return nil, fmt.Errorf("ONNX model %s: output %q has shape %v; want [batch, labels]", modelPath, c.output, dims)
	}
	c.Labels = int(dims[1])
	if c.tok, err = pretrained.FromFile(tokenizerPath); err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", tokenizerPath, err)
	}
	if c.session, err = ort.NewDynamicAdvancedSession(modelPath, c.inputs, []string{c.output}, nil); err != nil {
		return nil, fmt.Errorf("ONNX model %s: %w", modelPath, err)
	}
	return c, nil
}

// Close releases the session.
func (c *Classifier) Close() { _ = c.session.Destroy() }

// Probabilities classifies texts in one run: softmax of the logits, one
// row of Labels probabilities per text.
func (c *Classifier) Probabilities(texts []string) ([][]float64, error) {
	inputs, _, _, err := encode(c.tok, c.inputs, texts)
	if err != nil {
		return nil, err
	}
	defer destroy(inputs)
	n := int64(len(texts))
	out, err := ort.NewEmptyTensor[float32](ort.NewShape(n, int64(c.Labels)))
	if err != nil {
		return nil, err
	}
	defer out.Destroy()
	if err := c.session.Run(inputs, []ort.Value{out}); err != nil {
		return nil, fmt.Errorf("ONNX Runtime: %w", err)
	}
	logits := out.GetData()
	res := make([][]float64, len(texts))
	for i := range res {
		row := make([]float64, c.Labels)
		for k := range row {
			row[k] = float64(logits[i*c.Labels+k])
		}
		dense.Softmax(row)
		res[i] = row
	}
	return res, nil
}

// textInputs are the names of a text model's inputs, which must be BERT's.
func textInputs(modelPath string, ins []ort.InputOutputInfo) ([]string, error) {
	var names []string
	for _, in := range ins {
		switch in.Name {
		case "input_ids", "attention_mask", "token_type_ids":
			names = append(names, in.Name)
		default:
			return nil, fmt.Errorf("ONNX model %s: unexpected input %q (want input_ids, attention_mask, token_type_ids)", modelPath, in.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("ONNX model %s has no inputs", modelPath)
	}
	return names, nil
}

// encode tokenizes texts (cut at MaxTokens) into the int64 [batch,
// sequence] tensors names asks for, padded to the longest text; mask is
// the attention mask (1 for a token, 0 for padding) and longest the
// sequence length. The caller destroys the tensors.
func encode(tok *tokenizer.Tokenizer, names []string, texts []string) (inputs []ort.Value, mask []int64, longest int, err error) {
	encs := make([][]int, len(texts))
	longest = 1
	for i, t := range texts {
		enc, err := tok.EncodeSingle(t, true)
		if err != nil {
			return nil, nil, 0, fmt.Errorf("tokenize: %w", err)
		}
		ids := enc.Ids
		if len(ids) > MaxTokens {
			ids = ids[:MaxTokens]
		}
		encs[i] = ids
		longest = max(longest, len(ids))
	}
	n := int64(len(texts))
	shape := ort.NewShape(n, int64(longest))
	ids := make([]int64, n*int64(longest))
	mask = make([]int64, len(ids))
	for i, e := range encs {
		for j, id := range e {
			ids[i*longest+j] = int64(id)
			mask[i*longest+j] = 1
		}
	}
	for _, name := range names {
		data := ids
		switch name {
		case "attention_mask":
			data = mask
		case "token_type_ids":
			data = make([]int64, len(ids))
		}
		t, err := ort.NewTensor(shape, data)
		if err != nil {
			destroy(inputs)
			return nil, nil, 0, err
		}
		inputs = append(inputs, t)
	}
	return inputs, mask, longest, nil
}

func destroy(values []ort.Value) {
	for _, v := range values {
		if v != nil {
			_ = v.Destroy()
		}
	}
}
