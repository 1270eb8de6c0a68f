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
// Features.Vec) into out (len 2*Dim): the sum of the vectors of tokens
// outside a negation scope, then of those inside one, both divided by the
// number of tokens with a vector. The trainer uses it; inference computes the
// same quantity through a projected table.
func (v *Vocab) Mean(vec []int32, out []float32) {
	d := v.vecs.Dim()
	for k := range out {
		out[k] = 0
	}
	if len(vec) == 0 {
		return
	}
	buf := make([]float32, d)
	for _, i := range vec {
		off := 0
		if i < 0 {
			i, off = -i-1, d
		}
		v.vecs.Vector(int(i), buf)
		for k, x := range buf {
			out[off+k] += x
		}
	}
	inv := float32(1 / float64(len(vec)))
	for k := range out {
		out[k] *= inv
	}
}

// project returns the table T[i*2H + j] = sum_k W1[j][k] v_i[k] and
// T[i*2H + H + j] = sum_k W1[j][D+k] v_i[k]: the hidden-layer
// pre-activation contributed by word i outside / inside a negation scope,
// so that inference adds H numbers per token instead of D.
func (v *Vocab) project(w1 []float32, hidden int) []float32 {
	d := v.vecs.Dim()
	n := v.vecs.Len()
	t := make([]float32, n*2*hidden)
	buf := make([]float32, d)
	for i := 0; i < n; i++ {
		v.vecs.Vector(i, buf)
		row := t[i*2*hidden : (i+1)*2*hidden]
		for j := 0; j < hidden; j++ {
			wp := w1[j*2*d : j*2*d+d]
			wn := w1[j*2*d+d : (j+1)*2*d]
			var sp, sn float64
			for k, x := range buf {
				sp += float64(wp[k]) * float64(x)
				sn += float64(wn[k]) * float64(x)
			}
			row[j] = float32(sp)
			row[hidden+j] = float32(sn)
		}
	}
	return t
}

// Activation is the hidden layer's non-linearity, softsign x/(1+|x|): as
// smooth and bounded as tanh but without an exponential, which would cost a
// third of Detect's time. Its derivative, in terms of its value h, is
// (1-|h|)^2.
func Activation(x float64) float64 { return x / (1 + math.Abs(x)) }
