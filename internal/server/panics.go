package server

import (
	"errors"

	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/recovered"
)

// A panic while a statement runs is a bug in the engine (or in SibylDB),
// not the client's business: the client gets ER_UNKNOWN_ERROR with the
// panic's one-line message, and the stack goes to the server log with the
// connection it happened on. go-mysql-server recovers panics in its own
// row goroutines (errguard) but puts the stack in the error text; ours
// (package recovered) do the same, so both are found by their text.

// recoverStatement, deferred by the handler's statement methods, turns a
// panic in the handler's own goroutine into the statement's error: vitess
// would otherwise close the connection (the client sees 2013).
func (h *handler) recoverStatement(c *mysql.Conn, errp *error) {
	if r := recover(); r != nil {
		*errp = h.hidePanic(c, recovered.New(r))
	}
}

// hidePanic logs the stack of a recovered panic carried by err and
// returns the short error for the client; other errors are returned as
// they are.
func (h *handler) hidePanic(c *mysql.Conn, err error) error {
	if err == nil {
		return nil
	}
	short, stack, ok := recovered.Split(err.Error())
	if !ok {
		return err
	}
	h.log.WithField("connectionID", c.ConnectionID).Errorf("statement panicked: %s\n%s", short, stack)
	var sqlErr *mysql.SQLError
	if errors.As(err, &sqlErr) && sqlErr.Num != mysql.ERUnknownError {
		return mysql.NewSQLError(sqlErr.Num, sqlErr.State, "%s", "internal error: "+short)
	}
	return mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "%s", "internal error: "+short)
}

// beginStatement starts the memory governor's watch over c's statement.
func (h *handler) beginStatement(c *mysql.Conn) {
	if h.governor != nil {
		h.governor.Begin(c.ConnectionID)
	}
}

// endStatement ends the watch. A statement the governor stopped fails
// with its error instead of the cancellation, and a statement stopped by
// KILL QUERY with MySQL's ER_QUERY_INTERRUPTED rather than GMS's
// "context canceled".
func (h *handler) endStatement(c *mysql.Conn, errp *error) {
	if h.governor != nil {
		if gerr := h.governor.End(c.ConnectionID); gerr != nil && *errp != nil {
			h.log.WithField("connectionID", c.ConnectionID).Warn(gerr.Error())
			*errp = gerr
			return
		}
	}
	var sqlErr *mysql.SQLError
	if *errp != nil && errors.As(*errp, &sqlErr) && sqlErr.Num == mysql.ERUnknownError && sqlErr.Message == "context canceled" {
		*errp = mysql.NewSQLError(mysql.ERQueryInterrupted, "70100", "Query execution was interrupted")
	}
}
