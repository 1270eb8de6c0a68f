package sqlext

import (
	"context"
	"strings"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// parseEventBody parses CREATE EVENT ... DO <statement> when the body is
// one of SibylDB's statements (CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO
// ALTER MODEL m RETRAIN), which vitess's grammar cannot read. The body is
// parsed by its extension; the rest by GMS with the body replaced by a
// string literal of the same length, so that the positions GMS cuts the
// body's text out by (it stores and shows the event's body as written)
// still fall on the original body. ok is false for anything else.
func (p *Parser) parseEventBody(ctx context.Context, stmt string, options ast.ParserOptions) (ast.Statement, bool, error) {
	toks, err := Tokens(stmt)
	if err != nil || len(toks) < 6 || !toks[0].Is("CREATE") {
		return nil, false, nil
	}
	event, schedule := false, false
	for i, t := range toks {
		switch {
		case t.String:
		case !event && i < 8 && t.Is("EVENT"):
			event = true
		case event && t.Is("SCHEDULE"):
			schedule = true
		case schedule && t.Is("DO") && i+1 < len(toks):
			rest := stmt[toks[i].End:]
			body := strings.TrimSpace(rest)
			start := toks[i].End + len(rest) - len(strings.TrimLeft(rest, " \t\r\n"))
			if _, ours := p.byKey[FirstKeyword(body)]; !ours || len(body) < len("SELECT ''") {
				return nil, false, nil
			}
			injected, ok, err := p.tryExtensions(ctx, body)
			if !ok || err != nil {
				return nil, ok, err
			}
			placeholder := "SELECT '" + strings.Repeat("x", len(body)-len("SELECT ''")) + "'"
			st, _, err := p.base.ParseOneWithOptions(ctx, stmt[:start]+placeholder, options)
			if err != nil {
				return nil, true, syntaxError(err)
			}
			ddl, isDDL := st.(*ast.DDL)
			if !isDDL || ddl.EventSpec == nil {
				return nil, false, nil
			}
			ddl.EventSpec.Body = injected
			return ddl, true, nil
		}
		if !event && i >= 8 {
			return nil, false, nil
		}
	}
	return nil, false, nil
}
