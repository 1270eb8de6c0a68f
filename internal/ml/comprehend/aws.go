package comprehend

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscomprehend "github.com/aws/aws-sdk-go-v2/service/comprehend"
	ctypes "github.com/aws/aws-sdk-go-v2/service/comprehend/types"
	"golang.org/x/sync/errgroup"

	"github.com/sibyldb/sibyldb/internal/recovered"
	"github.com/sibyldb/sibyldb/internal/remote"
)

// AWS calls Amazon Comprehend through aws-sdk-go-v2 with the standard
// credential chain; AWS_ENDPOINT_URL_COMPREHEND (or AWS_ENDPOINT_URL)
// points it at another server speaking the protocol.
type AWS struct {
	client *awscomprehend.Client
}

var _ Backend = (*AWS)(nil)

// NewAWS connects to Amazon Comprehend in the configured region.
func NewAWS(ctx context.Context) (Backend, error) {
	a, err := remote.LoadAWS(ctx)
	if err != nil {
		return nil, err
	}
	return &AWS{client: awscomprehend.NewFromConfig(a.Config())}, nil
}

// Name implements Backend.
func (*AWS) Name() string { return "comprehend" }

// Remote implements Backend.
func (*AWS) Remote() bool { return true }

// Languages implements Backend: Comprehend's languages per operation.
func (*AWS) Languages(op Op) []string {
	if op == OpPII || op == OpContainsPII {
		return []string{"en", "es"}
	}
	return []string{"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh", "zh-TW"}
}

// MaxBatch implements Backend: the batch APIs take 25 documents; the PII
// operations have no batch API.
func (*AWS) MaxBatch(op Op) int {
	if op == OpPII || op == OpContainsPII {
		return 1
	}
	return DefaultMaxBatch
}

// Analyze implements Backend.
func (a *AWS) Analyze(ctx context.Context, op Op, lang string, texts []string) ([]any, error) {
	out := make([]any, len(texts))
	lc := ctypes.LanguageCode(lang)
	switch op {
	case OpSentiment:
		res, err := a.client.BatchDetectSentiment(ctx, &awscomprehend.BatchDetectSentimentInput{TextList: texts, LanguageCode: lc})
		if err != nil {
			return nil, err
		}
		return collect(out, res.ResultList, res.ErrorList, func(r ctypes.BatchDetectSentimentItemResult) (*int32, any) {
			s := Sentiment{Sentiment: string(r.Sentiment)}
			if sc := r.SentimentScore; sc != nil {
				s.SentimentScore = SentimentScore{Positive: f32(sc.Positive), Negative: f32(sc.Negative), Neutral: f32(sc.Neutral), Mixed: f32(sc.Mixed)}
			}
			return r.Index, s
		})
	case OpLanguage:
		res, err := a.client.BatchDetectDominantLanguage(ctx, &awscomprehend.BatchDetectDominantLanguageInput{TextList: texts})
		if err != nil {
			return nil, err
		}
		return collect(out, res.ResultList, res.ErrorList, func(r ctypes.BatchDetectDominantLanguageItemResult) (*int32, any) {
			ls := make([]Language, len(r.Languages))
			for k, l := range r.Languages {
				ls[k] = Language{LanguageCode: aws.ToString(l.LanguageCode), Score: f32(l.Score)}
			}
			return r.Index, ls
		})
	case OpEntities:
		res, err := a.client.BatchDetectEntities(ctx, &awscomprehend.BatchDetectEntitiesInput{TextList: texts, LanguageCode: lc})
		if err != nil {
			return nil, err
		}
		return collect(out, res.ResultList, res.ErrorList, func(r ctypes.BatchDetectEntitiesItemResult) (*int32, any) {
			es := make([]Entity, len(r.Entities))
			for k, e := range r.Entities {
				es[k] = Entity{Score: f32(e.Score), Type: string(e.Type), Text: aws.ToString(e.Text),
					BeginOffset: int(aws.ToInt32(e.BeginOffset)), EndOffset: int(aws.ToInt32(e.EndOffset))}
			}
			return r.Index, es
		})
	case OpKeyPhrases:
		res, err := a.client.BatchDetectKeyPhrases(ctx, &awscomprehend.BatchDetectKeyPhrasesInput{TextList: texts, LanguageCode: lc})
		if err != nil {
			return nil, err
		}
		return collect(out, res.ResultList, res.ErrorList, func(r ctypes.BatchDetectKeyPhrasesItemResult) (*int32, any) {
			ks := make([]KeyPhrase, len(r.KeyPhrases))
			for k, p := range r.KeyPhrases {
				ks[k] = KeyPhrase{Score: f32(p.Score), Text: aws.ToString(p.Text),
					BeginOffset: int(aws.ToInt32(p.BeginOffset)), EndOffset: int(aws.ToInt32(p.EndOffset))}
			}
			return r.Index, ks
		})
	case OpPII, OpContainsPII:
		// No batch API: one request per document, a few at a time.
		var g errgroup.Group
		g.SetLimit(4)
		for i, t := range texts {
			recovered.Go(&g, func() error {
				res, err := a.client.DetectPiiEntities(ctx, &awscomprehend.DetectPiiEntitiesInput{Text: aws.String(t), LanguageCode: lc})
				if err != nil {
					return fmt.Errorf("document %d: %w", i, err)
				}
				es := make([]Entity, len(res.Entities))
				for k, e := range res.Entities {
					es[k] = Entity{Score: f32(e.Score), Type: string(e.Type),
						BeginOffset: int(aws.ToInt32(e.BeginOffset)), EndOffset: int(aws.ToInt32(e.EndOffset))}
				}
				out[i] = es
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("operation %s is not supported", op)
	}
	return complete(out)
}

// collect places a batch API's results by their document index, after
// turning its per-document errors into one error.
func collect[R any](out []any, results []R, errs []ctypes.BatchItemError, conv func(R) (*int32, any)) ([]any, error) {
	if err := batchErrors(errs); err != nil {
		return nil, err
	}
	for _, r := range results {
		idx, v := conv(r)
		i, err := index(idx, len(out))
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return complete(out)
}

// complete checks every document got a result.
func complete(out []any) ([]any, error) {
	for i, v := range out {
		if v == nil {
			return nil, fmt.Errorf("Comprehend returned no result for document %d", i)
		}
	}
	return out, nil
}

// batchErrors turns a batch's per-document errors into one error naming
// each failed document.
func batchErrors(list []ctypes.BatchItemError) error {
	if len(list) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(list))
	for _, e := range list {
		msgs = append(msgs, fmt.Sprintf("document %d: %s: %s", aws.ToInt32(e.Index), aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage)))
	}
	return fmt.Errorf("Comprehend rejected %d document(s): %s", len(list), strings.Join(msgs, "; "))
}

func index(i *int32, n int) (int, error) {
	if i == nil || *i < 0 || int(*i) >= n {
		return 0, fmt.Errorf("Comprehend returned a result for document %v of %d", aws.ToInt32(i), n)
	}
	return int(*i), nil
}

func f32(p *float32) float64 {
	if p == nil {
		return 0
	}
	return float64(*p)
}
