package comprehend

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/sibyldb/sibyldb/internal/ml/nlp/onnxtext"
)

// onnxBackend answers sentiment with a user-supplied ONNX transformer
// classifier (e.g. DistilBERT fine-tuned on SST-2) in-process: the model
// file, its tokenizer.json beside it, and optionally the config.json of a
// Hugging Face export, whose id2label names the outputs. Without labels, 2
// outputs are NEGATIVE, POSITIVE and 3 are NEGATIVE, NEUTRAL, POSITIVE.
type onnxBackend struct {
	model string

	mu     sync.Mutex
	clf    *onnxtext.Classifier
	labels []string
}

func (b *onnxBackend) Name() string    { return "onnx:" + b.model }
func (b *onnxBackend) Remote() bool    { return false }
func (b *onnxBackend) MaxBatch(Op) int { return 64 }
func (b *onnxBackend) Languages(Op) []string {
	// The model decides what it understands; accept Comprehend's codes.
	return (&AWS{}).Languages(OpSentiment)
}

// load opens the model on first use; a failure is not remembered, so a
// model put in place later is picked up.
func (b *onnxBackend) load() (*onnxtext.Classifier, []string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.clf != nil {
		return b.clf, b.labels, nil
	}
	dir := filepath.Dir(b.model)
	clf, err := onnxtext.Load(b.model, filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, nil, err
	}
	labels, err := onnxLabels(filepath.Join(dir, "config.json"), clf.Labels)
	if err != nil {
		clf.Close()
		return nil, nil, err
	}
	b.clf, b.labels = clf, labels
	return clf, labels, nil
}

// onnxLabels maps the model's outputs to Comprehend's labels.
func onnxLabels(configPath string, n int) ([]string, error) {
	labels := map[int][]string{2: {"NEGATIVE", "POSITIVE"}, 3: {"NEGATIVE", "NEUTRAL", "POSITIVE"}}[n]
	data, err := os.ReadFile(configPath)
	if err == nil {
		var cfg struct {
			ID2Label map[string]string `json:"id2label"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", configPath, err)
		}
		if len(cfg.ID2Label) > 0 {
			labels = make([]string, n)
			keys := make([]string, 0, len(cfg.ID2Label))
			for k := range cfg.ID2Label {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				i, err := strconv.Atoi(k)
				if err != nil || i < 0 || i >= n {
					return nil, fmt.Errorf("%s: id2label has %q for a model with %d outputs", configPath, k, n)
				}
				s, err := sentimentOf(cfg.ID2Label[k])
				if err != nil {
					return nil, fmt.Errorf("%s: label %d: %w", configPath, i, err)
				}
				labels[i] = s.Sentiment
			}
		}
	}
	for i, l := range labels {
		if l == "" {
			return nil, fmt.Errorf("output %d of the model has no sentiment label (add config.json with id2label)", i)
		}
	}
	if labels == nil {
		return nil, fmt.Errorf("a model with %d outputs needs config.json with id2label", n)
	}
	return labels, nil
}

func (b *onnxBackend) Analyze(ctx context.Context, op Op, _ string, texts []string) ([]any, error) {
	if op != OpSentiment {
		return nil, fmt.Errorf("backend %s answers sentiment only; use the local or comprehend backend for %s", b.Name(), op)
	}
	clf, labels, err := b.load()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	probs, err := clf.Probabilities(texts)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(texts))
	for i, p := range probs {
		s := Sentiment{}
		best := 0
		for k, v := range p {
			switch strings.ToUpper(labels[k]) {
			case "POSITIVE":
				s.SentimentScore.Positive += v
			case "NEGATIVE":
				s.SentimentScore.Negative += v
			case "NEUTRAL":
				s.SentimentScore.Neutral += v
			case "MIXED":
				s.SentimentScore.Mixed += v
			}
			if v > p[best] {
				best = k
			}
		}
		s.Sentiment = labels[best]
		out[i] = s
	}
	return out, nil
}
