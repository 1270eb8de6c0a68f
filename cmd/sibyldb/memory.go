package main

import (
	"fmt"
	"math"
	"runtime/debug"

	"github.com/dustin/go-humanize"
)

// applyMemoryLimit sets the Go runtime's soft memory limit from
// --memory-limit ("2GiB", "512MB", bytes) and returns the limit in force,
// 0 when there is none. Without the flag the runtime keeps what GOMEMLIMIT
// set. The limit makes the garbage collector work harder as the heap
// nears it, so memory left after a burst of writes goes back to the OS;
// Dolt's node cache (DOLT_NODE_CACHE_SIZE, 256 MiB by default) lives within it.
func applyMemoryLimit(flag string) (uint64, error) {
	if flag != "" {
		n, err := humanize.ParseBytes(flag)
		if err != nil {
			return 0, fmt.Errorf("%q is not a size such as 2GiB or 512MB", flag)
		}
		if n == 0 || n > math.MaxInt64 {
			return 0, fmt.Errorf("%q is not a positive size", flag)
		}
		debug.SetMemoryLimit(int64(n))
	}
	if cur := debug.SetMemoryLimit(-1); cur != math.MaxInt64 {
		return uint64(cur), nil
	}
	return 0, nil
}
