package vecsql

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/ml/vector"
)

// IndexDistance is MariaDB's VEC_DISTANCE(a, b): the distance of the vector
// index on whichever argument is an indexed column. The analyzer rule
// (resolveIndexDistance) fixes the metric once the columns are known; a
// call it could not resolve fails as MariaDB's does.
type IndexDistance struct {
	args     []sql.Expression
	resolved bool
	metric   vector.Metric
}

var _ sql.FunctionExpression = (*IndexDistance)(nil)

func (d *IndexDistance) Resolved() bool {
	for _, a := range d.args {
		if !a.Resolved() {
			return false
		}
	}
	return true
}
func (d *IndexDistance) Type() sql.Type             { return types.Float64 }
func (d *IndexDistance) IsNullable() bool           { return true }
func (d *IndexDistance) Children() []sql.Expression { return d.args }
func (d *IndexDistance) FunctionName() string       { return "vec_distance" }
func (d *IndexDistance) Description() string {
	return "distance by the metric of the argument column's vector index"
}
func (d *IndexDistance) String() string { return render("vec_distance", d.args) }

// WithChildren implements sql.Expression.
func (d *IndexDistance) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 2 {
		return nil, sql.ErrInvalidChildrenNumber.New(d, len(children), 2)
	}
	return &IndexDistance{args: children, resolved: d.resolved, metric: d.metric}, nil
}

// WithMetric returns the call bound to m.
func (d *IndexDistance) WithMetric(m vector.Metric) *IndexDistance {
	return &IndexDistance{args: d.args, resolved: true, metric: m}
}

// Metric is the bound metric, and whether one is bound.
func (d *IndexDistance) Metric() (vector.Metric, bool) { return d.metric, d.resolved }

// Eval implements sql.Expression.
func (d *IndexDistance) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	if !d.resolved {
		return nil, ErrNoVectorIndex()
	}
	vals, null, err := evalArgs(ctx, d.args, row)
	if err != nil || null {
		return nil, err
	}
	x, ok1 := binaryVector(vals[0])
	y, ok2 := binaryVector(vals[1])
	if !ok1 || !ok2 || len(x) != len(y) {
		return nil, nil
	}
	return nanNull(d.metric.Distance(x, y)), nil
}
