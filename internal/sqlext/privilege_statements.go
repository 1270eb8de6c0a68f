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
//	GRANT {SYSTEM_USER | SYSTEM_VARIABLES_ADMIN | SET_USER_ID} ON *.* TO account [, ...]
//	                                                     (MySQL 8; and REVOKE ... FROM)
//	GRANT EXECUTE ON FUNCTION [db.]fn TO account [, ...] (and REVOKE ... FROM)
//	GRANT CREATE MODEL [ON *.*] TO account [, ...]       (Redshift ML; and REVOKE)
//	GRANT EXECUTE ON MODEL [db.]model TO account [, ...] (Redshift ML; and REVOKE)
//
// The global privileges may be listed together and with MySQL's own global
// privileges (GRANT FILE, LOAD FROM S3 ON *.* TO u), as MySQL lists them.
//
// EXECUTE ON MODEL is EXECUTE on each of the model's functions, so SHOW
// GRANTS lists it as such; the model's owner may grant it.
//
// Aurora v3's roles (GRANT AWS_SAGEMAKER_ACCESS TO account) are ordinary
// roles and need nothing here.
type PrivilegeStatements struct {
	Checker *privilege.Checker
	// ModelFunctions lists the functions of model db.name and its owner
	// (ok false when the model does not exist).
	ModelFunctions func(db, name string) (fns []string, owner string, ok bool)
}

var _ Statement = PrivilegeStatements{}

// Keywords implements Statement.
func (p PrivilegeStatements) Keywords() []string { return []string{"GRANT", "REVOKE"} }

// globalPrivs is a list of global privileges: dynamic ones by stored name,
// static ones by type. ours is set when one of them is SibylDB's, which
// GMS's grammar would refuse.
type globalPrivs struct {
	dynamic []string
	static  []sql.PrivilegeType
	ours    bool
	// written are the privileges as the statement names them.
	written []string
	// onlyCreateModel allows Redshift's GRANT CREATE MODEL TO u, without ON.
	onlyCreateModel bool
}

// ourPrivileges are SibylDB's global privileges, as written in GRANT.
var ourPrivileges = []struct {
	words []string
	name  string
}{
	{[]string{"INVOKE", "SAGEMAKER"}, privilege.InvokeSageMaker},
	{[]string{"INVOKE", "COMPREHEND"}, privilege.InvokeComprehend},
	{[]string{"INVOKE", "BEDROCK"}, privilege.InvokeBedrock},
	{[]string{"SELECT", "INTO", "S3"}, privilege.SelectIntoS3},
	{[]string{"LOAD", "FROM", "S3"}, privilege.LoadFromS3},
	{[]string{"CREATE", "ENDPOINT"}, privilege.CreateEndpoint},
	{[]string{"CREATE", "MODEL"}, privilege.CreateModel},
	{[]string{"SYSTEM_USER"}, privilege.SystemUser},
	// MySQL's, which GMS's grammar knows but its GRANT refuses.
	{[]string{"SYSTEM_VARIABLES_ADMIN"}, privilege.SystemVariablesAdmin},
	{[]string{"SET_USER_ID"}, privilege.SetUserID},
}

// mysqlDynamic are MySQL's dynamic privileges GMS's GRANT accepts, which
// may appear in a list beside ours.
var mysqlDynamic = map[string]bool{
	"APPLICATION_PASSWORD_ADMIN": true, "AUDIT_ADMIN": true, "BACKUP_ADMIN": true, "BINLOG_ADMIN": true,
	"CLONE_ADMIN": true, "CONNECTION_ADMIN": true, "ENCRYPTION_KEY_ADMIN": true, "FLUSH_STATUS": true,
	"FLUSH_TABLES": true, "PERSIST_RO_VARIABLES_ADMIN": true, "REPLICATION_APPLIER": true,
	"REPLICATION_SLAVE_ADMIN": true, "RESOURCE_GROUP_ADMIN": true, "ROLE_ADMIN": true,
	"SESSION_VARIABLES_ADMIN": true, "SHOW_ROUTINE": true, "XA_RECOVER_ADMIN": true,
}

// parseGlobalPrivs reads a privilege list up to ON/TO/FROM. ok is false
// when an item is not a global privilege this parser knows (a column
// list, ALL, a role name...): the statement is then left to GMS.
func parseGlobalPrivs(c *cursor) (gp globalPrivs, ok bool, err error) {
	gp.onlyCreateModel = true
	for {
		matched := false
		for _, op := range ourPrivileges {
			if c.accept(op.words...) {
				gp.dynamic = append(gp.dynamic, op.name)
				gp.written = append(gp.written, strings.Join(op.words, " "))
				gp.ours, matched = true, true
				gp.onlyCreateModel = gp.onlyCreateModel && op.name == privilege.CreateModel
				break
			}
		}
		if !matched && c.accept("INVOKE") {
			return gp, true, SyntaxError(c.near())
		}
		if !matched {
			for n := 3; n >= 1 && !matched; n-- {
				if c.pos+n > len(c.toks) {
					continue
				}
				words := make([]string, n)
				quoted := false
				for i := range words {
					t := c.toks[c.pos+i]
					words[i], quoted = strings.ToUpper(t.Text), quoted || t.String
				}
				if quoted {
					continue
				}
				if pt, found := sql.PrivilegeTypeFromString(strings.Join(words, " ")); found {
					c.pos += n
					gp.static = append(gp.static, pt)
					gp.written = append(gp.written, pt.String())
					matched = true
				} else if n == 1 && mysqlDynamic[words[0]] {
					c.pos++
					gp.dynamic = append(gp.dynamic, words[0])
					gp.written = append(gp.written, words[0])
					matched = true
				}
			}
			gp.onlyCreateModel = false
		}
		if !matched {
			return gp, false, nil
		}
		if !c.accept(",") {
			return gp, true, nil
		}
	}
}

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
	var gp globalPrivs
	var db, fn, modelName string
	switch {
	case c.accept("EXECUTE", "ON", "FUNCTION"):
		if db, fn, err = c.qualified(); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
	case c.accept("EXECUTE", "ON", "MODEL"):
		if db, modelName, err = c.qualified(); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
	default:
		var ok bool
		gp, ok, err = parseGlobalPrivs(c)
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		if !ok || !gp.ours {
			return nil, ast.AuthInformation{}, false, nil // every other GRANT is GMS's
		}
	}
	if db == "" {
		db = sessionDB(ctx)
	}
	if fn == "" && modelName == "" && !(gp.onlyCreateModel && c.atAny("TO", "FROM")) {
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
	verb := strings.ToUpper(toks[0].Text)
	var desc string
	switch {
	case fn != "":
		desc = verb + " EXECUTE ON FUNCTION " + db + "." + fn
	case modelName != "":
		desc = verb + " EXECUTE ON MODEL " + db + "." + modelName
	default:
		desc = verb + " " + strings.Join(gp.written, ", ")
	}
	node := &stmtNode{desc: desc, schema: types.OkResultSchema, run: func(ctx *sql.Context) (sql.RowIter, error) {
		var err error
		switch {
		case modelName != "":
			err = p.executeOnModel(ctx, grant, db, modelName, accounts)
		case fn != "" && grant:
			err = p.Checker.GrantExecute(ctx, db, fn, accounts)
		case fn != "":
			err = p.Checker.RevokeExecute(ctx, db, fn, accounts)
		default:
			for _, d := range gp.dynamic {
				// SYSTEM_USER is given only by those who hold it:
				// SUPER alone must not mint it.
				if d == privilege.SystemUser && !p.Checker.IsSystemUser(ctx) {
					return nil, privilege.DeniedAny(privilege.SystemUser)
				}
			}
			if grant {
				err = p.Checker.GrantGlobal(ctx, gp.dynamic, gp.static, accounts, withGrant)
			} else {
				err = p.Checker.RevokeGlobal(ctx, gp.dynamic, gp.static, accounts)
			}
		}
		if err != nil {
			return nil, err
		}
		return okResult(0), nil
	}}
	if modelName != "" {
		// A model's owner may share it; executeOnModel checks.
		return node, ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil
	}
	// Granting ML access is an administrator's act.
	return node, ast.AuthInformation{AuthType: ast.AuthType_SUPER, TargetType: ast.AuthTargetType_Global}, true, nil
}

// executeOnModel grants or revokes EXECUTE on each function of model
// db.name: its owner and SUPER users may.
func (p PrivilegeStatements) executeOnModel(ctx *sql.Context, grant bool, db, name string, accounts []privilege.Account) error {
	var fns []string
	var owner string
	ok := false
	if p.ModelFunctions != nil {
		fns, owner, ok = p.ModelFunctions(db, name)
	}
	// Privileges first, so that the answer tells a stranger nothing about
	// which models exist.
	if (!ok || owner != currentUser(ctx)) && !p.Checker.HasAny(ctx) {
		cl := ctx.Session.Client()
		return mysql.NewSQLError(1370, "42000", "grant command denied to user '%s'@'%s' for model '%s.%s'", cl.User, cl.Address, db, name)
	}
	if !ok {
		return mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "Model '%s.%s' does not exist", db, name)
	}
	for _, f := range fns {
		var err error
		if grant {
			err = p.Checker.GrantExecute(ctx, db, f, accounts)
		} else {
			err = p.Checker.RevokeExecute(ctx, db, f, accounts)
		}
		if err != nil {
			return err
		}
	}
	return nil
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
