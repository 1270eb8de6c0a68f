package heatwave

import (
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/bulkload"
	"github.com/sibyldb/sibyldb/internal/status"
)

// FastPathVariable turns the direct table writer of ML_PREDICT_TABLE and
// ML_EXPLAIN_TABLE off (session or global), for comparison or should it
// misbehave: the output rows then go through the engine's inserts.
const FastPathVariable = "sibyl_ml_table_fast_path"

// SystemVariables are the variables this package reads.
func SystemVariables() []sql.SystemVariable {
	return []sql.SystemVariable{bulkload.SwitchVariable(FastPathVariable)}
}

func fastPathEnabled(ctx *sql.Context) bool { return bulkload.SwitchOn(ctx, FastPathVariable) }

func count(c *status.Counter) {
	if c != nil {
		c.Add(1)
	}
}
