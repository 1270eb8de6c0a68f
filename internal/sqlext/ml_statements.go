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

	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/privilege"
	"github.com/sibyldb/sibyldb/internal/remote"
)

// MLStatements are Aurora's ML function statements and SibylDB's endpoint
// statements:
//
//	CREATE [DEFINER = user] FUNCTION [db.]f (p type, ...) RETURNS type
//	    [SQL SECURITY {DEFINER | INVOKER}] [DEFINER = user]
//	    ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'name' [MAX_BATCH_SIZE n]
//	    [ON ERROR NULL]
//	  | ALIAS AWS_BEDROCK_INVOKE_MODEL MODEL ID 'model-id' [CONTENT_TYPE 'type']
//	    [ACCEPT 'type'] [TIMEOUT_MS n] [ON ERROR NULL]
//	DROP FUNCTION [IF EXISTS] [db.]f            (for ML functions)
//	SHOW CREATE FUNCTION [db.]f                 (for ML functions)
//	CREATE [OR REPLACE] ENDPOINT [IF NOT EXISTS] name URL 'url' [options]
//	ALTER ENDPOINT name [URL 'url'] [options]
//	DROP ENDPOINT [IF EXISTS] name
//	SHOW ENDPOINTS
//
// where options are PROTOCOL {SAGEMAKER | KSERVE_V2 | MLFLOW | OPENAI | LLAMA_CPP},
// TIMEOUT_MS n, MAX_CONCURRENCY n, THREADS n (LLAMA_CPP), MODEL 'name', PROMPT 'text' and
// HEADERS ('Name' = 'value', ...).
type MLStatements struct {
	Manager *mlfunc.Manager
	// Privileges decides who may manage endpoints (SUPER or CREATE
	// ENDPOINT); nil allows everyone.
	Privileges *privilege.Checker
}

// endpointAdmin guards the endpoint statements.
func (s MLStatements) endpointAdmin(run func(*sql.Context) (sql.RowIter, error)) func(*sql.Context) (sql.RowIter, error) {
	return requirePrivilege(s.Privileges, privilege.CreateEndpoint, run)
}

// requirePrivilege runs a statement only for sessions holding priv (or
// SUPER); a nil checker allows everyone.
func requirePrivilege(c *privilege.Checker, priv string, run func(*sql.Context) (sql.RowIter, error)) func(*sql.Context) (sql.RowIter, error) {
	return func(ctx *sql.Context) (sql.RowIter, error) {
		if c != nil && !c.Allowed(ctx, privilege.Account{}, priv) {
			return nil, privilege.Denied(priv)
		}
		return run(ctx)
	}
}

var _ Statement = MLStatements{}

// Keywords implements Statement.
func (s MLStatements) Keywords() []string { return []string{"CREATE", "DROP", "ALTER", "SHOW"} }

// Parse implements Statement.
func (s MLStatements) Parse(ctx context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	toks, err := Tokens(stmt)
	if err != nil || len(toks) < 2 {
		return nil, ast.AuthInformation{}, false, nil
	}
	c := &cursor{toks: toks}
	currentDB := sessionDB(ctx)
	// Endpoint statements check SUPER or CREATE ENDPOINT when they run.
	super := ast.AuthInformation{AuthType: ast.AuthType_IGNORE}
	switch {
	case toks[0].Is("CREATE") && isMLCreateFunction(toks):
		def, err := parseCreateFunction(c, currentDB)
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		auth := ast.AuthInformation{AuthType: ast.AuthType_CREATE_ROUTINE, TargetType: ast.AuthTargetType_DatabaseIdentifiers, TargetNames: []string{def.DB}}
		return &stmtNode{schema: types.OkResultSchema, desc: "CREATE FUNCTION " + def.Name, run: func(ctx *sql.Context) (sql.RowIter, error) {
			// A prepared statement runs this again, maybe for another
			// user: the parsed definition stays as written.
			d := *def
			if s.Privileges != nil {
				// The definer's INVOKE SAGEMAKER applies when the
				// function runs, so naming another definer is
				// impersonation (MySQL 8: SET_USER_ID).
				if err := s.Privileges.CheckDefiner(ctx, d.Definer); err != nil {
					return nil, err
				}
			}
			if d.Definer == "" {
				d.Definer = currentUser(ctx)
			}
			if err := s.Manager.CreateFunction(ctx, &d); err != nil {
				return nil, mlError(err)
			}
			if s.Privileges != nil {
				if err := s.Privileges.GrantCreator(ctx, d.DB, d.Name); err != nil {
					return nil, err
				}
			}
			return okResult(0), nil
		}}, auth, true, nil

	case c.accept("DROP", "FUNCTION"):
		// GMS's grammar has no DROP FUNCTION, so every form is handled here.
		ifExists := c.accept("IF", "EXISTS")
		db, name, err := c.qualified()
		if err != nil || !c.done() {
			return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
		}
		if db == "" {
			db = currentDB
		}
		// ALTER ROUTINE on the function itself (its creator has it) or on
		// its database, checked when the statement runs.
		auth := ast.AuthInformation{AuthType: ast.AuthType_IGNORE}
		return &stmtNode{schema: types.OkResultSchema, desc: "DROP FUNCTION " + name, run: func(ctx *sql.Context) (sql.RowIter, error) {
			if s.Privileges != nil && !s.Privileges.CanAlterRoutine(ctx, db, name) {
				return nil, privilege.AlterRoutineDenied(ctx, db, name)
			}
			found, err := s.Manager.DropFunction(ctx, db, name)
			if err != nil {
				return nil, err
			}
			if found && s.Privileges != nil {
				if err := s.Privileges.DropRoutinePrivileges(ctx, db, name); err != nil {
					return nil, err
				}
			}
			if !found && !ifExists {
				return nil, mysql.NewSQLError(mysql.ERSPDoesNotExist, "42000", "FUNCTION %s.%s does not exist", db, name)
			}
			if !found {
				ctx.Warn(mysql.ERSPDoesNotExist, "FUNCTION %s.%s does not exist", db, name)
			}
			return okResult(0), nil
		}}, auth, true, nil

	case c.accept("SHOW", "CREATE", "FUNCTION"):
		db, name, err := c.qualified()
		if err != nil || !c.done() {
			return nil, ast.AuthInformation{}, false, nil
		}
		if db == "" {
			db = currentDB
		}
		def, ok := s.Manager.Function(db, name)
		if !ok {
			return nil, ast.AuthInformation{}, false, nil
		}
		return showCreateFunction(def, s.Privileges), ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil

	case c.accept("SHOW", "ENDPOINTS"):
		if !c.done() {
			return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
		}
		show := showEndpoints(s.Manager).(*stmtNode)
		show.run = s.endpointAdmin(show.run)
		return show, super, true, nil

	case toks[0].Is("CREATE") && hasEndpointKeyword(toks):
		c.pos = 1
		orReplace := c.accept("OR", "REPLACE")
		if err := c.expect("ENDPOINT"); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		ifNotExists := c.accept("IF", "NOT", "EXISTS")
		name, err := c.ident()
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		def := mlfunc.EndpointDef{Name: name}
		if err := parseEndpointOptions(c, &def); err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		if def.URL == "" {
			return nil, ast.AuthInformation{}, true, SyntaxError("CREATE ENDPOINT " + name + " needs URL '...'")
		}
		return &stmtNode{schema: types.OkResultSchema, desc: "CREATE ENDPOINT " + name, run: s.endpointAdmin(func(ctx *sql.Context) (sql.RowIter, error) {
			err := s.Manager.CreateEndpoint(ctx, def, orReplace)
			if errors.Is(err, mlfunc.ErrEndpointExists) && ifNotExists {
				return okResult(0), nil
			}
			if err != nil {
				return nil, mlError(err)
			}
			return okResult(0), nil
		})}, super, true, nil

	case c.accept("ALTER", "ENDPOINT"):
		name, err := c.ident()
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		var change mlfunc.EndpointDef
		change.Headers = map[string]string{}
		changed, err := parseEndpointChanges(c, &change)
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		return &stmtNode{schema: types.OkResultSchema, desc: "ALTER ENDPOINT " + name, run: s.endpointAdmin(func(ctx *sql.Context) (sql.RowIter, error) {
			err := s.Manager.AlterEndpoint(ctx, name, func(d *mlfunc.EndpointDef) { changed(d, change) })
			if err != nil {
				return nil, mlError(err)
			}
			return okResult(0), nil
		})}, super, true, nil

	case c.accept("DROP", "ENDPOINT"):
		ifExists := c.accept("IF", "EXISTS")
		name, err := c.ident()
		if err != nil || !c.done() {
			return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
		}
		return &stmtNode{schema: types.OkResultSchema, desc: "DROP ENDPOINT " + name, run: s.endpointAdmin(func(ctx *sql.Context) (sql.RowIter, error) {
			found, err := s.Manager.DropEndpoint(ctx, name)
			if err != nil {
				return nil, err
			}
			if !found && !ifExists {
				return nil, mlError(fmt.Errorf("endpoint '%s': %w", name, mlfunc.ErrNoEndpoint))
			}
			return okResult(0), nil
		})}, super, true, nil
	}
	return nil, ast.AuthInformation{}, false, nil
}

// isMLCreateFunction tells Aurora's CREATE FUNCTION ... ALIAS from a
// stored function, which GMS handles.
func isMLCreateFunction(toks []Token) bool {
	fn := false
	for _, t := range toks {
		if t.Is("FUNCTION") {
			fn = true
		}
		if fn && t.Is("ALIAS") {
			return true
		}
		if t.Is("BEGIN") || t.Is("RETURN") {
			return false
		}
	}
	return false
}

func hasEndpointKeyword(toks []Token) bool {
	return (len(toks) > 1 && toks[1].Is("ENDPOINT")) || (len(toks) > 3 && toks[1].Is("OR") && toks[3].Is("ENDPOINT"))
}

func parseCreateFunction(c *cursor, currentDB string) (*mlfunc.FunctionDef, error) {
	def := &mlfunc.FunctionDef{Security: "DEFINER"}
	if err := c.expect("CREATE"); err != nil {
		return nil, err
	}
	if c.accept("DEFINER", "=") {
		u, err := definer(c)
		if err != nil {
			return nil, err
		}
		def.Definer = u
	}
	if err := c.expect("FUNCTION"); err != nil {
		return nil, err
	}
	db, name, err := c.qualified()
	if err != nil {
		return nil, err
	}
	if db == "" {
		db = currentDB
	}
	if db == "" {
		return nil, mysql.NewSQLError(mysql.ERNoDb, "3D000", "No database selected")
	}
	def.DB, def.Name = db, name
	if def.Params, err = parseParams(c); err != nil {
		return nil, err
	}
	if err := c.expect("RETURNS"); err != nil {
		return nil, err
	}
	stops := []string{"SQL", "DEFINER", "ALIAS", "DETERMINISTIC", "NOT", "COMMENT", "LANGUAGE", "CONTAINS", "NO", "READS", "MODIFIES"}
	if def.Returns, err = c.typeText(stops...); err != nil {
		return nil, err
	}
	for !c.accept("ALIAS") {
		switch {
		case c.accept("SQL", "SECURITY", "DEFINER"):
			def.Security = "DEFINER"
		case c.accept("SQL", "SECURITY", "INVOKER"):
			def.Security = "INVOKER"
		case c.accept("DEFINER", "="):
			if def.Definer, err = definer(c); err != nil {
				return nil, err
			}
		case c.accept("NOT", "DETERMINISTIC"), c.accept("LANGUAGE", "SQL"):
		case c.accept("COMMENT"):
			if _, err := c.str(); err != nil {
				return nil, err
			}
		case c.accept("DETERMINISTIC"):
			return nil, mlError(errors.New("ML functions are NOT DETERMINISTIC: remove DETERMINISTIC"))
		case c.atAny("CONTAINS", "NO", "READS", "MODIFIES"):
			return nil, mlError(fmt.Errorf("%s is not allowed for ML functions", c.near()))
		default:
			return nil, SyntaxError(c.near())
		}
	}
	if c.accept(mlfunc.AliasBedrock) {
		return parseBedrockAlias(c, def)
	}
	if err := c.expect("AWS_SAGEMAKER_INVOKE_ENDPOINT"); err != nil {
		return nil, err
	}
	if err := c.expect("ENDPOINT", "NAME"); err != nil {
		return nil, err
	}
	if def.Endpoint, err = c.str(); err != nil {
		return nil, err
	}
	if c.accept("MAX_BATCH_SIZE") {
		n, err := c.integer()
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return nil, mlError(errors.New("MAX_BATCH_SIZE must be greater than 0"))
		}
		def.MaxBatch = n
	}
	if c.accept("ON", "ERROR") {
		if err := c.expect("NULL"); err != nil {
			return nil, err
		}
		def.OnError = mlfunc.OnErrorNull
	}
	if !c.done() {
		return nil, SyntaxError(c.near())
	}
	return def, nil
}

// parseBedrockAlias reads what follows ALIAS AWS_BEDROCK_INVOKE_MODEL:
// MODEL ID 'id' [CONTENT_TYPE 'type'] [ACCEPT 'type'] [TIMEOUT_MS n], the
// options in any order, each at most once.
func parseBedrockAlias(c *cursor, def *mlfunc.FunctionDef) (*mlfunc.FunctionDef, error) {
	def.Alias = mlfunc.AliasBedrock
	if err := c.expect("MODEL", "ID"); err != nil {
		return nil, err
	}
	var err error
	if def.ModelID, err = c.str(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for !c.done() {
		opt := strings.ToUpper(c.peek().Text)
		if c.peek().String || seen[opt] {
			return nil, SyntaxError(c.near())
		}
		seen[opt] = true
		switch {
		case c.accept("CONTENT_TYPE"):
			def.ContentType, err = c.str()
		case c.accept("ACCEPT"):
			def.Accept, err = c.str()
		case c.accept("TIMEOUT_MS"):
			def.TimeoutMS, err = c.integer()
			if err == nil && def.TimeoutMS <= 0 {
				return nil, mlError(errors.New("TIMEOUT_MS must be greater than 0"))
			}
		case c.accept("ON", "ERROR"):
			err = c.expect("NULL")
			def.OnError = mlfunc.OnErrorNull
		default:
			return nil, SyntaxError(c.near())
		}
		if err != nil {
			return nil, err
		}
	}
	return def, nil
}

// definer reads the account after DEFINER = (CURRENT_USER means the
// creating session's user, filled in at execution).
func definer(c *cursor) (string, error) {
	if c.accept("CURRENT_USER") {
		c.accept("(", ")")
		return "", nil
	}
	a, err := account(c)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("`%s`@`%s`", a.User, a.Host), nil
}

func currentUser(ctx *sql.Context) string {
	cl := ctx.Session.Client()
	return fmt.Sprintf("`%s`@`%s`", cl.User, cl.Address)
}

// parseEndpointOptions reads CREATE ENDPOINT's options into d.
func parseEndpointOptions(c *cursor, d *mlfunc.EndpointDef) error {
	d.Headers = map[string]string{}
	_, err := parseEndpointChanges(c, d)
	return err
}

// parseEndpointChanges reads endpoint options into into and returns a
// function that applies exactly the options given to a definition.
func parseEndpointChanges(c *cursor, into *mlfunc.EndpointDef) (func(dst *mlfunc.EndpointDef, src mlfunc.EndpointDef), error) {
	var set []func(dst *mlfunc.EndpointDef, src mlfunc.EndpointDef)
	for !c.done() {
		opt := strings.ToUpper(c.peek().Text)
		if field, ok := endpointStringOptions[opt]; ok && !c.peek().String {
			c.pos++
			v, err := c.str()
			if err != nil {
				return nil, err
			}
			*field(into) = v
			set = append(set, func(d *mlfunc.EndpointDef, s mlfunc.EndpointDef) { *field(d) = *field(&s) })
			continue
		}
		if field, ok := endpointIntOptions[opt]; ok && !c.peek().String {
			c.pos++
			n, err := c.integer()
			if err != nil {
				return nil, err
			}
			*field(into) = n
			set = append(set, func(d *mlfunc.EndpointDef, s mlfunc.EndpointDef) { *field(d) = *field(&s) })
			continue
		}
		switch {
		case c.accept("PROTOCOL"):
			t := c.peek()
			c.pos++
			p, err := remote.ParseProtocol(t.Text)
			if err != nil {
				return nil, mlError(err)
			}
			into.Protocol = p
			set = append(set, func(d *mlfunc.EndpointDef, s mlfunc.EndpointDef) { d.Protocol = s.Protocol })
		case c.accept("HEADERS"):
			if err := c.expect("("); err != nil {
				return nil, err
			}
			for !c.accept(")") {
				if len(into.Headers) > 0 {
					if err := c.expect(","); err != nil {
						return nil, err
					}
				}
				k, err := c.str()
				if err != nil {
					return nil, err
				}
				if err := c.expect("="); err != nil {
					return nil, err
				}
				v, err := c.str()
				if err != nil {
					return nil, err
				}
				into.Headers[k] = v
			}
			set = append(set, func(d *mlfunc.EndpointDef, s mlfunc.EndpointDef) {
				d.Headers = map[string]string{}
				for k, v := range s.Headers {
					d.Headers[k] = v
				}
			})
		default:
			return nil, SyntaxError(c.near())
		}
	}
	return func(dst *mlfunc.EndpointDef, src mlfunc.EndpointDef) {
		for _, f := range set {
			f(dst, src)
		}
	}, nil
}

// Endpoint options that take one string or one integer, by keyword.
var (
	endpointStringOptions = map[string]func(*mlfunc.EndpointDef) *string{
		"URL":       func(d *mlfunc.EndpointDef) *string { return &d.URL },
		"MODEL":     func(d *mlfunc.EndpointDef) *string { return &d.Model },
		"PROMPT":    func(d *mlfunc.EndpointDef) *string { return &d.Prompt },
		"CA_BUNDLE": func(d *mlfunc.EndpointDef) *string { return &d.CABundle },
	}
	endpointIntOptions = map[string]func(*mlfunc.EndpointDef) *int{
		"TIMEOUT_MS":      func(d *mlfunc.EndpointDef) *int { return &d.TimeoutMS },
		"THREADS":         func(d *mlfunc.EndpointDef) *int { return &d.Threads },
		"MAX_CONCURRENCY": func(d *mlfunc.EndpointDef) *int { return &d.MaxConcurrency },
	}
)

// mlError reports a semantic error in an ML statement as MySQL's generic
// error with the reason.
func mlError(err error) error {
	var sqlErr *mysql.SQLError
	if errors.As(err, &sqlErr) {
		return err
	}
	switch {
	case errors.Is(err, mlfunc.ErrFunctionExists):
		return mysql.NewSQLError(1304, "42000", "%s", err.Error())
	}
	return mysql.NewSQLError(mysql.ERUnknownError, mysql.SSUnknownSQLState, "%s", err.Error())
}

func okResult(n int) sql.RowIter {
	return sql.RowsToRowIter(sql.NewRow(types.NewOkResult(n)))
}

func textCol(name string) *sql.Column {
	return &sql.Column{Name: name, Type: types.LongText, Nullable: true}
}

// showCreateFunction shows d to its definer and to holders of a routine
// privilege on it; to others, as MySQL, it does not exist.
func showCreateFunction(d *mlfunc.FunctionDef, privileges *privilege.Checker) sql.Node {
	return &stmtNode{
		desc:     "SHOW CREATE FUNCTION " + d.Name,
		readOnly: true,
		schema: sql.Schema{textCol("Function"), textCol("sql_mode"), textCol("Create Function"),
			textCol("character_set_client"), textCol("collation_connection"), textCol("Database Collation")},
		run: func(ctx *sql.Context) (sql.RowIter, error) {
			if privileges != nil && !privileges.CanSeeRoutine(ctx, d.DB, d.Name, d.Definer) {
				return nil, mysql.NewSQLError(mysql.ERSPDoesNotExist, "42000", "FUNCTION %s does not exist", d.Name)
			}
			return sql.RowsToRowIter(sql.Row{d.Name, "", d.CreateStatement(), "utf8mb4", "utf8mb4_0900_bin", "utf8mb4_0900_bin"}), nil
		},
	}
}

func showEndpoints(m *mlfunc.Manager) sql.Node {
	return &stmtNode{
		desc:     "SHOW ENDPOINTS",
		readOnly: true,
		schema: sql.Schema{textCol("Name"), textCol("URL"), textCol("Protocol"),
			{Name: "Timeout_ms", Type: types.Int64, Nullable: true},
			{Name: "Max_concurrency", Type: types.Int64, Nullable: true},
			textCol("Model"), textCol("Headers")},
		run: func(*sql.Context) (sql.RowIter, error) {
			var rows []sql.Row
			for _, d := range m.Endpoints() {
				// Header values are secrets: only their names are shown.
				rows = append(rows, sql.Row{d.Name, d.DisplayURL(), string(d.Protocol), int64(d.TimeoutMS),
					int64(d.MaxConcurrency), d.Model, strings.Join(d.HeaderNames(), ", ")})
			}
			return sql.RowsToRowIter(rows...), nil
		},
	}
}

// parseParams reads a function's parameter list, "(name type, ...)", as
// CREATE FUNCTION and Athena's USING EXTERNAL FUNCTION write it.
func parseParams(c *cursor) ([]mlfunc.Param, error) {
	if err := c.expect("("); err != nil {
		return nil, err
	}
	var params []mlfunc.Param
	for !c.accept(")") {
		if len(params) > 0 {
			if err := c.expect(","); err != nil {
				return nil, err
			}
		}
		name, err := c.ident()
		if err != nil {
			return nil, err
		}
		typ, err := c.typeText()
		if err != nil {
			return nil, err
		}
		params = append(params, mlfunc.Param{Name: name, Type: typ})
	}
	return params, nil
}
