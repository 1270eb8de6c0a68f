package models

import (
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/ml/explain"
	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// compiledExplainer is a model's explainer for one predictor and one
// explainer state; either changing (retraining, ML_EXPLAIN) rebuilds it.
type compiledExplainer struct {
	p *model.Predictor
	s *explain.State
	e *explain.Explainer
}

// Explainer returns the explainer of a ready model after the same checks
// as Predictor. Building one (parsing trees, encoding background rows) is
// done once per predictor and state.
func (m *Manager) Explainer(ctx *sql.Context, md *Model) (*explain.Explainer, error) {
	p, err := m.Predictor(ctx, md)
	if err != nil {
		return nil, err
	}
	m.mu.RLock()
	st, c := md.Explainer, md.explainer
	m.mu.RUnlock()
	if c != nil && c.p == p && c.s == st {
		return c.e, nil
	}
	var bg [][]any
	if st != nil {
		bg = st.Background
	}
	e, err := explain.New(p, bg)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	md.explainer = &compiledExplainer{p: p, s: st, e: e}
	m.mu.Unlock()
	return e, nil
}

// ExplainerState returns md's trained explainer state (nil: none).
func (m *Manager) ExplainerState(md *Model) *explain.State {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return md.Explainer
}

// SetExplainer stores md's trained explainers (ML_EXPLAIN) in a
// transaction of its own, as training results are stored: ML_TRAIN
// trains them right after its job wrote the model, which the statement's
// own transaction would conflict with.
func (m *Manager) SetExplainer(md *Model, st *explain.State) error {
	m.mu.Lock()
	md.Explainer = st
	m.mu.Unlock()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.persist(md)
}
