package pii

import (
	"net/netip"
	"strings"
)

// scanEmails finds local@domain.tld around every '@'.
func (d *detector) scanEmails() {
	s := d.s
	for off := 0; ; {
		k := strings.IndexByte(s[off:], '@')
		if k < 0 {
			return
		}
		at := off + k
		off = at + 1
		a := at
		for a > 0 && emailLocalChar(s[a-1]) {
			a--
		}
		for a < at && (s[a] == '.' || s[a] == '-') {
			a++
		}
		e := at + 1
		for e < len(s) && (isAlnum(s[e]) || s[e] == '.' || s[e] == '-') {
			e++
		}
		for e > at+1 && (s[e-1] == '.' || s[e-1] == '-') {
			e--
		}
		if a == at || e <= at+1 || wordChar(s, a-1) && s[a-1] >= 0x80 {
			continue
		}
		dom := s[at+1 : e]
		dot := strings.LastIndexByte(dom, '.')
		if dot <= 0 || len(dom)-dot-1 < 2 || !allLetters(dom[dot+1:]) || strings.Contains(dom, "..") {
			continue
		}
		d.add(TypeEmail, 0.95, a, e)
		off = e
	}
}

func emailLocalChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) {
			return false
		}
	}
	return true
}

// urlEnd returns the end of a URL starting at i: up to whitespace or a
// quote/bracket, minus trailing punctuation.
func urlEnd(s string, i int) int {
	e := i
	for e < len(s) {
		c := s[e]
		if isSpace(c) || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c < 0x20 || c >= 0x80 {
			break
		}
		e++
	}
	for e > i {
		c := s[e-1]
		if c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == ')' && strings.Count(s[i:e], "(") < strings.Count(s[i:e], ")") || c == ']' || c == '}' {
			e--
			continue
		}
		break
	}
	return e
}

var commonTLDs = map[string]bool{
	"com": true, "org": true, "net": true, "edu": true, "gov": true, "io": true, "co": true, "ai": true,
	"app": true, "dev": true, "info": true, "biz": true, "us": true, "uk": true, "de": true, "fr": true,
	"es": true, "it": true, "nl": true, "ca": true, "au": true, "jp": true, "cn": true, "ru": true,
	"br": true, "in": true, "ly": true, "me": true, "tv": true, "xyz": true, "shop": true, "store": true,
}

// scanURLs finds scheme URLs, "www." URLs and bare domains with a path or
// a common TLD.
func (d *detector) scanURLs() {
	s, low := d.s, d.low
	for _, p := range []string{"http://", "https://", "ftp://", "www."} {
		for off := 0; ; {
			k := strings.Index(low[off:], p)
			if k < 0 {
				break
			}
			a := off + k
			off = a + len(p)
			if wordChar(s, a-1) || p == "www." && a >= 3 && s[a-3:a] == "://" {
				continue
			}
			e := urlEnd(s, a)
			if e-a <= len(p)+2 {
				continue
			}
			d.add(TypeURL, 0.95, a, e)
			off = e
		}
	}
	// Bare domains such as "example.com/reset" or "shop.example.co.uk".
	if strings.IndexByte(s, '.') < 0 {
		return
	}
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) || wordChar(s, i-1) || i > 0 && (s[i-1] == '@' || s[i-1] == '.' || s[i-1] == '/') {
			i++
			continue
		}
		j := i
		for j < len(s) && (isAlnum(s[j]) || s[j] == '.' || s[j] == '-') {
			j++
		}
		host := low[i:j]
		for len(host) > 0 && (host[len(host)-1] == '.' || host[len(host)-1] == '-') {
			host = host[:len(host)-1]
		}
		he := i + len(host)
		if j < len(s) && s[j] == '@' || strings.Count(host, ".") == 0 {
			i = j + 1
			continue
		}
		tld := host[strings.LastIndexByte(host, '.')+1:]
		first := host[:strings.IndexByte(host, '.')]
		if commonTLDs[tld] && len(first) >= 2 && !allDigits(first) && !strings.Contains(host, "..") {
			e := he
			score := 0.75
			if he < len(s) && s[he] == '/' {
				e = urlEnd(s, he)
				score = 0.85
			}
			d.add(TypeURL, score, i, e)
			i = e
			continue
		}
		i = j + 1
	}
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// scanHexIDs finds MAC addresses (aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff)
// and IPv6 addresses (validated with net/netip).
func (d *detector) scanHexIDs() {
	s := d.s
	if strings.Count(s, ":") < 2 && strings.Count(s, "-") < 5 && strings.Count(s, ".") < 2 {
		return
	}
	for i := 0; i < len(s); {
		if !(isHex(s[i]) || s[i] == ':') || wordChar(s, i-1) || i > 0 && s[i-1] == ':' {
			i++
			continue
		}
		j := i
		for j < len(s) && (isHex(s[j]) || s[j] == ':' || s[j] == '-' || s[j] == '.') {
			j++
		}
		if wordChar(s, j) {
			for j < len(s) && wordChar(s, j) {
				j++
			}
			i = j
			continue
		}
		tok := s[i:j]
		for len(tok) > 0 && (tok[len(tok)-1] == '.' || tok[len(tok)-1] == '-' || tok[len(tok)-1] == ':') {
			tok = tok[:len(tok)-1]
		}
		if isMAC(tok) {
			d.add(TypeMAC, 0.9, i, i+len(tok))
		} else if strings.Count(tok, ":") >= 2 && len(tok) <= 45 {
			if ip, err := netip.ParseAddr(tok); err == nil && ip.Is6() && tok != "::" && !strings.HasPrefix(tok, ":::") {
				d.add(TypeIP, 0.9, i, i+len(tok))
			}
		}
		if j == i {
			j++
		}
		i = j
	}
}

func isMAC(t string) bool {
	if len(t) == 17 {
		sep := t[2]
		if sep != ':' && sep != '-' {
			return false
		}
		for k := 0; k < 17; k++ {
			if k%3 == 2 {
				if t[k] != sep {
					return false
				}
			} else if !isHex(t[k]) {
				return false
			}
		}
		return true
	}
	if len(t) == 14 && t[4] == '.' && t[9] == '.' { // Cisco aabb.ccdd.eeff
		for k := 0; k < 14; k++ {
			if k != 4 && k != 9 && !isHex(t[k]) {
				return false
			}
		}
		return true
	}
	return false
}

// ibanLengths maps IBAN country codes to total IBAN lengths (SWIFT registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
	"BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
	"EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
	"JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
	"MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
	"NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
	"SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}

// scanIBAN finds IBANs, compact or in groups of four separated by single
// spaces, and validates the country length and the mod-97 checksum.
func (d *detector) scanIBAN() {
	s := d.s
	for i := 0; i+4 <= len(s); i++ {
		if !isUpper(s[i]) || !isUpper(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) || wordChar(s, i-1) {
			continue
		}
		want, ok := ibanLengths[s[i:i+2]]
		if !ok {
			continue
		}
		var buf [40]byte
		n, j := 0, i
		for j < len(s) && n < want {
			c := s[j]
			if isUpper(c) || isDigit(c) {
				buf[n] = c
				n++
				j++
				continue
			}
			if c == ' ' && j+1 < len(s) && (isUpper(s[j+1]) || isDigit(s[j+1])) && n%4 == 0 {
				j++
				continue
			}
			break
		}
		if n != want || wordChar(s, j) {
			continue
		}
		if ibanMod97(buf[:n]) == 1 {
			d.add(TypeIBAN, 0.99, i, j)
			i = j - 1
		}
	}
}

// ibanMod97 computes the ISO 7064 mod-97 remainder of an IBAN.
func ibanMod97(iban []byte) int {
	r := 0
	feed := func(c byte) {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			v := int(c-'A') + 10
			r = (r*100 + v) % 97
		}
	}
	for _, c := range iban[4:] {
		feed(c)
	}
	for _, c := range iban[:4] {
		feed(c)
	}
	return r
}

// scanAWSAccessKeys finds AKIA/ASIA access key ids.
func (d *detector) scanAWSAccessKeys() {
	s := d.s
	for _, p := range []string{"AKIA", "ASIA"} {
		for off := 0; ; {
			k := strings.Index(s[off:], p)
			if k < 0 {
				break
			}
			a := off + k
			off = a + 4
			e := a + 20
			if e > len(s) || wordChar(s, a-1) || wordChar(s, e) {
				continue
			}
			ok := true
			for q := a + 4; q < e; q++ {
				if !isUpper(s[q]) && !isDigit(s[q]) {
					ok = false
					break
				}
			}
			if ok {
				d.add(TypeAWSAccessKey, 0.95, a, e)
				off = e
			}
		}
	}
}

// cueSpec describes an explicit "cue: value" pattern.
type cueSpec struct {
	typ   string
	score float64
	cues  []string
	valid func(v string) bool
	multi bool // value may be two tokens ("ABC 1234")
}

var cueSpecs = []cueSpec{
	{TypeUsername, 0.9, []string{"username", "user name", "user id", "userid", "user", "login", "login id", "handle", "screen name"}, validUsername, false},
	{TypePassword, 0.9, []string{"password", "passwd", "pwd", "passcode", "pass", "passphrase"}, validPassword, false},
	{TypeAWSSecretKey, 0.95, []string{"aws_secret_access_key", "secret access key", "secret_access_key", "aws secret key", "aws secret", "secret key", "secretaccesskey"}, validAWSSecret, false},
	{TypePIN, 0.85, []string{"pin", "pin code", "pin number"}, validPIN, false},
	{TypePassport, 0.9, []string{"passport", "passport number", "passport no", "passport #", "passport id"}, validDocID, false},
	{TypeDriverID, 0.9, []string{"driver's license", "drivers license", "driver license", "driver's licence", "driving licence", "driving license", "driver id", "dl", "dl#", "license number", "licence number", "license no"}, validDocID, false},
	{TypeLicensePlate, 0.9, []string{"license plate", "licence plate", "plate number", "plate", "registration plate", "number plate", "tag number", "plate no"}, validPlate, true},
}

// fillers may appear between a cue and its value.
var fillers = []string{"number", "no.", "no", "num", "#", "is", "was", "id", ":", "=", "-", "of", "my", "reads", "will be"}

// scanCueValues handles the explicit cue/value types.
func (d *detector) scanCueValues() {
	s, low := d.s, d.low
	for si := range cueSpecs {
		sp := &cueSpecs[si]
		for _, cue := range sp.cues {
			for off := 0; ; {
				k := strings.Index(low[off:], cue)
				if k < 0 {
					break
				}
				a := off + k
				off = a + len(cue)
				e := a + len(cue)
				if wordChar(low, a-1) || (isAlnum(cue[len(cue)-1]) && wordChar(low, e)) {
					continue
				}
				vs, ve := valueAfter(s, low, e, sp.multi)
				if vs < 0 || !sp.valid(s[vs:ve]) {
					if sp.multi && vs >= 0 { // try a single token
						vs, ve = valueAfter(s, low, e, false)
						if vs < 0 || !sp.valid(s[vs:ve]) {
							continue
						}
					} else {
						continue
					}
				}
				d.add(sp.typ, sp.score, vs, ve)
				off = ve
			}
		}
	}
}

// valueAfter skips fillers after position e and returns the next token
// (non-space run with trailing punctuation removed), or -1.
func valueAfter(s, low string, e int, multi bool) (int, int) {
	i := e
	for steps := 0; steps < 4; steps++ {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		skipped := false
		for _, f := range fillers {
			if strings.HasPrefix(low[i:], f) && (!isAlnum(f[len(f)-1]) || !wordChar(low, i+len(f))) {
				i += len(f)
				skipped = true
				break
			}
		}
		if !skipped {
			break
		}
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && (s[i] == '"' || s[i] == '\'' || s[i] == '`') {
		q := s[i]
		if k := strings.IndexByte(s[i+1:], q); k > 0 && k < 128 && !strings.ContainsAny(s[i+1:i+1+k], "\n") {
			return i + 1, i + 1 + k
		}
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	if multi && j+1 < len(s) && s[j] == ' ' {
		k := j + 1
		for k < len(s) && !isSpace(s[k]) {
			k++
		}
		if k-j-1 <= 5 {
			j = k
		}
	}
	for j > i && strings.IndexByte(".,;:!?)]}\"'", s[j-1]) >= 0 {
		j--
	}
	if j <= i || j-i > 128 {
		return -1, -1
	}
	return i, j
}

func hasDigit(v string) bool {
	for i := 0; i < len(v); i++ {
		if isDigit(v[i]) {
			return true
		}
	}
	return false
}

var notValues = map[string]bool{"and": true, "or": true, "the": true, "a": true, "an": true, "to": true, "for": true, "is": true, "are": true, "was": true, "it": true, "this": true, "that": true, "please": true, "reset": true, "not": true, "field": true, "here": true, "with": true, "in": true, "on": true, "at": true, "be": true, "has": true, "have": true, "expired": true, "incorrect": true, "wrong": true, "forgot": true, "changed": true, "required": true, "again": true}

func validUsername(v string) bool {
	if len(v) < 2 || len(v) > 64 || notValues[strings.ToLower(v)] {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(isAlnum(c) || c == '_' || c == '.' || c == '-' || c == '@') {
			return false
		}
	}
	return true
}

func validPassword(v string) bool {
	return len(v) >= 4 && len(v) <= 128 && !notValues[strings.ToLower(v)] && (hasDigit(v) || strings.ContainsAny(v, "!@#$%^&*_-+=?") || len(v) >= 6 && !allLetters(v) || allLetters(v) && len(v) >= 6 && !isCommonWord(v))
}

// isCommonWord is a tiny guard so "password reset" style text is not
// mistaken for a password value.
func isCommonWord(v string) bool {
	switch strings.ToLower(v) {
	case "manager", "policy", "protected", "change", "changes", "recovery", "expired", "expires", "please", "because", "doesn't", "before", "should", "twice", "strength", "length", "requirements", "incorrect", "invalid", "without", "update", "updated", "reset", "resets", "field", "during", "through", "problem", "issues", "issue":
		return true
	}
	return false
}

func validAWSSecret(v string) bool {
	if len(v) != 40 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(isAlnum(c) || c == '/' || c == '+' || c == '=') {
			return false
		}
	}
	return true
}

func validPIN(v string) bool { return len(v) >= 4 && len(v) <= 8 && allDigits(v) }

func validDocID(v string) bool {
	if len(v) < 5 || len(v) > 20 || !hasDigit(v) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

func validPlate(v string) bool {
	if len(v) < 2 || len(v) > 10 || !hasDigit(v) {
		return false
	}
	spaces := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			spaces++
			continue
		}
		if !isUpper(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return spaces <= 1
}
