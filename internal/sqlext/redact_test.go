package sqlext

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRedactBypasses: the forms a regular expression missed. (The
// tokenizer joins adjacent literals into one, as MySQL does.)
func TestRedactBypasses(t *testing.T) {
	cases := []struct{ in, want string }{
		{"ALTER ENDPOINT e HEADERS/**/('A' = 'v1')", "ALTER ENDPOINT e HEADERS/**/('A' = '***')"},
		{"ALTER ENDPOINT e HEADERS /* c */ ('A' = 'v1', 'B' = 'v2')", "ALTER ENDPOINT e HEADERS /* c */ ('A' = '***', 'B' = '***')"},
		{"ALTER ENDPOINT e HEADERS ('A' 'v1')", "ALTER ENDPOINT e HEADERS ('***')"},
		{"ALTER ENDPOINT e HEADERS ('A' = 'v' 'x')", "ALTER ENDPOINT e HEADERS ('A' = '***')"},
		{"CREATE STORAGE CREDENTIAL c FOR 's3://b/' ACCESS_KEY_ID 'k' SECRET_ACCESS_KEY/**/'s1'", "CREATE STORAGE CREDENTIAL c FOR 's3://b/' ACCESS_KEY_ID 'k' SECRET_ACCESS_KEY/**/'***'"},
		{"CREATE STORAGE CREDENTIAL c FOR 's3://b/' ACCESS_KEY_ID 'k' SECRET_ACCESS_KEY = 's1' 's2'", "CREATE STORAGE CREDENTIAL c FOR 's3://b/' ACCESS_KEY_ID 'k' SECRET_ACCESS_KEY = '***'"},
		{"CREATE USER u IDENTIFIED BY 'pw1'", "CREATE USER u IDENTIFIED BY <secret>"},
		{"create user u@'%' identified /* x */ by \"pw1\"", "create user u@'%' identified /* x */ by <secret>"},
		{"ALTER USER u IDENTIFIED WITH mysql_native_password BY 'pw1'", "ALTER USER u IDENTIFIED WITH mysql_native_password BY <secret>"},
		{"CREATE USER u IDENTIFIED WITH caching_sha2_password AS 'hash'", "CREATE USER u IDENTIFIED WITH caching_sha2_password AS <secret>"},
		{"SET PASSWORD = 'pw1'", "SET PASSWORD = <secret>"},
		{"SET PASSWORD FOR 'u'@'h' = 'pw1'", "SET PASSWORD FOR 'u'@'h' = <secret>"},
		{"SELECT PASSWORD('pw1')", "SELECT PASSWORD(<secret>)"},
		{"SELECT 1; CREATE USER v IDENTIFIED BY 'pw2'", "SELECT 1; CREATE USER v IDENTIFIED BY <secret>"},
		{"SELECT 'IDENTIFIED BY x', 'HEADERS (a=b)'", "SELECT 'IDENTIFIED BY x', 'HEADERS (a=b)'"},
		{"CREATE USER u IDENTIFIED BY 'unterminated", "CREATE USER u IDENTIFIED BY  /* not tokenizable: rest omitted */"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Redact(c.in), c.in)
	}
}

// FuzzRedactSecretForms puts a secret in every secret position, behind
// fuzzed separators (comments, spaces, '='), and checks it never survives.
func FuzzRedactSecretForms(f *testing.F) {
	f.Add("/**/", "s3cret-value")
	f.Add(" = ", "pw")
	f.Add("\n/* x */ ", "tok")
	f.Fuzz(func(t *testing.T, sep, secret string) {
		if len(secret) < 4 || strings.ContainsAny(secret, "'\\\"*/") || strings.Contains(sep, "'") || strings.Contains(sep, "\"") ||
			strings.Contains(sep, "#") || strings.Contains(sep, "--") || strings.Contains(sep, "`") {
			return
		}
		if toks, cut := rawTokens(sep); cut != len(sep) || len(toks) > 0 {
			return // the separator must be blank or comments only
		}
		forms := []string{
			"ALTER ENDPOINT e HEADERS" + sep + "('A'" + sep + "=" + sep + "'" + secret + "')",
			"CREATE STORAGE CREDENTIAL c FOR 's3://b/' ACCESS_KEY_ID 'k' SECRET_ACCESS_KEY" + sep + "'" + secret + "'",
			"CREATE USER u IDENTIFIED" + sep + "BY" + sep + "'" + secret + "'",
			"SET PASSWORD" + sep + "=" + sep + "'" + secret + "'",
		}
		for _, s := range forms {
			out := Redact(s)
			require.NotContains(t, out, secret, "%q", s)
			require.Equal(t, out, Redact(out), "stable")
		}
	})
}
