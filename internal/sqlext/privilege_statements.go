package sqlext

import (
	"context"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/privilege"
)

// PrivilegeStatements are Aurora MySQL v2's ML grants and the grants of
// SibylDB's ML objects:
//
//	GRANT INVOKE {SAGEMAKER | COMPREHEND} ON *.* TO account [, ...] [WITH GRANT OPTION]
//	REVOKE INVOKE {SAGEMAKER | COMPREHEND} ON *.* FROM account [, ...]
//	GRANT {SELECT INTO S3 | LOAD FROM S3} ON *.* TO account [, ...] (and REVOKE ... FROM)
//	GRANT CREATE ENDPOINT ON *.* TO account [, ...]      (and REVOKE ... FROM)
//	GRANT EXECUTE ON FUNCTION [db.]fn TO account [, ...] (and REVOKE ... FROM)
//	GRANT CREATE MODEL [ON *.*] TO account [, ...]       (Redshift ML; and REVOKE)
//	GRANT EXECUTE ON MODEL [db.]model TO account [, ...] (Redshift ML; and REVOKE)
//
// EXECUTE ON MODEL is EXECUTE on each of the model's functions, so SHOW
// GRANTS lists it as such.
//
// Aurora v3's roles (GRANT AWS_SAGEMAKER_ACCESS TO account) are ordinary
// roles and need nothing here.
type PrivilegeStatements struct {
	Checker *privilege.Checker
	// ModelFunctions lists the functions of model db.name (false when the
	// model does not exist).
	ModelFunctions func(db, name string) ([]string, bool)
}

var _ Statement = PrivilegeStatements{}

// Keywords implements Statement.
func (p PrivilegeStatements) Keywords() []string { return []string{"GRANT", "REVOKE"} }

// Parse implements Statement.
func (p PrivilegeStatements) Parse(ctx context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	toks, err := Tokens(stmt)
	if err != nil || len(toks) < 3 {
		return nil, ast.AuthInformation{}, false, nil
	}
	c := &cursor{toks: toks}
	grant := c.accept("GRANT")
	if !grant {
		c.accept("REVOKE")
	}
	var priv, db, fn, modelName string
	optionalOn := false
	switch {
	case c.accept("INVOKE", "SAGEMAKER"):
		priv = privilege.InvokeSageMaker
	case c.accept("INVOKE", "COMPREHEND"):
		priv = privilege.InvokeComprehend
	case c.accept("INVOKE"):
		return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
	case c.accept("SELECT", "INTO", "S3"):
		priv = privilege.SelectIntoS3
	case c.accept("LOAD", "FROM", "S3"):
		priv = privilege.LoadFromS3
	case c.accept("CREATE", "ENDPOINT"):
		priv = privilege.CreateEndpoint
	case c.accept("CREATE", "MODEL"):
		priv, optionalOn = privilege.CreateModel, true
	case c.accept("EXECUTE", "ON", "FUNCTION"):
		if db, fn, err = c.qualified(); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
	case c.accept("EXECUTE", "ON", "MODEL"):
		if db, modelName, err = c.qualified(); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
	default:
		return nil, ast.AuthInformation{}, false, nil // every other GRANT is GMS's
	}
	if db == "" {
		db = sessionDB(ctx)
	}
	if priv != "" && !(optionalOn && c.atAny("TO", "FROM")) {
		if err := c.expect("ON", "*", ".", "*"); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
	}
	if grant {
		err = c.expect("TO")
	} else {
		err = c.expect("FROM")
	}
	if err != nil {
		return nil, ast.AuthInformation{}, true, err
	}
	var accounts []privilege.Account
	for {
		a, err := account(c)
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		accounts = append(accounts, a)
		if !c.accept(",") {
			break
		}
	}
	withGrant := grant && c.accept("WITH", "GRANT", "OPTION")
	if !c.done() {
		return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
	}
	desc := strings.ToUpper(toks[0].Text) + " " + privilege.Display(priv)
	if fn != "" {
		desc = strings.ToUpper(toks[0].Text) + " EXECUTE ON FUNCTION " + db + "." + fn
	}
	if modelName != "" {
		desc = strings.ToUpper(toks[0].Text) + " EXECUTE ON MODEL " + db + "." + modelName
	}
	node := &stmtNode{desc: desc, schema: types.OkResultSchema, run: func(ctx *sql.Context) (sql.RowIter, error) {
		fns := []string{fn}
		if modelName != "" {
			var ok bool
			if p.ModelFunctions != nil {
				fns, ok = p.ModelFunctions(db, modelName)
			}
			if !ok {
				return nil, mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "Model '%s.%s' does not exist", db, modelName)
			}
		}
		var err error
		switch {
		case fns[0] != "" && grant:
			for _, f := range fns {
				if err = p.Checker.GrantExecute(ctx, db, f, accounts); err != nil {
					break
				}
			}
		case fns[0] != "":
			for _, f := range fns {
				if err = p.Checker.RevokeExecute(ctx, db, f, accounts); err != nil {
					break
				}
			}
		case grant:
			err = p.Checker.Grant(ctx, priv, accounts, withGrant)
		default:
			err = p.Checker.Revoke(ctx, priv, accounts)
		}
		if err != nil {
			return nil, err
		}
		return okResult(0), nil
	}}
	// Granting ML access is an administrator's act.
	return node, ast.AuthInformation{AuthType: ast.AuthType_SUPER, TargetType: ast.AuthTargetType_Global}, true, nil
}

// account reads user[@host] in any quoting; the host defaults to %.
func account(c *cursor) (privilege.Account, error) {
	if c.done() {
		return privilege.Account{}, SyntaxError(c.near())
	}
	a := privilege.Account{User: c.peek().Text, Host: "%"}
	c.pos++
	if t := c.peek(); !t.String && strings.HasPrefix(t.Text, "@") {
		c.pos++
		host := strings.TrimPrefix(t.Text, "@")
		if host == "" && !c.done() {
			host = c.peek().Text
			c.pos++
		}
		a.Host = strings.Trim(host, "`'\"")
	}
	return a, nil
}
