package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestVectorIndexSearchPath covers the fast path of an index search: the
// search sorts its k rows itself (the plan has a Limit, not a TopN, above
// VectorIndexScan), in the same order and with the same distances as the
// exact query; one prepared statement executed with many query vectors
// answers each exactly; and each session's search sees its own
// transaction's snapshot while other sessions write.
func TestVectorIndexSearchPath(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE v")
	db := srv.DB("v")
	mustExec(t, db, "CREATE TABLE p (id INT PRIMARY KEY, v VECTOR(3) NOT NULL, VECTOR INDEX (v) M=8 DISTANCE=euclidean)")
	var values []string
	for i := 0; i < 300; i++ {
		values = append(values, fmt.Sprintf("(%d, VEC_FromText('[%d,%d,%d]'))", i, i%17, (i*5)%23, (i*11)%29))
	}
	mustExec(t, db, "INSERT INTO p VALUES "+strings.Join(values, ","))
	mustExec(t, db, "SET GLOBAL mhnsw_ef_search = 300")

	// rows reads (id, distance) pairs as text.
	rows := func(q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}, query string, args ...any) string {
		t.Helper()
		rs, err := q.QueryContext(context.Background(), query, args...)
		require.NoError(t, err, query)
		defer rs.Close()
		var out []string
		for rs.Next() {
			var id, d string
			require.NoError(t, rs.Scan(&id, &d))
			out = append(out, id+":"+d)
		}
		require.NoError(t, rs.Err())
		return strings.Join(out, ",")
	}
	const indexed = "SELECT id, VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText(?)) d FROM p ORDER BY VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText(?)) LIMIT 8"
	const exactQ = "SELECT id, VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText(?)) d FROM p ORDER BY VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText(?)) + 0, id LIMIT 8"

	plan := explainTree(t, db, "SELECT id FROM p ORDER BY VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText('[1,2,3]')) LIMIT 8")
	require.Contains(t, plan, "VectorIndexScan", plan)
	require.NotContains(t, plan, "TopN", "the search sorts its rows; no TopN re-sorts them:\n%s", plan)
	plan = explainTree(t, db, "SELECT id FROM p ORDER BY VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText('[1,2,3]')) LIMIT 3, 5")
	require.Contains(t, plan, "VectorIndexScan", plan)

	// One prepared statement, many query vectors (distinct distances: no
	// ties whose order could differ).
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	st, err := conn.PrepareContext(context.Background(), indexed)
	require.NoError(t, err)
	defer st.Close()
	for i := 0; i < 40; i++ {
		q := fmt.Sprintf("[%g,%g,%g]", float64(i%7)+0.31, float64(i%11)+0.17, float64(i%13)+0.07)
		rs, err := st.Query(q, q)
		require.NoError(t, err)
		var got []string
		for rs.Next() {
			var id, d string
			require.NoError(t, rs.Scan(&id, &d))
			got = append(got, id+":"+d)
		}
		require.NoError(t, rs.Err())
		require.NoError(t, rs.Close())
		require.Equal(t, rows(db, exactQ, q, q), strings.Join(got, ","), q)
	}
	// LIMIT with an offset is the exact query's rows 4-8.
	require.Equal(t,
		rows(db, "SELECT id, VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText('[3.3,4.2,5.1]')) d FROM p ORDER BY VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText('[3.3,4.2,5.1]')) + 0, id LIMIT 3, 5"),
		rows(db, "SELECT id, VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText('[3.3,4.2,5.1]')) d FROM p ORDER BY VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText('[3.3,4.2,5.1]')) LIMIT 3, 5"))

	// Snapshots: a transaction keeps seeing its snapshot through the index
	// while another session writes; after COMMIT it sees the writes.
	const near = "SELECT id, VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText('[100,100,100]')) d FROM p ORDER BY VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText('[100,100,100]')) LIMIT 1"
	before := rows(db, near)
	tx, err := db.BeginTx(context.Background(), nil)
	require.NoError(t, err)
	defer tx.Rollback()
	require.Equal(t, before, rows(tx, near))
	mustExec(t, db, "INSERT INTO p VALUES (1000, VEC_FromText('[100,100,99]'))")
	require.Equal(t, "1000:1", rows(db, near), "another session sees the committed insert")
	require.Equal(t, before, rows(tx, near), "the transaction still sees its snapshot")
	// The transaction's own write is seen by its own search only.
	_, err = tx.Exec("INSERT INTO p VALUES (1001, VEC_FromText('[100,100,100]'))")
	require.NoError(t, err)
	require.Equal(t, "1001:0", rows(tx, near))
	require.Equal(t, "1000:1", rows(db, near))
	require.NoError(t, tx.Commit())
	require.Equal(t, "1001:0", rows(db, near))
	mustExec(t, db, "UPDATE p SET v = VEC_FromText('[0,0,0]') WHERE id = 1001")
	require.Equal(t, "1000:1", rows(db, near))
	mustExec(t, db, "DELETE FROM p WHERE id = 1000")
	require.Equal(t, before, rows(db, near))
}
