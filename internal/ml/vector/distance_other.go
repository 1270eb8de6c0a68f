//go:build !amd64 || purego

package vector

func dotf32(a, b []float32) float32 { return dotGeneric(a, b) }

func sqL2f32(a, b []float32) float32 { return sqL2Generic(a, b) }
