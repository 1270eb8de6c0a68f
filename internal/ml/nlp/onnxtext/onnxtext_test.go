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
