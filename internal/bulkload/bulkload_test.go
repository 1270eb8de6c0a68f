package bulkload

import (
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/sqltypes"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
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

// lines splits all of data into lines and fields: NULL fields as <NULL>,
// a skipped line as <skip>, a line whose record goes on as <continues>.
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
		fields, nulls, kind := s.split(line)
		switch kind {
		case lineSkipped:
			out = append(out, "<skip>")
		case lineContinues:
			out = append(out, "<continues>")
		default:
			out = append(out, join(fields, nulls))
		}
	}
}

func join(fields [][]byte, nulls []bool) string {
	parts := make([]string, len(fields))
	for i, b := range fields {
		parts[i] = string(b)
		if nulls[i] {
			parts[i] = "<NULL>"
		}
	}
	return strings.Join(parts, "|")
}

// records reads all of data with recordReader, as the engine path does,
// each record's fields joined as lines joins them.
func records(f *format, data string) []string {
	var out []string
	r := newRecordReader(strings.NewReader(data), f)
	for {
		var fields [][]byte
		var nulls []bool
		for r.readField() {
			fields = append(fields, append([]byte(nil), r.field...))
			nulls = append(nulls, r.isNull())
		}
		if len(fields) == 0 && r.eof {
			return out
		}
		out = append(out, join(fields, nulls))
		if !r.nextLine() {
			return out
		}
	}
}

// TestSplitFields pins MySQL's LOAD DATA field rules (sql_load.cc
// READ_INFO::read_field and the LOAD DATA reference) on both readers: the
// bulk path's line splitter and the engine path's record reader.
func TestSplitFields(t *testing.T) {
	for _, tc := range []struct {
		name                                  string
		term, enc, esc, start, lineTerm, data string
		lines                                 []string // the splitter's lines
		records                               []string // the reader's records: lines without <skip>, unless set
	}{
		{"tabs and escapes", "", "", `\`, "", "", "a\tb\\tc\t\\N\n\\\\x\t\\0\\Z\\b\\r\\n\\q\n",
			[]string{"a|b\tc|<NULL>", "\\x|\x00\x1a\b\r\nq"}, nil},
		{`\N is NULL only alone`, "", "", `\`, "", "", "a\\Nb\tN\t\\N\n", []string{"aNb|N|<NULL>"}, nil},
		{"bare NULL is text without ENCLOSED BY", "", "", `\`, "", "", "NULL\tnull\n", []string{"NULL|null"}, nil},
		{"bare NULL is NULL with ENCLOSED BY, quoted is text", ",", `"`, `\`, "", "", `NULL,"NULL",\N,"\N",NULLx` + "\n",
			[]string{"<NULL>|NULL|<NULL>|<NULL>|NULLx"}, nil},
		{"last line without terminator", ",", "", `\`, "", "", "1,2\n3,4", []string{"1|2", "3|4"}, nil},
		{"enclosed fields keep terminators", ",", `"`, `\`, "", "", `"a,b",c,"d""e","f\"g"` + "\n",
			[]string{`a,b|c|d"e|f"g`}, nil},
		{"enclosure equal to escape doubles", ",", `"`, `"`, "", "", `"say ""hi""",x,"",a""b` + "\n",
			[]string{`say "hi"|x||a"b`}, nil},
		{"enclosure in the middle is literal", ",", `"`, `\`, "", "", `a"b,"c"d",e` + "\n",
			[]string{`a"b|c"d|e`}, nil},
		{"unterminated enclosure at the end", ",", `"`, `"`, "", "", `1,"abc`, []string{`1|"abc`}, nil},
		{"enclosed line break", ",", `"`, `\`, "", "", "1,\"a\nb\",2\n3,x\n",
			[]string{"<continues>", `b"|2`, "3|x"}, []string{"1|a\nb|2", "3|x"}},
		{"escaped line break", "", "", `\`, "", "", "a\\\nb\tc\nd\n", []string{"<continues>", "b|c", "d"}, []string{"a\nb|c", "d"}},
		{"escape at the very end", ",", `"`, `\`, "", "", `"a\`, []string{`"a\`}, nil},
		{"starting by skips other lines", "|", "", `\`, ">", ";", "junk;>1|2;xx>3|4;", []string{"<skip>", "1|2", "3|4"}, nil},
		{"input ending with the prefix", "|", "", `\`, ">", ";", "1|2;>", []string{"<skip>", "<skip>"}, []string{}},
		{"multi-byte terminators", ",,", "", `\`, "", "\r\n", "a,,b,c\r\n,,\r\n", []string{"a|b,c", "|"}, nil},
		{"no escape", ",", "", "", "", "", `a\,b` + "\n", []string{`a\|b`}, nil},
		{"empty line is one empty field", ",", "", `\`, "", "", "\n", []string{""}, nil},
		{"trailing field terminator is an empty field", ",", "", `\`, "", "", "a,\n", []string{"a|"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := testFormat(t, tc.term, tc.enc, tc.esc, tc.start, tc.lineTerm)
			require.Equal(t, tc.lines, lines(f, tc.data))
			want := tc.records
			if want == nil {
				for _, l := range tc.lines {
					if l != "<skip>" {
						want = append(want, l)
					}
				}
			}
			got := records(&f, tc.data)
			if len(want) == 0 {
				require.Empty(t, got)
				return
			}
			require.Equal(t, want, got)
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
				got, ok := col.value(ctx, []byte(in), false)
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
		null  bool
	}{
		{intCol, "42", int32(42), true, false},
		{intCol, "N", nil, false, true}, // NULL into NOT NULL
		{intCol, "", nil, false, false}, // MySQL's empty-field error or warning
		{intCol, "  ", nil, false, false},
		{intCol, "x", nil, false, false},
		{intCol, "99999999999", nil, false, false},
		{intCol, "1.5", int32(2), true, false}, // rounded, as INSERT does
		{strCol, "", "", true, false},
		{strCol, "N", nil, true, true},
		{strCol, "N", "N", true, false}, // the same text, not NULL
		{strCol, "abc", "abc", true, false},
		{strCol, "abcd", nil, false, false},
	} {
		v, ok := tc.col.value(ctx, []byte(tc.in), tc.null)
		require.Equal(t, tc.apply, ok, "%s %q", tc.col.name, tc.in)
		if ok {
			require.Equal(t, tc.want, v, "%s %q", tc.col.name, tc.in)
		}
	}
}

// FuzzSplitFields holds the bulk path's line splitter (with its copy-runs
// shortcut) equal to the engine path's byte-by-byte record reader on
// arbitrary input and options, up to the first record that goes on past
// its line (which the bulk path leaves to the engine).
func FuzzSplitFields(f *testing.F) {
	f.Add("a\tb\\tc\t\\N\n", "", "", `\`, "", "")
	f.Add(`"a,b",c,"d""e"`+"\n", ",", `"`, `"`, "", "")
	f.Add("junk;>1|2;", "|", "'", "", ">", ";")
	f.Add(`1,"abc`, ",,", `"`, `\`, "N", "\r\n")
	f.Add("\xff\xffab", ",", "\xff", "", "", "") // unclosed enclosure of a byte >= 0x80
	f.Add("NULL,\"NULL\",\\N,a\\Nb\n\"x\ny\",z\n", ",", `"`, `\`, "", "")
	f.Fuzz(func(t *testing.T, data, term, enc, esc, start, lineTerm string) {
		if len(enc) > 1 || len(esc) > 1 {
			return
		}
		ft := testFormat(t, term, enc, esc, start, lineTerm)
		if !ft.lineWise() {
			return // the bulk path leaves these to the engine
		}
		var want []string
		for _, l := range lines(ft, data) {
			if l == "<continues>" {
				break
			}
			if l != "<skip>" {
				want = append(want, l)
			}
		}
		got := records(&ft, data)
		require.GreaterOrEqual(t, len(got), len(want), "records %q", got)
		if len(want) > 0 {
			require.Equal(t, want, got[:len(want)])
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

// TestSkipRecords: LOAD DATA FROM S3 skips IGNORE n LINES in each object
// by records, as LOAD DATA INFILE does: a quoted or escaped line break
// stays inside the record it belongs to.
func TestSkipRecords(t *testing.T) {
	for _, tc := range []struct {
		name, options, data string
		n                   int
		want                string
	}{
		{"plain", "", "h\nx\n", 1, "x\n"},
		{"quoted line break in the header", `FIELDS TERMINATED BY ',' ENCLOSED BY '"'`, "\"a\nb\",c\n1,2\n", 1, "1,2\n"},
		{"escaped line break", "", "h\\\nh2\nx\n", 1, "x\n"},
		{"more than there is", "", "h\n", 3, ""},
		{"crlf", `LINES TERMINATED BY '\r\n'`, "h\r\na\r\nb", 1, "a\r\nb"},
		{"bare lf inside crlf lines", `LINES TERMINATED BY '\r\n'`, "h\nstill h\r\na\n", 1, "a\n"},
		{"multi-byte terminator", `LINES TERMINATED BY ';;'`, "h;a;;b;;", 1, "b;;"},
		{"two", `FIELDS TERMINATED BY ','`, "a\nb\nc\n", 2, "c\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stmt, err := ast.Parse("LOAD DATA INFILE 'f' INTO TABLE t " + tc.options)
			require.NoError(t, err)
			rest, err := SkipRecords(strings.NewReader(tc.data), stmt.(*ast.Load), tc.n)
			require.NoError(t, err)
			got, err := io.ReadAll(rest)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
}
