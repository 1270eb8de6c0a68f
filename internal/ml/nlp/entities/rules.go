package entities

import (
	"regexp"
	"strings"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/entities/gazetteer"
)

var months = map[string]bool{
	"january": true, "february": true, "march": true, "april": true, "may": true, "june": true, "july": true, "august": true, "september": true, "october": true, "november": true, "december": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true, "sep": true, "sept": true, "oct": true, "nov": true, "dec": true,
}

var weekdays = map[string]bool{"monday": true, "tuesday": true, "wednesday": true, "thursday": true, "friday": true, "saturday": true, "sunday": true}

var relDays = map[string]bool{"today": true, "tomorrow": true, "yesterday": true, "tonight": true}

var relUnits = map[string]bool{"week": true, "month": true, "year": true, "weekend": true, "night": true, "morning": true, "evening": true, "afternoon": true, "summer": true, "winter": true, "spring": true, "fall": true, "autumn": true, "quarter": true, "season": true, "decade": true, "century": true}

var agoUnits = map[string]bool{"second": true, "seconds": true, "minute": true, "minutes": true, "hour": true, "hours": true, "day": true, "days": true, "week": true, "weeks": true, "month": true, "months": true, "year": true, "years": true, "decade": true, "decades": true}

var yearPreps = map[string]bool{"in": true, "since": true, "of": true, "by": true, "from": true, "until": true, "till": true, "during": true, "before": true, "after": true, "year": true, "circa": true, "around": true, "early": true, "late": true, "mid": true, "back": true, "to": true, "spring": true, "summer": true, "fall": true, "autumn": true, "winter": true}

var (
	reDate1 = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b`)
	reDate2 = regexp.MustCompile(`^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b`)
	reTime  = regexp.MustCompile(`^([01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\s?(?:[aApP]\.?[mM]\.?))?`)
	reHour  = regexp.MustCompile(`^(?:1[0-2]|0?[1-9])\s?(?:[aApP]\.?[mM]\.?)(?:\W|$)`)
)

// next returns the index of the first token starting at or after byte b.
func (d *detector) next(from, b int) int {
	for from < len(d.toks) && d.toks[from].start < b {
		from++
	}
	return from
}

func (d *detector) isWord(i int, w string) bool {
	return i >= 0 && i < len(d.toks) && d.toks[i].kind == kWord && d.lower(i) == w
}

// spaced reports whether tokens i and i+1 are separated by exactly one
// space (or nothing when attached is true).
func (d *detector) spaced(i int) bool { return i+1 < len(d.toks) && d.gap(i) == " " }
func (d *detector) attached(i int) bool {
	return i+1 < len(d.toks) && d.toks[i].end == d.toks[i+1].start
}

func isOrdinalSuffix(w string) bool { return w == "st" || w == "nd" || w == "rd" || w == "th" }

// dayNum parses token i as a day of month (1–31), with an optional attached
// ordinal suffix token; it returns the index of the last token used or -1.
func (d *detector) dayNum(i int) int {
	if i < 0 || i >= len(d.toks) || d.toks[i].kind != kNum {
		return -1
	}
	t := d.text(i)
	if len(t) > 2 || atoi(t) < 1 || atoi(t) > 31 {
		return -1
	}
	if d.attached(i) && d.toks[i+1].kind == kWord {
		if isOrdinalSuffix(d.lower(i + 1)) {
			return i + 1
		}
		return -1
	}
	return i
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return -1
		}
		n = n*10 + int(s[i]-'0')
		if n > 1e8 {
			return -1
		}
	}
	return n
}

func (d *detector) isYear(i int) bool {
	if i < 0 || i >= len(d.toks) || d.toks[i].kind != kNum {
		return false
	}
	t := d.text(i)
	return len(t) == 4 && atoi(t) >= 1000 && atoi(t) <= 2199 && !(d.attached(i) && d.toks[i+1].kind == kWord)
}

// scanDates finds DATE entities.
func (d *detector) scanDates() {
	n := len(d.toks)
	for i := 0; i < n; i++ {
		t := d.toks[i]
		switch t.kind {
		case kWord:
			lw := d.lower(i)
			switch {
			case months[lw]:
				st, last, found := i, i, false
				if i+1 < n && d.attached(i) && d.text(i+1) == "." && len(lw) <= 4 {
					last = i + 1
				}
				if d.spaced(last) {
					if e := d.dayNum(last + 1); e > 0 {
						last, found = e, true
					}
				}
				// "5th of June", "5 June"
				if !found {
					p := i - 1
					if d.isWord(p, "of") && p > 0 && d.spaced(p-1) {
						p--
					} else if p >= 0 && !d.spaced(p) {
						p = -1
					}
					if p >= 0 {
						q := p
						if d.toks[q].kind == kWord && isOrdinalSuffix(d.lower(q)) && q > 0 && d.attached(q-1) {
							q--
						}
						if q >= 0 && d.dayNum(q) == p {
							st, found = q, true
						}
					}
				}
				// Year: ", 2024" or " 2024".
				y := last + 1
				if y < n && d.text(y) == "," && d.attached(last) {
					y++
				}
				if y < n && d.toks[y-1].end+1 == d.toks[y].start && d.isYear(y) {
					last, found = y, true
				}
				if found {
					if st > 0 && d.toks[st-1].kind == kWord && weekdays[d.lower(st-1)] {
						st--
					} else if st > 1 && d.text(st-1) == "," && weekdays[d.lower(st-2)] {
						st -= 2
					}
					d.add(TypeDate, 0.95, d.toks[st].start, d.toks[last].end)
					i = last
				} else if t.capital && len(lw) > 4 && lw != "march" && lw != "august" {
					s0 := t.start
					if i > 0 && (d.isWord(i-1, "last") || d.isWord(i-1, "next") || d.isWord(i-1, "early") || d.isWord(i-1, "late") || d.isWord(i-1, "mid")) && d.spaced(i-1) {
						s0 = d.toks[i-1].start
					}
					d.add(TypeDate, 0.8, s0, t.end)
				}
			case weekdays[lw] && t.capital:
				s0, e := t.start, t.end
				if i > 0 && (d.isWord(i-1, "last") || d.isWord(i-1, "next") || d.isWord(i-1, "this")) && d.spaced(i-1) {
					s0 = d.toks[i-1].start
				}
				if d.spaced(i) && relUnits[d.lower(i+1)] && d.lower(i+1) != "week" {
					e = d.toks[i+1].end
					i++
				}
				d.add(TypeDate, 0.9, s0, e)
			case relDays[lw]:
				d.add(TypeDate, 0.85, t.start, t.end)
			case (lw == "last" || lw == "next" || lw == "this" || lw == "past") && d.spaced(i) && relUnits[d.lower(i+1)]:
				d.add(TypeDate, 0.8, t.start, d.toks[i+1].end)
				i++
			case lw == "noon" || lw == "midnight":
				d.add(TypeDate, 0.8, t.start, t.end)
			}
		case kNum:
			rest := d.s[t.start:]
			if len(rest) > 32 {
				rest = rest[:32]
			}
			if m := reDate1.FindStringSubmatch(rest); m != nil && validMD(atoi(m[2]), atoi(m[3])) {
				d.add(TypeDate, 0.95, t.start, t.start+len(m[0]))
				i = d.next(i, t.start+len(m[0])) - 1
				continue
			}
			if m := reDate2.FindStringSubmatch(rest); m != nil && (validMD(atoi(m[1]), atoi(m[2])) || validMD(atoi(m[2]), atoi(m[1]))) {
				d.add(TypeDate, 0.9, t.start, t.start+len(m[0]))
				i = d.next(i, t.start+len(m[0])) - 1
				continue
			}
			if m := reTime.FindString(rest); m != "" && strings.Contains(d.text(i), ":") {
				d.add(TypeDate, 0.85, t.start, t.start+len(m))
				i = d.next(i, t.start+len(m)) - 1
				continue
			}
			if m := reHour.FindString(rest); m != "" {
				e := t.start + len(strings.TrimRight(m, " ,;!?)"))
				if e < len(d.s) && d.s[e-1] != '.' && !isAlnumByte(d.s[e-1]) {
					e--
				}
				d.add(TypeDate, 0.85, t.start, e)
				i = d.next(i, e) - 1
				continue
			}
			// "3 days ago"
			if d.spaced(i) && agoUnits[d.lower(i+1)] && d.spaced(i+1) && d.isWord(i+2, "ago") {
				d.add(TypeDate, 0.9, t.start, d.toks[i+2].end)
				i += 2
				continue
			}
			// Years and decades.
			if d.isYear(i) && i > 0 && d.toks[i-1].kind == kWord && yearPreps[d.lower(i-1)] {
				d.add(TypeDate, 0.85, t.start, t.end)
				continue
			}
			if tt := d.text(i); len(tt) == 4 && d.attached(i) && d.lower(i+1) == "s" && (tt[3] == '0') {
				d.add(TypeDate, 0.85, t.start, d.toks[i+1].end)
				i++
			}
		}
	}
}

func isAlnumByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func validMD(m, day int) bool { return m >= 1 && m <= 12 && day >= 1 && day <= 31 }

var currencySymbols = map[string]bool{"$": true, "€": true, "£": true, "¥": true, "₹": true, "₩": true, "₽": true, "¢": true}

var scaleWords = map[string]bool{"thousand": true, "million": true, "billion": true, "trillion": true, "k": true, "m": true, "bn": true, "mm": true, "hundred": true}

var currencyWords = map[string]bool{"dollar": true, "dollars": true, "usd": true, "euro": true, "euros": true, "eur": true, "pound": true, "pounds": true, "gbp": true, "cent": true, "cents": true, "bucks": true, "yen": true, "jpy": true, "rupees": true, "rupee": true, "inr": true, "yuan": true, "rmb": true, "pesos": true, "peso": true, "francs": true, "chf": true, "won": false, "rubles": true, "cad": true, "aud": true, "bitcoin": true, "btc": true}

var units = map[string]bool{
	"kg": true, "kgs": true, "g": true, "grams": true, "gram": true, "mg": true, "lb": true, "lbs": true, "oz": true, "ounce": true, "ounces": true, "ton": true, "tons": true, "tonnes": true,
	"km": true, "m": false, "cm": true, "mm": true, "mi": true, "mile": true, "miles": true, "meter": true, "meters": true, "metre": true, "metres": true, "foot": true, "feet": true, "ft": true, "inch": true, "inches": true, "yard": true, "yards": true,
	"gallon": true, "gallons": true, "liter": true, "liters": true, "litre": true, "litres": true, "ml": true, "l": true, "mph": true, "kph": true, "kmh": true,
	"gb": true, "mb": true, "tb": true, "kb": true, "ghz": true, "mhz": true, "hz": true, "w": true, "kw": true, "kwh": true, "mah": true, "v": true, "mp": true, "fps": true, "dpi": true, "rpm": true,
	"hour": true, "hours": true, "hr": true, "hrs": true, "minute": true, "minutes": true, "min": true, "mins": true, "second": true, "seconds": true, "sec": true, "secs": true,
	"day": true, "days": true, "week": true, "weeks": true, "month": true, "months": true, "year": true, "years": true, "decade": true, "decades": true,
	"degree": true, "degrees": true, "percent": true, "star": true, "stars": true, "point": true, "points": true, "calorie": true, "calories": true, "times": true,
	"piece": true, "pieces": true, "item": true, "items": true, "people": true, "persons": true, "person": true, "unit": true, "units": true, "pack": true, "packs": true, "box": true, "boxes": true, "bottle": true, "bottles": true, "cup": true, "cups": true, "pair": true, "pairs": true, "page": true, "pages": true, "time": false,
}

// numberPhrase returns the index of the last token of a number starting at
// token i (digits or number words, optionally followed by scale words), or
// -1.
func (d *detector) numberPhrase(i int) int {
	n := len(d.toks)
	t := d.toks[i]
	last := -1
	switch t.kind {
	case kNum:
		last = i
	case kWord:
		lw := d.lower(i)
		if isNumberWordToken(lw) && lw != "few" && lw != "several" && lw != "half" && lw != "couple" {
			last = i
		} else if (lw == "a" || lw == "an") && d.spaced(i) && (d.lower(i+1) == "dozen" || d.lower(i+1) == "hundred" || d.lower(i+1) == "thousand" || d.lower(i+1) == "million") {
			last = i + 1
		} else {
			return -1
		}
	default:
		return -1
	}
	for last+1 < n && d.spaced(last) && d.toks[last+1].kind == kWord && (scaleWords[d.lower(last+1)] && len(d.lower(last+1)) > 2 || t.kind == kWord && isNumberWordToken(d.lower(last+1)) || d.lower(last+1) == "and" && last+2 < n && isNumberWordToken(d.lower(last+2))) {
		last++
	}
	if t.kind == kNum && d.attached(last) && last+1 < n && d.toks[last+1].kind == kWord && (d.lower(last+1) == "k" || d.lower(last+1) == "m" || d.lower(last+1) == "bn") {
		last++
	}
	return last
}

func isNumberWordToken(w string) bool {
	if gazetteer.IsNumberWord(w) {
		return true
	}
	if k := strings.IndexByte(w, '-'); k > 0 { // "twenty-five"
		return gazetteer.IsNumberWord(w[:k]) && gazetteer.IsNumberWord(w[k+1:])
	}
	return false
}

// scanQuantities finds QUANTITY entities.
func (d *detector) scanQuantities() {
	n := len(d.toks)
	for i := 0; i < n; i++ {
		t := d.toks[i]
		if t.kind == kPunct && currencySymbols[d.text(i)] && d.attached(i) && d.toks[i+1].kind == kNum {
			last := d.numberPhrase(i + 1)
			d.add(TypeQuantity, 0.95, t.start, d.toks[last].end)
			i = last
			continue
		}
		last := d.numberPhrase(i)
		if last < 0 {
			continue
		}
		if t.kind == kWord && t.sent && d.lower(i) == "one" {
			continue
		}
		j := last + 1
		if j < n && d.attached(last) && (d.text(j) == "%" || d.text(j) == "°") {
			e := d.toks[j].end
			if d.text(j) == "°" && j+1 < n && d.attached(j) && d.toks[j+1].kind == kWord {
				e = d.toks[j+1].end
				j++
			}
			d.add(TypeQuantity, 0.95, t.start, e)
			i = j
			continue
		}
		if j < n && d.toks[j].kind == kWord && (d.spaced(last) || d.attached(last) && t.kind == kNum) {
			w := d.lower(j)
			switch {
			case currencyWords[w] || units[w] || w == "per" || w == "percent":
				if d.spaced(j) && d.isWord(j+1, "ago") {
					continue // "3 days ago" is a DATE
				}
				e := d.toks[j].end
				if d.spaced(j) && d.isWord(j+1, "old") {
					e = d.toks[j+1].end
				}
				d.add(TypeQuantity, 0.9, t.start, e)
				i = j
			case d.spaced(last) && len(w) >= 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "'s") && !gazetteer.IsFunctionWord(w) && !gazetteer.IsVerb(w) && !d.toks[j].capital:
				score := 0.8
				if t.kind == kWord {
					score = 0.75
				}
				d.add(TypeQuantity, score, t.start, d.toks[j].end)
				i = j
			}
		}
	}
}

var titleNounCues = map[string]bool{"movie": true, "film": true, "book": true, "novel": true, "song": true, "album": true, "show": true, "series": true, "sitcom": true, "documentary": true, "episode": true, "podcast": true, "poem": true, "painting": true, "track": true, "single": true, "opera": true, "musical": true, "play": true, "article": true, "memoir": true, "biography": true, "game": true, "titled": true, "entitled": true}
var titleVerbCues = map[string]bool{"watched": true, "watching": true, "read": true, "reading": true, "reread": true, "rewatched": true, "binged": true, "listened": true, "called": true, "named": true, "seen": true, "saw": true}

// scanTitles finds titles of works: quoted text after a cue, or a
// capitalised span right after a cue noun.
func (d *detector) scanTitles() {
	n := len(d.toks)
	for i := 0; i < n; i++ {
		t := d.toks[i]
		if t.kind == kPunct {
			q := d.text(i)
			closeQ := ""
			switch q {
			case "\"":
				closeQ = "\""
			case "“":
				closeQ = "”"
			case "«":
				closeQ = "»"
			case "‘":
				closeQ = "’"
			}
			if closeQ == "" || i+1 >= n || !(d.toks[i+1].capital || d.toks[i+1].kind == kNum) {
				continue
			}
			k := i + 1
			for k < n && k-i < 16 && d.text(k) != closeQ && !(closeQ == "”" && d.text(k) == "\"") {
				k++
			}
			if k >= n || k-i >= 16 || k == i+1 {
				continue
			}
			score := 0.0
			if d.cueBefore(i, 4) {
				score = 0.9
			} else if d.cueAfter(k) {
				score = 0.85
			}
			if score > 0 {
				d.add(TypeTitle, score, d.toks[i+1].start, d.toks[k-1].end)
				i = k
			}
			continue
		}
		if t.kind != kWord || !d.spaced(i) {
			continue
		}
		lw := d.lower(i)
		noun := titleNounCues[lw]
		if !noun && !titleVerbCues[lw] {
			continue
		}
		j := i + 1
		if !d.toks[j].capital || j < n && d.toks[j].kind != kWord {
			continue
		}
		last := j
		for last+1 < n && d.spaced(last) {
			nt := d.toks[last+1]
			nw := d.lower(last + 1)
			if nt.kind == kWord && nt.capital || nt.kind == kNum && last-j < 6 {
				last++
				continue
			}
			if (nw == "of" || nw == "the" || nw == "a" || nw == "and" || nw == "in" || nw == "to" || nw == "on" || nw == "for") && last+2 < n && d.spaced(last+1) && d.toks[last+2].capital {
				last += 2
				continue
			}
			break
		}
		if last-j > 10 {
			continue
		}
		score := 0.92
		if !noun {
			score = 0.7
		}
		d.add(TypeTitle, score, d.toks[j].start, d.toks[last].end)
		i = last
	}
}

func (d *detector) cueBefore(i, maxWords int) bool {
	for k, w := i-1, 0; k >= 0 && w < maxWords; k-- {
		if d.toks[k].kind != kWord {
			continue
		}
		w++
		if lw := d.lower(k); titleNounCues[lw] || titleVerbCues[lw] {
			return true
		}
	}
	return false
}

func (d *detector) cueAfter(k int) bool {
	for j, w := k+1, 0; j < len(d.toks) && w < 5; j++ {
		if d.toks[j].kind != kWord {
			if p := d.text(j); p == "." || p == "!" || p == "?" {
				return false
			}
			continue
		}
		w++
		if titleNounCues[d.lower(j)] && d.lower(j) != "titled" && d.lower(j) != "entitled" {
			return true
		}
	}
	return false
}
