package exec

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// remoteEcho is a remote Invoker that records what it was sent.
type remoteEcho struct {
	mu   sync.Mutex
	sent []string
}

func (r *remoteEcho) Key() string      { return "echo" }
func (r *remoteEcho) Name() string     { return "echo" }
func (r *remoteEcho) MaxBatch() int    { return 10 }
func (r *remoteEcho) Concurrency() int { return 1 }
func (r *remoteEcho) Remote() bool     { return true }
func (r *remoteEcho) Invoke(_ *sql.Context, args [][]any) ([]any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]any, len(args))
	for i, a := range args {
		r.sent = append(r.sent, fmt.Sprint(a[0]))
		out[i] = fmt.Sprint(a[0])
	}
	return out, nil
}

func newEngine(t *testing.T) (*sqle.Engine, *sql.Context, *remoteEcho) {
	Install()
	db := memory.NewDatabase("mydb")
	pro := memory.NewDBProvider(db)
	e := sqle.NewDefault(pro)
	sess := memory.NewSession(sql.NewBaseSession(), pro)
	ctx := sql.NewContext(context.Background(), sql.WithSession(sess))
	ctx.SetCurrentDatabase("mydb")
	inv := &remoteEcho{}
	e.Analyzer.Catalog.RegisterFunction(ctx, sql.FunctionN{Name: "echo", Fn: func(args ...sql.Expression) (sql.Expression, error) {
		return NewFuncCall(inv, args, types.LongText, FuncCallOptions{}), nil
	}})
	return e, ctx, inv
}

func run(ctx *sql.Context, e *sqle.Engine, q string) ([]sql.Row, error) {
	_, it, _, err := e.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	var out []sql.Row
	for {
		r, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			it.Close(ctx)
			return nil, err
		}
		out = append(out, r)
	}
	return out, it.Close(ctx)
}
