package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// The plan cache (internal/server/plancache) serves repeated executes of
// prepared primary-key point selects from a plan analyzed once. These
// tests run prepared statements over the binary protocol
// (interpolateParams=false) and compare every cached execute with the same
// statement made uncacheable by an ORDER BY, which GMS plans afresh each
// time.

// stmtResult is a statement's outcome: its rows, or its MySQL error code.
type stmtResult struct {
	rows []string
	err  uint16
}

func (r stmtResult) String() string {
	if r.err != 0 {
		return fmt.Sprintf("error %d", r.err)
	}
	return strings.Join(r.rows, "; ")
}

func runPrepared(t *testing.T, ctx context.Context, conn *sql.Conn, query string, args ...any) stmtResult {
	t.Helper()
	stmt, err := conn.PrepareContext(ctx, query)
	if err != nil {
		code, _ := mysqlErr(t, err)
		return stmtResult{err: code}
	}
	defer stmt.Close()
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		code, _ := mysqlErr(t, err)
		return stmtResult{err: code}
	}
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out stmtResult
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		var parts []string
		for i, v := range vals {
			s := "NULL"
			if v.Valid {
				s = v.String
			}
			parts = append(parts, cols[i]+"="+s)
		}
		out.rows = append(out.rows, strings.Join(parts, ","))
	}
	if err := rows.Err(); err != nil {
		code, _ := mysqlErr(t, err)
		return stmtResult{err: code}
	}
	return out
}

func planCacheHits(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	return globalStatus(t, db, "Sibyl_plan_cache_hits")["Sibyl_plan_cache_hits"]
}

// requireCached plans query on conn, executes it five more times and
// requires all five (cached) or none of them to be plan cache hits, as
// admin reads the counter.
func requireCached(t *testing.T, ctx context.Context, conn *sql.Conn, admin *sql.DB, cached bool, query string, args ...any) {
	t.Helper()
	runPrepared(t, ctx, conn, query, args...) // plans it
	before := planCacheHits(t, admin)
	for i := 0; i < 5; i++ {
		require.Zero(t, runPrepared(t, ctx, conn, query, args...).err)
	}
	hits := planCacheHits(t, admin) - before
	if cached {
		require.Equal(t, int64(5), hits)
	} else {
		require.Zero(t, hits)
	}
}

// samePlanResults executes query (cacheable) and its uncacheable twin
// (query + suffix) with args, and requires equal outcomes.
func samePlanResults(t *testing.T, ctx context.Context, conn *sql.Conn, query, suffix string, args ...any) stmtResult {
	t.Helper()
	got := runPrepared(t, ctx, conn, query, args...)
	want := runPrepared(t, ctx, conn, query+suffix, args...)
	require.Equalf(t, want.String(), got.String(), "%s with %v", query, args)
	return got
}

// planCacheVerify makes the server plan every cache hit as GMS does too
// and fail the statement when the cached plan differs
// (plancache.VerifyEnv).
const planCacheVerify = "SIBYLDB_PLAN_CACHE_VERIFY=1"

// planCacheServer starts a server with the test tables; env is added to
// its environment.
func planCacheServer(t *testing.T, env ...string) (*testserver.Server, *sql.DB) {
	srv := testserver.StartWithEnv(t, env)
	admin := srv.DB("")
	mustExec(t, admin,
		"CREATE DATABASE pc", "CREATE DATABASE pc2",
		"CREATE TABLE pc.t1 (id INT PRIMARY KEY, c VARCHAR(20), k INT)",
		"CREATE TABLE pc.t2 (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b))",
		"CREATE TABLE pc.t3 (id TINYINT PRIMARY KEY, c INT)",
		"CREATE TABLE pc.u1 (id BIGINT UNSIGNED PRIMARY KEY, c INT)",
		"CREATE TABLE pc2.t1 (id INT PRIMARY KEY, c VARCHAR(20), k INT)",
		"INSERT INTO pc2.t1 VALUES (1, 'other', 1)",
		"INSERT INTO pc.t3 VALUES (-128, -1), (0, 0), (7, 7), (127, 127)",
		"INSERT INTO pc.u1 VALUES (0, 0), (7, 7), (18446744073709551615, 1)",
	)
	for i := -2; i <= 40; i++ {
		mustExec(t, admin, fmt.Sprintf("INSERT INTO pc.t1 VALUES (%d, 'c%d', %d)", i, i, i*i))
		mustExec(t, admin, fmt.Sprintf("INSERT INTO pc.t2 VALUES (%d, 'b%d', %d), (%d, 'x', %d)", i%5, i, i, i, -i))
	}
	return srv, admin
}

func TestPlanCacheResultsMatchUncached(t *testing.T) {
	// Every hit is also planned by GMS and must be the same plan.
	srv, admin := planCacheServer(t, planCacheVerify)
	ctx := context.Background()
	conn, err := srv.DB("pc", "interpolateParams=false").Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()

	values := []any{1, 5, 40, 41, -2, -3, 0, nil, "7", "abc", "7.0", " 8", 7.5, 7.0, 1e300,
		int64(math.MaxInt64), int64(math.MinInt64), uint64(math.MaxUint64), 1 << 40, 300, -129, 127, -128, []byte("9")}
	cases := []struct {
		name, query string
		args        func(v any) []any
	}{
		{"int pk", "SELECT c FROM t1 WHERE id = ?", func(v any) []any { return []any{v} }},
		{"star", "SELECT * FROM t1 WHERE id = ?", func(v any) []any { return []any{v} }},
		{"reversed", "SELECT k, c, id FROM t1 WHERE ? = id", func(v any) []any { return []any{v} }},
		{"qualified", "SELECT t1.c FROM pc.t1 WHERE t1.id = ?", func(v any) []any { return []any{v} }},
		{"tinyint pk", "SELECT c FROM t3 WHERE id = ?", func(v any) []any { return []any{v} }},
		{"unsigned pk", "SELECT c FROM u1 WHERE id = ?", func(v any) []any { return []any{v} }},
		{"composite", "SELECT v FROM t2 WHERE a = ? AND b = ?", func(v any) []any { return []any{v, "x"} }},
		{"composite reversed", "SELECT v FROM t2 WHERE b = ? AND a = ?", func(v any) []any { return []any{fmt.Sprint("b", v), 2} }},
	}
	before := planCacheHits(t, admin)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Twice over, so the second round runs from cached plans.
			for round := 0; round < 2; round++ {
				for _, v := range values {
					samePlanResults(t, ctx, conn, tc.query, " ORDER BY 1", tc.args(v)...)
				}
			}
		})
	}
	require.Greater(t, planCacheHits(t, admin)-before, int64(len(cases)*len(values)/2), "executes served from cached plans")

	// Found rows really are found (the comparison above is not vacuous).
	require.Equal(t, "c=c5", runPrepared(t, ctx, conn, "SELECT c FROM t1 WHERE id = ?", 5).String())
	require.Equal(t, "v=-3", runPrepared(t, ctx, conn, "SELECT v FROM t2 WHERE a = ? AND b = ?", 3, "x").String())
}

func TestPlanCacheCountsOnlyCachedShapes(t *testing.T) {
	srv, admin := planCacheServer(t)
	ctx := context.Background()
	conn, err := srv.DB("pc", "interpolateParams=false").Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	cases := []struct {
		query  string
		cached bool
	}{
		{"SELECT c FROM t1 WHERE id = ?", true},
		{"SELECT c FROM t1 WHERE id = ? ORDER BY c", false},
		{"SELECT c FROM t1 WHERE id = ? LIMIT 1", false},
		{"SELECT c FROM t1 WHERE k = ?", false},             // not the primary key
		{"SELECT c FROM t1 WHERE id = ? AND k = ?", false},  // more than the key
		{"SELECT v FROM t2 WHERE a = ?", false},             // part of the key
		{"SELECT UPPER(c) FROM t1 WHERE id = ?", false},     // an expression
		{"SELECT c FROM t1 WHERE id = ? FOR UPDATE", false}, // locking read
		{"SELECT c FROM t1 WHERE id = ? LOCK IN SHARE MODE", false},
		{"SELECT c FROM t1 WHERE id = (SELECT ?)", false}, // subquery
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			args := []any{3}
			if strings.Count(tc.query, "?") == 2 {
				args = append(args, 9)
			}
			requireCached(t, ctx, conn, admin, tc.cached, tc.query, args...)
		})
	}
}

// TestPlanCacheInvalidation changes what a cached plan depends on, from
// another connection or this one, and requires the next execute to give
// what a fresh plan gives.
func TestPlanCacheInvalidation(t *testing.T) {
	const query = "SELECT * FROM t1 WHERE id = ?"
	cases := []struct {
		name   string
		change []string // run on another connection
		same   []string // run on the statement's connection
		want   string   // the execute's outcome afterwards
	}{
		{name: "add column", change: []string{"ALTER TABLE pc.t1 ADD COLUMN z INT DEFAULT 5"}, want: "id=3,c=c3,k=9,z=5"},
		{name: "drop column", change: []string{"ALTER TABLE pc.t1 DROP COLUMN k"}, want: "id=3,c=c3"},
		{name: "recreate table", change: []string{"DROP TABLE pc.t1", "CREATE TABLE pc.t1 (id VARCHAR(5) PRIMARY KEY, w DOUBLE)", "INSERT INTO pc.t1 VALUES ('3', 0.5)"},
			want: "id=3,w=0.5"},
		{name: "create index", change: []string{"CREATE INDEX ck ON pc.t1 (c)"}, want: "id=3,c=c3,k=9"},
		{name: "rename column", change: []string{"ALTER TABLE pc.t1 RENAME COLUMN c TO cc"}, want: "id=3,cc=c3,k=9"},
		{name: "ddl in a procedure", change: []string{"CREATE PROCEDURE pc.widen() ALTER TABLE pc.t1 ADD COLUMN p INT DEFAULT 1", "CALL pc.widen()"},
			want: "id=3,c=c3,k=9,p=1"},
		{name: "use another database", same: []string{"USE pc2"}, want: ""},
		{name: "other database row", same: []string{"USE pc2"}, want: "", change: []string{"INSERT INTO pc2.t1 VALUES (3, 'there', 0)"}},
		{name: "truncate", change: []string{"TRUNCATE TABLE pc.t1"}, want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, admin := planCacheServer(t)
			ctx := context.Background()
			conn, err := srv.DB("pc", "interpolateParams=false").Conn(ctx)
			require.NoError(t, err)
			defer conn.Close()
			stmt, err := conn.PrepareContext(ctx, query)
			require.NoError(t, err)
			defer stmt.Close()
			read := func() string {
				rows, err := stmt.QueryContext(ctx, 3)
				require.NoError(t, err)
				defer rows.Close()
				cols, err := rows.Columns()
				require.NoError(t, err)
				var out []string
				for rows.Next() {
					vals := make([]sql.NullString, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					require.NoError(t, rows.Scan(ptrs...))
					var parts []string
					for i, v := range vals {
						parts = append(parts, cols[i]+"="+v.String)
					}
					out = append(out, strings.Join(parts, ","))
				}
				require.NoError(t, rows.Err())
				return strings.Join(out, "; ")
			}
			before := planCacheHits(t, admin)
			require.Equal(t, "id=3,c=c3,k=9", read())
			require.Equal(t, "id=3,c=c3,k=9", read())
			require.Equal(t, int64(1), planCacheHits(t, admin)-before, "the second execute is a cached one")
			for _, q := range tc.same {
				_, err := conn.ExecContext(ctx, q)
				require.NoError(t, err, q)
			}
			mustExec(t, admin, tc.change...)
			want := tc.want
			if tc.name == "other database row" {
				want = "id=3,c=there,k=0"
			}
			require.Equal(t, want, read())
			require.Equal(t, want, read(), "and again, cached")
		})
	}
}

// TestPlanCacheRevokeSelect revokes the privilege a cached plan's
// statement needs; the next execute must fail as a freshly planned one
// does. REVOKE bumps the cache's epoch, and every reuse also repeats the
// privilege check.
func TestPlanCacheRevokeSelect(t *testing.T) {
	cases := []struct {
		name, grant, revoke string
		code                uint16
	}{
		// MySQL: ER_TABLEACCESS_DENIED_ERROR.
		{"table grant", "GRANT SELECT ON pc.t1 TO 'pcu'@'%'", "REVOKE SELECT ON pc.t1 FROM 'pcu'@'%'", 1142},
		// The user keeps no privilege on the database: GMS answers 1044
		// here, cached or not.
		{"database grant", "GRANT SELECT ON pc.* TO 'pcu'@'%'", "REVOKE SELECT ON pc.* FROM 'pcu'@'%'", 1044},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, admin := planCacheServer(t)
			mustExec(t, admin, "CREATE USER 'pcu'@'%' IDENTIFIED BY 'pw'", "GRANT SELECT ON pc.t3 TO 'pcu'@'%'", tc.grant)
			ctx := context.Background()
			conn, err := srv.Open(srv.DSN("pcu", "pw", "pc", "interpolateParams=false")).Conn(ctx)
			require.NoError(t, err)
			defer conn.Close()
			stmt, err := conn.PrepareContext(ctx, "SELECT c FROM t1 WHERE id = ?")
			require.NoError(t, err)
			defer stmt.Close()
			before := planCacheHits(t, admin)
			var c string
			for i := 0; i < 3; i++ {
				require.NoError(t, stmt.QueryRowContext(ctx, 4).Scan(&c))
			}
			require.Equal(t, "c4", c)
			require.Equal(t, int64(2), planCacheHits(t, admin)-before)

			mustExec(t, admin, tc.revoke)
			for i := 0; i < 2; i++ {
				code, _ := mysqlErr(t, stmt.QueryRowContext(ctx, 4).Scan(&c))
				require.Equal(t, tc.code, code)
			}
			mustExec(t, admin, tc.grant)
			require.NoError(t, stmt.QueryRowContext(ctx, 5).Scan(&c))
			require.Equal(t, "c5", c)
		})
	}
}

func TestPlanCacheSeesCommitsAndKeepsSnapshots(t *testing.T) {
	srv, admin := planCacheServer(t, planCacheVerify)
	ctx := context.Background()
	conn, err := srv.DB("pc", "interpolateParams=false").Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	stmt, err := conn.PrepareContext(ctx, "SELECT c FROM t1 WHERE id = ?")
	require.NoError(t, err)
	defer stmt.Close()
	read := func() string {
		var c string
		require.NoError(t, stmt.QueryRowContext(ctx, 6).Scan(&c))
		return c
	}
	require.Equal(t, "c6", read())
	before := planCacheHits(t, admin)

	// Autocommit: another session's commit is visible at once.
	mustExec(t, admin, "UPDATE pc.t1 SET c = 'v1' WHERE id = 6")
	require.Equal(t, "v1", read())

	// An explicit transaction keeps its snapshot.
	_, err = conn.ExecContext(ctx, "BEGIN")
	require.NoError(t, err)
	require.Equal(t, "v1", read())
	mustExec(t, admin, "UPDATE pc.t1 SET c = 'v2' WHERE id = 6")
	require.Equal(t, "v1", read())
	_, err = conn.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	require.Equal(t, "v2", read())

	// Its own uncommitted write is visible to it.
	_, err = conn.ExecContext(ctx, "BEGIN")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "UPDATE t1 SET c = 'mine' WHERE id = 6")
	require.NoError(t, err)
	require.Equal(t, "mine", read())
	_, err = conn.ExecContext(ctx, "ROLLBACK")
	require.NoError(t, err)
	require.Equal(t, "v2", read())
	require.Equal(t, int64(6), planCacheHits(t, admin)-before, "the reads ran from the cached plan")
}

// TestPlanCacheVectorSearch runs a prepared ANN search
// (VectorIndexScan) from its cached plan with several query vectors, and
// requires the rows a freshly planned search returns, at two settings of
// mhnsw_ef_search, which must still take effect.
func TestPlanCacheVectorSearch(t *testing.T) {
	// Every hit is also planned by GMS and must be the same plan.
	srv, admin := planCacheServer(t, planCacheVerify)
	const dim = 16
	mustExec(t, admin, fmt.Sprintf("CREATE TABLE pc.vp (id INT PRIMARY KEY, v VECTOR(%d) NOT NULL, VECTOR INDEX (v) M=4 DISTANCE=cosine)", dim))
	var values []string
	// Random directions: no two rows at the same distance from a query.
	rng := rand.New(rand.NewSource(14))
	vec := func() string {
		parts := make([]string, dim)
		for j := range parts {
			parts[j] = fmt.Sprintf("%.4f", rng.Float64()*2-1)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	for i := 0; i < 1500; i++ {
		values = append(values, fmt.Sprintf("(%d, VEC_FromText('%s'))", i, vec()))
	}
	mustExec(t, admin, "INSERT INTO pc.vp VALUES "+strings.Join(values, ","))
	ctx := context.Background()
	conn, err := srv.DB("pc", "interpolateParams=false").Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()

	const cached = "SELECT id FROM vp ORDER BY VEC_DISTANCE_COSINE(v, STRING_TO_VECTOR(?)) LIMIT 10"
	// Not cacheable (an expression in the select list), same index search.
	const fresh = "SELECT id, VEC_DISTANCE_COSINE(v, STRING_TO_VECTOR(?)) AS d FROM vp ORDER BY d LIMIT 10"
	// No index: the exact answer.
	const exact = "SELECT id FROM vp ORDER BY VEC_DISTANCE_COSINE(v, STRING_TO_VECTOR(?)) + 0, id LIMIT 10"
	ids := func(r stmtResult) string {
		var out []string
		for _, row := range r.rows {
			out = append(out, strings.SplitN(strings.TrimPrefix(row, "id="), ",", 2)[0])
		}
		return strings.Join(out, ",")
	}
	var queries []string
	for i := 0; i < 8; i++ {
		queries = append(queries, vec())
	}
	differs := false
	for _, ef := range []int{200, 1} {
		_, err := conn.ExecContext(ctx, fmt.Sprintf("SET mhnsw_ef_search = %d", ef))
		require.NoError(t, err)
		before := planCacheHits(t, admin)
		for round := 0; round < 2; round++ {
			for _, q := range queries {
				got := runPrepared(t, ctx, conn, cached, q)
				require.Zero(t, got.err)
				require.Len(t, got.rows, 10)
				require.Equal(t, ids(runPrepared(t, ctx, conn, fresh, q)), ids(got), "ef %d, query %s", ef, q)
				want := ids(runPrepared(t, ctx, conn, exact, q))
				if ef == 200 {
					require.Equal(t, want, ids(got), "query %s", q)
				} else if want != ids(got) {
					differs = true
				}
			}
		}
		require.GreaterOrEqual(t, planCacheHits(t, admin)-before, int64(2*len(queries)-1), "ef %d: executes served from the cached plan", ef)
	}
	require.True(t, differs, "mhnsw_ef_search = 1 changes some answers")
}
