package comprehend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/remote"
)

// endpointBackend sends sentiment requests to a text classifier behind a
// CREATE ENDPOINT endpoint (any protocol: a KServe v2 or SageMaker model,
// or an OpenAI-compatible chat model with a fixed PROMPT). Its answers are
// mapped to Comprehend's labels: a label such as "positive", "NEG" or
// "Mixed" (any case, prefix of the label), optionally with a score as JSON
// {"label": ..., "score": ...}. Without a score the label gets 1.
type endpointBackend struct {
	ml       *mlfunc.Manager
	endpoint string
}

func (b *endpointBackend) Name() string          { return "endpoint:" + b.endpoint }
func (b *endpointBackend) Remote() bool          { return true }
func (b *endpointBackend) MaxBatch(op Op) int    { return 1000 }
func (b *endpointBackend) Languages(Op) []string { return []string{"en"} }

func (b *endpointBackend) Analyze(ctx context.Context, op Op, _ string, texts []string) ([]any, error) {
	if op != OpSentiment {
		return nil, fmt.Errorf("backend %s answers sentiment only; use the local or comprehend backend for %s", b.Name(), op)
	}
	sctx, ok := ctx.(*sql.Context)
	if !ok || b.ml == nil {
		return nil, errors.New("endpoint backend needs a SQL session")
	}
	req := remote.Request{Columns: []string{"text"}, Rows: make([][]any, len(texts))}
	for i, t := range texts {
		req.Rows[i] = []any{t}
	}
	answers, _, err := b.ml.InvokeEndpoint(sctx, b.endpoint, req)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(answers))
	for i, a := range answers {
		s, err := sentimentOf(a)
		if err != nil {
			return nil, fmt.Errorf("endpoint '%s', document %d: %w", b.endpoint, i, err)
		}
		out[i] = s
	}
	return out, nil
}

// sentimentOf maps an endpoint's answer to a Comprehend sentiment.
func sentimentOf(answer any) (Sentiment, error) {
	text := strings.TrimSpace(fmt.Sprint(answer))
	score := 1.0
	if strings.HasPrefix(text, "{") {
		var doc struct {
			Label string   `json:"label"`
			Score *float64 `json:"score"`
		}
		if err := json.Unmarshal([]byte(text), &doc); err == nil && doc.Label != "" {
			text = doc.Label
			if doc.Score != nil && *doc.Score >= 0 && *doc.Score <= 1 {
				score = *doc.Score
			}
		}
	}
	norm := strings.ToUpper(strings.Trim(text, " .\"'"))
	for _, label := range []string{"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"} {
		if len(norm) >= 3 && strings.HasPrefix(label, norm) || norm == label {
			s := Sentiment{Sentiment: label}
			rest := (1 - score) / 3
			s.SentimentScore = SentimentScore{Positive: rest, Negative: rest, Neutral: rest, Mixed: rest}
			switch label {
			case "POSITIVE":
				s.SentimentScore.Positive = score
			case "NEGATIVE":
				s.SentimentScore.Negative = score
			case "NEUTRAL":
				s.SentimentScore.Neutral = score
			default:
				s.SentimentScore.Mixed = score
			}
			return s, nil
		}
	}
	if len(text) > 100 {
		text = text[:100] + "..."
	}
	return Sentiment{}, fmt.Errorf("answer %q is not a sentiment label (POSITIVE, NEGATIVE, NEUTRAL or MIXED)", text)
}
