package builtins

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
)

// guards are the replaced built-ins. Upstream (go-mysql-server) bugs they
// work around, as of the pinned version:
//   - LOCATE(sub, str, pos) with pos < 1 other than 0 (e.g.
//     -9223372036854775808) slices str[pos-1:] and panics; MySQL returns 0.
//   - STRING_TO_VECTOR('[]') (TO_VECTOR, VEC_FROMTEXT) panics in
//     sql.EncodeVector on an empty slice, and VECTOR_TO_STRING(x”) and the
//     VEC_DISTANCE functions over an empty vector index it; MySQL refuses
//     an empty vector (a vector has 1 to 16383 dimensions).
//   - REGEXP_INSTR/LIKE/SUBSTR/REPLACE with a position past the end of the
//     subject panic (pure-Go regex: str[start-1:]); MySQL returns error 3685.
//   - REPEAT(str, n) and SPACE(n) fail for n < 0; MySQL returns ”.
//   - REPEAT, SPACE, LPAD, RPAD, REPLACE, INSERT, CONCAT, CONCAT_WS and
//     EXPORT_SET build results of any size; MySQL returns NULL with
//     warning 1301 above max_allowed_packet.
var guards = map[string]guard{
	"locate": precheck(checkLocate),

	"string_to_vector":        onPanic(badVector),
	"to_vector":               onPanic(badVector),
	"vec_fromtext":            onPanic(badVector),
	"vector_to_string":        onPanic(badVector),
	"from_vector":             onPanic(badVector),
	"vec_totext":              onPanic(badVector),
	"vec_distance":            onPanic(badVector),
	"vec_distance_l2_squared": onPanic(badVector),
	"vec_distance_euclidean":  onPanic(badVector),
	"vec_distance_cosine":     onPanic(badVector),
	"distance":                onPanic(badVector),

	"regexp_instr":   onPanic(regexpOutOfBounds),
	"regexp_like":    onPanic(regexpOutOfBounds),
	"regexp_substr":  onPanic(regexpOutOfBounds),
	"regexp_replace": onPanic(regexpOutOfBounds),

	"repeat":     precheck(emptyBelowOne(1, bounded(repeatSize))),
	"space":      precheck(emptyBelowOne(0, bounded(spaceSize))),
	"lpad":       precheck(bounded(padSize)),
	"rpad":       precheck(bounded(padSize)),
	"replace":    precheck(bounded(replaceSize)),
	"insert":     precheck(bounded(insertSize)),
	"concat":     precheck(bounded(concatSize)),
	"concat_ws":  precheck(bounded(concatWSSize)),
	"export_set": precheck(bounded(exportSetSize)),
}

// ErrVectorConversion is MySQL's ER_TO_VECTOR_CONVERSION.
const ErrVectorConversion = 6138

func badVector(any) error {
	return mysql.NewSQLError(ErrVectorConversion, "HY000", "Data cannot be converted to a valid vector")
}

// ErrRegexpIndexOutOfBounds is MySQL's ER_REGEXP_INDEX_OUTOFBOUNDS_ERROR.
const ErrRegexpIndexOutOfBounds = 3685

func regexpOutOfBounds(any) error {
	return mysql.NewSQLError(ErrRegexpIndexOutOfBounds, "HY000", "Index out of bounds in regular expression search.")
}

// checkLocate answers LOCATE for positions before the start of the string
// (MySQL: 0), which GMS slices with.
func checkLocate(ctx *sql.Context, _ string, args []any) (any, bool, error) {
	if len(args) != 3 || args[0] == nil || args[1] == nil || args[2] == nil {
		return nil, false, nil
	}
	pos, ok := toInt(ctx, args[2])
	if ok && pos < 1 {
		return int32(0), true, nil
	}
	return nil, false, nil
}

// WarnPacketOverflow is MySQL's ER_WARN_ALLOWED_PACKET_OVERFLOWED.
const WarnPacketOverflow = 1301

// sizeFunc returns an upper bound, in bytes, of the function's result for
// the argument values, or ok=false to leave the arguments to GMS (NULLs,
// values GMS reports errors for).
type sizeFunc func(ctx *sql.Context, args []any) (size uint64, ok bool)

// bounded refuses to build a result larger than max_allowed_packet, as
// MySQL does: the result is NULL, with warning 1301.
func bounded(size sizeFunc) precheck {
	return func(ctx *sql.Context, name string, args []any) (any, bool, error) {
		for _, a := range args {
			if a == nil {
				return nil, false, nil
			}
		}
		n, ok := size(ctx, args)
		if !ok || !Overflows(ctx, name, n) {
			return nil, false, nil
		}
		return nil, true, nil
	}
}

// Overflows reports whether a string result of size bytes from function
// name is larger than max_allowed_packet; if so it adds MySQL's warning
// 1301, and the function must return NULL instead of building it.
func Overflows(ctx *sql.Context, name string, size uint64) bool {
	limit := maxAllowedPacket(ctx)
	if size <= limit {
		return false
	}
	ctx.Warn(WarnPacketOverflow, "Result of %s() was larger than max_allowed_packet (%d) - truncated", name, limit)
	return true
}

// emptyBelowOne answers ” when the count argument (at index count) is
// below 1, as MySQL's REPEAT and SPACE do, then applies next.
func emptyBelowOne(count int, next precheck) precheck {
	return func(ctx *sql.Context, name string, args []any) (any, bool, error) {
		for _, a := range args {
			if a == nil {
				return nil, false, nil
			}
		}
		if n, ok := toInt(ctx, args[count]); ok && n < 1 {
			return "", true, nil
		}
		return next(ctx, name, args)
	}
}

// maxAllowedPacket is the session's max_allowed_packet.
func maxAllowedPacket(ctx *sql.Context) uint64 {
	v, err := ctx.GetSessionVariable(ctx, "max_allowed_packet")
	if err == nil {
		if n, ok := toInt(ctx, v); ok && n > 0 {
			return uint64(n)
		}
	}
	return 64 << 20
}

// toInt converts an argument as GMS would for an integer parameter.
func toInt(ctx *sql.Context, v any) (int64, bool) {
	n, _, err := types.Int64.Convert(ctx, v)
	if err != nil {
		return 0, false
	}
	i, ok := n.(int64)
	return i, ok
}

// textLen is the length in bytes of a value as text.
func textLen(ctx *sql.Context, v any) (uint64, bool) {
	switch s := v.(type) {
	case string:
		return uint64(len(s)), true
	case []byte:
		return uint64(len(s)), true
	}
	t, _, err := types.LongText.Convert(ctx, v)
	if err != nil {
		return 0, false
	}
	s, ok := t.(string)
	return uint64(len(s)), ok
}

func text(ctx *sql.Context, v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	t, _, err := types.LongText.Convert(ctx, v)
	if err != nil {
		return "", false
	}
	s, ok := t.(string)
	return s, ok
}

// mul is a*b, saturating instead of overflowing.
func mul(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}

func add(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// repeatSize: REPEAT(str, count).
func repeatSize(ctx *sql.Context, args []any) (uint64, bool) {
	n, ok := toInt(ctx, args[1])
	if !ok || n <= 0 {
		return 0, ok
	}
	l, ok := textLen(ctx, args[0])
	return mul(l, uint64(n)), ok
}

// spaceSize: SPACE(n).
func spaceSize(ctx *sql.Context, args []any) (uint64, bool) {
	n, ok := toInt(ctx, args[0])
	if !ok || n <= 0 {
		return 0, ok
	}
	return uint64(n), true
}

// padSize: LPAD/RPAD(str, len, padstr); len counts characters, so the
// bound uses the widest character of str and padstr.
func padSize(ctx *sql.Context, args []any) (uint64, bool) {
	if len(args) != 3 {
		return 0, false
	}
	n, ok := toInt(ctx, args[1])
	if !ok || n <= 0 {
		return 0, ok
	}
	s, ok1 := text(ctx, args[0])
	p, ok2 := text(ctx, args[2])
	if !ok1 || !ok2 {
		return 0, false
	}
	return mul(uint64(n), uint64(max(widest(s), widest(p)))), true
}

// widest is the largest UTF-8 encoding of a character of s (1 if empty).
func widest(s string) int {
	w := 1
	for _, r := range s {
		if l := utf8.RuneLen(r); l > w {
			w = l
			if w == utf8.UTFMax {
				break
			}
		}
	}
	return w
}

// replaceSize: REPLACE(str, from, to), exactly.
func replaceSize(ctx *sql.Context, args []any) (uint64, bool) {
	s, ok1 := text(ctx, args[0])
	from, ok2 := text(ctx, args[1])
	to, ok3 := text(ctx, args[2])
	if !ok1 || !ok2 || !ok3 {
		return 0, false
	}
	if from == "" || len(to) <= len(from) {
		return uint64(len(s)), true
	}
	return add(uint64(len(s)), mul(uint64(countAll(s, from)), uint64(len(to)-len(from)))), true
}

// countAll counts non-overlapping occurrences of sub, as REPLACE replaces.
func countAll(s, sub string) int {
	n := 0
	for {
		i := strings.Index(s, sub)
		if i < 0 {
			return n
		}
		n++
		s = s[i+len(sub):]
	}
}

// insertSize: INSERT(str, pos, len, newstr) is at most str and newstr.
func insertSize(ctx *sql.Context, args []any) (uint64, bool) {
	a, ok1 := textLen(ctx, args[0])
	b, ok2 := textLen(ctx, args[3])
	return add(a, b), ok1 && ok2
}

// concatSize: CONCAT(a, b, ...).
func concatSize(ctx *sql.Context, args []any) (uint64, bool) {
	var n uint64
	for _, a := range args {
		l, ok := textLen(ctx, a)
		if !ok {
			return 0, false
		}
		n = add(n, l)
	}
	return n, true
}

// concatWSSize: CONCAT_WS(sep, a, b, ...).
func concatWSSize(ctx *sql.Context, args []any) (uint64, bool) {
	sep, ok := textLen(ctx, args[0])
	if !ok {
		return 0, false
	}
	n, ok := concatSize(ctx, args[1:])
	return add(n, mul(sep, uint64(max(len(args)-2, 0)))), ok
}

// exportSetSize: EXPORT_SET(bits, on, off[, sep[, n]]), n capped at 64.
func exportSetSize(ctx *sql.Context, args []any) (uint64, bool) {
	if len(args) < 3 {
		return 0, false
	}
	on, ok1 := textLen(ctx, args[1])
	off, ok2 := textLen(ctx, args[2])
	if !ok1 || !ok2 {
		return 0, false
	}
	sep := uint64(1)
	if len(args) > 3 {
		var ok bool
		if sep, ok = textLen(ctx, args[3]); !ok {
			return 0, false
		}
	}
	bits := uint64(64)
	if len(args) > 4 {
		if n, ok := toInt(ctx, args[4]); ok && n >= 0 && n < 64 {
			bits = uint64(n)
		}
	}
	return add(mul(bits, max(on, off)), mul(sep, bits)), true
}
