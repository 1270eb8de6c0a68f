package vecsql

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/ml/vector"
)

// embedFunction is sibyl_embed(text [, model]): the text's embedding as a
// VECTOR. Calls go through the batching operator (internal/exec), so a
// statement over many rows embeds them in batches on both cores, and a
// text repeated in a statement is embedded once.
func embedFunction() sql.Function {
	return sql.FunctionN{Name: "sibyl_embed", Fn: func(args ...sql.Expression) (sql.Expression, error) {
		if len(args) < 1 || len(args) > 2 {
			return nil, sql.ErrInvalidArgumentNumber.New("SIBYL_EMBED", "1 or 2", len(args))
		}
		m, err := vector.Local()
		if err != nil {
			return nil, err
		}
		return exec.NewFuncCall(embedInvoker{m: m}, args, types.VectorType{Dimensions: m.Dim()}, exec.FuncCallOptions{}), nil
	}}
}

// ErrUnknownModel is returned for a model name sibyl_embed does not serve
// (ER_WRONG_ARGUMENTS).
func unknownModel(name string) error {
	return mysql.NewSQLError(ErrWrongArguments, "HY000", "Incorrect arguments to sibyl_embed: unknown model '%s' (available: '%s')", name, vector.LocalModel)
}

type embedInvoker struct{ m *vector.SIF }

func (e embedInvoker) Key() string      { return "sibyl_embed:" + vector.LocalModel }
func (e embedInvoker) Name() string     { return "sibyl_embed" }
func (e embedInvoker) MaxBatch() int    { return 4096 }
func (e embedInvoker) Concurrency() int { return 2 }

// Invoke implements exec.Invoker.
func (e embedInvoker) Invoke(ctx *sql.Context, args [][]any) ([]any, error) {
	out := make([]any, len(args))
	for i, a := range args {
		if len(a) == 0 || a[0] == nil {
			continue
		}
		if len(a) > 1 && a[1] != nil {
			name, _ := text(a[1])
			if !strings.EqualFold(name, vector.LocalModel) && !strings.EqualFold(name, "local") {
				return nil, unknownModel(name)
			}
		}
		s, ok := text(a[0])
		if !ok {
			v, _, err := types.LongText.Convert(ctx, a[0])
			if err != nil {
				return nil, err
			}
			s, _ = v.(string)
		}
		out[i] = vector.Encode(e.m.Embed(s))
	}
	return out, nil
}
