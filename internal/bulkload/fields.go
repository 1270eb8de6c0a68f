package bulkload

import (
	"bytes"
	"unicode/utf8"

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

// nextLine returns the first line of data and the rest, cutting where the
// engine's scanner does (plan.LoadData.SplitLines): after the next LINES
// TERMINATED BY, quotes notwithstanding, the terminator kept. atEOF says
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

// splitFields cuts one line (as nextLine returned it) into fields exactly
// as the engine's LOAD DATA does (rowexec loadDataIter.parseFields), so
// that the fast path and the engine store the same values: LINES STARTING
// BY skips to the prefix (a line without it is skipped: skip true), ENCLOSED
// BY quotes a whole field, ESCAPED BY introduces \N, \0, \n, \t, \r, \b, \Z
// (\N becomes the text NULL, which then loads as NULL, as in the engine), and
// a doubled enclosure character is one when it equals ESCAPED BY.
//
// The fields are valid until the next call: they share the splitter's
// buffer.
func (s *splitter) split(line []byte) (fields [][]byte, skip bool) {
	f := s.f
	if len(f.lineStart) > 0 {
		i := bytes.Index(line, f.lineStart)
		if i < 0 {
			return nil, true
		}
		line = line[i+len(f.lineStart):]
	}
	if len(line) == 0 {
		return nil, true
	}
	hasTerm := bytes.HasSuffix(line, f.lineTerm)
	if hasTerm {
		line = line[:len(line)-len(f.lineTerm)]
	}
	normalLineTerm := hasTerm || !f.encIsEsc
	term := f.fieldTerm
	tl := len(term)

	// Field boundaries are recorded as offsets into buf and sliced at the
	// end, because appending to buf may move it.
	buf, starts, ends := s.buf[:0], append(s.starts[:0], 0), s.ends[:0]
	inEnclosure := false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		if !f.special[ch] {
			j := i + 1
			for j < len(line) && !f.special[line[j]] {
				j++
			}
			buf = append(buf, line[i:j]...)
			i = j - 1
			continue
		}
		isEnc := f.hasEnclose && ch == f.enclosed
		isEsc := f.hasEscape && !f.encIsEsc && ch == f.escaped
		curLen := len(buf) - starts[len(starts)-1]

		if isEnc && !inEnclosure && curLen == 0 {
			inEnclosure = true
			continue
		}
		if isEnc && inEnclosure && f.encIsEsc && i+1 < len(line) && line[i+1] == f.enclosed {
			buf = append(buf, f.enclosed)
			i++
			continue
		}
		if isEnc && inEnclosure {
			followedByTerm := i+1+tl <= len(line) && bytes.Equal(line[i+1:i+1+tl], term)
			atLineEnd := i+1 >= len(line)
			if followedByTerm || (atLineEnd && normalLineTerm) {
				inEnclosure = false
				continue
			}
			buf = append(buf, ch)
			continue
		}
		if isEsc && i+1 < len(line) {
			i++
			switch line[i] {
			case 'N':
				buf = append(buf, "NULL"...)
			case 'Z':
				buf = append(buf, 26)
			case '0':
				buf = append(buf, 0)
			case 'n':
				buf = append(buf, '\n')
			case 't':
				buf = append(buf, '\t')
			case 'r':
				buf = append(buf, '\r')
			case 'b':
				buf = append(buf, '\b')
			default:
				buf = append(buf, line[i])
			}
			continue
		}
		if !inEnclosure && i+tl <= len(line) && bytes.Equal(line[i:i+tl], term) {
			ends = append(ends, len(buf))
			starts = append(starts, len(buf))
			i += tl - 1
			continue
		}
		buf = append(buf, ch)
	}
	if inEnclosure {
		// The engine puts back the opening enclosure it stripped, as
		// string(byte): a rune, so an enclosure byte of 0x80 or more comes
		// back UTF-8 encoded in two bytes.
		s := starts[len(starts)-1]
		enc := utf8.AppendRune(nil, rune(f.enclosed))
		buf = append(buf, enc...)
		copy(buf[s+len(enc):], buf[s:len(buf)-len(enc)])
		copy(buf[s:], enc)
	}
	ends = append(ends, len(buf))
	fields = s.fields[:0]
	for k := range starts {
		fields = append(fields, buf[starts[k]:ends[k]:ends[k]])
	}
	s.buf, s.starts, s.ends, s.fields = buf, starts, ends, fields
	return fields, false
}

// splitter holds one worker's scratch space for splitting lines.
type splitter struct {
	f      *format
	buf    []byte
	starts []int
	ends   []int
	fields [][]byte
}
