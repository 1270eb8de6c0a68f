// Package plancache runs repeated executions of simple prepared statements
// from a plan analyzed once, instead of binding the statement's AST and
// running the whole analyzer again on every COM_STMT_EXECUTE (a third of
// the server's CPU on sysbench's oltp_point_select). It plugs into
// go-mysql-server through the Engine.PlanCache hook of
// patches/gms/0002-plan-cache-hook.patch; the engine still begins the
// transaction, counts Com_select, checks read-only mode and builds and
// finalizes the iterators for a cached plan, and SibylDB's handler still
// runs its locks, accounting, governor and process list around it. Only
// binding and analysis are skipped.
//
// # What is cached
//
// Three shapes. First, like TiDB's point-get plan, a primary-key point
// select,
//
//	SELECT <columns of the table or *> FROM <base table> WHERE pk1 = ? [AND pk2 = ? ...]
//
// whose WHERE names every primary-key column exactly once, each against a
// bind variable, with no other clause (no LIMIT, ORDER BY, GROUP BY,
// locking clause, subquery, function, user variable, index hint or AS OF).
// The statement is planned by GMS as always; its analyzed plan is kept
// only if it is exactly a Project (or nothing) over a static
// IndexedTableAccess on PRIMARY with no Filter left, and only if
// rebuilding the lookup from the same bind values with GMS's own range
// builder (sql.MySQLIndexBuilder.Equals, which the analyzer's costed index
// scan uses for `col = literal`: same conversions, float/decimal rounding
// to an empty range, out-of-range values to an empty range) reproduces the
// analyzer's plan exactly (compared by DebugString). A later execute
// builds the lookup for the new values the same way and substitutes it.
//
// Second, a vector search answered by vecsql's VectorIndexScan,
//
//	SELECT <columns or *> FROM <base table> ORDER BY <distance>(col, <expression of ?>) LIMIT <n>
//
// with every bind variable inside the ORDER BY call. The scan's analysis
// does not depend on the query vector's value, only on its being constant,
// so a later execute substitutes the new bound literals for the old ones
// (search.go). This is proved per statement when it is stored: the
// statement is planned again by GMS (Engine.BoundQueryPlan) with other
// values of the same types, and the substituted plan must equal that
// plan. mhnsw_ef_search is read by the scan when it runs, so it takes
// effect on cached plans too.
//
// Third, a primary-key range select (sysbench's simple, sum, order and
// distinct ranges),
//
//	SELECT [DISTINCT] <columns, or SUM/COUNT/MIN/MAX/AVG of a column> FROM <base table> WHERE pk BETWEEN ? AND ? [ORDER BY <columns>]
//
// on a one-column primary key, planned by GMS as a static
// IndexedTableAccess on PRIMARY with no Filter under Project, scalar
// GroupBy, Sort and Distinct nodes only. A later execute builds the range
// for the new bounds as the analyzer does (range.go). Store proves it by
// rebuilding with the same bounds and by planning other bounds with GMS.
//
// The key columns of point and range plans are cached only when both the
// column and the bound values are integers: for other pairs GMS keeps or
// drops the Filter above the scan depending on the value (a string that
// converts exactly, '7', loses it; 'abc' keeps it).
//
// With SIBYLDB_PLAN_CACHE_VERIFY=1 in the server's environment every hit
// is also planned by GMS and the statement fails when the plans differ;
// the e2e tests run so.
//
// Plans are kept per connection, per current database and statement text,
// and per the types of the bound values: GMS types each bound literal by
// its value (an integer gets the smallest integer type that holds it, a
// string, a decimal, NULL), and the type decides what the analyzer does
// (an int column compared with a string keeps a Filter, NULL folds
// differently), so a plan is reused only for bindings of the same types.
// Plans of any other shape, or that keep a Filter, are not cached.
//
// # When a cached plan is not used
//
//   - Every statement other than plain SELECT / INSERT / UPDATE / DELETE /
//     REPLACE / transaction control / SHOW (DDL, GRANT/REVOKE, user and role
//     statements, SET, CALL of any procedure (Dolt's included), USE,
//     PREPARE/DEALLOCATE, LOAD DATA, CREATE MODEL, ...) bumps a global
//     epoch before and after it runs (Invalidates); plans stored under an
//     older epoch are dropped. A plan stores the epoch read before it was
//     analyzed, so a plan analyzed while such a statement ran is stale
//     after it.
//   - Independently of the epoch, every reuse compares the table's schema
//     hash in the session's current root (the transaction's snapshot) with
//     the one the plan was built for, so a schema change from anywhere
//     (events, replication, another branch, DDL in a procedure) is seen.
//   - Every reuse repeats the privilege check binding would make (SELECT on
//     the table, through the engine's authorization handler, with SibylDB's
//     rules), so REVOKE takes effect at once; when it fails, the statement
//     is planned normally and fails there with MySQL's error. A passed
//     check is remembered for the account and the grant tables' version
//     (auth.go).
//   - COM_RESET_CONNECTION and the connection's end drop its plans.
//
// # Freshness
//
// A cached plan holds no data: Dolt's IndexedTableAccess reads the table
// from the session's working root when its partitions are opened
// (DoltTable.DoltTable -> Database.GetRoot -> the session's db state), so
// an autocommit execute sees the latest commit and an explicit REPEATABLE
// READ transaction keeps its snapshot, as with a fresh plan.
//
// Sibyl_plan_cache_hits and Sibyl_plan_cache_misses count executes served
// from a cached plan and executes with bind variables that were planned.
package plancache

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	gms "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/sqlext"
	"github.com/sibyldb/sibyldb/internal/status"
)

// maxPlansPerConn bounds one connection's cached plans; a connection over
// it starts again from empty (prepared statement sets are small).
const maxPlansPerConn = 256

// Cache is the plan cache. It implements the engine's PlanCache.
type Cache struct {
	engine *gms.Engine
	cat    sql.Catalog
	epoch  atomic.Uint64

	mu    sync.Mutex
	conns map[uint32]map[planKey][]*entry

	hits, misses *status.Counter

	// verify plans every hit afresh too and fails the statement when the
	// cached plan differs (SIBYLDB_PLAN_CACHE_VERIFY=1; for tests).
	verify bool
}

// VerifyEnv, set to 1 in the server's environment, makes every cache hit
// also plan the statement as GMS does and fail with an error when the
// cached plan is not the same. It doubles the planning work; tests use it
// to check the cache against GMS on every execute.
const VerifyEnv = "SIBYLDB_PLAN_CACHE_VERIFY"

// New returns a cache for engine's plans that counts into reg. The caller
// installs it as engine.PlanCache.
func New(engine *gms.Engine, reg *status.Registry) *Cache {
	return &Cache{
		engine: engine,
		cat:    engine.Analyzer.Catalog,
		conns:  map[uint32]map[planKey][]*entry{},
		hits:   reg.Counter("Sibyl_plan_cache_hits"),
		misses: reg.Counter("Sibyl_plan_cache_misses"),
		verify: os.Getenv(VerifyEnv) == "1",
	}
}

type planKey struct{ db, query string }

// entry is one cached plan.
type entry struct {
	epoch uint64
	// bindTypes are the types of the bound literals the plan was built for.
	bindTypes map[string]sql.Type
	plan      cachedPlan
	qFlags    sql.QueryFlags
}

// cachedPlan is an analyzed plan that can be made for other bindings.
type cachedPlan interface {
	// rebuild returns the plan for the bound literals lits, or an error
	// when it may not be reused (then the statement is planned afresh).
	rebuild(ctx *sql.Context, cat sql.Catalog, lits map[string]sql.Expression) (sql.Node, error)
}

// statement is the per-execute state the handler puts in the context:
// which connection runs it, and the epoch read when the plan was looked up.
type statement struct {
	connID uint32
	epoch  uint64
	looked bool
}

type ctxKey struct{}

// WithStatement marks ctx as a COM_STMT_EXECUTE of connection connID, the
// only statements the cache answers (internal statements are not cached).
func WithStatement(ctx context.Context, connID uint32) context.Context {
	return context.WithValue(ctx, ctxKey{}, &statement{connID: connID})
}

// Invalidate drops every cached plan (lazily: their epoch is now old).
func (c *Cache) Invalidate() { c.epoch.Add(1) }

// Forget drops connection connID's plans (COM_RESET_CONNECTION, close).
func (c *Cache) Forget(connID uint32) {
	c.mu.Lock()
	delete(c.conns, connID)
	c.mu.Unlock()
}

// Invalidates reports whether query is a statement after which cached
// plans may be wrong: anything but plain reads, row writes, transaction
// control and SHOW.
func Invalidates(query string) bool {
	switch sqlext.FirstKeyword(query) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE",
		"BEGIN", "START", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SHOW":
		return false
	}
	return true
}

// Lookup implements the engine's PlanCache.
func (c *Cache) Lookup(ctx *sql.Context, query string, bindings map[string]ast.Expr) (sql.Node, *sql.QueryFlags, error) {
	st, _ := ctx.Value(ctxKey{}).(*statement)
	if st == nil {
		return nil, nil, nil
	}
	st.epoch = c.epoch.Load()
	st.looked = true
	key := planKey{db: ctx.GetCurrentDatabase(), query: query}
	c.mu.Lock()
	cands := c.conns[st.connID][key]
	c.mu.Unlock()
	if len(cands) == 0 {
		c.misses.Add(1)
		return nil, nil, nil
	}
	lits, ok := bindLiterals(ctx, bindings)
	if !ok {
		c.misses.Add(1)
		return nil, nil, nil
	}
	for _, e := range cands {
		if e.epoch != st.epoch || !sameTypes(e.bindTypes, lits) {
			continue
		}
		n, err := e.plan.rebuild(ctx, c.cat, lits)
		if err != nil {
			// Stale schema, a privilege now missing, a value the range
			// builder refuses: plan it normally, which decides.
			c.drop(st.connID, key, e)
			break
		}
		if c.verify {
			if err := c.verifyHit(ctx, query, bindings, n); err != nil {
				return nil, nil, err
			}
		}
		c.hits.Add(1)
		flags := sql.QueryFlags{Flags: e.qFlags.Flags.Copy()}
		return n, &flags, nil
	}
	c.misses.Add(1)
	return nil, nil, nil
}

// Store implements the engine's PlanCache.
func (c *Cache) Store(ctx *sql.Context, query string, parsed ast.Statement, bindings map[string]ast.Expr, analyzed sql.Node, qFlags *sql.QueryFlags) {
	st, _ := ctx.Value(ctxKey{}).(*statement)
	if st == nil || !st.looked || parsed == nil {
		return
	}
	lits, ok := bindLiterals(ctx, bindings)
	if !ok {
		return
	}
	var p cachedPlan
	if pp, ok := newPointPlan(ctx, c.cat, parsed, analyzed, lits); ok {
		p = pp
	} else if rp, ok := newRangePlan(ctx, c, query, parsed, bindings, analyzed, lits); ok {
		p = rp
	} else if sp, ok := newSearchPlan(ctx, c, query, parsed, bindings, analyzed, lits); ok {
		p = sp
	} else {
		return
	}
	e := &entry{epoch: st.epoch, bindTypes: typesOf(lits), plan: p}
	if qFlags != nil {
		e.qFlags = sql.QueryFlags{Flags: qFlags.Flags.Copy()}
	}
	key := planKey{db: ctx.GetCurrentDatabase(), query: query}
	c.mu.Lock()
	defer c.mu.Unlock()
	plans := c.conns[st.connID]
	if plans == nil || len(plans) >= maxPlansPerConn {
		plans = map[planKey][]*entry{}
		c.conns[st.connID] = plans
	}
	var keep []*entry
	for _, old := range plans[key] {
		if old.epoch == e.epoch && !sameTypeMaps(old.bindTypes, e.bindTypes) {
			keep = append(keep, old)
		}
	}
	plans[key] = append(keep, e)
}

func (c *Cache) drop(connID uint32, key planKey, e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	plans := c.conns[connID]
	list := plans[key]
	for i, old := range list {
		if old == e {
			plans[key] = append(list[:i:i], list[i+1:]...)
			return
		}
	}
}

func sameTypes(want map[string]sql.Type, lits map[string]sql.Expression) bool {
	if len(want) != len(lits) {
		return false
	}
	for name, t := range want {
		l, ok := lits[name]
		if !ok || !t.Equals(l.Type()) || !strings.EqualFold(t.String(), l.Type().String()) {
			return false
		}
	}
	return true
}

func sameTypeMaps(a, b map[string]sql.Type) bool {
	if len(a) != len(b) {
		return false
	}
	for name, t := range a {
		u, ok := b[name]
		if !ok || !t.Equals(u) || t.String() != u.String() {
			return false
		}
	}
	return true
}

// verifyHit plans the statement as GMS does and requires the cached plan
// to be the same (VerifyEnv).
func (c *Cache) verifyHit(ctx *sql.Context, query string, bindings map[string]ast.Expr, cached sql.Node) error {
	parsed, ok := c.engine.PreparedDataCache.GetCachedStmt(ctx.Session.ID(), query)
	if !ok {
		return fmt.Errorf("plan cache verify: %q is not prepared", query)
	}
	fresh, err := c.engine.BoundQueryPlan(ctx, query, parsed, bindings)
	if err != nil {
		return fmt.Errorf("plan cache verify: a cached plan was used where GMS fails: %w", err)
	}
	if got, want := sql.DebugString(cached), sql.DebugString(fresh); got != want {
		return fmt.Errorf("plan cache verify: the cached plan\n%s\ndiffers from GMS's\n%s", got, want)
	}
	return nil
}
