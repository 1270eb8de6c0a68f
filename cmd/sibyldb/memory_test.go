package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestApplyMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	for _, tc := range []struct {
		flag    string
		want    uint64
		wantErr string
	}{
		{"2GiB", 2 << 30, ""},
		{"512MB", 512_000_000, ""},
		{"1048576", 1 << 20, ""},
		{"lots", 0, "lots"},
		{"0", 0, "not a positive size"},
	} {
		got, err := applyMemoryLimit(tc.flag)
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, tc.flag)
			continue
		}
		require.NoError(t, err, tc.flag)
		require.Equal(t, tc.want, got, tc.flag)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	got, err := applyMemoryLimit("")
	require.NoError(t, err)
	require.Zero(t, got, "no limit without the flag or GOMEMLIMIT")
}
