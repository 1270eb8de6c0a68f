package sqlext

import (
	"strconv"
	"strings"
)

// cursor walks a token list for the hand-written statement parsers.
type cursor struct {
	toks []Token
	pos  int
}

func (c *cursor) done() bool { return c.pos >= len(c.toks) }

func (c *cursor) peek() Token {
	if c.done() {
		return Token{}
	}
	return c.toks[c.pos]
}

// near is the rest of the statement from the current token, for 1064.
func (c *cursor) near() string {
	parts := make([]string, 0, len(c.toks)-c.pos)
	for _, t := range c.toks[c.pos:] {
		parts = append(parts, t.Text)
	}
	return strings.Join(parts, " ")
}

// accept consumes the keyword sequence if it is next.
func (c *cursor) accept(kws ...string) bool {
	if c.pos+len(kws) > len(c.toks) {
		return false
	}
	for i, kw := range kws {
		if !c.toks[c.pos+i].Is(kw) {
			return false
		}
	}
	c.pos += len(kws)
	return true
}

func (c *cursor) expect(kws ...string) error {
	if !c.accept(kws...) {
		return SyntaxError(c.near())
	}
	return nil
}

// ident consumes an identifier (bare or back-quoted).
func (c *cursor) ident() (string, error) {
	t := c.peek()
	if c.done() || t.String || len(t.Text) == 0 || strings.ContainsAny(t.Text[:1], "(),;=.'") {
		return "", SyntaxError(c.near())
	}
	c.pos++
	return t.Text, nil
}

// qualified consumes [db.]name.
func (c *cursor) qualified() (db, name string, err error) {
	name, err = c.ident()
	if err != nil {
		return "", "", err
	}
	if c.accept(".") {
		db = name
		if name, err = c.ident(); err != nil {
			return "", "", err
		}
	}
	return db, name, nil
}

func (c *cursor) str() (string, error) {
	t := c.peek()
	if !t.String {
		return "", SyntaxError(c.near())
	}
	c.pos++
	return t.Text, nil
}

func (c *cursor) integer() (int, error) {
	t := c.peek()
	n, err := strconv.Atoi(t.Text)
	if t.String || err != nil {
		return 0, SyntaxError(c.near())
	}
	c.pos++
	return n, nil
}

// typeText consumes a column type up to a top-level ',' or ')' or one of
// the stop keywords, and returns it as text for ParseType.
func (c *cursor) typeText(stop ...string) (string, error) {
	var parts []string
	depth := 0
	for !c.done() {
		t := c.peek()
		if depth == 0 && (t.Text == "," || t.Text == ")") && !t.String {
			break
		}
		if depth == 0 && len(parts) > 0 && c.atAny(stop...) {
			break
		}
		switch {
		case t.Text == "(" && !t.String:
			depth++
		case t.Text == ")" && !t.String:
			depth--
		}
		if t.String {
			parts = append(parts, "'"+strings.ReplaceAll(t.Text, "'", "''")+"'")
		} else {
			parts = append(parts, t.Text)
		}
		c.pos++
	}
	if len(parts) == 0 {
		return "", SyntaxError(c.near())
	}
	return strings.Join(parts, " "), nil
}

func (c *cursor) atAny(kws ...string) bool {
	t := c.peek()
	for _, k := range kws {
		if t.Is(k) {
			return true
		}
	}
	return false
}

// parens reads a parenthesised group starting at the current "(" token,
// nested parentheses and strings included, and returns the text between
// the outer parentheses, trimmed, with the cursor after the ")". ok is
// false when the group never closes; the cursor is then at the end.
func (c *cursor) parens(stmt string) (inner string, ok bool) {
	start := c.peek().End
	depth := 0
	for ; !c.done(); c.pos++ {
		switch p := c.peek(); {
		case p.String:
		case p.Text == "(":
			depth++
		case p.Text == ")":
			depth--
		}
		if depth == 0 {
			break
		}
	}
	if c.done() {
		return stmt[start:], false
	}
	inner = strings.TrimSpace(stmt[start : c.peek().End-1])
	c.pos++
	return inner, true
}
