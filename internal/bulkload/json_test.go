package bulkload

import (
	"context"
	"strings"
	"testing"

	"github.com/dolthub/dolt/go/store/pool"
	"github.com/dolthub/dolt/go/store/prolly/tree"
	"github.com/dolthub/dolt/go/store/val"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/stretchr/testify/require"
)

// TestPutSmallJSONMatchesDolt checks that putSmallJSON stores a document
// at the address Dolt's own tree.PutField gives it, and steps aside for
// documents it does not write.
func TestPutSmallJSONMatchesDolt(t *testing.T) {
	ctx := context.Background()
	desc := val.NewTupleDescriptor(val.Type{Enc: val.JSONAddrEnc, Nullable: true})
	tests := []struct {
		name    string
		v       any
		handled bool
	}{
		{"regression result", types.JSONDocument{Val: map[string]any{"predictions": map[string]any{"prediction": 1234.5678}}}, true},
		{"classification result", types.JSONDocument{Val: map[string]any{"predictions": map[string]any{"class": "yes"},
			"probabilities": map[string]any{"yes": 0.75, "no": 0.25}}}, true},
		{"array", types.JSONDocument{Val: []any{1.0, "two", nil, true}}, true},
		{"scalar", types.JSONDocument{Val: 3.5}, true},
		{"text", `{"b": [1, 2], "a": "x"}`, true},
		// {"k":"..."} is 8 bytes and the string.
		{"one byte below a chunk", types.JSONDocument{Val: map[string]any{"k": strings.Repeat("x", smallJSON-9)}}, true},
		{"a chunk", types.JSONDocument{Val: map[string]any{"k": strings.Repeat("x", smallJSON-8)}}, false},
		{"large", types.JSONDocument{Val: map[string]any{"k": strings.Repeat("xy", 10000)}}, false},
		{"null", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := tree.NewTestNodeStore()
			want := val.NewTupleBuilder(desc, ns)
			require.NoError(t, tree.PutField(ctx, ns, want, 0, tt.v))
			wantTup, err := want.Build(pool.NewBuffPool())
			require.NoError(t, err)

			ns2 := tree.NewTestNodeStore()
			got := val.NewTupleBuilder(desc, ns2)
			handled, err := putSmallJSON(ctx, ns2, got, 0, tt.v)
			require.NoError(t, err)
			require.Equal(t, tt.handled, handled)
			if !handled {
				return
			}
			gotTup, err := got.Build(pool.NewBuffPool())
			require.NoError(t, err)
			require.Equal(t, []byte(wantTup), []byte(gotTup))
			// The document is in the store, and reads back as written.
			v, err := tree.GetField(ctx, desc, 0, gotTup, ns2)
			require.NoError(t, err)
			stored, err := types.MarshallJson(ctx, v.(sql.JSONWrapper))
			require.NoError(t, err)
			j, _, err := types.JSON.Convert(ctx, tt.v)
			require.NoError(t, err)
			orig, err := types.MarshallJson(ctx, j.(sql.JSONWrapper))
			require.NoError(t, err)
			require.Equal(t, string(orig), string(stored))
		})
	}
}
