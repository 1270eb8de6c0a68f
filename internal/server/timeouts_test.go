package server

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFramerIdle: the connection is idle (wait_timeout) only between whole
// packets, fed in any split, and follows TLS records after an SSL request.
func TestFramerIdle(t *testing.T) {
	packet := func(payload int) []byte {
		b := []byte{byte(payload), byte(payload >> 8), byte(payload >> 16), 0}
		return append(b, make([]byte, payload)...)
	}
	cases := []struct {
		name   string
		chunks [][]byte
		idle   []bool // after each chunk
	}{
		{"handshake then command", [][]byte{packet(60), packet(5)}, []bool{true, true}},
		{"before the handshake response", [][]byte{packet(60)[:10]}, []bool{false}},
		{"split header", [][]byte{packet(60), packet(5)[:2], packet(5)[2:]}, []bool{true, false, true}},
		{"split payload", [][]byte{packet(60), packet(300)[:100], packet(300)[100:]}, []bool{true, false, true}},
		{"two packets in one read", [][]byte{append(packet(60), packet(7)...)}, []bool{true}},
		{"empty packet", [][]byte{packet(60), packet(0)}, []bool{true, true}},
		{"TLS after SSL request", [][]byte{packet(sslRequestLength), {0x16, 3, 1, 0, 4}, {1, 2, 3, 4}}, []bool{true, false, true}},
	}
	for _, c := range cases {
		var f framer
		for i, chunk := range c.chunks {
			f.feed(chunk)
			require.Equal(t, c.idle[i], f.idle(), "%s: after chunk %d", c.name, i)
		}
	}
}
