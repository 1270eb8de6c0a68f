package vector

import (
	"fmt"
	"math"
	"strings"
)

// Metric is a distance between two vectors of the same length; smaller is
// nearer. Index graphs and the SQL functions share these definitions, so a
// search through the index orders rows exactly as the function does.
type Metric int

const (
	// Euclidean is the L2 distance sqrt(sum (a_i-b_i)^2), MariaDB's
	// VEC_DISTANCE_EUCLIDEAN and MySQL's DISTANCE(...,'EUCLIDEAN').
	Euclidean Metric = iota
	// Cosine is 1 - a.b/(|a||b|), MariaDB's VEC_DISTANCE_COSINE.
	Cosine
	// Dot is the dot product, MySQL's DISTANCE(...,'DOT').
	Dot
)

// String is the metric's name as MariaDB's DISTANCE= index option spells it.
func (m Metric) String() string {
	switch m {
	case Cosine:
		return "cosine"
	case Dot:
		return "dot"
	default:
		return "euclidean"
	}
}

// ParseMetric reads a metric name, case-insensitively.
func ParseMetric(s string) (Metric, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "euclidean":
		return Euclidean, nil
	case "cosine":
		return Cosine, nil
	case "dot":
		return Dot, nil
	}
	return 0, fmt.Errorf("unknown distance %q", s)
}

// Distance is m between a and b, which must have the same length.
func (m Metric) Distance(a, b []float32) float64 {
	switch m {
	case Cosine:
		return CosineDistance(a, b)
	case Dot:
		return DotProduct(a, b)
	default:
		return EuclideanDistance(a, b)
	}
}

// EuclideanDistance is the L2 distance, accumulated in float64 as MariaDB
// does (float32 differences, double sum).
func EuclideanDistance(a, b []float32) float64 {
	return math.Sqrt(SquaredL2(a, b))
}

// SquaredL2 is the squared L2 distance.
func SquaredL2(a, b []float32) float64 {
	var s float64
	for i, x := range a {
		d := x - b[i]
		s += float64(d * d)
	}
	return s
}

// DotProduct is a.b accumulated in float64.
func DotProduct(a, b []float32) float64 {
	var s float64
	for i, x := range a {
		s += float64(x) * float64(b[i])
	}
	return s
}

// CosineDistance is 1 - cos(a, b). A zero vector has no direction: the
// result is NaN, which the SQL layer turns into NULL.
func CosineDistance(a, b []float32) float64 {
	var dot, na, nb float64
	for i, x := range a {
		y := float64(b[i])
		dot += float64(x) * y
		na += float64(x) * float64(x)
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return math.NaN()
	}
	c := dot / math.Sqrt(na*nb)
	if c > 1 {
		c = 1
	} else if c < -1 {
		c = -1
	}
	return 1 - c
}

// Normalize scales v to unit length in place and returns it; a zero vector
// is left as it is.
func Normalize(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return v
	}
	inv := 1 / math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return v
}

// MySQLDistance is DISTANCE(a, b, metric) as MySQL HeatWave computes it:
// in float32 throughout, so that its documented results are reproduced to
// the last bit (DISTANCE('[1.01231, 2.0123123, 3.0123123, 4.01231231]',
// '[1,2,3,4]', 'COSINE') = 0.0000016689300537109375).
func MySQLDistance(m Metric, a, b []float32) float64 {
	switch m {
	case Cosine:
		var d, x, y float32
		for i, p := range a {
			d += p * b[i]
			x += p * p
			y += b[i] * b[i]
		}
		if x == 0 || y == 0 {
			return math.NaN()
		}
		return 1 - float64(d/(float32(math.Sqrt(float64(x)))*float32(math.Sqrt(float64(y)))))
	case Dot:
		var d float32
		for i, p := range a {
			d += p * b[i]
		}
		return float64(d)
	default:
		var s float32
		for i, p := range a {
			q := p - b[i]
			s += q * q
		}
		return float64(float32(math.Sqrt(float64(s))))
	}
}
