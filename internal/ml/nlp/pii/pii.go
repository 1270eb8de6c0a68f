// Package pii detects personally identifiable information in free text,
// mirroring Amazon Comprehend's DetectPiiEntities / ContainsPiiEntities
// result shapes, but computed locally with rules (no model, no network).
//
// # How it works
//
// Detect makes a small number of linear passes over the input:
//
//   - a numeric pass finds "number chunks" (digit groups joined by single
//     separators such as "-", ".", "/", ":", " ", "(", ")") that start on a
//     word boundary, and classifies each chunk with anchored patterns and
//     validators: Luhn plus issuer-prefix checks for cards, area/group/serial
//     rules for SSNs, octet ranges for IPv4, month/day ranges for dates, the
//     ABA checksum for routing numbers, NANP rules for US phone numbers.
//     Weak numeric types (CVV, PIN, bank account, routing number, plain
//     un-formatted phone numbers, ages) are only emitted when a context cue
//     ("cvv", "pin", "account", "phone", "age", ...) appears shortly before
//     the number (or "years old" after it);
//   - literal-triggered scanners for EMAIL ('@'), URL ("http://", "www.",
//     bare domains with a common TLD), MAC_ADDRESS, IPv6 (validated with
//     net/netip), IBAN (country length table and ISO 7064 mod-97 == 1),
//     AWS access keys (AKIA/ASIA + 16 characters);
//   - cue/value scanners for USERNAME, PASSWORD, AWS_SECRET_KEY, PIN,
//     PASSPORT_NUMBER, DRIVER_ID and LICENSE_PLATE: the value is the token
//     after an explicit cue such as "password:" or "passport number is";
//   - a word pass for NAME (capitalised tokens after honorifics such as
//     Mr/Ms/Dr or phrases such as "my name is", plus capitalised tokens found
//     in a compact embedded first-name list, see package gazetteer),
//     ADDRESS (US-style "number + street name + suffix" with optional unit,
//     city, state and ZIP, and "P.O. Box"), DATE_TIME (month-name dates,
//     weekdays, "5 pm") and AGE.
//
// Candidates are then resolved into a sorted, non-overlapping list, keeping
// the longer candidate on overlap (the higher score on equal length), and
// adjacent date/time pieces ("June 5, 2023 at 10:30") are merged.
//
// Offsets are zero-based Unicode code point offsets into the input and
// EndOffset is exclusive, as in Comprehend. Invalid UTF-8 bytes count as one
// code point each (consistent with utf8.RuneCountInString).
//
// Scores are calibrated by hand: checksum-validated matches (Luhn cards,
// mod-97 IBANs, ABA routing numbers) score 0.99, well-formed patterns
// 0.9–0.95, cue-only matches 0.8–0.9 and the weakest heuristics (bare
// first names, bare domains, weekdays) 0.6–0.8.
//
// # Decisions and known limits
//
//   - Dotted quads with valid octets ("1.2.3.4") are reported as IP_ADDRESS,
//     except when written as a version: preceded by a letter ("v1.2.3.4") or
//     by a version cue ("version", "ver", "release", "build", "firmware").
//   - Digit runs without separators are never reported as phone numbers
//     unless a phone cue precedes them, and card-like numbers that follow an
//     order/invoice/tracking/reference cue are not cards unless a card cue is
//     also present. Numbers failing Luhn are never cards.
//   - Names are found only with cues or via the first-name list, so
//     uncommon given names without a cue are missed, and first names that
//     are also ordinary words ("Will", "May", "Grace") require a following
//     capitalised surname.
//   - Only US-style street addresses are recognised; free-form international
//     addresses are missed.
//   - Everything is English-centric (cues, months, weekdays).
package pii

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/textspan"
)

// Entity is one detected PII span, shaped like Comprehend's PiiEntity.
// BeginOffset/EndOffset are zero-based code point offsets; EndOffset is
// exclusive.
type Entity struct {
	Type        string  `json:"Type"`
	Score       float64 `json:"Score"`
	BeginOffset int     `json:"BeginOffset"`
	EndOffset   int     `json:"EndOffset"`
}

// Entity type names, as used by Amazon Comprehend.
const (
	TypeEmail        = "EMAIL"
	TypePhone        = "PHONE"
	TypeCard         = "CREDIT_DEBIT_NUMBER"
	TypeCVV          = "CREDIT_DEBIT_CVV"
	TypeExpiry       = "CREDIT_DEBIT_EXPIRY"
	TypeBankAccount  = "BANK_ACCOUNT_NUMBER"
	TypeBankRouting  = "BANK_ROUTING"
	TypeIBAN         = "INTERNATIONAL_BANK_ACCOUNT_NUMBER"
	TypeSSN          = "SSN"
	TypeIP           = "IP_ADDRESS"
	TypeMAC          = "MAC_ADDRESS"
	TypeURL          = "URL"
	TypeDateTime     = "DATE_TIME"
	TypeName         = "NAME"
	TypeAddress      = "ADDRESS"
	TypeAge          = "AGE"
	TypeUsername     = "USERNAME"
	TypePassword     = "PASSWORD"
	TypeAWSAccessKey = "AWS_ACCESS_KEY"
	TypeAWSSecretKey = "AWS_SECRET_KEY"
	TypePIN          = "PIN"
	TypeLicensePlate = "LICENSE_PLATE"
	TypePassport     = "PASSPORT_NUMBER"
	TypeDriverID     = "DRIVER_ID"
)

// cand is a candidate entity with byte offsets into the input.
type cand struct {
	typ        string
	score      float64
	start, end int
}

// detector holds the per-call state shared by the scanners.
type detector struct {
	s     string // original text
	low   string // ASCII-lowercased copy with identical byte offsets
	cands []cand
}

func (d *detector) add(typ string, score float64, start, end int) {
	if start < 0 || end > len(d.s) || start >= end {
		return
	}
	d.cands = append(d.cands, cand{typ, score, start, end})
}

// Detect returns the PII entities found in text, sorted by BeginOffset and
// non-overlapping. It never returns nil (an empty slice when nothing is
// found), so it marshals to [] like Comprehend's Entities list.
func Detect(text string) []Entity {
	cs := detect(text)
	out := make([]Entity, 0, len(cs))
	conv := textspan.NewOffsets(text)
	for _, c := range cs {
		out = append(out, Entity{Type: c.typ, Score: c.score, BeginOffset: conv.Rune(c.start), EndOffset: conv.Rune(c.end)})
	}
	return out
}

// Contains reports whether text holds at least one PII entity, like
// Comprehend's ContainsPiiEntities. It returns the distinct entity types
// found, in order of first appearance.
func Contains(text string) []string {
	var types []string
	for _, c := range detect(text) {
		dup := false
		for _, t := range types {
			if t == c.typ {
				dup = true
				break
			}
		}
		if !dup {
			types = append(types, c.typ)
		}
	}
	return types
}

// Redact returns text with every detected entity replaced. With mask == ""
// each entity becomes "[TYPE]" (e.g. "[EMAIL]"); with a single-character
// mask (e.g. "*") each character of the entity is replaced by that
// character, like Comprehend's MASK mode; any other mask string replaces
// each whole entity. Characters outside entities are kept unchanged.
func Redact(text, mask string) string {
	return RedactEntities(text, Detect(text), mask)
}

// RedactEntities is Redact for entities found elsewhere (Amazon
// Comprehend's DetectPiiEntities): es have character offsets and are
// sorted; entities out of range or overlapping an earlier one are ignored.
func RedactEntities(text string, es []Entity, mask string) string {
	if len(es) == 0 {
		return text
	}
	runes := []rune(text)
	var b strings.Builder
	b.Grow(len(text) + 16*len(es))
	single := utf8.RuneCountInString(mask) == 1
	prev := 0
	for _, e := range es {
		if e.BeginOffset < prev || e.EndOffset > len(runes) || e.BeginOffset >= e.EndOffset {
			continue
		}
		b.WriteString(string(runes[prev:e.BeginOffset]))
		switch {
		case mask == "":
			b.WriteByte('[')
			b.WriteString(e.Type)
			b.WriteByte(']')
		case single:
			b.WriteString(strings.Repeat(mask, e.EndOffset-e.BeginOffset))
		default:
			b.WriteString(mask)
		}
		prev = e.EndOffset
	}
	b.WriteString(string(runes[prev:]))
	return b.String()
}

// detect runs all scanners and resolves overlaps; offsets are in bytes.
func detect(text string) []cand {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	d := &detector{s: text, low: textspan.ASCIILower(text)}
	d.scanNumbers()
	d.scanEmails()
	d.scanURLs()
	d.scanHexIDs()
	d.scanIBAN()
	d.scanAWSAccessKeys()
	d.scanCueValues()
	d.scanWords()
	return resolve(d.s, d.cands)
}

// resolve sorts candidates and removes overlaps, preferring the longer
// candidate and, on equal length, the higher score. Adjacent DATE_TIME
// pieces separated only by spaces, commas or "at" are merged.
func resolve(s string, cs []cand) []cand {
	if len(cs) == 0 {
		return nil
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].start != cs[j].start {
			return cs[i].start < cs[j].start
		}
		return cs[i].end > cs[j].end
	})
	out := make([]cand, 0, len(cs))
	for _, c := range cs {
		if n := len(out); n > 0 && c.start < out[n-1].end {
			last := out[n-1]
			if better(c, last) {
				out[n-1] = c
				// The replacement may now overlap earlier accepted ones.
				for len(out) > 1 && out[len(out)-2].end > out[len(out)-1].start {
					a, b := out[len(out)-2], out[len(out)-1]
					if better(a, b) {
						out = out[:len(out)-1]
					} else {
						out[len(out)-2] = b
						out = out[:len(out)-1]
					}
				}
			}
			continue
		}
		out = append(out, c)
	}
	// Merge adjacent date/time pieces.
	merged := out[:0]
	for _, c := range out {
		if n := len(merged); n > 0 && c.typ == TypeDateTime && merged[n-1].typ == TypeDateTime && dateGlue(s[merged[n-1].end:c.start]) {
			merged[n-1].end = c.end
			if c.score > merged[n-1].score {
				merged[n-1].score = c.score
			}
			continue
		}
		merged = append(merged, c)
	}
	return merged
}

func better(a, b cand) bool {
	la, lb := a.end-a.start, b.end-b.start
	if la != lb {
		return la > lb
	}
	return a.score > b.score
}

func dateGlue(g string) bool {
	g = strings.TrimSpace(g)
	switch strings.ToLower(g) {
	case "", ",", "at", ", at", "@", "-", "t":
		return len(g) <= 5
	}
	return false
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool  { return c >= 'a' && c <= 'z' }
func isLetter(c byte) bool { return isUpper(c) || isLower(c) }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }
func isSpace(c byte) bool  { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// wordChar reports whether the byte at i continues a word (ASCII alnum,
// underscore or any non-ASCII byte, which conservatively counts as a letter).
func wordChar(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return isAlnum(c) || c == '_' || c >= utf8.RuneSelf
}

// cueBefore reports whether one of cues occurs as a whole word (or phrase)
// in low within window bytes before pos.
func cueBefore(low string, pos, window int, cues ...string) bool {
	from := pos - window
	if from < 0 {
		from = 0
	}
	w := low[from:pos]
	for _, cue := range cues {
		off := 0
		for {
			k := strings.Index(w[off:], cue)
			if k < 0 {
				break
			}
			a := from + off + k
			e := a + len(cue)
			if !wordChar(low, a-1) && !wordChar(low, e) {
				return true
			}
			off += k + 1
		}
	}
	return false
}
