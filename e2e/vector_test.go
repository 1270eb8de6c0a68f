package e2e

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestVectorFunctions checks the vector functions against the examples of
// the MySQL 9 and MariaDB 11.8 manuals, under both servers' spellings,
// and the errors and warnings each server documents for bad input.
func TestVectorFunctions(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE v")
	db = srv.DB("v")

	values := []struct{ q, want string }{
		// MariaDB manual, VEC_FromText and VEC_ToText.
		{"SELECT HEX(VEC_FromText('[1,2,3]'))", "0000803F0000004000004040"},
		{"SELECT VEC_ToText(x'e360d63ebe554f3fcdbc523f4522193f5236083d')", "[0.418708,0.809902,0.823193,0.598179,0.033255]"},
		// MySQL manual, STRING_TO_VECTOR / TO_VECTOR / VECTOR_TO_STRING / VECTOR_DIM.
		{`SELECT HEX(STRING_TO_VECTOR("[1.05, -17.8, 32]"))`, "6666863F66668EC100000042"},
		{`SELECT HEX(TO_VECTOR("[1.05, -17.8, 32, 123.456]"))`, "6666863F66668EC10000004279E9F642"},
		{`SELECT VECTOR_TO_STRING(STRING_TO_VECTOR("[1.05, -17.8, 32]"))`, "[1.05000e+00,-1.78000e+01,3.20000e+01]"},
		{`SELECT FROM_VECTOR(TO_VECTOR("[1.08, -18.8, 88]"))`, "[1.08000e+00,-1.88000e+01,8.80000e+01]"},
		{"SELECT VECTOR_DIM(0x0040004000800080)", "2"},
		// MySQL HeatWave manual, DISTANCE.
		{`SELECT DISTANCE(STRING_TO_VECTOR("[1.01231, 2.0123123, 3.0123123, 4.01231231]"), STRING_TO_VECTOR("[1, 2, 3, 4]"), "COSINE")`, "0.0000016689300537109375"},
		{`SELECT DISTANCE(TO_VECTOR("[1,2,3]"), TO_VECTOR("[4,5,6]"), 'dot')`, "32"},
		{`SELECT VECTOR_DISTANCE(TO_VECTOR("[0,0]"), TO_VECTOR("[3,4]"), 'EUCLIDEAN')`, "5"},
		// MariaDB: Euclidean is true L2 (the engine's own was squared).
		{"SELECT VEC_DISTANCE_EUCLIDEAN(VEC_FromText('[0,0]'), VEC_FromText('[3,4]'))", "5"},
		{"SELECT VEC_DISTANCE_COSINE(VEC_FromText('[1,0]'), VEC_FromText('[0,2]'))", "1"},
		{"SELECT VEC_DISTANCE_COSINE(VEC_FromText('[1,1]'), VEC_FromText('[2,2]'))", "0"},
		// MariaDB returns NULL for vectors of different lengths and for
		// binary strings that are no vector.
		{"SELECT COALESCE(VEC_DISTANCE_EUCLIDEAN(VEC_FromText('[1,2]'), VEC_FromText('[1,2,3]')), 'null')", "null"},
		{"SELECT COALESCE(VEC_DISTANCE_COSINE(x'aabbcc', VEC_FromText('[1]')), 'null')", "null"},
		{"SELECT COALESCE(VEC_ToText(NULL), 'null')", "null"},
		{"SELECT VEC_ToText(VEC_FromText(' [ 1e-3 , -2.5E2 ,0 ] '))", "[0.001,-250,0]"},
	}
	for _, c := range values {
		t.Run(c.q, func(t *testing.T) {
			got := queryString(t, db, c.q)
			if strings.Contains(c.q, "DISTANCE(") && strings.HasPrefix(c.want, "0.0") {
				var f, w float64
				fmt.Sscan(got, &f)
				fmt.Sscan(c.want, &w)
				require.Equal(t, w, f, "bit-exact float: got %s", got)
				return
			}
			require.Equal(t, c.want, got)
		})
	}

	errs := []struct {
		q    string
		code uint16
	}{
		{"SELECT STRING_TO_VECTOR('[1,2')", 6138},
		{"SELECT STRING_TO_VECTOR('[1,NaN]')", 6138},
		{"SELECT STRING_TO_VECTOR('[1e39]')", 6138},
		{"SELECT STRING_TO_VECTOR('[]')", 6138},
		{"SELECT TO_VECTOR('abc')", 6138},
		{"SELECT VECTOR_TO_STRING(x'aabbcc')", 3064},
		{"SELECT VECTOR_DIM(x'aabbcc')", 3064},
		{"SELECT DISTANCE(TO_VECTOR('[1,2]'), TO_VECTOR('[1,2,3]'), 'COSINE')", 1210},
		{"SELECT DISTANCE(TO_VECTOR('[1,2]'), TO_VECTOR('[1,2]'), 'MANHATTAN')", 1210},
		{"SELECT VEC_DISTANCE(VEC_FromText('[1]'), VEC_FromText('[2]'))", 4206},
	}
	for _, c := range errs {
		t.Run(c.q, func(t *testing.T) {
			_, err := db.Exec(c.q)
			code, _ := mysqlErr(t, err)
			require.Equal(t, c.code, code, "%v", err)
		})
	}

	warns := []struct{ q, warning string }{
		{"SELECT VEC_ToText(x'aabbcc')", "Warning 4204 Invalid binary vector format. Must use IEEE standard float representation in little-endian format. Use VEC_FromText() to generate it."},
		{"SELECT VEC_FromText('[1,2,x]')", "Warning 4205 Invalid vector format at offset: 5 for '[1,2,x]'. Must be a valid JSON array of numbers."},
		{"SELECT VEC_FromText('{\"a\":1}')", "Warning 4205 Invalid vector format at offset: 0 for '{\"a\":1}'. Must be a valid JSON array of numbers."},
	}
	for _, c := range warns {
		t.Run(c.q, func(t *testing.T) {
			withConn(t, db, func(conn *sql.Conn) {
				var v sql.NullString
				require.NoError(t, conn.QueryRowContext(context.Background(), c.q).Scan(&v))
				require.False(t, v.Valid, "MariaDB returns NULL")
				require.Equal(t, []string{c.warning}, warnings(t, conn))
			})
		})
	}
}

// TestVectorColumns: VECTOR(n) bounds, dimension checks on insert, and
// VEC_DISTANCE taking the metric of the column's vector index.
func TestVectorColumns(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE v")
	db = srv.DB("v")
	mustExec(t, db,
		"CREATE TABLE big (id INT PRIMARY KEY, v VECTOR(16383))",
		"CREATE TABLE e (id INT PRIMARY KEY, v VECTOR(2) NOT NULL, VECTOR INDEX (v))",
		"CREATE TABLE c (id INT PRIMARY KEY, v VECTOR(2) NOT NULL, VECTOR INDEX (v) DISTANCE=cosine)",
		"INSERT INTO e VALUES (1, VEC_FromText('[3,4]'))",
		"INSERT INTO c VALUES (1, VEC_FromText('[3,4]'))",
	)
	_, err := db.Exec("CREATE TABLE huge (v VECTOR(16384))")
	require.Error(t, err)
	_, err = db.Exec("INSERT INTO e VALUES (2, VEC_FromText('[1,2,3]'))")
	require.Error(t, err, "a 3-dimensional value in a VECTOR(2) column")

	require.Equal(t, "5", queryString(t, db, "SELECT VEC_DISTANCE(v, VEC_FromText('[0,0]')) FROM e"))
	require.Equal(t, "0", queryString(t, db, "SELECT VEC_DISTANCE(VEC_FromText('[6,8]'), v) FROM c"))
	require.Equal(t, "1", queryString(t, db, "SELECT VECTOR_DIM(v) IS NOT NULL FROM e"))

	// ALTER TABLE takes the options too; VEC_DISTANCE follows the new index.
	mustExec(t, db,
		"CREATE TABLE a (id INT PRIMARY KEY, v VECTOR(2) NOT NULL)",
		"INSERT INTO a VALUES (1, VEC_FromText('[3,4]'))",
	)
	_, err = db.Exec("SELECT VEC_DISTANCE(v, VEC_FromText('[6,8]')) FROM a")
	code, _ := mysqlErr(t, err)
	require.Equal(t, uint16(4206), code)
	mustExec(t, db, "ALTER TABLE a ADD VECTOR INDEX va (v) M=4 DISTANCE=cosine")
	require.Equal(t, "0", queryString(t, db, "SELECT VEC_DISTANCE(v, VEC_FromText('[6,8]')) FROM a"))
}

// TestVectorDrivers: a vector goes in and comes back unchanged through
// go-sql-driver/mysql's text and binary (prepared) protocols, the mariadb
// CLI and PyMySQL.
func TestVectorDrivers(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE v")
	db = srv.DB("v")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VECTOR(3))")
	raw, _ := hex.DecodeString("0000803f00000040cdcc4c3e") // [1, 2, 0.2]

	// Binary protocol: the vector as a []byte parameter and result.
	_, err := db.Exec("INSERT INTO t VALUES (?, ?)", 1, raw)
	require.NoError(t, err)
	// Text form as a parameter of the conversion function.
	_, err = db.Exec("INSERT INTO t VALUES (?, STRING_TO_VECTOR(?))", 2, "[1,2,0.2]")
	require.NoError(t, err)
	for _, id := range []int{1, 2} {
		var got []byte
		require.NoError(t, db.QueryRow("SELECT v FROM t WHERE id = ?", id).Scan(&got))
		require.Equal(t, raw, got, "prepared, id %d", id)
		var text []byte
		require.NoError(t, db.QueryRow(fmt.Sprintf("SELECT v FROM t WHERE id = %d", id)).Scan(&text))
		require.Equal(t, raw, text, "text protocol, id %d", id)
	}

	out, err := srv.Mariadb("SELECT VEC_ToText(v), HEX(v) FROM t ORDER BY id;", "-uroot", "v")
	require.NoError(t, err, out)
	require.Equal(t, "VEC_ToText(v)\tHEX(v)\n[1,2,0.2]\t0000803F00000040CDCC4C3E\n[1,2,0.2]\t0000803F00000040CDCC4C3E\n", out)

	// Debian's python3-pymysql lives under the system interpreter, which a
	// pyenv shim earlier on PATH may hide.
	python := ""
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import pymysql").Run() == nil {
			python = p
			break
		}
	}
	if python == "" {
		t.Log("PyMySQL not installed (apt-get install python3-pymysql): skipping its round trip")
		return
	}
	host, port, _ := strings.Cut(srv.Addr, ":")
	script := fmt.Sprintf(`
import pymysql, struct
c = pymysql.connect(host=%q, port=%s, user="root", database="v")
cur = c.cursor()
v = struct.pack("<3f", 1.5, -2.0, 3.25)
cur.execute("INSERT INTO t VALUES (3, %%s)", (v,))
c.commit()
# The column travels as MySQL 9's MYSQL_TYPE_VECTOR (242), which PyMySQL
# 1.0 does not know and would decode as ASCII, as it does from MySQL 9
# itself; CAST(v AS BINARY) gives it the bytes.
cur.execute("SELECT CAST(v AS BINARY), VECTOR_TO_STRING(v) FROM t WHERE id = 3")
b, s = cur.fetchone()
assert bytes(b) == v, (b, v)
print(s)
`, host, port)
	pyOut, err := exec.Command(python, "-c", script).CombinedOutput()
	require.NoError(t, err, string(pyOut))
	require.Equal(t, "[1.50000e+00,-2.00000e+00,3.25000e+00]\n", string(pyOut))
}

// TestVectorIndexSearch: ORDER BY <distance>(col, <constant>) LIMIT k reads
// through the HNSW index (EXPLAIN shows it), returns the exact nearest rows
// on a small table, keeps k rows under a selective WHERE, takes a
// prepared-statement parameter, sees INSERT/UPDATE/DELETE, and works after
// a restart (the graph is rebuilt from the table).
func TestVectorIndexSearch(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE v")
	db = srv.DB("v")
	mustExec(t, db, "CREATE TABLE p (id INT PRIMARY KEY, grp INT, v VECTOR(3) NOT NULL, VECTOR INDEX (v) M=8 DISTANCE=cosine)")
	var values []string
	for i := 0; i < 400; i++ {
		// Points on a spiral: distinct directions, a known cosine order.
		x, y, z := float64(i%20)+1, float64(i/20)+1, float64((i*7)%13)+1
		values = append(values, fmt.Sprintf("(%d, %d, VEC_FromText('[%g,%g,%g]'))", i, i%10, x, y, z))
	}
	mustExec(t, db, "INSERT INTO p VALUES "+strings.Join(values, ","))

	ids := func(q string, args ...any) string {
		t.Helper()
		rows, err := db.Query(q, args...)
		require.NoError(t, err, q)
		defer rows.Close()
		cols, err := rows.Columns()
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			var id string
			dest := []any{&id}
			for range cols[1:] {
				dest = append(dest, new(any))
			}
			require.NoError(t, rows.Scan(dest...))
			out = append(out, id)
		}
		require.NoError(t, rows.Err())
		return strings.Join(out, ",")
	}
	// The reference: the same ordering computed without the index (the
	// distance wrapped in an expression the planner does not match).
	exact := func(where string) string {
		return ids("SELECT id FROM p " + where + " ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('[3,7,2]')) + 0, id LIMIT 10")
	}
	mustExec(t, db, "SET mhnsw_ef_search = 200")
	cases := []struct{ name, q, where string }{
		{"cosine", "SELECT id FROM p ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('[3,7,2]')) LIMIT 10", ""},
		{"index metric", "SELECT id FROM p ORDER BY VEC_DISTANCE(v, VEC_FromText('[3,7,2]')) LIMIT 10", ""},
		{"mysql spelling", "SELECT id FROM p ORDER BY DISTANCE(v, STRING_TO_VECTOR('[3,7,2]'), 'COSINE') LIMIT 10", ""},
		{"alias", "SELECT id, VEC_DISTANCE_COSINE(v, VEC_FromText('[3,7,2]')) d FROM p ORDER BY d LIMIT 10", ""},
		{"selective filter", "SELECT id FROM p WHERE grp = 3 AND id % 7 <> 0 ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('[3,7,2]')) LIMIT 10", "WHERE grp = 3 AND id % 7 <> 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan := explainTree(t, db, c.q)
			require.Contains(t, plan, "VectorIndexScan", plan)
			got := ids(c.q)
			require.Len(t, strings.Split(got, ","), 10)
			require.Equal(t, exact(c.where), got)
		})
	}
	plan := explainTree(t, db, "SELECT id FROM p ORDER BY VEC_DISTANCE_EUCLIDEAN(v, VEC_FromText('[3,7,2]')) LIMIT 10")
	require.NotContains(t, plan, "VectorIndexScan", "a Euclidean query cannot use a cosine index")

	// The query vector read by a subquery ("rows like row 57"): the row
	// itself comes first. The engine once evaluated ORDER BY ... LIMIT
	// sort fields on a row one column longer than the plan's, so such a
	// subquery read the wrong columns (patches/gms/0001).
	require.Equal(t, "57", ids("SELECT id FROM p ORDER BY VEC_DISTANCE_COSINE(v, (SELECT v FROM p WHERE id = 57)), id LIMIT 1"))
	require.Equal(t,
		ids("SELECT id FROM p ORDER BY ABS(grp - (SELECT grp FROM p WHERE id = 57)), id"),
		ids("SELECT id FROM p ORDER BY ABS(grp - (SELECT grp FROM p WHERE id = 57)), id LIMIT 400"))

	// A prepared statement with the query vector as a parameter.
	require.Equal(t, exact(""), ids("SELECT id FROM p ORDER BY VEC_DISTANCE_COSINE(v, STRING_TO_VECTOR(?)) LIMIT 10", "[3,7,2]"))

	// Writes are seen by the next search.
	mustExec(t, db, "INSERT INTO p VALUES (1000, 0, VEC_FromText('[3,7,2]'))")
	require.Equal(t, "1000", ids("SELECT id FROM p ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('[3,7,2]')) LIMIT 1"))
	mustExec(t, db, "UPDATE p SET v = VEC_FromText('[-3,-7,-2]') WHERE id = 1000")
	first := ids("SELECT id FROM p ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('[3,7,2]')) LIMIT 1")
	require.NotEqual(t, "1000", first)
	mustExec(t, db, "DELETE FROM p WHERE id = "+first)
	require.Equal(t, exact(""), ids("SELECT id FROM p ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('[3,7,2]')) LIMIT 10"))

	// After a restart the index is rebuilt from the table.
	want := exact("")
	srv.Restart()
	db = srv.DB("v")
	mustExec(t, db, "SET mhnsw_ef_search = 200")
	require.Equal(t, want, ids("SELECT id FROM p ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('[3,7,2]')) LIMIT 10"))
	var name, ddl string
	require.NoError(t, db.QueryRow("SHOW CREATE TABLE p").Scan(&name, &ddl))
	require.Contains(t, ddl, "distance=cosine")
}

// TestVectorIndexConcurrentWriters writes to a table with a vector index
// from several connections at once. Each pair of concurrent commits merges
// the table, and the storage's own vector index data used to fail that
// merge (1105 "expected prollyIndex"); SibylDB keeps that index as a
// definition only (patches/dolt/0004) and searches its own graph.
func TestVectorIndexConcurrentWriters(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE v")
	db := srv.DB("v")
	db.SetMaxOpenConns(8)
	mustExec(t, db, "CREATE TABLE w (id INT PRIMARY KEY, v VECTOR(4) NOT NULL, VECTOR INDEX (v) DISTANCE=euclidean)")
	const writers, perWriter = 4, 60
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		go func(w int) {
			for i := 0; i < perWriter; i++ {
				id := w*1000 + i
				if _, err := db.Exec("INSERT INTO w VALUES (?, VEC_FromText(?))", id, fmt.Sprintf("[%d,%d,1,1]", w, i)); err != nil {
					errs <- fmt.Errorf("insert %d: %w", id, err)
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < writers; w++ {
		require.NoError(t, <-errs)
	}
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM w").Scan(&n))
	require.Equal(t, writers*perWriter, n)
	var id int
	require.NoError(t, db.QueryRow("SELECT id FROM w ORDER BY VEC_DISTANCE(v, VEC_FromText('[2,17,1,1]')) LIMIT 1").Scan(&id))
	require.Equal(t, 2017, id)
	// A vector index added to a table that has rows, and written again.
	mustExec(t, db, "CREATE TABLE w2 (id INT PRIMARY KEY, v VECTOR(4) NOT NULL)")
	mustExec(t, db, "INSERT INTO w2 SELECT * FROM w")
	mustExec(t, db, "ALTER TABLE w2 ADD VECTOR INDEX (v) DISTANCE=cosine")
	mustExec(t, db, "UPDATE w2 SET v = VEC_FromText('[-1,-1,-1,-1]') WHERE id = 3001")
	require.NoError(t, db.QueryRow("SELECT id FROM w2 ORDER BY VEC_DISTANCE(v, VEC_FromText('[-2,-2,-2,-2]')) LIMIT 1").Scan(&id))
	require.Equal(t, 3001, id)
}

// explainTree is GMS's plan text of q (EXPLAIN PLAN), which names the
// operators (VectorIndexScan), one line per plan row.
func explainTree(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN PLAN " + q)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		out = append(out, line)
	}
	require.NoError(t, rows.Err())
	return strings.Join(out, "\n")
}

// TestVectorEmbed: sibyl_embed works offline, returns a 100-dimensional
// VECTOR, ranks a paraphrase above unrelated text in a semantic search
// through the index, fills a stored generated column, and rejects models
// it does not have.
func TestVectorEmbed(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE v")
	db = srv.DB("v")
	require.Equal(t, "100", queryString(t, db, "SELECT VECTOR_DIM(sibyl_embed('hello world'))"))
	require.Equal(t, "100", queryString(t, db, "SELECT VECTOR_DIM(sibyl_embed('hello world', 'sif-glove-100d'))"))
	_, err := db.Exec("SELECT sibyl_embed('x', 'gpt-9')")
	code, _ := mysqlErr(t, err)
	require.Equal(t, uint16(1210), code)

	mustExec(t, db,
		"CREATE TABLE docs (id INT PRIMARY KEY, body TEXT, emb VECTOR(100) AS (sibyl_embed(body)) STORED NOT NULL, VECTOR INDEX (emb) DISTANCE=cosine)",
		`INSERT INTO docs (id, body) VALUES
			(1, 'my phone arrived with a cracked screen and I want my money back'),
			(2, 'the hotel room was clean and the staff were friendly'),
			(3, 'how do I reset my password'),
			(4, 'the train to the airport was delayed by an hour'),
			(5, 'great recipe for chocolate cake with fresh berries')`,
	)
	q := "SELECT id FROM docs ORDER BY VEC_DISTANCE_COSINE(emb, sibyl_embed('refund for a broken phone')) LIMIT 1"
	require.Contains(t, explainTree(t, db, q), "VectorIndexScan")
	require.Equal(t, "1", queryString(t, db, q))

	// The generated column follows UPDATE.
	mustExec(t, db, "UPDATE docs SET body = 'the cake was delicious' WHERE id = 1")
	require.Equal(t, "1", queryString(t, db, "SELECT VEC_DISTANCE_COSINE(emb, sibyl_embed('the cake was delicious')) < 1e-6 FROM docs WHERE id = 1"))
}
