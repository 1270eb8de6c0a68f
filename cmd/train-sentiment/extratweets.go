package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment/sentdata"
)

// extraTweetFile is the one SemEval 2013–2016 file that the rebuilt tweet
// training set (sentiment_semeval2017_4a_tweets/train.tsv) leaves out,
// because TweetEval's own train/val does not use it (see that SOURCE.md).
// It is a training file of the same pool, so --extra-tweets may add it.
const extraTweetFile = "sentiment_semeval2017_4a_tweets/twitter-2016devtest-A.tsv"

var (
	mentionRE = regexp.MustCompile(`@\w+`)
	urlRE     = regexp.MustCompile(`https?://\S+|www\.\S+`)
	escRE     = regexp.MustCompile(`\\u[0-9a-fA-F]{4}|&[a-z]+;|&#[0-9]+;`)
)

// tweetKey is the normalised key train.tsv was deduplicated with (its
// SOURCE.md): lower-cased, URLs, \uXXXX escapes, HTML entities and
// non-alphanumerics removed, @mention → "user".
func tweetKey(s string) string {
	s = strings.ToLower(s)
	s = urlRE.ReplaceAllString(s, " ")
	s = escRE.ReplaceAllString(s, " ")
	s = mentionRE.ReplaceAllString(s, "user")
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// extraTweets reads extraTweetFile (tweet_id<TAB>label<TAB>text), keeps the
// first row of each id, anonymises mentions as train.tsv does, and drops
// every tweet whose key matches a tweet of TweetEval val or test (or of the
// training set already used) by the rule train.tsv was built with: the full
// key, or the first 40 characters of a key of at least 20. Evaluation text is
// read for this purpose only.
func extraTweets(dir string, avoid ...[]sentdata.Example) ([]sentdata.Example, int, error) {
	f, err := os.Open(filepath.Join(dir, extraTweetFile))
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	full := map[string]bool{}
	prefix := map[string]bool{}
	for _, set := range avoid {
		for _, e := range set {
			k := tweetKey(e.Text)
			full[k] = true
			if len(k) >= 20 {
				prefix[k[:min(40, len(k))]] = true
			}
		}
	}
	labels := map[string]int{"negative": sentdata.Negative, "neutral": sentdata.Neutral, "positive": sentdata.Positive}
	ids := map[string]bool{}
	var out []sentdata.Example
	dropped := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		parts := strings.SplitN(sc.Text(), "\t", 3)
		if len(parts) != 3 {
			return nil, 0, fmt.Errorf("%s:%d: want 3 columns", extraTweetFile, n)
		}
		y, ok := labels[parts[1]]
		if !ok {
			return nil, 0, fmt.Errorf("%s:%d: bad label %q", extraTweetFile, n, parts[1])
		}
		if ids[parts[0]] {
			continue
		}
		ids[parts[0]] = true
		text := strings.TrimSpace(mentionRE.ReplaceAllString(parts[2], "@user"))
		k := tweetKey(text)
		if full[k] || (len(k) >= 20 && prefix[k[:min(40, len(k))]]) {
			dropped++
			continue
		}
		out = append(out, sentdata.Example{Text: text, Label: y})
	}
	return out, dropped, sc.Err()
}
