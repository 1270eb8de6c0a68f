package e2e

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// explainSchema is the schema and data of testdata/explain.txt, created
// alike in SibylDB and MariaDB: 1000 customers in 50 regions, 3000 orders.
// The tables are big enough that MariaDB's cost model prefers the indexes
// for the selective predicates.
func explainSchema(t *testing.T, db *sql.DB, analyze bool) {
	t.Helper()
	mustExec(t, db,
		"CREATE TABLE customers (id INT PRIMARY KEY, region VARCHAR(20) NOT NULL, score INT NOT NULL, KEY idx_region (region))",
		"CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, amount INT NOT NULL, KEY idx_customer (customer_id))")
	var cust, ord []string
	for i := 1; i <= 1000; i++ {
		cust = append(cust, fmt.Sprintf("(%d, 'r%d', %d)", i, i%50, (i*37)%100))
	}
	for i := 1; i <= 3000; i++ {
		ord = append(ord, fmt.Sprintf("(%d, %d, %d)", i, 1+(i*7)%1000, (i*13)%1000))
	}
	mustExec(t, db, "INSERT INTO customers VALUES "+strings.Join(cust, ","),
		"INSERT INTO orders VALUES "+strings.Join(ord, ","))
	if analyze {
		// SibylDB's ANALYZE TABLE fails today (a nil database provider
		// in Dolt's stats controller); its EXPLAIN reads row counts from
		// the tables themselves.
		mustExec(t, db, "ANALYZE TABLE customers, orders")
	}
}

// explainCase is one block of testdata/explain.txt.
type explainCase struct {
	query   string
	rows    [][4]string // table, type, key, Extra
	mariadb [][3]string // nil: same as rows
	why     string
}

func readExplainCases(t *testing.T, path string) []explainCase {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []explainCase
	var cur *explainCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "" {
			cur = nil
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		require.Truef(t, ok, "bad line %q", line)
		v = strings.TrimSpace(v)
		if cur == nil {
			out = append(out, explainCase{})
			cur = &out[len(out)-1]
		}
		switch k {
		case "query":
			cur.query = v
		case "row":
			p := strings.Split(v, "|")
			require.Lenf(t, p, 4, "row %q", v)
			cur.rows = append(cur.rows, [4]string{p[0], p[1], p[2], p[3]})
		case "mariadb":
			if v == "same" {
				continue
			}
			for _, r := range strings.Split(v, ";") {
				p := strings.Split(strings.TrimSpace(r), "|")
				require.Lenf(t, p, 3, "mariadb row %q", r)
				cur.mariadb = append(cur.mariadb, [3]string{p[0], p[1], p[2]})
			}
		case "why":
			cur.why = v
		default:
			t.Fatalf("unknown key %q", k)
		}
	}
	require.NoError(t, sc.Err())
	for _, c := range out {
		require.NotEmpty(t, c.query)
		require.NotEmpty(t, c.rows, c.query)
		require.Equalf(t, c.mariadb == nil, c.why == "", "%s: a MariaDB difference needs a why, and only a difference", c.query)
	}
	return out
}

// explainTable runs EXPLAIN q and returns its rows as column name -> value
// ("NULL" for NULL), so MySQL's and MariaDB's column sets compare alike.
func explainTable(t *testing.T, db *sql.DB, q string) []map[string]string {
	t.Helper()
	return queryMaps(t, db, "EXPLAIN "+q)
}

// queryMaps returns q's rows as column name -> value ("NULL" for NULL).
func queryMaps(t *testing.T, db *sql.DB, q string) []map[string]string {
	t.Helper()
	rows, err := db.Query(q)
	require.NoErrorf(t, err, "%s", q)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		m := map[string]string{}
		for i, c := range cols {
			m[c] = "NULL"
			if vals[i].Valid {
				m[c] = vals[i].String
			}
		}
		out = append(out, m)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestExplainMatchesMariaDB: traditional EXPLAIN has MySQL 8's columns,
// one row per table access mapped from the real plan, and chooses the same
// access type and key as MariaDB on the same schema and data, for each
// case of testdata/explain.txt (differences are documented there).
func TestExplainMatchesMariaDB(t *testing.T) {
	cases := readExplainCases(t, "testdata/explain.txt")

	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE ex")
	sib := srv.DB("ex")
	explainSchema(t, sib, false)

	maria, err := testserver.StartMariaDBProcess()
	require.NoError(t, err)
	t.Cleanup(maria.Stop)
	root, err := sql.Open("mysql", maria.DSN())
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })
	mustExec(t, root, "CREATE DATABASE ex")
	mdb, err := sql.Open("mysql", maria.DSN()+"ex")
	require.NoError(t, err)
	t.Cleanup(func() { mdb.Close() })
	explainSchema(t, mdb, true)

	rows, err := sib.Query("EXPLAIN SELECT * FROM customers")
	require.NoError(t, err)
	cols, err := rows.Columns()
	require.NoError(t, err)
	require.NoError(t, rows.Close())
	require.Equal(t, []string{"id", "select_type", "table", "partitions", "type", "possible_keys", "key", "key_len", "ref", "rows", "filtered", "Extra"}, cols)

	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			got := explainTable(t, sib, c.query)
			require.Lenf(t, got, len(c.rows), "SibylDB rows: %v", got)
			for i, want := range c.rows {
				require.Equalf(t, want, [4]string{got[i]["table"], got[i]["type"], got[i]["key"], got[i]["Extra"]}, "row %d: %v", i, got[i])
			}
			want := c.mariadb
			if want == nil {
				for _, r := range c.rows {
					want = append(want, [3]string{r[0], r[1], r[2]})
				}
			}
			var m [][3]string
			for _, r := range explainTable(t, mdb, c.query) {
				m = append(m, [3]string{r["table"], r["type"], r["key"]})
			}
			require.Equalf(t, want, m, "MariaDB's choice (documented difference: %q)", c.why)
		})
	}
}

// TestExplainVectorIndexAndMachineLearning: the vector index search and
// the batched model call appear in traditional EXPLAIN on the rows of the
// tables they read: the vector index as type index with its key, the ML
// operator as Extra "Batched machine learning" (as on Aurora).
func TestExplainVectorIndexAndMachineLearning(t *testing.T) {
	_, _, db := mlSetup(t, 20, 20, "SAGEMAKER")
	mustExec(t, db, "CREATE TABLE p (id INT PRIMARY KEY, v VECTOR(3) NOT NULL, VECTOR INDEX vidx (v) M=8 DISTANCE=cosine)",
		"INSERT INTO p VALUES (1, VEC_FromText('[1,2,3]')), (2, VEC_FromText('[3,2,1]')), (3, VEC_FromText('[1,1,1]'))")
	cases := []struct {
		q    string
		want [][4]string // table, type, key, Extra
	}{
		{"SELECT id FROM p ORDER BY VEC_DISTANCE_COSINE(v, VEC_FromText('[3,7,2]')) LIMIT 2",
			[][4]string{{"p", "index", "vidx", "Using vector index (distance=cosine, M=8)"}}},
		{"SELECT id, twice(x) FROM nums",
			[][4]string{{"nums", "ALL", "NULL", "Batched machine learning"}}},
		{"SELECT id, twice(x) FROM nums WHERE id = 3",
			[][4]string{{"nums", "const", "PRIMARY", "Batched machine learning"}}},
		{"SELECT n.id, twice(n.x) FROM nums n JOIN p ON p.id = n.id",
			nil},
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			got := explainTable(t, db, c.q)
			if c.want == nil {
				// A join: one row per table, the ML operator on the first.
				require.Len(t, got, 2, "%v", got)
				require.Contains(t, got[0]["Extra"], "Batched machine learning")
				return
			}
			require.Len(t, got, len(c.want), "%v", got)
			for i, w := range c.want {
				require.Equal(t, w, [4]string{got[i]["table"], got[i]["type"], got[i]["key"], got[i]["Extra"]}, "%v", got[i])
			}
		})
	}
}

// TestExplainNeedsTheQueryPrivileges: EXPLAIN of a statement asks for the
// same privileges as the statement (MySQL's 1142), so it tells nothing
// about tables the user may not read or change.
func TestExplainNeedsTheQueryPrivileges(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE ex", "CREATE TABLE ex.pub (id INT PRIMARY KEY)", "CREATE TABLE ex.secret (id INT PRIMARY KEY)",
		"CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'", "GRANT SELECT ON ex.pub TO 'reader'@'%'")
	db := srv.Open(srv.DSN("reader", "pw", "ex"))
	got := explainTable(t, db, "SELECT * FROM pub WHERE id = 1")
	require.Equal(t, "const", got[0]["type"])
	for _, q := range []string{"SELECT * FROM secret", "UPDATE pub SET id = 2", "DELETE FROM pub", "INSERT INTO pub VALUES (1)",
		"SELECT * FROM pub JOIN secret USING (id)"} {
		_, err := db.Query("EXPLAIN " + q)
		code, _ := mysqlErr(t, err)
		require.EqualValues(t, 1142, code, q)
	}
}

// explainText runs an EXPLAIN that answers MySQL's one EXPLAIN column and
// returns its text.
func explainText(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rows, err := db.Query(q)
	require.NoErrorf(t, err, "%s", q)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	require.Equal(t, []string{"EXPLAIN"}, cols, "MySQL's column name")
	require.True(t, rows.Next(), q)
	var s string
	require.NoError(t, rows.Scan(&s))
	require.False(t, rows.Next(), "one row, as MySQL")
	require.NoError(t, rows.Err())
	return s
}

// TestExplainFormatTree: EXPLAIN FORMAT=TREE (and DESCRIBE FORMAT=TREE)
// prints MySQL 8's indented operator tree, mapped from the real plan.
func TestExplainFormatTree(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE ex")
	db := srv.DB("ex")
	explainSchema(t, db, false)
	cases := []struct{ q, want string }{
		{"EXPLAIN FORMAT=TREE SELECT * FROM customers WHERE id = 7",
			"-> Single-row index lookup on customers using PRIMARY (id=7)\n"},
		{"DESCRIBE FORMAT=TREE SELECT * FROM customers WHERE region = 'r3'",
			"-> Index lookup on customers using idx_region (region='r3')\n"},
		{"explain format = tree SELECT * FROM customers WHERE id BETWEEN 10 AND 20",
			"-> Index range scan on customers using PRIMARY over (10 <= id <= 20)\n"},
		{"EXPLAIN FORMAT=TREE SELECT * FROM customers WHERE score > 50 ORDER BY score LIMIT 3",
			"-> Limit: 3 row(s)\n    -> Sort: customers.score, limit input to 3 row(s) per chunk\n        -> Filter: (customers.score > 50)\n            -> Table scan on customers\n"},
		{"EXPLAIN FORMAT=TREE SELECT score, COUNT(*) FROM customers GROUP BY score",
			"-> Table scan on <temporary>\n    -> Aggregate using temporary table\n        -> Table scan on customers\n"},
		{"EXPLAIN FORMAT=TREE SELECT c.region, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = 5",
			"-> Nested loop inner join\n    -> Single-row index lookup on o using PRIMARY (id=5)\n    -> Single-row index lookup on c using PRIMARY (id=o.customer_id)\n"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, explainText(t, db, c.q), c.q)
	}
	// EXPLAIN PLAN keeps GMS's own plan text.
	require.Contains(t, strings.Join(dump(t, db, "EXPLAIN PLAN SELECT * FROM customers WHERE id = 7"), "\n"), "IndexedTableAccess(customers)")
}

var actualRe = regexp.MustCompile(`\(actual time=(\d+\.\d+)\.\.(\d+\.\d+) rows=(\d+(?:\.\d+)?) loops=(\d+)\)`)

// TestExplainAnalyze: EXPLAIN ANALYZE runs the statement and shows, per
// operator, MySQL 8's "(actual time=first..last rows=n loops=l)": the
// rows really read (a dependent subquery's lookup once per outer row),
// times that are sane; a statement that changes data is refused (1235),
// and the statement's privileges apply.
func TestExplainAnalyze(t *testing.T) {
	srv := testserver.Start(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE ex")
	db := srv.DB("ex")
	explainSchema(t, db, false)

	type op struct {
		line  string // the operator, up to its annotation
		rows  string
		loops int
	}
	cases := []struct {
		q   string
		ops []op
	}{
		{"SELECT * FROM customers WHERE region = 'r3'", []op{{"-> Index lookup on customers using idx_region (region='r3')", "20", 1}}},
		{"SELECT * FROM customers", []op{{"-> Table scan on customers", "1000", 1}}},
		{"SELECT score, COUNT(*) FROM customers GROUP BY score", []op{
			{"-> Table scan on <temporary>", "100", 1},
			{"        -> Table scan on customers", "1000", 1}}},
		{"SELECT region, (SELECT MAX(amount) FROM orders WHERE customer_id = c.id) FROM customers c WHERE id BETWEEN 2 AND 5", []op{
			{"-> Index range scan on c using PRIMARY over (2 <= id <= 5)", "4", 1},
			{"                -> Index lookup on orders using idx_customer (customer_id=c.id)", "3", 4}}},
		{"SELECT * FROM customers WHERE id = 100000", []op{{"-> Single-row index lookup on customers using PRIMARY (id=100000)", "0", 1}}},
	}
	for _, c := range cases {
		text := explainText(t, db, "EXPLAIN ANALYZE "+c.q)
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		for _, o := range c.ops {
			found := false
			for _, l := range lines {
				if !strings.HasPrefix(l, o.line+"  (actual") {
					continue
				}
				found = true
				m := actualRe.FindStringSubmatch(l)
				require.NotNil(t, m, l)
				first, _ := strconv.ParseFloat(m[1], 64)
				last, _ := strconv.ParseFloat(m[2], 64)
				require.LessOrEqual(t, first, last, l)
				require.Less(t, last, 60000.0, l)
				require.Equal(t, o.rows, m[3], l)
				require.Equal(t, fmt.Sprint(o.loops), m[4], l)
			}
			require.Truef(t, found, "%q not in\n%s", o.line, text)
		}
	}

	_, err := db.Query("EXPLAIN ANALYZE UPDATE customers SET score = 0")
	code, _ := mysqlErr(t, err)
	require.EqualValues(t, 1235, code)
	require.Zero(t, queryInt(t, db, "SELECT COUNT(*) FROM customers WHERE score = 0 AND id % 100 <> 0"), "the UPDATE did not run")

	mustExec(t, root, "CREATE USER 'reader'@'%' IDENTIFIED BY 'pw'", "GRANT SELECT ON ex.customers TO 'reader'@'%'")
	reader := srv.Open(srv.DSN("reader", "pw", "ex"))
	explainText(t, reader, "EXPLAIN ANALYZE SELECT * FROM customers WHERE id = 1")
	for _, q := range []string{"EXPLAIN ANALYZE SELECT * FROM orders", "EXPLAIN FORMAT=TREE SELECT * FROM orders",
		"EXPLAIN FORMAT=TREE UPDATE customers SET score = 1"} {
		_, err := reader.Query(q)
		code, _ := mysqlErr(t, err)
		require.EqualValues(t, 1142, code, q)
	}
}

// TestExplainFormatTraditional: FORMAT=TRADITIONAL is MySQL's name for the
// tabular form.
func TestExplainFormatTraditional(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE ex", "CREATE TABLE ex.t (id INT PRIMARY KEY)")
	db := srv.DB("ex")
	for _, q := range []string{"EXPLAIN FORMAT=TRADITIONAL SELECT * FROM t WHERE id = 1", "EXPLAIN SELECT * FROM t WHERE id = 1"} {
		got := explainTable(t, db, strings.TrimPrefix(q, "EXPLAIN "))
		require.Len(t, got, 1, q)
		require.Equal(t, "const", got[0]["type"], q)
	}
}
