package server

import (
	"context"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/heatwave"
)

// registerHeatWave adds sys.ML_PREDICT_ROW (GMS drops the sys qualifier,
// so the function is found by its bare name in every database).
func (s *Server) registerHeatWave(ctx context.Context) error {
	sqlCtx, err := s.NewContext(ctx)
	if err != nil {
		return err
	}
	defer sql.SessionEnd(sqlCtx.Session)
	return s.Functions.Register(sqlCtx, "", heatwave.PredictRow(s.Models))
}
