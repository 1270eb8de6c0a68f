package e2e

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/gbtree"
	"github.com/sibyldb/sibyldb/internal/ml/xgb"
	"github.com/sibyldb/sibyldb/internal/testserver"
)

// s3Setup starts versitygw and a server whose AWS environment points at
// it, with a database io.
func s3Setup(t *testing.T) (*testserver.S3Server, *testserver.Server, *sql.DB) {
	t.Helper()
	gw := testserver.StartS3Server(t)
	srv := testserver.StartWithEnv(t, gw.Env())
	mustExec(t, srv.DB(""), "CREATE DATABASE io")
	db := srv.DB("io")
	db.SetMaxOpenConns(1) // session variables below apply to the one connection
	return gw, srv, db
}

// dump returns a table's rows as text, NULL as <NULL>, in primary key order.
func dump(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		vals := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		parts := make([]string, len(cols))
		for i, v := range vals {
			if v == nil {
				parts[i] = "<NULL>"
			} else {
				parts[i] = fmt.Sprintf("%q", string(v))
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	require.NoError(t, rows.Err())
	return out
}

func execRows(t *testing.T, db *sql.DB, q string) int64 {
	t.Helper()
	res, err := db.Exec(q)
	require.NoErrorf(t, err, "exec %q", q)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	return n
}

const typesTable = `CREATE TABLE %s (
  id INT PRIMARY KEY, i BIGINT, t TINYINT, u INT UNSIGNED, d DECIMAL(12,3), f DOUBLE, r FLOAT,
  s VARCHAR(100), tx TEXT, dt DATE, ts DATETIME(6), tm TIME, b BOOL, e ENUM('red','green','blue'),
  st SET('a','b','c'), j JSON, vb VARBINARY(20))`

var typesRows = []string{
	`(1, 9223372036854775807, -128, 4294967295, -123456789.125, 3.141592653589793, 1.5,
	  'plain', 'text', '2024-02-29', '2024-02-29 23:59:59.123456', '-838:59:59', TRUE, 'green', 'a,c', '{"k": [1, "x"]}', X'00FF10')`,
	`(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	`(3, -1, 0, 0, 0.000, -0.5, 0, 'tab\there, comma, "quote" and \\\\ back', 'line1\nline2\r\nline3', '1000-01-01', '1970-01-01 00:00:01', '00:00:00', FALSE, 'red', 'b', '[]', X'')`,
	`(4, 0, 1, 1, 1.5, 1e300, -2.25, 'ünïcødé ✓ 日本語 🙂', '', '9999-12-31', '9999-12-31 23:59:59', '12:34:56', TRUE, 'blue', 'b', 'null', X'5C4E')`,
	`(5, 7, 7, 7, 7, 7, 7, '\\N', 'NULL?', '2000-01-01', '2000-01-01 00:00:00', '01:02:03', FALSE, 'red', 'a,b,c', '"s"', X'0A0D09')`,
}

func TestS3RoundTripTypes(t *testing.T) {
	gw, _, db := s3Setup(t)
	mustExec(t, db, fmt.Sprintf(typesTable, "src"), "INSERT INTO src VALUES "+strings.Join(typesRows, ","))
	want := dump(t, db, "SELECT * FROM src ORDER BY id")

	for _, tc := range []struct{ name, export, load string }{
		{"text", "", ""},
		{"text-crlf", "LINES TERMINATED BY '\\r\\n'", "LINES TERMINATED BY '\\r\\n'"},
		{"text-custom", "FIELDS TERMINATED BY '|' ENCLOSED BY '\\'' ESCAPED BY '\\\\' LINES STARTING BY '>' TERMINATED BY ';\\n'",
			"FIELDS TERMINATED BY '|' ENCLOSED BY '\\'' ESCAPED BY '\\\\' LINES STARTING BY '>' TERMINATED BY ';\\n'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri := gw.URI("types/" + tc.name)
			require.EqualValues(t, len(typesRows), execRows(t, db, fmt.Sprintf("SELECT * FROM src INTO OUTFILE S3 '%s' %s", uri, tc.export)))
			mustExec(t, db, "DROP TABLE IF EXISTS dst", fmt.Sprintf(typesTable, "dst"))
			require.EqualValues(t, len(typesRows), execRows(t, db, fmt.Sprintf("LOAD DATA FROM S3 FILE '%s.part_00000' INTO TABLE dst %s", uri, tc.load)))
			require.Equal(t, want, dump(t, db, "SELECT * FROM dst ORDER BY id"))
		})
	}

	// CSV is RFC 4180: encoding/csv reads it back, NULL is the bare word
	// NULL and the empty string is "".
	uri := gw.URI("types/csv")
	mustExec(t, db, fmt.Sprintf("SELECT id, s, tx, d FROM src ORDER BY id INTO OUTFILE S3 '%s' FORMAT CSV HEADER", uri))
	body, err := gw.Get("types/csv.part_00000")
	require.NoError(t, err)
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	require.NoError(t, err, string(body))
	require.Equal(t, []string{"id", "s", "tx", "d"}, recs[0])
	require.Equal(t, []string{"2", "NULL", "NULL", "NULL"}, recs[2])
	require.Equal(t, `tab	here, comma, "quote" and \\ back`, recs[3][1])
	require.Contains(t, recs[3][2], "line1\nline2")
	require.Contains(t, string(body), "\"line1\nline2\r\nline3\"", "CRLF inside a quoted field is kept")
	require.Contains(t, string(body), "\n4,ünïcødé ✓ 日本語 🙂,\"\",1.500\n")

	// The CSV export loads back whole with the RFC 4180 options (quotes
	// doubled: ESCAPED BY '"'), the line breaks inside quoted fields of
	// rows 3 and 5 included.
	mustExec(t, db, "DROP TABLE IF EXISTS dst", fmt.Sprintf(typesTable, "dst"))
	mustExec(t, db, fmt.Sprintf("SELECT * FROM src INTO OUTFILE S3 '%s' FORMAT CSV HEADER", gw.URI("types/csv2")))
	mustExec(t, db, fmt.Sprintf(`LOAD DATA FROM S3 '%s' INTO TABLE dst FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '"' IGNORE 1 LINES`, gw.URI("types/csv2.part_00000")))
	require.Equal(t, want, dump(t, db, "SELECT * FROM dst ORDER BY id"))

	// CSV, TEXT, HEADER, FORMAT, MANIFEST and OVERWRITE stay identifiers.
	mustExec(t, db, "CREATE TABLE csv (text INT, header INT, format INT, manifest INT, overwrite INT, s3 INT)",
		"INSERT INTO csv VALUES (1,2,3,4,5,6)")
	require.EqualValues(t, 21, queryInt(t, db, "SELECT text+header+format+manifest+overwrite+s3 FROM csv"))
}

func TestS3ManifestPrefixAndParts(t *testing.T) {
	gw, _, db := s3Setup(t)
	mustExec(t, db, "CREATE TABLE n (id INT PRIMARY KEY, v VARCHAR(40))",
		// 3000 rows within cte_max_recursion_depth (1000).
		"INSERT INTO n WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 1000) SELECT (k.j-1)*1000+r.i, CONCAT('value-', (k.j-1)*1000+r.i) FROM r, (SELECT 1 AS j UNION ALL SELECT 2 UNION ALL SELECT 3) k",
		"SET sibyl_select_into_s3_max_file_size = 2000")
	require.EqualValues(t, 3000, execRows(t, db, fmt.Sprintf("SELECT * FROM n INTO OUTFILE S3 '%s' FORMAT CSV HEADER MANIFEST ON", gw.URI("m/out"))))
	keys := gw.Keys("m/out")
	require.Greater(t, len(keys), 20, "a prefix with many parts")
	require.Equal(t, "m/out.manifest", keys[0]) // "manifest" sorts before "part_"

	raw, err := gw.Get("m/out.manifest")
	require.NoError(t, err)
	var m struct {
		Entries []struct {
			URL string `json:"url"`
		} `json:"entries"`
	}
	require.NoError(t, json.Unmarshal(raw, &m))
	require.Len(t, m.Entries, len(keys)-1)
	for i, e := range m.Entries {
		require.Equal(t, fmt.Sprintf("s3://%s/m/out.part_%05d", gw.Bucket, i), e.URL)
		require.Equal(t, fmt.Sprintf("m/out.part_%05d", i), keys[i+1])
		part, err := gw.Get(fmt.Sprintf("m/out.part_%05d", i))
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(part), "id,v\n"), "every part starts with the header")
		require.LessOrEqual(t, len(part), 2000+40)
	}

	mustExec(t, db, "CREATE TABLE m1 LIKE n", "CREATE TABLE m2 LIKE n")
	// IGNORE 1 LINES applies to each file.
	require.EqualValues(t, 3000, execRows(t, db, fmt.Sprintf("LOAD DATA FROM S3 MANIFEST '%s' INTO TABLE m1 FIELDS TERMINATED BY ',' IGNORE 1 LINES", gw.URI("m/out.manifest"))))
	require.Equal(t, dump(t, db, "SELECT * FROM n ORDER BY id"), dump(t, db, "SELECT * FROM m1 ORDER BY id"))

	// PREFIX loads every object under the prefix in key order (here
	// the parts only: the manifest went elsewhere).
	mustExec(t, db, fmt.Sprintf("SELECT * FROM n INTO OUTFILE S3 '%s'", gw.URI("p/data")))
	require.EqualValues(t, 3000, execRows(t, db, fmt.Sprintf("LOAD DATA FROM S3 PREFIX '%s' INTO TABLE m2 (id, @v) SET v = UPPER(@v)", gw.URI("p/"))))
	require.EqualValues(t, 3000, queryInt(t, db, "SELECT COUNT(*) FROM m2 WHERE v = UPPER(CONCAT('value-', id))"))

	// Mandatory entries must exist; optional ones are skipped with a warning.
	gw.Put("m/custom.manifest", []byte(fmt.Sprintf(`{"entries":[{"url":"%s","mandatory":true},{"url":"%s"}]}`,
		gw.URI("m/out.part_00000"), gw.URI("m/missing"))))
	mustExec(t, db, "CREATE TABLE m3 LIKE n")
	require.EqualValues(t, queryInt(t, db, "SELECT 0")+int64(strings.Count(mustGet(t, gw, "m/out.part_00000"), "\n")-1),
		execRows(t, db, fmt.Sprintf("LOAD DATA FROM S3 MANIFEST '%s' INTO TABLE m3 FIELDS TERMINATED BY ',' IGNORE 1 LINES", gw.URI("m/custom.manifest"))))
	gw.Put("m/bad.manifest", []byte(fmt.Sprintf(`{"entries":[{"url":"%s","mandatory":true}]}`, gw.URI("m/missing"))))
	_, err = db.Exec(fmt.Sprintf("LOAD DATA FROM S3 MANIFEST '%s' INTO TABLE m3", gw.URI("m/bad.manifest")))
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 29, n, "%v", err)
}

func mustGet(t *testing.T, gw *testserver.S3Server, key string) string {
	t.Helper()
	b, err := gw.Get(key)
	require.NoError(t, err)
	return string(b)
}

func TestS3OverwriteAndErrors(t *testing.T) {
	gw, srv, db := s3Setup(t)
	mustExec(t, db, "CREATE TABLE n (id INT PRIMARY KEY)", "INSERT INTO n VALUES (1),(2),(3)",
		"SET sibyl_select_into_s3_max_file_size = 2")
	mustExec(t, db, fmt.Sprintf("SELECT * FROM n INTO OUTFILE S3 '%s' MANIFEST ON", gw.URI("o/x")))
	require.Len(t, gw.Keys("o/x"), 4)

	_, err := db.Exec(fmt.Sprintf("SELECT * FROM n INTO OUTFILE S3 '%s'", gw.URI("o/x")))
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 1086, n)
	require.ErrorContains(t, err, "already exists")
	require.ErrorContains(t, err, "OVERWRITE")

	// OVERWRITE ON replaces the export and removes parts it no longer has.
	mustExec(t, db, fmt.Sprintf("SELECT * FROM n WHERE id = 1 INTO OUTFILE S3 '%s' OVERWRITE ON", gw.URI("o/x")))
	require.Equal(t, []string{"o/x.part_00000"}, gw.Keys("o/x"))

	// Missing bucket, missing object, bad URI, syntax.
	_, err = db.Exec("SELECT * FROM n INTO OUTFILE S3 's3://no-such-bucket/x'")
	require.ErrorContains(t, err, "no-such-bucket")
	require.ErrorContains(t, err, "does not exist")
	_, err = db.Exec(fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE n", gw.URI("nothing-here")))
	n, _ = mysqlErr(t, err)
	require.EqualValues(t, 29, n)
	_, err = db.Exec("SELECT * FROM n INTO OUTFILE S3 'ftp://b/x'")
	require.ErrorContains(t, err, "unsupported scheme")
	_, err = db.Exec(fmt.Sprintf("SELECT * FROM n INTO OUTFILE S3 '%s' FORMAT JSON", gw.URI("o/y")))
	n, _ = mysqlErr(t, err)
	require.EqualValues(t, 1064, n)

	// An https://host/bucket/key URI addresses an S3-compatible server
	// directly (http here: the test server has no TLS).
	mustExec(t, db, fmt.Sprintf("SELECT * FROM n INTO OUTFILE S3 '%s/%s/direct'", gw.URL, gw.Bucket))
	require.Equal(t, []string{"direct.part_00000", "direct.part_00001", "direct.part_00002"}, gw.Keys("direct"))

	// Wrong credentials: S3 refuses, and the error says so.
	env := append(gw.Env(), "AWS_SECRET_ACCESS_KEY=wrong-secret")
	bad := testserver.StartWithEnv(t, env)
	mustExec(t, bad.DB(""), "CREATE DATABASE io")
	bdb := bad.DB("io")
	mustExec(t, bdb, "CREATE TABLE n (id INT)")
	_, err = bdb.Exec(fmt.Sprintf("SELECT 1 INTO OUTFILE S3 '%s'", gw.URI("denied/x")))
	require.ErrorContains(t, err, "access denied by S3")
	_, err = bdb.Exec(fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE n", gw.URI("o/x.part_00000")))
	require.ErrorContains(t, err, "access denied by S3")
	_ = srv
}

func TestS3Privileges(t *testing.T) {
	gw, srv, db := s3Setup(t)
	mustExec(t, db, "CREATE TABLE n (id INT PRIMARY KEY)", "CREATE TABLE m (id INT PRIMARY KEY)", "INSERT INTO n VALUES (1),(2)",
		"CREATE USER analyst IDENTIFIED BY 'pw'", "GRANT SELECT ON io.n TO analyst")
	a := srv.Open(srv.DSN("analyst", "pw", "io"))
	exp := fmt.Sprintf("SELECT * FROM n INTO OUTFILE S3 '%s' OVERWRITE ON", gw.URI("priv/x"))
	load := fmt.Sprintf("LOAD DATA FROM S3 '%s' REPLACE INTO TABLE m", gw.URI("priv/x.part_00000"))
	denied := func(q, text string) {
		t.Helper()
		_, err := a.Exec(q)
		n, _ := mysqlErr(t, err)
		require.Contains(t, []uint16{1227, 1142}, n, "%v", err)
		require.ErrorContains(t, err, text)
	}
	denied(exp, "SELECT INTO S3")
	mustExec(t, db, "GRANT SELECT INTO S3 ON *.* TO analyst")
	require.Contains(t, showGrants(t, db, "analyst"), "SELECT_INTO_S3")
	mustExec(t, a, exp)
	// The SELECT's own privileges still apply.
	_, err := a.Exec(fmt.Sprintf("SELECT * FROM m INTO OUTFILE S3 '%s'", gw.URI("priv/m")))
	require.ErrorContains(t, err, "denied")
	mustExec(t, db, "REVOKE SELECT INTO S3 ON *.* FROM analyst")
	denied(exp, "SELECT INTO S3")

	denied(load, "LOAD FROM S3")
	mustExec(t, db, "GRANT AWS_LOAD_S3_ACCESS TO analyst")
	a2 := srv.Open(srv.DSN("analyst", "pw", "io"))
	_, err = a2.Exec(load)
	require.ErrorContains(t, err, "denied", "LOAD needs INSERT on the table")
	mustExec(t, db, "GRANT INSERT, DELETE ON io.m TO analyst")
	mustExec(t, a2, load)
	require.EqualValues(t, 2, queryInt(t, db, "SELECT COUNT(*) FROM m"))
	mustExec(t, db, "REVOKE AWS_LOAD_S3_ACCESS FROM analyst", "GRANT LOAD FROM S3 ON *.* TO analyst")
	a3 := srv.Open(srv.DSN("analyst", "pw", "io"))
	mustExec(t, a3, load)
	mustExec(t, db, "REVOKE LOAD FROM S3 ON *.* FROM analyst")
	a4 := srv.Open(srv.DSN("analyst", "pw", "io"))
	_, err = a4.Exec(load)
	require.ErrorContains(t, err, "LOAD FROM S3")
	// The Aurora v3 roles exist.
	require.EqualValues(t, 2, queryInt(t, db, "SELECT COUNT(*) FROM mysql.user WHERE user IN ('AWS_SELECT_S3_ACCESS','AWS_LOAD_S3_ACCESS')"))
}

func TestS3FailuresLeaveNothingBehind(t *testing.T) {
	gw, _, db := s3Setup(t)
	mustExec(t, db, "CREATE TABLE big (id INT PRIMARY KEY, pad VARCHAR(400))",
		"INSERT INTO big WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 1000) SELECT (a.i-1)*1000+b.i, REPEAT('x', 390) FROM r a JOIN r b WHERE a.i <= 100",
		"SET sibyl_s3_timeout = 5")

	// A 40 MB part goes up as a multipart upload and loads back.
	mustExec(t, db, fmt.Sprintf("SELECT * FROM big INTO OUTFILE S3 '%s'", gw.URI("multi/x")))
	body := mustGet(t, gw, "multi/x.part_00000")
	require.Greater(t, len(body), 32<<20)
	require.Equal(t, 100000, strings.Count(body, "\n"))
	mustExec(t, db, "CREATE TABLE big2 LIKE big")
	require.EqualValues(t, 100000, execRows(t, db, fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE big2", gw.URI("multi/x.part_00000"))))

	// The gateway dies while parts are uploading: the statement fails and
	// no manifest claims a complete export.
	mustExec(t, db, "SET sibyl_select_into_s3_max_file_size = 20000000")
	done := make(chan error, 1)
	go func() {
		_, err := db.Exec(fmt.Sprintf("SELECT * FROM big INTO OUTFILE S3 '%s' MANIFEST ON", gw.URI("fail/x")))
		done <- err
	}()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !hasData(filepath.Join(gw.Dir, gw.Bucket)) {
		time.Sleep(5 * time.Millisecond)
	}
	gw.Stop()
	err := <-done
	require.Error(t, err)
	require.ErrorContains(t, err, "S3")
	gw.Start()
	require.NotContains(t, gw.Keys("fail/"), "fail/x.manifest")

	// A row that fails in strict mode fails the whole load: no partial table.
	gw.Put("bad/a.txt", []byte("1\tok\n2\tok\n"))
	gw.Put("bad/b.txt", []byte("3\tok\nnot-a-number\tboom\n"))
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))")
	_, err = db.Exec(fmt.Sprintf("LOAD DATA FROM S3 PREFIX '%s' INTO TABLE t", gw.URI("bad/")))
	require.Error(t, err)
	require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM t"))
	// IGNORE turns it into a warning, as in MySQL.
	_, err = db.Exec(fmt.Sprintf("LOAD DATA FROM S3 PREFIX '%s' IGNORE INTO TABLE t", gw.URI("bad/")))
	if err == nil {
		require.GreaterOrEqual(t, queryInt(t, db, "SELECT COUNT(*) FROM t"), int64(3))
		mustExec(t, db, "DELETE FROM t")
	}

	// The gateway is down during the download: nothing is loaded.
	gw.Stop()
	_, err = db.Exec(fmt.Sprintf("LOAD DATA FROM S3 PREFIX '%s' INTO TABLE t", gw.URI("bad/")))
	require.Error(t, err)
	require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM t"))
}

// hasData reports whether an upload under dir (other than multi/) has
// stored bytes yet: a completed part or a multipart upload's staged part.
func hasData(dir string) bool {
	found := false
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || found || d.IsDir() || strings.Contains(p, "/multi/") {
			return nil
		}
		if info, err := d.Info(); err == nil && info.Size() > 0 {
			found = true
		}
		return nil
	})
	return found
}

// TestS3IgnoreLinesPerObject: IGNORE n LINES skips records in each object
// of a PREFIX load, so a header whose quoted name holds a line break is
// skipped whole, as LOAD DATA INFILE skips it.
func TestS3IgnoreLinesPerObject(t *testing.T) {
	gw, _, db := s3Setup(t)
	gw.Put("hdr/a.csv", []byte("\"id\",\"note\nsecond line\"\n1,a\n"))
	gw.Put("hdr/b.csv", []byte("\"id\",\"note\nsecond line\"\n2,b"))
	fast, rows := bothPaths(t, db, db, "load", fmt.Sprintf(`LOAD DATA FROM S3 PREFIX '%s' INTO TABLE %%[1]s FIELDS TERMINATED BY ',' ENCLOSED BY '"' IGNORE 1 LINES`,
		gw.URI("hdr/")), "CREATE TABLE %s (id INT PRIMARY KEY, note VARCHAR(20))")
	require.True(t, fast)
	require.EqualValues(t, 2, rows)
	require.Equal(t, []string{`"1"|"a"`, `"2"|"b"`}, dump(t, db, "SELECT * FROM load_on ORDER BY id"))
}

// TestS3CharacterSet: CHARACTER SET latin1 writes cp1252 bytes ('?' for
// a character latin1 lacks, as MySQL) and reads them back as UTF-8.
func TestS3CharacterSet(t *testing.T) {
	gw, _, db := s3Setup(t)
	mustExec(t, db, "CREATE TABLE cs_src (id INT PRIMARY KEY, s VARCHAR(20))",
		"INSERT INTO cs_src VALUES (1, 'café'), (2, '€5'), (3, '日本')")
	mustExec(t, db, fmt.Sprintf("SELECT * FROM cs_src ORDER BY id INTO OUTFILE S3 '%s' CHARACTER SET latin1 FORMAT CSV", gw.URI("cs/out")))
	body, err := gw.Get("cs/out.part_00000")
	require.NoError(t, err)
	require.Equal(t, "1,caf\xe9\n2,\x805\n3,??\n", string(body))

	loadBoth(t, db, gw.URI("cs/out.part_00000"), "CREATE TABLE %s (id INT PRIMARY KEY, s VARCHAR(20))",
		`CHARACTER SET latin1 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '"'`)
	require.Equal(t, []string{`"1"|"café"`, `"2"|"€5"`, `"3"|"??"`}, dump(t, db, "SELECT * FROM load_on ORDER BY id"))

	_, err = db.Exec(fmt.Sprintf("SELECT * FROM cs_src INTO OUTFILE S3 '%s' CHARACTER SET nosuch", gw.URI("cs/bad")))
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 1115, n)
}

// TestS3ChurnRoundTrip loads the shared 5000-row churn file from S3,
// exports it as CSV with a header and compares the bytes.
func TestS3ChurnRoundTrip(t *testing.T) {
	const path = "/work/shared/datasets/churn_sagemaker_synthetic/churn.txt"
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("churn dataset not present: %v", err)
	}
	gw, _, db := s3Setup(t)
	gw.Put("datasets/churn.txt", orig)
	mustExec(t, db, "CREATE TABLE churn (`State` VARCHAR(2), `Account Length` INT, `Area Code` INT, `Phone` VARCHAR(8), "+
		"`Int'l Plan` VARCHAR(3), `VMail Plan` VARCHAR(3), `VMail Message` INT, `Day Mins` DOUBLE, `Day Calls` INT, `Day Charge` DOUBLE, "+
		"`Eve Mins` DOUBLE, `Eve Calls` INT, `Eve Charge` DOUBLE, `Night Mins` DOUBLE, `Night Calls` INT, `Night Charge` DOUBLE, "+
		"`Intl Mins` DOUBLE, `Intl Calls` INT, `Intl Charge` DOUBLE, `CustServ Calls` INT, `Churn?` VARCHAR(16), "+
		"row_no INT AUTO_INCREMENT PRIMARY KEY)")
	require.EqualValues(t, 5000, execRows(t, db, fmt.Sprintf(
		"LOAD DATA FROM S3 '%s' INTO TABLE churn FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\r\\n' IGNORE 1 LINES (`State`, `Account Length`, `Area Code`, `Phone`, "+
			"`Int'l Plan`, `VMail Plan`, `VMail Message`, `Day Mins`, `Day Calls`, `Day Charge`, `Eve Mins`, `Eve Calls`, `Eve Charge`, "+
			"`Night Mins`, `Night Calls`, `Night Charge`, `Intl Mins`, `Intl Calls`, `Intl Charge`, `CustServ Calls`, `Churn?`)",
		gw.URI("datasets/churn.txt"))))
	cols := "`State`, `Account Length`, `Area Code`, `Phone`, `Int'l Plan`, `VMail Plan`, `VMail Message`, `Day Mins`, `Day Calls`, " +
		"`Day Charge`, `Eve Mins`, `Eve Calls`, `Eve Charge`, `Night Mins`, `Night Calls`, `Night Charge`, `Intl Mins`, `Intl Calls`, " +
		"`Intl Charge`, `CustServ Calls`, `Churn?`"
	require.EqualValues(t, 5000, execRows(t, db, fmt.Sprintf("SELECT %s FROM churn ORDER BY row_no INTO OUTFILE S3 '%s' FORMAT CSV HEADER LINES TERMINATED BY '\\r\\n'", cols, gw.URI("export/churn"))))
	got := mustGet(t, gw, "export/churn.part_00000")
	// The file has CRLF line ends (RFC 4180) and no line end after its
	// last line; an export ends every line.
	want := string(orig) + "\r\n"
	if got != want {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("export differs from churn.txt at byte %d (lengths %d, %d): got %q, want %q", i, len(got), len(want),
			got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
	}
}

// TestLocalFileStatements covers MySQL's own file statements and file://
// URIs, all confined to secure_file_priv.
func TestLocalFileStatements(t *testing.T) {
	dir := t.TempDir()
	srv := testserver.Start(t, "--secure-file-priv", dir)
	mustExec(t, srv.DB(""), "CREATE DATABASE io")
	db := srv.DB("io")
	mustExec(t, db, "CREATE TABLE n (id INT PRIMARY KEY, s VARCHAR(20))", "INSERT INTO n VALUES (1,'a'),(2,NULL),(3,'c\\td')")

	out := filepath.Join(dir, "n.txt")
	mustExec(t, db, fmt.Sprintf("SELECT * FROM n ORDER BY id INTO OUTFILE '%s'", out))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "1\ta\n2\t\\N\n", string(b)[:len("1\ta\n2\t\\N\n")])
	mustExec(t, db, fmt.Sprintf("SELECT s FROM n WHERE id = 1 INTO DUMPFILE '%s'", filepath.Join(dir, "one.bin")))
	b, err = os.ReadFile(filepath.Join(dir, "one.bin"))
	require.NoError(t, err)
	require.Equal(t, "a", string(b))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "in.csv"), []byte("id,s\n10,x\n11,\"y,z\"\n"), 0o644))
	mustExec(t, db, "CREATE TABLE m LIKE n")
	require.EqualValues(t, 2, execRows(t, db, fmt.Sprintf(`LOAD DATA INFILE '%s' INTO TABLE m FIELDS TERMINATED BY ',' ENCLOSED BY '"' IGNORE 1 LINES`, filepath.Join(dir, "in.csv"))))
	require.Equal(t, []string{`"10"|"x"`, `"11"|"y,z"`}, dump(t, db, "SELECT * FROM m ORDER BY id"))
	_, err = db.Exec("LOAD DATA INFILE '/etc/passwd' INTO TABLE m")
	require.Error(t, err)

	// file:// URIs work for both statements, inside secure_file_priv only.
	mustExec(t, db, fmt.Sprintf("SELECT * FROM n INTO OUTFILE S3 'file://%s/exp/n' MANIFEST ON", dir))
	require.FileExists(t, filepath.Join(dir, "exp", "n.part_00000"))
	require.FileExists(t, filepath.Join(dir, "exp", "n.manifest"))
	mustExec(t, db, "CREATE TABLE k LIKE n")
	require.EqualValues(t, 3, execRows(t, db, fmt.Sprintf("LOAD DATA FROM S3 MANIFEST 'file://%s/exp/n.manifest' INTO TABLE k", dir)))
	require.Equal(t, dump(t, db, "SELECT * FROM n ORDER BY id"), dump(t, db, "SELECT * FROM k ORDER BY id"))
	_, err = db.Exec("SELECT * FROM n INTO OUTFILE S3 'file:///tmp/elsewhere/n'")
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 1290, n)
}

// TestCreateModelFromS3 brings an XGBoost model from S3 (Redshift ML's
// CREATE MODEL ... FROM 's3://...'), which needs LOAD FROM S3 as loading
// data does.
func TestCreateModelFromS3(t *testing.T) {
	gw, srv, db := s3Setup(t)
	rng := rand.New(rand.NewSource(5))
	m := xgb.Matrix{Rows: 300, Cols: 2, Data: make([]float32, 600)}
	y := make([]float32, 300)
	for i := range y {
		a, b := rng.Float32(), rng.Float32()
		m.Data[2*i], m.Data[2*i+1] = a, b
		y[i] = 3*a - b
	}
	res, err := xgb.Train(t.Context(), m, y, nil, nil, nil, xgb.TrainConfig{Params: [][2]string{{"objective", "reg:squarederror"}}, Rounds: 10})
	require.NoError(t, err)
	gw.Put("models/reg.json", res.Model)

	mustExec(t, db, "CREATE DATABASE IF NOT EXISTS mdl", "USE mdl",
		fmt.Sprintf("CREATE MODEL reg FROM '%s' FUNCTION reg_fn (DOUBLE, DOUBLE) RETURNS DOUBLE", gw.URI("models/reg.json")))
	trees, err := gbtree.Parse(res.Model)
	require.NoError(t, err)
	want := make([]float64, 1)
	require.NoError(t, trees.Predict([]float64{0.25, 0.5}, want))
	var got float64
	require.NoError(t, db.QueryRow("SELECT reg_fn(0.25, 0.5)").Scan(&got))
	require.InDelta(t, want[0], got, 1e-6)

	_, err = db.Exec(fmt.Sprintf("CREATE MODEL missing FROM '%s' FUNCTION missing_fn (DOUBLE, DOUBLE) RETURNS DOUBLE", gw.URI("models/none.json")))
	require.Error(t, err)

	mustExec(t, db, "CREATE USER modeler IDENTIFIED BY 'pw'", "GRANT ALL ON mdl.* TO modeler", "GRANT CREATE MODEL TO modeler")
	u := srv.Open(srv.DSN("modeler", "pw", "mdl"))
	_, err = u.Exec(fmt.Sprintf("CREATE MODEL reg2 FROM '%s' FUNCTION reg2_fn (DOUBLE, DOUBLE) RETURNS DOUBLE", gw.URI("models/reg.json")))
	require.ErrorContains(t, err, "LOAD FROM S3")
	mustExec(t, db, "GRANT LOAD FROM S3 ON *.* TO modeler")
	mustExec(t, u, fmt.Sprintf("CREATE MODEL reg2 FROM '%s' FUNCTION reg2_fn (DOUBLE, DOUBLE) RETURNS DOUBLE", gw.URI("models/reg.json")))
}

// TestNamedStorageCredentials gives the server no AWS credentials at all:
// a CREATE STORAGE CREDENTIAL covering the bucket makes the S3 statements
// work, its secret never shows, survives restarts sealed, and dropping it
// takes the access away again.
func TestNamedStorageCredentials(t *testing.T) {
	gw := testserver.StartS3Server(t)
	srv := testserver.StartWithEnv(t, []string{"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="})
	mustExec(t, srv.DB(""), "CREATE DATABASE io")
	db := srv.DB("io")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))", "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
	export := fmt.Sprintf("SELECT * FROM t INTO OUTFILE S3 '%s' OVERWRITE ON", gw.URI("cred/t"))
	_, err := db.Exec(export)
	require.Error(t, err, "no credentials anywhere")

	mustExec(t, db, fmt.Sprintf("CREATE STORAGE CREDENTIAL gw FOR 's3://%s/' ACCESS_KEY_ID '%s' SECRET_ACCESS_KEY '%s' REGION 'us-east-1' ENDPOINT_URL '%s'",
		gw.Bucket, gw.AccessKey, gw.SecretKey, gw.URL))
	mustExec(t, db, export)
	require.Contains(t, gw.Keys("cred/"), "cred/t.part_00000")
	_, err = db.Exec(fmt.Sprintf("CREATE STORAGE CREDENTIAL gw FOR 's3://%s/' ACCESS_KEY_ID 'x' SECRET_ACCESS_KEY 'y'", gw.Bucket))
	require.ErrorContains(t, err, "already exists")

	rows := dump(t, db, "SHOW STORAGE CREDENTIALS")
	require.Len(t, rows, 1)
	require.Contains(t, rows[0], gw.AccessKey)
	require.NotContains(t, rows[0], gw.SecretKey)
	var stored string
	require.NoError(t, db.QueryRow("SELECT definition FROM sibyl.catalog_objects WHERE kind = 'storage_credential'").Scan(&stored))
	require.NotContains(t, stored, gw.SecretKey, "sealed at rest")

	srv.Restart()
	db = srv.DB("io")
	mustExec(t, db, "CREATE TABLE back (id INT PRIMARY KEY, v VARCHAR(10))",
		fmt.Sprintf("LOAD DATA FROM S3 PREFIX '%s' INTO TABLE back", gw.URI("cred/t")))
	require.EqualValues(t, 2, queryInt(t, db, "SELECT COUNT(*) FROM back"))
	require.NotContains(t, srv.Log(), gw.SecretKey, "never logged")

	mustExec(t, db, "DROP STORAGE CREDENTIAL gw", "DROP STORAGE CREDENTIAL IF EXISTS gw")
	_, err = db.Exec(export)
	require.Error(t, err)
	_, err = db.Exec("DROP STORAGE CREDENTIAL gw")
	require.ErrorContains(t, err, "does not exist")
}
