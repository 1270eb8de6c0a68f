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

// TestSIFPoolingMatchesTrainer checks that inference, which pools the
// word-vector layer through the folded per-word table, computes the same
// logits as the trainer's definition: W2ᵀ·Activation(W1·Mean(vec, SIF) + B1),
// for the plain mean (SIF 0, format-2 models) and the SIF-weighted one.
func TestSIFPoolingMatchesTrainer(t *testing.T) {
	base := Default().Params()
	voc := Default().Vocab()
	texts := []string{
		"The soup wasn't good, but the bread was superb!",
		"the the the movie",
		"an utterly forgettable , if not quite unwatchable , piece of work .",
	}
	for _, sif := range []float32{0, 100} {
		p := base
		p.SIF = sif
		p.W = make([]int8, len(base.W)) // hashed part off: logits = bias + dense + layer
		p.Dense = [NumDense][NumClasses]float32{}
		p.Bias = [NumClasses]float32{}
		m, err := New(&p)
		require.NoError(t, err)
		for _, text := range texts {
			var f Features
			voc.Extract(text, &f)
			x := make([]float32, 2*p.VecDim)
			voc.Mean(f.Vec, x, sif)
			var want [NumClasses]float64
			for j := 0; j < p.Hidden; j++ {
				a := float64(p.B1[j])
				for k, v := range x {
					a += float64(p.W1[j*2*p.VecDim+k]) * float64(v)
				}
				h := Activation(a)
				for c := range want {
					want[c] += h * float64(p.W2[j*NumClasses+c])
				}
			}
			got := m.Analyze(text).Logits
			for c := range want {
				require.InDelta(t, want[c], got[c], 1e-4, "sif %v %q class %d", sif, text, c)
			}
		}
	}
	require.Equal(t, float32(1), SIFWeight(0, 0))
	require.InDelta(t, 1.0/101, SIFWeight(0, 100), 1e-7, "the most frequent word counts little")
	require.InDelta(t, 0.99, SIFWeight(9899, 100), 1e-6, "a rank-9,900 word almost fully")
}

// TestSIFFormatRoundTrip checks that a model with SIF pooling is written in
// format 3 and loads back with the same constant and the same answers, while
// a model without it keeps the format-2 bytes (the embedded file).
func TestSIFFormatRoundTrip(t *testing.T) {
	p := Default().Params()
	require.Zero(t, p.SIF)
	p.SIF = 100
	var buf bytes.Buffer
	require.NoError(t, p.Encode(&buf))
	m, err := Load(bytes.NewReader(buf.Bytes()), nil)
	require.NoError(t, err)
	require.Equal(t, float32(100), m.Params().SIF)
	want, err := New(&p)
	require.NoError(t, err)
	text := "The soup wasn't good, but the bread was superb!"
	require.Equal(t, want.Analyze(text), m.Analyze(text))
	require.NotEqual(t, Default().Analyze(text).Logits, m.Analyze(text).Logits, "SIF changes the pooled vector")

	p.SIF = -1
	require.Error(t, p.Encode(&bytes.Buffer{}), "a negative SIF constant is rejected")
}
