package sqlext

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/privilege"
	"github.com/sibyldb/sibyldb/internal/sqlfunc"
)

// ModelStatements are Redshift ML's model statements:
//
//	CREATE MODEL [IF NOT EXISTS] [db.]name
//	    { FROM {table | (query)} [TARGET col] FUNCTION fn [(types)] [RETURNS type]
//	    | FROM 'file:///path' FUNCTION fn (types) RETURNS type
//	    | FUNCTION fn (types) RETURNS type SAGEMAKER 'endpoint' }
//	    [IAM_ROLE {default | 'arn'}] [AUTO {ON | OFF}] [MODEL_TYPE type]
//	    [PROBLEM_TYPE type] [OBJECTIVE 'name'] [PREPROCESSORS 'json']
//	    [HYPERPARAMETERS DEFAULT [EXCEPT (key 'value', ...)]]
//	    [SETTINGS (key value, ...)]
//	SHOW MODEL {ALL | [db.]name}
//	DROP MODEL [IF EXISTS] [db.]name
type ModelStatements struct {
	Manager    *models.Manager
	Privileges *privilege.Checker
}

var _ Statement = ModelStatements{}

// Keywords implements Statement.
func (s ModelStatements) Keywords() []string { return []string{"CREATE", "DROP", "SHOW", "ALTER"} }

// Parse implements Statement.
func (s ModelStatements) Parse(ctx context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	toks, err := Tokens(stmt)
	if err != nil || len(toks) < 3 {
		return nil, ast.AuthInformation{}, false, nil
	}
	c := &cursor{toks: toks}
	currentDB := sessionDB(ctx)
	ignore := ast.AuthInformation{AuthType: ast.AuthType_IGNORE}
	qualified := func() (string, string, error) {
		db, name, err := c.qualified()
		if err != nil {
			return "", "", err
		}
		if db == "" {
			db = currentDB
		}
		if db == "" {
			return "", "", mysql.NewSQLError(mysql.ERNoDb, "3D000", "No database selected")
		}
		return db, name, nil
	}
	switch {
	case c.accept("CREATE", "OR", "REPLACE", "MODEL"):
		spec, err := parseCreateModel(c, stmt)
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		if spec.DB == "" {
			spec.DB = currentDB
		}
		if spec.DB == "" {
			return nil, ast.AuthInformation{}, true, mysql.NewSQLError(mysql.ERNoDb, "3D000", "No database selected")
		}
		return s.createOrReplace(spec), ignore, true, nil

	case c.accept("ALTER", "MODEL"):
		db, name, err := qualified()
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		node, err := s.parseAlterModel(c, stmt, db, name)
		return node, ignore, true, err

	case c.accept("CREATE", "MODEL"), c.accept("CREATE", "EXTERNAL", "MODEL"):
		var spec *models.Spec
		if toks[1].Is("EXTERNAL") {
			spec, err = parseCreateExternalModel(c)
		} else {
			spec, err = parseCreateModel(c, stmt)
		}
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		if spec.DB == "" {
			spec.DB = currentDB
		}
		if spec.DB == "" {
			return nil, ast.AuthInformation{}, true, mysql.NewSQLError(mysql.ERNoDb, "3D000", "No database selected")
		}
		return &stmtNode{schema: types.OkResultSchema, desc: "CREATE MODEL " + spec.Name, run: requirePrivilege(s.Privileges, privilege.CreateModel, func(ctx *sql.Context) (sql.RowIter, error) {
			if err := s.mayCreateIn(ctx, spec.DB); err != nil {
				return nil, err
			}
			err := s.Manager.Create(ctx, spec, currentUser(ctx))
			if errors.Is(err, models.ErrExists) && spec.IfNotExists {
				ctx.Warn(mysql.ERUnknownError, "Model %s.%s already exists", spec.DB, spec.Name)
				return okResult(0), nil
			}
			if err != nil {
				return nil, modelError(err)
			}
			for _, clause := range spec.Ignored {
				ctx.Warn(mysql.ERUnknownError, "%s is accepted for compatibility and ignored: SibylDB trains in-process", clause)
			}
			return okResult(0), nil
		})}, ignore, true, nil

	case c.accept("DROP", "MODEL"):
		ifExists := c.accept("IF", "EXISTS")
		db, name, err := qualified()
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		if !c.done() {
			return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
		}
		return &stmtNode{schema: types.OkResultSchema, desc: "DROP MODEL " + name, run: func(ctx *sql.Context) (sql.RowIter, error) {
			md, ok := s.Manager.Get(db, name)
			if !ok {
				if ifExists {
					ctx.Warn(mysql.ERUnknownError, "Model %s.%s does not exist", db, name)
					return okResult(0), nil
				}
				return nil, modelError(fmt.Errorf("model %s.%s: %w", db, name, models.ErrNotFound))
			}
			if err := s.mayManage(ctx, md); err != nil {
				return nil, err
			}
			if _, err := s.Manager.Drop(ctx, db, name); err != nil {
				return nil, err
			}
			return okResult(0), nil
		}}, ignore, true, nil

	case c.accept("SHOW", "MODEL", "ALL"):
		if !c.done() {
			return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
		}
		return &stmtNode{readOnly: true, desc: "SHOW MODEL ALL",
			schema: sql.Schema{textCol("Schema Name"), textCol("Model Name"), textCol("Model State"), textCol("Function Name"), textCol("Owner")},
			run: func(ctx *sql.Context) (sql.RowIter, error) {
				var rows []sql.Row
				for _, md := range s.Manager.All() {
					if s.maySee(ctx, md) {
						rows = append(rows, sql.Row{md.DB, md.Name, s.Manager.State(md), md.Function, md.Owner})
					}
				}
				return sql.RowsToRowIter(rows...), nil
			}}, ignore, true, nil

	case c.accept("SHOW", "MODEL"):
		db, name, err := qualified()
		if err != nil {
			return nil, ast.AuthInformation{}, true, err
		}
		if c.accept("VERSIONS") {
			if !c.done() {
				return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
			}
			return s.showVersions(db, name), ignore, true, nil
		}
		if !c.done() {
			return nil, ast.AuthInformation{}, true, SyntaxError(c.near())
		}
		return &stmtNode{readOnly: true, desc: "SHOW MODEL " + name,
			schema: sql.Schema{textCol("Key"), textCol("Value")},
			run: func(ctx *sql.Context) (sql.RowIter, error) {
				md, ok := s.Manager.Get(db, name)
				if !ok || !s.maySee(ctx, md) {
					return nil, modelError(fmt.Errorf("model %s.%s: %w", db, name, models.ErrNotFound))
				}
				var rows []sql.Row
				for _, kv := range s.Manager.Describe(md) {
					rows = append(rows, sql.Row{kv[0], kv[1]})
				}
				return sql.RowsToRowIter(rows...), nil
			}}, ignore, true, nil
	}
	return nil, ast.AuthInformation{}, false, nil
}

// mayCreateIn checks that the session may put a model's objects in db: a
// model is used through the functions it defines there, so creating one
// needs what MySQL needs to create a function in db, CREATE ROUTINE (on
// the database or globally), besides CREATE MODEL. The system database
// holds SibylDB's own state and takes no user objects, whoever asks.
func (s ModelStatements) mayCreateIn(ctx *sql.Context, db string) error {
	if strings.EqualFold(db, catalog.Database) ||
		(s.Privileges != nil && !s.Privileges.HasOn(ctx, db, sql.PrivilegeType_CreateRoutine)) {
		return privilege.DatabaseDenied(ctx, db)
	}
	return nil
}

// maySee shows a model (and its training query) to its owner, to users
// with some privilege on its database, and to those granted EXECUTE on it;
// to others it does not exist.
func (s ModelStatements) maySee(ctx *sql.Context, md *models.Model) bool {
	return s.Privileges == nil || privilege.IsCurrentUser(ctx, md.Owner) ||
		s.Privileges.CanSeeDatabase(ctx, md.DB) || s.Privileges.CanExecute(ctx, md.DB, md.Function)
}

// mayManage allows a model's owner and super users to drop it.
func (s ModelStatements) mayManage(ctx *sql.Context, md *models.Model) error {
	if s.Privileges == nil || md.Owner == currentUser(ctx) || s.Privileges.Allowed(ctx, privilege.Account{}, "SUPER") {
		return nil
	}
	cl := ctx.Session.Client()
	return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
		"Access denied for user '%s'@'%s': only the owner of model '%s' (%s) or a SUPER user may drop it", cl.User, cl.Address, md.Name, md.Owner)
}

// parseCreateModel reads CREATE MODEL after its first two keywords.
func parseCreateModel(c *cursor, stmt string) (*models.Spec, error) {
	spec := &models.Spec{Auto: true, Hyperparameters: map[string]string{}, Settings: map[string]string{}}
	spec.IfNotExists = c.accept("IF", "NOT", "EXISTS")
	var err error
	if spec.DB, spec.Name, err = c.qualified(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for !c.done() {
		kw := strings.ToUpper(c.peek().Text)
		if c.peek().String {
			return nil, SyntaxError(c.near())
		}
		if seen[kw] {
			return nil, SyntaxError(c.near() + " (" + kw + " given twice)")
		}
		seen[kw] = true
		c.pos++
		switch kw {
		case "FROM":
			switch t := c.peek(); {
			case t.String:
				spec.FromURI = t.Text
				c.pos++
			case t.Text == "(":
				q, ok := c.parens(stmt)
				if !ok {
					return nil, SyntaxError("FROM (" + q)
				}
				spec.FromQuery = q
				if spec.FromQuery == "" {
					return nil, SyntaxError("FROM ()")
				}
			default:
				db, name, err := c.qualified()
				if err != nil {
					return nil, err
				}
				spec.FromTable = "`" + name + "`"
				if db != "" {
					spec.FromTable = "`" + db + "`." + spec.FromTable
				}
			}
		case "TARGET":
			if spec.Target, err = c.ident(); err != nil {
				return nil, err
			}
		case "FUNCTION":
			if spec.Function, err = c.ident(); err != nil {
				return nil, err
			}
			if c.accept("(") {
				spec.ParamTypes = []string{}
				for !c.accept(")") {
					if len(spec.ParamTypes) > 0 {
						if err := c.expect(","); err != nil {
							return nil, err
						}
					}
					t, err := c.typeText()
					if err != nil {
						return nil, err
					}
					spec.ParamTypes = append(spec.ParamTypes, t)
				}
			}
		case "RETURNS":
			if spec.Returns, err = c.typeText(createModelClauses...); err != nil {
				return nil, err
			}
		case "SAGEMAKER":
			if spec.SageMaker, err = c.str(); err != nil {
				return nil, err
			}
			if c.accept(":") {
				// 'endpoint':'model' names a model of a multi-model
				// endpoint; SibylDB's endpoints serve one.
				if _, err := c.str(); err != nil {
					return nil, err
				}
			}
		case "IAM_ROLE":
			if c.accept("DEFAULT") {
				spec.IAMRole = "default"
			} else if spec.IAMRole, err = c.str(); err != nil {
				return nil, err
			}
		case "AUTO":
			switch {
			case c.accept("ON"):
			case c.accept("OFF"):
				spec.Auto = false
			default:
				return nil, SyntaxError(c.near())
			}
		case "MODEL_TYPE":
			t, err := c.ident()
			if err != nil {
				return nil, err
			}
			spec.ModelType = strings.ToUpper(t)
			switch spec.ModelType {
			case model.XGBoost, model.LinearLearner, model.MLP, model.KMeans, model.RandomCutForest, models.ModelTypeForecast:
			default:
				return nil, modelError(fmt.Errorf("%w: unknown MODEL_TYPE %s (use XGBOOST, LINEAR_LEARNER, MLP, KMEANS, RANDOM_CUT_FOREST or FORECAST)", automl.ErrBadSetting, t))
			}
		case "PROBLEM_TYPE":
			t, err := c.ident()
			if err != nil {
				return nil, err
			}
			spec.ProblemType = strings.ToUpper(t)
			switch model.Problem(spec.ProblemType) {
			case model.Regression, model.Binary, model.Multiclass:
			default:
				return nil, modelError(fmt.Errorf("%w: unknown PROBLEM_TYPE %s (use REGRESSION, BINARY_CLASSIFICATION or MULTICLASS_CLASSIFICATION)", automl.ErrBadSetting, t))
			}
		case "OBJECTIVE":
			if spec.Objective, err = c.str(); err != nil {
				return nil, err
			}
		case "PREPROCESSORS":
			if _, err := c.str(); err != nil {
				return nil, err
			}
			spec.Ignored = append(spec.Ignored, "PREPROCESSORS")
		case "HYPERPARAMETERS":
			if err := c.expect("DEFAULT"); err != nil {
				return nil, err
			}
			if c.accept("EXCEPT") {
				if err := keyValues(c, spec.Hyperparameters); err != nil {
					return nil, err
				}
			}
		case "SETTINGS":
			if err := keyValues(c, spec.Settings); err != nil {
				return nil, err
			}
		default:
			return nil, SyntaxError(strings.Join([]string{kw, c.near()}, " "))
		}
	}
	return spec, checkCreateModel(spec)
}

// createModelClauses end a RETURNS type.
var createModelClauses = []string{"SAGEMAKER", "IAM_ROLE", "AUTO", "MODEL_TYPE", "PROBLEM_TYPE", "OBJECTIVE",
	"PREPROCESSORS", "HYPERPARAMETERS", "SETTINGS", "TARGET", "FROM", "FUNCTION"}

// parseCreateExternalModel reads Redshift ML's CREATE EXTERNAL MODEL after
// its first three words:
//
//	[IF NOT EXISTS] [db.]name FUNCTION fn IAM_ROLE {default | 'arn'}
//	    MODEL_TYPE BEDROCK SETTINGS (MODEL_ID 'id' [, PROMPT 'text']
//	    [, SUFFIX 'text'] [, REQUEST_TYPE {RAW | UNIFIED}]
//	    [, RESPONSE_TYPE {VARCHAR | SUPER}]) [ON ERROR NULL]
//
// the clauses in any order, FUNCTION, MODEL_TYPE and SETTINGS required.
// ON ERROR NULL (SibylDB's) is kept as the setting on_error.
func parseCreateExternalModel(c *cursor) (*models.Spec, error) {
	spec := &models.Spec{External: true, Settings: map[string]string{}}
	onErrorNull := false
	spec.IfNotExists = c.accept("IF", "NOT", "EXISTS")
	var err error
	if spec.DB, spec.Name, err = c.qualified(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for !c.done() {
		clause := strings.ToUpper(c.peek().Text)
		if c.peek().String || seen[clause] {
			return nil, SyntaxError(c.near())
		}
		seen[clause] = true
		switch {
		case c.accept("FUNCTION"):
			spec.Function, err = c.ident()
		case c.accept("IAM_ROLE"):
			if c.accept("DEFAULT") {
				spec.IAMRole = "default"
			} else {
				spec.IAMRole, err = c.str()
			}
		case c.accept("MODEL_TYPE"):
			spec.ModelType, err = c.ident()
			spec.ModelType = strings.ToUpper(spec.ModelType)
		case c.accept("SETTINGS"):
			err = keyValues(c, spec.Settings)
		case c.accept("ON", "ERROR"):
			err = c.expect("NULL")
			onErrorNull = true
		default:
			return nil, SyntaxError(c.near())
		}
		if err != nil {
			return nil, err
		}
	}
	if onErrorNull && len(spec.Settings) > 0 {
		spec.Settings["on_error"] = mlfunc.OnErrorNull
	}
	if spec.Function == "" || spec.ModelType == "" || len(spec.Settings) == 0 {
		return nil, modelError(fmt.Errorf("%w: FUNCTION, MODEL_TYPE and SETTINGS (MODEL_ID ...) are required", models.ErrBadExternal))
	}
	return spec, nil
}

// keyValues reads ( key value [, ...] ) with values written as strings,
// numbers or words (ON/OFF); keys are stored lower-case.
func keyValues(c *cursor, into map[string]string) error {
	if err := c.expect("("); err != nil {
		return err
	}
	for !c.accept(")") {
		if len(into) > 0 {
			if err := c.expect(","); err != nil {
				return err
			}
		}
		k, err := c.ident()
		if err != nil {
			return err
		}
		if c.done() || (!c.peek().String && strings.ContainsAny(c.peek().Text, "(),")) {
			return SyntaxError(c.near())
		}
		into[strings.ToLower(k)] = c.peek().Text
		c.pos++
	}
	return nil
}

// checkCreateModel enforces which clauses go together.
func checkCreateModel(s *models.Spec) error {
	bad := func(format string, args ...any) error {
		return modelError(fmt.Errorf("%w: "+format, append([]any{automl.ErrBadSetting}, args...)...))
	}
	if s.ModelType == models.ModelTypeForecast {
		// Redshift's forecasting models have no function: FORECAST(model)
		// reads them.
		switch {
		case s.FromTable == "" && s.FromQuery == "":
			return bad("MODEL_TYPE FORECAST needs FROM table or FROM (query)")
		case s.Target == "":
			return bad("MODEL_TYPE FORECAST needs TARGET column")
		case s.Function != "":
			return bad("MODEL_TYPE FORECAST takes no FUNCTION; read the forecast with SELECT * FROM FORECAST(model)")
		}
		return nil
	}
	if s.Function == "" {
		return bad("CREATE MODEL needs FUNCTION name")
	}
	unsupervised := s.ModelType == model.KMeans || s.ModelType == model.RandomCutForest
	switch {
	case s.SageMaker != "":
		if s.FromTable != "" || s.FromQuery != "" || s.FromURI != "" {
			return bad("a SAGEMAKER model takes no FROM")
		}
		if s.ParamTypes == nil || s.Returns == "" {
			return bad("a SAGEMAKER model needs FUNCTION %s (types) RETURNS type", s.Function)
		}
	case s.FromURI != "":
		if s.ParamTypes == nil || s.Returns == "" {
			return bad("a model from a file needs FUNCTION %s (types) RETURNS type", s.Function)
		}
		if s.Target != "" {
			return bad("a model from a file takes no TARGET")
		}
	case s.FromTable == "" && s.FromQuery == "":
		return bad("CREATE MODEL needs FROM table, FROM (query), FROM 'file:///path' or SAGEMAKER 'endpoint'")
	case unsupervised && s.Target != "":
		return bad("MODEL_TYPE %s takes no TARGET", s.ModelType)
	case !unsupervised && s.Target == "":
		return bad("CREATE MODEL needs TARGET column (only KMEANS and RANDOM_CUT_FOREST train without one)")
	case !s.Auto && s.ModelType == "":
		return bad("AUTO OFF needs MODEL_TYPE")
	}
	return nil
}

// modelError maps model errors to MySQL errors.
func modelError(err error) error {
	var sqlErr *mysql.SQLError
	if errors.As(err, &sqlErr) {
		return err
	}
	switch {
	case errors.Is(err, models.ErrExists):
		return mysql.NewSQLError(mysql.ERUnknownError, "HY000", "%s", err.Error())
	case errors.Is(err, models.ErrNoVersion), errors.Is(err, models.ErrNoRollback), errors.Is(err, models.ErrNotReady),
		errors.Is(err, models.ErrIncompatible):
		return mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "ALTER MODEL: %s", err.Error())
	case errors.Is(err, sqlfunc.ErrExists):
		return mysql.NewSQLError(1304, "42000", "%s", err.Error())
	case errors.Is(err, sqlfunc.ErrShadowsBuiltin):
		return mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "CREATE MODEL: %s (function names must not hide a built-in function)", err.Error())
	case errors.Is(err, automl.ErrEmpty), errors.Is(err, automl.ErrFewRows), errors.Is(err, automl.ErrBadTarget),
		errors.Is(err, automl.ErrBadSetting), errors.Is(err, models.ErrBadModelFile), errors.Is(err, models.ErrBadForecast),
		errors.Is(err, models.ErrBadExternal):
		return mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "CREATE MODEL: %s", err.Error())
	}
	// Errors of the training query (unknown table, access denied) keep
	// their identity; the server maps them to MySQL codes.
	return err
}
