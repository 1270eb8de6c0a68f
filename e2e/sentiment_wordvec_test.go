package e2e

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment/sentdata"
	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestSentimentAccuracyThroughSQL scores public sentiment test sets through
// the real server with aws_comprehend_detect_sentiment_scores /
// aws_comprehend_detect_sentiment and guards what the pretrained word vectors
// bought (issue 20): the model before them had SST-2 test 0.836, UCI 0.884,
// TweetEval macro-F1 0.622; with them 0.848, 0.894, 0.632 (MODEL.md). The
// floors sit just under the measured figures, above the old ones, so a
// regression to the model without word vectors fails. (Issue 20's targets
// were 0.85 and 0.64 for SST-2 and TweetEval: not met.) Binary rule:
// POSITIVE iff P(pos) >= P(neg); MIXED counts as NEUTRAL for TweetEval. It is
// skipped when the datasets are not present (not part of the repository).
func TestSentimentAccuracyThroughSQL(t *testing.T) {
	dir, err := sentdata.FindDir("")
	if err != nil {
		t.Skip("sentiment datasets not available:", err)
	}
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE senti")
	db := srv.DB("senti")
	mustExec(t, db, "CREATE TABLE texts (id INT PRIMARY KEY, label INT NOT NULL, body TEXT NOT NULL)")

	cases := []struct {
		name   string
		load   func() ([]sentdata.Example, error)
		binary bool    // binary accuracy, else 3-class macro-F1
		min    float64 // floor: above the model without word vectors
	}{
		{"SST-2 test accuracy", func() ([]sentdata.Example, error) { return sentdata.SST2(dir, "sst2_test.tsv") }, true, 0.845},
		{"UCI sentences accuracy", func() ([]sentdata.Example, error) { return sentdata.UCI(dir) }, true, 0.89},
		{"TweetEval test macro-F1", func() ([]sentdata.Example, error) { return sentdata.Tweets(dir, "sentiment_tweeteval/test.tsv") }, false, 0.63},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exs, err := c.load()
			require.NoError(t, err)
			mustExec(t, db, "DELETE FROM texts")
			insertTexts(t, db, exs)
			var got float64
			if c.binary {
				rows, err := db.Query("SELECT label, aws_comprehend_detect_sentiment_scores(body, 'en') FROM texts ORDER BY id")
				require.NoError(t, err)
				n, ok := 0, 0
				for rows.Next() {
					var label int
					var doc string
					require.NoError(t, rows.Scan(&label, &doc))
					var sc struct{ SentimentScore map[string]float64 }
					require.NoError(t, json.Unmarshal([]byte(doc), &sc), doc)
					pos := sc.SentimentScore["Positive"] >= sc.SentimentScore["Negative"]
					if pos == (label == sentdata.Positive) {
						ok++
					}
					n++
				}
				require.NoError(t, rows.Err())
				require.Equal(t, len(exs), n)
				got = float64(ok) / float64(n)
			} else {
				rows, err := db.Query("SELECT label, aws_comprehend_detect_sentiment(body, 'en') FROM texts ORDER BY id")
				require.NoError(t, err)
				var gold, pred []int
				for rows.Next() {
					var label int
					var s string
					require.NoError(t, rows.Scan(&label, &s))
					p := sentdata.Neutral
					switch s {
					case "POSITIVE":
						p = sentdata.Positive
					case "NEGATIVE":
						p = sentdata.Negative
					}
					gold, pred = append(gold, label), append(pred, p)
				}
				require.NoError(t, rows.Err())
				require.Len(t, gold, len(exs))
				got = sentdata.MacroF1(gold, pred, 3)
			}
			t.Logf("%s through SQL: %.4f (%d texts)", c.name, got, len(exs))
			require.GreaterOrEqual(t, got, c.min)
		})
	}
}

// insertTexts loads exs into texts(id, label, body) in multi-row batches.
func insertTexts(t *testing.T, db *sql.DB, exs []sentdata.Example) {
	t.Helper()
	const batch = 500
	for lo := 0; lo < len(exs); lo += batch {
		hi := min(lo+batch, len(exs))
		var sb strings.Builder
		args := make([]any, 0, 3*(hi-lo))
		sb.WriteString("INSERT INTO texts VALUES ")
		for i := lo; i < hi; i++ {
			if i > lo {
				sb.WriteByte(',')
			}
			sb.WriteString("(?,?,?)")
			args = append(args, i, exs[i].Label, exs[i].Text)
		}
		_, err := db.Exec(sb.String(), args...)
		require.NoError(t, err)
	}
}
