// Package language identifies the dominant language of a text, mirroring
// the result shape of Amazon Comprehend's DetectDominantLanguage, computed
// locally (no model download, no network).
//
// # How it works
//
//  1. Script detection: letters are counted per Unicode script. Scripts
//     used by one supported language map to it directly: Hangul → ko,
//     Hiragana/Katakana → ja (Han characters count as ja when kana make up
//     at least 10% of the CJK letters, otherwise zh, or zh-TW when
//     traditional-only characters outnumber simplified-only ones),
//     Devanagari → hi, Bengali → bn, Tamil → ta, Thai → th, Greek → el,
//     Hebrew → he, Cyrillic → ru (uk when Ukrainian-only letters appear),
//     Arabic script → ar (fa or ur when their specific letters dominate).
//  2. Latin script: a character-trigram naive-Bayes model over words padded
//     with spaces, trained at first use from a small hand-written corpus
//     embedded in the package (corpus.go: ~28 everyday sentences per
//     language for en, es, fr, de, it, pt, nl, sv, pl, tr), plus a bonus
//     for each word found in the language's stopword list. The per-language
//     log-likelihoods are turned into probabilities with a softmax, blended
//     60/40 with per-word votes (so mixed-language text gets split scores).
//  3. Each script's share of the letters weights its languages, and all
//     scores are multiplied by a length confidence (below ~20 alphabetic
//     letters or ~6 CJK characters the scores shrink), so scores sum to at
//     most 1 and short or mixed text yields low scores.
//
// # Known limits
//
// The Latin model is small: closely related languages outside the
// supported set (Catalan, Galician, Danish, Norwegian, Afrikaans, ...)
// are reported as their nearest supported neighbour, and very short Latin
// texts (one or two words) are unreliable, hence their low scores. Text
// without letters returns an empty list.
package language

import (
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// Language is one candidate language, shaped like Comprehend's
// DominantLanguage: an ISO 639-1 code (or "zh-TW") and a score in [0,1].
type Language struct {
	LanguageCode string  `json:"LanguageCode"`
	Score        float64 `json:"Score"`
}

// latinLangs is the fixed order of Latin-script languages in the model.
var latinLangs = []string{"en", "es", "fr", "de", "it", "pt", "nl", "sv", "pl", "tr"}

const nLatin = 10

type model struct {
	tri     map[uint64][nLatin]float32 // trigram → log P per language
	unseen  [nLatin]float32            // log P of an unseen trigram
	stop    map[string]uint16          // word → bitmask of languages
	trainOK bool
}

var (
	once sync.Once
	mdl  model
)

const stopBonus = 1.5 // nats added for a stopword of the language

func pack(a, b, c rune) uint64 { return uint64(a)<<42 | uint64(b)<<21 | uint64(c) }

// forEachTrigram calls f for every trigram of " word ".
func forEachTrigram(word []rune, f func(uint64)) {
	prev2, prev1 := rune(' '), rune(-1)
	for i := 0; i <= len(word); i++ {
		r := ' '
		if i < len(word) {
			r = word[i]
		}
		if prev1 >= 0 {
			f(pack(prev2, prev1, r))
		}
		prev2, prev1 = prev1, r
		if i == 0 {
			prev2 = ' '
		}
	}
}

// build trains the trigram model from the embedded corpus.
func build() {
	counts := make(map[uint64][nLatin]float32, 8192)
	var totals [nLatin]float32
	for li, code := range latinLangs {
		text := trainingText[code] + " " + stopwords[code]
		for _, w := range splitWords(text) {
			forEachTrigram(w, func(k uint64) {
				c := counts[k]
				c[li]++
				counts[k] = c
				totals[li]++
			})
		}
	}
	const alpha = 0.5
	v := float32(len(counts))
	mdl.tri = make(map[uint64][nLatin]float32, len(counts))
	for k, c := range counts {
		var lp [nLatin]float32
		for li := range lp {
			lp[li] = float32(math.Log(float64((c[li] + alpha) / (totals[li] + alpha*v))))
		}
		mdl.tri[k] = lp
	}
	for li := range mdl.unseen {
		mdl.unseen[li] = float32(math.Log(float64(alpha / (totals[li] + alpha*v))))
	}
	mdl.stop = make(map[string]uint16, 1024)
	for li, code := range latinLangs {
		for _, w := range strings.Fields(stopwords[code]) {
			mdl.stop[w] |= 1 << li
		}
	}
	mdl.trainOK = true
}

// splitWords lowercases text and returns its letter runs as rune slices.
func splitWords(text string) [][]rune {
	var out [][]rune
	var cur []rune
	for _, r := range text {
		if unicode.IsLetter(r) || r == '\'' && len(cur) > 0 {
			cur = append(cur, unicode.ToLower(r))
			continue
		}
		if len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

type scriptCounts struct {
	latin, cyr, arabic, deva, beng, tamil, thai, greek, hebrew, hangul, kana, han int
	ukr, ruOnly, persian, urdu, arOnly, trad, simp                                int
}

const (
	ukrLetters     = "іїєґ"
	ruOnlyLetters  = "ыэъё"
	persianLetters = "پچژگکی"
	urduLetters    = "ٹڈڑںےھ"
	arOnlyLetters  = "ةكيى"
	tradChars      = "們這個說國會來時對學無為發與後點麼體義還過樣讓機關電實現經話當間開東車長門問題書見覺議讀號氣愛買賣臺灣歡們裡聽"
	simpChars      = "们这个说国会来时对学无为发与后点么体义还过样让机关电实现经话当间开东车长门问题书见觉议读号气爱买卖台湾欢里听"
)

// Detect returns candidate languages for text, best first. Scores are in
// [0,1] and sum to at most 1; short or mixed texts get low scores. It
// returns an empty (non-nil) slice when text contains no letters.
func Detect(text string) []Language {
	once.Do(build)
	var sc scriptCounts
	for _, r := range text {
		switch {
		case r < 0x80:
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
				sc.latin++
			}
		case !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r):
		case unicode.Is(unicode.Latin, r):
			sc.latin++
		case unicode.Is(unicode.Cyrillic, r):
			sc.cyr++
			if strings.ContainsRune(ukrLetters, unicode.ToLower(r)) {
				sc.ukr++
			} else if strings.ContainsRune(ruOnlyLetters, unicode.ToLower(r)) {
				sc.ruOnly++
			}
		case unicode.Is(unicode.Arabic, r):
			sc.arabic++
			switch {
			case strings.ContainsRune(urduLetters, r):
				sc.urdu++
			case strings.ContainsRune(persianLetters, r):
				sc.persian++
			case strings.ContainsRune(arOnlyLetters, r):
				sc.arOnly++
			}
		case unicode.Is(unicode.Devanagari, r):
			sc.deva++
		case unicode.Is(unicode.Bengali, r):
			sc.beng++
		case unicode.Is(unicode.Tamil, r):
			sc.tamil++
		case unicode.Is(unicode.Thai, r):
			sc.thai++
		case unicode.Is(unicode.Greek, r):
			sc.greek++
		case unicode.Is(unicode.Hebrew, r):
			sc.hebrew++
		case unicode.Is(unicode.Hangul, r):
			sc.hangul++
		case unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
			sc.kana++
		case unicode.Is(unicode.Han, r):
			sc.han++
			if strings.ContainsRune(tradChars, r) {
				sc.trad++
			} else if strings.ContainsRune(simpChars, r) {
				sc.simp++
			}
		}
	}
	alpha := sc.latin + sc.cyr + sc.arabic + sc.deva + sc.beng + sc.tamil + sc.thai + sc.greek + sc.hebrew
	cjk := sc.hangul + sc.kana + sc.han
	total := alpha + cjk
	out := []Language{}
	if total == 0 {
		return out
	}
	// Length confidence: ~20 alphabetic letters or ~6 CJK characters give
	// full confidence.
	conf := math.Min(1, float64(alpha)/20+float64(cjk)/6)
	scores := map[string]float64{}
	share := func(n int) float64 { return float64(n) / float64(total) * conf }
	if sc.latin > 0 {
		for code, p := range latinScores(text) {
			scores[code] += p * share(sc.latin)
		}
	}
	if sc.cyr > 0 {
		code := "ru"
		if sc.ukr > 0 && sc.ukr >= sc.ruOnly {
			code = "uk"
		}
		scores[code] += share(sc.cyr)
	}
	if sc.arabic > 0 {
		code := "ar"
		switch {
		case sc.urdu > 0 && sc.urdu >= sc.arOnly:
			code = "ur"
		case sc.persian > sc.arOnly:
			code = "fa"
		}
		scores[code] += share(sc.arabic)
	}
	for _, p := range []struct {
		code string
		n    int
	}{{"hi", sc.deva}, {"bn", sc.beng}, {"ta", sc.tamil}, {"th", sc.thai}, {"el", sc.greek}, {"he", sc.hebrew}, {"ko", sc.hangul}} {
		if p.n > 0 {
			scores[p.code] += share(p.n)
		}
	}
	if sc.kana > 0 || sc.han > 0 {
		switch {
		case sc.kana*10 >= sc.kana+sc.han:
			scores["ja"] += share(sc.kana + sc.han)
		case sc.trad > sc.simp:
			scores["zh-TW"] += share(sc.han + sc.kana)
		default:
			scores["zh"] += share(sc.han + sc.kana)
		}
	}
	for code, s := range scores {
		if s >= 0.01 {
			out = append(out, Language{LanguageCode: code, Score: round(s)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].LanguageCode < out[j].LanguageCode
	})
	if len(out) == 0 { // everything below 0.01: still name the best guess
		best, bs := "", -1.0
		for code, s := range scores {
			if s > bs || s == bs && code < best {
				best, bs = code, s
			}
		}
		out = append(out, Language{LanguageCode: best, Score: round(bs)})
	}
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}

func round(x float64) float64 { return math.Floor(x*1e4) / 1e4 }

// latinScores returns a probability per Latin-script language for the
// Latin-script words of text.
func latinScores(text string) map[string]float64 {
	var ll [nLatin]float64
	var votes [nLatin]float64
	totalVotes := 0.0
	var word []rune
	flush := func() {
		if len(word) == 0 {
			return
		}
		var wl [nLatin]float64
		forEachTrigram(word, func(k uint64) {
			if lp, ok := mdl.tri[k]; ok {
				for li := range wl {
					wl[li] += float64(lp[li])
				}
			} else {
				for li := range wl {
					wl[li] += float64(mdl.unseen[li])
				}
			}
		})
		if len(word) <= 12 {
			if mask, ok := mdl.stop[string(word)]; ok {
				for li := range wl {
					if mask&(1<<li) != 0 {
						wl[li] += stopBonus
					}
				}
			}
		}
		best, second := 0, -1
		for li := range wl {
			ll[li] += wl[li]
			if wl[li] > wl[best] {
				best = li
			}
		}
		for li := range wl {
			if li != best && (second < 0 || wl[li] > wl[second]) {
				second = li
			}
		}
		if margin := wl[best] - wl[second]; margin > 0.5 {
			// Votes are weighted by word length and by how clearly the
			// word prefers its best language.
			w := float64(len(word)) * math.Min(1, margin/4)
			votes[best] += w
			totalVotes += w
		}
		word = word[:0]
	}
	for _, r := range text {
		if unicode.IsLetter(r) && (r < 0x80 || unicode.Is(unicode.Latin, r)) || r == '\'' && len(word) > 0 {
			word = append(word, unicode.ToLower(r))
			continue
		}
		flush()
	}
	flush()
	// Softmax over total log-likelihoods.
	mx := ll[0]
	for _, v := range ll {
		mx = math.Max(mx, v)
	}
	var p [nLatin]float64
	sum := 0.0
	for li, v := range ll {
		p[li] = math.Exp(v - mx)
		sum += p[li]
	}
	out := make(map[string]float64, nLatin)
	for li, code := range latinLangs {
		pl := p[li] / sum
		vote := pl
		if totalVotes > 0 {
			vote = votes[li] / totalVotes
		}
		if s := 0.6*pl + 0.4*vote; s > 0.001 {
			out[code] = s
		}
	}
	return out
}
