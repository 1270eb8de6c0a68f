package bulkload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/dolthub/go-mysql-server/sql/plan"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// recordReader reads LOAD DATA input field by field as MySQL's server
// does: a transliteration of sql_load.cc's READ_INFO (read_field,
// next_line, find_start_of_fields and terminator), so that quoted fields
// may hold line terminators and an escape may escape one. It is the
// engine path's reader; the bulk path splits whole lines with split,
// which FuzzSplitFields holds equal to this.
type recordReader struct {
	in    *bufio.Reader
	f     *format
	stack []byte // pushed-back bytes, the last pushed read first
	err   error  // a read error other than io.EOF

	eof         bool
	endOfLine   bool // the last field ended its line (found_end_of_line)
	startOfLine bool // LINES STARTING BY is still to be found
	// lineCut says the last next_line skipped data: the line had more
	// fields than were read.
	lineCut bool

	// The last field read: its bytes, whether it was enclosed (and
	// closed), and whether it contained \N.
	field     []byte
	enclosed  bool
	foundNull bool
}

const eofByte = -1

func newRecordReader(r io.Reader, f *format) *recordReader {
	return &recordReader{in: bufio.NewReaderSize(r, 1<<20), f: f, startOfLine: len(f.lineStart) > 0}
}

func (r *recordReader) get() int {
	if n := len(r.stack); n > 0 {
		c := r.stack[n-1]
		r.stack = r.stack[:n-1]
		return int(c)
	}
	c, err := r.in.ReadByte()
	if err != nil {
		if !errors.Is(err, io.EOF) && r.err == nil {
			r.err = err
		}
		return eofByte
	}
	return int(c)
}

func (r *recordReader) push(c int) {
	if c != eofByte {
		r.stack = append(r.stack, byte(c))
	}
}

// terminator, called after term[0] was read, reports whether the rest of
// term follows, consuming it only if so.
func (r *recordReader) terminator(term []byte) bool {
	for i := 1; i < len(term); i++ {
		if c := r.get(); c != int(term[i]) {
			r.push(c)
			for j := i - 1; j > 0; j-- {
				r.push(int(term[j]))
			}
			return false
		}
	}
	return true
}

func (r *recordReader) enclosure() int {
	if r.f.hasEnclose {
		return int(r.f.enclosed)
	}
	return -2
}

func (r *recordReader) escape() int {
	if r.f.hasEscape {
		return int(r.f.escaped)
	}
	return -2
}

// findStartOfFields skips to just after LINES STARTING BY; false at the
// end of the input.
func (r *recordReader) findStartOfFields() bool {
	start := r.f.lineStart
	for {
		c := r.get()
		for c != int(start[0]) {
			if c == eofByte {
				r.endOfLine, r.eof = true, true
				return false
			}
			c = r.get()
		}
		if r.terminator(start) {
			return true
		}
	}
}

// readField reads the next field of the current line into r.field; false
// when the line (or the input) has no more fields.
func (r *recordReader) readField() bool {
	r.foundNull = false
	if r.endOfLine {
		return false
	}
	if r.startOfLine {
		r.startOfLine = false
		if !r.findStartOfFields() {
			return false
		}
	}
	c := r.get()
	if c == eofByte {
		r.endOfLine, r.eof = true, true
		return false
	}
	enc, esc := r.enclosure(), r.escape()
	fieldTerm, lineTerm := r.f.fieldTerm, r.f.lineTerm
	to := r.field[:0]
	foundEnc := -2
	if c == enc {
		foundEnc = enc
		to = append(to, byte(c)) // kept if the field never closes
	} else {
		r.push(c)
	}
	done := func(enclosed, endOfLine bool) bool {
		r.enclosed, r.endOfLine = enclosed, endOfLine
		if enclosed {
			to = to[1:]
		}
		r.field = to
		return true
	}
	for {
		c = r.get()
		if c == eofByte {
			r.eof = true
			return done(false, true)
		}
		if c == esc {
			if c = r.get(); c == eofByte {
				to = append(to, byte(esc))
				r.eof = true
				return done(false, true)
			}
			if esc != enc || c == esc {
				var u byte
				u, r.foundNull = unescape(byte(c), r.foundNull)
				to = append(to, u)
				continue
			}
			r.push(c)
			c = esc
		}
		if c == int(lineTerm[0]) && foundEnc == -2 && r.terminator(lineTerm) {
			return done(false, true)
		}
		if c == foundEnc {
			if c = r.get(); c == foundEnc {
				to = append(to, byte(c))
				continue
			}
			if c == eofByte || (c == int(lineTerm[0]) && r.terminator(lineTerm)) {
				if c == eofByte {
					r.eof = true
				}
				return done(true, true)
			}
			if c == int(fieldTerm[0]) && r.terminator(fieldTerm) {
				return done(true, false)
			}
			r.push(c)
			c = foundEnc
		} else if c == int(fieldTerm[0]) && foundEnc == -2 && r.terminator(fieldTerm) {
			return done(false, false)
		}
		to = append(to, byte(c))
	}
}

// isNull applies MySQL's rule to the last field read: \N alone, or the
// bare word NULL when ENCLOSED BY is set.
func (r *recordReader) isNull() bool {
	return (len(r.field) == 1 && r.foundNull) ||
		(!r.enclosed && r.f.hasEnclose && string(r.field) == "NULL")
}

// nextLine moves past the rest of the current line (escapes honoured,
// enclosures not, as MySQL), setting lineCut if anything was left; false
// at the end of the input.
func (r *recordReader) nextLine() bool {
	r.lineCut = false
	r.startOfLine = len(r.f.lineStart) > 0
	if r.endOfLine || r.eof {
		r.endOfLine = false
		return !r.eof
	}
	esc, lineTerm := r.escape(), r.f.lineTerm
	for {
		c := r.get()
		switch {
		case c == eofByte:
			r.eof = true
			return false
		case c == esc:
			r.lineCut = true
			if r.get() == eofByte {
				r.eof = true
				return false
			}
		case c == int(lineTerm[0]) && r.terminator(lineTerm):
			return true
		default:
			r.lineCut = true
		}
	}
}

// SkipRecords reads past the first n records of r, as IGNORE n LINES does
// with the FIELDS and LINES options of load (a quoted field may hold line
// breaks), and returns the rest of r. LOAD DATA FROM S3 applies it to each
// object before joining them into one file.
func SkipRecords(r io.Reader, load *ast.Load, n int) (io.Reader, error) {
	ld := plan.NewLoadData(false, "", nil, nil, nil, 0, "")
	if f := load.Fields; f != nil {
		if f.TerminatedBy != nil && len(f.TerminatedBy.Val) > 0 {
			ld.FieldsTerminatedBy = string(f.TerminatedBy.Val)
		}
		if f.EnclosedBy != nil {
			ld.FieldsEnclosedBy = string(f.EnclosedBy.Delim.Val)
		}
		if f.EscapedBy != nil {
			ld.FieldsEscapedBy = string(f.EscapedBy.Val)
		}
	}
	if l := load.Lines; l != nil {
		if l.StartingBy != nil {
			ld.LinesStartingBy = string(l.StartingBy.Val)
		}
		if l.TerminatedBy != nil {
			ld.LinesTerminatedBy = string(l.TerminatedBy.Val)
		}
	}
	f, ok := formatOf(ld)
	if !ok {
		return nil, fmt.Errorf("IGNORE %d LINES: FIELDS and LINES TERMINATED BY must not be empty", n)
	}
	rr := newRecordReader(r, &f)
	for more := true; n > 0 && more; n-- {
		for rr.readField() {
		}
		more = rr.nextLine()
	}
	if rr.err != nil {
		return nil, rr.err
	}
	// What the reader holds back comes first: the pushed-back bytes, last
	// pushed first, then its buffer and the rest of r.
	back := slices.Clone(rr.stack)
	slices.Reverse(back)
	return io.MultiReader(bytes.NewReader(back), rr.in), nil
}
