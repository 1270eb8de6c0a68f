package bulkload

import (
	"bytes"

	"github.com/dolthub/go-mysql-server/sql/plan"
)

// format is LOAD DATA's FIELDS and LINES options, as the engine resolved
// them (its defaults included).
type format struct {
	fieldTerm  []byte
	enclosed   byte // 0: none
	escaped    byte // 0: none
	lineStart  []byte
	lineTerm   []byte
	encIsEsc   bool
	hasEnclose bool
	hasEscape  bool
	// special marks the bytes the field loop must look at (the first
	// byte of FIELDS TERMINATED BY, the enclosure and the escape); runs of
	// other bytes are copied at once.
	special [256]bool
}

func formatOf(ld *plan.LoadData) (format, bool) {
	f := format{
		fieldTerm: []byte(ld.FieldsTerminatedBy),
		lineStart: []byte(ld.LinesStartingBy),
		lineTerm:  []byte(ld.LinesTerminatedBy),
	}
	if len(f.fieldTerm) == 0 || len(f.lineTerm) == 0 || len(ld.FieldsEnclosedBy) > 1 || len(ld.FieldsEscapedBy) > 1 {
		return f, false
	}
	if ld.FieldsEnclosedBy != "" {
		f.enclosed, f.hasEnclose = ld.FieldsEnclosedBy[0], true
	}
	if ld.FieldsEscapedBy != "" {
		f.escaped, f.hasEscape = ld.FieldsEscapedBy[0], true
	}
	f.encIsEsc = f.hasEnclose && f.hasEscape && f.enclosed == f.escaped
	f.special[f.fieldTerm[0]] = true
	if f.hasEnclose {
		f.special[f.enclosed] = true
	}
	if f.hasEscape {
		f.special[f.escaped] = true
	}
	return f, true
}

// lineWise reports whether records can be found line by line, as the
// bulk path does: no byte of LINES TERMINATED BY may occur in the other
// options, or MySQL's byte-by-byte reading can see a terminator, prefix or
// enclosure where the line cut does not (say, LINES STARTING BY 'x' and
// TERMINATED BY 'xx').
func (f *format) lineWise() bool {
	for _, b := range f.lineTerm {
		if bytes.IndexByte(f.fieldTerm, b) >= 0 || bytes.IndexByte(f.lineStart, b) >= 0 ||
			(f.hasEnclose && f.enclosed == b) || (f.hasEscape && f.escaped == b) {
			return false
		}
	}
	return true
}

// nextLine returns the first line of data and the rest, cut after the
// next LINES TERMINATED BY, quotes notwithstanding, the terminator kept
// (split then says whether the line is a whole record). atEOF says
// data is the end of the input; otherwise a line without a terminator is
// not returned (ok false) because more of it may follow.
func (f *format) nextLine(data []byte, atEOF bool) (line, rest []byte, ok bool) {
	if len(data) == 0 {
		return nil, nil, false
	}
	if i := bytes.Index(data, f.lineTerm); i >= 0 {
		n := i + len(f.lineTerm)
		return data[:n], data[n:], true
	}
	if atEOF {
		return data, nil, true
	}
	return nil, data, false
}

// lineKind says what split made of a line.
type lineKind int

const (
	// lineRecord: the line is one whole record.
	lineRecord lineKind = iota
	// lineSkipped: the line lacks LINES STARTING BY's prefix.
	lineSkipped
	// lineContinues: the record goes on past the line terminator (an
	// enclosed field holds it, or ESCAPED BY escapes it), which the bulk
	// path's line-by-line chunking cannot follow.
	lineContinues
)

// split cuts one line (as nextLine returned it) into fields by MySQL's
// rules (sql_load.cc READ_INFO::read_field, which recordReader follows
// byte by byte; FuzzSplitFields holds the two equal): LINES STARTING BY
// skips to the prefix; a field that starts with ENCLOSED BY ends at the
// enclosure followed by FIELDS or LINES TERMINATED BY, a doubled enclosure
// inside being one; ESCAPED BY introduces \0, \b, \n, \r, \t, \Z, and
// any other byte stands for itself. A field is NULL (nulls[i]) when it is
// \N alone, or the bare word NULL when ENCLOSED BY is set.
//
// The fields are valid until the next call: they share the splitter's
// buffer.
func (s *splitter) split(line []byte) (fields [][]byte, nulls []bool, kind lineKind) {
	f := s.f
	if len(f.lineStart) > 0 {
		i := bytes.Index(line, f.lineStart)
		if i < 0 {
			return nil, nil, lineSkipped
		}
		line = line[i+len(f.lineStart):]
	}
	hasTerm := bytes.HasSuffix(line, f.lineTerm)
	if hasTerm {
		line = line[:len(line)-len(f.lineTerm)]
	} else if len(line) == 0 {
		return nil, nil, lineSkipped // the input ends right after the prefix
	}
	term := f.fieldTerm
	// Field boundaries are recorded as offsets into buf and sliced at the
	// end, because appending to buf may move it.
	buf, starts, ends, nulls := s.buf[:0], s.starts[:0], s.ends[:0], s.nulls[:0]
	i := 0
	for {
		start := len(buf)
		enclosed := f.hasEnclose && i < len(line) && line[i] == f.enclosed
		if enclosed {
			buf = append(buf, f.enclosed) // kept if the field never closes
			i++
		}
		foundNull, closed, more := false, false, false
	field:
		for i < len(line) {
			ch := line[i]
			if !f.special[ch] {
				j := i + 1
				for j < len(line) && !f.special[line[j]] {
					j++
				}
				buf = append(buf, line[i:j]...)
				i = j
				continue
			}
			if f.hasEscape && ch == f.escaped {
				if i+1 == len(line) {
					if hasTerm {
						return nil, nil, lineContinues // it escapes the line terminator
					}
					buf = append(buf, ch)
					i++
					break
				}
				if next := line[i+1]; !f.encIsEsc || next == f.escaped {
					var u byte
					u, foundNull = unescape(next, foundNull)
					buf = append(buf, u)
					i += 2
					continue
				}
				// ESCAPED BY equals ENCLOSED BY and escapes nothing here:
				// it is the enclosure.
			}
			switch {
			case enclosed && ch == f.enclosed:
				switch {
				case i+1 < len(line) && line[i+1] == f.enclosed:
					buf = append(buf, ch)
					i += 2
				case i+1 == len(line):
					closed, i = true, i+1
					break field
				case bytes.HasPrefix(line[i+1:], term):
					closed, more, i = true, true, i+1+len(term)
					break field
				default:
					buf = append(buf, ch)
					i++
				}
			case !enclosed && ch == term[0] && bytes.HasPrefix(line[i:], term):
				more, i = true, i+len(term)
				break field
			default:
				buf = append(buf, ch)
				i++
			}
		}
		if enclosed && !closed && hasTerm {
			return nil, nil, lineContinues // the enclosed field holds the line terminator
		}
		if closed {
			start++ // drop the opening enclosure
		}
		starts, ends = append(starts, start), append(ends, len(buf))
		n := len(buf) - start
		nulls = append(nulls, (n == 1 && foundNull) ||
			(!closed && f.hasEnclose && n == 4 && string(buf[start:]) == "NULL"))
		// At the end of the input MySQL reads no field after a last
		// FIELDS TERMINATED BY; before a line terminator, an empty one.
		if !more || (i == len(line) && !hasTerm) {
			break
		}
	}
	fields = s.fields[:0]
	for k := range starts {
		fields = append(fields, buf[starts[k]:ends[k]:ends[k]])
	}
	s.buf, s.starts, s.ends, s.fields, s.nulls = buf, starts, ends, fields, nulls
	return fields, nulls, lineRecord
}

// unescape is what ESCAPED BY followed by c stands for; \N also marks
// the field as possibly NULL (it is NULL when it is \N alone).
func unescape(c byte, foundNull bool) (byte, bool) {
	switch c {
	case '0':
		return 0, foundNull
	case 'b':
		return '\b', foundNull
	case 'n':
		return '\n', foundNull
	case 'r':
		return '\r', foundNull
	case 't':
		return '\t', foundNull
	case 'Z':
		return 26, foundNull
	case 'N':
		return 'N', true
	}
	return c, foundNull
}

// splitter holds one worker's scratch space for splitting lines.
type splitter struct {
	f      *format
	buf    []byte
	starts []int
	ends   []int
	fields [][]byte
	nulls  []bool
}
