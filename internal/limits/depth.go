package limits

import (
	"context"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// ErrStackOverrun is MySQL's ER_STACK_OVERRUN_NEED_MORE, what MySQL
// answers when an expression is nested too deeply to resolve.
const ErrStackOverrun = 1436

// Parser refuses statements nested deeper than sibyl_max_expression_depth
// before they reach the analyzer, whose cost grows with the square of the
// depth (1+1+...+1 with 100,000 terms ran for 14 minutes, deaf to KILL).
type Parser struct {
	sql.Parser
}

var _ sql.Parser = Parser{}

// ParseSimple implements sql.Parser.
func (p Parser) ParseSimple(query string) (ast.Statement, error) {
	st, err := p.Parser.ParseSimple(query)
	return check(st, err)
}

// Parse implements sql.Parser.
func (p Parser) Parse(ctx *sql.Context, query string, multi bool) (ast.Statement, string, string, error) {
	st, parsed, rest, err := p.Parser.Parse(ctx, query, multi)
	st, err = check(st, err)
	return st, parsed, rest, err
}

// ParseWithOptions implements sql.Parser.
func (p Parser) ParseWithOptions(ctx context.Context, query string, delimiter rune, multi bool, options ast.ParserOptions) (ast.Statement, string, string, error) {
	st, parsed, rest, err := p.Parser.ParseWithOptions(ctx, query, delimiter, multi, options)
	st, err = check(st, err)
	return st, parsed, rest, err
}

// ParseOneWithOptions implements sql.Parser.
func (p Parser) ParseOneWithOptions(ctx context.Context, query string, options ast.ParserOptions) (ast.Statement, int, error) {
	st, next, err := p.Parser.ParseOneWithOptions(ctx, query, options)
	st, err = check(st, err)
	return st, next, err
}

func check(st ast.Statement, err error) (ast.Statement, error) {
	if err != nil || st == nil {
		return st, err
	}
	limit := int(globalInt(MaxExpressionDepthVar, DefaultExpressionDepth))
	if limit <= 0 {
		return st, nil
	}
	if Depth(st, limit) > limit {
		return nil, mysql.NewSQLError(ErrStackOverrun, "HY000",
			"Thread stack overrun: the statement is nested more than %d levels deep (%s)", limit, MaxExpressionDepthVar)
	}
	return st, nil
}

// Depth is the nesting depth of node's syntax tree, counted up to
// limit+1: nothing below that depth is visited.
func Depth(node ast.SQLNode, limit int) int {
	deepest := 0
	var visit func(n ast.SQLNode, d int)
	visit = func(n ast.SQLNode, d int) {
		if d > deepest {
			deepest = d
		}
		if deepest > limit {
			return
		}
		first := true
		_ = ast.Walk(func(child ast.SQLNode) (bool, error) {
			if first {
				first = false
				return true, nil // descend into n's children
			}
			if deepest <= limit {
				visit(child, d+1)
			}
			return false, nil // visit went below child itself
		}, n)
	}
	visit(node, 1)
	return deepest
}
