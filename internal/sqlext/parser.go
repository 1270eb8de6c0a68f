// Package sqlext adds SibylDB's statements to the MySQL grammar.
//
// GMS parses with vitess, whose grammar cannot be extended from outside. A
// Parser wraps GMS's parser: statements whose first keyword belongs to a
// registered extension are offered to that extension first; everything else
// (and anything the extension declines) goes to GMS unchanged. An extension
// returns a plan node, which reaches the planner as a vitess
// InjectedStatement, so our statements run through the same engine,
// transaction handling and result encoding as built-in ones.
package sqlext

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/privilege"
)

// Statement is one statement kind SibylDB adds to the grammar.
type Statement interface {
	// Keywords are the upper-case first keywords of the statement (e.g.
	// "FLUSH"). The parser consults the extension only for statements that
	// begin with one of them, so ordinary queries pay nothing.
	Keywords() []string
	// Parse returns the plan for stmt, a single statement without its
	// trailing delimiter. ok is false when stmt is not this extension's
	// statement; GMS then parses it. err is a syntax error in a statement
	// that is recognisably this extension's.
	Parse(ctx context.Context, stmt string) (node sql.Node, auth ast.AuthInformation, ok bool, err error)
}

// Parser implements sql.Parser over GMS's MySQL parser plus extensions.
type Parser struct {
	base  sql.Parser
	byKey map[string][]Statement
	// qualified maps a function qualifier (lower case) to the prefix its
	// functions are registered under.
	qualified map[string]string
	// declare, when set, enables USING EXTERNAL FUNCTION (see using.go).
	declare DeclareFunc
}

// QualifyFunctions makes qualifier.name(...) call prefix+name(...): GMS
// drops a function's qualifier, so aws_comprehend.detect_sentiment would
// otherwise look up a bare detect_sentiment.
func (p *Parser) QualifyFunctions(qualifier, prefix string) {
	if p.qualified == nil {
		p.qualified = map[string]string{}
	}
	p.qualified[strings.ToLower(qualifier)] = prefix
}

// rewrite applies QualifyFunctions to a parsed statement, and lets every
// account see its own grants.
func (p *Parser) rewrite(st ast.Statement) {
	if sg, ok := st.(*ast.ShowGrants); ok && (sg.For == nil || sg.CurrentUser) {
		// MySQL needs no privilege for SHOW GRANTS [FOR CURRENT_USER()];
		// GMS's grammar asks SELECT on mysql for every form.
		sg.Auth = ast.AuthInformation{AuthType: ast.AuthType_IGNORE}
	}
	if st == nil {
		return
	}
	if ex, ok := st.(*ast.Explain); ok {
		// Walk does not descend into EXPLAIN's statement.
		p.rewrite(ex.Statement)
		if strings.EqualFold(ex.ExplainFormat, "traditional") {
			// MySQL's name for the tabular form, which GMS does not know.
			ex.ExplainFormat = ""
		}
	}
	_ = ast.Walk(func(node ast.SQLNode) (bool, error) {
		if w, ok := node.(*ast.With); ok && w != nil && w.Recursive {
			ignoreSelfReferences(w)
		}
		switch n := node.(type) {
		case *ast.Insert:
			if len(n.OnDup) > 0 && n.Auth.AuthType == ast.AuthType_INSERT {
				n.Auth.Extra = privilege.AlsoNeeds{ast.AuthType_UPDATE}
			}
		case *ast.Update:
			if readsColumns(n.Where, n.OrderBy, n.Exprs) {
				alsoNeed(n.TableExprs, ast.AuthType_UPDATE, ast.AuthType_SELECT)
			}
		case *ast.Delete:
			if readsColumns(n.Where, n.OrderBy) {
				alsoNeed(n.TableExprs, ast.AuthType_DELETE, ast.AuthType_SELECT)
			}
		case *ast.Kill:
			// MySQL lets a user kill her own threads; the grammar asks
			// SUPER of every KILL (privilege.AuthorizeKill).
			if id, ok := n.ConnID.(*ast.SQLVal); ok {
				if v, err := strconv.ParseUint(string(id.Val), 10, 32); err == nil {
					n.Auth.Extra = privilege.KillTarget(v)
				}
			}
		case *ast.Select:
			if n.Lock != nil && strings.TrimSpace(n.Lock.Type) != "" {
				alsoNeed(n.From, ast.AuthType_SELECT, ast.AuthType_UPDATE, ast.AuthType_DELETE, ast.AuthType_LOCK)
			}
		case *ast.DDL:
			if n.OptLike != nil {
				var reads privilege.AlsoReads
				for _, t := range n.OptLike.LikeTables {
					reads = append(reads, t.DbQualifier.String(), t.Name.String())
				}
				n.Auth.Extra = reads
			}
			// Walk does not descend into the bodies of triggers,
			// procedures and events, which are bound from this parse.
			if body := routineBody(n); body != nil {
				p.rewrite(body)
			}
		}
		if fn, ok := node.(*ast.FuncExpr); ok && !fn.Qualifier.IsEmpty() {
			if prefix, ok := p.qualified[strings.ToLower(fn.Qualifier.String())]; ok {
				fn.Name = ast.NewColIdent(prefix + fn.Name.String())
				fn.Qualifier = ast.TableIdent{}
			}
		}
		return true, nil
	}, st)
}

// readsColumns reports whether any of the clauses names a column (for
// assignments, on their right-hand side).
func readsColumns(clauses ...ast.SQLNode) bool {
	found := false
	for _, c := range clauses {
		if exprs, ok := c.(ast.AssignmentExprs); ok {
			for _, e := range exprs {
				found = found || readsColumns(e.Expr)
			}
			continue
		}
		_ = ast.Walk(func(node ast.SQLNode) (bool, error) {
			if _, ok := node.(*ast.ColName); ok {
				found = true
			}
			return !found, nil
		}, c)
	}
	return found
}

// alsoNeed marks the tables that a statement's authorization asks authType
// of as needing one of anyOf as well (privilege.AlsoNeeds).
func alsoNeed(tables ast.TableExprs, authType string, anyOf ...string) {
	_ = ast.Walk(func(node ast.SQLNode) (bool, error) {
		if an, ok := node.(ast.AuthNode); ok && an.GetAuthInformation().AuthType == authType {
			an.SetExtra(privilege.AlsoNeeds(anyOf))
		}
		return true, nil
	}, tables)
}

// routineBody returns the body of a CREATE TRIGGER, PROCEDURE or EVENT,
// nil for other DDL.
func routineBody(ddl *ast.DDL) ast.Statement {
	switch {
	case ddl.TriggerSpec != nil:
		return ddl.TriggerSpec.Body
	case ddl.ProcedureSpec != nil:
		return ddl.ProcedureSpec.Body
	case ddl.EventSpec != nil:
		return ddl.EventSpec.Body
	}
	return nil
}

// ignoreSelfReferences marks a recursive CTE's references to itself as
// needing no table privilege. The grammar does so for references to a CTE
// from the query it fronts, not for the one inside the CTE's own body,
// which GMS's authorization then checks as a table of the current database
// ("Access denied ... to table 'c'" for users with table-level grants).
func ignoreSelfReferences(w *ast.With) {
	for _, cte := range w.Ctes {
		name := cte.As.String()
		_ = ast.Walk(func(node ast.SQLNode) (bool, error) {
			t, ok := node.(*ast.AliasedTableExpr)
			if !ok {
				return true, nil
			}
			if tn, ok := t.Expr.(ast.TableName); ok && tn.DbQualifier.IsEmpty() && strings.EqualFold(tn.Name.String(), name) {
				t.Auth = ast.AuthInformation{AuthType: ast.AuthType_IGNORE}
			}
			return true, nil
		}, cte.AliasedTableExpr.Expr)
	}
}

var _ sql.Parser = (*Parser)(nil)

// NewParser returns a parser that offers statements to exts before GMS.
func NewParser(base sql.Parser, exts ...Statement) *Parser {
	p := &Parser{base: base, byKey: map[string][]Statement{}}
	for _, e := range exts {
		for _, k := range e.Keywords() {
			k = strings.ToUpper(k)
			p.byKey[k] = append(p.byKey[k], e)
		}
	}
	return p
}

// ParseSimple implements sql.Parser.
func (p *Parser) ParseSimple(query string) (ast.Statement, error) {
	query = VectorIndexOptions(query)
	if st, ok, err := p.tryExtensions(context.Background(), sql.RemoveSpaceAndDelimiter(query, ';')); ok || err != nil {
		return st, err
	}
	st, err := p.base.ParseSimple(query)
	if err != nil {
		if q := ShareModeSpelling(query); q != query {
			if st2, err2 := p.base.ParseSimple(q); err2 == nil {
				st, err = st2, nil
			}
		}
	}
	p.rewrite(st)
	return st, syntaxError(err)
}

// Parse implements sql.Parser.
func (p *Parser) Parse(ctx *sql.Context, query string, multi bool) (ast.Statement, string, string, error) {
	return p.ParseWithOptions(ctx, query, ';', multi, sql.LoadSqlMode(ctx).ParserOptions())
}

// ParseWithOptions implements sql.Parser.
func (p *Parser) ParseWithOptions(ctx context.Context, query string, delimiter rune, multi bool, options ast.ParserOptions) (ast.Statement, string, string, error) {
	query = VectorIndexOptions(query)
	using := p.declare != nil && FirstKeyword(query) == "USING"
	if using || p.candidate(query) {
		first, rest, err := splitFirst(query, delimiter, multi)
		if err != nil {
			return nil, "", "", err
		}
		if using {
			st, err := p.parseUsing(ctx, first, options)
			return st, first, rest, err
		}
		if st, ok, err := p.tryExtensions(ctx, first); ok || err != nil {
			return st, first, rest, err
		}
		if st, ok, err := p.parseEventBody(ctx, first, options); ok || err != nil {
			return st, first, rest, err
		}
	}
	st, parsed, rest, err := p.base.ParseWithOptions(ctx, query, delimiter, multi, options)
	if err != nil {
		if q := ShareModeSpelling(query); q != query {
			if st2, parsed2, rest2, err2 := p.base.ParseWithOptions(ctx, q, delimiter, multi, options); err2 == nil {
				st, parsed, rest, err = st2, parsed2, rest2, nil
			}
		}
	}
	p.rewrite(st)
	return st, parsed, rest, syntaxError(err)
}

// forShare is MySQL 8's FOR SHARE locking clause ending a statement.
var forShare = regexp.MustCompile(`(?i)\bFOR\s+SHARE(\s*(;|$))`)

// ShareModeSpelling spells a statement-ending FOR SHARE, which the grammar
// lacks, as LOCK IN SHARE MODE, the older spelling of the same clause. The
// parser tries it only on a query that failed to parse, and keeps it only
// when the respelt query parses.
func ShareModeSpelling(query string) string {
	return forShare.ReplaceAllString(query, "LOCK IN SHARE MODE$1")
}

// splitFirst returns the first statement of query and, when multi, the
// rest (empty when only blanks remain).
func splitFirst(query string, delimiter rune, multi bool) (first, rest string, err error) {
	s := sql.RemoveSpaceAndDelimiter(query, delimiter)
	if !multi {
		return s, "", nil
	}
	if first, rest, err = ast.SplitStatement(s); err != nil {
		return "", "", err
	}
	first = sql.RemoveSpaceAndDelimiter(first, delimiter)
	if strings.TrimSpace(rest) == "" {
		rest = ""
	}
	return first, rest, nil
}

// ParseOneWithOptions implements sql.Parser.
func (p *Parser) ParseOneWithOptions(ctx context.Context, query string, options ast.ParserOptions) (ast.Statement, int, error) {
	if q := VectorIndexOptions(query); q != query {
		// The rewrite only touches the first statement, so the offset of
		// the next one moves by the change in length.
		st, next, err := p.ParseOneWithOptions(ctx, q, options)
		if next > 0 {
			next += len(query) - len(q)
		}
		return st, next, err
	}
	if p.candidate(query) {
		first, rest, err := ast.SplitStatement(query)
		if err != nil {
			return nil, 0, err
		}
		st, ok, err := p.tryExtensions(ctx, sql.RemoveSpaceAndDelimiter(first, ';'))
		if !ok && err == nil {
			st, ok, err = p.parseEventBody(ctx, sql.RemoveSpaceAndDelimiter(first, ';'), options)
		}
		if ok || err != nil {
			next := 0
			if strings.TrimSpace(rest) != "" {
				next = len(query) - len(rest)
			}
			return st, next, err
		}
	}
	st, next, err := p.base.ParseOneWithOptions(ctx, query, options)
	if err != nil {
		if q := ShareModeSpelling(query); q != query {
			if st2, next2, err2 := p.base.ParseOneWithOptions(ctx, q, options); err2 == nil {
				st, next, err = st2, next2, nil
				if next > 0 {
					next += len(query) - len(q)
				}
			}
		}
	}
	p.rewrite(st)
	return st, next, syntaxError(err)
}

// Prefilter is implemented by statements that own a hot keyword (SELECT)
// but only rare statements beginning with it: Matches decides cheaply,
// on the raw query text, whether Parse could accept the query, so that
// ordinary queries skip the extension path.
type Prefilter interface {
	Matches(query string) bool
}

// candidate reports whether query begins with a keyword some extension owns
// and that extension may want it.
func (p *Parser) candidate(query string) bool {
	if len(p.byKey) == 0 {
		return false
	}
	for _, e := range p.byKey[FirstKeyword(query)] {
		if f, ok := e.(Prefilter); !ok || f.Matches(query) {
			return true
		}
	}
	return false
}

func (p *Parser) tryExtensions(ctx context.Context, stmt string) (ast.Statement, bool, error) {
	for _, e := range p.byKey[FirstKeyword(stmt)] {
		node, auth, ok, err := e.Parse(ctx, stmt)
		if err != nil {
			return nil, true, err
		}
		if ok {
			return ast.InjectedStatement{Statement: injected{node}, Auth: auth}, true, nil
		}
	}
	return nil, false, nil
}

// injected adapts a plan node to vitess's Injectable.
type injected struct{ node sql.Node }

func (i injected) WithResolvedChildren([]any) (any, error) { return i.node, nil }

func (i injected) String() string { return i.node.String() }

// FirstKeyword returns the first word of query in upper case, skipping
// leading white space and comments. It is cheap enough to run on every
// statement.
func FirstKeyword(query string) string {
	s := skipSpaceAndComments(query)
	end := 0
	for end < len(s) && isWordByte(s[end]) {
		end++
	}
	return strings.ToUpper(s[:end])
}

func skipSpaceAndComments(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n\f(")
		switch {
		case strings.HasPrefix(s, "/*!"):
			// MySQL executable comment: its content is the statement.
			s = s[3:]
			for len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
				s = s[1:]
			}
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return ""
			}
			s = s[i+4:]
		case strings.HasPrefix(s, "#"), strings.HasPrefix(s, "-- "), strings.HasPrefix(s, "--\t"), s == "--":
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return ""
			}
			s = s[i+1:]
		default:
			return s
		}
	}
}

func isWordByte(b byte) bool {
	return b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
}

// Token is one lexical token of a statement.
type Token struct {
	// Text is the token as written; strings and quoted identifiers are
	// unquoted.
	Text string
	// String is true for string literals.
	String bool
	// End is the byte offset just past the token in the statement, so a
	// parser can cut out a clause (a subquery) as written.
	End int
}

// Is reports whether the token is the keyword or bare word kw, in any case.
func (t Token) Is(kw string) bool { return !t.String && strings.EqualFold(t.Text, kw) }

// Tokens splits a statement with vitess's tokenizer, dropping comments, so
// extensions match keyword sequences without caring about case, comments or
// spacing.
func Tokens(stmt string) ([]Token, error) {
	tkn := ast.NewStringTokenizer(stmt)
	var out []Token
	for {
		typ, val := tkn.Scan()
		if typ == 0 || typ == ';' {
			break
		}
		if tkn.LastError != nil {
			return nil, tkn.LastError
		}
		switch typ {
		case ast.LEX_ERROR:
			return nil, SyntaxError(stmt)
		case ast.COMMENT:
			continue
		}
		// The tokenizer's Position is 1-based and one character ahead.
		t := Token{Text: string(val), String: typ == ast.STRING, End: tkn.Position - 1}
		if t.Text == "" {
			t.Text = string(rune(typ))
		}
		out = append(out, t)
	}
	return out, nil
}
