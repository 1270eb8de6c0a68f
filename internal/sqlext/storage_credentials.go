package sqlext

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/privilege"
	"github.com/sibyldb/sibyldb/internal/s3io"
)

// StorageCredentialStatements manage named storage credentials, which the
// S3 statements use for the locations they cover instead of the AWS
// credential chain:
//
//	CREATE [OR REPLACE] STORAGE CREDENTIAL name FOR 's3://bucket/prefix'
//	    ACCESS_KEY_ID 'id' SECRET_ACCESS_KEY 'secret' [SESSION_TOKEN 'token']
//	    [REGION 'region'] [ENDPOINT_URL 'http(s)://host:port']
//	DROP STORAGE CREDENTIAL [IF EXISTS] name
//	SHOW STORAGE CREDENTIALS
//
// Like endpoints they need SUPER or CREATE ENDPOINT; secrets are sealed at
// rest, redacted from logs and never shown.
type StorageCredentialStatements struct {
	Store      *s3io.CredentialStore
	Privileges *privilege.Checker
}

var _ Statement = StorageCredentialStatements{}

// Keywords implements Statement.
func (s StorageCredentialStatements) Keywords() []string { return []string{"CREATE", "DROP", "SHOW"} }

func (s StorageCredentialStatements) admin(run func(*sql.Context) (sql.RowIter, error)) func(*sql.Context) (sql.RowIter, error) {
	return requirePrivilege(s.Privileges, privilege.CreateEndpoint, run)
}

// Parse implements Statement.
func (s StorageCredentialStatements) Parse(_ context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	toks, err := Tokens(stmt)
	if err != nil || len(toks) < 3 {
		return nil, ast.AuthInformation{}, false, nil
	}
	c := &cursor{toks: toks}
	ignore := ast.AuthInformation{AuthType: ast.AuthType_IGNORE}
	switch {
	case c.accept("SHOW", "STORAGE", "CREDENTIALS"):
		if !c.done() {
			return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
		}
		return &stmtNode{readOnly: true, desc: "SHOW STORAGE CREDENTIALS",
			schema: sql.Schema{textCol("Name"), textCol("Location"), textCol("Access_key_id"), textCol("Region"), textCol("Endpoint")},
			run: s.admin(func(*sql.Context) (sql.RowIter, error) {
				var rows []sql.Row
				for _, cr := range s.Store.List() {
					rows = append(rows, sql.Row{cr.Name, cr.Location, cr.AccessKeyID, cr.Region, cr.Endpoint})
				}
				return sql.RowsToRowIter(rows...), nil
			})}, ignore, true, nil

	case c.accept("DROP", "STORAGE", "CREDENTIAL"):
		ifExists := c.accept("IF", "EXISTS")
		name, err := c.ident()
		if err != nil || !c.done() {
			return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
		}
		return &stmtNode{schema: types.OkResultSchema, desc: "DROP STORAGE CREDENTIAL " + name, run: s.admin(func(ctx *sql.Context) (sql.RowIter, error) {
			found, err := s.Store.Drop(ctx, name)
			if err != nil {
				return nil, err
			}
			if !found && !ifExists {
				return nil, mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "Storage credential '%s' does not exist", name)
			}
			return okResult(0), nil
		})}, ignore, true, nil

	case toks[0].Is("CREATE"):
		c.pos = 1
		orReplace := c.accept("OR", "REPLACE")
		if !c.accept("STORAGE", "CREDENTIAL") {
			return nil, ast.AuthInformation{}, false, nil
		}
		name, err := c.ident()
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		if err := c.expect("FOR"); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		cr := s3io.Credential{Name: name}
		if cr.Location, err = c.str(); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		var secret, token string
		fields := map[string]*string{"ACCESS_KEY_ID": &cr.AccessKeyID, "SECRET_ACCESS_KEY": &secret, "SESSION_TOKEN": &token,
			"REGION": &cr.Region, "ENDPOINT_URL": &cr.Endpoint}
		for !c.done() {
			kw := strings.ToUpper(c.peek().Text)
			field, ok := fields[kw]
			if !ok || c.peek().String {
				return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
			}
			c.pos++
			if *field, err = c.str(); err != nil {
				return nil, ast.AuthInformation{}, true, err
			}
		}
		return &stmtNode{schema: types.OkResultSchema, desc: "CREATE STORAGE CREDENTIAL " + name, run: s.admin(func(ctx *sql.Context) (sql.RowIter, error) {
			err := s.Store.Put(ctx, cr, secret, token, orReplace)
			var sqlErr *mysql.SQLError
			switch {
			case err == nil:
				return okResult(0), nil
			case errors.As(err, &sqlErr):
				return nil, err
			}
			return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "%s", fmt.Sprint(err))
		})}, ignore, true, nil
	}
	return nil, ast.AuthInformation{}, false, nil
}
