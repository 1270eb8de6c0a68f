package server

import (
	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/s3io"
	"github.com/sibyldb/sibyldb/internal/sqlext"
	"github.com/sibyldb/sibyldb/internal/status"
)

// s3Statements wires SELECT INTO OUTFILE S3 and LOAD DATA FROM S3 to the
// engine: both run their inner statement in the caller's session, so its
// privileges, transaction and warnings apply.
func (s *Server) s3Statements() sqlext.Statement {
	svc := &s3io.Service{
		Query: s.Models.Query,
		Exec: func(ctx *sql.Context, q string, parsed ast.Statement) (sql.Schema, sql.RowIter, error) {
			schema, iter, _, err := s.engine.QueryWithBindings(ctx, q, parsed, nil, nil)
			return schema, iter, err
		},
		Plan: func(ctx *sql.Context, q string, parsed ast.Statement) (sql.Node, error) {
			return s.engine.BoundQueryPlan(ctx, q, parsed, nil)
		},
		FastLoads:   status.Global().Counter("Sibyl_load_data_fast"),
		SlowLoads:   status.Global().Counter("Sibyl_load_data_engine"),
		Privileges:  s.privileges,
		Credentials: s.storageCredentials,
	}
	// Models brought from S3 are read with the same clients and rules.
	s.Models.Fetch = svc.ReadObject
	return sqlext.S3Statements{Service: svc}
}
