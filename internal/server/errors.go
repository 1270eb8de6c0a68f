package server

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
)

// GMS reports many errors as the generic 1105/HY000. MySQL clients and
// drivers branch on the code and on the SQLSTATE class (42 = syntax or
// access rule, 23 = integrity constraint), so mysqlError gives errors their
// MySQL identity on the way out.

// sqlStates gives the SQLSTATE for codes GMS sends with HY000.
var sqlStates = map[int]string{
	mysql.ERParseError:            mysql.SSClientError,
	mysql.ERNoSuchTable:           "42S02",
	mysql.ERBadTable:              "42S02",
	mysql.ERBadFieldError:         "42S22",
	mysql.ERBadDb:                 "42000",
	mysql.ERTableExists:           "42S01",
	mysql.ERDupEntry:              "23000",
	mysql.ERBadNullError:          "23000",
	1452:                          "23000", // ER_NO_REFERENCED_ROW_2
	mysql.ERRowIsReferenced2:      "23000",
	1142:                          "42000", // ER_TABLEACCESS_DENIED_ERROR
	mysql.ERDBAccessDenied:        "42000",
	mysql.ERSpecifiedAccessDenied: "42000",
	mysql.ERSPDoesNotExist:        "42000",
}

// genericErrors maps the message prefixes of GMS errors that reach the client
// as 1105 to MySQL's codes. The texts are those of the pinned GMS version;
// the end-to-end tests fail if they drift.
var genericErrors = []struct {
	prefix string
	code   int
}{
	{"command denied to user", 1142},
	{"Access denied for user", 1142}, // table-level; database-level below wins by order
}

var dbAccessDenied = regexp.MustCompile(`^Access denied for user .* to database '`)

var unknownColumn = regexp.MustCompile(`^column ".*" could not be found in any table in scope$`)

var unknownFunction = regexp.MustCompile(`^function: '.*' not found$`)

// nested matches an error GMS wrapped around an already-coded MySQL error.
var nested = regexp.MustCompile(`^(.*) \(errno (\d+)\) \(sqlstate (\w{5})\)$`)

// mysqlError gives an error about to go to the client its MySQL code and
// SQLSTATE.
func mysqlError(err error) error {
	var sqlErr *mysql.SQLError
	if err == nil || !errors.As(err, &sqlErr) {
		return err
	}
	num, state, msg := sqlErr.Num, sqlErr.State, sqlErr.Message
	if num == mysql.ERUnknownError {
		if m := nested.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[2])
			num, state, msg = n, m[3], m[1]
		} else if dbAccessDenied.MatchString(msg) {
			num = mysql.ERDBAccessDenied
		} else if unknownColumn.MatchString(msg) {
			num = mysql.ERBadFieldError
		} else if unknownFunction.MatchString(msg) {
			num = mysql.ERSPDoesNotExist
		} else {
			for _, g := range genericErrors {
				if strings.HasPrefix(msg, g.prefix) {
					num = g.code
					break
				}
			}
		}
	}
	if s, ok := sqlStates[num]; ok && state == mysql.SSUnknownSQLState {
		state = s
	}
	if num == sqlErr.Num && state == sqlErr.State && msg == sqlErr.Message {
		return err
	}
	return mysql.NewSQLError(num, state, "%s", msg)
}
