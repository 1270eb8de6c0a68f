// Package textspan holds what the text detectors share about positions in
// text: they scan bytes, but Comprehend's offsets count characters, and
// they match case-insensitively without moving any byte.
package textspan

import "unicode/utf8"

// Offsets maps byte offsets in a string to code point offsets. Calls with
// increasing offsets cost the distance moved; a smaller offset restarts
// from the beginning.
type Offsets struct {
	s            string
	ascii        bool
	lastB, lastR int
}

// NewOffsets prepares the mapping for s; pure ASCII maps one to one.
func NewOffsets(s string) *Offsets {
	o := &Offsets{s: s, ascii: true}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			o.ascii = false
			break
		}
	}
	return o
}

// Rune is the code point offset of byte offset b (invalid UTF-8 counts one
// character per byte, as utf8.RuneCountInString does).
func (o *Offsets) Rune(b int) int {
	if o.ascii {
		return b
	}
	if b < o.lastB {
		o.lastB, o.lastR = 0, 0
	}
	o.lastR += utf8.RuneCountInString(o.s[o.lastB:b])
	o.lastB = b
	return o.lastR
}

// ASCIILower lowercases ASCII letters only, so byte offsets into the result
// are offsets into s.
func ASCIILower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 32
				}
			}
			return string(b)
		}
	}
	return s
}
