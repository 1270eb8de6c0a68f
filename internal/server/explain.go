package server

import (
	"context"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/planbuilder"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/sqlext"
)

// explainStatement parses EXPLAIN FORMAT=TREE and EXPLAIN ANALYZE [FORMAT=TREE]
// (and their DESCRIBE / DESC spellings) into exec.ExplainTree, which
// returns MySQL 8's one EXPLAIN column; GMS answers them in its own
// format under a "plan" column. Other EXPLAIN forms go to GMS.
type explainStatement struct {
	plan exec.Planner
	exec func() sql.NodeExecBuilder
}

func (explainStatement) Keywords() []string { return []string{"EXPLAIN", "DESCRIBE", "DESC"} }

// Matches implements sqlext.Prefilter: only EXPLAIN ANALYZE and FORMAT=...
// forms come here.
func (explainStatement) Matches(query string) bool {
	head := strings.ToUpper(query[:min(len(query), 80)])
	return strings.Contains(head, "ANALYZE") || strings.Contains(head, "FORMAT")
}

// Parse implements sqlext.Statement.
func (e explainStatement) Parse(_ context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	toks, err := sqlext.Tokens(stmt)
	if err != nil || len(toks) < 3 {
		return nil, ast.AuthInformation{}, false, nil
	}
	i, analyze := 1, false
	if toks[i].Is("ANALYZE") {
		analyze, i = true, i+1
	}
	if i+2 < len(toks) && toks[i].Is("FORMAT") && toks[i+1].Text == "=" {
		if !toks[i+2].Is("TREE") {
			return nil, ast.AuthInformation{}, false, nil // GMS answers or rejects the others
		}
		i += 3
	} else if !analyze {
		return nil, ast.AuthInformation{}, false, nil
	}
	if i >= len(toks) {
		return nil, ast.AuthInformation{}, false, nil
	}
	query := strings.TrimSpace(stmt[toks[i-1].End:])
	// The statement's own privileges are checked when it is planned.
	return &exec.ExplainTree{Query: query, Analyze: analyze, Plan: e.plan, Exec: e.exec()}, ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil
}

// planStatement binds and analyzes q in ctx's session, as the engine
// would before running it: the binder checks the session's privileges.
func (s *Server) planStatement(ctx *sql.Context, q string) (sql.Node, error) {
	parsed, _, _, err := s.engine.Parser.ParseWithOptions(ctx, q, ';', false, sql.LoadSqlMode(ctx).ParserOptions())
	if err != nil {
		return nil, err
	}
	binder := planbuilder.New(ctx, s.engine.Analyzer.Catalog, s.engine.EventScheduler)
	bound, flags, err := binder.BindOnly(parsed, q, nil)
	if err != nil {
		return nil, err
	}
	return s.engine.Analyzer.Analyze(ctx, bound, nil, flags)
}
