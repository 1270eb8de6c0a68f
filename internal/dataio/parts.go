package dataio

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"

	"github.com/sibyldb/sibyldb/internal/objstore"
)

// PartName is the key of part i of an export to prefix, as Aurora names
// them.
func PartName(prefix string, i int) string { return fmt.Sprintf("%s.part_%05d", prefix, i) }

// ManifestName is the key of the manifest of an export to prefix.
func ManifestName(prefix string) string { return prefix + ".manifest" }

var partRE = regexp.MustCompile(`\.part_[0-9]{5,}$`)

// IsOutput reports whether key is a part or the manifest of an export to
// prefix (what OVERWRITE OFF refuses to replace).
func IsOutput(prefix, key string) bool {
	if key == ManifestName(prefix) {
		return true
	}
	return len(key) > len(prefix) && key[:len(prefix)] == prefix && partRE.MatchString(key[len(prefix):]) && key[len(prefix)] == '.'
}

// PartWriter writes whole lines into parts of at most MaxSize bytes (a
// part holds at least one line, so a line longer than MaxSize makes an
// oversized part; a line is never split). Each part begins with Header.
type PartWriter struct {
	// Create opens the writer of part i.
	Create func(i int) (objstore.Writer, error)
	// MaxSize is the part size threshold in bytes.
	MaxSize int64
	// Header starts every part (CSV/TEXT HEADER), so each part is a
	// complete file on its own.
	Header []byte

	cur     objstore.Writer
	buf     *bufio.Writer
	size    int64
	parts   int
	written int64
}

// Write writes one or more complete lines.
func (p *PartWriter) Write(lines []byte) error {
	if p.cur != nil && p.size > int64(len(p.Header)) && p.size+int64(len(lines)) > p.MaxSize {
		if err := p.closePart(); err != nil {
			return err
		}
	}
	if p.cur == nil {
		if err := p.open(); err != nil {
			return err
		}
	}
	n, err := p.buf.Write(lines)
	p.size += int64(n)
	p.written += int64(n)
	return err
}

func (p *PartWriter) open() error {
	w, err := p.Create(p.parts)
	if err != nil {
		return err
	}
	p.cur, p.size = w, 0
	p.parts++
	if p.buf == nil {
		p.buf = bufio.NewWriterSize(w, 1<<20)
	} else {
		p.buf.Reset(w)
	}
	n, err := p.buf.Write(p.Header)
	p.size += int64(n)
	return err
}

func (p *PartWriter) closePart() error {
	err := p.buf.Flush()
	if err != nil {
		p.cur.Abort()
	} else {
		err = p.cur.Close()
	}
	p.cur = nil
	return err
}

// Close completes the last part and returns how many parts were written.
// An export of no rows still writes one (header-only or empty) part, so
// the manifest always lists something to load.
func (p *PartWriter) Close() (int, error) {
	if p.cur == nil && p.parts == 0 {
		if err := p.open(); err != nil {
			return 0, err
		}
	}
	if p.cur != nil {
		if err := p.closePart(); err != nil {
			return p.parts, err
		}
	}
	return p.parts, nil
}

// Abort discards the part being written. Completed parts stay: the
// missing manifest tells readers the export is incomplete.
func (p *PartWriter) Abort() {
	if p.cur != nil {
		p.cur.Abort()
		p.cur = nil
	}
}

// Bytes is how many bytes were written so far.
func (p *PartWriter) Bytes() int64 { return p.written }

// Manifest is Aurora MySQL's manifest: written by SELECT INTO OUTFILE S3
// ... MANIFEST ON, read by LOAD DATA FROM S3 MANIFEST.
type Manifest struct {
	Entries []ManifestEntry `json:"entries"`
}

// ManifestEntry is one file. Mandatory is only read: a missing mandatory
// file fails the load, a missing optional one is skipped with a warning.
type ManifestEntry struct {
	URL       string `json:"url"`
	Mandatory bool   `json:"mandatory,omitempty"`
}

// ReadManifest parses a manifest.
func ReadManifest(r io.Reader) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("invalid manifest: %w", err)
	}
	for i, e := range m.Entries {
		if e.URL == "" {
			return m, fmt.Errorf("invalid manifest: entry %d has no url", i)
		}
	}
	return m, nil
}

// Marshal writes the manifest as Aurora does.
func (m Manifest) Marshal() []byte {
	b, _ := json.MarshalIndent(m, "", "  ")
	return append(b, '\n')
}
