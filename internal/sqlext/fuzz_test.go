package sqlext

import (
	"context"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/sqlfunc"
	"github.com/sibyldb/sibyldb/internal/status"
)

// FuzzParse runs arbitrary text through the parser with every SibylDB
// statement installed: it may reject the text, but must not panic.
func FuzzParse(f *testing.F) {
	m := mlfunc.NewManager(catalog.NewStore(), sqlfunc.NewRegistry(nil), status.Global())
	p := NewParser(sql.NewMysqlParser(), FlushStatus{}, MLStatements{Manager: m},
		ModelStatements{Manager: models.NewManager(catalog.NewStore(), sqlfunc.NewRegistry(nil))}, PrivilegeStatements{})
	for _, s := range []string{
		"FLUSH STATUS", "flush local status; select 1",
		"CREATE FUNCTION f(a VARCHAR(10), b DECIMAL(10,2)) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'e' MAX_BATCH_SIZE 5",
		"CREATE DEFINER = 'u'@'%' FUNCTION db.f() RETURNS VARCHAR(3) SQL SECURITY INVOKER ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'x'",
		"CREATE OR REPLACE ENDPOINT IF NOT EXISTS e URL 'http://x' PROTOCOL KSERVE_V2 HEADERS ('a' = 'b', 'c' = 'd')",
		"ALTER ENDPOINT e TIMEOUT_MS 5 MODEL 'm'", "DROP ENDPOINT IF EXISTS e", "SHOW ENDPOINTS",
		"DROP FUNCTION IF EXISTS db.f", "SHOW CREATE FUNCTION f", "CREATE FUNCTION (", "DROP FUNCTION",
		"CREATE MODEL m FROM (SELECT a, (b + 1) AS c, 'x)' FROM t) TARGET c FUNCTION f IAM_ROLE default AUTO OFF MODEL_TYPE XGBOOST OBJECTIVE 'reg:squarederror' HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '10') SETTINGS (S3_BUCKET 'b', MAX_RUNTIME 60)",
		"CREATE MODEL IF NOT EXISTS db.m FROM 'file:///x.json' FUNCTION f (INT, VARCHAR(3)) RETURNS DOUBLE",
		"CREATE MODEL m FUNCTION f (REAL) RETURNS INT SAGEMAKER 'ep':'mm' IAM_ROLE 'arn:aws:iam::1:role/r'",
		"SHOW MODEL ALL", "SHOW MODEL db.m", "DROP MODEL IF EXISTS m", "CREATE MODEL m FROM (", "GRANT CREATE MODEL TO u",
		"GRANT EXECUTE ON MODEL db.m TO 'u'@'%'", "REVOKE EXECUTE ON MODEL m FROM u",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		_, _ = p.ParseSimple(q)
		_, _, _, _ = p.ParseWithOptions(context.Background(), q, ';', true, ast.ParserOptions{})
	})
}

// FuzzRedact checks that header values never survive redaction and that
// redaction is stable.
func FuzzRedact(f *testing.F) {
	f.Add("CREATE ENDPOINT e URL 'u' HEADERS ('A' = 'v')", "tok")
	f.Add("alter endpoint e headers('x'=\"y\")", "k")
	f.Fuzz(func(t *testing.T, prefix, secret string) {
		if strings.ContainsAny(secret, "'\\\"") || len(secret) < 4 {
			return
		}
		out := Redact(prefix)
		if Redact(out) != out {
			t.Fatalf("not stable: %q -> %q -> %q", prefix, out, Redact(out))
		}
		stmt := "ALTER ENDPOINT e HEADERS ('Authorization' = '" + secret + "', 'B' = '" + secret + "')"
		if strings.Contains(Redact(stmt), secret) {
			t.Fatalf("secret survived: %q", Redact(stmt))
		}
	})
}
