package sentiment

import (
	"math"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment/wordvec"
)

// Vocab maps featuriser tokens to pretrained word vectors (package wordvec).
// It is immutable and safe for concurrent use.
type Vocab struct {
	vecs *wordvec.Vectors
	idx  map[uint64]int32 // token hash (as the featuriser hashes it) -> word index
}

// NewVocab indexes v by the featuriser's token hash.
func NewVocab(v *wordvec.Vectors) *Vocab {
	voc := &Vocab{vecs: v, idx: make(map[uint64]int32, v.Len())}
	for i := 0; i < v.Len(); i++ {
		h := hashString(v.Word(i))
		if _, dup := voc.idx[h]; !dup {
			voc.idx[h] = int32(i)
		}
	}
	return voc
}

// Vectors returns the underlying word vectors.
func (v *Vocab) Vectors() *wordvec.Vectors { return v.vecs }

// Mean writes the embedding features of the tokens vec (as in
// Features.Vec) into out (len 2*Dim): the weighted sum of the vectors of
// tokens outside a negation scope, then of those inside one, both divided by
// the summed weight of all tokens with a vector. Word i (0-based frequency
// rank) weighs SIFWeight(i, sif): with sif = 0 every word weighs 1 (the plain
// mean). The trainer uses it; inference computes the same quantity through a
// projected table.
func (v *Vocab) Mean(vec []int32, out []float32, sif float32) {
	d := v.vecs.Dim()
	for k := range out {
		out[k] = 0
	}
	if len(vec) == 0 {
		return
	}
	buf := make([]float32, d)
	var sw float64
	for _, i := range vec {
		off := 0
		if i < 0 {
			i, off = -i-1, d
		}
		w := SIFWeight(int(i), sif)
		sw += float64(w)
		v.vecs.Vector(int(i), buf)
		for k, x := range buf {
			out[off+k] += w * x
		}
	}
	inv := float32(1 / sw)
	for k := range out {
		out[k] *= inv
	}
}

// SIFWeight is the weight of word i (0-based rank in the frequency-ordered
// vector list) in the pooled word vector: (i+1)/(i+1+sif), the smooth inverse
// frequency weight a/(a+p(w)) of Arora et al. under Zipf's law p(w) ∝ 1/rank,
// so that the most frequent words ("the", "a", "is") count little and
// content words almost fully. sif = 0 weighs every word 1.
func SIFWeight(i int, sif float32) float32 {
	if sif <= 0 {
		return 1
	}
	r := float32(i + 1)
	return r / (r + sif)
}

// project returns the table, 2*hidden+1 numbers per word i:
// T[i*(2H+1) + j] = w_i sum_k W1[j][k] v_i[k] and T[i*(2H+1) + H + j] =
// w_i sum_k W1[j][D+k] v_i[k], the hidden-layer pre-activation contributed by
// word i outside / inside a negation scope, then T[i*(2H+1) + 2H] = w_i, its
// SIF weight (the normaliser), so that inference adds H+1 numbers per token
// instead of D, all from one cache line or two.
func (v *Vocab) project(w1 []float32, hidden int, sif float32) []float32 {
	d := v.vecs.Dim()
	n := v.vecs.Len()
	stride := 2*hidden + 1
	t := make([]float32, n*stride)
	buf := make([]float32, d)
	for i := 0; i < n; i++ {
		v.vecs.Vector(i, buf)
		w := float64(SIFWeight(i, sif))
		row := t[i*stride : (i+1)*stride]
		for j := 0; j < hidden; j++ {
			wp := w1[j*2*d : j*2*d+d]
			wn := w1[j*2*d+d : (j+1)*2*d]
			var sp, sn float64
			for k, x := range buf {
				sp += float64(wp[k]) * float64(x)
				sn += float64(wn[k]) * float64(x)
			}
			row[j] = float32(w * sp)
			row[hidden+j] = float32(w * sn)
		}
		row[2*hidden] = float32(w)
	}
	return t
}

// Activation is the hidden layer's non-linearity, softsign x/(1+|x|): as
// smooth and bounded as tanh but without an exponential, which would cost a
// third of Detect's time. Its derivative, in terms of its value h, is
// (1-|h|)^2.
func Activation(x float64) float64 { return x / (1 + math.Abs(x)) }
