package testserver

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
)

// TinyLlamaVocab is the vocabulary of TinyLlamaGGUF: <unk>, <s>, </s>, the
// 256 byte-fallback tokens, then "▁" (a space, as SentencePiece writes it)
// and the printable ASCII characters, one token each.
func TinyLlamaVocab() []string {
	v := []string{"<unk>", "<s>", "</s>"}
	for b := 0; b < 256; b++ {
		v = append(v, fmt.Sprintf("<0x%02X>", b))
	}
	v = append(v, "\u2581")
	for c := byte(0x21); c <= 0x7e; c++ {
		v = append(v, string(c))
	}
	return v
}

// TinyLlamaGGUF writes a tiny llama-architecture model in GGUF v3 with
// random F32 weights drawn from seed: 2 layers, a 32-wide embedding, 4
// heads, a SentencePiece vocabulary (TinyLlamaVocab). llama.cpp loads and
// runs it like any real model; what it writes is gibberish, but gibberish
// that a fixed seed repeats. The output layer favours the printable
// tokens (the byte and control tokens score 0), so greedy decoding writes
// printable ASCII and never the end-of-sequence token: generation stops at
// the token limit or a stop sequence.
func TinyLlamaGGUF(seed int64) []byte {
	const (
		nEmbd  = 32
		nLayer = 2
		nHead  = 4
		nFF    = 64
		nCtx   = 512
	)
	vocab := TinyLlamaVocab()
	nVocab := len(vocab)
	rng := rand.New(rand.NewSource(seed))
	randn := func(n int, scale float64) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(rng.NormFloat64() * scale)
		}
		return out
	}
	ones := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = 1
		}
		return out
	}

	w := &ggufWriter{}
	type tensor struct {
		name string
		dims []uint64
		data []float32
	}
	var tensors []tensor
	add := func(name string, data []float32, dims ...uint64) {
		tensors = append(tensors, tensor{name, dims, data})
	}
	add("token_embd.weight", randn(nEmbd*nVocab, 1), nEmbd, uint64(nVocab))
	for l := 0; l < nLayer; l++ {
		p := fmt.Sprintf("blk.%d.", l)
		s := 1 / math.Sqrt(nEmbd)
		add(p+"attn_norm.weight", ones(nEmbd), nEmbd)
		add(p+"attn_q.weight", randn(nEmbd*nEmbd, s), nEmbd, nEmbd)
		add(p+"attn_k.weight", randn(nEmbd*nEmbd, s), nEmbd, nEmbd)
		add(p+"attn_v.weight", randn(nEmbd*nEmbd, s), nEmbd, nEmbd)
		add(p+"attn_output.weight", randn(nEmbd*nEmbd, s), nEmbd, nEmbd)
		add(p+"ffn_norm.weight", ones(nEmbd), nEmbd)
		add(p+"ffn_gate.weight", randn(nEmbd*nFF, s), nEmbd, nFF)
		add(p+"ffn_up.weight", randn(nEmbd*nFF, s), nEmbd, nFF)
		add(p+"ffn_down.weight", randn(nFF*nEmbd, 1/math.Sqrt(nFF)), nFF, nEmbd)
	}
	add("output_norm.weight", ones(nEmbd), nEmbd)
	out := randn(nEmbd*nVocab, 1)
	for tok := 0; tok < 259; tok++ { // control and byte tokens score 0
		for i := 0; i < nEmbd; i++ {
			out[tok*nEmbd+i] = 0
		}
	}
	add("output.weight", out, nEmbd, uint64(nVocab))

	scores := make([]float32, nVocab)
	types := make([]int32, nVocab)
	for i := range vocab {
		switch {
		case i == 0:
			types[i] = 2 // unknown
		case i < 3:
			types[i] = 3 // control
		case i < 259:
			types[i] = 6 // byte
		default:
			types[i] = 1 // normal
			scores[i] = -float32(i)
		}
	}

	kvs := []func(){
		func() { w.kvString("general.architecture", "llama") },
		func() { w.kvString("general.name", "sibyldb-tiny-test") },
		func() { w.kvU32("general.file_type", 0) },
		func() { w.kvU32("general.alignment", 32) },
		func() { w.kvU32("llama.context_length", nCtx) },
		func() { w.kvU32("llama.embedding_length", nEmbd) },
		func() { w.kvU32("llama.block_count", nLayer) },
		func() { w.kvU32("llama.feed_forward_length", nFF) },
		func() { w.kvU32("llama.attention.head_count", nHead) },
		func() { w.kvU32("llama.attention.head_count_kv", nHead) },
		func() { w.kvU32("llama.rope.dimension_count", nEmbd/nHead) },
		func() { w.kvF32("llama.attention.layer_norm_rms_epsilon", 1e-5) },
		func() { w.kvString("tokenizer.ggml.model", "llama") },
		func() { w.kvStrings("tokenizer.ggml.tokens", vocab) },
		func() { w.kvF32s("tokenizer.ggml.scores", scores) },
		func() { w.kvI32s("tokenizer.ggml.token_type", types) },
		func() { w.kvU32("tokenizer.ggml.unknown_token_id", 0) },
		func() { w.kvU32("tokenizer.ggml.bos_token_id", 1) },
		func() { w.kvU32("tokenizer.ggml.eos_token_id", 2) },
		func() { w.kvBool("tokenizer.ggml.add_bos_token", true) },
		func() { w.kvBool("tokenizer.ggml.add_eos_token", false) },
	}

	w.raw([]byte("GGUF"))
	w.u32(3)
	w.u64(uint64(len(tensors)))
	w.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		kv()
	}
	var offset uint64
	for _, t := range tensors {
		w.str(t.name)
		w.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			w.u64(d)
		}
		w.u32(0) // GGML_TYPE_F32
		w.u64(offset)
		offset += align32(uint64(4 * len(t.data)))
	}
	w.pad()
	for _, t := range tensors {
		for _, f := range t.data {
			w.u32(math.Float32bits(f))
		}
		w.pad()
	}
	return w.buf.Bytes()
}

func align32(n uint64) uint64 { return (n + 31) &^ 31 }

// ggufWriter writes GGUF's little-endian encoding.
type ggufWriter struct{ buf bytes.Buffer }

// GGUF value types.
const (
	ggufU32    = 4
	ggufI32    = 5
	ggufF32    = 6
	ggufBool   = 7
	ggufString = 8
	ggufArray  = 9
)

func (w *ggufWriter) raw(b []byte) { w.buf.Write(b) }
func (w *ggufWriter) u32(v uint32) { _ = binary.Write(&w.buf, binary.LittleEndian, v) }
func (w *ggufWriter) u64(v uint64) { _ = binary.Write(&w.buf, binary.LittleEndian, v) }
func (w *ggufWriter) str(s string) { w.u64(uint64(len(s))); w.buf.WriteString(s) }
func (w *ggufWriter) pad() {
	for w.buf.Len()%32 != 0 {
		w.buf.WriteByte(0)
	}
}
func (w *ggufWriter) kvString(k, v string)     { w.str(k); w.u32(ggufString); w.str(v) }
func (w *ggufWriter) kvU32(k string, v uint32) { w.str(k); w.u32(ggufU32); w.u32(v) }
func (w *ggufWriter) kvF32(k string, v float32) {
	w.str(k)
	w.u32(ggufF32)
	w.u32(math.Float32bits(v))
}
func (w *ggufWriter) kvBool(k string, v bool) {
	w.str(k)
	w.u32(ggufBool)
	if v {
		w.buf.WriteByte(1)
	} else {
		w.buf.WriteByte(0)
	}
}
func (w *ggufWriter) kvStrings(k string, v []string) {
	w.str(k)
	w.u32(ggufArray)
	w.u32(ggufString)
	w.u64(uint64(len(v)))
	for _, s := range v {
		w.str(s)
	}
}
func (w *ggufWriter) kvF32s(k string, v []float32) {
	w.str(k)
	w.u32(ggufArray)
	w.u32(ggufF32)
	w.u64(uint64(len(v)))
	for _, f := range v {
		w.u32(math.Float32bits(f))
	}
}
func (w *ggufWriter) kvI32s(k string, v []int32) {
	w.str(k)
	w.u32(ggufArray)
	w.u32(ggufI32)
	w.u64(uint64(len(v)))
	for _, i := range v {
		w.u32(uint32(i))
	}
}
