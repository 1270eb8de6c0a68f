package entities

import (
	"strings"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/entities/gazetteer"
)

// connectors may join capitalised tokens inside one name
// ("Bank of America", "Procter & Gamble", "Rio de Janeiro").
var connectors = map[string]bool{"of": true, "de": true, "del": true, "la": true, "le": true, "du": true, "des": true, "von": true, "van": true, "der": true, "den": true, "da": true, "di": true, "&": true, "for": true, "y": true}

// nonEntityCaps are capitalised words or acronyms that are never entities
// on their own.
var nonEntityCaps = map[string]bool{"I": true, "OK": true, "TV": true, "USB": true, "PC": true, "ID": true, "PIN": true, "FAQ": true, "ASAP": true, "FYI": true, "AM": true, "PM": true, "LCD": true, "LED": true, "HD": true, "DIY": true, "VIP": true, "PS": true, "RE": true, "FW": true, "FWD": true, "ETA": true, "IMO": true, "IMHO": true, "LOL": true, "OMG": true, "BTW": true, "TBD": true, "AI": true, "API": true, "URL": true, "PDF": true, "SMS": true, "GPS": true, "DVD": true, "CD": true, "UI": true, "UX": true, "QA": true, "HR": true, "IT": true, "ATM": true, "N/A": true, "NA": true, "AC": true, "DC": true, "RAM": true, "SSD": true, "CPU": true, "GPU": true, "HTML": true, "JSON": true, "SQL": true, "XML": true, "IP": true, "OS": true, "EST": true, "PST": true, "UTC": true, "GMT": true, "Mr": true, "Mrs": true, "Ms": true, "Dr": true, "Re": true, "Subject": true}

var locationPrefixes = map[string]bool{"Lake": true, "Mount": true, "Mt": true, "Fort": true, "Port": true, "San": true, "Santa": true, "Saint": true, "St": true, "Cape": true, "Gulf": true, "Isle": true, "Las": true, "Los": true, "New": true, "North": true, "South": true, "East": true, "West": true}

// namedEvents are single-word event names (generic heads such as
// "Festival" need a modifier).
var namedEvents = map[string]bool{"Olympics": true, "Oscars": true, "Grammys": true, "Emmys": true, "Eurovision": true, "Wimbledon": true, "Coachella": true, "Oktoberfest": true, "Thanksgiving": true, "Christmas": true, "Easter": true, "Halloween": true, "Ramadan": true, "Diwali": true, "Hanukkah": true, "Passover": true, "Paralympics": true, "Brexit": true}

var modelWords = map[string]bool{"Pro": true, "Max": true, "Plus": true, "Mini": true, "Ultra": true, "Air": true, "SE": true, "XL": true, "Lite": true, "Edition": true, "Series": true}

// isSpanTok reports whether token i can be part of a proper-noun span.
func (d *detector) isSpanTok(i int, shouting bool) bool {
	t := d.toks[i]
	if t.kind != kWord {
		return false
	}
	if t.camel {
		w := d.text(i)
		return gazetteer.IsProduct(w) || gazetteer.IsCompany(w)
	}
	if t.allCaps && shouting || hasDigit(d.text(i)) {
		return false
	}
	return t.capital || t.allCaps
}

// scanSpans finds capitalised spans and classifies them.
func (d *detector) scanSpans() {
	n := len(d.toks)
	// Text written mostly in capitals gives no capitalisation signal.
	caps, words := 0, 0
	for i := range d.toks {
		if d.toks[i].kind == kWord {
			words++
			if d.toks[i].allCaps {
				caps++
			}
		}
	}
	shouting := words >= 4 && caps*2 > words
	for i := 0; i < n; i++ {
		if !d.isSpanTok(i, shouting) {
			continue
		}
		// Grow the span.
		j := i
		for j+1 < n {
			if d.spaced(j) && d.isSpanTok(j+1, shouting) && !d.toks[j+1].sent {
				j++
				continue
			}
			// Abbreviation dot inside a name: "St. Louis", "Dr. Who".
			if d.attached(j) && d.text(j+1) == "." && abbrevs[d.text(j)] && j+2 < n && d.spaced(j+1) && d.isSpanTok(j+2, shouting) {
				j += 2
				continue
			}
			if j+2 < n && d.spaced(j) && d.spaced(j+1) && connectors[d.lower(j+1)] && d.isSpanTok(j+2, shouting) {
				if d.lower(j+1) == "of" && j+3 < n && d.isWord(j+2, "the") {
					j += 3
					continue
				}
				j += 2
				continue
			}
			break
		}
		d.classifySpan(i, j)
		i = j
	}
}

// classifySpan classifies tokens a..b (inclusive) as an entity, if any.
func (d *detector) classifySpan(a, b int) {
	// Trim sentence-initial common words ("Great", "The", "Yesterday").
	titled := false
	for a <= b {
		w := d.text(a)
		lw := strings.ToLower(w)
		if gazetteer.IsPersonTitle(strings.TrimSuffix(w, ".")) && a < b {
			titled = true
			a++
			if a <= b && d.text(a) == "." {
				a++
			}
			continue
		}
		if d.toks[a].sent && gazetteer.IsCommonWord(lw) && !known(w) && !(a < b && known(d.s[d.toks[a].start:d.toks[b].end])) {
			a++
			continue
		}
		if gazetteer.IsFunctionWord(lw) && !known(w) || months[lw] || weekdays[lw] || nonEntityCaps[w] || connectors[lw] && d.toks[a].kind == kWord && !d.toks[a].capital || w == "." {
			a++
			continue
		}
		break
	}
	for b >= a && (connectors[d.lower(b)] || d.text(b) == "." || d.lower(b) == "the") {
		b--
	}
	if a > b {
		return
	}
	start, end := d.toks[a].start, d.toks[b].end
	text := d.s[start:end]
	first, last := d.text(a), d.text(b)
	nTok := 0
	allCommon := true
	for k := a; k <= b; k++ {
		if d.toks[k].kind == kWord && !connectors[d.lower(k)] {
			nTok++
			if !gazetteer.IsCommonWord(d.lower(k)) {
				allCommon = false
			}
		}
	}
	prev := ""
	if a > 0 && d.toks[a-1].kind == kWord && d.spaced(a-1) {
		prev = d.lower(a - 1)
	}
	prev2 := ""
	if a > 2 && d.toks[a-2].kind == kWord && d.spaced(a-2) && d.spaced(a-1) {
		prev2 = d.lower(a-2) + " " + prev
	}
	stripped := strings.TrimPrefix(text, "The ")

	switch {
	case titled && (d.toks[a].capital):
		d.add(TypePerson, 0.9, start, end)
	case gazetteer.IsCompany(text) || gazetteer.IsCompany(stripped):
		d.add(TypeOrganization, 0.95, start, end)
	case gazetteer.IsLocation(text) || gazetteer.IsLocation(stripped):
		d.add(TypeLocation, 0.95, start, end)
	case gazetteer.IsProduct(text):
		d.add(TypeCommercialItem, 0.9, start, d.extendModel(b))
	case namedEvents[text] || gazetteer.IsEventWord(text) && nTok > 1:
		d.add(TypeEvent, 0.85, start, end)
	case gazetteer.IsNationality(text):
		d.add(TypeOther, 0.8, start, end)
	case nTok > 1 && gazetteer.IsOrgSuffix(strings.TrimSuffix(last, ".")):
		d.add(TypeOrganization, 0.9, start, end)
	case nTok > 1 && (gazetteer.IsEventWord(last) || isEventYear(last) && b > a && gazetteer.IsEventWord(d.text(b-1))):
		d.add(TypeEvent, 0.85, start, end)
	case nTok > 1 && gazetteer.IsOrgPrefix(first) && strings.Contains(text, " of "):
		d.add(TypeOrganization, 0.85, start, end)
	case nTok > 1 && (gazetteer.IsLocationHead(last) || locationPrefixes[first] && gazetteer.IsLocationHead(first)):
		d.add(TypeLocation, 0.85, start, end)
	case gazetteer.IsProduct(first):
		d.add(TypeCommercialItem, 0.85, start, d.extendModel(b))
	case gazetteer.IsFirstName(first) && (!gazetteer.IsAmbiguousName(first) || nTok > 1) && nTok <= 4 && !(nTok == 1 && allCommon):
		score := 0.8
		if nTok > 1 {
			score = 0.9
		}
		d.add(TypePerson, score, start, end)
	case gazetteer.IsCompany(first) && nTok > 1:
		score := 0.6
		if gazetteer.IsProduct(d.text(a + 1)) {
			score = 0.85
		}
		d.add(TypeCommercialItem, score, start, d.extendModel(b))
	case allCommon:
		// Title-case common words ("Customer Service") are not entities.
	case prev == "in" || prev == "near" || prev == "from" || prev == "to" && nTok > 1 || prev2 == "based in" || prev2 == "lives in" || prev == "visit" || prev == "visited":
		d.add(TypeLocation, 0.6, start, end)
	case prev == "at" || prev2 == "work for" || prev2 == "works for" || prev2 == "worked for" || prev == "joined" || prev2 == "employed by":
		d.add(TypeOrganization, 0.6, start, end)
	case d.toks[a].allCaps && nTok == 1 && len(text) <= 6:
		d.add(TypeOrganization, 0.6, start, end)
	case d.toks[a].sent && nTok == 1:
		// A lone capitalised word starting a sentence gives no evidence.
	case nTok >= 2 && nTok <= 3 && d.allNameLike(a, b):
		d.add(TypePerson, 0.55, start, end)
	default:
		d.add(TypeOther, 0.5, start, end)
	}
}

// known reports whether w is in any gazetteer.
func known(w string) bool {
	return gazetteer.IsCompany(w) || gazetteer.IsLocation(w) || gazetteer.IsProduct(w) || gazetteer.IsNationality(w)
}

func isEventYear(w string) bool {
	if len(w) == 4 && atoi(w) >= 1900 && atoi(w) <= 2199 {
		return true
	}
	switch w {
	case "I", "II", "III", "IV", "V", "VI":
		return true
	}
	return false
}

// extendModel extends a product span ending at token b over model numbers
// and model words ("iPhone 12 Pro Max", "Galaxy S21").
func (d *detector) extendModel(b int) int {
	e := d.toks[b].end
	for k := b; k+1 < len(d.toks) && k-b < 4 && d.spaced(k); k++ {
		nt := d.toks[k+1]
		w := d.text(k + 1)
		if nt.kind == kNum && len(w) <= 4 || modelWords[w] || nt.kind == kWord && hasDigit(w) && len(w) <= 6 {
			e = nt.end
			continue
		}
		break
	}
	return e
}

func hasDigit(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] >= '0' && w[i] <= '9' {
			return true
		}
	}
	return false
}

// allNameLike: every token is a plain capitalised word (not an acronym,
// not a common word), as in an unknown "Firstname Lastname".
func (d *detector) allNameLike(a, b int) bool {
	for k := a; k <= b; k++ {
		t := d.toks[k]
		if t.kind != kWord || !t.capital || t.allCaps || gazetteer.IsCommonWord(d.lower(k)) || connectors[d.lower(k)] {
			return false
		}
	}
	return true
}
