// Package comprehend implements Aurora MySQL's Amazon Comprehend functions
// (aws_comprehend_detect_sentiment and _confidence) and the other
// Comprehend operations as SQL functions, evaluated by the batched
// operator against a pluggable backend: in-process models by default (no
// setup, no network), real Amazon Comprehend, or a text classifier behind
// a CREATE ENDPOINT endpoint.
//
// Whatever the backend, the functions keep Comprehend's semantics: NULL
// in, NULL out; empty text, text over the operation's size limit (5,000
// bytes of UTF-8 for sentiment, 100,000 for the others, as Comprehend's
// real-time APIs) and invalid UTF-8 are errors; language codes are checked
// against what the backend supports; results have Comprehend's JSON shapes.
package comprehend

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
)

// Op is a Comprehend operation.
type Op string

// The operations.
const (
	OpSentiment   Op = "DetectSentiment"
	OpLanguage    Op = "DetectDominantLanguage"
	OpEntities    Op = "DetectEntities"
	OpKeyPhrases  Op = "DetectKeyPhrases"
	OpPII         Op = "DetectPiiEntities"
	OpContainsPII Op = "ContainsPiiEntities"
)

// maxBytes is each operation's document size limit in Comprehend's
// real-time API.
func (op Op) maxBytes() int {
	if op == OpSentiment {
		return 5000
	}
	return 100000
}

// SentimentScore is Comprehend's SentimentScore.
type SentimentScore struct {
	Positive float64 `json:"Positive"`
	Negative float64 `json:"Negative"`
	Neutral  float64 `json:"Neutral"`
	Mixed    float64 `json:"Mixed"`
}

// Sentiment is one document's DetectSentiment result.
type Sentiment struct {
	Sentiment      string         `json:"Sentiment"`
	SentimentScore SentimentScore `json:"SentimentScore"`
}

// Confidence is the probability of the returned label.
func (s Sentiment) Confidence() float64 {
	switch s.Sentiment {
	case "POSITIVE":
		return s.SentimentScore.Positive
	case "NEGATIVE":
		return s.SentimentScore.Negative
	case "NEUTRAL":
		return s.SentimentScore.Neutral
	}
	return s.SentimentScore.Mixed
}

// Language is one DetectDominantLanguage candidate.
type Language struct {
	LanguageCode string  `json:"LanguageCode"`
	Score        float64 `json:"Score"`
}

// Entity is a DetectEntities or DetectPiiEntities entity (PII entities
// have no Text). Offsets count characters.
type Entity struct {
	Score       float64 `json:"Score"`
	Type        string  `json:"Type"`
	Text        string  `json:"Text,omitempty"`
	BeginOffset int     `json:"BeginOffset"`
	EndOffset   int     `json:"EndOffset"`
}

// KeyPhrase is a DetectKeyPhrases phrase.
type KeyPhrase struct {
	Score       float64 `json:"Score"`
	Text        string  `json:"Text"`
	BeginOffset int     `json:"BeginOffset"`
	EndOffset   int     `json:"EndOffset"`
}

// Backend analyses documents. Analyze returns one result per text, in
// order: Sentiment, []Language, []Entity (entities and PII) or []KeyPhrase.
type Backend interface {
	// Name is the aws_comprehend_backend value selecting the backend.
	Name() string
	// Remote reports whether documents leave the server.
	Remote() bool
	// Languages are the language codes op accepts.
	Languages(op Op) []string
	// MaxBatch is the most documents one Analyze call of op may carry.
	MaxBatch(op Op) int
	Analyze(ctx context.Context, op Op, lang string, texts []string) ([]any, error)
}

// VarBackend selects the backend: local, comprehend, endpoint:NAME or
// onnx:/path/model.onnx.
const VarBackend = "aws_comprehend_backend"

// SystemVariables are the variables the functions read.
func SystemVariables(defaultBackend string) []sql.SystemVariable {
	if defaultBackend == "" {
		defaultBackend = "local"
	}
	return []sql.SystemVariable{&sql.MysqlSystemVariable{
		Name:    VarBackend,
		Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
		Dynamic: true,
		Type:    types.NewSystemStringType(VarBackend),
		Default: defaultBackend,
	}}
}

// Service owns the backends and makes the SQL functions.
type Service struct {
	// Authorize, when set, checks the session may use Comprehend
	// functions (INVOKE COMPREHEND); it runs before any row is read.
	Authorize func(ctx *sql.Context) error
	// ML accounts remote requests against the statement's limits and the
	// audit log, and resolves endpoint backends.
	ML *mlfunc.Manager

	local Backend

	mu       sync.Mutex
	aws      Backend
	awsErr   error
	awsOnce  sync.Once
	newAWS   func(context.Context) (Backend, error)
	backends map[string]Backend
}

// NewService returns a service whose local backend is local; newAWS
// connects to Amazon Comprehend on first use.
func NewService(local Backend, newAWS func(context.Context) (Backend, error)) *Service {
	return &Service{local: local, newAWS: newAWS, backends: map[string]Backend{}}
}

// backend is the backend aws_comprehend_backend selects now.
func (s *Service) backend(ctx context.Context) (Backend, error) {
	_, v, _ := sql.SystemVariables.GetGlobal(VarBackend)
	name, _ := v.(string)
	name = strings.TrimSpace(name)
	switch {
	case name == "" || strings.EqualFold(name, "local"):
		return s.local, nil
	case strings.EqualFold(name, "comprehend"):
		s.awsOnce.Do(func() { s.aws, s.awsErr = s.newAWS(context.WithoutCancel(ctx)) })
		if s.awsErr != nil {
			return nil, fmt.Errorf("%s = 'comprehend': %w", VarBackend, s.awsErr)
		}
		return s.aws, nil
	case strings.HasPrefix(strings.ToLower(name), "onnx:"):
		path := strings.TrimSpace(name[len("onnx:"):])
		s.mu.Lock()
		defer s.mu.Unlock()
		b, ok := s.backends["onnx:"+path]
		if !ok {
			b = &onnxBackend{model: path}
			s.backends["onnx:"+path] = b
		}
		return b, nil
	case strings.HasPrefix(strings.ToLower(name), "endpoint:"):
		ep := strings.TrimSpace(name[len("endpoint:"):])
		s.mu.Lock()
		defer s.mu.Unlock()
		b, ok := s.backends[strings.ToLower(ep)]
		if !ok {
			b = &endpointBackend{ml: s.ML, endpoint: ep}
			s.backends[strings.ToLower(ep)] = b
		}
		return b, nil
	}
	return nil, fmt.Errorf("%s = '%s' is not a backend (use 'local', 'comprehend', 'endpoint:NAME' or 'onnx:/path/model.onnx')", VarBackend, name)
}
