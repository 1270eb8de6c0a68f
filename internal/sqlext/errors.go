package sqlext

import (
	"errors"
	"fmt"

	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// SyntaxError is MySQL's error 1064 for a statement an extension recognised
// but could not parse; near is the text from the offending token on.
func SyntaxError(near string) error {
	return mysql.NewSQLError(mysql.ERParseError, mysql.SSClientError,
		"You have an error in your SQL syntax; check the manual that corresponds to your SibylDB server version for the right syntax to use near '%s'", truncate(near, 80))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s...", s[:n])
}

// syntaxError gives a vitess parse failure MySQL's code 1064 and SQLSTATE
// 42000 (GMS would report it as the generic 1105), keeping vitess's
// position information in the message.
func syntaxError(err error) error {
	var sqlErr *mysql.SQLError
	if err == nil || errors.Is(err, ast.ErrEmpty) || errors.As(err, &sqlErr) {
		return err
	}
	return mysql.NewSQLError(mysql.ERParseError, mysql.SSClientError,
		"You have an error in your SQL syntax; %s", err.Error())
}
