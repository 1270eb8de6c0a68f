package sqlext

import (
	"context"
	"errors"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
)

// DeclareFunc makes functions visible to the session's current statement.
type DeclareFunc func(ctx *sql.Context, defs []*mlfunc.FunctionDef) error

// DeclareFunctions enables Athena's statement-scoped functions:
//
//	USING EXTERNAL FUNCTION f(x type, ...) RETURNS type SAGEMAKER 'endpoint'
//	    [, EXTERNAL FUNCTION ...] SELECT ...
//
// The functions are endpoint functions (batched, governed and audited as
// those of CREATE FUNCTION ... ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT, called
// with the caller's privileges) that only the query after them sees.
func (p *Parser) DeclareFunctions(declare DeclareFunc) { p.declare = declare }

// parseUsing parses a USING EXTERNAL FUNCTION statement: it declares the
// functions through p.declare and returns the query, parsed by the base
// parser.
func (p *Parser) parseUsing(ctx context.Context, stmt string, options ast.ParserOptions) (ast.Statement, error) {
	sctx, ok := ctx.(*sql.Context)
	if !ok || sctx.Session == nil {
		return nil, mysql.NewSQLError(mysql.ERNotSupportedYet, "42000", "USING EXTERNAL FUNCTION needs a session (it cannot be prepared)")
	}
	toks, err := Tokens(stmt)
	if err != nil {
		return nil, SyntaxError(stmt)
	}
	c := &cursor{toks: toks}
	if err := c.expect("USING"); err != nil {
		return nil, err
	}
	var defs []*mlfunc.FunctionDef
	for {
		if err := c.expect("EXTERNAL", "FUNCTION"); err != nil {
			return nil, err
		}
		d, err := parseExternalFunction(c, sctx)
		if err != nil {
			return nil, err
		}
		defs = append(defs, d)
		if !c.accept(",") {
			break
		}
	}
	if c.done() || c.pos == 0 {
		return nil, SyntaxError(c.near())
	}
	query := strings.TrimSpace(stmt[toks[c.pos-1].End:])
	if k := FirstKeyword(query); k != "SELECT" && k != "WITH" {
		return nil, mlError(errors.New("USING EXTERNAL FUNCTION must be followed by a query (SELECT or WITH)"))
	}
	if err := p.declare(sctx, defs); err != nil {
		return nil, mlError(err)
	}
	st, _, err := p.base.ParseOneWithOptions(ctx, query, options)
	if err != nil {
		return nil, syntaxError(err)
	}
	p.rewrite(st)
	return st, nil
}

// parseExternalFunction reads f(x type, ...) RETURNS type SAGEMAKER 'name'.
func parseExternalFunction(c *cursor, ctx *sql.Context) (*mlfunc.FunctionDef, error) {
	name, err := c.ident()
	if err != nil {
		return nil, err
	}
	d := &mlfunc.FunctionDef{DB: ctx.GetCurrentDatabase(), Name: name, Definer: currentUser(ctx)}
	if d.Params, err = parseParams(c); err != nil {
		return nil, err
	}
	for i := range d.Params {
		d.Params[i].Type = athenaType(d.Params[i].Type)
	}
	if err := c.expect("RETURNS"); err != nil {
		return nil, err
	}
	ret, err := c.typeText("SAGEMAKER", "LAMBDA")
	if err != nil {
		return nil, err
	}
	d.Returns = athenaType(ret)
	if c.accept("LAMBDA") {
		return nil, mlError(errors.New("USING EXTERNAL FUNCTION ... LAMBDA is not supported: SibylDB calls SAGEMAKER endpoints"))
	}
	if err := c.expect("SAGEMAKER"); err != nil {
		return nil, err
	}
	if d.Endpoint, err = c.str(); err != nil {
		return nil, err
	}
	return d, nil
}

// athenaType maps Athena's types without a length to MySQL's: VARCHAR
// alone is the longest utf8mb4 VARCHAR.
func athenaType(t string) string {
	if strings.EqualFold(strings.TrimSpace(t), "VARCHAR") {
		return "VARCHAR(16383)"
	}
	return t
}
