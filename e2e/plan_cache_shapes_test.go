package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// Primary-key range selects (sysbench's simple, sum, order and distinct
// ranges) are served from cached plans too: these tests compare every
// cached execute with the same statement made uncacheable by a LIMIT that
// changes no result, for bounds of every kind the wire protocol sends.

// rangeCacheServer is planCacheServer plus pc.t4, whose g repeats (for
// DISTINCT).
func rangeCacheServer(t *testing.T, env ...string) (*testserver.Server, *sql.DB) {
	srv, admin := planCacheServer(t, env...)
	mustExec(t, admin, "CREATE TABLE pc.t4 (id INT PRIMARY KEY, g INT, s VARCHAR(10))")
	for i := 0; i < 30; i++ {
		mustExec(t, admin, fmt.Sprintf("INSERT INTO pc.t4 VALUES (%d, %d, 's%d')", i, i%4, i%3))
	}
	return srv, admin
}

func TestPlanCacheRangeResultsMatchUncached(t *testing.T) {
	// Every hit is also planned by GMS and must be the same plan.
	srv, admin := rangeCacheServer(t, planCacheVerify)
	ctx := context.Background()
	conn, err := srv.DB("pc", "interpolateParams=false").Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()

	bounds := [][2]any{
		{1, 5}, {5, 1}, {3, 3}, {-100, 100}, {1000, 2000}, {-3, -1}, {0, 0}, {39, 41},
		{"1", "5"}, {"abc", "zzz"}, {[]byte("2"), "9"}, {nil, 5}, {1, nil}, {nil, nil},
		{1.5, 4}, {7.0, 9.0}, {1e300, -1e300}, {-1e300, 1e300},
		{int64(math.MinInt64), int64(math.MaxInt64)}, {uint64(math.MaxUint64), 1}, {0, uint64(math.MaxUint64)},
		{300, -129}, {-129, 127}, {-128, 127}, {127, 300}, {1 << 40, 1 << 41}, {2, 1 << 40},
	}
	queries := []string{
		"SELECT c FROM t1 WHERE id BETWEEN ? AND ?",
		"SELECT SUM(k) FROM t1 WHERE id BETWEEN ? AND ?",
		"SELECT c FROM t1 WHERE id BETWEEN ? AND ? ORDER BY c",
		"SELECT DISTINCT c FROM t1 WHERE id BETWEEN ? AND ? ORDER BY c",
		"SELECT DISTINCT g FROM t4 WHERE id BETWEEN ? AND ? ORDER BY g",
		"SELECT DISTINCT s, g FROM t4 WHERE id BETWEEN ? AND ?",
		"SELECT COUNT(*), MIN(c), MAX(k), AVG(k), COUNT(c) FROM t1 WHERE id BETWEEN ? AND ?",
		"SELECT c AS x, k FROM t1 WHERE id BETWEEN ? AND ? ORDER BY k DESC, c",
		"SELECT * FROM t3 WHERE id BETWEEN ? AND ?",
		"SELECT id, c FROM u1 WHERE id BETWEEN ? AND ? ORDER BY c",
		"SELECT SUM(c) FROM u1 WHERE id BETWEEN ? AND ?",
		"SELECT t1.c FROM pc.t1 WHERE t1.id BETWEEN ? AND ?",
	}
	before := planCacheHits(t, admin)
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			// Twice over, so the second round runs from cached plans.
			for round := 0; round < 2; round++ {
				for _, b := range bounds {
					samePlanResults(t, ctx, conn, q, " LIMIT 1000000", b[0], b[1])
				}
			}
		})
	}
	require.Greater(t, planCacheHits(t, admin)-before, int64(len(queries)*len(bounds)/2), "executes served from cached plans")

	// Found rows really are found (the comparisons above are not vacuous).
	for _, tc := range []struct {
		query string
		lo    any
		hi    any
		want  string
	}{
		{"SELECT c FROM t1 WHERE id BETWEEN ? AND ?", 3, 5, "c=c3; c=c4; c=c5"},
		{"SELECT SUM(k) FROM t1 WHERE id BETWEEN ? AND ?", 3, 5, "SUM(k)=50"},
		{"SELECT SUM(k) FROM t1 WHERE id BETWEEN ? AND ?", 5, 3, "SUM(k)=NULL"},
		{"SELECT c FROM t1 WHERE id BETWEEN ? AND ? ORDER BY c", 9, 11, "c=c10; c=c11; c=c9"},
		{"SELECT DISTINCT g FROM t4 WHERE id BETWEEN ? AND ? ORDER BY g", 1, 9, "g=0; g=1; g=2; g=3"},
		{"SELECT * FROM t3 WHERE id BETWEEN ? AND ?", -1000, 1000, "id=-128,c=-1; id=0,c=0; id=7,c=7; id=127,c=127"},
	} {
		for i := 0; i < 2; i++ {
			require.Equal(t, tc.want, runPrepared(t, ctx, conn, tc.query, tc.lo, tc.hi).String(), "%s with %v, %v", tc.query, tc.lo, tc.hi)
		}
	}
}

func TestPlanCacheRangeCountsOnlyCachedShapes(t *testing.T) {
	srv, admin := rangeCacheServer(t)
	ctx := context.Background()
	conn, err := srv.DB("pc", "interpolateParams=false").Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	cases := []struct {
		query  string
		cached bool
	}{
		{"SELECT c FROM t1 WHERE id BETWEEN ? AND ?", true},
		{"SELECT SUM(k) FROM t1 WHERE id BETWEEN ? AND ?", true},
		{"SELECT c FROM t1 WHERE id BETWEEN ? AND ? ORDER BY c", true},
		{"SELECT DISTINCT c FROM t1 WHERE id BETWEEN ? AND ? ORDER BY c", true},
		{"SELECT c FROM t1 WHERE id NOT BETWEEN ? AND ?", false},
		{"SELECT c FROM t1 WHERE id >= ? AND id <= ?", false},
		{"SELECT c FROM t1 WHERE k BETWEEN ? AND ?", false}, // not the primary key
		{"SELECT v FROM t2 WHERE a BETWEEN ? AND ?", false}, // part of a composite key
		{"SELECT c FROM t1 WHERE id BETWEEN ? AND ? LIMIT 3", false},
		{"SELECT SUM(k + 1) FROM t1 WHERE id BETWEEN ? AND ?", false}, // an expression
		{"SELECT SUM(DISTINCT k) FROM t1 WHERE id BETWEEN ? AND ?", false},
		{"SELECT k, COUNT(*) FROM t1 WHERE id BETWEEN ? AND ? GROUP BY k", false},
		{"SELECT c FROM t1 WHERE id BETWEEN ? AND ? FOR UPDATE", false},
		{"SELECT c FROM t1 WHERE id BETWEEN ? AND ? ORDER BY UPPER(c)", false},
		{"SELECT c FROM t1 WHERE id BETWEEN (SELECT ?) AND ?", false},
		{"SELECT c FROM t1 WHERE id BETWEEN ? AND ? + 1", false},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			requireCached(t, ctx, conn, admin, tc.cached, tc.query, 3, 9)
		})
	}
}

// TestPlanCacheRangeInvalidation changes what a cached range plan depends
// on from another connection; the next execute must give what a fresh
// plan gives.
func TestPlanCacheRangeInvalidation(t *testing.T) {
	const query = "SELECT * FROM t1 WHERE id BETWEEN ? AND ? ORDER BY c DESC"
	cases := []struct {
		name   string
		change []string
		want   string
	}{
		{name: "add column", change: []string{"ALTER TABLE pc.t1 ADD COLUMN z INT DEFAULT 5"}, want: "id=4,c=c4,k=16,z=5; id=3,c=c3,k=9,z=5"},
		{name: "drop column", change: []string{"ALTER TABLE pc.t1 DROP COLUMN k"}, want: "id=4,c=c4; id=3,c=c3"},
		// Compared with a fresh plan only: a VARCHAR key compared with
		// numbers.
		{name: "recreate table", change: []string{"DROP TABLE pc.t1", "CREATE TABLE pc.t1 (id VARCHAR(5) PRIMARY KEY, c DOUBLE)",
			"INSERT INTO pc.t1 VALUES ('3', 0.5), ('35', 1), ('4', 2), ('5', 3)"}},
		{name: "change key type", change: []string{"ALTER TABLE pc.t1 MODIFY id DOUBLE"}, want: "id=4,c=c4,k=16; id=3,c=c3,k=9"},
		{name: "new rows", change: []string{"DELETE FROM pc.t1 WHERE id = 4"}, want: "id=3,c=c3,k=9"},
		{name: "truncate", change: []string{"TRUNCATE TABLE pc.t1"}, want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, admin := planCacheServer(t)
			ctx := context.Background()
			conn, err := srv.DB("pc", "interpolateParams=false").Conn(ctx)
			require.NoError(t, err)
			defer conn.Close()
			read := func() string { return runPrepared(t, ctx, conn, query, 3, 4).String() }
			before := planCacheHits(t, admin)
			require.Equal(t, "id=4,c=c4,k=16; id=3,c=c3,k=9", read())
			require.Equal(t, "id=4,c=c4,k=16; id=3,c=c3,k=9", read())
			require.Equal(t, int64(1), planCacheHits(t, admin)-before, "the second execute is a cached one")
			mustExec(t, admin, tc.change...)
			fresh := runPrepared(t, ctx, conn, query+" LIMIT 1000000", 3, 4).String()
			if tc.want != "" || tc.name == "truncate" {
				require.Equal(t, tc.want, fresh)
			}
			require.Equal(t, fresh, read())
			require.Equal(t, fresh, read(), "and again, cached")
		})
	}
}

// TestPlanCacheRangeRevokeSelect: a cached range plan repeats the
// privilege check binding makes.
func TestPlanCacheRangeRevokeSelect(t *testing.T) {
	srv, admin := rangeCacheServer(t)
	ctx := context.Background()
	mustExec(t, admin, "CREATE USER 'pcu'@'%' IDENTIFIED BY 'pw'", "GRANT SELECT ON pc.t3 TO 'pcu'@'%'", "GRANT SELECT ON pc.t1 TO 'pcu'@'%'")
	conn, err := srv.Open(srv.DSN("pcu", "pw", "pc", "interpolateParams=false")).Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	const q = "SELECT SUM(k) FROM t1 WHERE id BETWEEN ? AND ?"
	before := planCacheHits(t, admin)
	for i := 0; i < 3; i++ {
		require.Equal(t, "SUM(k)=50", runPrepared(t, ctx, conn, q, 3, 5).String())
	}
	require.Equal(t, int64(2), planCacheHits(t, admin)-before)
	mustExec(t, admin, "REVOKE SELECT ON pc.t1 FROM 'pcu'@'%'")
	for i := 0; i < 2; i++ {
		// MySQL: ER_TABLEACCESS_DENIED_ERROR.
		require.Equal(t, "error 1142", runPrepared(t, ctx, conn, q, 3, 5).String())
	}
	mustExec(t, admin, "GRANT SELECT ON pc.t1 TO 'pcu'@'%'")
	require.Equal(t, "SUM(k)=1", runPrepared(t, ctx, conn, q, 1, 1).String())
	require.Equal(t, "SUM(k)=5", runPrepared(t, ctx, conn, q, 1, 2).String())

	// A dropped account's session fails as a fresh plan does.
	mustExec(t, admin, "DROP USER 'pcu'@'%'")
	for i := 0; i < 2; i++ {
		got := runPrepared(t, ctx, conn, q, 1, 2)
		require.NotZero(t, got.err)
		require.Equal(t, runPrepared(t, ctx, conn, q+" LIMIT 1000000", 1, 2).String(), got.String())
	}
}
