// Package entities detects named entities in English text, mirroring the
// result shape of Amazon Comprehend's DetectEntities, computed locally with
// rules and small embedded gazetteers (no model, no network).
//
// # How it works
//
// The text is tokenised once (words, numbers, single punctuation runes,
// with byte offsets and sentence-start flags). Then:
//
//   - DATE: month-name dates ("March 3rd, 2024", "5 June"), numeric dates
//     ("2024-03-05", "3/5/24"), times ("10:30", "5 pm"), weekdays with
//     optional "last"/"next"/"this", relative expressions ("yesterday",
//     "next week", "3 days ago"), years after a preposition ("in 2019") and
//     decades ("the 1990s");
//   - QUANTITY: currency amounts ("$5.99", "20 euros", "$3 million"),
//     percentages, and digits or number words followed by a unit or a
//     plural noun ("3 kg", "two hours", "5 stars");
//   - TITLE: quoted text after a cue such as "movie", "book", "song",
//     "watched", "titled", or an unquoted capitalised span right after such
//     a cue ("the movie The Godfather");
//   - capitalised spans (runs of capitalised tokens, acronyms and brand
//     spellings such as "iPhone", joined by "of", "de", "&", ...) are
//     classified by gazetteers (package gazetteer: countries, cities, US
//     states, well-known companies and products, first names, nationalities),
//     by head words (company suffixes "Inc"/"Ltd"/"GmbH" → ORGANIZATION,
//     "Festival"/"Summit"/"War" → EVENT, "River"/"Lake" → LOCATION), by
//     honorifics (Mr/Dr/President → PERSON) and by weak context cues ("in X"
//     → LOCATION, "works at X" → ORGANIZATION). Unknown proper-noun spans in
//     mid-sentence become OTHER with a low score. A capitalised common word
//     at the start of a sentence is never an entity on its own.
//
// Overlapping candidates are resolved keeping the longer one (the higher
// score on ties). Offsets are zero-based Unicode code point offsets with an
// exclusive end, as in Comprehend.
//
// # Known limits
//
// This is a precision-oriented heuristic detector, not a statistical NER
// model: names missing from the gazetteers and lacking cues are reported as
// OTHER or missed; lower-case or all-caps text defeats the capitalisation
// cues; only English cue words are known; entity types of ambiguous names
// ("Jordan", "Amazon", "Paris Hilton") follow gazetteer priority, not
// context.
package entities

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/textspan"
)

// Entity is one detected entity, shaped like Comprehend's Entity.
type Entity struct {
	Type        string  `json:"Type"`
	Text        string  `json:"Text"`
	Score       float64 `json:"Score"`
	BeginOffset int     `json:"BeginOffset"`
	EndOffset   int     `json:"EndOffset"`
}

// Entity type names, as used by Amazon Comprehend.
const (
	TypePerson         = "PERSON"
	TypeOrganization   = "ORGANIZATION"
	TypeLocation       = "LOCATION"
	TypeDate           = "DATE"
	TypeQuantity       = "QUANTITY"
	TypeCommercialItem = "COMMERCIAL_ITEM"
	TypeEvent          = "EVENT"
	TypeTitle          = "TITLE"
	TypeOther          = "OTHER"
)

const (
	kWord = iota + 1
	kNum
	kPunct
)

type tok struct {
	start, end int
	kind       byte
	capital    bool // first letter upper case
	allCaps    bool // all letters upper case (2+ letters)
	camel      bool // lower first letter with an inner capital ("iPhone")
	sent       bool // first token of a sentence
}

type cand struct {
	typ        string
	score      float64
	start, end int
}

type detector struct {
	s, low string
	toks   []tok
	cands  []cand
}

func (d *detector) add(typ string, score float64, start, end int) {
	if start >= 0 && end <= len(d.s) && start < end {
		d.cands = append(d.cands, cand{typ, score, start, end})
	}
}

func (d *detector) text(i int) string  { return d.s[d.toks[i].start:d.toks[i].end] }
func (d *detector) lower(i int) string { return d.low[d.toks[i].start:d.toks[i].end] }

// gap returns the raw text between tokens i and i+1.
func (d *detector) gap(i int) string { return d.s[d.toks[i].end:d.toks[i+1].start] }

// Detect returns the entities found in text, sorted by BeginOffset and
// non-overlapping. It never returns nil.
func Detect(text string) []Entity {
	out := []Entity{}
	if strings.TrimSpace(text) == "" {
		return out
	}
	d := &detector{s: text, low: textspan.ASCIILower(text)}
	var buf [128]tok
	d.toks = tokenize(text, buf[:0])
	d.scanDates()
	d.scanQuantities()
	d.scanTitles()
	d.scanSpans()
	cs := resolve(d.cands)
	conv := textspan.NewOffsets(text)
	out = make([]Entity, 0, len(cs))
	for _, c := range cs {
		out = append(out, Entity{Type: c.typ, Text: text[c.start:c.end], Score: c.score, BeginOffset: conv.Rune(c.start), EndOffset: conv.Rune(c.end)})
	}
	return out
}

func resolve(cs []cand) []cand {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].start != cs[j].start {
			return cs[i].start < cs[j].start
		}
		return cs[i].end > cs[j].end
	})
	out := make([]cand, 0, len(cs))
	for _, c := range cs {
		if n := len(out); n > 0 && c.start < out[n-1].end {
			if better(c, out[n-1]) {
				out[n-1] = c
				for len(out) > 1 && out[len(out)-2].end > out[len(out)-1].start {
					a, b := out[len(out)-2], out[len(out)-1]
					if !better(a, b) {
						out[len(out)-2] = b
					}
					out = out[:len(out)-1]
				}
			}
			continue
		}
		out = append(out, c)
	}
	return out
}

func better(a, b cand) bool {
	if la, lb := a.end-a.start, b.end-b.start; la != lb {
		return la > lb
	}
	return a.score > b.score
}

// abbreviations whose trailing dot does not end a sentence.
var abbrevs = map[string]bool{"Mr": true, "Mrs": true, "Ms": true, "Dr": true, "Prof": true, "St": true, "Mt": true, "Ft": true, "Jr": true, "Sr": true, "Inc": true, "Co": true, "Corp": true, "Ltd": true, "Gen": true, "Sen": true, "Rep": true, "Gov": true, "Capt": true, "Lt": true, "Col": true, "Sgt": true, "Rev": true, "No": true, "vs": true, "etc": true, "Jan": true, "Feb": true, "Mar": true, "Apr": true, "Jun": true, "Jul": true, "Aug": true, "Sep": true, "Sept": true, "Oct": true, "Nov": true, "Dec": true, "U.S": true, "U.K": true, "e.g": true, "i.e": true}

// tokenize splits s into word, number and punctuation tokens.
func tokenize(s string, toks []tok) []tok {
	sent := true
	for i := 0; i < len(s); {
		r, sz := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, sz = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case r == '\n' && i+1 < len(s) && (s[i+1] == '\n' || s[i+1] == '\r'):
			sent = true
			i += sz
		case unicode.IsSpace(r):
			if r == '\n' {
				// A line break ends a sentence when the line looks finished.
				if n := len(toks); n > 0 && toks[n-1].kind == kPunct {
					sent = true
				}
			}
			i += sz
		case unicode.IsLetter(r):
			st := i
			upperFirst := unicode.IsUpper(r)
			lowers, uppers, innerUpper := 0, 0, false
			if upperFirst {
				uppers++
			} else if unicode.IsLower(r) {
				lowers++
			}
			i += sz
			for i < len(s) {
				r2, sz2 := rune(s[i]), 1
				if r2 >= utf8.RuneSelf {
					r2, sz2 = utf8.DecodeRuneInString(s[i:])
				}
				if unicode.IsLetter(r2) || unicode.IsDigit(r2) || unicode.Is(unicode.Mn, r2) {
					if unicode.IsUpper(r2) {
						uppers++
						innerUpper = true
					} else if unicode.IsLower(r2) {
						lowers++
					}
					i += sz2
					continue
				}
				if (r2 == '\'' || r2 == '’' || r2 == '-' || r2 == '&') && i+sz2 < len(s) {
					r3, _ := utf8.DecodeRuneInString(s[i+sz2:])
					if unicode.IsLetter(r3) {
						i += sz2
						continue
					}
				}
				// Dotted abbreviations such as "U.S." stay one token.
				if r2 == '.' && i+2 < len(s) && isUpperByte(s[i+1]) && (s[i+2] == '.' || i+2 == len(s)) && i-st <= 2 {
					i += 2
					continue
				}
				break
			}
			t := tok{start: st, end: i, kind: kWord, capital: upperFirst, sent: sent}
			t.allCaps = lowers == 0 && uppers >= 2
			t.camel = !upperFirst && innerUpper && lowers > 0
			toks = append(toks, t)
			sent = false
		case r >= '0' && r <= '9':
			st := i
			i++
			for i < len(s) {
				c := s[i]
				if c >= '0' && c <= '9' {
					i++
					continue
				}
				if (c == ',' || c == '.' || c == ':') && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
					i += 2
					continue
				}
				break
			}
			toks = append(toks, tok{start: st, end: i, kind: kNum, sent: sent})
			sent = false
		default:
			toks = append(toks, tok{start: i, end: i + sz, kind: kPunct})
			if r == '.' || r == '!' || r == '?' || r == '…' || r == ';' {
				sent = true
				// Not after abbreviations or single initials.
				if n := len(toks); r == '.' && n >= 2 {
					p := toks[n-2]
					w := s[p.start:p.end]
					if p.kind == kWord && p.end == i && (abbrevs[w] || (p.end-p.start == 1 && p.capital)) {
						sent = false
					}
				}
			} else if r == ':' || r == '"' || r == '“' || r == '(' || r == '-' || r == '—' || r == '*' || r == '•' {
				// keep the current state: a quote or bullet after a sentence
				// end still starts the sentence.
				if r == ':' || r == '•' || r == '*' {
					sent = true
				}
			} else {
				sent = false
			}
			i += sz
		}
	}
	return toks
}

func isUpperByte(c byte) bool { return c >= 'A' && c <= 'Z' }
