package vector

import (
	"errors"
	"math"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in     string
		want   []float32
		offset int // -1: valid
	}{
		{"[1,2,3]", []float32{1, 2, 3}, -1},
		{" [ 1.05 , -17.8,32 ] ", []float32{1.05, -17.8, 32}, -1},
		{"[1e-3,2E+2]", []float32{0.001, 200}, -1},
		{"[]", []float32{}, -1},
		{"[1,2,x]", nil, 5},
		{"[1,", nil, 3},
		{"{\"a\":1}", nil, 0},
		{"[01]", nil, 1},
		{"[1.]", nil, 1},
		{"[1e39]", nil, 1},
		{"[NaN]", nil, 1},
		{"[1] x", nil, 4},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if c.offset < 0 {
			if err != nil || len(got) != len(c.want) {
				t.Fatalf("Parse(%q) = %v, %v", c.in, got, err)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("Parse(%q)[%d] = %v, want %v", c.in, i, got[i], c.want[i])
				}
			}
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Offset != c.offset {
			t.Errorf("Parse(%q) error %v, want offset %d", c.in, err, c.offset)
		}
	}
}

func TestFormatAndDistances(t *testing.T) {
	v := []float32{1.05, -17.8, 32}
	if got := FormatMySQL(v); got != "[1.05000e+00,-1.78000e+01,3.20000e+01]" {
		t.Errorf("FormatMySQL = %s", got)
	}
	w, _ := Decode([]byte{0xe3, 0x60, 0xd6, 0x3e, 0xbe, 0x55, 0x4f, 0x3f, 0xcd, 0xbc, 0x52, 0x3f, 0x45, 0x22, 0x19, 0x3f, 0x52, 0x36, 0x08, 0x3d})
	if got := FormatMariaDB(w); got != "[0.418708,0.809902,0.823193,0.598179,0.033255]" {
		t.Errorf("FormatMariaDB = %s", got)
	}
	if got := FormatMariaDB([]float32{float32(math.Inf(1)), 1, 0.5}); got != "[Inf,1,0.5]" {
		t.Errorf("FormatMariaDB = %s", got)
	}
	if d := EuclideanDistance([]float32{0, 0}, []float32{3, 4}); d != 5 {
		t.Errorf("euclidean = %v", d)
	}
	if d := CosineDistance([]float32{1, 0}, []float32{0, 1}); d != 1 {
		t.Errorf("cosine = %v", d)
	}
	if d := MySQLDistance(Cosine, []float32{1.01231, 2.0123123, 3.0123123, 4.01231231}, []float32{1, 2, 3, 4}); d != 0.0000016689300537109375 {
		t.Errorf("MySQL cosine = %.22f", d)
	}
	if _, err := Decode([]byte{1, 2, 3}); !errors.Is(err, ErrBinaryFormat) {
		t.Errorf("Decode of 3 bytes: %v", err)
	}
}
