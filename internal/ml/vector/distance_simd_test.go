package vector

import (
	"math"
	"testing"
)

// TestGraphDistancesMatchReference: the graph's float32 distances (SIMD on
// amd64) equal the float64 reference up to float32 rounding, for lengths
// around every step of the vector loops (32, 8, 1 lanes) and with slices
// that do not start on an aligned address.
func TestGraphDistancesMatchReference(t *testing.T) {
	data := randomData(2, 300, 5)
	for n := 0; n <= 80; n++ {
		for _, off := range []int{0, 1, 3} {
			a, b := data[0][off:off+n], data[1][off:off+n]
			cases := []struct {
				name      string
				got, want float64
			}{
				{"dot", float64(dotf32(a, b)), DotProduct(a, b)},
				{"dotGeneric", float64(dotGeneric(a, b)), DotProduct(a, b)},
				{"sqL2", float64(sqL2f32(a, b)), SquaredL2(a, b)},
				{"sqL2Generic", float64(sqL2Generic(a, b)), SquaredL2(a, b)},
			}
			for _, c := range cases {
				if math.Abs(c.got-c.want) > 1e-4*(1+math.Abs(c.want)) {
					t.Errorf("%s n=%d off=%d: %v, want %v", c.name, n, off, c.got, c.want)
				}
			}
		}
	}
}

func BenchmarkDot100(b *testing.B) {
	x := randomData(2, 100, 3)
	var s float32
	for i := 0; i < b.N; i++ {
		s += dotf32(x[0], x[1])
	}
	_ = s
}
