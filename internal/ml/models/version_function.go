package models

import (
	"fmt"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/exec"
)

// VersionFunction is sibyl_predict('[db.]model', version, args...): the
// prediction of one version of a model, deployed or not, for comparing
// versions side by side. It takes the model's FUNCTION arguments and
// returns what the FUNCTION returns; version 0 is the deployed version.
// Model and version are constants. An unqualified model name must be
// unique across databases.
func (m *Manager) VersionFunction() sql.Function {
	return sql.FunctionN{Name: "sibyl_predict", Fn: func(args ...sql.Expression) (sql.Expression, error) {
		if len(args) < 2 {
			return nil, sql.ErrInvalidArgumentNumber.New("sibyl_predict", "at least 2", len(args))
		}
		name, okName := literal(args[0])
		ver, okVer := literal(args[1])
		if !okName || !okVer {
			return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "Incorrect arguments to sibyl_predict: the model and version must be constants")
		}
		var n int
		if _, err := fmt.Sscan(fmt.Sprint(ver), &n); err != nil || n < 0 {
			return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "Incorrect arguments to sibyl_predict: version '%v' is not a version number", ver)
		}
		md, err := m.lookup(fmt.Sprint(name))
		if err != nil {
			return nil, err
		}
		if md.Forecast != nil || md.Recommend != nil || md.SageMaker != "" || md.External {
			return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "Incorrect arguments to sibyl_predict: model '%s' has no versions", md.Name)
		}
		if len(args)-2 != len(md.Params) {
			return nil, mysql.NewSQLError(1318, mysql.SSClientError,
				"Incorrect number of arguments for sibyl_predict of model %s.%s; expected %d, got %d", md.DB, md.Name, len(md.Params)+2, len(args))
		}
		inv := &invoker{m: m, md: md, name: md.Function, out: outPredict, version: n, boundPid: unboundPid}
		return exec.NewFuncCall(inv, args[2:], md.resultType(outPredict), exec.FuncCallOptions{}), nil
	}}
}

func literal(e sql.Expression) (any, bool) {
	l, ok := e.(*expression.Literal)
	if !ok {
		return nil, false
	}
	return l.Value(), true
}

// lookup finds a model by 'db.name', or by a name unique across
// databases.
func (m *Manager) lookup(name string) (*Model, error) {
	if db, n, ok := strings.Cut(name, "."); ok {
		if md, ok := m.Get(db, n); ok {
			return md, nil
		}
		return nil, fmt.Errorf("model %s: %w", name, ErrNotFound)
	}
	var found *Model
	for _, md := range m.All() {
		if strings.EqualFold(md.Name, name) {
			if found != nil {
				return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "Incorrect arguments to sibyl_predict: model name '%s' is ambiguous; write 'db.%s'", name, name)
			}
			found = md
		}
	}
	if found == nil {
		return nil, fmt.Errorf("model %s: %w", name, ErrNotFound)
	}
	return found, nil
}
