package server

import (
	"time"

	"github.com/sibyldb/sibyldb/internal/metrics"
	"github.com/sibyldb/sibyldb/internal/sqlext"
)

// newMetrics builds the server's Prometheus metrics over its live
// figures; the ML functions report their endpoint requests to it.
func (s *Server) newMetrics() {
	s.Metrics = metrics.New(metrics.Sources{Status: s.Status, Functions: s.ML, Models: s.Models, Version: Version})
	s.ML.Observer = s.Metrics
}

// observeStatement records a statement's duration by kind; run defers it
// with the statement's start time and its error.
func (h *handler) observeStatement(query string, start time.Time, err *error) {
	if h.metrics != nil {
		h.metrics.ObserveStatement(sqlext.FirstKeyword(query), time.Since(start), *err != nil)
	}
}
