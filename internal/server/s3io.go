package server

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/bulkload"
	"github.com/sibyldb/sibyldb/internal/s3io"
	"github.com/sibyldb/sibyldb/internal/sqlext"
	"github.com/sibyldb/sibyldb/internal/status"
)

// dataStatements wires SELECT INTO OUTFILE S3, LOAD DATA FROM S3 and
// LOAD DATA INFILE to the engine: they run their inner statement in the
// caller's session, so its privileges, transaction and warnings apply, and
// both loads share one bulk loader.
func (s *Server) dataStatements() []sqlext.Statement {
	loader := &bulkload.Runner{
		Plan: s.planLoad,
		Exec: func(ctx *sql.Context, q string, node sql.Node) (sql.RowIter, error) {
			_, iter, _, err := s.engine.PrepQueryPlanForExecution(ctx, q, node, nil)
			return iter, err
		},
		Fast:   status.Global().Counter("Sibyl_load_data_fast"),
		Engine: status.Global().Counter("Sibyl_load_data_engine"),
	}
	svc := &s3io.Service{
		Query:       s.Models.Query,
		Loader:      loader,
		Privileges:  s.privileges,
		Credentials: s.storageCredentials,
	}
	// Models brought from S3 are read with the same clients and rules.
	s.Models.Fetch = svc.ReadObject
	return []sqlext.Statement{sqlext.S3Statements{Service: svc}, sqlext.LoadData{Runner: loader, Privileges: s.privileges}}
}

// planLoad binds and analyzes a LOAD DATA statement as the engine's
// BoundQueryPlan does, but as the DML it is: the engine's binder does not
// flag LOAD DATA as an insert, so its analyzer would leave out the table's
// INSERT triggers, which MySQL fires for every loaded row.
func (s *Server) planLoad(ctx *sql.Context, q string, parsed ast.Statement) (sql.Node, error) {
	binder := planbuilder.New(ctx, s.engine.Analyzer.Catalog, s.engine.EventScheduler)
	bound, flags, err := binder.BindOnly(parsed, q, nil)
	if err != nil {
		return nil, err
	}
	flags.Set(sql.QFlagInsert)
	return s.engine.Analyzer.Analyze(ctx, bound, nil, flags)
}
