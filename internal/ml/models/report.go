package models

import "github.com/sibyldb/sibyldb/internal/ml/automl"

// Report is the training report of model db.name: its leaderboard and the
// chosen candidate's validation outputs, which the web console plots. It is
// nil while the model trains, for models not trained by SibylDB, and for
// unknown models. Callers decide who may see it (the console asks SHOW
// MODEL as the signed-in user first); a report is not changed once set.
func (m *Manager) Report(db, name string) *automl.Report {
	md, ok := m.Get(db, name)
	if !ok {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return md.Report
}
