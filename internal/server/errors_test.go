package server

import (
	"errors"
	"testing"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/stretchr/testify/require"
)

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
