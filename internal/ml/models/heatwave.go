package models

import (
	"context"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// This file gives the HeatWave AutoML routines (package heatwave) what
// they need of the model store: models found by handle, a wait for a
// training job (ML_TRAIN returns when training has finished), and the
// compiled predictor of a ready model.

// HandleOf is the HeatWave model handle of md: the handle ML_TRAIN gave
// it, or db.name for a model made by CREATE MODEL.
func HandleOf(md *Model) string {
	if md.Handle != "" {
		return md.Handle
	}
	return md.DB + "." + md.Name
}

// ByHandle finds a model by its HeatWave handle: an ML_TRAIN handle
// (compared exactly, as HeatWave stores handles in a VARCHAR key), or
// db.name of a CREATE MODEL model.
func (m *Manager) ByHandle(handle string) (*Model, bool) {
	m.mu.RLock()
	for _, md := range m.models {
		if md.Handle != "" && md.Handle == handle {
			m.mu.RUnlock()
			return md, true
		}
	}
	m.mu.RUnlock()
	if db, name, ok := strings.Cut(handle, "."); ok {
		if md, ok := m.Get(db, name); ok && md.Handle == "" {
			return md, true
		}
	}
	return nil, false
}

// Wait blocks until md's training job has ended or ctx is done (KILL
// QUERY of the waiting statement); the job itself runs on.
func (m *Manager) Wait(ctx context.Context, md *Model) error {
	m.mu.RLock()
	done := md.done
	m.mu.RUnlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Predictor returns a ready model's predictor after checking that the
// session may use the model (its owner, or EXECUTE on its function); the
// error is a MySQL error when the model is not ready or not allowed.
func (m *Manager) Predictor(ctx *sql.Context, md *Model) (*model.Predictor, error) {
	p, err := m.predictor(md)
	if err != nil {
		return nil, err
	}
	if m.Authorize != nil {
		if err := m.Authorize(ctx, md); err != nil {
			return nil, err
		}
	}
	return p, nil
}
