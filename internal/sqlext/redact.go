package sqlext

import (
	"strings"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// Redact rewrites a statement's text for the log, from vitess's token
// stream (so comments, case, spacing, a missing '=' or adjacent literals
// change nothing):
//
//   - header values of CREATE/ALTER ENDPOINT ... HEADERS ('Name' = 'value')
//     and the literals after SECRET_ACCESS_KEY and SESSION_TOKEN become '***';
//   - passwords (IDENTIFIED BY / WITH plugin BY|AS, SET PASSWORD ... = ,
//     PASSWORD('...')) become <secret>, as MySQL writes them in its logs.
//
// Every statement of a multi-statement text is redacted. A text the
// tokenizer cannot read is cut where reading stopped.
func Redact(stmt string) string {
	toks, cut := rawTokens(stmt)
	var b strings.Builder
	last := 0
	replace := func(t rawToken, with string) {
		b.WriteString(stmt[last:t.start])
		b.WriteString(with)
		last = t.end
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.is("SECRET_ACCESS_KEY"), t.is("SESSION_TOKEN"):
			i = redactLiterals(toks, i+1, "'***'", replace)
		case t.is("IDENTIFIED"):
			j := i + 1
			if j < len(toks) && toks[j].is("WITH") {
				j += 2 // the plugin name
			}
			if j < len(toks) && (toks[j].is("BY") || toks[j].is("AS")) {
				j++
			}
			i = redactLiterals(toks, j, "<secret>", replace)
		case t.is("PASSWORD"):
			// SET PASSWORD [FOR 'u'@'h'] = 'x', PASSWORD('x'), PASSWORD 'x'.
			k := i + 1
			for k < len(toks) && k-i < 10 && !(!toks[k].str && (toks[k].text == "=" || toks[k].text == "(" || toks[k].text == ";")) {
				k++
			}
			switch {
			case k < len(toks) && (toks[k].text == "=" || toks[k].text == "("):
				i = redactLiterals(toks, k+1, "<secret>", replace)
			case i+1 < len(toks) && toks[i+1].str:
				i = redactLiterals(toks, i+1, "<secret>", replace)
			}
		case t.is("HEADERS"):
			i = redactHeaders(toks, i+1, replace)
		}
	}
	b.WriteString(stmt[last:cut])
	if cut < len(stmt) {
		b.WriteString(" /* not tokenizable: rest omitted */")
	}
	return b.String()
}

// redactLiterals replaces the string literals from toks[i] on (after an
// optional '='), adjacent ones included, and returns the last index seen.
func redactLiterals(toks []rawToken, i int, with string, replace func(rawToken, string)) int {
	if i < len(toks) && toks[i].text == "=" {
		i++
	}
	for i < len(toks) && toks[i].str {
		replace(toks[i], with)
		i++
	}
	return i - 1
}

// redactHeaders redacts inside HEADERS ( ... ): each comma-separated item
// keeps its name only in the 'name' = 'value' form; any other item (a
// missing '=', adjacent literals) loses every literal.
func redactHeaders(toks []rawToken, i int, replace func(rawToken, string)) int {
	if i >= len(toks) || toks[i].text != "(" {
		return i - 1
	}
	depth := 0
	item := []rawToken{}
	flush := func() {
		named := len(item) >= 2 && item[0].str && item[1].text == "="
		for k, t := range item {
			if t.str && !(named && k == 0) {
				replace(t, "'***'")
			}
		}
		item = item[:0]
	}
	for ; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.text == "(" && !t.str:
			depth++
			if depth == 1 {
				continue
			}
		case t.text == ")" && !t.str:
			depth--
			if depth == 0 {
				flush()
				return i
			}
		case t.text == "," && !t.str && depth == 1:
			flush()
			continue
		case t.text == ";" && !t.str:
			flush()
			return i
		}
		item = append(item, t)
	}
	flush()
	return i
}

// rawToken is a token with its byte range in the statement.
type rawToken struct {
	text       string
	str        bool
	start, end int
}

func (t rawToken) is(kw string) bool { return !t.str && strings.EqualFold(t.text, kw) }

// rawTokens tokenizes every statement of stmt (comments dropped) and
// returns where tokenizing stopped: len(stmt), or the start of the token
// the tokenizer could not read.
func rawTokens(stmt string) ([]rawToken, int) {
	var out []rawToken
	rest, base := stmt, 0
	for rest != "" {
		tkn := ast.NewStringTokenizer(rest)
		prevEnd := 0
		for {
			typ, val := tkn.Scan()
			// The tokenizer's Position is 1-based and one character ahead.
			end := tkn.Position - 1
			if end > len(rest) {
				end = len(rest)
			}
			start := prevEnd
			for start < end && strings.IndexByte(" \t\r\n", rest[start]) >= 0 {
				start++
			}
			if typ == 0 {
				return out, len(stmt)
			}
			if typ == ast.LEX_ERROR || tkn.LastError != nil {
				return out, base + start
			}
			prevEnd = end
			// The lookahead may be whitespace past the token.
			end = start + len(strings.TrimRight(rest[start:end], " \t\r\n"))
			if typ == ast.COMMENT {
				continue
			}
			t := rawToken{text: string(val), str: typ == ast.STRING, start: base + start, end: base + end}
			if t.text == "" {
				t.text = string(rune(typ))
			}
			out = append(out, t)
			if typ == ';' {
				// The tokenizer stops at ';': continue with the next statement.
				rest, base = rest[end:], base+end
				break
			}
		}
	}
	return out, len(stmt)
}
