package builtins

import (
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/go-mysql-server/sql/variables"
	"github.com/stretchr/testify/require"
)

func eval(t *testing.T, ctx *sql.Context, name string, args ...any) (any, error) {
	t.Helper()
	fn, ok := NewProvider(nil).Function(ctx, name)
	require.True(t, ok, name)
	exprs := make([]sql.Expression, len(args))
	for i, a := range args {
		switch a.(type) {
		case string:
			exprs[i] = expression.NewLiteral(a, types.LongText)
		default:
			exprs[i] = expression.NewLiteral(a, types.Int64)
		}
	}
	e, err := fn.NewInstance(exprs)
	require.NoError(t, err)
	return e.Eval(ctx, nil)
}

func TestGuards(t *testing.T) {
	variables.InitSystemVariables()
	ctx := sql.NewEmptyContext()
	require.NoError(t, ctx.SetSessionVariable(ctx, "max_allowed_packet", int64(1024)))

	cases := []struct {
		name string
		args []any
		want any
		code int // MySQL error, 0 for none
		warn bool
	}{
		{"repeat", []any{"ab", int64(10)}, "abababababababababab", 0, false},
		{"repeat", []any{"ab", int64(2000000000)}, nil, 0, true},
		{"repeat", []any{"ab", int64(-1)}, "", 0, false},
		{"space", []any{int64(1025)}, nil, 0, true},
		{"space", []any{int64(-5)}, "", 0, false},
		{"lpad", []any{"a", int64(3), "xy"}, "xya", 0, false},
		{"lpad", []any{"a", int64(1 << 40), "xy"}, nil, 0, true},
		{"rpad", []any{"a", int64(2000), "é"}, nil, 0, true},
		{"replace", []any{"aaaa", "a", "bb"}, "bbbbbbbb", 0, false},
		{"replace", []any{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a", "0123456789012345678901234567890123456789"}, nil, 0, true},
		{"concat", []any{"a", "b", int64(7)}, "ab7", 0, false},
		{"locate", []any{"b", "abc", int64(-9223372036854775808)}, int32(0), 0, false},
		{"locate", []any{"b", "abcb", int64(3)}, int32(4), 0, false},
		{"regexp_instr", []any{"abc", "b", int64(100)}, nil, ErrRegexpIndexOutOfBounds, false},
		{"string_to_vector", []any{"[]"}, nil, ErrVectorConversion, false},
	}
	for _, c := range cases {
		warnings := ctx.WarningCount()
		got, err := eval(t, ctx, c.name, c.args...)
		if c.code != 0 {
			require.ErrorContains(t, err, "", "%s%v", c.name, c.args)
			continue
		}
		require.NoError(t, err, "%s%v", c.name, c.args)
		require.Equal(t, c.want, got, "%s%v", c.name, c.args)
		require.Equal(t, c.warn, ctx.WarningCount() > warnings, "%s%v: warning 1301", c.name, c.args)
	}
}
