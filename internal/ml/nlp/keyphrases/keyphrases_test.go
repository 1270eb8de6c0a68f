package keyphrases

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func texts(s string) []string {
	var out []string
	for _, k := range Detect(s) {
		out = append(out, k.Text)
	}
	return out
}

func TestDetectTable(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{"I love the new phone, but the battery life is terrible.", []string{"the new phone", "the battery life"}},
		{"The delivery took two hours and the driver was rude.", []string{"The delivery", "two hours", "the driver"}},
		{"We ordered a large pizza with extra cheese.", []string{"a large pizza", "extra cheese"}},
		{"My account was charged twice for the same order.", []string{"My account", "the same order"}},
		{"Customer service is great.", []string{"Customer service"}},
		{"The screen is very bright and the camera takes sharp photos.", []string{"The screen", "the camera", "sharp photos"}},
		{"It was shipped quickly.", nil},
		{"Great!", nil},
		{"", nil},
		{"Café au lait in São Paulo costs $5.", []string{"Café au lait", "São Paulo", "$5"}},
	}
	for _, c := range cases {
		got := texts(c.text)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Detect(%q)\n got  %q\n want %q", c.text, got, c.want)
		}
	}
}

func TestOffsetsAndScores(t *testing.T) {
	text := "Ünïcödé — the new phone rocks"
	rs := []rune(text)
	for _, k := range Detect(text) {
		if string(rs[k.BeginOffset:k.EndOffset]) != k.Text {
			t.Errorf("offset mismatch %+v", k)
		}
		if k.Score <= 0 || k.Score > 1 {
			t.Errorf("score %+v", k)
		}
	}
}

func FuzzDetect(f *testing.F) {
	f.Add("I love the new phone, but the battery life is terrible.")
	f.Add("$5 20% ’s don’t — \xff")
	f.Fuzz(func(t *testing.T, s string) {
		n := utf8.RuneCountInString(s)
		prev := 0
		for _, k := range Detect(s) {
			if k.BeginOffset < prev || k.EndOffset > n || k.BeginOffset >= k.EndOffset {
				t.Fatalf("bad phrase %+v", k)
			}
			prev = k.EndOffset
		}
	})
}

const benchText = "I bought the new Samsung Galaxy S21 last week. The battery life is great but the screen scratches easily and customer service took two days to answer my email."

func BenchmarkDetect(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	for i := 0; i < b.N; i++ {
		Detect(benchText)
	}
}
