package testserver

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNXTextClassifier writes a tiny transformer-shaped text classifier for
// the ONNX tests: inputs input_ids and attention_mask (int64 [batch, seq]),
// output logits (float [batch, 2]) = the sum over unmasked tokens of each
// token's embedding, so "good" pushes towards label 1 and "bad" towards
// label 0. It returns the model (ONNX protobuf, opset 13) and a
// tokenizer.json in the shape Hugging Face writes for BERT-style models.
func ONNXTextClassifier() (model, tokenizerJSON []byte) {
	vocab := textVocab
	emb := make([]float32, 2*len(vocab))
	for i, w := range vocab {
		switch w {
		case "good", "great":
			emb[2*i+1] = 2
		case "bad", "awful":
			emb[2*i] = 2
		}
	}
	graph := pbMessage(7,
		onnxNode("Gather", "embed", []string{"embeddings", "input_ids"}, []string{"tokens"}, onnxIntAttr("axis", 0)),
		onnxNode("Cast", "mask_float", []string{"attention_mask"}, []string{"mask"}, onnxIntAttr("to", onnxFloat)),
		onnxNode("Unsqueeze", "mask_3d", []string{"mask", "axis2"}, []string{"mask3"}),
		onnxNode("Mul", "masked", []string{"tokens", "mask3"}, []string{"kept"}),
		onnxNode("ReduceSum", "pool", []string{"kept", "axis1"}, []string{"logits"}, onnxIntAttr("keepdims", 0)),
		pbString(2, "tiny_sentiment"),
		onnxTensor("embeddings", onnxFloat, []int64{int64(len(vocab)), 2}, floatBytes(emb)),
		onnxTensor("axis1", onnxInt64, []int64{1}, int64Bytes(1)),
		onnxTensor("axis2", onnxInt64, []int64{1}, int64Bytes(2)),
		onnxValue(11, "input_ids", onnxInt64, "batch", "sequence"),
		onnxValue(11, "attention_mask", onnxInt64, "batch", "sequence"),
		onnxValue(12, "logits", onnxFloat, "batch", "labels"),
	)
	model = onnxModel(graph)

	return model, bertTokenizer(textVocab)
}

// textVocab is the WordPiece vocabulary of the test text models.
var textVocab = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "great", "bad", "awful", "movie", "the", "was"}

// bertTokenizer is a tokenizer.json in the shape Hugging Face writes for
// BERT-style models: lower-cased, [CLS] text [SEP], unknown words [UNK].
func bertTokenizer(vocab []string) []byte {
	ids := map[string]int{}
	for i, w := range vocab {
		ids[w] = i
	}
	special := func(id int, content string) map[string]any {
		return map[string]any{"id": id, "content": content, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
	}
	tok := map[string]any{
		"version":       "1.0",
		"truncation":    nil,
		"padding":       nil,
		"added_tokens":  []any{special(0, "[PAD]"), special(1, "[UNK]"), special(2, "[CLS]"), special(3, "[SEP]")},
		"normalizer":    map[string]any{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": nil, "lowercase": true},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": "[CLS]", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}, map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 0}}},
			"pair":   []any{map[string]any{"SpecialToken": map[string]any{"id": "[CLS]", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}, map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}}, map[string]any{"SpecialToken": map[string]any{"id": "[SEP]", "type_id": 1}}},
			"special_tokens": map[string]any{
				"[CLS]": map[string]any{"id": "[CLS]", "ids": []int{2}, "tokens": []string{"[CLS]"}},
				"[SEP]": map[string]any{"id": "[SEP]", "ids": []int{3}, "tokens": []string{"[SEP]"}},
			},
		},
		"decoder": map[string]any{"type": "WordPiece", "prefix": "##", "cleanup": true},
		"model":   map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": ids},
	}
	tokenizerJSON, _ := json.Marshal(tok)
	return tokenizerJSON
}

// SentenceEncoder is a tiny random-weight sentence-transformer for the
// embedding tests: inputs input_ids, attention_mask and token_type_ids
// (int64 [batch, sequence]), output last_hidden_state (float [batch,
// sequence, Hidden]) = tanh(E[input_ids] · W), with E and W drawn from a
// fixed seed. Expected computes what sentence-transformers' mean pooling
// and normalisation give, independently of ONNX Runtime.
type SentenceEncoder struct {
	Model, Tokenizer []byte
	Hidden           int
	e, w             []float32 // E: [vocab, Hidden], W: [Hidden, Hidden]
}

// NewSentenceEncoder builds the model.
func NewSentenceEncoder(hidden int, seed uint64) *SentenceEncoder {
	r := rand.New(rand.NewPCG(seed, 1))
	v := len(textVocab)
	s := &SentenceEncoder{Hidden: hidden, e: make([]float32, v*hidden), w: make([]float32, hidden*hidden)}
	for i := range s.e {
		s.e[i] = float32(r.NormFloat64())
	}
	for i := range s.w {
		s.w[i] = float32(r.NormFloat64() / math.Sqrt(float64(hidden)))
	}
	h := int64(hidden)
	graph := pbMessage(7,
		onnxNode("Gather", "embed", []string{"embeddings", "input_ids"}, []string{"tokens"}, onnxIntAttr("axis", 0)),
		onnxNode("MatMul", "project", []string{"tokens", "w"}, []string{"projected"}),
		onnxNode("Tanh", "act", []string{"projected"}, []string{"last_hidden_state"}),
		// attention_mask and token_type_ids are inputs, as in BERT exports;
		// this model's output does not depend on them (pooling does).
		onnxNode("Identity", "mask", []string{"attention_mask"}, []string{"unused_mask"}),
		onnxNode("Identity", "types", []string{"token_type_ids"}, []string{"unused_types"}),
		pbString(2, "tiny_encoder"),
		onnxTensor("embeddings", onnxFloat, []int64{int64(v), h}, floatBytes(s.e)),
		onnxTensor("w", onnxFloat, []int64{h, h}, floatBytes(s.w)),
		onnxValue(11, "input_ids", onnxInt64, "batch", "sequence"),
		onnxValue(11, "attention_mask", onnxInt64, "batch", "sequence"),
		onnxValue(11, "token_type_ids", onnxInt64, "batch", "sequence"),
		onnxValue(12, "last_hidden_state", onnxFloat, "batch", "sequence", h),
	)
	s.Model = onnxModel(graph)
	s.Tokenizer = bertTokenizer(textVocab)
	return s
}

// Expected is the unit-length mean of the token vectors of text, tokenized
// as the tokenizer does for the test vocabulary: lower case, split on
// spaces, [CLS] and [SEP] around, other words [UNK].
func (s *SentenceEncoder) Expected(text string) []float32 {
	id := map[string]int{}
	for i, w := range textVocab {
		id[w] = i
	}
	ids := []int{id["[CLS]"]}
	for _, w := range strings.Fields(strings.ToLower(text)) {
		if k, ok := id[w]; ok {
			ids = append(ids, k)
		} else {
			ids = append(ids, id["[UNK]"])
		}
	}
	ids = append(ids, id["[SEP]"])
	h := s.Hidden
	mean := make([]float64, h)
	for _, t := range ids {
		for j := 0; j < h; j++ {
			var dot float64
			for k := 0; k < h; k++ {
				dot += float64(s.e[t*h+k]) * float64(s.w[k*h+j])
			}
			mean[j] += math.Tanh(dot) / float64(len(ids))
		}
	}
	var ss float64
	for _, x := range mean {
		ss += x * x
	}
	out := make([]float32, h)
	for j, x := range mean {
		out[j] = float32(x / math.Sqrt(ss))
	}
	return out
}

// ONNXLinearModel writes a tabular ONNX model: input x (float [batch, n]),
// output y = x·w + b (float [batch, 1]).
func ONNXLinearModel(w []float32, b float32) []byte {
	n := int64(len(w))
	graph := pbMessage(7,
		onnxNode("MatMul", "dot", []string{"x", "w"}, []string{"xw"}),
		onnxNode("Add", "bias", []string{"xw", "b"}, []string{"y"}),
		pbString(2, "linear"),
		onnxTensor("w", onnxFloat, []int64{n, 1}, floatBytes(w)),
		onnxTensor("b", onnxFloat, []int64{1}, floatBytes([]float32{b})),
		onnxValue(11, "x", onnxFloat, "batch", n),
		onnxValue(12, "y", onnxFloat, "batch", int64(1)),
	)
	return onnxModel(graph)
}

// ONNX element types.
const (
	onnxFloat = 1
	onnxInt64 = 7
)

// The protobuf encoding of the few ONNX messages the test models need
// (onnx.proto field numbers), so the tests need no ONNX toolchain.

func pbString(field protowire.Number, s string) []byte {
	return protowire.AppendString(protowire.AppendTag(nil, field, protowire.BytesType), s)
}

func pbMessage(field protowire.Number, parts ...[]byte) []byte {
	var body []byte
	for _, p := range parts {
		body = append(body, p...)
	}
	return protowire.AppendBytes(protowire.AppendTag(nil, field, protowire.BytesType), body)
}

func pbVarint(field protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, field, protowire.VarintType), v)
}

// tensor is a GraphProto initializer: TensorProto{dims=1, data_type=2,
// name=8, raw_data=9}.
func onnxTensor(name string, dataType uint64, dims []int64, raw []byte) []byte {
	var parts [][]byte
	for _, d := range dims {
		parts = append(parts, pbVarint(1, uint64(d)))
	}
	parts = append(parts, pbVarint(2, dataType), pbString(8, name), pbMessage(9, raw))
	return pbMessage(5, parts...)
}

// node is a GraphProto node: NodeProto{input=1, output=2, name=3,
// op_type=4, attribute=5}.
func onnxNode(op, name string, in, out []string, attrs ...[]byte) []byte {
	var parts [][]byte
	for _, s := range in {
		parts = append(parts, pbString(1, s))
	}
	for _, s := range out {
		parts = append(parts, pbString(2, s))
	}
	parts = append(parts, pbString(3, name), pbString(4, op))
	parts = append(parts, attrs...)
	return pbMessage(1, parts...)
}

// intAttr is AttributeProto{name=1, i=3, type=20 (INT)}.
func onnxIntAttr(name string, v int64) []byte {
	return pbMessage(5, pbString(1, name), pbVarint(3, uint64(v)), pbVarint(20, 2))
}

// value is a graph input (11) or output (12): ValueInfoProto{name=1,
// type=2 {tensor_type=1 {elem_type=1, shape=2 {dim=1 {dim_value=1 |
// dim_param=2}}}}}; a dimension is an int64 size or a string name.
func onnxValue(field protowire.Number, name string, elem uint64, dims ...any) []byte {
	var shape []byte
	for _, d := range dims {
		switch d := d.(type) {
		case string:
			shape = append(shape, pbMessage(1, pbString(2, d))...)
		case int64:
			shape = append(shape, pbMessage(1, pbVarint(1, uint64(d)))...)
		}
	}
	return pbMessage(field, pbString(1, name), pbMessage(2, pbMessage(1, pbVarint(1, elem), pbMessage(2, shape))))
}

// onnxModel is ModelProto{ir_version=1, producer_name=2, graph=7,
// opset_import=8 {domain=1, version=2 (13)}}.
func onnxModel(graph []byte) []byte {
	model := append(pbVarint(1, 8), pbString(2, "sibyldb-tests")...)
	model = append(model, graph...)
	return append(model, pbMessage(8, pbString(1, ""), pbVarint(2, 13))...)
}

func floatBytes(fs []float32) []byte {
	out := make([]byte, 4*len(fs))
	for i, f := range fs {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return out
}

func int64Bytes(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
