package wordvec

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultShape(t *testing.T) {
	v := Default()
	require.Equal(t, 100, v.Dim())
	require.GreaterOrEqual(t, v.Len(), 50000)
	require.Equal(t, "the", v.Word(0), "frequency order")
	// Neighbourhood sanity: "good" is closer to "great" than to "terrible"
	// is to "great", and quantisation kept the vectors non-zero.
	idx := map[string]int{}
	for i := 0; i < v.Len(); i++ {
		idx[v.Word(i)] = i
	}
	vec := func(w string) []float32 {
		i, ok := idx[w]
		require.True(t, ok, w)
		out := make([]float32, v.Dim())
		v.Vector(i, out)
		return out
	}
	cos := func(a, b []float32) float64 {
		var ab, aa, bb float64
		for k := range a {
			ab += float64(a[k] * b[k])
			aa += float64(a[k] * a[k])
			bb += float64(b[k] * b[k])
		}
		return ab / math.Sqrt(aa*bb)
	}
	require.Greater(t, cos(vec("excellent"), vec("superb")), cos(vec("excellent"), vec("tuesday")))
}

func TestRoundTripAndCorruption(t *testing.T) {
	v, err := Build([]string{"good", "bad", "'s"}, [][]float32{{1, -0.5, 0}, {-2, 0.25, 1}, {0, 0, 0}})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, v.Encode(&buf))
	var again bytes.Buffer
	require.NoError(t, v.Encode(&again))
	require.Equal(t, buf.Bytes(), again.Bytes(), "deterministic bytes")
	w, err := Load(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	require.Equal(t, v, w)
	out := make([]float32, 3)
	w.Vector(1, out)
	require.InDeltaSlice(t, []float32{-2, 0.25, 1}, out, 2.0/127)

	zr, err := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	for off := 0; off < len(raw); off++ {
		bad := append([]byte(nil), raw...)
		bad[off] ^= 0x41
		_, err := Load(bytes.NewReader(gz(bad)))
		require.Error(t, err, "flipped byte %d", off)
	}
	for n := 0; n < len(raw); n++ {
		_, err := Load(bytes.NewReader(gz(raw[:n])))
		require.Error(t, err, "truncated at %d", n)
	}
	_, err = Load(bytes.NewReader(buf.Bytes()[:buf.Len()/2]))
	require.Error(t, err)

	_, err = Build([]string{"x"}, [][]float32{{float32(math.NaN())}})
	require.Error(t, err)
	_, err = Build([]string{"x", "y"}, [][]float32{{1, 2}, {1}})
	require.Error(t, err)
}
