package server

import (
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
)

// declareScoped makes the functions of Athena's USING EXTERNAL FUNCTION
// visible to the session's current statement.
func (s *Server) declareScoped(ctx *sql.Context, defs []*mlfunc.FunctionDef) error {
	fns := make([]sql.Function, len(defs))
	for i, d := range defs {
		fn, err := s.ML.ScopedFunction(d)
		if err != nil {
			return err
		}
		fns[i] = fn
	}
	return s.Functions.SetScoped(ctx, fns)
}

// finishStatement ends a statement: its scoped functions go, and its ML
// calls are audited.
func (s *Server) finishStatement(sessionID uint32, err error) {
	s.Functions.ClearScoped(sessionID)
	s.ML.FinishStatement(sessionID, err)
}
