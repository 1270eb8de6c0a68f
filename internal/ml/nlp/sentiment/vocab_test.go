package sentiment

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment/wordvec"
)

func TestVocabExtract(t *testing.T) {
	voc := Default().Vocab()
	require.NotNil(t, voc, "the shipped model uses word vectors")
	idx := func(w string) int32 {
		i, ok := voc.idx[hashString(w)]
		require.True(t, ok, w)
		return i
	}
	var f Features
	voc.Extract("The soup wasn't good, but the bread was superb!", &f)
	good, superb, soup := idx("good"), idx("superb"), idx("soup")
	require.Contains(t, f.Vec, soup)
	require.Contains(t, f.Vec, -good-1, "a word in a negation scope is marked")
	require.NotContains(t, f.Vec, good)
	require.Contains(t, f.Vec, superb)
	// Clause ranges partition the vector indices.
	n := 0
	for _, s := range f.Segs {
		require.LessOrEqual(t, s.VStart, s.VEnd)
		n += s.VEnd - s.VStart
	}
	require.Equal(t, len(f.Vec), n)
	// Without a vocabulary, the hashed features are the same and no vectors are looked up.
	var g Features
	Extract("The soup wasn't good, but the bread was superb!", &g)
	require.Equal(t, f.Keys, g.Keys)
	require.Empty(t, g.Vec)
}

// TestWordVectorLayerMatters checks that the shipped weights use the
// word-vector layer: zeroing its output weights changes the stage-1 logits.
func TestWordVectorLayerMatters(t *testing.T) {
	m := Default()
	p := m.Params()
	require.Greater(t, p.Hidden, 0)
	off := p
	off.W2 = make([]float32, len(p.W2))
	m0, err := New(&off)
	require.NoError(t, err)
	text := "The acting was magnificent."
	require.NotEqual(t, m.Analyze(text).Logits, m0.Analyze(text).Logits)
}

func TestLoadRejectsOtherVectors(t *testing.T) {
	p := Default().Params()
	var buf bytes.Buffer
	require.NoError(t, p.Encode(&buf))
	small, err := wordvec.Build([]string{"good", "bad"}, [][]float32{{1, 0}, {0, 1}})
	require.NoError(t, err)
	_, err = Load(bytes.NewReader(buf.Bytes()), NewVocab(small))
	require.ErrorContains(t, err, "word vectors")
}
