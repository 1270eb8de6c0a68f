package bulkload

import (
	"bytes"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/vt/proto/query"
	"github.com/shopspring/decimal"
)

// column converts one field of a line into the column's value, with the
// conversion the engine's INSERT applies (rowexec insertIter: ConvertRound
// for rounding number types, Convert otherwise).
type column struct {
	name     string
	typ      sql.Type
	rounding sql.RoundingNumberType
	nullable bool
	isString bool
	// date and datetime: a field in canonical form is parsed here and
	// handed to Convert as a time.Time, which the engine converts exactly
	// as the string (both end in ConvertToTime after .UTC()); the engine's
	// own string parsing tries a list of layouts, building an error value
	// for each miss, and was the largest cost of a load.
	date, datetime bool
	// decimal: a canonical field that fits the column (no rounding, within
	// its bound) becomes the same decimal.Decimal the engine's Convert
	// returns (mantissa and exponent as written), without its big-number
	// parse and bounds check.
	decimal          bool
	intDigits, scale int
}

func newColumn(c *sql.Column) column {
	col := column{name: c.Name, typ: c.Type, nullable: c.Nullable}
	col.rounding, _ = c.Type.(sql.RoundingNumberType)
	_, col.isString = c.Type.(sql.StringType)
	col.date = c.Type.Type() == query.Type_DATE
	col.datetime = c.Type.Type() == query.Type_DATETIME
	if d, ok := c.Type.(sql.DecimalType); ok && d.IsDecimalType() {
		col.decimal, col.scale = true, int(d.Scale())
		col.intDigits = int(d.Precision()) - col.scale
	}
	return col
}

// value returns the field's value (null: the field reads as NULL); ok is
// false when the engine would do something other than store a cleanly
// converted value (an error, a warning, a NULL in a NOT NULL column, or an
// empty field for a non-string column).
func (c *column) value(ctx *sql.Context, field []byte, null bool) (v any, ok bool) {
	if null {
		return nil, c.nullable
	}
	if !c.isString && len(bytes.TrimSpace(field)) == 0 {
		return nil, false // MySQL's error 1366 or 1292, or its warning
	}
	if c.decimal {
		if d, ok := canonicalDecimal(field, c.intDigits, c.scale); ok {
			return d, true
		}
	}
	var in any
	if t, ok := c.canonicalTime(field); ok {
		in = t
	} else {
		in = string(field)
	}
	var r sql.ConvertInRange
	var err error
	if c.rounding != nil {
		v, r, err = c.rounding.ConvertRound(ctx, in)
	} else {
		v, r, err = c.typ.Convert(ctx, in)
	}
	if err != nil || r != sql.InRange || (v == nil && !c.nullable) {
		return nil, false
	}
	return v, true
}

func (c *column) canonicalTime(field []byte) (time.Time, bool) {
	if !c.date && !c.datetime {
		return time.Time{}, false
	}
	return parseCanonicalTime(field, c.datetime)
}

// parseCanonicalTime parses YYYY-MM-DD and, with withTime, also
// YYYY-MM-DD HH:MM:SS[.fraction of 1 to 9 digits], as UTC. ok is false for
// anything else, including dates that do not exist, so that the engine's
// parser decides (and reports) those.
func parseCanonicalTime(b []byte, withTime bool) (time.Time, bool) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 {
		return time.Time{}, false
	}
	h, mi, sec, nsec := 0, 0, 0, 0
	if len(b) > 10 {
		if !withTime || len(b) < 19 || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
			return time.Time{}, false
		}
		var ok4, ok5, ok6 bool
		h, ok4 = digits(b[11:13])
		mi, ok5 = digits(b[14:16])
		sec, ok6 = digits(b[17:19])
		if !ok4 || !ok5 || !ok6 || h > 23 || mi > 59 || sec > 59 {
			return time.Time{}, false
		}
		if len(b) > 19 {
			frac := b[20:]
			if b[19] != '.' || len(frac) == 0 || len(frac) > 9 {
				return time.Time{}, false
			}
			f, ok := digits(frac)
			if !ok {
				return time.Time{}, false
			}
			for i := len(frac); i < 9; i++ {
				f *= 10
			}
			nsec = f
		}
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nsec, time.UTC)
	if t.Day() != d { // e.g. February 30th: not normalised here
		return time.Time{}, false
	}
	return t, true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// canonicalDecimal parses [-]digits[.digits] with at most scale fraction
// digits, at most intDigits integer digits (leading zeros aside) and at
// most 18 digits in all, as decimal.New(mantissa, -fraction digits): what
// decimal.NewFromString returns for the text, which the engine's
// DecimalType.Convert then neither rounds nor rejects.
func canonicalDecimal(b []byte, intDigits, scale int) (decimal.Decimal, bool) {
	i := 0
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		i++
	}
	var mant int64
	digits, intPart, frac := 0, 0, -1
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if frac >= 0 {
				frac++
			} else if intPart > 0 || c != '0' {
				intPart++
			}
			if digits > 0 || c != '0' {
				digits++
			}
			mant = mant*10 + int64(c-'0')
		case c == '.' && frac < 0 && i > 0 && b[i-1] >= '0' && b[i-1] <= '9' && i+1 < len(b):
			frac = 0
		default:
			return decimal.Decimal{}, false
		}
		if digits > 18 {
			return decimal.Decimal{}, false
		}
	}
	if frac < 0 {
		frac = 0
	}
	if i == 0 || (neg && i == 1) || frac > scale || intPart > intDigits {
		return decimal.Decimal{}, false
	}
	if neg {
		mant = -mant
	}
	return decimal.New(mant, int32(-frac)), true
}
