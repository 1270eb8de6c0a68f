package testserver

import (
	"encoding/binary"
	"encoding/json"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNXTextClassifier writes a tiny transformer-shaped text classifier for
// the ONNX tests: inputs input_ids and attention_mask (int64 [batch, seq]),
// output logits (float [batch, 2]) = the sum over unmasked tokens of each
// token's embedding, so "good" pushes towards label 1 and "bad" towards
// label 0. It returns the model (ONNX protobuf, opset 13) and a
// tokenizer.json in the shape Hugging Face writes for BERT-style models.
func ONNXTextClassifier() (model, tokenizerJSON []byte) {
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "great", "bad", "awful", "movie", "the", "was"}
	emb := make([]float32, 2*len(vocab))
	for i, w := range vocab {
		switch w {
		case "good", "great":
			emb[2*i+1] = 2
		case "bad", "awful":
			emb[2*i] = 2
		}
	}
	str := func(field protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(nil, field, protowire.BytesType), s)
	}
	msg := func(field protowire.Number, parts ...[]byte) []byte {
		var body []byte
		for _, p := range parts {
			body = append(body, p...)
		}
		return protowire.AppendBytes(protowire.AppendTag(nil, field, protowire.BytesType), body)
	}
	varint := func(field protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(nil, field, protowire.VarintType), v)
	}
	// TensorProto: dims=1, data_type=2, name=8, raw_data=9.
	tensor := func(name string, dataType uint64, dims []int64, raw []byte) []byte {
		var parts [][]byte
		for _, d := range dims {
			parts = append(parts, varint(1, uint64(d)))
		}
		parts = append(parts, varint(2, dataType), str(8, name), msg(9, raw))
		return msg(5, parts...)
	}
	floats := make([]byte, 4*len(emb))
	for i, f := range emb {
		binary.LittleEndian.PutUint32(floats[4*i:], math.Float32bits(f))
	}
	int64s := func(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }
	// NodeProto: input=1, output=2, name=3, op_type=4, attribute=5.
	node := func(op, name string, in, out []string, attrs ...[]byte) []byte {
		var parts [][]byte
		for _, s := range in {
			parts = append(parts, str(1, s))
		}
		for _, s := range out {
			parts = append(parts, str(2, s))
		}
		parts = append(parts, str(3, name), str(4, op))
		parts = append(parts, attrs...)
		return msg(1, parts...)
	}
	// AttributeProto: name=1, i=3, type=20 (INT=2).
	intAttr := func(name string, v int64) []byte { return msg(5, str(1, name), varint(3, uint64(v)), varint(20, 2)) }
	// ValueInfoProto: name=1, type=2 {tensor_type=1 {elem_type=1, shape=2 {dim=1 {dim_param=2}}}}.
	value := func(field protowire.Number, name string, elem uint64, dims ...string) []byte {
		var shape []byte
		for _, d := range dims {
			shape = append(shape, msg(1, str(2, d))...)
		}
		return msg(field, str(1, name), msg(2, msg(1, varint(1, elem), msg(2, shape))))
	}
	const float, int64t = 1, 7
	graph := msg(7,
		node("Gather", "embed", []string{"embeddings", "input_ids"}, []string{"tokens"}, intAttr("axis", 0)),
		node("Cast", "mask_float", []string{"attention_mask"}, []string{"mask"}, intAttr("to", float)),
		node("Unsqueeze", "mask_3d", []string{"mask", "axis2"}, []string{"mask3"}),
		node("Mul", "masked", []string{"tokens", "mask3"}, []string{"kept"}),
		node("ReduceSum", "pool", []string{"kept", "axis1"}, []string{"logits"}, intAttr("keepdims", 0)),
		str(2, "tiny_sentiment"),
		tensor("embeddings", float, []int64{int64(len(vocab)), 2}, floats),
		tensor("axis1", int64t, []int64{1}, int64s(1)),
		tensor("axis2", int64t, []int64{1}, int64s(2)),
		value(11, "input_ids", int64t, "batch", "sequence"),
		value(11, "attention_mask", int64t, "batch", "sequence"),
		value(12, "logits", float, "batch", "labels"),
	)
	// ModelProto: ir_version=1, producer_name=2, graph=7, opset_import=8 {domain=1, version=2}.
	model = append(varint(1, 8), str(2, "sibyldb-tests")...)
	model = append(model, graph...)
	model = append(model, msg(8, str(1, ""), varint(2, 13))...)

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
	tokenizerJSON, _ = json.Marshal(tok)
	return model, tokenizerJSON
}
