package sentiment

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment/sentdata"
)

func TestDefaultClearExamples(t *testing.T) {
	m := Default()
	cases := []struct {
		text, want string
	}{
		{"I love this phone, it is absolutely wonderful!", Positive},
		{"Great food and friendly staff, highly recommended.", Positive},
		{"This is the worst movie I have ever seen.", Negative},
		{"Terrible service, I will never come back.", Negative},
		{"The food was not good.", Negative},
		{"not good", Negative},
		{"The meeting is scheduled for Tuesday at 3pm.", Neutral},
		{"The package contains two cables and a charger.", Neutral},
		{"The food was amazing but the service was terrible.", Mixed},
		{"The pasta was delicious, but the waiter was rude and slow.", Mixed},
	}
	for _, c := range cases {
		r := m.Detect(c.text)
		require.Equal(t, c.want, r.Sentiment, "%q: %+v", c.text, r.Scores)
	}
}

func TestScoresSumToOne(t *testing.T) {
	m := Default()
	for _, s := range []string{"", " ", "good", "bad bad bad", "😀😀", ":(", "\\u2019 &amp; <br />",
		"The food was amazing but the service was terrible.", string([]byte{0xff, 0xfe, 'a'}),
		"a very long text " + string(bytes.Repeat([]byte("word, but great; "), 5000))} {
		r := m.Detect(s)
		sc := r.Scores
		for _, v := range []float64{sc.Positive, sc.Negative, sc.Neutral, sc.Mixed} {
			require.True(t, v >= 0 && v <= 1 && !math.IsNaN(v), "%q: %+v", s, sc)
		}
		require.InDelta(t, 1, sc.Positive+sc.Negative+sc.Neutral+sc.Mixed, 1e-9, "%q", s)
		require.Equal(t, argmax(sc), r.Sentiment)
		require.InDelta(t, r.Confidence(), math.Max(math.Max(sc.Positive, sc.Negative), math.Max(sc.Neutral, sc.Mixed)), 1e-12)
	}
}

func TestLoadRoundTrip(t *testing.T) {
	p := Default().Params()
	var buf bytes.Buffer
	require.NoError(t, p.Encode(&buf))
	m, err := Load(bytes.NewReader(buf.Bytes()), nil)
	require.NoError(t, err)
	for _, s := range []string{"good", "The food was amazing but the service was terrible.", "meh"} {
		require.Equal(t, Default().Detect(s), m.Detect(s))
	}
	require.Equal(t, embedded, buf.Bytes(), "Encode is deterministic and matches the embedded file")
}

func TestLoadCorrupt(t *testing.T) {
	_, err := Load(bytes.NewReader(nil), nil)
	require.Error(t, err)
	_, err = Load(bytes.NewReader([]byte("not a gzip file at all")), nil)
	require.Error(t, err)
	// truncated compressed stream
	for _, n := range []int{10, 100, len(embedded) / 2, len(embedded) - 5} {
		_, err = Load(bytes.NewReader(embedded[:n]), nil)
		require.Error(t, err, "truncated at %d", n)
	}
	// valid gzip, corrupt payload
	zr, err := gzip.NewReader(bytes.NewReader(embedded))
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		w := gzip.NewWriter(&out)
		w.Write(b)
		w.Close()
		return out.Bytes()
	}
	for _, off := range []int{0, 9, 14, 40, 100, len(raw) / 2, len(raw) - 1} {
		bad := append([]byte(nil), raw...)
		bad[off] ^= 0x5a
		_, err = Load(bytes.NewReader(gz(bad)), nil)
		require.Error(t, err, "flipped byte %d", off)
	}
	for _, n := range []int{0, 20, 36, len(raw) / 3, len(raw) - 4, len(raw) - 1} {
		_, err = Load(bytes.NewReader(gz(raw[:n])), nil)
		require.Error(t, err, "payload truncated at %d", n)
	}
	_, err = Load(bytes.NewReader(gz(append(append([]byte(nil), raw...), 0))), nil)
	require.Error(t, err, "trailing data")
	// sane payload
	m, err := Load(bytes.NewReader(gz(raw)), nil)
	require.NoError(t, err)
	require.Equal(t, Positive, m.Detect("I love it, wonderful!").Sentiment)
}

func TestConcurrentDetect(t *testing.T) {
	m := Default()
	texts := []string{"good", "bad", "The food was amazing but the service was terrible.", "It is Tuesday.",
		"@user I can't believe how awful this is :(", "loved it!!! 😀", "not bad at all"}
	want := make([]Result, len(texts))
	for i, s := range texts {
		want[i] = m.Detect(s)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				k := (i + g) % len(texts)
				if got := m.Detect(texts[k]); got != want[k] {
					t.Errorf("concurrent Detect(%q) = %+v, want %+v", texts[k], got, want[k])
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func datasets(t *testing.T) string {
	dir, err := sentdata.FindDir("")
	if err != nil {
		t.Skip("sentiment datasets not available:", err)
	}
	return dir
}

// TestSST2TestAccuracy guards the shipped weights: SST-2 test accuracy with
// the binary rule must stay >= 0.845 (0.8484 measured with word vectors,
// 0.836 without).
func TestSST2TestAccuracy(t *testing.T) {
	exs, err := sentdata.SST2(datasets(t), "sst2_test.tsv")
	if err != nil {
		t.Skip(err)
	}
	m := Default()
	n := 0
	for _, e := range exs {
		if BinaryPositive(m.Detect(e.Text).Scores) == (e.Label == sentdata.Positive) {
			n++
		}
	}
	acc := float64(n) / float64(len(exs))
	t.Logf("SST-2 test accuracy %.4f", acc)
	require.GreaterOrEqual(t, acc, 0.845)
}

// TestTweetEvalMacroF1 guards TweetEval sentiment test macro-F1 >= 0.63
// (MIXED counted as NEUTRAL; 0.6318 measured with word vectors, 0.622
// without).
func TestTweetEvalMacroF1(t *testing.T) {
	exs, err := sentdata.Tweets(datasets(t), "sentiment_tweeteval/test.tsv")
	if err != nil {
		t.Skip(err)
	}
	m := Default()
	gold := make([]int, len(exs))
	pred := make([]int, len(exs))
	for i, e := range exs {
		gold[i] = e.Label
		switch m.Detect(e.Text).Sentiment {
		case Negative:
			pred[i] = sentdata.Negative
		case Positive:
			pred[i] = sentdata.Positive
		default:
			pred[i] = sentdata.Neutral
		}
	}
	f1 := sentdata.MacroF1(gold, pred, 3)
	t.Logf("TweetEval test macro-F1 %.4f", f1)
	require.GreaterOrEqual(t, f1, 0.63)
}

func TestDetectAllocs(t *testing.T) {
	m := Default()
	m.Detect("warm up")
	allocs := testing.AllocsPerRun(200, func() { m.Detect("The food was amazing but the service was terrible.") })
	require.LessOrEqual(t, allocs, 1.0)
}

var shortReviews = []string{
	"Good case, Excellent value.",
	"The food was amazing but the service was terrible.",
	"Waste of money, it broke after two days.",
	"I would definitely recommend this place to my friends.",
	"The movie was a bit too long but the acting was great.",
	"Not impressed with the battery life.",
}

func BenchmarkDetect(b *testing.B) {
	m := Default()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Detect(shortReviews[i%len(shortReviews)])
	}
}

func BenchmarkDetectParallel(b *testing.B) {
	m := Default()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Detect(shortReviews[i%len(shortReviews)])
			i++
		}
	})
}
