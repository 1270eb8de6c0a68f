//go:build amd64 && !purego

package vector

import "golang.org/x/sys/cpu"

// The graph's distances are SIMD on amd64 with AVX2 and FMA (eight float32
// lanes per instruction, as hnswlib's), in Go assembly: the Go compiler
// does not vectorise loops, and the search spends most of its time here.
// gonum, already a dependency, has float32 dot products in assembly, but
// SSE (four lanes) and only behind its BLAS interface; it has no squared
// L2 distance.
var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func sqL2AVX2(a, b *float32, n int) float32

func dotf32(a, b []float32) float32 {
	if haveAVX2 && len(a) > 0 {
		_ = b[len(a)-1]
		return dotAVX2(&a[0], &b[0], len(a))
	}
	return dotGeneric(a, b)
}

func sqL2f32(a, b []float32) float32 {
	if haveAVX2 && len(a) > 0 {
		_ = b[len(a)-1]
		return sqL2AVX2(&a[0], &b[0], len(a))
	}
	return sqL2Generic(a, b)
}
