// Package keyphrases extracts noun phrases from English text, mirroring the
// result shape of Amazon Comprehend's DetectKeyPhrases, computed locally
// (no model, no network).
//
// # How it works
//
// It is a light, part-of-speech-free noun-phrase chunker. The text is
// tokenised into words, numbers and punctuation, and every token is put in
// one of three classes using compact embedded English word lists (package
// gazetteer) and a few suffix/context rules:
//
//   - openers: determiners and possessives ("the", "a", "my", "this"),
//     numbers and number words ("3", "two") — they may only start a phrase;
//   - breakers: punctuation, function words (pronouns, prepositions,
//     conjunctions, auxiliaries, adverbs), known verb forms, "-ly"
//     adverbs, and words that must be verbs from context (right after a
//     subject pronoun, a modal or infinitival "to", or "-ed"/"-ing" words
//     right after an auxiliary);
//   - content: everything else (adjectives, participles used as modifiers,
//     nouns, proper nouns).
//
// A key phrase is a maximal run of openers followed by content words
// ("the new phone", "battery life", "two hours"). Runs whose content words
// are all adjectives, adverbs or participles ("great", "very fast") and
// lone numbers are dropped, as are trailing adjectives. Scores are
// heuristic (0.8–0.99): longer phrases with a determiner and a noun-like
// head score higher.
//
// Offsets are zero-based Unicode code point offsets with an exclusive end.
//
// # Known limits
//
// Without a tagger, noun/verb ambiguity is resolved by word lists and
// context only: an unlisted verb used without a pronoun subject may be
// absorbed into a phrase ("the screen flickers constantly" yields "the
// screen flickers"), and adjectives missing from the list may form
// one-word phrases. Prepositional attachments ("the quality of the
// product") are returned as separate phrases. English only.
package keyphrases

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/entities/gazetteer"
	"github.com/sibyldb/sibyldb/internal/ml/nlp/textspan"
)

// KeyPhrase is one detected key phrase, shaped like Comprehend's KeyPhrase.
type KeyPhrase struct {
	Text        string  `json:"Text"`
	Score       float64 `json:"Score"`
	BeginOffset int     `json:"BeginOffset"`
	EndOffset   int     `json:"EndOffset"`
}

const (
	cBreak = iota
	cOpen
	cContent
)

type tok struct {
	start, end int
	word       bool
	num        bool
	cls        int
}

// adjectives is a compact list of frequent adjectives that do not head a
// noun phrase on their own.
var adjectives = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`good great bad best better worse worst nice excellent amazing awesome terrible horrible awful poor perfect fine happy sad sorry glad beautiful cheap expensive free fresh clean dirty hot cold warm cool bright dark quick quiet loud strong weak heavy light full empty real important possible available friendly helpful useless useful rude polite professional fast slow easy hard new old big small large little long short high low fantastic wonderful lovely pleasant decent okay ok fine solid sturdy flimsy fragile durable comfortable uncomfortable reliable unreliable responsive unresponsive affordable overpriced worth wrong right correct incorrect late early broken damaged defective faulty missing wrong satisfied disappointed disappointing impressive impressed happy unhappy annoying frustrating confusing simple complex complicated smooth rough soft tight loose crisp clear sharp blurry noisy dead alive ready busy open closed safe dangerous secure sure unsure able unable likely unlikely glad eager interesting boring funny fun delicious tasty bland salty sweet sour spicy stale yummy gross cute pretty ugly neat messy tidy huge tiny enormous same other next last first second third own only few many massive whole entire same different similar various main major minor certain particular specific general overall total final previous recent current new latest modern ancient young older newer cheaper faster slower bigger smaller larger longer shorter higher lower stronger easier harder nicer better worse happier`) {
		adjectives[w] = true
	}
}

// postDeterminers are function-like words that act as modifiers after a
// determiner ("the same", "my own", "the next").
var postDeterminers = map[string]bool{"same": true, "other": true, "next": true, "last": true, "first": true, "second": true, "third": true, "whole": true, "own": true, "different": true, "only": true, "few": true, "many": true}

var adverbExceptions = map[string]bool{"family": true, "only": true, "early": true, "daily": true, "weekly": true, "monthly": true, "yearly": true, "hourly": true, "quarterly": true, "friendly": true, "lovely": true, "ugly": true, "supply": true, "reply": true, "apply": true, "italy": true, "july": true, "lily": true, "holly": true, "belly": true, "jelly": true, "rally": true, "ally": true, "fly": true, "butterfly": true, "assembly": true, "anomaly": true, "costly": true, "silly": true, "curly": true, "elderly": true, "lonely": true, "deadly": true, "oily": true, "chilly": true, "comply": true, "rely": true, "multiply": true, "imply": true, "jolly": true, "bully": true, "sly": true, "wobbly": true, "bubbly": true, "scholarly": true, "manly": true, "homely": true, "timely": true, "likely": true, "unlikely": true}

var subjectPronouns = map[string]bool{"i": true, "you": true, "we": true, "they": true, "he": true, "she": true, "it": true, "who": true, "that": false}
var verbPrecursors = map[string]bool{"will": true, "would": true, "can": true, "could": true, "should": true, "must": true, "might": true, "may": true, "shall": true, "do": true, "does": true, "did": true, "don't": true, "didn't": true, "doesn't": true, "won't": true, "can't": true, "cannot": true, "couldn't": true, "wouldn't": true, "shouldn't": true, "to": true, "i'll": true, "we'll": true, "you'll": true, "they'll": true, "i'd": true, "we'd": true, "i've": true, "we've": true, "they've": true, "you've": true, "not": true, "never": true, "always": true, "just": true, "also": true, "really": true, "still": true, "even": true, "please": true, "let's": true}
var auxiliaries = map[string]bool{"is": true, "are": true, "was": true, "were": true, "be": true, "been": true, "being": true, "am": true, "has": true, "have": true, "had": true, "get": true, "got": true, "gets": true, "getting": true, "it's": true, "i'm": true, "we're": true, "they're": true, "you're": true, "he's": true, "she's": true, "isn't": true, "wasn't": true, "aren't": true, "weren't": true, "hasn't": true, "haven't": true, "hadn't": true, "keeps": true, "kept": true, "stopped": true, "started": true}

// Detect returns the key phrases of text in order of appearance. It never
// returns nil.
func Detect(text string) []KeyPhrase {
	out := []KeyPhrase{}
	if strings.TrimSpace(text) == "" {
		return out
	}
	var buf [128]tok
	toks := tokenize(text, buf[:0])
	low := textspan.ASCIILower(text)
	classify(text, low, toks)
	conv := textspan.NewOffsets(text)
	for i := 0; i < len(toks); {
		if toks[i].cls == cBreak {
			i++
			continue
		}
		j := i
		for j < len(toks) && toks[j].cls == cOpen && (j == i || adjacent(text, toks[j-1], toks[j])) {
			j++
		}
		k := j
		for k < len(toks) && toks[k].cls == cContent && (k == i || adjacent(text, toks[k-1], toks[k])) && k-i < 8 {
			k++
		}
		if k == j { // openers without content ("the", "3")
			if j == i {
				j++
			}
			i = j
			continue
		}
		// Trim trailing adjectives/adverbs; drop phrases without a head.
		e := k
		for e > j && isModifierOnly(low[toks[e-1].start:toks[e-1].end]) {
			e--
		}
		if e > j {
			st, en := toks[i].start, toks[e-1].end
			out = append(out, KeyPhrase{Text: text[st:en], Score: score(i, j, e), BeginOffset: conv.Rune(st), EndOffset: conv.Rune(en)})
		}
		i = k
	}
	return out
}

func score(i, j, e int) float64 {
	s := 0.85
	if j > i {
		s += 0.06
	}
	if e-j > 1 {
		s += 0.05
	}
	if s > 0.99 {
		s = 0.99
	}
	return s
}

// adjacent reports whether tokens a and b are separated only by spaces
// (no line break) — phrases never span punctuation.
func adjacent(s string, a, b tok) bool {
	g := s[a.end:b.start]
	return len(g) <= 3 && strings.Trim(g, " \t") == ""
}

func isModifierOnly(lw string) bool {
	return adjectives[lw] || isAdverb(lw) || strings.HasSuffix(lw, "ing") && len(lw) > 5 && !nounIng[lw]
}

// nounIng are frequent -ing nouns that can head a phrase.
var nounIng = map[string]bool{"shipping": true, "packaging": true, "pricing": true, "building": true, "meeting": true, "setting": true, "settings": true, "training": true, "booking": true, "parking": true, "clothing": true, "housing": true, "lighting": true, "wedding": true, "morning": true, "evening": true, "feeling": true, "heating": true, "cooling": true, "billing": true, "banking": true, "marketing": true, "engineering": true, "recording": true, "painting": true, "opening": true, "ending": true, "listing": true, "warning": true, "rating": true, "thing": true, "something": true, "nothing": true, "anything": true, "everything": true, "ceiling": true, "spring": true, "string": true, "king": true, "ring": true, "wing": true, "sibling": true, "pudding": true, "stuffing": true, "frosting": true, "filling": true, "seating": true, "flooring": true, "plumbing": true, "handling": true, "checking": true, "savings": true, "earnings": true, "offering": true, "loading": true, "charging": true, "streaming": true, "gaming": true, "printing": true, "hosting": true, "logging": true, "networking": true, "computing": true, "learning": true}

func isAdverb(lw string) bool {
	return len(lw) > 4 && strings.HasSuffix(lw, "ly") && !adverbExceptions[lw]
}

// classify assigns opener/breaker/content classes to the tokens.
func classify(s, low string, toks []tok) {
	for i := range toks {
		t := &toks[i]
		if !t.word {
			if t.num {
				t.cls = cOpen
				if c := s[t.start]; c < '0' || c > '9' || s[t.end-1] == '%' {
					t.cls = cContent // "$5", "20%" are phrases on their own
				}
			} else {
				t.cls = cBreak
			}
			continue
		}
		lw := low[t.start:t.end]
		lw = strings.ReplaceAll(lw, "’", "'")
		prev := ""
		if i > 0 && toks[i-1].word && adjacent(s, toks[i-1], *t) {
			prev = strings.ReplaceAll(low[toks[i-1].start:toks[i-1].end], "’", "'")
		}
		capital := startsUpper(s[t.start:t.end])
		switch {
		case gazetteer.IsDeterminer(lw) && lw != "that" && lw != "which" && lw != "what" && lw != "whose":
			t.cls = cOpen
		case i > 0 && toks[i-1].cls == cOpen && toks[i-1].word && postDeterminers[lw]:
			t.cls = cContent // "the same order", "the next day"
		case gazetteer.IsNumberWord(lw) && lw != "half":
			t.cls = cOpen
		case gazetteer.IsFunctionWord(lw) || gazetteer.IsVerb(lw) || isAdverb(lw):
			t.cls = cBreak
		case !capital && (subjectPronouns[prev] || verbPrecursors[prev]):
			t.cls = cBreak // "we ordered", "will arrive", "to replace"
		case !capital && auxiliaries[prev] && (strings.HasSuffix(lw, "ed") || strings.HasSuffix(lw, "ing") && !nounIng[lw] || strings.HasSuffix(lw, "en")):
			t.cls = cBreak // "was shipped", "is working"
		default:
			t.cls = cContent
		}
	}
}

func startsUpper(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsUpper(r)
}

// tokenize splits s into word, number and punctuation tokens. Words keep
// internal apostrophes and hyphens ("user-friendly", "don't").
func tokenize(s string, toks []tok) []tok {
	for i := 0; i < len(s); {
		r, sz := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, sz = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case unicode.IsSpace(r):
			i += sz
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			st := i
			num := unicode.IsDigit(r)
			i += sz
			for i < len(s) {
				r2, sz2 := rune(s[i]), 1
				if r2 >= utf8.RuneSelf {
					r2, sz2 = utf8.DecodeRuneInString(s[i:])
				}
				if unicode.IsLetter(r2) || unicode.IsDigit(r2) || unicode.Is(unicode.Mn, r2) {
					if unicode.IsLetter(r2) {
						num = false
					}
					i += sz2
					continue
				}
				if (r2 == '\'' || r2 == '’' || r2 == '-' || (r2 == '.' || r2 == ',') && num) && i+sz2 < len(s) {
					r3, _ := utf8.DecodeRuneInString(s[i+sz2:])
					if unicode.IsLetter(r3) && !num || unicode.IsDigit(r3) && num {
						i += sz2
						continue
					}
				}
				break
			}
			toks = append(toks, tok{start: st, end: i, word: !num, num: num})
		case r == '$' || r == '€' || r == '£' || r == '%':
			// Currency and percent signs glue to numbers ("$5", "20%").
			if n := len(toks); r == '%' && n > 0 && toks[n-1].num && toks[n-1].end == i {
				toks[n-1].end = i + sz
			} else if r != '%' && i+sz < len(s) && s[i+sz] >= '0' && s[i+sz] <= '9' {
				st := i
				i += sz
				for i < len(s) && (s[i] >= '0' && s[i] <= '9' || (s[i] == '.' || s[i] == ',') && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9') {
					i++
				}
				toks = append(toks, tok{start: st, end: i, num: true})
				continue
			} else {
				toks = append(toks, tok{start: i, end: i + sz})
			}
			i += sz
		default:
			toks = append(toks, tok{start: i, end: i + sz})
			i += sz
		}
	}
	return toks
}
