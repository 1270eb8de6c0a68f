package sqlext

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// Model versions (see models/versions.go):
//
//	CREATE OR REPLACE MODEL [db.]name ...      -- version N+1 of an existing model
//	ALTER MODEL [db.]name RETRAIN [AS OF 'commit' | FROM {table | (query)}]
//	ALTER MODEL [db.]name DEPLOY VERSION n
//	ALTER MODEL [db.]name ROLLBACK
//	ALTER MODEL [db.]name SETTINGS (DEPLOY_POLICY 'best_score' | 'most_recent' | 'manual')
//	SHOW MODEL [db.]name VERSIONS

// parseAlterModel reads ALTER MODEL after the model's name.
func (s ModelStatements) parseAlterModel(c *cursor, stmt, db, name string) (sql.Node, error) {
	desc := "ALTER MODEL " + name
	var run func(ctx *sql.Context, md *models.Model) error
	switch {
	case c.accept("RETRAIN"):
		var query, asOf string
		switch {
		case c.accept("AS", "OF"):
			v, err := c.str()
			if err != nil {
				return nil, err
			}
			asOf = v
		case c.accept("FROM"):
			q, err := parseFromSource(c, stmt)
			if err != nil {
				return nil, err
			}
			query = q
		}
		run = func(ctx *sql.Context, md *models.Model) error {
			n, err := s.Manager.Retrain(ctx, md, query, asOf, nil)
			if err == nil {
				ctx.Warn(mysql.ERUnknownError, "Model %s.%s: version %d is training", md.DB, md.Name, n)
			}
			return err
		}
	case c.accept("DEPLOY", "VERSION"):
		n, err := c.integer()
		if err != nil {
			return nil, err
		}
		run = func(ctx *sql.Context, md *models.Model) error { return s.Manager.Deploy(md, n) }
	case c.accept("ROLLBACK"):
		run = func(ctx *sql.Context, md *models.Model) error {
			_, err := s.Manager.Rollback(md)
			return err
		}
	case c.accept("SETTINGS"):
		settings := map[string]string{}
		if err := keyValues(c, settings); err != nil {
			return nil, err
		}
		run = func(ctx *sql.Context, md *models.Model) error { return s.Manager.SetSettings(ctx, md, settings) }
	default:
		return nil, SyntaxError(c.near())
	}
	if !c.done() {
		return nil, SyntaxError(c.near())
	}
	return &stmtNode{schema: types.OkResultSchema, desc: desc, run: func(ctx *sql.Context) (sql.RowIter, error) {
		md, ok := s.Manager.Get(db, name)
		if !ok || !s.maySee(ctx, md) {
			return nil, modelError(fmt.Errorf("model %s.%s: %w", db, name, models.ErrNotFound))
		}
		if err := s.mayAlter(ctx, md); err != nil {
			return nil, err
		}
		if err := run(ctx, md); err != nil {
			return nil, modelError(err)
		}
		return okResult(0), nil
	}}, nil
}

// parseFromSource reads a FROM clause's table or (query) and returns the
// query it stands for.
func parseFromSource(c *cursor, stmt string) (string, error) {
	if c.peek().Text != "(" || c.peek().String {
		db, name, err := c.qualified()
		if err != nil {
			return "", err
		}
		if db != "" {
			return "SELECT * FROM `" + db + "`.`" + name + "`", nil
		}
		return "SELECT * FROM `" + name + "`", nil
	}
	q, ok := c.parens(stmt)
	if !ok {
		return "", SyntaxError("FROM (" + q)
	}
	if q == "" {
		return "", SyntaxError("FROM ()")
	}
	return q, nil
}

// createOrReplace is CREATE OR REPLACE MODEL: a new model when none has
// the name, else version N+1 of the existing one, trained with the new
// statement's query and settings (its FUNCTION and TARGET must stay).
func (s ModelStatements) createOrReplace(spec *models.Spec) sql.Node {
	return &stmtNode{schema: types.OkResultSchema, desc: "CREATE OR REPLACE MODEL " + spec.Name,
		run: requirePrivilege(s.Privileges, privilege.CreateModel, func(ctx *sql.Context) (sql.RowIter, error) {
			if err := s.mayCreateIn(ctx, spec.DB); err != nil {
				return nil, err
			}
			md, ok := s.Manager.Get(spec.DB, spec.Name)
			if !ok {
				if err := s.Manager.Create(ctx, spec, currentUser(ctx)); err != nil {
					return nil, modelError(err)
				}
				return okResult(0), nil
			}
			if err := s.mayAlter(ctx, md); err != nil {
				return nil, err
			}
			if !strings.EqualFold(md.Function, spec.Function) || !strings.EqualFold(md.Target, spec.Target) ||
				spec.FromURI != "" || spec.SageMaker != "" || spec.ModelType == models.ModelTypeForecast {
				return nil, modelError(fmt.Errorf("%w: CREATE OR REPLACE MODEL %s keeps FUNCTION %s and TARGET %s and trains from a table or query; DROP MODEL first to change them",
					models.ErrIncompatible, md.Name, md.Function, md.Target))
			}
			query := spec.FromQuery
			if query == "" {
				query = "SELECT * FROM " + spec.FromTable
			}
			n, err := s.Manager.Retrain(ctx, md, query, "", spec)
			if err != nil {
				return nil, modelError(err)
			}
			ctx.Warn(mysql.ERUnknownError, "Model %s.%s: version %d is training", md.DB, md.Name, n)
			return okResult(0), nil
		})}
}

// mayAlter allows a model's owner and SUPER users to change it, as
// mayManage does for DROP MODEL.
func (s ModelStatements) mayAlter(ctx *sql.Context, md *models.Model) error {
	if s.Privileges == nil || md.Owner == currentUser(ctx) || s.Privileges.Allowed(ctx, privilege.Account{}, "SUPER") {
		return nil
	}
	cl := ctx.Session.Client()
	return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
		"Access denied for user '%s'@'%s': only the owner of model '%s' (%s) or a SUPER user may alter it", cl.User, cl.Address, md.Name, md.Owner)
}

// showVersions is SHOW MODEL name VERSIONS.
func (s ModelStatements) showVersions(db, name string) sql.Node {
	num := func(n string) *sql.Column { return &sql.Column{Name: n, Type: types.Int64, Nullable: true} }
	flt := func(n string) *sql.Column { return &sql.Column{Name: n, Type: types.Float64, Nullable: true} }
	return &stmtNode{readOnly: true, desc: "SHOW MODEL " + name + " VERSIONS",
		schema: sql.Schema{num("Version"), textCol("State"), textCol("Deployed"), textCol("Data Versions"), textCol("Query"),
			num("Rows"), textCol("Objective"), flt("Validation Score"), flt("Comparison Score"), num("Comparison Rows"),
			textCol("Artifact SHA256"), textCol("Created By"), textCol("Created At"), textCol("Finished At"), textCol("Reason")},
		run: func(ctx *sql.Context) (sql.RowIter, error) {
			md, ok := s.Manager.Get(db, name)
			if !ok || !s.maySee(ctx, md) {
				return nil, modelError(fmt.Errorf("model %s.%s: %w", db, name, models.ErrNotFound))
			}
			deployed := s.Manager.DeployedVersion(md)
			var rows []sql.Row
			for _, v := range s.Manager.Versions(md) {
				lin := make([]string, len(v.Lineage))
				for i, t := range v.Lineage {
					lin[i] = t.String()
				}
				var objective, valid, cmp, cmpRows, finished any
				if v.Report != nil {
					objective, valid = v.Report.Objective, v.Report.Score
				}
				if v.CompareScore != nil {
					cmp, cmpRows = *v.CompareScore, int64(v.CompareRows)
				}
				if !v.Finished.IsZero() {
					finished = v.Finished.Format("2006-01-02 15:04:05.000000")
				}
				dep := "NO"
				if v.Number == deployed {
					dep = "YES"
				}
				q := v.Query
				if v.AsOf != "" {
					q += " AS OF '" + v.AsOf + "'"
				}
				rows = append(rows, sql.Row{int64(v.Number), v.State, dep, strings.Join(lin, ", "), q, int64(v.Rows),
					objective, valid, cmp, cmpRows, v.ArtifactSHA256, v.CreatedBy, v.Created.Format("2006-01-02 15:04:05.000000"), finished, v.Reason})
			}
			return sql.RowsToRowIter(rows...), nil
		}}
}
