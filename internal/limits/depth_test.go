package limits

import (
	"strings"
	"testing"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	"github.com/stretchr/testify/require"
)

func TestDepth(t *testing.T) {
	parse := func(q string) ast.Statement {
		st, err := ast.Parse(q)
		require.NoError(t, err, q)
		return st
	}
	shallow := Depth(parse("SELECT 1"), 1000)
	deeper := Depth(parse("SELECT 1+1+1+1"), 1000)
	require.Greater(t, deeper, shallow)
	require.Equal(t, 3, deeper-shallow, "each + nests one level")

	// Wide is not deep.
	in := "SELECT 1 FROM t WHERE x IN (" + strings.Repeat("1,", 5000) + "1)"
	require.Less(t, Depth(parse(in), 1000), 20)

	// A deep tree is walked only to just past the limit.
	deep := parse("SELECT 1" + strings.Repeat("+1", 50000))
	require.Equal(t, 101, Depth(deep, 100))
}
