package main

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment/sentdata"
)

// The ordinary-review-sentence dev source: sentences split out of the IMDb
// train subset reviews, each scored by the cross-fitted stage-1 model whose
// fold held its review out. It stands for the 3,000 UCI sentences of the
// MIXED evaluation pool (one-line Amazon / IMDb / Yelp review sentences, all
// of which count as false positives when called MIXED).

// Sentence length window, in words, of the review-sentence dev source
// (UCI's sentences are single lines of a few to a few dozen words).
const (
	minSentWords = 4
	maxSentWords = 60
)

// normText lower-cases s and collapses runs of white space to one space.
func normText(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// splitSentences is a rule-based sentence splitter for review text: "<br />"
// tags are paragraph breaks; a run of '.', '!' or '?' (with any closing
// quotes or brackets) ends a sentence when white space and then an upper-case
// letter, a digit or an opening quote / bracket follow.
func splitSentences(text string) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(text, "<br/>", "<br />"), "<br />") {
		start := 0
		i := 0
		for i < len(para) {
			c := para[i]
			if c != '.' && c != '!' && c != '?' {
				i++
				continue
			}
			j := i
			for j < len(para) && strings.IndexByte(".!?", para[j]) >= 0 {
				j++
			}
			for j < len(para) && strings.IndexByte("\"')]", para[j]) >= 0 {
				j++
			}
			k := j
			for k < len(para) && (para[k] == ' ' || para[k] == '\t' || para[k] == '\n') {
				k++
			}
			if k > j && k < len(para) {
				r, _ := utf8.DecodeRuneInString(para[k:])
				if unicode.IsUpper(r) || unicode.IsDigit(r) || strings.ContainsRune("\"'([", r) {
					out = append(out, para[start:j])
					start = k
				}
			}
			i = j
		}
		out = append(out, para[start:])
	}
	kept := out[:0]
	for _, s := range out {
		s = strings.TrimSpace(s)
		if n := len(strings.Fields(s)); n >= minSentWords && n <= maxSentWords {
			kept = append(kept, s)
		}
	}
	return kept
}

// leakedReviews returns, for each review, whether some UCI sentence occurs
// (normalised: lower-case, white space collapsed, "<br />" as a space) as a
// substring of it. UCI's IMDb sentences may come from the same Maas corpus as
// the IMDb subsets; such reviews are kept out of the dev pool so that no
// evaluation sentence (or its neighbours) takes part in choosing the MIXED
// threshold. This is the only use of the UCI text in the trainer: it removes
// dev data and never tunes anything.
func leakedReviews(reviews []sentdata.Example, uci []sentdata.Example) (leaked []bool, sentHits int) {
	// Index the normalised UCI sentences by their first 4 bytes (shorter ones
	// are checked with strings.Contains).
	type cand struct {
		s   string
		idx int
	}
	byPrefix := map[uint32][]cand{}
	var short []cand
	for i, e := range uci {
		s := normText(e.Text)
		if len(s) < 4 {
			if s != "" {
				short = append(short, cand{s, i})
			}
			continue
		}
		k := key4(s)
		byPrefix[k] = append(byPrefix[k], cand{s, i})
	}
	hit := make([]bool, len(uci))
	leaked = make([]bool, len(reviews))
	for r, e := range reviews {
		t := normText(strings.ReplaceAll(e.Text, "<br />", " "))
		for p := 0; p+4 <= len(t); p++ {
			for _, c := range byPrefix[key4(t[p:])] {
				if strings.HasPrefix(t[p:], c.s) {
					leaked[r] = true
					hit[c.idx] = true
				}
			}
		}
		for _, c := range short {
			if strings.Contains(t, c.s) {
				leaked[r] = true
				hit[c.idx] = true
			}
		}
	}
	for _, h := range hit {
		if h {
			sentHits++
		}
	}
	return leaked, sentHits
}

func key4(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// dupKey is the form in which dev and evaluation sentences are compared for
// exact duplicates: lower-case letters and digits only, so that CR's
// tokenised text ("do n't , ") matches raw text ("don't,").
func dupKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// dropDuplicates returns the examples of dev whose text is not an exact
// duplicate (dupKey) of a sentence of any evaluation set, and how many were
// dropped. Evaluation text is read for this purpose only.
func dropDuplicates(dev []sentdata.Example, eval ...[]sentdata.Example) ([]sentdata.Example, int) {
	seen := map[string]bool{}
	for _, set := range eval {
		for _, e := range set {
			if k := dupKey(e.Text); k != "" {
				seen[k] = true
			}
		}
	}
	var kept []sentdata.Example
	for _, e := range dev {
		if !seen[dupKey(e.Text)] {
			kept = append(kept, e)
		}
	}
	return kept, len(dev) - len(kept)
}
