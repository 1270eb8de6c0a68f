package vecsql

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/ml/vector"
)

// Model is an embedding model sibyl_embed calls besides the built-in one:
// an ONNX sentence-transformer the operator supplies, or a remote model
// (an endpoint, Amazon Bedrock). The server provides them (Models).
type Model interface {
	// Dim is the vector size, 0 when only the model's answers tell.
	Dim() int
	// Remote reports whether texts leave the server (columns marked
	// sibyl:no_egress may not be sent).
	Remote() bool
	MaxBatch() int
	Concurrency() int
	// Authorize checks, before any row is read, that the session may use
	// the model (and readies it).
	Authorize(ctx *sql.Context) error
	// Embed returns one vector per text.
	Embed(ctx *sql.Context, texts []string) ([][]float32, error)
}

// Models resolves sibyl_embed's model argument to a Model; ok is false for
// a name that is no model.
type Models func(name string) (m Model, ok bool, err error)

// EmbedFunction is sibyl_embed(text [, model]): the text's embedding as a
// VECTOR. Without a model (or with 'local' or 'sif-glove-100d') the
// built-in model answers; other names are resolved by models when the
// statement is planned, so the model must be a constant string. Calls go
// through the batching operator (internal/exec), so a statement over many
// rows embeds them in batches, concurrently, and a text repeated in a
// statement is embedded once.
func EmbedFunction(models Models) sql.Function {
	return sql.FunctionN{Name: "sibyl_embed", Fn: func(args ...sql.Expression) (sql.Expression, error) {
		if len(args) < 1 || len(args) > 2 {
			return nil, sql.ErrInvalidArgumentNumber.New("SIBYL_EMBED", "1 or 2", len(args))
		}
		name := ""
		if len(args) == 2 {
			if _, ok := args[1].(*expression.BindVar); ok {
				// PREPARE plans with the parameter unbound, for the
				// statement's metadata; each EXECUTE plans again with the
				// value as a literal.
				return exec.NewFuncCall(unboundInvoker{}, args, types.VectorType{}, exec.FuncCallOptions{}), nil
			}
			lit, ok := args[1].(*expression.Literal)
			if !ok {
				return nil, wrongEmbedArgs("the model must be a constant string")
			}
			if v := lit.Value(); v != nil {
				if name, ok = text(v); !ok {
					return nil, wrongEmbedArgs("the model must be a constant string")
				}
			}
		}
		name = strings.TrimSpace(name)
		if name == "" || strings.EqualFold(name, vector.LocalModel) || strings.EqualFold(name, "local") {
			m, err := vector.Local()
			if err != nil {
				return nil, err
			}
			return exec.NewFuncCall(localInvoker{m: m}, args, types.VectorType{Dimensions: m.Dim()}, exec.FuncCallOptions{}), nil
		}
		var m Model
		ok := false
		if models != nil {
			var err error
			if m, ok, err = models(name); err != nil {
				return nil, err
			}
		}
		if !ok {
			return nil, wrongEmbedArgs(fmt.Sprintf("unknown model '%s' (use '%s', 'onnx:/folder', an endpoint name or a Bedrock embedding model ID)", name, vector.LocalModel))
		}
		return exec.NewFuncCall(modelInvoker{name: name, m: m}, args, types.VectorType{Dimensions: m.Dim()}, exec.FuncCallOptions{}), nil
	}}
}

// wrongEmbedArgs is ER_WRONG_ARGUMENTS for sibyl_embed.
func wrongEmbedArgs(why string) error {
	return mysql.NewSQLError(ErrWrongArguments, "HY000", "Incorrect arguments to sibyl_embed: %s", why)
}

// texts reads the first argument of each row; NULL rows are left out and
// their positions reported as -1 in at.
func texts(ctx *sql.Context, args [][]any) (out []string, at []int, err error) {
	at = make([]int, len(args))
	for i, a := range args {
		at[i] = -1
		if len(a) == 0 || a[0] == nil {
			continue
		}
		s, ok := text(a[0])
		if !ok {
			v, _, err := types.LongText.Convert(ctx, a[0])
			if err != nil {
				return nil, nil, err
			}
			s, _ = v.(string)
		}
		at[i] = len(out)
		out = append(out, s)
	}
	return out, at, nil
}

// localInvoker embeds with the built-in model, in process.
type localInvoker struct{ m *vector.SIF }

func (e localInvoker) Key() string      { return "sibyl_embed:" + vector.LocalModel }
func (e localInvoker) Name() string     { return "sibyl_embed" }
func (e localInvoker) MaxBatch() int    { return 4096 }
func (e localInvoker) Concurrency() int { return 2 }

// Invoke implements exec.Invoker.
func (e localInvoker) Invoke(ctx *sql.Context, args [][]any) ([]any, error) {
	in, at, err := texts(ctx, args)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(args))
	for i, k := range at {
		if k >= 0 {
			out[i] = vector.Encode(e.m.Embed(in[k]))
		}
	}
	return out, nil
}

// unboundInvoker stands for a model given as a prepared statement's
// parameter until EXECUTE binds it.
type unboundInvoker struct{}

func (unboundInvoker) Key() string      { return "sibyl_embed:?" }
func (unboundInvoker) Name() string     { return "sibyl_embed" }
func (unboundInvoker) MaxBatch() int    { return 1 }
func (unboundInvoker) Concurrency() int { return 1 }
func (unboundInvoker) Invoke(*sql.Context, [][]any) ([]any, error) {
	return nil, wrongEmbedArgs("the model parameter is not bound")
}

// modelInvoker embeds with a Model.
type modelInvoker struct {
	name string
	m    Model
}

func (e modelInvoker) Key() string      { return "sibyl_embed:" + strings.ToLower(e.name) }
func (e modelInvoker) Name() string     { return "sibyl_embed" }
func (e modelInvoker) MaxBatch() int    { return max(1, e.m.MaxBatch()) }
func (e modelInvoker) Concurrency() int { return max(1, e.m.Concurrency()) }

// Authorize implements exec.Authorizer.
func (e modelInvoker) Authorize(ctx *sql.Context) error { return e.m.Authorize(ctx) }

// Remote implements exec.RemoteInvoker.
func (e modelInvoker) Remote() bool { return e.m.Remote() }

// Invoke implements exec.Invoker.
func (e modelInvoker) Invoke(ctx *sql.Context, args [][]any) ([]any, error) {
	in, at, err := texts(ctx, args)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(args))
	if len(in) == 0 {
		return out, nil
	}
	vecs, err := e.m.Embed(ctx, in)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(in) {
		return nil, fmt.Errorf("sibyl_embed: model '%s' returned %d vectors for %d texts", e.name, len(vecs), len(in))
	}
	dim := e.m.Dim()
	for i, k := range at {
		if k < 0 {
			continue
		}
		v := vecs[k]
		if len(v) == 0 || len(v) > types.MaxVectorDimensions || (dim > 0 && len(v) != dim) {
			return nil, fmt.Errorf("sibyl_embed: model '%s' returned a vector of %d dimensions", e.name, len(v))
		}
		out[i] = vector.Encode(v)
	}
	return out, nil
}
