package sqlext

import (
	"context"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/privilege"
)

// TestParserMarksExtraPrivileges checks which privileges the parser adds to
// a statement's authorization (privilege.AlsoNeeds), by auth type of the
// node carrying it, including statements inside routine bodies, which
// ast.Walk does not enter.
func TestParserMarksExtraPrivileges(t *testing.T) {
	p := NewParser(sql.NewMysqlParser())
	for _, c := range []struct {
		query string
		want  map[string]privilege.AlsoNeeds // auth type -> extra; absent: none
	}{
		{"INSERT INTO t VALUES (1)", nil},
		{"INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE v = 2", map[string]privilege.AlsoNeeds{"INSERT": {"UPDATE"}}},
		{"REPLACE INTO t VALUES (1)", nil},
		{"UPDATE t SET v = 1", nil},
		{"UPDATE t SET v = v + 1", map[string]privilege.AlsoNeeds{"UPDATE": {"SELECT"}}},
		{"UPDATE t SET v = 1 WHERE id = 2", map[string]privilege.AlsoNeeds{"UPDATE": {"SELECT"}}},
		{"UPDATE t SET v = 1 ORDER BY id LIMIT 1", map[string]privilege.AlsoNeeds{"UPDATE": {"SELECT"}}},
		{"DELETE FROM t", nil},
		{"DELETE FROM t WHERE id = 2", map[string]privilege.AlsoNeeds{"DELETE": {"SELECT"}}},
		{"SELECT * FROM t", nil},
		{"SELECT * FROM t WHERE id = 1 FOR UPDATE", map[string]privilege.AlsoNeeds{"SELECT": {"UPDATE", "DELETE", "LOCK"}}},
		{"SELECT * FROM t WHERE id = 1 LOCK IN SHARE MODE", map[string]privilege.AlsoNeeds{"SELECT": {"UPDATE", "DELETE", "LOCK"}}},
		{"select * from t where id = 1 for share", map[string]privilege.AlsoNeeds{"SELECT": {"UPDATE", "DELETE", "LOCK"}}},
		{"CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN DELETE FROM u WHERE id = NEW.id; END", map[string]privilege.AlsoNeeds{"DELETE": {"SELECT"}}},
		{"CREATE PROCEDURE p() INSERT INTO u VALUES (1) ON DUPLICATE KEY UPDATE v = 1", map[string]privilege.AlsoNeeds{"INSERT": {"UPDATE"}}},
	} {
		st, _, _, err := p.ParseWithOptions(context.Background(), c.query, ';', false, ast.ParserOptions{})
		require.NoError(t, err, c.query)
		got := map[string]privilege.AlsoNeeds{}
		var walk func(n ast.SQLNode)
		walk = func(n ast.SQLNode) {
			_ = ast.Walk(func(node ast.SQLNode) (bool, error) {
				if an, ok := node.(ast.AuthNode); ok {
					if also, ok := an.GetAuthInformation().Extra.(privilege.AlsoNeeds); ok {
						got[an.GetAuthInformation().AuthType] = also
					}
				}
				if ddl, ok := node.(*ast.DDL); ok && routineBody(ddl) != nil {
					walk(routineBody(ddl))
				}
				return true, nil
			}, n)
		}
		walk(st)
		if c.want == nil {
			c.want = map[string]privilege.AlsoNeeds{}
		}
		require.Equal(t, c.want, got, c.query)
	}
}

func TestParserMarksTablesCopied(t *testing.T) {
	p := NewParser(sql.NewMysqlParser())
	for q, want := range map[string]privilege.AlsoReads{
		"CREATE TABLE c LIKE hr.pay": {"hr", "pay"},
		"CREATE TABLE c LIKE pay":    {"", "pay"},
		"CREATE TABLE c (id INT)":    nil,
	} {
		st, _, _, err := p.ParseWithOptions(context.Background(), q, ';', false, ast.ParserOptions{})
		require.NoError(t, err, q)
		got, _ := st.(*ast.DDL).Auth.Extra.(privilege.AlsoReads)
		require.Equal(t, want, got, q)
	}
}

func TestShareModeSpelling(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1 FOR SHARE":           "SELECT 1 LOCK IN SHARE MODE",
		"select 1 for  share ;":        "select 1 LOCK IN SHARE MODE ;",
		"SELECT 'FOR SHARE' FROM t":    "SELECT 'FOR SHARE' FROM t",
		"SELECT 1 FOR UPDATE":          "SELECT 1 FOR UPDATE",
		"SELECT 1 FOR SHARE; SELECT 2": "SELECT 1 LOCK IN SHARE MODE; SELECT 2",
		"SELECT * FROM shareforshare":  "SELECT * FROM shareforshare",
	} {
		require.Equal(t, want, ShareModeSpelling(in), in)
	}
}
