package vector

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sibyldb/sibyldb/internal/ml/vector/stseval"
)

// datasets returns the STS Benchmark folder: $SIBYLDB_DATASETS, else
// ../shared/datasets beside the repository (where CI keeps them), else
// /work/shared/datasets; the test is skipped when none has it.
func datasets(t *testing.T) string {
	var cands []string
	if dir := os.Getenv("SIBYLDB_DATASETS"); dir != "" {
		cands = append(cands, dir)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		// file = <repo>/internal/ml/vector/embed_test.go
		cands = append(cands, filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "datasets"))
	}
	cands = append(cands, "/work/shared/datasets")
	for _, c := range cands {
		if _, err := os.Stat(filepath.Join(c, "sts_benchmark", "sick-relatedness.tsv")); err == nil {
			return filepath.Join(c, "sts_benchmark")
		}
	}
	t.Skipf("sts_benchmark not found in %v (set SIBYLDB_DATASETS)", cands)
	return ""
}

// TestLocalModelQuality: the Spearman correlation of the local model's
// cosine similarities with human scores on SICK relatedness, the
// development set, is 0.5913 (wordvec/MODEL.md). The floor sits just under
// it, so a broken words.bin, a mis-read format or a tokeniser that no
// longer matches the word list fails. The STS Benchmark test split is not
// read here: every look at it is recorded in MODEL.md, and
// bench/embedbench measures it.
func TestLocalModelQuality(t *testing.T) {
	dir := datasets(t)
	m, err := Local()
	if err != nil {
		t.Fatal(err)
	}
	sick, err := stseval.SICK(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sick) < 4900 {
		t.Fatalf("read %d SICK pairs", len(sick))
	}
	rho := stseval.Score(sick, func(s1, s2 string) float64 { return 1 - CosineDistance(m.Embed(s1), m.Embed(s2)) })
	t.Logf("Spearman on SICK: %.4f over %d pairs", rho, len(sick))
	if rho < 0.585 {
		t.Errorf("SICK Spearman %.4f < 0.585", rho)
	}
}

func TestEmbedBasics(t *testing.T) {
	m, err := Local()
	if err != nil {
		t.Fatal(err)
	}
	a := m.Embed("A refund for a broken phone")
	b := m.Embed("a REFUND  for a Broken phone")
	c := m.Embed("the weather in paris is sunny")
	if len(a) != 100 {
		t.Fatalf("dim %d", len(a))
	}
	if d := CosineDistance(a, b); d > 1e-6 {
		t.Errorf("case and punctuation changed the embedding: %v", d)
	}
	if CosineDistance(a, c) < CosineDistance(a, m.Embed("my phone screen broke, I want my money back")) {
		t.Error("unrelated text nearer than a paraphrase")
	}
	if z := m.Embed("qqqzzzxx"); SquaredL2(z, make([]float32, 100)) != 0 {
		t.Error("unknown words give the zero vector")
	}
}

func BenchmarkEmbed(b *testing.B) {
	m, _ := Local()
	texts := []string{"refund for a broken phone", "the delivery was late again", "great service, thank you", "where is my order?"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Embed(texts[i%len(texts)])
	}
}

// TestEmbedNeighbours: without any dataset, each text's paraphrase is
// nearer to it than texts on other subjects, across registers (support
// tickets, news, captions, forum questions).
func TestEmbedNeighbours(t *testing.T) {
	m, err := Local()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ text, paraphrase string }{
		{"refund for a broken phone", "my phone screen cracked and I want my money back"},
		{"A man is playing a guitar.", "A person plays the guitar on stage."},
		{"The stock market fell sharply on Monday.", "Shares dropped steeply at the start of the week."},
		{"How do I reset my password?", "I forgot my password and cannot log in."},
		{"Two dogs are running through the snow.", "A pair of dogs run across a snowy field."},
		{"The president met foreign leaders to discuss trade.", "Heads of state held talks on tariffs and commerce."},
		{"The soup was cold and the waiter was rude.", "Bad service and the food arrived cold."},
		{"A woman is slicing an onion in the kitchen.", "Someone is cutting vegetables with a knife."},
	}
	for i, c := range cases {
		a, p := m.Embed(c.text), m.Embed(c.paraphrase)
		dp := CosineDistance(a, p)
		for j, o := range cases {
			if j == i {
				continue
			}
			if d := CosineDistance(a, m.Embed(o.paraphrase)); d <= dp {
				t.Errorf("%q: %q (distance %.3f) is not nearer than %q (%.3f)", c.text, c.paraphrase, dp, o.paraphrase, d)
			}
		}
	}
}

// TestEmbedNegationClitics: clitics are split as GloVe's corpus was
// tokenised, so "don't" reads as "do not" rather than as an unknown word.
func TestEmbedNegationClitics(t *testing.T) {
	m, err := Local()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text  string
		words []string
	}{
		{"I don't like it", []string{"i", "do", "not", "like", "it"}},
		{"Can't, WON'T!", []string{"can", "not", ",", "will", "not", "!"}},
		{"it's John's", []string{"it", "'s", "john", "'s"}},
		{"rock'n'roll 3.5", []string{"rock", "'n", "'", "roll", "3", ".", "5"}},
	} {
		if got := Words(c.text); strings.Join(got, "|") != strings.Join(c.words, "|") {
			t.Errorf("Words(%q) = %q, want %q", c.text, got, c.words)
		}
	}
	if d := CosineDistance(m.Embed("I don't like it"), m.Embed("I do not like it")); d > 1e-6 {
		t.Errorf("%q and %q differ: %v", "don't", "do not", d)
	}
	if d := CosineDistance(m.Embed("I don't like it"), m.Embed("I do like it")); d < 1e-3 {
		t.Errorf("the negation is lost: %v", d)
	}
}

// TestLoadWordVectorsRejectsBadFiles: the loader checks the format
// version and lengths instead of reading garbage.
func TestLoadWordVectorsRejectsBadFiles(t *testing.T) {
	if _, err := loadSIF(append([]byte("SWV1"), wordsBin[4:]...)); err == nil || !strings.Contains(err.Error(), "SWV2") {
		t.Errorf("an SWV1 file: %v", err)
	}
	for _, n := range []int{0, 3, 12, len(wordsBin) / 2, len(wordsBin) - 1} {
		if _, err := loadSIF(wordsBin[:n]); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	m, err := loadSIF(wordsBin)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.index) != 100000 || m.Dim() != 100 {
		t.Errorf("%d words of %d dimensions, want 100000 of 100", len(m.index), m.Dim())
	}
}
