package comprehend

import (
	"context"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/entities"
	"github.com/sibyldb/sibyldb/internal/ml/nlp/keyphrases"
	"github.com/sibyldb/sibyldb/internal/ml/nlp/language"
	"github.com/sibyldb/sibyldb/internal/ml/nlp/pii"
	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment"
)

// Local analyses documents in-process with the models shipped in the
// binary (see the nlp packages). They are English models; dominant
// language detection covers the languages package language lists.
type Local struct{}

var _ Backend = Local{}

// Name implements Backend.
func (Local) Name() string { return "local" }

// Remote implements Backend: nothing leaves the server.
func (Local) Remote() bool { return false }

// Languages implements Backend.
func (Local) Languages(Op) []string { return []string{"en"} }

// MaxBatch implements Backend.
func (Local) MaxBatch(Op) int { return localBatch }

// Analyze implements Backend.
func (Local) Analyze(ctx context.Context, op Op, _ string, texts []string) ([]any, error) {
	out := make([]any, len(texts))
	model := sentiment.Default()
	for i, t := range texts {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch op {
		case OpSentiment:
			r := model.Detect(t)
			out[i] = Sentiment{Sentiment: r.Sentiment, SentimentScore: SentimentScore(r.Scores)}
		case OpLanguage:
			ls := language.Detect(t)
			res := make([]Language, len(ls))
			for k, l := range ls {
				res[k] = Language(l)
			}
			out[i] = res
		case OpEntities:
			es := entities.Detect(t)
			res := make([]Entity, len(es))
			for k, e := range es {
				res[k] = Entity{Score: e.Score, Type: e.Type, Text: e.Text, BeginOffset: e.BeginOffset, EndOffset: e.EndOffset}
			}
			out[i] = res
		case OpKeyPhrases:
			ks := keyphrases.Detect(t)
			res := make([]KeyPhrase, len(ks))
			for k, p := range ks {
				res[k] = KeyPhrase{Score: p.Score, Text: p.Text, BeginOffset: p.BeginOffset, EndOffset: p.EndOffset}
			}
			out[i] = res
		case OpPII, OpContainsPII:
			es := pii.Detect(t)
			res := make([]Entity, len(es))
			for k, e := range es {
				res[k] = Entity{Score: e.Score, Type: e.Type, BeginOffset: e.BeginOffset, EndOffset: e.EndOffset}
			}
			out[i] = res
		}
	}
	return out, nil
}
