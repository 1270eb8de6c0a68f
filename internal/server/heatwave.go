package server

import (
	"context"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/heatwave"
)

// registerHeatWave adds sys.ML_PREDICT_ROW and ML_EXPLAIN_ROW (GMS drops the sys qualifier,
// so the function is found by its bare name in every database).
func (s *Server) registerHeatWave(ctx context.Context) error {
	sqlCtx, err := s.NewContext(ctx)
	if err != nil {
		return err
	}
	defer sql.SessionEnd(sqlCtx.Session)
	if err := s.Functions.Register(sqlCtx, "", heatwave.PredictRow(s.Models)); err != nil {
		return err
	}
	return s.Functions.Register(sqlCtx, "", heatwave.ExplainRow(s.Models))
}
