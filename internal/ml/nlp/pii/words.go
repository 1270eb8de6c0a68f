package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/entities/gazetteer"
)

// wtok is a word token: a run of letters, with internal apostrophes or
// hyphens ("O'Brien", "Jean-Luc").
type wtok struct {
	start, end int
	capital    bool // first letter upper case, not all upper case (or single letter)
}

// tokenizeWords returns the letter-run tokens of s.
func tokenizeWords(s string, buf []wtok) []wtok {
	toks := buf[:0]
	i := 0
	for i < len(s) {
		r, sz := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, sz = utf8.DecodeRuneInString(s[i:])
		}
		if !unicode.IsLetter(r) {
			i += sz
			continue
		}
		st := i
		upperFirst := unicode.IsUpper(r)
		anyLower := false
		i += sz
		for i < len(s) {
			r2, sz2 := rune(s[i]), 1
			if r2 >= utf8.RuneSelf {
				r2, sz2 = utf8.DecodeRuneInString(s[i:])
			}
			if unicode.IsLetter(r2) || unicode.Is(unicode.Mn, r2) {
				if unicode.IsLower(r2) {
					anyLower = true
				}
				i += sz2
				continue
			}
			if (r2 == '\'' || r2 == '-' || r2 == '’') && i+sz2 < len(s) {
				r3, _ := utf8.DecodeRuneInString(s[i+sz2:])
				if unicode.IsLetter(r3) {
					i += sz2
					continue
				}
			}
			break
		}
		toks = append(toks, wtok{start: st, end: i, capital: upperFirst && (anyLower || i-st == sz)})
	}
	return toks
}

var titleWords = map[string]bool{"Mr": true, "Mrs": true, "Ms": true, "Miss": true, "Mx": true, "Dr": true, "Prof": true, "Sir": true, "Dame": true, "Madam": true, "Mme": true, "Mlle": true, "Herr": true, "Frau": true, "Señor": true, "Señora": true, "Sr": true, "Sra": true}

// notNameWords are capitalised words that never start or continue a name.
var notNameWords = map[string]bool{
	"I": true, "The": true, "A": true, "An": true, "And": true, "Or": true, "But": true, "In": true, "On": true, "At": true, "To": true, "From": true, "Of": true, "For": true, "With": true, "Is": true, "Was": true, "Are": true, "My": true, "Our": true, "Your": true, "His": true, "Her": true, "Their": true, "This": true, "That": true, "It": true, "We": true, "You": true, "He": true, "She": true, "They": true, "If": true, "So": true, "Not": true, "No": true, "Yes": true, "Hi": true, "Hello": true, "Dear": true, "Thanks": true, "Thank": true, "Please": true, "Team": true, "All": true, "Everyone": true, "Sir": true, "Madam": true, "Customer": true, "Support": true, "Service": true, "Sales": true, "Admin": true, "Manager": true, "Here": true, "There": true, "When": true, "What": true, "Who": true, "Why": true, "How": true, "Where": true, "Which": true, "Today": true, "Tomorrow": true, "Yesterday": true, "Street": true, "St": true, "Avenue": true, "Ave": true, "Road": true, "Rd": true, "Inc": true, "LLC": true, "Ltd": true, "Corp": true, "Company": true, "University": true, "Bank": true, "Hotel": true, "Hospital": true, "School": true, "Also": true, "Just": true, "Very": true, "Really": true, "Happy": true, "Sorry": true, "Good": true, "Great": true, "New": true, "God": true, "Lord": true, "Jesus": true, "Christ": true, "Best": true, "Kind": true, "Regards": true, "Sincerely": true, "Cheers": true, "Mon": true, "Tue": true, "Wed": true, "Thu": true, "Fri": true, "Sat": true, "Sun": true, "Order": true, "Account": true, "Card": true, "Phone": true, "Email": true, "Address": true, "Name": true, "OK": true, "Okay": true, "Apt": true, "Suite": true, "Unit": true,
}

var months = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}

var weekdays = map[string]bool{"Monday": true, "Tuesday": true, "Wednesday": true, "Thursday": true, "Friday": true, "Saturday": true, "Sunday": true}

// Cues after which a capitalised token is taken as a name. Strong cues
// accept any capitalised token; weak cues need a known first name or two
// capitalised tokens.
var strongNameCues = []string{"my name is", "name is", "name:", "name -", "named", "call me", "signed", "regards,", "sincerely,", "yours truly,", "attn:", "attention:", "patient:", "customer:", "employee:", "contact person:", "full name", "first name", "last name", "surname", "name's"}
var weakNameCues = []string{"i am", "i'm", "this is", "dear", "hi", "hello", "hey", "thanks,", "thank you,", "cheers,", "spoke with", "spoke to", "talked to", "talked with", "ask for", "met with", "cc:", "to:", "from:"}

// scanWords runs the word-level detectors: NAME, DATE_TIME words, P.O. boxes.
func (d *detector) scanWords() {
	s, low := d.s, d.low
	var buf [64]wtok
	toks := tokenizeWords(s, buf[:0])
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		w := s[t.start:t.end]
		lw := low[t.start:t.end]

		// Dates with month names.
		if mo, ok := months[lw]; ok {
			if e, st := d.monthDate(toks, i, mo); e > 0 {
				d.add(TypeDateTime, 0.85, st, e)
				continue
			}
			if t.capital && len(w) > 4 && w != "March" && w != "August" {
				d.add(TypeDateTime, 0.7, t.start, t.end)
			}
			continue
		}
		if weekdays[w] {
			d.add(TypeDateTime, 0.8, t.start, t.end)
			continue
		}
		if !t.capital {
			continue
		}
		// Honorific + capitalised tokens.
		if titleWords[w] {
			k := i + 1
			gap := ""
			if k < len(toks) {
				gap = s[t.end:toks[k].start]
			}
			if k < len(toks) && (gap == ". " || gap == " " || gap == ".") && toks[k].capital && !notNameWords[s[toks[k].start:toks[k].end]] {
				e := d.nameEnd(toks, k, 3)
				d.add(TypeName, 0.9, toks[k].start, toks[e].end)
				i = e
			}
			continue
		}
		if notNameWords[w] {
			continue
		}
		first := gazetteer.IsFirstName(w)
		amb := gazetteer.IsAmbiguousName(w)
		e := d.nameEnd(toks, i, 3)
		multi := e > i
		switch {
		case d.nameCue(t.start, strongNameCues):
			d.add(TypeName, 0.9, t.start, toks[e].end)
		case (first || multi) && d.nameCue(t.start, weakNameCues) && !(amb && !multi):
			d.add(TypeName, 0.85, t.start, toks[e].end)
		case first && !amb:
			score := 0.75
			if multi {
				score = 0.85
			}
			d.add(TypeName, score, t.start, toks[e].end)
		case amb && multi && gazetteer.IsFirstName(w) && !gazetteer.IsCompany(s[t.start:toks[e].end]):
			d.add(TypeName, 0.7, t.start, toks[e].end)
		default:
			continue
		}
		i = e
	}
	d.scanPOBox()
}

// nameEnd extends a name starting at token k over up to max-1 following
// capitalised tokens separated by a single space, and returns the index of
// the last token.
func (d *detector) nameEnd(toks []wtok, k, max int) int {
	s := d.s
	e := k
	for e+1 < len(toks) && e+1-k < max {
		nt := toks[e+1]
		gap := s[toks[e].end:nt.start]
		nw := s[nt.start:nt.end]
		if gap != " " || !nt.capital || notNameWords[nw] || weekdays[nw] {
			break
		}
		if _, isMonth := months[strings.ToLower(nw)]; isMonth || streetSuffixes[strings.ToLower(nw)] || gazetteer.IsOrgSuffix(nw) {
			break
		}
		e++
	}
	// Single capital initial followed by '.' ("John F. Kennedy").
	return e
}

// nameCue reports whether one of cues ends right before pos (ignoring
// spaces).
func (d *detector) nameCue(pos int, cues []string) bool {
	low := d.low
	j := pos
	for j > 0 && (low[j-1] == ' ' || low[j-1] == '\t') {
		j--
	}
	for _, c := range cues {
		if j >= len(c) && low[j-len(c):j] == c && !wordChar(low, j-len(c)-1) {
			return true
		}
	}
	return false
}

// monthDate recognises "January 5, 2023", "Jan 5th", "March 2024" and
// "5 January 2023" / "5th of January" around the month token at index i.
// It returns (end, start) in bytes, or end 0.
func (d *detector) monthDate(toks []wtok, i, mo int) (int, int) {
	s := d.s
	t := toks[i]
	st, e := t.start, t.end
	found := false
	// Day before: "5 January", "5th of January".
	j := st
	if strings.HasSuffix(d.low[:j], " of ") {
		j -= 3
	}
	if j > 0 && s[j-1] == ' ' {
		ds, ok := dayBefore(s, j-1)
		if ok {
			st, found = ds, true
		}
	}
	p := e
	if p < len(s) && s[p] == '.' {
		p++
	}
	if !found {
		if de, ok := dayAfter(s, p); ok {
			e, found = de, true
			p = e
		}
	}
	// Year after: ", 2023" or " 2023".
	q := p
	if q < len(s) && s[q] == ',' {
		q++
	}
	if q < len(s) && s[q] == ' ' {
		q++
		k := q
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k-q == 4 && !wordChar(s, k) && (s[q] == '1' || s[q] == '2') {
			e, found = k, true
		}
	}
	_ = mo
	if !found {
		return 0, 0
	}
	return e, st
}

// dayBefore reads a day number (1–31, optional ordinal suffix) ending at
// byte end (exclusive).
func dayBefore(s string, end int) (int, bool) {
	k := end
	for k > 0 && isLetter(s[k-1]) && end-k < 2 {
		k--
	}
	suf := strings.ToLower(s[k:end])
	if suf != "" && suf != "st" && suf != "nd" && suf != "rd" && suf != "th" {
		return 0, false
	}
	m := k
	for m > 0 && isDigit(s[m-1]) {
		m--
	}
	if m == k || k-m > 2 || wordChar(s, m-1) {
		return 0, false
	}
	if v := atoi(s[m:k]); v < 1 || v > 31 {
		return 0, false
	}
	return m, true
}

// dayAfter reads " 5", " 5th" after a month name.
func dayAfter(s string, p int) (int, bool) {
	if p >= len(s) || s[p] != ' ' {
		return 0, false
	}
	k := p + 1
	m := k
	for m < len(s) && isDigit(s[m]) {
		m++
	}
	if m == k || m-k > 2 {
		return 0, false
	}
	if v := atoi(s[k:m]); v < 1 || v > 31 {
		return 0, false
	}
	e := m
	if m+2 <= len(s) {
		switch strings.ToLower(s[m : m+2]) {
		case "st", "nd", "rd", "th":
			e = m + 2
		}
	}
	if wordChar(s, e) {
		return 0, false
	}
	return e, true
}

var streetSuffixes = map[string]bool{
	"street": true, "st": true, "avenue": true, "ave": true, "av": true, "road": true, "rd": true, "boulevard": true, "blvd": true,
	"lane": true, "ln": true, "drive": true, "dr": true, "way": true, "court": true, "ct": true, "place": true, "pl": true,
	"terrace": true, "ter": true, "parkway": true, "pkwy": true, "highway": true, "hwy": true, "circle": true, "cir": true,
	"square": true, "sq": true, "trail": true, "trl": true, "plaza": true, "alley": true, "crescent": true, "close": true,
	"row": true, "loop": true, "pike": true, "walk": true, "path": true, "expressway": true, "freeway": true, "route": true,
}

var directions = map[string]bool{"N": true, "S": true, "E": true, "W": true, "NE": true, "NW": true, "SE": true, "SW": true, "North": true, "South": true, "East": true, "West": true}

var unitWords = map[string]bool{"apt": true, "apartment": true, "suite": true, "ste": true, "unit": true, "floor": true, "fl": true, "room": true, "rm": true, "bldg": true, "building": true}

// nextWord returns the next token after position i, skipping at most one
// comma and spaces on the same line. Tokens are runs of letters, digits,
// '#', '\” or '-'.
func nextWord(s string, i int) (int, int, bool) {
	comma := false
	k := i
	for k < len(s) && k-i < 3 && (s[k] == ' ' || s[k] == ',') {
		if s[k] == ',' {
			comma = true
		}
		k++
	}
	if k == i && i < len(s) && i > 0 {
		return -1, -1, false
	}
	e := k
	for e < len(s) && (isAlnum(s[e]) || s[e] == '#' || s[e] == '\'' || s[e] == '-' || s[e] >= 0x80) {
		e++
	}
	if e == k {
		return -1, -1, false
	}
	return k, e, comma
}

func capitalised(w string) bool {
	return len(w) > 0 && (isUpper(w[0]) || w[0] >= 0x80) && (len(w) == 1 || !allUpper(w) || len(w) <= 3)
}

func allUpper(w string) bool {
	for i := 0; i < len(w); i++ {
		if isLower(w[i]) {
			return false
		}
	}
	return true
}

func ordinalWord(w string) bool {
	if len(w) < 3 {
		return false
	}
	n := 0
	for n < len(w) && isDigit(w[n]) {
		n++
	}
	if n == 0 {
		return false
	}
	switch strings.ToLower(w[n:]) {
	case "st", "nd", "rd", "th":
		return true
	}
	return false
}

// address recognises a US street address whose house number is s[a:b].
func (d *detector) address(a, b int) bool {
	s, low := d.s, d.low
	p := b
	if p < len(s) && isUpper(s[p]) && !wordChar(s, p+1) { // "221B"
		p++
	}
	words, end := 0, -1
	for words < 5 {
		ws, we, comma := nextWord(s, p)
		if ws < 0 || comma {
			break
		}
		w := s[ws:we]
		if words >= 1 && streetSuffixes[low[ws:we]] {
			end = we
			if end < len(s) && s[end] == '.' {
				end++
			}
			break
		}
		if !(capitalised(w) || ordinalWord(w) || directions[w]) {
			break
		}
		words++
		p = we
	}
	if end < 0 {
		return false
	}
	// Direction after the suffix ("Main St NW").
	if ws, we, comma := nextWord(s, end); ws >= 0 && !comma && directions[s[ws:we]] && len(s[ws:we]) <= 2 {
		end = we
	}
	// Unit ("Apt 4B", "Suite 200", "#12").
	if ws, we, _ := nextWord(s, end); ws >= 0 {
		if s[ws] == '#' && we-ws > 1 {
			end = we
		} else if unitWords[low[ws:we]] {
			q := we
			if q < len(s) && s[q] == '.' {
				q++
			}
			if vs, ve, c := nextWord(s, q); vs >= 0 && !c && hasDigit(s[vs:ve]) {
				end = ve
			}
		}
	}
	// City, state, ZIP.
	cityEnd := -1
	p = end
	for n := 0; n < 3; n++ {
		ws, we, comma := nextWord(s, p)
		if ws < 0 || (n == 0 && !comma) || (n > 0 && comma) {
			break
		}
		w := s[ws:we]
		if !capitalised(w) || gazetteer.IsUSStateAbbrev(w) || notNameWords[w] {
			break
		}
		cityEnd = we
		p = we
	}
	stateAt := end
	if cityEnd > 0 {
		stateAt = cityEnd
	}
	stateEnd := -1
	if ws, we, _ := nextWord(s, stateAt); ws >= 0 {
		w := s[ws:we]
		if gazetteer.IsUSStateAbbrev(w) || gazetteer.IsUSState(w) {
			stateEnd = we
		} else if ws2, we2, _ := nextWord(s, we); ws2 >= 0 && gazetteer.IsUSState(s[ws:we2]) {
			stateEnd = we2
		}
	}
	if cityEnd > 0 && (stateEnd > 0 || true) {
		end = cityEnd
	}
	if stateEnd > 0 {
		end = stateEnd
	}
	// ZIP.
	if ws, we, _ := nextWord(s, end); ws >= 0 {
		z := s[ws:we]
		if len(z) == 5 && allDigits(z) || len(z) == 10 && z[5] == '-' && allDigits(z[:5]) && allDigits(z[6:]) {
			end = we
		}
	}
	d.add(TypeAddress, 0.9, a, end)
	return true
}

// scanPOBox finds "P.O. Box 123" / "PO Box 123".
func (d *detector) scanPOBox() {
	low := d.low
	for _, p := range []string{"p.o. box", "po box", "p.o.box", "p o box"} {
		for off := 0; ; {
			k := strings.Index(low[off:], p)
			if k < 0 {
				break
			}
			a := off + k
			off = a + len(p)
			if wordChar(low, a-1) {
				continue
			}
			q := a + len(p)
			if q < len(low) && low[q] == ' ' {
				q++
			}
			e := q
			for e < len(low) && isDigit(low[e]) {
				e++
			}
			if e > q && !wordChar(low, e) {
				d.add(TypeAddress, 0.85, a, e)
			}
		}
	}
}
