package pii

import (
	"regexp"
	"strconv"
)

// Anchored patterns applied to short number chunks only (never to the whole
// text), so their cost is bounded by the chunk length.
var (
	reSSN       = regexp.MustCompile(`^(\d{3})([- ])(\d{2})([- ])(\d{4})$`)
	reUSPhone   = regexp.MustCompile(`^(?:\+?1[ .-]?)?(?:\((\d{3})\) ?|(\d{3})[ .-])(\d{3})[ .-](\d{4})$`)
	reIntlPhone = regexp.MustCompile(`^\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}$`)
	reIPv4      = regexp.MustCompile(`^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$`)
	reDateYMD   = regexp.MustCompile(`^(\d{4})([-/.])(\d{1,2})([-/.])(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?Z?)?$`)
	reDateDMY   = regexp.MustCompile(`^(\d{1,2})([/.-])(\d{1,2})([/.-])(\d{4}|\d{2})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$`)
	reTime      = regexp.MustCompile(`^(\d{1,2}):(\d{2})(?::(\d{2}))?$`)
	reMonthYear = regexp.MustCompile(`^(\d{1,2})[/-](\d{4}|\d{2})$`)
)

var (
	cardCues    = []string{"card", "cards", "credit", "debit", "visa", "mastercard", "amex", "cc", "card number", "card no", "cc#"}
	orderCues   = []string{"order", "invoice", "tracking", "ref", "reference", "ticket", "case", "confirmation", "shipment", "sku", "serial", "transaction", "receipt", "booking", "po", "item", "id"}
	phoneCues   = []string{"phone", "tel", "telephone", "mobile", "cell", "call", "fax", "text", "whatsapp", "contact", "ph", "mob", "reach me", "dial"}
	ssnCues     = []string{"ssn", "social security", "social security number", "ss#", "ssn#"}
	routingCues = []string{"routing", "aba", "rtn", "routing number", "transit"}
	accountCues = []string{"account", "acct", "a/c", "account number", "acc", "checking", "savings"}
	cvvCues     = []string{"cvv", "cvc", "cvv2", "cvc2", "csc", "security code", "card verification"}
	pinCues     = []string{"pin", "pin code", "pin number"}
	expiryCues  = []string{"exp", "expiry", "expires", "expiration", "expiration date", "valid thru", "valid through", "good thru", "exp date"}
	ageCues     = []string{"age", "aged", "age of", "ages"}
	ipCues      = []string{"ip", "ip address", "ipv4", "host", "server"}
	versionCues = []string{"version", "ver", "release", "build", "firmware", "v", "rev", "revision", "update", "patch", "sdk", "api"}
)

// scanNumbers finds number chunks on word boundaries and classifies them.
func (d *detector) scanNumbers() {
	s := d.s
	for i := 0; i < len(s); {
		c := s[i]
		start := isDigit(c) || ((c == '+' || c == '(') && i+1 < len(s) && isDigit(s[i+1]))
		if !start {
			i++
			continue
		}
		if wordChar(s, i-1) {
			// Inside a word such as "abc123": skip the whole run.
			i++
			for i < len(s) && wordChar(s, i) {
				i++
			}
			continue
		}
		end := scanChunk(s, i)
		d.classifyChunk(i, end)
		i = end
		for i < len(s) && wordChar(s, i) { // e.g. "3kg": skip the rest
			i++
		}
	}
}

func isSep(c byte) bool {
	switch c {
	case ' ', '-', '.', '/', ':', '(', ')':
		return true
	}
	return false
}

// scanChunk returns the end of the number chunk starting at i: digit groups
// joined by at most three separator characters (with at most one space).
func scanChunk(s string, i int) int {
	j := i
	if s[j] == '+' || s[j] == '(' {
		j++
	}
	dashes := 0
	for j < len(s) {
		c := s[j]
		if isDigit(c) {
			j++
			continue
		}
		if c == 'T' && dashes == 2 && j+1 < len(s) && isDigit(s[j+1]) { // ISO 8601 "2023-01-05T10:30"
			j++
			continue
		}
		if c == 'Z' && dashes == 2 && !wordChar(s, j+1) && s[j-1] >= '0' && s[j-1] <= '9' {
			j++
			break
		}
		if isSep(c) {
			k, spaces := j, 0
			for k < len(s) && k-j < 3 && isSep(s[k]) {
				if s[k] == ' ' {
					spaces++
				}
				k++
			}
			if spaces <= 1 && k < len(s) && isDigit(s[k]) {
				if c == '-' {
					dashes++
				}
				j = k
				continue
			}
			if c == ')' && j > i && s[i] == '(' { // keep a closing paren of "(555)"
				j++
			}
		}
		break
	}
	return j
}

// classifyChunk classifies s[a:b]; if the whole chunk is not recognised and
// it contains spaces, it is split at spaces and the longest recognised
// prefixes are taken greedily.
func (d *detector) classifyChunk(a, b int) {
	if d.classify(a, b) {
		return
	}
	// Split at spaces.
	var cuts [16]int
	n := 0
	cuts[n] = a
	n++
	for k := a; k < b && n < len(cuts)-1; k++ {
		if d.s[k] == ' ' {
			cuts[n] = k
			n++
		}
	}
	if n == 1 {
		return
	}
	cuts[n] = b
	n++
	i := 0
	for i < n-1 {
		st := cuts[i]
		for st < b && d.s[st] == ' ' {
			st++
		}
		found := false
		for j := n - 1; j > i; j-- {
			if i == 0 && j == n-1 {
				continue // the whole chunk was already tried
			}
			if d.classify(st, cuts[j]) {
				i, found = j, true
				break
			}
		}
		if !found {
			i++
		}
	}
}

// digits copies the digits of s into buf and returns them.
func digits(s string, buf []byte) []byte {
	buf = buf[:0]
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			buf = append(buf, s[i])
		}
	}
	return buf
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// classify tries to recognise s[a:b] as one entity and records it.
func (d *detector) classify(a, b int) bool {
	s, low := d.s, d.low
	ch := s[a:b]
	if len(ch) == 0 || len(ch) > 64 {
		return false
	}
	var buf [64]byte
	dg := digits(ch, buf[:0])
	nd := len(dg)
	plain := allDigits(ch)
	after := b
	// Right boundary: letters glued to the number ("3kg") disqualify most
	// types; "am"/"pm" and ordinals are handled below.
	glued := wordChar(s, after)

	// Card expiry "12/25", "12/2025" (cue required).
	if m := reMonthYear.FindStringSubmatch(ch); m != nil && !glued {
		mo := atoi(m[1])
		if mo >= 1 && mo <= 12 && cueBefore(low, a, 30, expiryCues...) {
			d.add(TypeExpiry, 0.9, a, b)
			return true
		}
	}
	// SSN.
	if m := reSSN.FindStringSubmatch(ch); m != nil && !glued && m[2] == m[4] {
		if validSSN(m[1], m[3], m[5]) {
			score := 0.95
			if cueBefore(low, a, 40, ssnCues...) {
				score = 0.99
			} else if m[2] == " " {
				score = 0 // spaced form needs a cue
			}
			if score > 0 {
				d.add(TypeSSN, score, a, b)
				return true
			}
		} else {
			return true // well-formed but invalid SSN: not PII of any kind
		}
	}
	// IPv4.
	if m := reIPv4.FindStringSubmatch(ch); m != nil && !glued {
		ok := true
		for _, o := range m[1:] {
			if len(o) > 1 && o[0] == '0' || atoi(o) > 255 {
				ok = false
			}
		}
		if ok && !cueBefore(low, a, 12, versionCues...) {
			score := 0.9
			if cueBefore(low, a, 30, ipCues...) {
				score = 0.95
			}
			d.add(TypeIP, score, a, b)
		}
		return true
	}
	// Dates and times.
	if m := reDateYMD.FindStringSubmatch(ch); m != nil && m[2] == m[4] {
		if validDate(atoi(m[3]), atoi(m[5])) && validTime(m[6], m[7], m[8]) {
			d.add(TypeDateTime, 0.9, a, d.extendAMPM(b))
			return true
		}
	}
	if m := reDateDMY.FindStringSubmatch(ch); m != nil && m[2] == m[4] {
		x, y := atoi(m[1]), atoi(m[3])
		if (validDate(x, y) || validDate(y, x)) && validTime(m[6], m[7], m[8]) && (m[2] != "." || len(m[5]) == 4) {
			typ := TypeDateTime
			if cueBefore(low, a, 30, expiryCues...) {
				typ = TypeExpiry
			}
			d.add(typ, 0.85, a, d.extendAMPM(b))
			return true
		}
	}
	if m := reTime.FindStringSubmatch(ch); m != nil && validTime(m[1], m[2], m[3]) {
		e := d.extendAMPM(b)
		if e == b && glued {
			return false
		}
		d.add(TypeDateTime, 0.85, a, e)
		return true
	}
	cardCue := cueBefore(low, a, 40, cardCues...)
	// Credit/debit card numbers.
	if nd >= 13 && nd <= 19 && !glued && cardShape(ch) {
		if luhn(dg) && (validIIN(dg) || cardCue) && (cardCue || !cueBefore(low, a, 25, orderCues...)) {
			score := 0.99
			if !validIIN(dg) {
				score = 0.9
			}
			d.add(TypeCard, score, a, b)
			return true
		}
	}
	phoneCue := cueBefore(low, a, 30, phoneCues...)
	// Phone numbers.
	if !glued && nd >= 10 {
		if m := reUSPhone.FindStringSubmatch(ch); m != nil {
			area := m[1] + m[2]
			if area[0] >= '2' && m[3][0] >= '2' {
				score := 0.9
				if phoneCue {
					score = 0.95
				}
				d.add(TypePhone, score, a, b)
				return true
			}
		}
		if ch[0] == '+' && nd <= 15 && reIntlPhone.MatchString(ch) {
			d.add(TypePhone, 0.9, a, b)
			return true
		}
	}
	// Bank routing number (ABA checksum + cue).
	if plain && nd == 9 && !glued && abaValid(dg) && cueBefore(low, a, 40, routingCues...) {
		d.add(TypeBankRouting, 0.95, a, b)
		return true
	}
	// Unformatted SSN with cue.
	if nd == 9 && !glued && (plain || reSSN.MatchString(ch)) && cueBefore(low, a, 40, ssnCues...) {
		if validSSN(string(dg[:3]), string(dg[3:5]), string(dg[5:])) {
			d.add(TypeSSN, 0.9, a, b)
		}
		return true
	}
	// Bank account number with cue.
	if nd >= 6 && nd <= 17 && !glued && accountShape(ch) && cueBefore(low, a, 40, accountCues...) && !cardCue {
		d.add(TypeBankAccount, 0.85, a, b)
		return true
	}
	// Phone numbers written without the usual formatting, with a cue.
	if !glued && nd >= 7 && nd <= 15 && phoneCue && !cueBefore(low, a, 20, orderCues...) && phoneShape(ch) {
		d.add(TypePhone, 0.8, a, b)
		return true
	}
	if plain && !glued {
		if (nd == 3 || nd == 4) && cueBefore(low, a, 30, cvvCues...) {
			d.add(TypeCVV, 0.9, a, b)
			return true
		}
		if nd >= 4 && nd <= 8 && cueBefore(low, a, 25, pinCues...) {
			d.add(TypePIN, 0.85, a, b)
			return true
		}
	}
	if plain && nd <= 3 {
		if e := d.ageAfter(b); e > 0 && atoi(ch) <= 130 {
			d.add(TypeAge, 0.9, a, e)
			return true
		}
		if !glued && atoi(ch) <= 130 && cueBefore(low, a, 10, ageCues...) {
			d.add(TypeAge, 0.85, a, b)
			return true
		}
		if h := atoi(ch); h >= 1 && h <= 12 {
			if e := d.extendAMPM(b); e > b {
				d.add(TypeDateTime, 0.85, a, e)
				return true
			}
		}
	}
	if plain && nd <= 6 && !glued || plain && nd <= 5 && b < len(s) && isUpper(s[b]) && !wordChar(s, b+1) {
		if d.address(a, b) {
			return true
		}
	}
	return false
}

// extendAMPM extends a time ending at b over a following "am"/"pm"/"a.m."
// (with optional space) and returns the new end (b if none).
func (d *detector) extendAMPM(b int) int {
	low := d.low
	i := b
	if i < len(low) && low[i] == ' ' {
		i++
	}
	for _, suf := range []string{"a.m.", "p.m.", "am", "pm"} {
		if len(low)-i >= len(suf) && low[i:i+len(suf)] == suf && !wordChar(low, i+len(suf)) {
			return i + len(suf)
		}
	}
	return b
}

// ageAfter recognises "35 years old", "35-year-old", "35 yrs old", "35 yo"
// after a number ending at b and returns the end of the AGE span
// ("35 years"), or 0.
func (d *detector) ageAfter(b int) int {
	low := d.low
	rest := low[b:]
	if len(rest) > 24 {
		rest = rest[:24]
	}
	for _, p := range []struct{ unit, tail string }{
		{" years old", ""}, {" year old", ""}, {"-year-old", ""}, {"-years-old", ""}, {" yrs old", ""}, {" yr old", ""},
		{" years of age", ""}, {" y/o", ""}, {" yo", ""}, {" months old", ""}, {"-month-old", ""},
	} {
		if len(rest) >= len(p.unit) && rest[:len(p.unit)] == p.unit && !wordChar(low, b+len(p.unit)) {
			// Comprehend reports the quantity and unit ("35 years").
			u := p.unit
			switch u {
			case " years old", " year old", " yrs old", " yr old", " months old":
				return b + len(u) - len(" old")
			case " years of age":
				return b + len(" years")
			}
			return b + len(u)
		}
	}
	return 0
}

func validSSN(area, group, serial string) bool {
	if area == "000" || area == "666" || area[0] == '9' {
		return false
	}
	return group != "00" && serial != "0000"
}

func validDate(month, day int) bool { return month >= 1 && month <= 12 && day >= 1 && day <= 31 }

func validTime(h, m, sec string) bool {
	if h == "" {
		return true
	}
	if atoi(h) > 23 || atoi(m) > 59 {
		return false
	}
	return sec == "" || atoi(sec) <= 59
}

// cardShape: digits with one consistent separator (space or dash) or none,
// not starting with '+' or '('.
func cardShape(ch string) bool {
	if ch[0] == '+' || ch[0] == '(' {
		return false
	}
	var sep byte
	for i := 0; i < len(ch); i++ {
		c := ch[i]
		if isDigit(c) {
			continue
		}
		if c != ' ' && c != '-' {
			return false
		}
		if sep == 0 {
			sep = c
		} else if c != sep {
			return false
		}
		if i > 0 && !isDigit(ch[i-1]) {
			return false
		}
	}
	return true
}

func accountShape(ch string) bool {
	for i := 0; i < len(ch); i++ {
		if c := ch[i]; !isDigit(c) && c != '-' && c != ' ' {
			return false
		}
	}
	return isDigit(ch[0])
}

func phoneShape(ch string) bool {
	for i := 0; i < len(ch); i++ {
		c := ch[i]
		if !isDigit(c) && c != '-' && c != ' ' && c != '.' && c != '(' && c != ')' && c != '+' {
			return false
		}
	}
	return true
}

// luhn validates a digit string with the Luhn (mod 10) checksum.
func luhn(dg []byte) bool {
	sum, alt := 0, false
	for i := len(dg) - 1; i >= 0; i-- {
		n := int(dg[i] - '0')
		if alt {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		alt = !alt
	}
	return sum%10 == 0
}

// validIIN checks the issuer identification prefix and length against the
// major card networks (Visa, Mastercard, Amex, Discover, JCB, Diners,
// UnionPay, Maestro).
func validIIN(dg []byte) bool {
	n := len(dg)
	p := func(k int) int { return atoi(string(dg[:k])) }
	switch {
	case dg[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case p(2) >= 51 && p(2) <= 55, p(4) >= 2221 && p(4) <= 2720: // Mastercard
		return n == 16
	case p(2) == 34 || p(2) == 37: // Amex
		return n == 15
	case p(4) == 6011 || p(2) == 65 || (p(3) >= 644 && p(3) <= 649): // Discover
		return n >= 16 && n <= 19
	case p(4) >= 3528 && p(4) <= 3589: // JCB
		return n >= 16 && n <= 19
	case p(2) == 36 || p(2) == 38 || p(2) == 39 || (p(3) >= 300 && p(3) <= 305): // Diners
		return n >= 14 && n <= 19
	case p(2) == 62: // UnionPay
		return n >= 16 && n <= 19
	case p(2) == 50 || (p(2) >= 56 && p(2) <= 69): // Maestro
		return n >= 12 && n <= 19
	}
	return false
}

// abaValid checks the ABA routing number checksum.
func abaValid(dg []byte) bool {
	if len(dg) != 9 {
		return false
	}
	w := [9]int{3, 7, 1, 3, 7, 1, 3, 7, 1}
	sum := 0
	for i, c := range dg {
		sum += int(c-'0') * w[i]
	}
	return sum%10 == 0 && sum > 0
}
