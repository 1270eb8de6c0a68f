package plancache

import (
	"math"
	"strconv"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	"github.com/stretchr/testify/require"
)

// TestIntLiteralsMatchPlanbuilder checks the fast conversion of integer
// bindings against GMS's planbuilder at every boundary of its smallest-type
// choice: the same value and the same type, or no answer.
func TestIntLiteralsMatchPlanbuilder(t *testing.T) {
	ctx := sql.NewEmptyContext()
	var vals []string
	for _, v := range []int64{0, 1, -1, math.MinInt8, math.MaxInt8, math.MaxUint8, math.MinInt16, math.MaxInt16,
		math.MaxUint16, math.MinInt32, math.MaxInt32, math.MaxUint32, math.MinInt64, math.MaxInt64} {
		for _, d := range []int64{-1, 0, 1} {
			if (d < 0 && v == math.MinInt64) || (d > 0 && v == math.MaxInt64) {
				continue
			}
			vals = append(vals, strconv.FormatInt(v+d, 10))
		}
	}
	for _, v := range vals {
		t.Run(v, func(t *testing.T) {
			bindings := map[string]ast.Expr{"v1": ast.NewIntVal([]byte(v))}
			got, ok := intLiterals(bindings)
			require.True(t, ok)
			b := planbuilder.New(ctx, nil, nil)
			b.SetBindings(bindings)
			want := b.BindCtx().Bindings["v1"].(*expression.Literal)
			lit := got["v1"].(*expression.Literal)
			require.Equal(t, want.Type(), lit.Type())
			require.Equal(t, want.Value(), lit.Value())
		})
	}
	// Values the fast path leaves to the planbuilder.
	for _, e := range []ast.Expr{
		ast.NewIntVal([]byte("18446744073709551615")), // beyond int64: unsigned, planbuilder's
		ast.NewStrVal([]byte("7")),
		ast.NewFloatVal([]byte("1.5")),
		&ast.NullVal{},
	} {
		_, ok := intLiterals(map[string]ast.Expr{"v1": ast.NewIntVal([]byte("1")), "v2": e})
		require.False(t, ok, "%#v", e)
	}
}
