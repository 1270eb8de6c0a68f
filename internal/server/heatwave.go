package server

import (
	"context"
	"strings"

	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/heatwave"
	"github.com/sibyldb/sibyldb/internal/txlock"
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

// lockCreatedTable takes the running transaction's lock on db.table, a
// table its statement created and fills directly (ML_PREDICT_TABLE's
// output) instead of through the row writers that lock each row: X on the
// table, as LOAD DATA's bulk path takes. A second transaction writing the
// same new table waits for it, as it would for the rows, rather than both
// writing and the later commit failing; the transaction counts as having
// written, as with row writes.
func (c *txnControl) lockCreatedTable(ctx *sql.Context, db, table string) error {
	baseDB, _ := doltdb.SplitRevisionDbName(db)
	baseDB, table = strings.ToLower(baseDB), strings.ToLower(table)
	if err := c.lock(ctx, nil, txlock.X, txlock.DatabaseKey(baseDB), txlock.TableKey(baseDB, table), txlock.X); err != nil {
		return err
	}
	if st := c.sessions.get(ctx.Session.ID()); st != nil {
		st.txn.wrote.Store(true)
	}
	return nil
}
