package bulkload

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

func testFormat(t *testing.T, fieldsTerm, enclosed, escaped, linesStart, linesTerm string) format {
	t.Helper()
	ld := plan.NewLoadData(false, "", nil, nil, nil, 0, "")
	if fieldsTerm != "" {
		ld.FieldsTerminatedBy = fieldsTerm
	}
	ld.FieldsEnclosedBy, ld.FieldsEscapedBy, ld.LinesStartingBy = enclosed, escaped, linesStart
	if linesTerm != "" {
		ld.LinesTerminatedBy = linesTerm
	}
	f, ok := formatOf(ld)
	require.True(t, ok)
	return f
}

// lines splits all of data into lines and fields, "<skip>" for a skipped
// line.
func lines(f format, data string) []string {
	var out []string
	s := splitter{f: &f}
	rest := []byte(data)
	for {
		line, r, ok := f.nextLine(rest, true)
		if !ok {
			return out
		}
		rest = r
		fields, skip := s.split(line)
		if skip {
			out = append(out, "<skip>")
			continue
		}
		parts := make([]string, len(fields))
		for i, b := range fields {
			parts[i] = string(b)
		}
		out = append(out, strings.Join(parts, "|"))
	}
}

// TestSplitFields pins the engine's LOAD DATA field rules (rowexec
// loadDataIter.parseFields) that the bulk path reproduces; the e2e tests
// compare both paths on the same files.
func TestSplitFields(t *testing.T) {
	for _, tc := range []struct {
		name                                  string
		term, enc, esc, start, lineTerm, data string
		want                                  []string
	}{
		{"tabs and escapes", "", "", `\`, "", "", "a\tb\\tc\t\\N\n\\\\x\t\\0\\Z\\b\\r\\n\\q\n",
			[]string{"a|b\tc|NULL", "\\x|\x00\x1a\b\r\nq"}},
		{"last line without terminator", ",", "", `\`, "", "", "1,2\n3,4", []string{"1|2", "3|4"}},
		{"enclosed fields keep terminators", ",", `"`, `\`, "", "", `"a,b",c,"d""e"` + "\n",
			[]string{`a,b|c|d""e`}},
		{"enclosure equal to escape doubles", ",", `"`, `"`, "", "", `"say ""hi""",x,""` + "\n",
			[]string{`say "hi"|x|`}},
		{"enclosure in the middle is literal", ",", `"`, `\`, "", "", `a"b,"c"d",e` + "\n",
			[]string{`a"b|c"d|e`}},
		{"unterminated enclosure", ",", `"`, `"`, "", "", `1,"abc`, []string{`1|"abc`}},
		{"starting by skips other lines", "|", "", `\`, ">", ";", "junk;>1|2;xx>3|4;", []string{"<skip>", "1|2", "3|4"}},
		{"multi-byte terminators", ",,", "", `\`, "", "\r\n", "a,,b,c\r\n,,\r\n", []string{"a|b,c", "|"}},
		{"no escape", ",", "", "", "", "", `a\,b` + "\n", []string{`a\|b`}},
		{"empty line is one empty field", ",", "", `\`, "", "", "\n", []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testFormat(t, tc.term, tc.enc, tc.esc, tc.start, tc.lineTerm)
			require.Equal(t, tc.want, lines(f, tc.data))
		})
	}
}

// TestCanonicalTimeMatchesEngine: the bulk path hands canonical dates to
// the engine's conversion as time.Time; the result must equal the engine's
// own conversion of the text, and non-canonical text must go to the
// engine's parser.
func TestCanonicalTimeMatchesEngine(t *testing.T) {
	ctx := sql.NewEmptyContext()
	inputs := []string{"2020-01-02", "1000-01-01", "9999-12-31", "0999-05-05", "0000-01-01", "2024-02-29",
		"2023-02-29", "2020-13-01", "2020-00-10", "2020-01-00", "2020-1-2", "20200102", "2020-01-02 03:04:05",
		"2020-01-02 23:59:59.999999", "2020-01-02 23:59:59.9999995", "2020-01-02 00:00:00.1", "2020-01-02 24:00:00",
		"2020-01-02T03:04:05", "2020-01-02 03:04", "2020-01-02 03:04:05.", "2020-01-02 03:04:05.1234567891",
		"2020-01-02 03:04:05 ", " 2020-01-02", "0000-00-00"}
	for _, typ := range []sql.Type{types.Date, types.Datetime, types.DatetimeMaxPrecision, types.MustCreateDatetimeType(sqltypes.Datetime, 3)} {
		col := newColumn(&sql.Column{Name: "c", Type: typ, Nullable: true})
		for _, in := range inputs {
			t.Run(fmt.Sprintf("%s/%s", typ, in), func(t *testing.T) {
				want, wantRange, wantErr := typ.Convert(ctx, in)
				got, ok := col.value(ctx, []byte(in))
				if wantErr != nil || wantRange != sql.InRange {
					require.False(t, ok, "engine: %v", wantErr)
					return
				}
				require.True(t, ok)
				require.Equal(t, want, got)
				if tm, canon := col.canonicalTime([]byte(in)); canon {
					require.Equal(t, time.UTC, tm.Location())
				}
			})
		}
	}
}

// TestColumnValue covers the cases where the bulk path must defer to the
// engine.
func TestColumnValue(t *testing.T) {
	ctx := sql.NewEmptyContext()
	intCol := newColumn(&sql.Column{Name: "i", Type: types.Int32, Nullable: false})
	strCol := newColumn(&sql.Column{Name: "s", Type: types.MustCreateStringWithDefaults(sqltypes.VarChar, 3), Nullable: true})
	for _, tc := range []struct {
		col   column
		in    string
		want  any
		apply bool
	}{
		{intCol, "42", int32(42), true},
		{intCol, "NULL", nil, false}, // NOT NULL
		{intCol, "", nil, false},     // the engine's empty-field rule
		{intCol, "x", nil, false},
		{intCol, "99999999999", nil, false},
		{intCol, "1.5", int32(2), true}, // rounded, as INSERT does
		{strCol, "", "", true},
		{strCol, "NULL", nil, true},
		{strCol, "abc", "abc", true},
		{strCol, "abcd", nil, false},
	} {
		v, ok := tc.col.value(ctx, []byte(tc.in))
		require.Equal(t, tc.apply, ok, "%s %q", tc.col.name, tc.in)
		if ok {
			require.Equal(t, tc.want, v, "%s %q", tc.col.name, tc.in)
		}
	}
}

// engineSplit is the field-splitting part of go-mysql-server's
// rowexec.(*loadDataIter).parseFields (Apache-2.0), copied verbatim but for
// the receiver, as the oracle the bulk path's splitter must match.
func engineSplit(line, fieldsTerminatedBy, fieldsEnclosedBy, fieldsEscapedBy, linesStartingBy, linesTerminatedBy string) ([]string, bool) {
	if linesStartingBy != "" {
		prefixIndex := strings.Index(line, linesStartingBy)
		if prefixIndex < 0 {
			line = ""
		} else {
			line = line[prefixIndex+len(linesStartingBy):]
		}
	}
	if line == "" {
		return nil, true
	}
	hasTerminator := strings.HasSuffix(line, linesTerminatedBy)
	if hasTerminator {
		line = line[:len(line)-len(linesTerminatedBy)]
	}
	var fields []string
	var currentField strings.Builder
	inEnclosure := false
	termLen := len(fieldsTerminatedBy)
	hasEnc := fieldsEnclosedBy != ""
	hasEsc := fieldsEscapedBy != ""
	encEqualsEsc := hasEnc && hasEsc && fieldsEnclosedBy == fieldsEscapedBy
	normalLineTerm := hasTerminator || !encEqualsEsc
	for i := 0; i < len(line); i++ {
		ch := line[i]
		isEncChar := hasEnc && ch == fieldsEnclosedBy[0]
		isEscChar := hasEsc && !encEqualsEsc && ch == fieldsEscapedBy[0]
		if isEncChar && !inEnclosure && currentField.Len() == 0 {
			inEnclosure = true
			continue
		}
		if isEncChar && inEnclosure && encEqualsEsc && i+1 < len(line) && line[i+1] == fieldsEnclosedBy[0] {
			currentField.WriteByte(fieldsEnclosedBy[0])
			i++
			continue
		}
		if isEncChar && inEnclosure {
			followedByTerm := i+1+termLen <= len(line) && line[i+1:i+1+termLen] == fieldsTerminatedBy
			atLineEnd := i+1 >= len(line)
			if followedByTerm || (atLineEnd && normalLineTerm) {
				inEnclosure = false
				continue
			}
			currentField.WriteByte(ch)
			continue
		}
		if isEscChar && i+1 < len(line) {
			i++
			switch line[i] {
			case 'N':
				currentField.WriteString("NULL")
			case 'Z':
				currentField.WriteByte(26)
			case '0':
				currentField.WriteByte(0)
			case 'n':
				currentField.WriteByte('\n')
			case 't':
				currentField.WriteByte('\t')
			case 'r':
				currentField.WriteByte('\r')
			case 'b':
				currentField.WriteByte('\b')
			default:
				currentField.WriteByte(line[i])
			}
			continue
		}
		if !inEnclosure && i+termLen <= len(line) && line[i:i+termLen] == fieldsTerminatedBy {
			fields = append(fields, currentField.String())
			currentField.Reset()
			i += termLen - 1
			continue
		}
		currentField.WriteByte(ch)
	}
	lastField := currentField.String()
	if inEnclosure {
		lastField = string(fieldsEnclosedBy[0]) + lastField
	}
	return append(fields, lastField), false
}

// FuzzSplitFields checks the bulk path's splitter (with its copy-runs
// shortcut) against the engine's algorithm on arbitrary lines and options.
func FuzzSplitFields(f *testing.F) {
	f.Add("a\tb\\tc\t\\N\n", "", "", `\`, "", "")
	f.Add(`"a,b",c,"d""e"`+"\n", ",", `"`, `"`, "", "")
	f.Add("junk;>1|2;", "|", "'", "", ">", ";")
	f.Add(`1,"abc`, ",,", `"`, `\`, "N", "\r\n")
	f.Add("\xff\xffab", ",", "\xff", "", "", "") // unclosed enclosure of a byte >= 0x80
	f.Fuzz(func(t *testing.T, data, term, enc, esc, start, lineTerm string) {
		if len(enc) > 1 || len(esc) > 1 {
			return
		}
		ft := testFormat(t, term, enc, esc, start, lineTerm)
		s := splitter{f: &ft}
		rest := []byte(data)
		for {
			line, r, ok := ft.nextLine(rest, true)
			if !ok {
				return
			}
			rest = r
			want, wantSkip := engineSplit(string(line), string(ft.fieldTerm), enc, esc, start, string(ft.lineTerm))
			got, skip := s.split(line)
			require.Equal(t, wantSkip, skip)
			gotS := make([]string, len(got))
			for i, b := range got {
				gotS[i] = string(b)
			}
			if !skip {
				require.Equal(t, want, gotS, "line %q", line)
			}
		}
	})
}

// TestCanonicalDecimalMatchesEngine: for canonical text the bulk path
// builds the decimal itself; mantissa and exponent (what Dolt encodes)
// must equal the engine's conversion, and anything it rounds, rejects or
// parses differently must go to the engine.
func TestCanonicalDecimalMatchesEngine(t *testing.T) {
	ctx := sql.NewEmptyContext()
	inputs := []string{"0", "-0", "1", "-1", "1.5", "1.50", "1.500", "1.5000", "007.25", "-0.001", "0.0005",
		"99999999.999", "100000000", "999999999", "-99999999.999", "123456789012345678", "1e3", "1.", ".5", "-.5",
		" 1", "1 ", "+1", "--1", "1.2.3", "", "-", "0x10", "1_000", "12345678901234567890", "0.000000000000000001"}
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		if rng.Intn(3) == 0 {
			b.WriteByte('-')
		}
		for n := 1 + rng.Intn(12); n > 0; n-- {
			b.WriteByte(byte('0' + rng.Intn(10)))
		}
		if rng.Intn(2) == 0 {
			b.WriteByte('.')
			for n := 1 + rng.Intn(5); n > 0; n-- {
				b.WriteByte(byte('0' + rng.Intn(10)))
			}
		}
		inputs = append(inputs, b.String())
	}
	for _, typ := range []sql.Type{types.MustCreateDecimalType(12, 3), types.MustCreateDecimalType(10, 0),
		types.MustCreateDecimalType(65, 30), types.MustCreateDecimalType(5, 5)} {
		col := newColumn(&sql.Column{Name: "d", Type: typ, Nullable: true})
		require.True(t, col.decimal)
		for _, in := range inputs {
			want, wantRange, wantErr := typ.Convert(ctx, in)
			got, ok := canonicalDecimal([]byte(in), col.intDigits, col.scale)
			if !ok {
				continue // the engine's Convert decides
			}
			require.NoError(t, wantErr, "%s %q", typ, in)
			require.Equal(t, sql.InRange, wantRange, "%s %q", typ, in)
			w := want.(decimal.Decimal)
			require.Zero(t, w.Coefficient().Cmp(got.Coefficient()), "%s %q: %s vs %s", typ, in, w, got)
			require.Equal(t, w.Exponent(), got.Exponent(), "%s %q", typ, in)
		}
	}
	_, ok := canonicalDecimal([]byte("1.5"), 8, 3)
	require.True(t, ok, "plain decimals take the shortcut")
}
