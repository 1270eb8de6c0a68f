package e2e

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// drivingTableRe finds a plan's first table: in EXPLAIN PLAN's tree the
// leftmost leaf, which a join reads first.
var drivingTableRe = regexp.MustCompile(`TableAlias\((\w+)\)`)

// drivingTable is the alias of the table plan reads first.
func drivingTable(t *testing.T, plan string) string {
	t.Helper()
	m := drivingTableRe.FindStringSubmatch(plan)
	require.NotNil(t, m, plan)
	return m[1]
}

// TestVectorIndexJoinOrder: ORDER BY <distance>(d.col, <constant>) LIMIT k
// over a join where the planner, left alone, reads another table first (a
// small table filtered to one row, a lookup into d's primary key, EXISTS
// turned into a join from the subquery's rows) or merge-joins d still
// searches d's vector index, with d driving the join, and answers exactly
// what the exact plan answers: the same statement with the distance
// written so that the vector rules do not take it ("+ 0"), whose plan the
// test checks does not already qualify, so each case needs the join
// replanned. Shapes where d cannot drive, or must not, keep the planner's
// own plan, and so does a statement with the user's own join order hint.
func TestVectorIndexJoinOrder(t *testing.T) {
	_, db, conn := startVectorJoin(t)
	queries := vectorJoinQueries
	const cosine = "VEC_DISTANCE_COSINE(d.emb, STRING_TO_VECTOR(?))"
	cases := []struct {
		name string
		// q is the statement with %[1]s for the distance expression,
		// whose one parameter is the query vector; args follow.
		q    string
		dist string
		args []any
		// index: the plan must drive the join from d's vector index;
		// otherwise it must be the planner's own (the exact query's
		// driving table).
		index bool
	}{
		{name: "inner join, WHERE on the other table's key keeps 1 driving row in 14",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id WHERE c.id = 7 ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "join on d's primary key, 12 of 600 driving rows match",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM cats c JOIN docs d ON d.id = c.id ORDER BY dist LIMIT 5",
			dist: cosine, index: true},
		{name: "cross join, WHERE on the other table",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d, cats c WHERE c.id IN (4, 9) ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "three tables, WHERE on the middle table's key",
			q:    "SELECT d.id, c.name, o.name, %[1]s AS dist FROM docs d JOIN cats c ON d.cat_id = c.id JOIN owners o ON c.owner_id = o.id WHERE c.id IN (1, 5) ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "three tables, d looked up from the first",
			q:    "SELECT d.id, c.name, o.name, %[1]s AS dist FROM docs d JOIN cats c ON d.cat_id = c.id JOIN owners o ON o.id = d.id WHERE c.id = 3 ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "three tables, lookup into d's primary key",
			q:    "SELECT d.id, c.name, o.name, %[1]s AS dist FROM owners o JOIN cats c ON c.owner_id = o.id JOIN docs d ON d.id = c.id WHERE o.name <> 'bob' ORDER BY %[1]s LIMIT 6",
			dist: cosine, index: true},
		{name: "LEFT JOIN with d on the left, a third table read first",
			q:    "SELECT d.id, c.name, o.name, %[1]s AS dist FROM docs d LEFT JOIN cats c ON c.id = d.cat_id JOIN owners o ON o.id = d.id ORDER BY %[1]s LIMIT 3",
			dist: cosine, index: true},
		{name: "NOT EXISTS on d's key, which the planner merge-joins",
			q:    "SELECT d.id, %[1]s AS dist FROM docs d WHERE NOT EXISTS (SELECT 1 FROM cats c WHERE c.id = d.id) ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "EXISTS on d",
			q:    "SELECT d.id, %[1]s AS dist FROM docs d WHERE EXISTS (SELECT 1 FROM cats c WHERE c.id = d.cat_id AND c.id IN (3, 5)) ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "prepared query vector and LIMIT, offset",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id WHERE c.id = 2 ORDER BY %[1]s LIMIT 3, ?",
			dist: cosine, args: []any{8}, index: true},
		{name: "VEC_DISTANCE takes the index's metric",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM cats c JOIN docs d ON d.id = c.id WHERE c.owner_id = 1 ORDER BY %[1]s LIMIT 3",
			dist: "VEC_DISTANCE(d.emb, STRING_TO_VECTOR(?))", index: true},

		// d must not, or cannot, drive: the planner's plan.
		{name: "d on the null-supplying side",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM cats c LEFT JOIN docs d ON c.id = d.cat_id AND d.id < 40 ORDER BY %[1]s LIMIT 10",
			dist: cosine},
		{name: "grouped",
			q:    "SELECT c.name, MIN(%[1]s) AS dist FROM cats c JOIN docs d ON d.id = c.id GROUP BY c.name ORDER BY dist LIMIT 5",
			dist: cosine},
		{name: "distinct",
			q:    "SELECT DISTINCT c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id WHERE c.id = 7 ORDER BY dist LIMIT 5",
			dist: cosine},
		{name: "ORDER BY the other table's column first",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM cats c JOIN docs d ON d.id = c.id ORDER BY c.name, %[1]s LIMIT 5",
			dist: cosine},
		{name: "descending",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM cats c JOIN docs d ON d.id = c.id ORDER BY %[1]s DESC LIMIT 5",
			dist: cosine},
		{name: "distance to the other table's vector",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id WHERE c.id = 7 ORDER BY %[1]s LIMIT 10",
			dist: "VEC_DISTANCE_COSINE(d.emb, c.cemb) + 0 * LENGTH(?)"},
		{name: "the user's own join order hint",
			q:    "SELECT /*+ JOIN_ORDER(c, d) */ d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id WHERE c.id = 7 ORDER BY %[1]s LIMIT 10",
			dist: cosine},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := fmt.Sprintf(c.q, c.dist)
			exactQ := exactQuery(q, c.dist)
			require.NotEqual(t, q, exactQ)
			// EXPLAIN of the statement with the first query vector
			// written in (EXPLAIN takes no parameters).
			literal := func(q string) string {
				lit := strings.Replace(q, "?", "'"+queries[0]+"'", strings.Count(c.dist, "?")*strings.Count(q, c.dist))
				for _, a := range c.args {
					lit = strings.Replace(lit, "?", fmt.Sprint(a), 1)
				}
				return lit
			}
			exactPlan := explainTree(t, db, literal(exactQ))
			require.NotContains(t, exactPlan, "VectorIndex", exactPlan)
			plan := explainTree(t, db, literal(q))
			if c.index {
				// Left alone, the planner reads another table first, or
				// d in key order for a merge join.
				require.True(t, drivingTable(t, exactPlan) != "d" || strings.Contains(exactPlan, "MergeJoin"), exactPlan)
				require.Contains(t, plan, "VectorIndexJoin(driving table d,", plan)
				require.Regexp(t, `TableAlias\(d\)\n[\s│]*└─ VectorIndexScan\(docs\.emb on emb`, plan)
				require.Equal(t, "d", drivingTable(t, plan), plan)
			} else {
				require.NotContains(t, plan, "VectorIndex", plan)
				require.Equal(t, drivingTable(t, exactPlan), drivingTable(t, plan), plan)
			}
			requireExactRows(t, conn, q, exactQ, c.dist, queries, c.args)
		})
	}

	// MySQL's EXPLAIN forms show the search as the access of d, now the
	// first table.
	t.Run("EXPLAIN", func(t *testing.T) {
		q := "SELECT d.id, c.name FROM cats c JOIN docs d ON d.id = c.id ORDER BY VEC_DISTANCE_COSINE(d.emb, STRING_TO_VECTOR('" + queries[0] + "')) LIMIT 5"
		rows := queryRows(t, db, "EXPLAIN "+q)
		require.Len(t, rows, 2, rows)
		// id|select_type|table|partitions|type|possible_keys|key|key_len|ref|rows|filtered|Extra
		first := strings.Split(rows[0], "|")
		require.Equal(t, []string{"d", "index", "emb"}, []string{first[2], first[4], first[6]}, rows[0])
		require.Contains(t, first[11], "Using vector index (distance=cosine, M=8)")
		require.Equal(t, "c", strings.Split(rows[1], "|")[2], rows[1])
		tree := queryString(t, db, "EXPLAIN FORMAT=TREE "+q)
		require.Contains(t, tree, "Vector index scan on docs using emb (distance=cosine, M=8)", tree)
	})
}

// TestVectorIndexJoinOrderPrepared: a prepared statement (query vector
// and LIMIT as parameters) whose join the planner reads from the other
// table first is answered from the vector index too. The join is one to
// one, so its rows are the driving rows, and with a narrow search width
// (mhnsw_ef_search = 10, which misses some true neighbours) they must be
// exactly the single-table index search's rows, not the exact answer.
func TestVectorIndexJoinOrderPrepared(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE v")
	db := srv.DB("v")
	mustExec(t, db,
		"CREATE TABLE p (id INT PRIMARY KEY, v VECTOR(16) NOT NULL, VECTOR INDEX (v) M=4 DISTANCE=euclidean)",
		"CREATE TABLE g (id INT PRIMARY KEY, label VARCHAR(10))",
	)
	var values, labels []string
	for i := 0; i < 3000; i++ {
		parts := make([]string, 16)
		for j := range parts {
			parts[j] = fmt.Sprintf("%.3f", math.Sin(float64(i*(j+3))*0.61+float64(j)))
		}
		values = append(values, fmt.Sprintf("(%d, VEC_FromText('[%s]'))", i, strings.Join(parts, ",")))
		labels = append(labels, fmt.Sprintf("(%d, 'g%d')", i, i))
	}
	mustExec(t, db, "INSERT INTO p VALUES "+strings.Join(values, ","), "INSERT INTO g VALUES "+strings.Join(labels, ","))
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(context.Background(), "SET mhnsw_ef_search = 10")
	require.NoError(t, err)

	const single = "SELECT id FROM p ORDER BY VEC_DISTANCE_EUCLIDEAN(v, STRING_TO_VECTOR(?)) LIMIT ?"
	const joined = "SELECT d.id FROM g x JOIN p d ON d.id = x.id ORDER BY VEC_DISTANCE_EUCLIDEAN(d.v, STRING_TO_VECTOR(?)) LIMIT ?"
	const exact = "SELECT d.id FROM g x JOIN p d ON d.id = x.id ORDER BY VEC_DISTANCE_EUCLIDEAN(d.v, STRING_TO_VECTOR(?)) + 0 LIMIT ?"
	const q0 = "'[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]'"
	exactPlan := explainTree(t, db, strings.Replace(strings.Replace(exact, "?", q0, 1), "?", "10", 1))
	require.Equal(t, "x", drivingTable(t, exactPlan), "the planner alone reads g first: %s", exactPlan)
	plan := explainTree(t, db, strings.Replace(strings.Replace(joined, "?", q0, 1), "?", "10", 1))
	require.Contains(t, plan, "VectorIndexJoin(driving table d,", plan)

	missed := 0
	for i := 0; i < 20; i++ {
		parts := make([]string, 16)
		for j := range parts {
			parts[j] = fmt.Sprintf("%.3f", math.Cos(float64(i*(j+1))*0.37))
		}
		q := "[" + strings.Join(parts, ",") + "]"
		got := queryRows(t, conn, joined, q, 10)
		require.ElementsMatch(t, queryRows(t, conn, single, q, 10), got, "query %s", q)
		if !sameRows(queryRows(t, conn, exact, q, 10), got) {
			missed++
		}
	}
	t.Logf("mhnsw_ef_search = 10: %d of 20 prepared joins differ from the exact answer", missed)
	require.Positive(t, missed, "the prepared join should read the (approximate) index")
}
