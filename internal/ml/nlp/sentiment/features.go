package sentiment

import (
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/jonreiter/govader"
)

// This file holds the text featuriser shared by inference (Detect) and the
// trainer (cmd/train-sentiment). Changing anything here changes the meaning
// of the hashed weights: retrain and bump FeatureVersion when you do.

// FeatureVersion identifies the featuriser. It is stored in the weights file
// and Load rejects files written for another version.
const FeatureVersion = 2

// MaxSegments bounds the number of clauses tracked per text; later clauses
// are merged into the last one.
const MaxSegments = 16

// NumDense is the number of dense (lexicon) features per text or clause.
const NumDense = 6

const (
	saltNot    = 0x9e3779b97f4a7c15
	saltBigram = 0xc2b2ae3d27d4eb4f
	saltLex    = 0x165667b19e3779f9
	saltTok    = 0x27d4eb2f165667c5
	fnvOffset  = 14695981039346656037
	fnvPrime   = 1099511628211
	negScale   = -0.74 // VADER's negation factor
	maxFeature = 1 << 14
)

// SegStats summarises one clause of a text.
type SegStats struct {
	Start, End int     // feature index range [Start, End) in Features.Keys
	Pos, Neg   float32 // summed positive / (absolute) negative lexicon valence
	NLex       int     // lexicon hits
	NTok       int     // word tokens
	Contrast   bool    // clause opened by a contrastive connective (but, although, ...)
	VStart     int     // word-vector index range [VStart, VEnd) in Features.Vec
	VEnd       int
}

// Features is the featurised form of one text. Reuse it across calls.
type Features struct {
	Keys []uint64 // 64-bit feature hashes (bucket = key >> (64-bits))
	// Vec holds the word-vector index of each token that has a vector: i for
	// a token outside a negation scope, -(i+1) inside one. Filled only when
	// a Vocab is given.
	Vec  []int32
	Segs []SegStats
	// whole-text lexicon totals
	Pos, Neg float32
	NLex     int
	NTok     int
	Contrast bool // a contrastive connective occurs
	norm     []byte
}

// Dense writes the dense lexicon features for the given lexicon sums.
func Dense(pos, neg float32, nlex, ntok int, out *[NumDense]float32) {
	p, n := float64(pos), float64(neg)
	s := p - n
	out[0] = float32(s / math.Sqrt(s*s+15))
	out[1] = float32(p / math.Sqrt(p*p+15))
	out[2] = float32(n / math.Sqrt(n*n+15))
	out[3] = float32(math.Min(float64(out[1]), float64(out[2])))
	if ntok > 0 {
		out[4] = float32(float64(nlex) / float64(ntok))
	} else {
		out[4] = 0
	}
	if nlex == 0 {
		out[5] = 1
	} else {
		out[5] = 0
	}
}

type lexicon struct {
	words      map[uint64]float32 // token hash -> valence
	emoticons  map[string]float32 // whole whitespace chunk (lower-case) -> valence
	negators   map[uint64]bool
	contrast   map[uint64]bool
	tokNot     uint64
	tokURL     uint64
	tokUser    uint64
	tokNumber  uint64
	tokEmotPos uint64
	tokEmotNeg uint64
	tokExcl    uint64
	tokQuest   uint64
	tokApS     uint64
}

var (
	lexOnce sync.Once
	lex     *lexicon
)

func hashString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

func hashBytes(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func getLexicon() *lexicon {
	lexOnce.Do(func() {
		sia := govader.NewSentimentIntensityAnalyzer()
		l := &lexicon{
			words:     make(map[uint64]float32, len(sia.Lexicon)+len(sia.EmojiDict)),
			emoticons: make(map[string]float32),
			negators:  map[uint64]bool{},
			contrast:  map[uint64]bool{},
		}
		isWord := func(s string) bool {
			for _, r := range s {
				if !(unicode.IsLetter(r) || r == '\'') {
					return false
				}
			}
			return s != ""
		}
		for w, v := range sia.Lexicon {
			lw := strings.ToLower(w)
			if isWord(lw) {
				l.words[hashString(lw)] = float32(v)
			} else if !strings.ContainsAny(lw, " ") {
				if _, ok := l.emoticons[lw]; !ok || lw == w {
					l.emoticons[lw] = float32(v)
				}
			}
		}
		// Emoji: valence = sum of the lexicon valences of the description words.
		for e, descr := range sia.EmojiDict {
			var v float64
			for _, w := range strings.Fields(descr) {
				v += sia.Lexicon[strings.ToLower(w)]
			}
			if v != 0 {
				l.words[hashString(e)] = float32(v)
			}
		}
		for _, w := range []string{"not", "no", "never", "nothing", "nobody", "none", "nor", "neither",
			"nowhere", "cannot", "without", "dont", "cant", "didnt", "doesnt", "isnt", "wasnt", "wont",
			"aint", "shouldnt", "couldnt", "wouldnt", "arent", "werent", "havent", "hasnt", "hadnt",
			"darent", "mightnt", "mustnt", "neednt", "hardly", "barely", "rarely", "seldom", "lack", "lacks", "lacking"} {
			l.negators[hashString(w)] = true
		}
		for _, w := range []string{"but", "although", "though", "however", "yet", "whereas", "while",
			"except", "nevertheless", "nonetheless", "despite", "unfortunately", "otherwise", "still"} {
			l.contrast[hashString(w)] = true
		}
		l.tokNot = hashString("not")
		l.tokURL = hashString("<url>")
		l.tokUser = hashString("@user")
		l.tokNumber = hashString("<num>")
		l.tokEmotPos = hashString("<emot+>")
		l.tokEmotNeg = hashString("<emot->")
		l.tokExcl = hashString("!")
		l.tokQuest = hashString("?")
		l.tokApS = hashString("'s")
		lex = l
	})
	return lex
}

// normalize lower-cases text and undoes the escapes found in tweet dumps
// (\uXXXX, HTML entities), mapping typographic quotes to ASCII.
func normalize(text string, buf []byte) []byte {
	buf = buf[:0]
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'A' && c <= 'Z':
				buf = append(buf, c+('a'-'A'))
				i++
				continue
			case c == '\\' && i+6 <= len(text) && text[i+1] == 'u':
				if r, ok := hex4(text[i+2 : i+6]); ok {
					i += 6
					buf = appendRune(buf, r)
					continue
				}
			case c == '<' && strings.HasPrefix(text[i:], "<br"):
				if e := strings.IndexByte(text[i:min(len(text), i+8)], '>'); e > 0 {
					i += e + 1
					buf = append(buf, ' ', '.', ' ')
					continue
				}
			case c == '&':
				if n, r := entity(text[i:]); n > 0 {
					i += n
					buf = append(buf, r)
					continue
				}
			}
			buf = append(buf, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		buf = appendRune(buf, r)
	}
	return buf
}

func appendRune(buf []byte, r rune) []byte {
	switch r {
	case '\u2018', '\u2019', '\u02bc', '`', '\u00b4':
		return append(buf, '\'')
	case '\u201c', '\u201d':
		return append(buf, '"')
	case '\u2013', '\u2014':
		return append(buf, '-', '-')
	case '\u00a0':
		return append(buf, ' ')
	}
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(buf, byte(r))
	}
	return utf8.AppendRune(buf, unicode.ToLower(r))
}

func hex4(s string) (rune, bool) {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			r = r*16 + rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r*16 + rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r*16 + rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func entity(s string) (int, byte) {
	switch {
	case strings.HasPrefix(s, "&amp;"):
		return 5, '&'
	case strings.HasPrefix(s, "&lt;"):
		return 4, '<'
	case strings.HasPrefix(s, "&gt;"):
		return 4, '>'
	case strings.HasPrefix(s, "&quot;"):
		return 6, '"'
	case strings.HasPrefix(s, "&#39;"):
		return 5, '\''
	}
	return 0, 0
}

// extractor carries the streaming state of Extract.
type extractor struct {
	f        *Features
	l        *lexicon
	prev     uint64 // previous token hash in the clause (0 = none)
	prev2    uint64
	negLeft  int // tokens left in the negation scope
	seg      *SegStats
	pendingC bool   // next clause opens with a contrastive connective
	voc      *Vocab // word vectors to look tokens up in (nil: none)
}

func (e *extractor) addKey(k uint64) {
	if len(e.f.Keys) < maxFeature {
		e.f.Keys = append(e.f.Keys, k)
	}
}

// boundary closes the current clause (punctuation or a contrastive word).
func (e *extractor) boundary() {
	e.prev, e.prev2 = 0, 0
	e.negLeft = 0
	f := e.f
	cur := &f.Segs[len(f.Segs)-1]
	if cur.End == len(f.Keys) && cur.Start == cur.End && cur.NTok == 0 {
		return // empty clause: reuse it
	}
	cur.End = len(f.Keys)
	cur.VEnd = len(f.Vec)
	if len(f.Segs) < MaxSegments {
		f.Segs = append(f.Segs, SegStats{Start: len(f.Keys), End: len(f.Keys), VStart: len(f.Vec), VEnd: len(f.Vec)})
	}
}

// token emits the features of one token (its hash h).
func (e *extractor) token(h uint64, word bool) {
	l := e.l
	f := e.f
	seg := &f.Segs[len(f.Segs)-1]
	if word && l.contrast[h] {
		e.boundary()
		seg = &f.Segs[len(f.Segs)-1]
		seg.Contrast = true
		f.Contrast = true
	}
	neg := e.negLeft > 0
	uk := h
	if neg {
		uk = mix(h ^ saltNot)
	}
	e.addKey(mix(uk ^ saltTok))
	if e.voc != nil && len(f.Vec) < maxFeature {
		if i, ok := e.voc.idx[h]; ok {
			if neg {
				i = -i - 1
			}
			f.Vec = append(f.Vec, i)
		}
	}
	if e.prev != 0 {
		e.addKey(mix(e.prev*31 ^ h ^ saltBigram))
	}
	if v, ok := l.words[h]; ok {
		if neg {
			v *= negScale
		}
		if v > 0 {
			seg.Pos += v
			f.Pos += v
		} else {
			seg.Neg -= v
			f.Neg -= v
		}
		seg.NLex++
		f.NLex++
		bin := int64(math.Round(float64(v) * 2))
		e.addKey(mix(uint64(bin) ^ saltLex))
	}
	if word {
		seg.NTok++
		f.NTok++
	}
	e.prev2 = e.prev
	e.prev = h
	if e.negLeft > 0 {
		e.negLeft--
	}
	if word && l.negators[h] {
		e.negLeft = 4
	}
}

// Extract featurises text into f (reusing its buffers), without word vectors.
func Extract(text string, f *Features) { extract(text, f, nil) }

// Extract featurises text into f (reusing its buffers), recording the
// word-vector index of each token that has one in f.Vec.
func (v *Vocab) Extract(text string, f *Features) { extract(text, f, v) }

func extract(text string, f *Features, voc *Vocab) {
	l := getLexicon()
	f.Keys = f.Keys[:0]
	f.Vec = f.Vec[:0]
	f.Segs = append(f.Segs[:0], SegStats{})
	f.Pos, f.Neg, f.NLex, f.NTok, f.Contrast = 0, 0, 0, 0, false
	f.norm = normalize(text, f.norm)
	b := f.norm
	e := extractor{f: f, l: l, voc: voc}
	var wbuf [64]byte
	i := 0
	for i < len(b) {
		// whitespace-delimited chunk
		for i < len(b) && isSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			break
		}
		j := i
		for j < len(b) && !isSpace(b[j]) {
			j++
		}
		chunk := b[i:j]
		i = j
		if v, ok := l.emoticons[string(chunk)]; ok {
			k := l.tokEmotPos
			if v < 0 {
				k = l.tokEmotNeg
			}
			seg := &f.Segs[len(f.Segs)-1]
			if v > 0 {
				seg.Pos += v
				f.Pos += v
			} else {
				seg.Neg -= v
				f.Neg -= v
			}
			seg.NLex++
			f.NLex++
			e.token(hashBytes(chunk), false)
			e.token(k, false)
			continue
		}
		if hasPrefix(chunk, "http") || hasPrefix(chunk, "www.") {
			e.token(l.tokURL, false)
			continue
		}
		if chunk[0] == '@' && len(chunk) > 1 {
			e.token(l.tokUser, false)
			continue
		}
		switch string(chunk) {
		case "-lrb-", "-rrb-", "-lsb-", "-rsb-", "-lcb-", "-rcb-":
			e.boundary()
			continue
		}
		// scan the chunk
		k := 0
		for k < len(chunk) {
			c := chunk[k]
			if c >= utf8.RuneSelf {
				r, size := utf8.DecodeRune(chunk[k:])
				if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
					k = e.word(chunk, k, &wbuf)
					continue
				}
				if r == '\u2026' {
					e.boundary()
				} else if !unicode.IsSpace(r) && r != '\ufe0f' && r != '\u200d' {
					e.token(hashBytes(chunk[k:k+size]), false)
				}
				k += size
				continue
			}
			switch {
			case isAlnum(c):
				k = e.word(chunk, k, &wbuf)
				continue
			case c == '!':
				e.token(l.tokExcl, false)
				e.boundary()
				for k < len(chunk) && chunk[k] == '!' {
					k++
				}
				continue
			case c == '?':
				e.token(l.tokQuest, false)
				e.boundary()
				for k < len(chunk) && chunk[k] == '?' {
					k++
				}
				continue
			case c == '.' || c == ',' || c == ';' || c == ':' || c == '(' || c == ')' || c == '[' || c == ']':
				e.boundary()
			case c == '-' && k+1 < len(chunk) && chunk[k+1] == '-':
				e.boundary()
				k++
			case c == '\'':
				// SST-style clitic chunk ('s, 're, ...) or "n't"
				if k+1 < len(chunk) && isAlnum(chunk[k+1]) && k == 0 {
					k = e.word(chunk, k, &wbuf)
					continue
				}
			}
			k++
		}
	}
	cur := &f.Segs[len(f.Segs)-1]
	cur.End = len(f.Keys)
	cur.VEnd = len(f.Vec)
	if len(f.Segs) > 1 && cur.Start == cur.End && cur.NTok == 0 {
		f.Segs = f.Segs[:len(f.Segs)-1]
	}
}

// word consumes a word starting at chunk[k] and returns the index after it.
func (e *extractor) word(chunk []byte, k int, wbuf *[64]byte) int {
	start := k
	for k < len(chunk) {
		c := chunk[k]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(chunk[k:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
				k += size
				continue
			}
			break
		}
		if isAlnum(c) || (c == '\'' && k+1 < len(chunk) && isAlnum(chunk[k+1])) {
			k++
			continue
		}
		break
	}
	w := chunk[start:k]
	// strip a hashtag-less word of elongation: collapse runs of 3+ to 2
	n := 0
	digits := true
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c < '0' || c > '9' {
			digits = false
		}
		if n >= 2 && wbuf[n-1] == c && wbuf[n-2] == c && c < utf8.RuneSelf {
			continue
		}
		if n < len(wbuf) {
			wbuf[n] = c
			n++
		}
	}
	if digits {
		e.token(e.l.tokNumber, false)
		return k
	}
	out := wbuf[:n]
	// clitics: "n't" -> stem + not; "'s", "'re", ... -> stem + clitic
	if len(out) >= 3 && string(out[len(out)-3:]) == "n't" {
		if len(out) > 3 {
			e.token(hashBytes(out[:len(out)-3]), true)
		}
		e.token(e.l.tokNot, true)
		return k
	}
	if ap := lastApostrophe(out); ap > 0 {
		e.token(hashBytes(out[:ap]), true)
		e.token(hashBytes(out[ap:]), true)
		return k
	}
	if len(out) > 0 && out[0] == '\'' {
		if len(out) == 1 {
			return k
		}
	}
	e.token(hashBytes(out), true)
	return k
}

func lastApostrophe(b []byte) int {
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == '\'' {
			return i
		}
	}
	return -1
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
}

func hasPrefix(b []byte, p string) bool {
	return len(b) >= len(p) && string(b[:len(p)]) == p
}
