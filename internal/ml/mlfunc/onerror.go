package mlfunc

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
)

// What a failed model call does to its statement. By default (ERROR), as
// in Aurora and Redshift, a failed row fails the statement, and a failed
// INSERT or UPDATE changes nothing. With NULL, chosen for a session
// (SET sibyl_ml_on_error = 'NULL'), for the server (SET GLOBAL) or for one
// function (CREATE FUNCTION ... ON ERROR NULL, CREATE EXTERNAL MODEL ...
// ON ERROR NULL), the row's result is NULL and a warning names the
// function and the provider's message (SHOW WARNINGS).
//
// NULL covers what a call returns: the model server's or provider's
// errors (after retries), timeouts, an open circuit breaker, and answers
// that are not a valid value of the return type. What a statement asked
// for wrongly still fails it: an endpoint or model that does not exist, a
// model file or library that is missing, privileges, and the
// per-statement limits (sibyl_ml_max_*_per_statement), which exist to stop
// a statement.
const (
	VarOnError  = "sibyl_ml_on_error"
	OnErrorNull = "NULL"
)

// errCallFailedCode is the warning's code: MySQL has no code for a failed
// external call, so ER_UNKNOWN_ERROR, as the statement's error would be.
const errCallFailedCode = mysql.ERUnknownError

func onErrorVariable() sql.SystemVariable {
	return &sql.MysqlSystemVariable{Name: VarOnError, Scope: sql.GetMysqlScope(sql.SystemVariableScope_Both),
		Dynamic: true, Type: types.NewSystemEnumType(VarOnError, "ERROR", "NULL"), Default: "ERROR"}
}

// sessionOnErrorNull reads sibyl_ml_on_error for the session.
func sessionOnErrorNull(ctx *sql.Context) bool {
	v, err := ctx.GetSessionVariable(ctx, VarOnError)
	if err != nil {
		return false
	}
	s, _ := v.(string)
	return strings.EqualFold(s, OnErrorNull)
}

// failedCall stands for a row whose call failed under ON ERROR NULL: the
// invoker returns it in place of the answer (possibly from a batch
// goroutine) and convert, in the session's goroutine, turns it into NULL
// and a warning.
type failedCall struct{ msg string }

// onErrorNull reports whether failed calls of i's function yield NULL in
// this statement.
func (i *invoker) onErrorNull(ctx *sql.Context) bool {
	if strings.EqualFold(i.def.OnError, OnErrorNull) {
		return true
	}
	st := i.m.statementFor(ctx)
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.onErrorNull
}

// failedRows is n rows' failedCall for err.
func failedRows(n int, err error) []any {
	out := make([]any, n)
	for k := range out {
		out[k] = failedCall{msg: err.Error()}
	}
	return out
}

// warnNull records a failed row's warning and gives its NULL.
func warnNull(ctx *sql.Context, msg string) (any, error) {
	ctx.Warn(errCallFailedCode, "%s; the result is NULL (sibyl_ml_on_error = 'NULL')", msg)
	return nil, nil
}
