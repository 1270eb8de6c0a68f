package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

var reviews = []string{
	"I love this phone, the battery lasts for days and the screen is gorgeous.",
	"Terrible product. It broke after two days and support never answered.",
	"The package arrived on Tuesday.",
	// A product sentence with praise and a complaint ("the camera is
	// excellent but the battery life is awful") is POSITIVE since the model
	// learned customer reviews' overall-tone labels (MODEL.md, known limits);
	// a sentence with two equally weighted opposite judgements is MIXED.
	"The food was amazing but the service was terrible.",
	"Absolutely fantastic, best purchase I have made this year!",
	"Worst customer service ever, I want a refund.",
}

// comprehendSetup starts a server with table shop.product_reviews(id,
// productCode, review_text) holding reviews, repeated n times.
func comprehendSetup(t *testing.T, n int, env ...string) (*testserver.Server, *sql.DB) {
	t.Helper()
	srv := testserver.StartWithEnv(t, env)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE shop",
		"CREATE TABLE shop.product_reviews (id INT PRIMARY KEY, productCode INT, review_text TEXT, ssn VARCHAR(11) COMMENT 'sibyl:no_egress')")
	var sb strings.Builder
	sb.WriteString("INSERT INTO shop.product_reviews VALUES ")
	for i := 0; i < n*len(reviews); i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "(%d, %d, '%s', '123-45-6789')", i, 1300+i%len(reviews)%3, strings.ReplaceAll(reviews[i%len(reviews)], "'", "''"))
	}
	mustExec(t, db, sb.String())
	return srv, srv.DB("shop", "multiStatements=true")
}

func TestComprehendFunctionsLocal(t *testing.T) {
	_, db := comprehendSetup(t, 1)
	labels := map[int]string{}
	rows, err := db.Query("SELECT id, aws_comprehend_detect_sentiment(review_text, 'en'), aws_comprehend_detect_sentiment_confidence(review_text, 'en') FROM product_reviews ORDER BY id")
	require.NoError(t, err)
	for rows.Next() {
		var id int
		var label string
		var conf float64
		require.NoError(t, rows.Scan(&id, &label, &conf))
		require.Greater(t, conf, 0.0)
		require.LessOrEqual(t, conf, 1.0)
		labels[id] = label
	}
	require.NoError(t, rows.Err())
	require.Equal(t, "POSITIVE", labels[0])
	require.Equal(t, "NEGATIVE", labels[1])
	require.Equal(t, "NEUTRAL", labels[2])
	require.Equal(t, "MIXED", labels[3])

	// Aurora's documented queries, as written.
	var avg sql.NullFloat64
	var count int
	require.NoError(t, db.QueryRow(`SELECT AVG(CASE aws_comprehend_detect_sentiment(p.review_text, 'en')
		WHEN 'POSITIVE' THEN 1.0 WHEN 'NEGATIVE' THEN -1.0 ELSE 0.0 END) AS avg_sentiment, COUNT(*) AS total
		FROM product_reviews p WHERE p.productCode = 1300 AND aws_comprehend_detect_sentiment_confidence(p.review_text, 'en', 10) >= 0.0`).Scan(&avg, &count))
	require.Equal(t, 2, count)
	require.True(t, avg.Valid)
	require.EqualValues(t, 2, queryInt(t, db, "SELECT COUNT(*) FROM product_reviews WHERE aws_comprehend.detect_sentiment(review_text, 'en') = 'NEGATIVE'"),
		"the qualified spelling works")

	var scores string
	require.NoError(t, db.QueryRow("SELECT aws_comprehend_detect_sentiment_scores(review_text, 'en') FROM product_reviews WHERE id = 0").Scan(&scores))
	var doc struct {
		Sentiment      string
		SentimentScore map[string]float64
	}
	require.NoError(t, json.Unmarshal([]byte(scores), &doc), scores)
	require.Equal(t, "POSITIVE", doc.Sentiment)
	sum := 0.0
	for _, k := range []string{"Positive", "Negative", "Neutral", "Mixed"} {
		sum += doc.SentimentScore[k]
	}
	require.InDelta(t, 1.0, sum, 1e-6)

	var null sql.NullString
	require.NoError(t, db.QueryRow("SELECT aws_comprehend_detect_sentiment(NULL, 'en')").Scan(&null))
	require.False(t, null.Valid, "NULL in, NULL out")

	var lang string
	require.NoError(t, db.QueryRow("SELECT aws_comprehend_detect_dominant_language('Bonjour, je voudrais réserver une table pour deux personnes ce soir.')").Scan(&lang))
	require.Contains(t, lang, `"LanguageCode": "fr"`)

	var pii, contains, redacted string
	text := "Call me at (555) 123-4567 or mail jane.doe@example.com; card 4111 1111 1111 1111, not 4111 1111 1111 1112."
	require.NoError(t, db.QueryRow("SELECT aws_comprehend_detect_pii_entities(?, 'en'), aws_comprehend_contains_pii_entities(?, 'en'), sibyl_redact_pii(?, 'en')", text, text, text).Scan(&pii, &contains, &redacted))
	require.Contains(t, pii, "CREDIT_DEBIT_NUMBER")
	require.Contains(t, pii, "EMAIL")
	require.Contains(t, contains, `"Name": "EMAIL"`)
	require.NotContains(t, redacted, "jane.doe@example.com")
	require.NotContains(t, redacted, "4111 1111 1111 1111")
	require.Contains(t, redacted, "4111 1111 1111 1112", "a number failing Luhn is not a card")
	require.Contains(t, redacted, "[EMAIL]")
	require.NoError(t, db.QueryRow("SELECT sibyl_redact_pii('mail jane.doe@example.com', 'en', '*')").Scan(&redacted))
	require.Equal(t, "mail ********************", redacted)

	var ents, phrases string
	require.NoError(t, db.QueryRow("SELECT aws_comprehend_detect_entities('Jeff Bezos founded Amazon in Seattle in 1994.', 'en'), aws_comprehend_detect_key_phrases('The new phone has a great battery life.', 'en')").Scan(&ents, &phrases))
	require.Contains(t, ents, `"Entities"`)
	require.Contains(t, ents, "Seattle")
	require.Contains(t, phrases, `"KeyPhrases"`)
	require.Contains(t, phrases, "battery life")

	for _, c := range []struct{ q, msg string }{
		{"SELECT aws_comprehend_detect_sentiment('', 'en')", "length greater than or equal to 1"},
		{"SELECT aws_comprehend_detect_sentiment(REPEAT('a', 5001), 'en')", "at most 5000 bytes"},
		{"SELECT aws_comprehend_detect_sentiment('hello', 'xx')", "supported: en"},
		{"SELECT aws_comprehend_detect_sentiment(X'C328', 'en')", "not valid UTF-8"},
		{"SELECT aws_comprehend_detect_sentiment('hello', 'en', 0)", "max_batch_size"},
		{"SELECT aws_comprehend_detect_sentiment('hello')", "aws_comprehend_detect_sentiment"},
	} {
		_, err := db.Exec(c.q)
		require.ErrorContains(t, err, c.msg, c.q)
	}
}

func TestComprehendPrivileges(t *testing.T) {
	srv, root := comprehendSetup(t, 1)
	mustExec(t, root, "CREATE USER reader IDENTIFIED BY 'pw'", "GRANT SELECT ON shop.* TO reader")
	reader := srv.Open(srv.DSN("reader", "pw", "shop"))
	_, err := reader.Exec("SELECT aws_comprehend_detect_sentiment(review_text, 'en') FROM product_reviews")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1227, num)
	require.ErrorContains(t, err, "INVOKE COMPREHEND", "the local backend is governed too")
	mustExec(t, root, "GRANT AWS_COMPREHEND_ACCESS TO reader")
	reader2 := srv.Open(srv.DSN("reader", "pw", "shop"))
	require.EqualValues(t, len(reviews), queryInt(t, reader2, "SELECT COUNT(aws_comprehend_detect_sentiment(review_text, 'en')) FROM product_reviews"))
}

// fakeComprehend speaks Amazon Comprehend's JSON protocol: documents
// containing "good" are POSITIVE, others NEGATIVE, and documents
// containing "REJECT" fail with a per-document error.
type fakeComprehend struct {
	mu       sync.Mutex
	targets  []string
	batches  []int
	auth     []string
	pii      int
	server   *httptest.Server
	failures int
}

func newFakeComprehend(t *testing.T) *fakeComprehend {
	f := &fakeComprehend{}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

func (f *fakeComprehend) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	var in struct {
		TextList     []string
		Text         string
		LanguageCode string
	}
	_ = json.Unmarshal(body, &in)
	f.mu.Lock()
	f.targets = append(f.targets, target)
	f.batches = append(f.batches, len(in.TextList))
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch target {
	case "Comprehend_20171127.BatchDetectSentiment":
		results, errs := []any{}, []any{}
		for i, txt := range in.TextList {
			if strings.Contains(txt, "REJECT") {
				errs = append(errs, map[string]any{"Index": i, "ErrorCode": "InternalServerException", "ErrorMessage": "cannot analyse"})
				continue
			}
			label, pos := "NEGATIVE", 0.1
			if strings.Contains(txt, "good") {
				label, pos = "POSITIVE", 0.9
			}
			results = append(results, map[string]any{"Index": i, "Sentiment": label,
				"SentimentScore": map[string]float64{"Positive": pos, "Negative": 1 - pos, "Neutral": 0, "Mixed": 0}})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ResultList": results, "ErrorList": errs})
	case "Comprehend_20171127.DetectPiiEntities":
		f.mu.Lock()
		f.pii++
		f.mu.Unlock()
		ents := []any{}
		if i := strings.Index(in.Text, "@"); i > 0 {
			ents = append(ents, map[string]any{"Type": "EMAIL", "Score": 0.99, "BeginOffset": 0, "EndOffset": len([]rune(in.Text))})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"Entities": ents})
	default:
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]any{"__type": "InvalidRequestException", "message": "unexpected " + target})
	}
}

func TestComprehendBackendBatchesAndSigns(t *testing.T) {
	fake := newFakeComprehend(t)
	const akid, secret, region = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-1"
	_, db := comprehendSetup(t, 10, "AWS_REGION="+region, "AWS_ACCESS_KEY_ID="+akid, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_ENDPOINT_URL_COMPREHEND="+fake.server.URL, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	mustExec(t, db, "UPDATE product_reviews SET review_text = CONCAT(review_text, ' #', id)",
		"UPDATE product_reviews SET review_text = CONCAT(review_text, ' good') WHERE id % 2 = 0")
	mustExec(t, db, "SET GLOBAL aws_comprehend_backend = 'comprehend'")

	n := 10 * len(reviews)
	require.EqualValues(t, n/2, queryInt(t, db, "SELECT SUM(aws_comprehend_detect_sentiment(review_text, 'en') = 'POSITIVE') FROM product_reviews"))
	fake.mu.Lock()
	batches, targets, auth := fake.batches, fake.targets, fake.auth
	fake.mu.Unlock()
	total := 0
	for i, b := range batches {
		require.Equal(t, "Comprehend_20171127.BatchDetectSentiment", targets[i])
		require.LessOrEqual(t, b, 25, "Comprehend takes at most 25 documents per batch")
		total += b
	}
	require.Equal(t, n, total, "each distinct document is sent once")
	require.Len(t, batches, (n+24)/25)
	m := regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request`).FindStringSubmatch(auth[0])
	require.NotNil(t, m, auth[0])
	require.Equal(t, []string{akid, region, "comprehend"}, m[1:])

	// max_batch_size caps requests further.
	fake.mu.Lock()
	fake.batches = nil
	fake.mu.Unlock()
	queryInt(t, db, "SELECT COUNT(aws_comprehend_detect_sentiment(CONCAT(review_text, '!'), 'en', 5)) FROM product_reviews")
	fake.mu.Lock()
	for _, b := range fake.batches {
		require.LessOrEqual(t, b, 5)
	}
	fake.mu.Unlock()

	// Per-document errors fail the statement and name the document.
	_, err := db.Exec("SELECT aws_comprehend_detect_sentiment('please REJECT this', 'en')")
	require.ErrorContains(t, err, "InternalServerException")
	// Comprehend's languages are accepted; no-egress columns are refused.
	_, err = db.Exec("SELECT aws_comprehend_detect_sentiment('bonjour good', 'fr')")
	require.NoError(t, err)
	_, err = db.Exec("SELECT aws_comprehend_detect_sentiment(ssn, 'en') FROM product_reviews")
	require.ErrorContains(t, err, "ssn")
	var redacted string
	require.NoError(t, db.QueryRow("SELECT sibyl_redact_pii('a@b.co', 'en')").Scan(&redacted))
	require.Equal(t, "[EMAIL]", redacted)

	// Audited like endpoint calls.
	require.Eventually(t, func() bool {
		return queryInt(t, db, "SELECT COUNT(*) FROM sibyl.ml_audit_log WHERE endpoint = 'comprehend'") > 0
	}, 10*time.Second, 100*time.Millisecond)

	mustExec(t, db, "SET GLOBAL aws_comprehend_backend = 'local'")
	var local string
	require.NoError(t, db.QueryRow("SELECT aws_comprehend_detect_sentiment(ssn, 'en') FROM product_reviews LIMIT 1").Scan(&local), "local models may read no-egress columns")
}

func TestComprehendEndpointBackendAndMixedBatching(t *testing.T) {
	model := testserver.StartModelServer(t)
	model.Set(func(b *testserver.Behaviour) {
		b.Score = func(row []*string) string {
			if len(row) == 1 && row[0] != nil && strings.Contains(strings.ToLower(*row[0]), "love") {
				return "positive"
			}
			if len(row) == 1 && row[0] != nil {
				return "Negative"
			}
			return ""
		}
	})
	_, db := comprehendSetup(t, 50)
	mustExec(t, db, fmt.Sprintf("CREATE ENDPOINT clf URL '%s' PROTOCOL SAGEMAKER", model.URL),
		"CREATE FUNCTION classify(t TEXT) RETURNS VARCHAR(20) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'clf'")

	// A query mixing a local Comprehend function and an endpoint function
	// batches both.
	model.Reset()
	var both int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM product_reviews
		WHERE aws_comprehend_detect_sentiment(review_text, 'en') = 'POSITIVE' AND classify(review_text) = 'positive'`).Scan(&both))
	require.Equal(t, 50, both, "the review that says love")
	require.LessOrEqual(t, model.Requests(), int64(2), "six distinct texts need one or two requests, not 300")
	var id, selType, table, partitions, typ, keys, key, keyLen, ref, rowsN, filtered, extra sql.NullString
	require.NoError(t, db.QueryRow("EXPLAIN SELECT aws_comprehend_detect_sentiment(review_text, 'en'), classify(review_text) FROM product_reviews").
		Scan(&id, &selType, &table, &partitions, &typ, &keys, &key, &keyLen, &ref, &rowsN, &filtered, &extra))
	require.Equal(t, "Batched machine learning", extra.String)

	mustExec(t, db, "SET GLOBAL aws_comprehend_backend = 'endpoint:clf'")
	var label string
	var conf float64
	require.NoError(t, db.QueryRow("SELECT aws_comprehend_detect_sentiment('I love it', 'en'), aws_comprehend_detect_sentiment_confidence('I love it', 'en')").Scan(&label, &conf))
	require.Equal(t, "POSITIVE", label)
	require.Equal(t, 1.0, conf)
	require.NoError(t, db.QueryRow("SELECT aws_comprehend_detect_sentiment('meh', 'en')").Scan(&label))
	require.Equal(t, "NEGATIVE", label)
	_, err := db.Exec("SELECT aws_comprehend_detect_entities('Paris', 'en')")
	require.ErrorContains(t, err, "sentiment only")
	mustExec(t, db, "SET GLOBAL aws_comprehend_backend = 'bogus'")
	_, err = db.Exec("SELECT aws_comprehend_detect_sentiment('x', 'en')")
	require.ErrorContains(t, err, "not a backend")
	mustExec(t, db, "SET GLOBAL aws_comprehend_backend = 'local'")
}

// TestComprehendONNXBackend runs a transformer-shaped ONNX classifier the
// test builds, with its tokenizer.json and a Hugging Face config.json,
// behind aws_comprehend_detect_sentiment.
func TestComprehendONNXBackend(t *testing.T) {
	_, db := comprehendSetup(t, 1)
	dir := t.TempDir()
	model, tok := testserver.ONNXTextClassifier()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tokenizer.json"), tok, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"id2label": {"0": "NEGATIVE", "1": "POSITIVE"}}`), 0o600))

	mustExec(t, db, fmt.Sprintf("SET GLOBAL aws_comprehend_backend = 'onnx:%s'", filepath.Join(dir, "model.onnx")))
	defer mustExec(t, db, "SET GLOBAL aws_comprehend_backend = 'local'")
	var label string
	var conf float64
	require.NoError(t, db.QueryRow("SELECT aws_comprehend_detect_sentiment('The movie was great', 'en'), aws_comprehend_detect_sentiment_confidence('The movie was great', 'en')").Scan(&label, &conf))
	require.Equal(t, "POSITIVE", label)
	require.InDelta(t, 1/(1+math.Exp(-2)), conf, 1e-6)
	rows, err := db.Query("SELECT id, aws_comprehend_detect_sentiment(CONCAT(review_text, IF(id % 2 = 0, ' awful awful', ' good good')), 'en') FROM product_reviews ORDER BY id")
	require.NoError(t, err)
	for rows.Next() {
		var id int
		require.NoError(t, rows.Scan(&id, &label))
		want := map[bool]string{true: "NEGATIVE", false: "POSITIVE"}[id%2 == 0]
		// "awful"/"good" twice outweigh any single opinion word of the review.
		require.Equal(t, want, label, "row %d", id)
	}
	require.NoError(t, rows.Err())

	_, err = db.Exec("SELECT aws_comprehend_detect_entities('Paris', 'en')")
	require.ErrorContains(t, err, "sentiment only")
	mustExec(t, db, fmt.Sprintf("SET GLOBAL aws_comprehend_backend = 'onnx:%s'", filepath.Join(dir, "missing.onnx")))
	_, err = db.Exec("SELECT aws_comprehend_detect_sentiment('good', 'en')")
	require.ErrorContains(t, err, "missing.onnx")
}
