package entities

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func spans(text string) []string {
	var out []string
	for _, e := range Detect(text) {
		out = append(out, fmt.Sprintf("%s:%s", e.Type, e.Text))
	}
	return out
}

func TestDetectTable(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{"Jeff Bezos founded Amazon in Seattle in 1994.", []string{"PERSON:Jeff Bezos", "ORGANIZATION:Amazon", "LOCATION:Seattle", "DATE:1994"}},
		{"I bought an iPhone 12 Pro from Best Buy last Tuesday for $799.", []string{"COMMERCIAL_ITEM:iPhone 12 Pro", "ORGANIZATION:Best Buy", "DATE:last Tuesday", "QUANTITY:$799"}},
		{"Dr. Smith will speak at the Cannes Film Festival on May 5, 2024.", []string{"PERSON:Smith", "EVENT:Cannes Film Festival", "DATE:May 5, 2024"}},
		{"Acme Widgets Inc. opened an office in Berlin, Germany.", []string{"ORGANIZATION:Acme Widgets Inc", "LOCATION:Berlin", "LOCATION:Germany"}},
		{"The package weighs 3 kg and took two hours to arrive.", []string{"QUANTITY:3 kg", "QUANTITY:two hours"}},
		{"Prices rose 20% in the United States.", []string{"QUANTITY:20%", "LOCATION:United States"}},
		{"We watched the movie The Godfather yesterday.", []string{"TITLE:The Godfather", "DATE:yesterday"}},
		{"My favourite book is \"Pride and Prejudice\" by Jane Austen.", []string{"TITLE:Pride and Prejudice", "PERSON:Jane Austen"}},
		{"Great product. Shipping was fast. Would buy again.", nil},
		{"Excellent service! Highly recommend.", nil},
		{"She works at Globex and lives in Springfield.", []string{"ORGANIZATION:Globex", "LOCATION:Springfield"}},
		{"The World Cup final drew 1.5 billion viewers.", []string{"EVENT:World Cup", "QUANTITY:1.5 billion viewers"}},
		{"Meeting moved to 2024-03-05 at 10:30.", []string{"DATE:2024-03-05", "DATE:10:30"}},
		{"I have 2 kids and 3 dogs.", []string{"QUANTITY:2 kids", "QUANTITY:3 dogs"}},
		{"The Olympics were held in Paris.", []string{"EVENT:Olympics", "LOCATION:Paris"}},
		{"President Lincoln gave a speech during the Civil War.", []string{"PERSON:Lincoln", "EVENT:Civil War"}},
		{"It costs 20 euros, about 3 days ago.", []string{"QUANTITY:20 euros", "DATE:3 days ago"}},
		{"Café in São Paulo run by José Silva.", []string{"LOCATION:São Paulo", "PERSON:José Silva"}},
		{"I spoke with Microsoft support about Windows.", []string{"ORGANIZATION:Microsoft", "COMMERCIAL_ITEM:Windows"}},
		{"The British team won.", []string{"OTHER:British"}},
		{"", nil},
		{"   ", nil},
	}
	for _, c := range cases {
		got := spans(c.text)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Detect(%q)\n got  %q\n want %q", c.text, got, c.want)
		}
	}
}

func TestOffsets(t *testing.T) {
	text := "Ünïcödé text — visit Paris now"
	es := Detect(text)
	if len(es) != 1 || es[0].Text != "Paris" {
		t.Fatalf("got %+v", es)
	}
	rs := []rune(text)
	if string(rs[es[0].BeginOffset:es[0].EndOffset]) != "Paris" {
		t.Fatalf("bad offsets %+v", es[0])
	}
}

func TestInvariantsAndSpeed(t *testing.T) {
	var b strings.Builder
	for b.Len() < 50*1024 {
		b.WriteString("Jeff Bezos founded Amazon in Seattle in 1994. I paid $5 for 3 kg on Monday. ")
	}
	for _, text := range []string{b.String(), strings.Repeat("A ", 20000), strings.Repeat("$", 5000), "\xff\xfe Mr. \xff", strings.Repeat("\"A ", 3000)} {
		es := Detect(text)
		n := utf8.RuneCountInString(text)
		prev := 0
		for _, e := range es {
			if e.BeginOffset < prev || e.EndOffset > n || e.BeginOffset >= e.EndOffset || e.Score <= 0 || e.Score > 1 {
				t.Fatalf("bad entity %+v", e)
			}
			prev = e.EndOffset
		}
	}
}

func FuzzDetect(f *testing.F) {
	f.Add("Jeff Bezos founded Amazon in Seattle in 1994.")
	f.Add("\"A\" $ 5 % May 5th of June, 2024 «Titre»")
	f.Fuzz(func(t *testing.T, s string) {
		n := utf8.RuneCountInString(s)
		prev := 0
		for _, e := range Detect(s) {
			if e.BeginOffset < prev || e.EndOffset > n || e.BeginOffset >= e.EndOffset {
				t.Fatalf("bad entity %+v", e)
			}
			prev = e.EndOffset
		}
	})
}

const benchText = "I bought the new Samsung Galaxy S21 from Best Buy in Chicago last Tuesday for $799. Customer service was slow and Mr. Johnson said the refund takes 5 business days. Never again!"

func BenchmarkDetect(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	for i := 0; i < b.N; i++ {
		Detect(benchText)
	}
}
