package exec

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
	"github.com/dolthub/vitess/go/mysql"
)

// NoEgress is the column comment marker for data that must not leave the
// server: `ALTER TABLE t MODIFY ssn VARCHAR(11) COMMENT 'sibyl:no_egress'`.
const NoEgress = "sibyl:no_egress"

// RemoteInvoker is implemented by invokers that send data off the server
// (endpoint functions); in-process models may read any column.
type RemoteInvoker interface {
	Remote() bool
}

// checkEgress refuses, at planning time, a statement that would send a
// column marked NoEgress, directly or inside any expression, to a remote
// model. Nothing has been sent when it fails.
func checkEgress(n sql.Node, scope *plan.Scope) error {
	blocked := map[string]bool{}
	// The outer scope holds the tables a subquery or a trigger body reads
	// from outside (a trigger's NEW and OLD rows among them).
	roots := []sql.Node{n}
	if scope != nil {
		roots = append(roots, scope.InnerToOuter()...)
	}
	for _, root := range roots {
		walk(root, func(n sql.Node) bool {
			switch n.(type) {
			case *plan.ResolvedTable, *plan.TableAlias:
				for _, c := range n.Schema() {
					if strings.Contains(strings.ToLower(c.Comment), NoEgress) {
						blocked[strings.ToLower(c.Source+"."+c.Name)] = true
					}
				}
			}
			return true
		})
	}
	if len(blocked) == 0 {
		return nil
	}
	// Derived tables pass marked columns on under new names: a column of
	// a subquery alias whose projection reads a marked column is marked.
	for changed := true; changed; {
		changed = false
		walk(n, func(n sql.Node) bool {
			sa, ok := n.(*plan.SubqueryAlias)
			if !ok {
				return true
			}
			proj, ok := sa.Child.(*plan.Project)
			if !ok {
				return true
			}
			for i, e := range proj.Projections {
				if i >= len(sa.Schema()) {
					break
				}
				k := strings.ToLower(sa.Name() + "." + sa.Schema()[i].Name)
				if !blocked[k] && readsBlocked(e, blocked) {
					blocked[k], changed = true, true
				}
			}
			return true
		})
	}
	var err error
	walk(n, func(n sql.Node) bool {
		ex, ok := n.(sql.Expressioner)
		if !ok || err != nil {
			return err == nil
		}
		for _, e := range ex.Expressions() {
			transform.InspectExpr(e, func(e sql.Expression) bool {
				c, ok := e.(Call)
				if !ok || err != nil {
					return err != nil
				}
				if r, ok := c.Invoker().(RemoteInvoker); !ok || !r.Remote() {
					return false
				}
				for _, a := range c.Args() {
					if gf := blockedField(a, blocked); gf != nil {
						err = mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
							"column %s.%s is marked %s and cannot be sent to a remote model by %s",
							gf.Table(), gf.Name(), NoEgress, c.Invoker().Name())
					}
				}
				return err != nil
			})
		}
		return err == nil
	})
	return err
}

// blockedField returns a marked column e reads, if any.
func blockedField(e sql.Expression, blocked map[string]bool) *expression.GetField {
	var found *expression.GetField
	transform.InspectExpr(e, func(e sql.Expression) bool {
		if gf, ok := e.(*expression.GetField); ok && blocked[strings.ToLower(gf.Table()+"."+gf.Name())] {
			found = gf
		}
		return found != nil
	})
	return found
}

func readsBlocked(e sql.Expression, blocked map[string]bool) bool {
	return blockedField(e, blocked) != nil
}

// walk visits n and every node below it, derived tables included (GMS's
// transform.Inspect stops at opaque nodes such as subquery aliases).
func walk(n sql.Node, fn func(sql.Node) bool) {
	if !fn(n) {
		return
	}
	for _, c := range n.Children() {
		walk(c, fn)
	}
}
