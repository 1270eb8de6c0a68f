package server

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/status"
)

func TestIsWrite(t *testing.T) {
	cases := []struct {
		q     string
		write bool
	}{
		{"SELECT * FROM t", false},
		{"select v from t where id = 1 for update", true},
		{"SELECT v FROM t LOCK IN SHARE MODE", true},
		{"(SELECT 1) UNION (SELECT 2)", false},
		{"WITH x AS (SELECT 1) SELECT * FROM x", false},
		{"WITH x AS (SELECT 1 AS id) UPDATE t JOIN x USING (id) SET t.v = 0", true},
		{"WITH broken syntax", true},
		{"SHOW TABLES", false},
		{"EXPLAIN SELECT 1", false},
		{"BEGIN", false},
		{"START TRANSACTION", false},
		{"COMMIT", false},
		{"SET autocommit = 0", false},
		{"/* c */ INSERT INTO t VALUES (1)", true},
		{"UPDATE t SET v = v + 1", true},
		{"DELETE FROM t", true},
		{"REPLACE INTO t VALUES (1)", true},
		{"CREATE TABLE t (id INT)", true},
		{"CALL p()", true},
		{"LOAD DATA INFILE 'x' INTO TABLE t", true},
		{"CREATE MODEL m FROM t TARGET y FUNCTION f", true},
		{"unknown statement", true},
	}
	for _, c := range cases {
		require.Equal(t, c.write, isWrite(c.q), c.q)
	}
}

func TestWriteLockTimeoutAndCounters(t *testing.T) {
	reg := status.Global()
	l := newWriteLock(reg)
	waits0, timeouts0 := l.waits.Value(), l.timeouts.Value()

	require.NoError(t, l.acquire(context.Background(), time.Second))
	err := l.acquire(context.Background(), 50*time.Millisecond)
	var sqlErr *mysql.SQLError
	require.True(t, errors.As(err, &sqlErr))
	require.Equal(t, mysql.ERLockWaitTimeout, sqlErr.Num)
	require.Equal(t, waits0+1, l.waits.Value())
	require.Equal(t, timeouts0+1, l.timeouts.Value())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, l.acquire(ctx, time.Minute), context.Canceled)

	// Waiters are admitted one at a time as the holder releases.
	var wg sync.WaitGroup
	var mu sync.Mutex
	inside := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, l.acquire(context.Background(), 10*time.Second))
			mu.Lock()
			inside++
			require.Equal(t, 1, inside)
			inside--
			mu.Unlock()
			l.release()
		}()
	}
	l.release()
	wg.Wait()
}

func TestMySQLErrorMapping(t *testing.T) {
	cases := []struct {
		in        error
		num       int
		state     string
		msgPrefix string
	}{
		{mysql.NewSQLError(1105, "HY000", "You have an error in your SQL syntax; near 'x' (errno 1064) (sqlstate 42000)"), 1064, "42000", "You have an error"},
		{mysql.NewSQLError(1146, "HY000", "table not found: t"), 1146, "42S02", "table not found"},
		{mysql.NewSQLError(1105, "HY000", "%s", "command denied to user 'u'@'%'"), 1142, "42000", "command denied"},
		{mysql.NewSQLError(1105, "HY000", "%s", "Access denied for user 'u'@'%' to database 'd'"), 1044, "42000", "Access denied"},
		{mysql.NewSQLError(1105, "HY000", `column "c" could not be found in any table in scope`), 1054, "42S22", "column"},
		{mysql.NewSQLError(1105, "HY000", "function: 'f' not found"), 1305, "42000", "function"},
		{mysql.NewSQLError(1062, "23000", "duplicate"), 1062, "23000", "duplicate"},
		{mysql.NewSQLError(1105, "HY000", "something else"), 1105, "HY000", "something else"},
	}
	for _, c := range cases {
		var got *mysql.SQLError
		require.True(t, errors.As(mysqlError(c.in), &got))
		require.Equal(t, c.num, got.Num, c.in.Error())
		require.Equal(t, c.state, got.State, c.in.Error())
		require.Contains(t, got.Message, c.msgPrefix)
	}
	require.NoError(t, mysqlError(nil))
}
