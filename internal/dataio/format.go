// Package dataio turns query results into files for external tools and
// back: MySQL's OUTFILE text format and RFC 4180 CSV, output split into
// size-bounded parts, and Aurora MySQL's JSON manifest listing them.
package dataio

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/encodings"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Format is the file format of an export.
type Format int

const (
	// Text is MySQL's SELECT ... INTO OUTFILE format (the default):
	// tab-separated, backslash escapes, NULL as \N.
	Text Format = iota
	// CSV is RFC 4180: comma-separated, fields quoted with " when needed,
	// quotes doubled, no escape character.
	CSV
)

func (f Format) String() string {
	if f == CSV {
		return "CSV"
	}
	return "TEXT"
}

// Options are the FORMAT, FIELDS and LINES clauses of an export. Nil
// pointers mean "not given": each format has its own defaults.
type Options struct {
	Format Format
	Header bool
	// Charset is CHARACTER SET's argument: see Charset.
	Charset string

	FieldsTerminatedBy *string
	EnclosedBy         *string
	OptionallyEnclosed bool
	EscapedBy          *string
	LinesStartingBy    *string
	LinesTerminatedBy  *string
}

// resolved are Options with the defaults applied.
type resolved struct {
	format           Format
	header           bool
	fieldTerm        string
	enclose          string
	optionally       bool
	escape           string
	lineStart        string
	lineTerm         string
	specials         [256]bool         // bytes that need escaping or quoting
	specialsEnclosed [256]bool         // the same inside ENCLOSED BY: terminators need no escape
	charset          encodings.Encoder // nil: UTF-8
}

func or(p *string, def string) string {
	if p != nil {
		return *p
	}
	return def
}

func (o Options) resolve() (resolved, error) {
	r := resolved{format: o.Format, header: o.Header, lineStart: or(o.LinesStartingBy, ""), lineTerm: or(o.LinesTerminatedBy, "\n")}
	var err error
	if r.charset, err = Charset(o.Charset); err != nil {
		return r, err
	}
	switch o.Format {
	case CSV:
		r.fieldTerm = or(o.FieldsTerminatedBy, ",")
		r.enclose = or(o.EnclosedBy, `"`)
		if r.enclose != `"` {
			return r, fmt.Errorf("FORMAT CSV encloses fields in '\"' (RFC 4180); ENCLOSED BY %q is not supported with it", r.enclose)
		}
		if o.EscapedBy != nil && *o.EscapedBy != "" {
			return r, fmt.Errorf("FORMAT CSV has no escape character (RFC 4180 doubles quotes); use ESCAPED BY '' or FORMAT TEXT")
		}
		r.optionally = true
	default:
		r.fieldTerm = or(o.FieldsTerminatedBy, "\t")
		r.enclose = or(o.EnclosedBy, "")
		r.optionally = o.OptionallyEnclosed
		r.escape = or(o.EscapedBy, `\`)
	}
	if len(r.enclose) > 1 || len(r.escape) > 1 {
		return r, fmt.Errorf("ENCLOSED BY and ESCAPED BY take a single character")
	}
	if r.fieldTerm == "" && r.enclose == "" {
		return r, fmt.Errorf("FIELDS TERMINATED BY '' needs ENCLOSED BY (fixed-width rows are not supported)")
	}
	if r.lineTerm == "" {
		return r, fmt.Errorf("LINES TERMINATED BY '' is not supported")
	}
	for _, s := range []string{r.fieldTerm, r.lineTerm, r.enclose, r.escape} {
		if s != "" {
			r.specials[s[0]] = true
		}
	}
	if r.format == CSV {
		r.specials['\r'], r.specials['\n'] = true, true
	} else if r.escape != "" {
		// Control characters are always written as escape sequences
		// (\n, not a backslash and a raw newline as MySQL does) because
		// the engine's LOAD DATA splits lines before it unescapes.
		for _, b := range []byte{0, '\n', '\r', '\t', 26} {
			r.specials[b], r.specialsEnclosed[b] = true, true
		}
		for _, s := range []string{r.enclose, r.escape} {
			if s != "" {
				r.specialsEnclosed[s[0]] = true
			}
		}
	}
	return r, nil
}

// Encoder writes rows of one schema in one format.
type Encoder struct {
	r      resolved
	schema sql.Schema
	quoted []bool // column gets enclosed (string types under OPTIONALLY)
	buf    []byte
}

// NewEncoder checks opts and prepares to encode rows of schema.
func NewEncoder(schema sql.Schema, opts Options) (*Encoder, error) {
	r, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	e := &Encoder{r: r, schema: schema, quoted: make([]bool, len(schema)), buf: make([]byte, 0, 64)}
	for i, c := range schema {
		e.quoted[i] = r.enclose != "" && (!r.optionally || isStringType(c.Type))
	}
	return e, nil
}

// isStringType is MySQL's "string data type" for OPTIONALLY ENCLOSED BY:
// CHAR, VARCHAR, BINARY, TEXT, BLOB, ENUM, SET.
func isStringType(t sql.Type) bool {
	return types.IsText(t) || types.IsBinaryType(t) || types.IsEnum(t) || types.IsSet(t)
}

// Header returns the line of column names, or nil without HEADER.
func (e *Encoder) Header() []byte {
	if !e.r.header {
		return nil
	}
	out := []byte(e.r.lineStart)
	for i, c := range e.schema {
		if i > 0 {
			out = append(out, e.r.fieldTerm...)
		}
		out = e.field(out, []byte(c.Name), e.r.enclose != "" && (e.r.format == CSV || e.quoted[i]))
	}
	return e.convert(append(out, e.r.lineTerm...), 0)
}

// convert re-encodes line[start:] into the file's character set; a
// character it lacks becomes '?', as in MySQL.
func (e *Encoder) convert(line []byte, start int) []byte {
	if e.r.charset == nil {
		return line
	}
	enc := e.r.charset.EncodeReplaceUnknown(line[start:])
	return append(line[:start], enc...)
}

// AppendRow appends one encoded line to dst. Values are formatted as the
// wire protocol sends them to clients (the column type's SQL form), so the
// file shows what SELECT shows.
func (e *Encoder) AppendRow(ctx *sql.Context, dst []byte, row sql.Row) ([]byte, error) {
	start := len(dst)
	dst = append(dst, e.r.lineStart...)
	for i, v := range row {
		if i > 0 {
			dst = append(dst, e.r.fieldTerm...)
		}
		if v == nil {
			if e.r.escape != "" {
				dst = append(dst, e.r.escape[0], 'N')
			} else {
				dst = append(dst, "NULL"...)
			}
			continue
		}
		val, err := e.schema[i].Type.SQL(ctx, e.buf[:0], v)
		if err != nil {
			return dst, fmt.Errorf("column %s: %w", e.schema[i].Name, err)
		}
		raw := val.Raw()
		if val.IsNull() {
			// Some types (e.g. an invalid enum index) format as NULL.
			dst = append(dst, "NULL"...)
			continue
		}
		dst = e.field(dst, raw, e.quoted[i])
	}
	return e.convert(append(dst, e.r.lineTerm...), start), nil
}

func (e *Encoder) field(dst, raw []byte, quoted bool) []byte {
	if e.r.format == CSV {
		return e.csvField(dst, raw)
	}
	// As MySQL: inside ENCLOSED BY the terminators need no escaping.
	specials := &e.r.specials
	if quoted {
		specials = &e.r.specialsEnclosed
	}
	special := false
	for _, b := range raw {
		if specials[b] {
			special = true
			break
		}
	}
	if quoted {
		dst = append(dst, e.r.enclose...)
	}
	if !special || e.r.escape == "" {
		dst = append(dst, raw...)
	} else {
		esc := e.r.escape[0]
		for _, b := range raw {
			if !specials[b] {
				dst = append(dst, b)
				continue
			}
			switch b {
			case 0:
				dst = append(dst, esc, '0')
			case '\n':
				dst = append(dst, esc, 'n')
			case '\r':
				dst = append(dst, esc, 'r')
			case '\t':
				dst = append(dst, esc, 't')
			case 26:
				dst = append(dst, esc, 'Z')
			default:
				dst = append(dst, esc, b)
			}
		}
	}
	if quoted {
		dst = append(dst, e.r.enclose...)
	}
	return dst
}

// csvField quotes as RFC 4180 requires (a field containing the delimiter,
// a quote, CR or LF), and also the empty string and the word NULL so they
// stay distinct from NULL, which is written as the bare word NULL (MySQL's
// convention without an escape character). encoding/csv cannot express
// that distinction, hence this small writer.
func (e *Encoder) csvField(dst, raw []byte) []byte {
	need := len(raw) == 0 || string(raw) == "NULL"
	if !need {
		for _, b := range raw {
			if e.r.specials[b] {
				need = true
				break
			}
		}
		if !need && len(e.r.fieldTerm) > 1 && strings.Contains(string(raw), e.r.fieldTerm) {
			need = true
		}
	}
	if !need {
		return append(dst, raw...)
	}
	dst = append(dst, '"')
	for _, b := range raw {
		if b == '"' {
			dst = append(dst, '"', '"')
		} else {
			dst = append(dst, b)
		}
	}
	return append(dst, '"')
}
