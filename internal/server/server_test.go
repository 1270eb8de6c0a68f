package server_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	gmssql "github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/server"
	"github.com/sibyldb/sibyldb/internal/sqlfunc"
)

// startInProcess runs a server inside the test process so the test can use
// its Go-level seams while talking to it over a real MySQL connection.
func startInProcess(t *testing.T, dataDir string) (*server.Server, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{DataDir: dataDir, Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second})
	require.NoError(t, err)
	go func() { _ = srv.Serve() }()
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/", srv.Addr()))
	require.NoError(t, err)
	require.NoError(t, db.Ping())
	t.Cleanup(func() { db.Close() })
	return srv, db
}

// addN is a minimal run-time SQL function: name(x) = x + n.
type addN struct {
	name  string
	n     int64
	child gmssql.Expression
}

func newAddFunction(name string, n int64) gmssql.Function {
	return gmssql.Function1{Name: name, Fn: func(e gmssql.Expression) gmssql.Expression {
		return &addN{name: name, n: n, child: e}
	}}
}

func (a *addN) Resolved() bool                { return a.child.Resolved() }
func (a *addN) String() string                { return fmt.Sprintf("%s(%s)", a.name, a.child) }
func (a *addN) Type() gmssql.Type             { return types.Int64 }
func (a *addN) IsNullable() bool              { return a.child.IsNullable() }
func (a *addN) Children() []gmssql.Expression { return []gmssql.Expression{a.child} }
func (a *addN) WithChildren(c ...gmssql.Expression) (gmssql.Expression, error) {
	return &addN{name: a.name, n: a.n, child: c[0]}, nil
}
func (a *addN) Eval(ctx *gmssql.Context, row gmssql.Row) (any, error) {
	v, err := a.child.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	x, _, err := types.Int64.Convert(ctx, v)
	if err != nil {
		return nil, err
	}
	return x.(int64) + a.n, nil
}

func catalogObject(kind, name, def string) catalog.Object {
	return catalog.Object{Kind: kind, Name: name, Definition: def}
}

func TestFunctionsAddedAndDroppedWhileRunning(t *testing.T) {
	srv, db := startInProcess(t, t.TempDir())
	defer srv.Shutdown(context.Background())

	var n int
	err := db.QueryRow("SELECT twice_plus(21)").Scan(&n)
	var me *mysql.MySQLError
	require.True(t, errors.As(err, &me), "%v", err)
	require.EqualValues(t, 1305, me.Number, "unknown function: %v", err)

	require.NoError(t, srv.Functions.Register(nil, "", newAddFunction("twice_plus", 21)))
	require.NoError(t, db.QueryRow("SELECT twice_plus(21)").Scan(&n))
	require.Equal(t, 42, n)

	err = srv.Functions.Register(nil, "", newAddFunction("TWICE_PLUS", 1))
	require.ErrorIs(t, err, sqlfunc.ErrExists)

	ctx, err := srv.NewContext(context.Background())
	require.NoError(t, err)
	for _, builtin := range []string{"upper", "CONCAT", "dolt_hashof"} {
		err = srv.Functions.Register(ctx, "", newAddFunction(builtin, 1))
		require.ErrorIs(t, err, sqlfunc.ErrShadowsBuiltin, builtin)
	}

	require.True(t, srv.Functions.Drop("", "twice_plus"))
	require.False(t, srv.Functions.Drop("", "twice_plus"))
	err = db.QueryRow("SELECT twice_plus(21)").Scan(&n)
	require.True(t, errors.As(err, &me), "%v", err)
	require.EqualValues(t, 1305, me.Number)
}

func TestCatalogObjectsAreTransactionalAndDurable(t *testing.T) {
	dir := t.TempDir()
	srv, _ := startInProcess(t, dir)
	ctx, err := srv.NewContext(context.Background())
	require.NoError(t, err)
	run := func(q string) {
		_, iter, _, err := srv.Engine().Query(ctx, q)
		require.NoError(t, err, q)
		_, err = gmssql.RowIterToRows(ctx, iter)
		require.NoError(t, err, q)
	}
	cat := srv.Catalog

	run("START TRANSACTION")
	require.NoError(t, cat.Put(ctx, catalogObject("endpoint", "churn", `{"url":"http://a"}`)))
	obj, ok, err := cat.Get(ctx, "endpoint", "CHURN")
	require.NoError(t, err)
	require.True(t, ok, "visible inside its own transaction")
	require.Equal(t, `{"url":"http://a"}`, obj.Definition)
	run("ROLLBACK")
	_, ok, err = cat.Get(ctx, "endpoint", "churn")
	require.NoError(t, err)
	require.False(t, ok, "rolled back")

	run("START TRANSACTION")
	require.NoError(t, cat.Put(ctx, catalogObject("endpoint", "churn", `{"url":"http://a"}`)))
	require.NoError(t, cat.Put(ctx, catalogObject("endpoint", "churn", `{"url":"http://b"}`)))
	require.NoError(t, cat.Put(ctx, catalogObject("endpoint", "fraud", `{}`)))
	require.NoError(t, cat.Put(ctx, catalogObject("model", "churn", `{}`)))
	run("COMMIT")
	_, err = cat.Delete(ctx, "endpoint", "fraud")
	require.ErrorIs(t, err, catalog.ErrNoTransaction)
	run("START TRANSACTION")
	deleted, err := cat.Delete(ctx, "endpoint", "fraud")
	require.NoError(t, err)
	require.True(t, deleted)
	run("COMMIT")

	require.NoError(t, srv.Shutdown(context.Background()))

	srv, _ = startInProcess(t, dir)
	defer srv.Shutdown(context.Background())
	ctx, err = srv.NewContext(context.Background())
	require.NoError(t, err)
	objs, err := srv.Catalog.List(ctx, "endpoint")
	require.NoError(t, err)
	require.Len(t, objs, 1)
	require.Equal(t, "churn", objs[0].Name)
	require.Equal(t, `{"url":"http://b"}`, objs[0].Definition)
	models, err := srv.Catalog.List(ctx, "model")
	require.NoError(t, err)
	require.Len(t, models, 1)
}
