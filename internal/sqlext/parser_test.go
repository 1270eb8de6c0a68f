package sqlext

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	"github.com/stretchr/testify/require"
)

type countingFlusher struct{ n int }

func (c *countingFlusher) Flush() { c.n++ }

func TestFirstKeyword(t *testing.T) {
	cases := map[string]string{
		"select 1":                       "SELECT",
		"  \n\tFlush status":             "FLUSH",
		"/* hint */ update t set a=1":    "UPDATE",
		"-- comment\ninsert into t":      "INSERT",
		"# comment\nshow tables":         "SHOW",
		"/*!40101 SET NAMES utf8 */":     "SET",
		"(select 1) union (select 2)":    "SELECT",
		"":                               "",
		"/* unterminated":                "",
		"create model m from t target y": "CREATE",
	}
	for in, want := range cases {
		require.Equal(t, want, FirstKeyword(in), in)
	}
}

func TestFlushStatusParse(t *testing.T) {
	f := FlushStatus{}
	cases := []struct {
		stmt string
		ok   bool
	}{
		{"FLUSH STATUS", true},
		{"flush status", true},
		{"FLUSH LOCAL STATUS", true},
		{"FLUSH NO_WRITE_TO_BINLOG STATUS", true},
		{"FLUSH /* c */ STATUS", true},
		{"FLUSH PRIVILEGES", false},
		{"FLUSH TABLES", false},
		{"FLUSH STATUS EXTRA", false},
	}
	for _, c := range cases {
		_, _, ok, err := f.Parse(context.Background(), c.stmt)
		require.NoError(t, err, c.stmt)
		require.Equal(t, c.ok, ok, c.stmt)
	}
}

func TestParserRoutesExtensionsAndFallsBack(t *testing.T) {
	fl := &countingFlusher{}
	p := NewParser(sql.NewMysqlParser(), FlushStatus{Counters: fl})
	ctx := context.Background()

	st, err := p.ParseSimple("FLUSH STATUS;")
	require.NoError(t, err)
	inj, ok := st.(ast.InjectedStatement)
	require.True(t, ok, "FLUSH STATUS should be an injected statement, got %T", st)
	node, err := inj.Statement.WithResolvedChildren(nil)
	require.NoError(t, err)
	require.Equal(t, "FLUSH STATUS", node.(sql.Node).String())

	// Other FLUSH forms and ordinary statements go to GMS.
	st, err = p.ParseSimple("FLUSH PRIVILEGES")
	require.NoError(t, err)
	require.IsType(t, &ast.Flush{}, st)
	st, err = p.ParseSimple("SELECT 1")
	require.NoError(t, err)
	require.IsType(t, &ast.Select{}, st)

	// Multi-statement parsing splits after our statement.
	st, parsed, rest, err := p.ParseWithOptions(ctx, "FLUSH STATUS; SELECT 1", ';', true, ast.ParserOptions{})
	require.NoError(t, err)
	require.IsType(t, ast.InjectedStatement{}, st)
	require.Equal(t, "FLUSH STATUS", parsed)
	require.Equal(t, " SELECT 1", rest)

	st, next, err := p.ParseOneWithOptions(ctx, "flush local status; select 2", ast.ParserOptions{})
	require.NoError(t, err)
	require.IsType(t, ast.InjectedStatement{}, st)
	require.Equal(t, " select 2", "flush local status; select 2"[next:])
}

func TestSyntaxErrorsAre1064(t *testing.T) {
	p := NewParser(sql.NewMysqlParser())
	for _, q := range []string{"SELEC 1", "CREATE TABLE (", "SELECT * FROM"} {
		_, err := p.ParseSimple(q)
		var sqlErr *mysql.SQLError
		require.True(t, errors.As(err, &sqlErr), "%q: %v", q, err)
		require.Equal(t, mysql.ERParseError, sqlErr.Num, q)
		require.Equal(t, "42000", sqlErr.State, q)
	}
	// Empty statements keep vitess's sentinel, which GMS relies on.
	_, err := p.ParseSimple("-- nothing")
	require.ErrorIs(t, err, ast.ErrEmpty)
}

func TestTokens(t *testing.T) {
	toks, err := Tokens("create  Model `My Model` FROM t -- c\n TARGET 'y'")
	require.NoError(t, err)
	var texts []string
	for _, tk := range toks {
		texts = append(texts, tk.Text)
	}
	require.Equal(t, []string{"create", "Model", "My Model", "FROM", "t", "TARGET", "y"}, texts)
	require.True(t, toks[1].Is("MODEL"))
	require.True(t, toks[6].String)
	require.False(t, toks[6].Is("y"), "string literals are not keywords")
}

func TestQualifiedFunctionsAreRenamed(t *testing.T) {
	p := NewParser(sql.NewMysqlParser())
	p.QualifyFunctions("aws_comprehend", "aws_comprehend_")
	for _, q := range []string{
		"SELECT aws_comprehend.detect_sentiment(txt, 'en') FROM t",
		"EXPLAIN SELECT * FROM t WHERE AWS_Comprehend.detect_sentiment(txt, 'en') = 'NEGATIVE'",
		"SELECT (SELECT aws_comprehend.detect_sentiment(txt, 'en') FROM t LIMIT 1) FROM dual",
		"INSERT INTO s SELECT aws_comprehend.detect_sentiment(txt, 'en') FROM t",
	} {
		st, err := p.ParseSimple(q)
		require.NoError(t, err, q)
		got := ast.String(st)
		require.Contains(t, strings.ToLower(got), "aws_comprehend_detect_sentiment(", q)
		require.NotContains(t, strings.ToLower(got), "aws_comprehend.", q)
	}
	st, err := p.ParseSimple("SELECT other.f(1), upper('x') FROM dual")
	require.NoError(t, err)
	require.Contains(t, ast.String(st), "other.f(1)", "other qualifiers are left alone")
}

func TestRedactStorageCredentialSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"CREATE STORAGE CREDENTIAL c FOR 's3://b/' ACCESS_KEY_ID 'AKIA1' SECRET_ACCESS_KEY 'abc''d' SESSION_TOKEN \"tok\" REGION 'r'": "CREATE STORAGE CREDENTIAL c FOR 's3://b/' ACCESS_KEY_ID 'AKIA1' SECRET_ACCESS_KEY '***' SESSION_TOKEN '***' REGION 'r'",
		"create storage credential c for 's3://b/' access_key_id 'k' secret_access_key 's3cr3t'":                                      "create storage credential c for 's3://b/' access_key_id 'k' secret_access_key '***'",
		"SELECT 'SECRET_ACCESS_KEY'": "SELECT 'SECRET_ACCESS_KEY'",
	} {
		require.Equal(t, want, Redact(in))
	}
}
