// Package vecsql binds package vector to the SQL engine: the vector
// functions under their MySQL 9 and MariaDB 11.8 names, VEC_DISTANCE's
// resolution to the metric of the column's vector index, and the planner
// rule that answers ORDER BY <distance> LIMIT k from an HNSW graph, over
// one table or a join's driving table (join.go).
//
// The functions replace go-mysql-server's own (which compute VEC_DISTANCE
// as squared L2, format text differently from both servers, and report
// errors with the generic code 1105). Each spelling keeps its server's
// behaviour: MariaDB's VEC_* functions return NULL with a warning on bad
// input, as MariaDB does; MySQL's STRING_TO_VECTOR, VECTOR_TO_STRING,
// VECTOR_DIM and DISTANCE raise errors, as MySQL does.
package vecsql

import (
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/ml/vector"
)

// MySQL and MariaDB error codes used by the functions.
const (
	// ErrToVectorConversion is MySQL's ER_TO_VECTOR_CONVERSION.
	ErrToVectorConversion = 6138
	// ErrIncorrectType is MySQL's ER_INCORRECT_TYPE ("Incorrect type for
	// argument %s in function %s."), raised for a non-vector argument.
	ErrIncorrectType = 3064
	// ErrWrongArguments is ER_WRONG_ARGUMENTS.
	ErrWrongArguments = 1210
	// WarnVectorBinaryFormat is MariaDB's ER_VECTOR_BINARY_FORMAT_INVALID.
	WarnVectorBinaryFormat = 4204
	// WarnVectorFormat is MariaDB's ER_VECTOR_FORMAT_INVALID.
	WarnVectorFormat = 4205
	// ErrVecDistanceType is MariaDB's ER_VEC_DISTANCE_TYPE.
	ErrVecDistanceType = 4206
)

func toVectorError(arg string) error {
	if len(arg) > 64 {
		arg = arg[:64]
	}
	return mysql.NewSQLError(ErrToVectorConversion, "HY000", "Data cannot be converted to a valid vector: '%s'", arg)
}

func incorrectType(n int, fn string) error {
	return mysql.NewSQLError(ErrIncorrectType, "HY000", "Incorrect type for argument %d in function %s.", n, fn)
}

func wrongArguments(fn string) error {
	return mysql.NewSQLError(ErrWrongArguments, "HY000", "Incorrect arguments to %s", fn)
}

// ErrNoVectorIndex is MariaDB's answer to VEC_DISTANCE over an argument
// that is not a column with a vector index.
func ErrNoVectorIndex() error {
	return mysql.NewSQLError(ErrVecDistanceType, "HY000", "Cannot determine distance type for VEC_DISTANCE, index is not found")
}

// fnDef is one function: its arity and how a call evaluates.
type fnDef struct {
	name    string
	min     int
	max     int
	typ     sql.Type
	eval    func(ctx *sql.Context, args []any) (any, error)
	special func(args []sql.Expression) (sql.Expression, error)
}

var vecType = types.VectorType{}

func defs() []fnDef {
	mysqlToVector := func(name string) fnDef {
		return fnDef{name: name, min: 1, max: 1, typ: vecType, eval: func(_ *sql.Context, a []any) (any, error) {
			s, ok := text(a[0])
			if !ok {
				return nil, incorrectType(1, name)
			}
			v, err := vector.Parse(s)
			if err != nil || len(v) == 0 || len(v) > vector.MaxDimensions {
				return nil, toVectorError(s)
			}
			return vector.Encode(v), nil
		}}
	}
	mysqlFromVector := func(name string) fnDef {
		return fnDef{name: name, min: 1, max: 1, typ: types.LongText, eval: func(_ *sql.Context, a []any) (any, error) {
			v, ok := binaryVector(a[0])
			if !ok || len(v) == 0 {
				return nil, incorrectType(1, name)
			}
			return vector.FormatMySQL(v), nil
		}}
	}
	mariaDistance := func(name string, m vector.Metric) fnDef {
		return fnDef{name: name, min: 2, max: 2, typ: types.Float64, eval: func(_ *sql.Context, a []any) (any, error) {
			x, ok1 := binaryVector(a[0])
			y, ok2 := binaryVector(a[1])
			if !ok1 || !ok2 || len(x) != len(y) {
				return nil, nil
			}
			return nanNull(m.Distance(x, y)), nil
		}}
	}
	mysqlDistance := func(name string) fnDef {
		return fnDef{name: name, min: 3, max: 3, typ: types.Float64, eval: func(_ *sql.Context, a []any) (any, error) {
			x, ok1 := binaryVector(a[0])
			y, ok2 := binaryVector(a[1])
			if !ok1 || len(x) == 0 {
				return nil, incorrectType(1, name)
			}
			if !ok2 || len(y) == 0 {
				return nil, incorrectType(2, name)
			}
			ms, _ := text(a[2])
			m, err := vector.ParseMetric(ms)
			if err != nil || len(x) != len(y) {
				return nil, wrongArguments(name)
			}
			return nanNull(vector.MySQLDistance(m, x, y)), nil
		}}
	}
	return []fnDef{
		mysqlToVector("string_to_vector"),
		mysqlToVector("to_vector"),
		{name: "vec_fromtext", min: 1, max: 1, typ: vecType, eval: func(ctx *sql.Context, a []any) (any, error) {
			s, _ := text(a[0])
			v, err := vector.Parse(s)
			if err != nil {
				off := 0
				if pe, ok := err.(*vector.ParseError); ok {
					off = pe.Offset
				}
				shown := s
				if len(shown) > 100 {
					shown = shown[:100]
				}
				ctx.Warn(WarnVectorFormat, "Invalid vector format at offset: %d for '%s'. Must be a valid JSON array of numbers.", off, shown)
				return nil, nil
			}
			if len(v) > vector.MaxDimensions {
				return nil, toVectorError(s)
			}
			return vector.Encode(v), nil
		}},
		mysqlFromVector("vector_to_string"),
		mysqlFromVector("from_vector"),
		{name: "vec_totext", min: 1, max: 1, typ: types.LongText, eval: func(ctx *sql.Context, a []any) (any, error) {
			v, ok := binaryVector(a[0])
			if !ok {
				ctx.Warn(WarnVectorBinaryFormat, "Invalid binary vector format. Must use IEEE standard float representation in little-endian format. Use VEC_FromText() to generate it.")
				return nil, nil
			}
			return vector.FormatMariaDB(v), nil
		}},
		{name: "vector_dim", min: 1, max: 1, typ: types.Int32, eval: func(_ *sql.Context, a []any) (any, error) {
			v, ok := binaryVector(a[0])
			if !ok || len(v) == 0 {
				return nil, incorrectType(1, "vector_dim")
			}
			return int32(len(v)), nil
		}},
		mariaDistance("vec_distance_euclidean", vector.Euclidean),
		mariaDistance("vec_distance_cosine", vector.Cosine),
		mysqlDistance("distance"),
		mysqlDistance("vector_distance"),
		{name: "vec_distance", min: 2, max: 2, special: func(args []sql.Expression) (sql.Expression, error) {
			return &IndexDistance{args: args}, nil
		}},
	}
}

// nanNull is NULL for a distance with no value (cosine of a zero vector).
func nanNull(f float64) any {
	if math.IsNaN(f) {
		return nil
	}
	return f
}

// text reads a string argument.
func text(v any) (string, bool) {
	switch s := v.(type) {
	case string:
		return s, true
	case []byte:
		return string(s), true
	}
	return "", false
}

// binaryVector reads a vector argument: the binary form (a VECTOR column,
// a function result, a binary string such as x'0000803f'), as both
// servers take it.
func binaryVector(v any) ([]float32, bool) {
	switch b := v.(type) {
	case []float32:
		return b, true
	case []byte:
		f, err := vector.Decode(b)
		return f, err == nil
	case string:
		f, err := vector.Decode([]byte(b))
		return f, err == nil
	}
	return nil, false
}

// Provider serves the vector functions in front of Next.
type Provider struct {
	Next  sql.FunctionProvider
	funcs map[string]sql.Function
}

var _ sql.FunctionProvider = (*Provider)(nil)

// NewProvider returns the vector functions in front of next.
func NewProvider(next sql.FunctionProvider) *Provider {
	p := &Provider{Next: next, funcs: map[string]sql.Function{}}
	for _, d := range defs() {
		d := d
		p.funcs[d.name] = sql.FunctionN{Name: d.name, Fn: func(args ...sql.Expression) (sql.Expression, error) {
			if len(args) < d.min || len(args) > d.max {
				return nil, sql.ErrInvalidArgumentNumber.New(strings.ToUpper(d.name), d.min, len(args))
			}
			if d.special != nil {
				return d.special(args)
			}
			return &call{def: d, args: args}, nil
		}}
	}
	p.funcs["sibyl_embed"] = EmbedFunction(nil)
	return p
}

// Add registers more functions (sibyl_embed) in front of the others.
func (p *Provider) Add(name string, fn sql.Function) { p.funcs[strings.ToLower(name)] = fn }

// Function implements sql.FunctionProvider.
func (p *Provider) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	if fn, ok := p.funcs[strings.ToLower(name)]; ok {
		return fn, true
	}
	if p.Next == nil {
		return nil, false
	}
	return p.Next.Function(ctx, name)
}

// call is a scalar vector function call.
type call struct {
	def  fnDef
	args []sql.Expression
}

var _ sql.FunctionExpression = (*call)(nil)
var _ sql.CollationCoercible = (*call)(nil)

func (c *call) Resolved() bool {
	for _, a := range c.args {
		if !a.Resolved() {
			return false
		}
	}
	return true
}
func (c *call) Type() sql.Type             { return c.def.typ }
func (c *call) IsNullable() bool           { return true }
func (c *call) Children() []sql.Expression { return c.args }
func (c *call) FunctionName() string       { return c.def.name }
func (c *call) Description() string        { return "vector function " + c.def.name }
func (c *call) String() string             { return render(c.def.name, c.args) }
func (c *call) CollationCoercibility(*sql.Context) (sql.CollationID, byte) {
	if types.IsText(c.def.typ) {
		return sql.Collation_utf8mb4_0900_bin, 4
	}
	return sql.Collation_binary, 5
}

func (c *call) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != len(c.args) {
		return nil, sql.ErrInvalidChildrenNumber.New(c, len(children), len(c.args))
	}
	return &call{def: c.def, args: children}, nil
}

// Eval implements sql.Expression: NULL in, NULL out, as in both servers.
func (c *call) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	vals, null, err := evalArgs(ctx, c.args, row)
	if err != nil || null {
		return nil, err
	}
	return c.def.eval(ctx, vals)
}

func evalArgs(ctx *sql.Context, args []sql.Expression, row sql.Row) ([]any, bool, error) {
	vals := make([]any, len(args))
	for i, a := range args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return nil, false, err
		}
		if v == nil {
			return nil, true, nil
		}
		if u, err := sql.UnwrapAny(ctx, v); err == nil {
			v = u
		}
		vals[i] = v
	}
	return vals, false, nil
}

func render(name string, args []sql.Expression) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = argString(a)
	}
	return fmt.Sprintf("%s(%s)", strings.ToUpper(name), strings.Join(parts, ", "))
}

// argString is a's text in a call's String. A literal that is not valid
// UTF-8 (a vector bound to a prepared statement's parameter arrives as a
// string of raw float bytes) is written in hex: the planner lower-cases
// an ORDER BY expression's text to match it against the select list, and
// lower-casing invalid UTF-8 goes rune by rune, which cost more than the
// index search itself. Hex keeps the text distinct per value.
func argString(a sql.Expression) string {
	if lit, ok := a.(*expression.Literal); ok {
		switch v := lit.Value().(type) {
		case string:
			if !utf8.ValidString(v) {
				return "0x" + hex.EncodeToString([]byte(v))
			}
		case []byte:
			return "0x" + hex.EncodeToString(v)
		}
	}
	return a.String()
}
