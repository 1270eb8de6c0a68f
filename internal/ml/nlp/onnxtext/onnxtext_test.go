package onnxtext

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/onnxrt"
	"github.com/sibyldb/sibyldb/internal/testserver"
)

// runtimeLib finds ONNX Runtime as `make deps` installs it.
func runtimeLib(t *testing.T) string {
	if p := os.Getenv("SIBYLDB_ONNXRUNTIME"); p != "" {
		return p
	}
	p, err := filepath.Abs("../../../../bin/onnxruntime/libonnxruntime.so")
	require.NoError(t, err)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("ONNX Runtime not found at %s: run make deps (scripts/install-deps.sh)", p)
	}
	return p
}

func TestClassifierRunsATransformerShapedModel(t *testing.T) {
	onnxrt.Configure(runtimeLib(t))
	dir := t.TempDir()
	model, tok := testserver.ONNXTextClassifier()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), tok, 0o600))
	c, err := Load(filepath.Join(dir, "model.onnx"), filepath.Join(dir, "tokenizer.json"))
	require.NoError(t, err)
	defer c.Close()
	require.Equal(t, 2, c.Labels)
	probs, err := c.Probabilities([]string{"The movie was GOOD", "bad, awful movie", "the movie"})
	require.NoError(t, err)
	require.InDelta(t, 1/(1+math.Exp(-2)), probs[0][1], 1e-6, "one opinion word (lower-cased by the tokenizer): logits 0 and 2")
	require.InDelta(t, 1/(1+math.Exp(-4)), probs[1][0], 1e-6, "two negative words")
	require.InDelta(t, 0.5, probs[2][0], 1e-6, "no opinion words: equal logits")
	require.InDelta(t, 1.0, probs[0][0]+probs[0][1], 1e-9)

	_, err = Load(filepath.Join(dir, "tokenizer.json"), filepath.Join(dir, "tokenizer.json"))
	require.Error(t, err, "not an ONNX model")
}

func TestEmbedderMeanPoolsASentenceTransformer(t *testing.T) {
	onnxrt.Configure(runtimeLib(t))
	enc := testserver.NewSentenceEncoder(8, 7)
	e, err := NewEmbedder("tiny", enc.Model, enc.Tokenizer)
	require.NoError(t, err)
	defer e.Close()
	require.Equal(t, 8, e.Dim())
	// Texts of different lengths in one batch: padding must not count.
	texts := []string{"the movie was good", "bad", "The MOVIE was awful , awful", "unknown words here"}
	got, err := e.Embed(texts)
	require.NoError(t, err)
	require.Len(t, got, len(texts))
	for i, text := range texts {
		want := enc.Expected(text)
		require.InDeltaSlicef(t, want, got[i], 1e-5, "text %q", text)
	}
	single, err := e.Embed(texts[2:3])
	require.NoError(t, err)
	require.InDeltaSlice(t, got[2], single[0], 1e-6, "a text's vector does not depend on its batch")

	_, err = NewEmbedder("tiny", enc.Tokenizer, enc.Tokenizer)
	require.ErrorContains(t, err, "ONNX model tiny")
	classifier, tok := testserver.ONNXTextClassifier()
	_, err = NewEmbedder("classifier", classifier, tok)
	require.ErrorContains(t, err, "want a sentence_embedding", "a [batch, labels] output is not token vectors")
}
