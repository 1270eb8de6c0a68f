// Package vector holds SibylDB's vector primitives: the binary and text
// forms of VECTOR values (as MySQL 9 and MariaDB 11.8 write them), the
// distance metrics, an HNSW approximate-nearest-neighbour graph, and the
// local sentence-embedding model.
//
// The package has no SQL dependencies; internal/ml/vector/vecsql binds it
// to the engine (functions, the planner rule, the index cache).
package vector

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxDimensions is the largest VECTOR(n) MySQL and MariaDB accept.
const MaxDimensions = 16383

// ErrBinaryFormat reports a binary value whose length is not a multiple of
// four bytes (an IEEE-754 float32 per dimension).
var ErrBinaryFormat = errors.New("invalid binary vector format")

// Decode reads the binary form: little-endian float32s, 4 bytes each.
// It copies, so the result stays valid when buf is reused.
func Decode(buf []byte) ([]float32, error) {
	if len(buf)%4 != 0 {
		return nil, ErrBinaryFormat
	}
	out := make([]float32, len(buf)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
	}
	return out, nil
}

// Encode writes the binary form of v.
func Encode(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return out
}

// ParseError is a text vector that is not a JSON array of finite numbers.
// Offset is the byte offset of the first offending character, which
// MariaDB reports in its warning 4205.
type ParseError struct {
	Offset int
	Text   string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid vector format at offset %d", e.Offset)
}

// Parse reads the text form "[1, 2.5, -3e4]": a JSON array of numbers,
// with blanks allowed around elements. Numbers must be finite as float32
// (both servers refuse NaN and infinities, and JSON has no spelling for
// them anyway).
func Parse(s string) ([]float32, error) {
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	fail := func() ([]float32, error) { return nil, &ParseError{Offset: i, Text: s} }
	skip()
	if i >= len(s) || s[i] != '[' {
		return fail()
	}
	i++
	skip()
	out := []float32{}
	if i < len(s) && s[i] == ']' {
		i++
		skip()
		if i != len(s) {
			return fail()
		}
		return out, nil
	}
	for {
		skip()
		start := i
		for i < len(s) && strings.IndexByte("+-0123456789.eE", s[i]) >= 0 {
			i++
		}
		if start == i || !jsonNumber(s[start:i]) {
			i = start
			return fail()
		}
		f, err := strconv.ParseFloat(s[start:i], 64)
		if err != nil || math.IsInf(float64(float32(f)), 0) {
			i = start
			return fail()
		}
		out = append(out, float32(f))
		skip()
		if i >= len(s) {
			return fail()
		}
		if s[i] == ',' {
			i++
			continue
		}
		if s[i] != ']' {
			return fail()
		}
		i++
		skip()
		if i != len(s) {
			return fail()
		}
		return out, nil
	}
}

// jsonNumber reports whether n has JSON number syntax: -?int(.digits)?(e[+-]?digits)?
func jsonNumber(n string) bool {
	i := 0
	if i < len(n) && n[i] == '-' {
		i++
	}
	digits := func() int {
		s := i
		for i < len(n) && n[i] >= '0' && n[i] <= '9' {
			i++
		}
		return i - s
	}
	if i < len(n) && n[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(n) && n[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(n) && (n[i] == 'e' || n[i] == 'E') {
		i++
		if i < len(n) && (n[i] == '+' || n[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(n)
}

// FormatMySQL writes v as MySQL's VECTOR_TO_STRING does: each element in
// C's "%.5e" form, comma-separated, no blanks: [1.05000e+00,-1.78000e+01].
func FormatMySQL(v []float32) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, f := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(float64(f), 'e', 5, 64))
	}
	b.WriteByte(']')
	return b.String()
}

// FormatMariaDB writes v as MariaDB's VEC_ToText does: each element in
// fixed-point notation with at most FLT_DIG (6) decimals and no trailing
// zeros (String::append_float -> my_fcvt), Inf/-Inf/NaN spelled out:
// [0.418708,0.809902,1,0.033255].
func FormatMariaDB(v []float32) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, f := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		switch {
		case math.IsInf(float64(f), 1):
			b.WriteString("Inf")
		case math.IsInf(float64(f), -1):
			b.WriteString("-Inf")
		case math.IsNaN(float64(f)):
			b.WriteString("NaN")
		default:
			s := strconv.FormatFloat(float64(f), 'f', 6, 64)
			s = strings.TrimRight(s, "0")
			s = strings.TrimSuffix(s, ".")
			b.WriteString(s)
		}
	}
	b.WriteByte(']')
	return b.String()
}
