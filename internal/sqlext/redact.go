package sqlext

import (
	"regexp"
	"strings"
)

var (
	headersKeyword = regexp.MustCompile(`(?i)\bHEADERS\s*\(`)
	// secretKeyword precedes a secret of CREATE STORAGE CREDENTIAL.
	secretKeyword = regexp.MustCompile(`(?i)\b(SECRET_ACCESS_KEY|SESSION_TOKEN)\s+`)
)

// Redact replaces the header values of CREATE/ALTER ENDPOINT ... HEADERS
// ('Name' = 'value', ...) and the secrets of CREATE STORAGE CREDENTIAL in a
// statement's text with '***', so that the statement can be logged.
func Redact(stmt string) string {
	return redactSecrets(redactHeaders(stmt))
}

// redactSecrets replaces the string literal after each secret keyword.
func redactSecrets(stmt string) string {
	return redactAfter(stmt, secretKeyword, func(b *strings.Builder, i int) int {
		if i < len(stmt) && (stmt[i] == '\'' || stmt[i] == '"') {
			b.WriteString("'***'")
			return closingQuote(stmt, i)
		}
		return i
	})
}

// redactHeaders replaces each value ('Name' = 'value') inside HEADERS (...).
func redactHeaders(stmt string) string {
	return redactAfter(stmt, headersKeyword, func(b *strings.Builder, i int) int {
		afterEquals := false
		for i < len(stmt) && stmt[i] != ')' {
			c := stmt[i]
			switch {
			case c == '=':
				afterEquals = true
				b.WriteByte(c)
				i++
			case c == '\'' || c == '"':
				end := closingQuote(stmt, i)
				if afterEquals {
					b.WriteString("'***'")
					afterEquals = false
				} else {
					b.WriteString(stmt[i:end])
				}
				i = end
			case c == ',':
				afterEquals = false
				b.WriteByte(c)
				i++
			default:
				b.WriteByte(c)
				i++
			}
		}
		return i
	})
}

// redactAfter copies stmt, handing what follows each match of keyword to
// redact, which writes its replacement of stmt[i:...] and returns where
// copying resumes.
func redactAfter(stmt string, keyword *regexp.Regexp, redact func(b *strings.Builder, i int) int) string {
	locs := keyword.FindAllStringIndex(stmt, -1)
	if locs == nil {
		return stmt
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		if loc[0] < last {
			continue
		}
		b.WriteString(stmt[last:loc[1]])
		last = redact(&b, loc[1])
	}
	b.WriteString(stmt[last:])
	return b.String()
}

// closingQuote returns the index just past the string literal starting at
// i, honouring doubled quotes and backslash escapes.
func closingQuote(s string, i int) int {
	q := s[i]
	j := i + 1
	for j < len(s) {
		switch {
		case s[j] == '\\':
			j += 2
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			j += 2
		case s[j] == q:
			return j + 1
		default:
			j++
		}
	}
	return len(s)
}
