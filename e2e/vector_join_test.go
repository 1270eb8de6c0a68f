package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// vectorJoinFixture creates, in database v:
//   - docs: 600 rows, 6-dimension vectors with distinct cosine distances to
//     the test queries, a cosine vector index, and cat_id = id % 14, so cats
//     12 and 13 do not exist and an inner join's ON drops their rows;
//   - cats: ids 0..11, each with an owner;
//   - owners: ids 0..3;
//   - notes: 60 texts with a sibyl_embed generated column under a cosine
//     vector index.
func vectorJoinFixture(t *testing.T, db *sql.DB) {
	t.Helper()
	mustExec(t, db,
		"CREATE TABLE docs (id INT PRIMARY KEY, cat_id INT, emb VECTOR(6) NOT NULL, VECTOR INDEX (emb) M=8 DISTANCE=cosine)",
		"CREATE TABLE cats (id INT PRIMARY KEY, name VARCHAR(20), owner_id INT, cemb VECTOR(6))",
		"CREATE TABLE owners (id INT PRIMARY KEY, name VARCHAR(20))",
		"CREATE TABLE notes (id INT PRIMARY KEY, cat_id INT, body TEXT, emb VECTOR(100) AS (sibyl_embed(body)) STORED NOT NULL, VECTOR INDEX (emb) DISTANCE=cosine)",
	)
	// A fixed linear congruential sequence: the same data every run.
	seed := uint32(12345)
	next := func() float64 {
		seed = seed*1664525 + 1013904223
		return float64(seed>>8)/float64(1<<24)*2 - 1
	}
	vec := func() string {
		parts := make([]string, 6)
		for i := range parts {
			parts[i] = fmt.Sprintf("%.4f", next())
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	var values []string
	for i := 0; i < 600; i++ {
		values = append(values, fmt.Sprintf("(%d, %d, VEC_FromText('%s'))", i, i%14, vec()))
	}
	mustExec(t, db, "INSERT INTO docs VALUES "+strings.Join(values, ","))
	values = values[:0]
	for i := 0; i < 12; i++ {
		values = append(values, fmt.Sprintf("(%d, 'cat%d', %d, VEC_FromText('%s'))", i, i, i%4, vec()))
	}
	mustExec(t, db, "INSERT INTO cats VALUES "+strings.Join(values, ","))
	mustExec(t, db, "INSERT INTO owners VALUES (0, 'ann'), (1, 'bob'), (2, 'cy'), (3, 'dee')")
	subjects := []string{"my phone", "the hotel room", "the train", "a chocolate cake", "the password reset", "the new laptop"}
	verbs := []string{"arrived broken", "was clean and quiet", "was delayed an hour", "tasted of fresh berries", "failed twice", "needs a refund"}
	extras := []string{"yesterday", "again today"}
	values = values[:0]
	id := 0
	for _, s := range subjects {
		for _, v := range verbs {
			for _, x := range extras {
				values = append(values, fmt.Sprintf("(%d, %d, '%s %s %s')", id, id%14, s, v, x))
				id++
			}
		}
	}
	mustExec(t, db, "INSERT INTO notes (id, cat_id, body) VALUES "+strings.Join(values, ","))
}

// queryRows runs q with args (a server-side prepared statement when args
// are given) and returns its rows as text, one "a|b|c" string per row.
func queryRows(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) []string {
	t.Helper()
	rs, err := q.QueryContext(context.Background(), query, args...)
	require.NoError(t, err, query)
	defer rs.Close()
	cols, err := rs.Columns()
	require.NoError(t, err)
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rs.Scan(ptrs...))
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	require.NoError(t, rs.Err())
	return out
}

// TestVectorIndexJoin: ORDER BY <distance>(driving.col, <constant>) LIMIT k
// over a join reads the driving table through its vector index (EXPLAIN
// shows the search on it) and answers exactly what the exact plan answers
// (the same query with the distance written so that the rule does not
// take it: "+ 0"), ids and distances, through prepared statements; joins,
// ON conditions and WHERE filters that drop many of the nearest rows still
// give k rows. Shapes the index cannot answer keep the exact plan.
func TestVectorIndexJoin(t *testing.T) {
	srv, db, conn := startVectorJoin(t)
	queries := vectorJoinQueries
	const cosine = "VEC_DISTANCE_COSINE(d.emb, STRING_TO_VECTOR(?))"
	cases := []struct {
		name string
		// q is the query with %[1]s for the distance expression, which
		// takes the query vector as its one parameter; args follow.
		q     string
		dist  string
		args  []any
		index bool // the plan must search the index
	}{
		{name: "inner join, ON drops rows",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "inner join written with the joined table first",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM cats c JOIN docs d ON c.id = d.cat_id ORDER BY dist LIMIT 10",
			dist: cosine, index: true},
		{name: "left join",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d LEFT JOIN cats c ON c.id = d.cat_id ORDER BY %[1]s LIMIT 12",
			dist: "VEC_DISTANCE(d.emb, STRING_TO_VECTOR(?))", index: true},
		{name: "left join, WHERE on the joined table",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d LEFT JOIN cats c ON c.id = d.cat_id WHERE c.name <> 'cat3' ORDER BY %[1]s LIMIT 10",
			dist: "VEC_DISTANCE(d.emb, STRING_TO_VECTOR(?))", index: true},
		{name: "join, WHERE keeps one driving row in 14",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id WHERE c.name = 'cat7' ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "join ON with a condition that drops most rows",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id AND c.owner_id = 2 AND d.id %% 5 = 1 ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "join with a WHERE on the driving table",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id WHERE d.cat_id IN (1, 4, 9) ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "join, WHERE read as an index range of the driving table",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id WHERE d.id > 150 AND d.id <= 420 ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "join, WHERE read as two index ranges and a filter",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id WHERE (d.id < 60 OR d.id >= 540) AND c.owner_id <> 1 ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "single table, WHERE read as an index range",
			q:    "SELECT d.id, %[1]s AS dist FROM docs d WHERE d.id BETWEEN 200 AND 260 ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "three tables",
			q:    "SELECT d.id, c.name, o.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id JOIN owners o ON o.id = c.owner_id WHERE o.name <> 'bob' ORDER BY %[1]s LIMIT 10",
			dist: cosine, index: true},
		{name: "MySQL DISTANCE spelling, offset",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id ORDER BY %[1]s LIMIT 5, 10",
			dist: "DISTANCE(d.emb, STRING_TO_VECTOR(?), 'COSINE')", index: true},
		{name: "LIMIT as a parameter",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id ORDER BY %[1]s LIMIT ?",
			dist: cosine, args: []any{7}, index: true},
		{name: "limit larger than the join",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id WHERE c.name = 'cat7' AND d.id %% 3 = 0 ORDER BY %[1]s LIMIT 50",
			dist: cosine, index: true},

		// Shapes the index cannot answer: the exact plan.
		{name: "driving table on the null-supplying side",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM cats c LEFT JOIN docs d ON c.id = d.cat_id AND d.id < 40 ORDER BY %[1]s LIMIT 10",
			dist: cosine},
		{name: "ORDER BY the joined table's column first",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id ORDER BY c.name, %[1]s LIMIT 10",
			dist: cosine},
		{name: "descending",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id ORDER BY %[1]s DESC LIMIT 10",
			dist: cosine},
		{name: "distance to the joined table's vector",
			q:    "SELECT d.id, c.name, %[1]s AS dist FROM docs d JOIN cats c ON c.id = d.cat_id ORDER BY %[1]s LIMIT 10",
			dist: "VEC_DISTANCE_COSINE(d.emb, c.cemb) + 0 * LENGTH(?)"},
		{name: "grouped",
			q:    "SELECT c.name, MIN(%[1]s) AS dist FROM docs d JOIN cats c ON c.id = d.cat_id GROUP BY c.name ORDER BY dist LIMIT 5",
			dist: cosine},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := fmt.Sprintf(c.q, c.dist)
			// EXPLAIN of the query with the first query vector written
			// in (EXPLAIN takes no parameters).
			literal := func(q string) string {
				lit := strings.Replace(q, "?", "'"+queries[0]+"'", strings.Count(c.dist, "?")*strings.Count(q, c.dist))
				for _, a := range c.args {
					lit = strings.Replace(lit, "?", fmt.Sprint(a), 1)
				}
				return lit
			}
			plan := explainTree(t, db, literal(q))
			if c.index {
				if strings.Contains(q, " JOIN ") {
					require.Contains(t, plan, "VectorIndexJoin", plan)
				}
				require.Regexp(t, `TableAlias\(d\)\n\s*│?\s*└─ VectorIndexScan\(docs\.emb on emb`, plan)
			} else {
				require.NotContains(t, plan, "VectorIndex", plan)
			}
			exactQ := exactQuery(q, c.dist)
			require.NotEqual(t, q, exactQ)
			require.NotContains(t, explainTree(t, db, literal(exactQ)), "VectorIndex")
			requireExactRows(t, conn, q, exactQ, c.dist, queries, c.args)
		})
	}

	// MySQL's EXPLAIN forms show the search as the driving table's access.
	t.Run("EXPLAIN", func(t *testing.T) {
		q := "SELECT d.id, c.name FROM docs d JOIN cats c ON c.id = d.cat_id WHERE c.name <> 'cat3' ORDER BY VEC_DISTANCE_COSINE(d.emb, STRING_TO_VECTOR('" + queries[0] + "')) LIMIT 10"
		rows := queryRows(t, db, "EXPLAIN "+q)
		require.Len(t, rows, 2, rows)
		// id|select_type|table|partitions|type|possible_keys|key|key_len|ref|rows|filtered|Extra
		first := strings.Split(rows[0], "|")
		require.Equal(t, []string{"d", "index", "emb"}, []string{first[2], first[4], first[6]}, rows[0])
		require.Contains(t, first[11], "Using vector index (distance=cosine, M=8)")
		require.Contains(t, first[11], "Using filesort", "the join's rows are still sorted")
		require.Equal(t, "c", strings.Split(rows[1], "|")[2])
		tree := queryString(t, db, "EXPLAIN FORMAT=TREE "+q)
		require.Contains(t, tree, "Vector index scan on docs using emb (distance=cosine, M=8)", tree)
		require.Contains(t, tree, "Sort: ", tree)
	})

	// The mariadb CLI and sibyl_embed as the query vector: the brief's
	// semantic search over a join.
	t.Run("mariadb CLI, sibyl_embed", func(t *testing.T) {
		q := "SELECT n.id, c.name, VEC_DISTANCE(n.emb, sibyl_embed('refund for a broken phone')) AS dist FROM notes n LEFT JOIN cats c ON c.id = n.cat_id WHERE c.name <> 'cat2' ORDER BY VEC_DISTANCE(n.emb, sibyl_embed('refund for a broken phone'))%s LIMIT 10;\n"
		plan := explainTree(t, db, strings.TrimSuffix(fmt.Sprintf(q, ""), ";\n"))
		require.Contains(t, plan, "VectorIndexJoin", plan)
		require.Contains(t, plan, "VectorIndexScan(notes.emb on emb", plan)
		got, err := srv.Mariadb("SET mhnsw_ef_search = 2000;\n"+fmt.Sprintf(q, ""), "-uroot", "v")
		require.NoError(t, err, got)
		want, err := srv.Mariadb(fmt.Sprintf(q, " + 0"), "-uroot", "v")
		require.NoError(t, err, want)
		require.Equal(t, 11, strings.Count(got, "\n"), got) // header + 10 rows
		require.Equal(t, want, got)
	})
}

// TestVectorIndexJoinEfSearch: mhnsw_ef_search applies to a join's search
// as to a single-table one: for an inner join on a key every driving row
// matches, the join's driving rows are exactly the single-table search's,
// at each search width; the widest gives the exact answer.
func TestVectorIndexJoinEfSearch(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE v")
	db := srv.DB("v")
	mustExec(t, db,
		"CREATE TABLE p (id INT PRIMARY KEY, grp INT NOT NULL, v VECTOR(16) NOT NULL, VECTOR INDEX (v) M=4 DISTANCE=euclidean)",
		"CREATE TABLE g (id INT PRIMARY KEY, label VARCHAR(10))",
		"INSERT INTO g VALUES (0, 'g0'), (1, 'g1'), (2, 'g2')",
	)
	var values []string
	for i := 0; i < 3000; i++ {
		parts := make([]string, 16)
		for j := range parts {
			parts[j] = fmt.Sprintf("%.3f", math.Sin(float64(i*(j+3))*0.61+float64(j)))
		}
		values = append(values, fmt.Sprintf("(%d, %d, VEC_FromText('[%s]'))", i, i%3, strings.Join(parts, ",")))
	}
	mustExec(t, db, "INSERT INTO p VALUES "+strings.Join(values, ","))
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()

	const single = "SELECT id FROM p ORDER BY VEC_DISTANCE_EUCLIDEAN(v, STRING_TO_VECTOR(?)) LIMIT 10"
	const joined = "SELECT p.id FROM p JOIN g ON g.id = p.grp ORDER BY VEC_DISTANCE_EUCLIDEAN(p.v, STRING_TO_VECTOR(?)) LIMIT 10"
	const exact = "SELECT p.id FROM p JOIN g ON g.id = p.grp ORDER BY VEC_DISTANCE_EUCLIDEAN(p.v, STRING_TO_VECTOR(?)) + 0 LIMIT 10"
	require.Contains(t, explainTree(t, db, strings.Replace(joined, "?", "'[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]'", 1)), "VectorIndexScan")
	// The narrowest search misses some true neighbours (the graph and
	// data are deterministic: the graph's level draws are seeded), and
	// the join misses exactly the same ones.
	missed := 0
	for _, ef := range []int{10, 40, 5000} {
		_, err := conn.ExecContext(context.Background(), fmt.Sprintf("SET mhnsw_ef_search = %d", ef))
		require.NoError(t, err)
		for i := 0; i < 20; i++ {
			parts := make([]string, 16)
			for j := range parts {
				parts[j] = fmt.Sprintf("%.3f", math.Cos(float64(i*(j+1))*0.37))
			}
			q := "[" + strings.Join(parts, ",") + "]"
			want := queryRows(t, conn, single, q)
			got := queryRows(t, conn, joined, q)
			require.ElementsMatch(t, want, got, "ef %d, query %s", ef, q)
			switch ef {
			case 5000:
				require.ElementsMatch(t, queryRows(t, conn, exact, q), got, "query %s", q)
			case 10:
				if !sameRows(queryRows(t, conn, exact, q), got) {
					missed++
				}
			}
		}
	}
	t.Logf("mhnsw_ef_search = 10: %d of 20 searches differ from the exact answer", missed)
	require.Positive(t, missed, "mhnsw_ef_search = 10 should trade some recall away")
}

// vectorJoinQueries are the query vectors the join tests search for.
var vectorJoinQueries = []string{"[0.3,-0.2,0.5,0.1,-0.7,0.2]", "[-0.9,0.4,0.05,0.6,0.3,-0.1]", "[0.11,0.82,-0.33,-0.45,0.05,0.61]"}

// startVectorJoin starts a server with vectorJoinFixture's tables in
// database v and returns a pool and one connection whose search width is
// beyond the table size: the graph search is exact, so an index plan must
// equal the exact one row for row.
func startVectorJoin(t *testing.T) (*testserver.Server, *sql.DB, *sql.Conn) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE v")
	db := srv.DB("v")
	vectorJoinFixture(t, db)
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = conn.ExecContext(context.Background(), "SET mhnsw_ef_search = 2000")
	require.NoError(t, err)
	return srv, db, conn
}

// requireExactRows runs q and exactQ (its exact-plan twin) as prepared
// statements for each query vector, passed once per occurrence of dist in
// q and followed by args, and requires the same, non-empty rows.
func requireExactRows(t *testing.T, conn interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, q, exactQ, dist string, queries []string, args []any) {
	t.Helper()
	for _, qv := range queries {
		all := make([]any, 0, 4)
		for i := 0; i < strings.Count(q, dist); i++ {
			all = append(all, qv)
		}
		all = append(all, args...)
		want := queryRows(t, conn, exactQ, all...)
		require.NotEmpty(t, want)
		require.Equal(t, want, queryRows(t, conn, q, all...), "query vector %s", qv)
	}
}

// exactQuery is q with its last ORDER BY key, the distance (dist, or its
// alias "dist"), plus 0: the same order, in an expression the vector rule does not take.
func exactQuery(q, dist string) string {
	for _, key := range []string{dist, "BY dist"} {
		for _, end := range []string{" LIMIT", " DESC LIMIT"} {
			q = strings.ReplaceAll(q, key+end, key+" + 0"+end)
		}
	}
	return q
}

// sameRows reports whether a and b hold the same rows in any order.
func sameRows(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestVectorGraphSharedAcrossColumnLists: statements reading different
// columns of a vector-indexed table, and a join over it, search one graph
// (Sibyl_vector_graph_builds counts one build per table version). Each
// column list used to build and hold its own graph: minutes each for the
// 341k-word table. The rows each statement returns are the exact plan's.
func TestVectorGraphSharedAcrossColumnLists(t *testing.T) {
	_, db, conn := startVectorJoin(t)
	builds := func() int64 { return globalStatus(t, db, "Sibyl_vector_graph_builds")["Sibyl_vector_graph_builds"] }
	before := builds()
	const dist = "VEC_DISTANCE_COSINE(d.emb, STRING_TO_VECTOR(?))"
	for _, q := range []string{
		"SELECT d.id FROM docs d ORDER BY " + dist + " LIMIT 5",
		"SELECT d.id, d.cat_id FROM docs d ORDER BY " + dist + " LIMIT 5",
		"SELECT d.cat_id, d.id, VECTOR_TO_STRING(d.emb) FROM docs d ORDER BY " + dist + " LIMIT 5",
		"SELECT d.id, c.name FROM docs d JOIN cats c ON c.id = d.cat_id ORDER BY " + dist + " LIMIT 5",
	} {
		require.Contains(t, explainTree(t, db, strings.ReplaceAll(q, "?", "'"+vectorJoinQueries[0]+"'")), "VectorIndexScan", q)
		requireExactRows(t, conn, q, exactQuery(q, dist), dist, vectorJoinQueries, nil)
	}
	require.Equal(t, before+1, builds(), "one graph for every column list")
}
