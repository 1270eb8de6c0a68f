package vecsql

import (
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// binaryValue passes a binary string to a VECTOR column as its bytes.
// Drivers send a vector parameter as a string of bytes (go-sql-driver's
// []byte, PyMySQL's bytes); MySQL and MariaDB store such a string in a
// VECTOR column unchanged, while the engine refuses any string.
type binaryValue struct {
	expression.UnaryExpressionStub
}

var _ sql.Expression = (*binaryValue)(nil)

func (b *binaryValue) Type() sql.Type { return types.VectorType{} }
func (b *binaryValue) String() string { return b.Child.String() }
func (b *binaryValue) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 1 {
		return nil, sql.ErrInvalidChildrenNumber.New(b, len(children), 1)
	}
	return &binaryValue{expression.UnaryExpressionStub{Child: children[0]}}, nil
}

// Eval implements sql.Expression.
func (b *binaryValue) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	v, err := b.Child.Eval(ctx, row)
	if err != nil || v == nil {
		return v, err
	}
	if u, err := sql.UnwrapAny(ctx, v); err == nil {
		v = u
	}
	if s, ok := v.(string); ok {
		return []byte(s), nil
	}
	return v, nil
}

func isVector(t sql.Type) bool {
	_, ok := t.(types.VectorType)
	return ok
}

// stringish reports whether e may produce a string for a vector column: a
// text-typed expression or a parameter not yet bound.
func stringish(e sql.Expression) bool {
	if _, ok := e.(*expression.BindVar); ok {
		return true
	}
	if _, ok := e.(*binaryValue); ok {
		return false
	}
	return types.IsText(e.Type())
}

// wrapBinaryValues wraps values written to VECTOR columns by INSERT and
// UPDATE in binaryValue.
func wrapBinaryValues(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
	n, same, err := transform.Node(n, func(n sql.Node) (sql.Node, transform.TreeIdentity, error) {
		ins, ok := n.(*plan.InsertInto)
		if !ok {
			return n, transform.SameTree, nil
		}
		vals, ok := ins.Source.(*plan.Values)
		if !ok {
			return n, transform.SameTree, nil
		}
		schema := ins.Destination.Schema()
		colOf := func(i, width int) *sql.Column {
			if len(ins.ColumnNames) == width {
				if k := schema.IndexOfColName(ins.ColumnNames[i]); k >= 0 {
					return schema[k]
				}
				return nil
			}
			if width == len(schema) {
				return schema[i]
			}
			return nil
		}
		changed := false
		tuples := make([][]sql.Expression, len(vals.ExpressionTuples))
		for r, tuple := range vals.ExpressionTuples {
			tuples[r] = tuple
			copied := false
			for i, e := range tuple {
				col := colOf(i, len(tuple))
				if col == nil || !isVector(col.Type) || !stringish(e) {
					continue
				}
				if !copied {
					tuples[r] = append([]sql.Expression(nil), tuple...)
					copied = true
				}
				tuples[r][i] = &binaryValue{expression.UnaryExpressionStub{Child: e}}
				changed = true
			}
		}
		if !changed {
			return n, transform.SameTree, nil
		}
		nv := *vals
		nv.ExpressionTuples = tuples
		return ins.WithSource(&nv), transform.NewTree, nil
	})
	if err != nil {
		return nil, transform.SameTree, err
	}
	n2, same2, err := transform.NodeExprs(n, func(e sql.Expression) (sql.Expression, transform.TreeIdentity, error) {
		sf, ok := e.(*expression.SetField)
		if !ok || !isVector(sf.LeftChild.Type()) || !stringish(sf.RightChild) {
			return e, transform.SameTree, nil
		}
		return expression.NewSetField(sf.LeftChild, &binaryValue{expression.UnaryExpressionStub{Child: sf.RightChild}}), transform.NewTree, nil
	})
	if err != nil {
		return nil, transform.SameTree, err
	}
	return n2, same && same2, nil
}
