package e2e

import (
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// bothPaths runs the LOAD DATA statement load (%[1]s stands for the table)
// twice, into fresh tables NAME_on and NAME_off made by ddl (each statement
// formatted with the table's name, run by admin): once by the bulk path
// (sibyl_load_data_fast_path ON on db) and once by the engine's LOAD DATA
// (OFF). It requires the same outcome, the same rows and rows affected or
// the same MySQL error, and the OFF run to be counted as an engine run;
// it returns whether the ON run took the bulk path and the rows affected.
func bothPaths(t *testing.T, admin, db *sql.DB, name, load string, ddl ...string) (fast bool, rowsAffected int64) {
	t.Helper()
	var dumps [2][]string
	var errs [2]error
	var affected [2]int64
	for i, on := range []string{"ON", "OFF"} {
		table := name + "_" + strings.ToLower(on)
		mustExec(t, admin, "DROP TABLE IF EXISTS "+table)
		for _, d := range ddl {
			mustExec(t, admin, fmt.Sprintf(d, table))
		}
		mustExec(t, db, "SET sibyl_load_data_fast_path = "+on)
		before := globalStatus(t, admin, "Sibyl_load_data_%")
		res, err := db.Exec(fmt.Sprintf(load, table))
		errs[i] = err
		if err == nil {
			affected[i], _ = res.RowsAffected()
		}
		after := globalStatus(t, admin, "Sibyl_load_data_%")
		if on == "ON" {
			fast = after["Sibyl_load_data_fast"] > before["Sibyl_load_data_fast"]
		} else {
			require.EqualValues(t, 1, after["Sibyl_load_data_engine"]-before["Sibyl_load_data_engine"], "OFF runs the engine")
		}
		dumps[i] = dump(t, db, "SELECT * FROM "+table+" ORDER BY 1")
	}
	mustExec(t, db, "SET sibyl_load_data_fast_path = ON")
	if errs[1] != nil {
		require.Error(t, errs[0], "engine failed with %v, bulk path did not", errs[1])
		n0, _ := mysqlErr(t, errs[0])
		n1, _ := mysqlErr(t, errs[1])
		require.Equal(t, n1, n0, "bulk %v, engine %v", errs[0], errs[1])
	} else {
		require.NoError(t, errs[0])
		require.Equal(t, affected[1], affected[0], "rows affected")
	}
	require.Equal(t, dumps[1], dumps[0])
	return fast, affected[0]
}

// loadBoth is bothPaths for LOAD DATA FROM S3 'uri' INTO TABLE load_on /
// load_off with FIELDS/LINES options, reporting whether the bulk path ran.
func loadBoth(t *testing.T, db *sql.DB, uri, ddl, options string) (fast bool) {
	t.Helper()
	fast, _ = bothPaths(t, db, db, "load", fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE %%[1]s %s", uri, options), ddl)
	return fast
}

const bulkTypes = `CREATE TABLE %s (id INT PRIMARY KEY, i BIGINT, u INT UNSIGNED, d DECIMAL(12,3), f DOUBLE,
  s VARCHAR(20), tx TEXT, dt DATE, ts DATETIME(6), b BOOL, e ENUM('red','green'), j JSON, vb VARBINARY(8))`

func TestBulkLoadMatchesEngine(t *testing.T) {
	gw, _, db := s3Setup(t)
	cases := []struct {
		name, body, options string
		fast                bool
	}{
		{"text format", "1\t-5\t7\t1.5\t2.25\tplain\tline1\\nline2\t2024-02-29\t2024-02-29 23:59:59.123456\t1\tred\t{\"a\": 1}\tab\n" +
			"2\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n" +
			"3\t0\t0\t-0.001\t1e300\ttab\\there\t\\\\back\t1000-01-01\t1970-01-01 00:00:01\t0\tgreen\t[]\t\n" +
			"4\t1\t1\t1\t1\tünïcødé ✓\t🙂\t9999-12-31\t2000-01-01 00:00:00.5\t1\tred\tnull\tx", "", true},
		{"csv quoted", "1,2,3,4.5,6,\"a,b\",\"say \"\"hi\"\"\",2020-01-02,2020-01-02 03:04:05,1,green,\"{\"\"k\"\": [1]}\",z\r\n" +
			"2,NULL,NULL,NULL,NULL,\"NULL\",\"\",2020-01-03,2020-01-03 00:00:00,0,red,\"1\",\r\n",
			`FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '"' LINES TERMINATED BY '\r\n'`, true},
		{"starting by", "junk\n>1|2|3|4|5|s|t|2020-01-01|2020-01-01 00:00:00|1|red|{}|v;\n>2|2|3|4|5|s|t|2020-01-01|2020-01-01|1|red|{}|v;\n",
			`FIELDS TERMINATED BY '|' LINES STARTING BY '>' TERMINATED BY ';\n'`, true},
		{"non-canonical dates", "1\t1\t1\t1\t1\ts\tt\t2020-1-2\t20200102030405\t1\tred\t{}\tv\n", "", true},
		{"rounding", "1\t1.6\t2.5\t1.23456\t1\ts\tt\t2020-01-01\t2020-01-01 00:00:00.1234567\t1\tred\t{}\tv\n", "", true},
		// These need the engine's rules: the bulk path must step aside.
		{"duplicate key", "1\t1\t1\t1\t1\ts\tt\t2020-01-01\t2020-01-01\t1\tred\t{}\tv\n1\t2\t2\t2\t2\ts\tt\t2020-01-01\t2020-01-01\t1\tred\t{}\tv\n", "", false},
		{"duplicate key ignored", "1\t1\t1\t1\t1\ts\tt\t2020-01-01\t2020-01-01\t1\tred\t{}\tv\n1\t2\t2\t2\t2\ts\tt\t2020-01-01\t2020-01-01\t1\tred\t{}\tv\n", "", false},
		{"bad integer", "1\tx\t1\t1\t1\ts\tt\t2020-01-01\t2020-01-01\t1\tred\t{}\tv\n", "", false},
		{"out of range", "1\t1\t-1\t1\t1\ts\tt\t2020-01-01\t2020-01-01\t1\tred\t{}\tv\n", "", false},
		{"too long", "1\t1\t1\t1\t1\tthis string is longer than twenty\tt\t2020-01-01\t2020-01-01\t1\tred\t{}\tv\n", "", false},
		{"bad date", "1\t1\t1\t1\t1\ts\tt\t2020-02-30\t2020-01-01\t1\tred\t{}\tv\n", "", false},
		{"bad enum", "1\t1\t1\t1\t1\ts\tt\t2020-01-01\t2020-01-01\t1\tblue\t{}\tv\n", "", false},
		{"empty number", "1\t\t1\t1\t1\ts\tt\t2020-01-01\t2020-01-01\t1\tred\t{}\tv\n", "", false},
		{"missing fields", "1\t1\t1\n", "", false},
		{"extra fields", "1\t1\t1\t1\t1\ts\tt\t2020-01-01\t2020-01-01\t1\tred\t{}\tv\textra\n", "", false},
		{"null key", "\\N\t1\t1\t1\t1\ts\tt\t2020-01-01\t2020-01-01\t1\tred\t{}\tv\n", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := "bulk/" + strings.ReplaceAll(tc.name, " ", "_")
			gw.Put(key, []byte(tc.body))
			if tc.name == "duplicate key ignored" {
				fast, rows := bothPaths(t, db, db, "ign", fmt.Sprintf("LOAD DATA FROM S3 '%s' IGNORE INTO TABLE %%[1]s", gw.URI(key)), bulkTypes)
				require.Equal(t, tc.fast, fast)
				require.EqualValues(t, 1, rows)
				return
			}
			require.Equal(t, tc.fast, loadBoth(t, db, gw.URI(key), bulkTypes, tc.options))
		})
	}
}

// randomField joins fewer than limit tokens picked by rng and, when quote
// is set, encloses the result in it half the time.
func randomField(rng *rand.Rand, tokens []string, limit int, quote string) string {
	var b strings.Builder
	for n := rng.Intn(limit); n > 0; n-- {
		b.WriteString(tokens[rng.Intn(len(tokens))])
	}
	if quote != "" && rng.Intn(2) == 0 {
		return quote + b.String() + quote
	}
	return b.String()
}

// TestBulkLoadRandomLines loads seeded random lines, built from the
// characters that matter to LOAD DATA's parsing, under several FIELDS and
// LINES options, both ways; any difference from the engine fails. Half the
// files use only tokens that keep one field per column (so the bulk path
// runs on them); the other half use any token (mostly left to the engine).
func TestBulkLoadRandomLines(t *testing.T) {
	gw, _, db := s3Setup(t)
	const ddl = "CREATE TABLE %s (id INT PRIMARY KEY, a VARCHAR(200), b TEXT, c VARCHAR(200))"
	anyToken := []string{"a", "b", "N", "NULL", ",", "\t", "\\", "\\N", "\"", "'", "|", ";", " ", "é", "\r", "0"}
	type option struct {
		clause, sep, term, start, quote string
		clean                           []string // tokens that keep the field count
	}
	opts := []option{
		{"", "\t", "\n", "", "", []string{"a", "N", "NULL", "\\N", "\\\\", "\"", "'", ",", "é", " ", "\\t", "\\n"}},
		{`FIELDS TERMINATED BY ','`, ",", "\n", "", "", []string{"a", "NULL", "\\N", "\"", "'", "\t", "é", " ", "\\,"}},
		{`FIELDS TERMINATED BY ',' ENCLOSED BY '"'`, ",", "\n", "", `"`, []string{"a", "NULL", "\\N", "'", "\t", " ", "\\\"", ","}},
		{`FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '"'`, ",", "\n", "", `"`, []string{"a", "NULL", `""`, ",", "\\", "é", "\t"}},
		{`FIELDS TERMINATED BY '|' ENCLOSED BY '\'' ESCAPED BY '' LINES TERMINATED BY ';'`, "|", ";", "", "'", []string{"a", "N", "\\", "\"", "é", " ", "\t", "\n"}},
		{`FIELDS TERMINATED BY ',,' LINES STARTING BY 'N' TERMINATED BY '\r\n'`, ",,", "\r\n", "N", "", []string{"a", "NULL", "\\N", "\"", "é", "|"}},
	}
	rng := rand.New(rand.NewSource(7))
	field := func(tokens []string, quote string) string { return randomField(rng, tokens, 6, quote) }
	fastRuns, cleanFiles := 0, 0
	for round := 0; round < 6; round++ {
		for oi, o := range opts {
			tokens, quote := anyToken, ""
			if round%2 == 0 {
				tokens, quote = o.clean, o.quote
				cleanFiles++
			}
			var body strings.Builder
			for id := 1; id <= 30; id++ {
				fmt.Fprintf(&body, "%s%d%s%s%s%s%s%s%s", o.start, id, o.sep, field(tokens, quote), o.sep, field(tokens, quote), o.sep, field(tokens, quote), o.term)
			}
			key := fmt.Sprintf("rand/%d-%d", round, oi)
			gw.Put(key, []byte(body.String()))
			if loadBoth(t, db, gw.URI(key), ddl, o.clause) {
				fastRuns++
			}
		}
	}
	t.Logf("bulk path ran for %d of %d random loads (%d files of clean tokens)", fastRuns, 6*len(opts), cleanFiles)
	require.GreaterOrEqual(t, fastRuns, cleanFiles/2, "the bulk path should take most clean files")
}

// TestBulkLoadTablesItLeavesToTheEngine: tables whose rules the bulk path
// does not apply (triggers, foreign keys, CHECK, generated columns) and
// statements with SET, or a column list leaving out a column whose value
// the engine computes, load through the engine, with the engine's results.
func TestBulkLoadTablesItLeavesToTheEngine(t *testing.T) {
	gw, _, db := s3Setup(t)
	gw.Put("eng/rows", []byte("1\t10\n2\t20\n3\t30\n"))
	uri := gw.URI("eng/rows")
	mustExec(t, db, "CREATE TABLE parent (v INT PRIMARY KEY)", "INSERT INTO parent VALUES (10),(20),(30)",
		"CREATE TABLE audit (n INT)")
	for _, tc := range []struct{ name, ddl, after, options string }{
		{"trigger", "CREATE TABLE %s (id INT PRIMARY KEY, v INT)", "CREATE TRIGGER %[1]s_t AFTER INSERT ON %[1]s FOR EACH ROW INSERT INTO audit VALUES (NEW.v)", ""},
		{"foreign key", "CREATE TABLE %s (id INT PRIMARY KEY, v INT, FOREIGN KEY (v) REFERENCES parent(v))", "", ""},
		{"check", "CREATE TABLE %s (id INT PRIMARY KEY, v INT CHECK (v < 25))", "", ""},
		{"generated", "CREATE TABLE %s (id INT PRIMARY KEY, v INT, w INT AS (v * 2) STORED)", "", "(id, v)"},
		{"keyless", "CREATE TABLE %s (id INT, v INT)", "", ""},
		{"expression default left out", "CREATE TABLE %s (id INT PRIMARY KEY, v INT, w INT DEFAULT (LENGTH('abc') * 2))", "", "(id, v)"},
		{"not null left out", "CREATE TABLE %s (id INT PRIMARY KEY, v INT, w INT NOT NULL)", "", "(id, v)"},
		{"set clause", "CREATE TABLE %s (id INT PRIMARY KEY, v INT)", "", "(id, @x) SET v = @x + 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ddl := []string{tc.ddl}
			if tc.after != "" {
				ddl = append(ddl, tc.after)
			}
			before := globalStatus(t, db, "Sibyl_load_data_%")
			fast, _ := bothPaths(t, db, db, "e_"+strings.ReplaceAll(tc.name, " ", "_"),
				fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE %%[1]s %s", uri, tc.options), ddl...)
			after := globalStatus(t, db, "Sibyl_load_data_%")
			require.False(t, fast, "the ON run must have been left to the engine")
			require.EqualValues(t, 2, after["Sibyl_load_data_engine"]-before["Sibyl_load_data_engine"])
		})
	}
	// LOAD DATA fires the table's INSERT triggers for every row, as MySQL
	// (the engine's binder left them out): 3 rows, loaded twice.
	require.Equal(t, []string{`"10"`, `"10"`, `"20"`, `"20"`, `"30"`, `"30"`}, dump(t, db, "SELECT n FROM audit ORDER BY n"))
}

// TestBulkLoadAutoIncrement: explicit AUTO_INCREMENT values take the bulk
// path and move the table's counter past the largest, as the engine's
// inserts do: the next generated id, SHOW CREATE TABLE and a restart agree
// with the engine-loaded table. NULL or 0, which ask for generated ids,
// and negative values go to the engine.
func TestBulkLoadAutoIncrement(t *testing.T) {
	gw, srv, db := s3Setup(t)
	const ddl = "CREATE TABLE %s (id INT AUTO_INCREMENT PRIMARY KEY, v INT)"
	gw.Put("ai/explicit", []byte("5\t50\n2\t20\n40\t400\n"))
	require.True(t, loadBoth(t, db, gw.URI("ai/explicit"), ddl, ""))
	next := func(v int) []string {
		var out []string
		for _, tbl := range []string{"load_on", "load_off"} {
			mustExec(t, db, fmt.Sprintf("INSERT INTO %s (v) VALUES (%d)", tbl, v))
			out = append(out, strings.Join(dump(t, db, "SELECT * FROM "+tbl+" ORDER BY id"), " "))
			var name, create string
			require.NoError(t, db.QueryRow("SHOW CREATE TABLE "+tbl).Scan(&name, &create))
			out = append(out, strings.ReplaceAll(create, tbl, "t"))
		}
		return out
	}
	got := next(999)
	require.Contains(t, got[0], `"41"|"999"`)
	require.Contains(t, got[1], "AUTO_INCREMENT=42")
	require.Equal(t, got[2:], got[:2], "bulk (first) and engine (second) tables")

	srv.Restart()
	got = next(1000)
	require.Contains(t, got[0], `"42"|"1000"`, "the counter survives a restart")
	require.Equal(t, got[2:], got[:2])

	// Left out of the column list, the AUTO_INCREMENT column gets the
	// counter's next values, one per line, and the other left-out columns
	// their defaults; the statement's columns may come in any order.
	var body strings.Builder
	for i := 0; i < 120000; i++ { // 1.7 MB: two chunks
		fmt.Fprintf(&body, "%d,text %d\n", i%5, i)
	}
	gw.Put("ai/generated", []byte(body.String()))
	const genDDL = `CREATE TABLE %s (id BIGINT AUTO_INCREMENT PRIMARY KEY, txt VARCHAR(20), label INT,
		day DATE DEFAULT '2024-01-01', note VARCHAR(10), KEY (label))`
	for _, pre := range []string{"", "INSERT INTO %s (txt) VALUES ('before'), ('before')"} {
		ddl := []string{genDDL}
		if pre != "" {
			ddl = append(ddl, pre)
		}
		fast, rows := bothPaths(t, db, db, "gen", fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE %%[1]s FIELDS TERMINATED BY ',' (label, txt)", gw.URI("ai/generated")), ddl...)
		require.True(t, fast)
		require.EqualValues(t, 120000, rows)
		for _, tbl := range []string{"gen_on", "gen_off"} {
			mustExec(t, db, "INSERT INTO "+tbl+" (txt) VALUES ('after')")
		}
		require.Equal(t, dump(t, db, "SELECT * FROM gen_off ORDER BY id"), dump(t, db, "SELECT * FROM gen_on ORDER BY id"))
		require.Equal(t, dump(t, db, "SELECT id, label FROM gen_off WHERE label = 3 ORDER BY id"),
			dump(t, db, "SELECT id, label FROM gen_on WHERE label = 3 ORDER BY id"), "index lookups")
	}
	require.Equal(t, `"120002"|"text 119999"|"4"|"2024-01-01"|<NULL>`, dump(t, db, "SELECT * FROM gen_on WHERE txt = 'text 119999'")[0])

	for name, body := range map[string]string{"null": "\\N\t1\n3\t2\n", "zero": "0\t1\n3\t2\n", "negative": "-4\t1\n3\t2\n"} {
		gw.Put("ai/"+name, []byte(body))
		require.False(t, loadBoth(t, db, gw.URI("ai/"+name), ddl, ""), name)
		got := next(7)
		require.Equal(t, got[2:], got[:2], name)
	}
}

// TestBulkLoadTransactionsAndDurability: the bulk path's rows belong to
// the statement's transaction and survive a restart once committed.
func TestBulkLoadTransactionsAndDurability(t *testing.T) {
	gw, srv, db := s3Setup(t)
	var body strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&body, "%d\tname-%d\n", i, i)
	}
	gw.Put("tx/rows", []byte(body.String()))
	load := fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE r", gw.URI("tx/rows"))
	mustExec(t, db, "CREATE TABLE r (id INT PRIMARY KEY, name VARCHAR(20))", "INSERT INTO r VALUES (-1, 'before')")
	fastBefore := globalStatus(t, db, "Sibyl_load_data_fast")["Sibyl_load_data_fast"]

	mustExec(t, db, "BEGIN", load)
	require.EqualValues(t, 5001, queryInt(t, db, "SELECT COUNT(*) FROM r"), "visible inside the transaction")
	other := srv.DB("io")
	require.EqualValues(t, 1, queryInt(t, other, "SELECT COUNT(*) FROM r"), "invisible outside it")
	mustExec(t, db, "ROLLBACK")
	require.EqualValues(t, 1, queryInt(t, db, "SELECT COUNT(*) FROM r"), "rolled back")

	mustExec(t, db, "BEGIN", "INSERT INTO r VALUES (-2, 'same tx')", load, "COMMIT")
	require.EqualValues(t, 2, globalStatus(t, db, "Sibyl_load_data_fast")["Sibyl_load_data_fast"]-fastBefore)
	require.EqualValues(t, 5002, queryInt(t, other, "SELECT COUNT(*) FROM r"))

	// Loading the same keys again collides: the engine reports 1062 and
	// the statement leaves the table as it was.
	_, err := db.Exec(load)
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 1062, n, "%v", err)
	require.EqualValues(t, 5002, queryInt(t, db, "SELECT COUNT(*) FROM r"))

	srv.Restart()
	db = srv.DB("io")
	require.EqualValues(t, 5002, queryInt(t, db, "SELECT COUNT(*) FROM r"))
	require.Equal(t, "name-4999", queryString(t, db, "SELECT name FROM r WHERE id = 4999"))
	require.EqualValues(t, 12497500, queryInt(t, db, "SELECT CAST(SUM(id) AS SIGNED) FROM r WHERE id >= 0"))
}

func queryString(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	var s string
	require.NoErrorf(t, db.QueryRow(q).Scan(&s), "query %q", q)
	return s
}

// TestBulkLoadLongLines: lines far longer than the loader's 1 MB chunks
// (a 3 MB TEXT value) and many chunks of short lines load intact.
func TestBulkLoadLongLines(t *testing.T) {
	gw, _, db := s3Setup(t)
	long := strings.Repeat("0123456789", 300000)
	var body strings.Builder
	for i := 0; i < 3; i++ {
		fmt.Fprintf(&body, "%d\t%s\n", i, long)
	}
	for i := 3; i < 60000; i++ {
		fmt.Fprintf(&body, "%d\tshort line %d\n", i, i)
	}
	gw.Put("long/rows", []byte(body.String()))
	require.True(t, loadBoth(t, db, gw.URI("long/rows"), "CREATE TABLE %s (id INT PRIMARY KEY, t LONGTEXT)", ""))
	mustExec(t, db, "SET sibyl_load_data_fast_path = ON")
	require.EqualValues(t, 3*len(long), queryInt(t, db, "SELECT CAST(SUM(LENGTH(t)) AS SIGNED) FROM load_on WHERE id < 3"))
	require.EqualValues(t, 60000, queryInt(t, db, "SELECT COUNT(*) FROM load_on"))
}

// TestBulkLoadConcurrentAndKilled: loads from several connections at once
// each land whole while other sessions read; a server killed (-9) in the
// middle of a bulk load comes back with the table as it was before.
func TestBulkLoadConcurrentAndKilled(t *testing.T) {
	gw, srv, db := s3Setup(t)
	var body strings.Builder
	for i := 0; i < 200000; i++ {
		fmt.Fprintf(&body, "%d\t%d.%02d\t2024-01-%02d\tcustomer %d\n", i, i%1000, i%100, 1+i%28, i)
	}
	gw.Put("conc/rows", []byte(body.String()))
	const ddl = "CREATE TABLE %s (id INT PRIMARY KEY, amount DECIMAL(8,2), day DATE, name VARCHAR(40))"
	fastBefore := globalStatus(t, db, "Sibyl_load_data_fast")["Sibyl_load_data_fast"]
	const loaders = 4
	errs := make(chan error, loaders+1)
	stop := make(chan struct{})
	for i := 0; i < loaders; i++ {
		name := fmt.Sprintf("c%d", i)
		mustExec(t, db, fmt.Sprintf(ddl, name))
		go func() {
			conn := srv.DB("io")
			defer conn.Close()
			_, err := conn.Exec(fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE %s", gw.URI("conc/rows"), name))
			errs <- err
		}()
	}
	go func() { // a reader never sees a half-loaded table
		conn := srv.DB("io")
		defer conn.Close()
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			var n int64
			if err := conn.QueryRow("SELECT COUNT(*) FROM c0").Scan(&n); err != nil {
				errs <- err
				return
			}
			if n != 0 && n != 200000 {
				errs <- fmt.Errorf("reader saw %d rows", n)
				return
			}
		}
	}()
	for i := 0; i < loaders; i++ {
		require.NoError(t, <-errs)
	}
	close(stop)
	require.NoError(t, <-errs)
	for i := 0; i < loaders; i++ {
		require.EqualValues(t, 200000, queryInt(t, db, fmt.Sprintf("SELECT COUNT(*) FROM c%d", i)))
	}
	require.EqualValues(t, loaders, globalStatus(t, db, "Sibyl_load_data_fast")["Sibyl_load_data_fast"]-fastBefore)
	var cents int64
	for i := int64(0); i < 200000; i++ {
		cents += i%1000*100 + i%100
	}
	require.Equal(t, fmt.Sprintf("%d.%02d", cents/100, cents%100), queryString(t, db, "SELECT CAST(SUM(amount) AS CHAR) FROM c3"))

	// Kill -9 while a load runs: all or nothing after restart.
	mustExec(t, db, fmt.Sprintf(ddl, "k"), "INSERT INTO k VALUES (-1, 0, '2024-01-01', 'kept')")
	done := make(chan error, 1)
	go func() {
		conn := srv.DB("io")
		defer conn.Close()
		_, err := conn.Exec(fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE k", gw.URI("conc/rows")))
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	srv.Kill()
	<-done
	srv.StartAgain()
	db = srv.DB("io")
	n := queryInt(t, db, "SELECT COUNT(*) FROM k")
	require.Contains(t, []int64{1, 200001}, n, "a killed load leaves all rows or none")
	t.Logf("after the kill: %d rows", n)
	require.Equal(t, "kept", queryString(t, db, "SELECT name FROM k WHERE id = -1"))
}

// TestBulkLoadInfile: MySQL's own LOAD DATA INFILE takes the bulk path
// too (IGNORE n LINES included), with the engine's result, privileges and
// secure_file_priv rules.
func TestBulkLoadInfile(t *testing.T) {
	dir := t.TempDir()
	srv := testserver.Start(t, "--secure-file-priv", dir)
	mustExec(t, srv.DB(""), "CREATE DATABASE io")
	db := srv.DB("io")
	db.SetMaxOpenConns(1)
	var body strings.Builder
	body.WriteString("id,amount,day,name\r\nsecond header line\r\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&body, "%d,%d.5,2024-03-%02d,\"name, %d\"\r\n", i, i, 1+i%28, i)
	}
	file := filepath.Join(dir, "in.csv")
	require.NoError(t, os.WriteFile(file, []byte(body.String()), 0o644))
	const ddl = "CREATE TABLE %s (id INT PRIMARY KEY, amount DECIMAL(10,1), day DATE, name VARCHAR(30))"
	const opts = `FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' LINES TERMINATED BY '\r\n' IGNORE 2 LINES`
	fast, rows := bothPaths(t, db, db, "f", fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE %%[1]s %s", file, opts), ddl)
	require.True(t, fast)
	require.EqualValues(t, 20000, rows)
	require.Equal(t, `"0"|"0.5"|"2024-03-01"|"name, 0"`, dump(t, db, "SELECT * FROM f_on ORDER BY id")[0])

	// Outside secure_file_priv and without FILE: the engine's errors.
	outside := filepath.Join(t.TempDir(), "x.txt")
	require.NoError(t, os.WriteFile(outside, []byte("1,1,2024-01-01,a\n"), 0o644))
	mustExec(t, db, fmt.Sprintf(ddl, "g"))
	_, err := db.Exec(fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE g FIELDS TERMINATED BY ','", outside))
	require.Error(t, err)
	require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM g"))
	mustExec(t, db, "CREATE USER loader IDENTIFIED BY 'pw'", "GRANT INSERT, SELECT ON io.* TO loader")
	u := srv.Open(srv.DSN("loader", "pw", "io"))
	_, err = u.Exec(fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE g %s", file, opts))
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 1227, n, "LOAD DATA INFILE needs FILE: %v", err)
	mustExec(t, db, "GRANT FILE ON *.* TO loader")
	u2 := srv.Open(srv.DSN("loader", "pw", "io"))
	require.EqualValues(t, 20000, execRows(t, u2, fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE g %s", file, opts)))
	mustExec(t, db, "CREATE TABLE h LIKE g")
	_, err = u2.Exec(fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE io.h %s", file, opts))
	require.NoError(t, err, "INSERT on io.* covers h")
	mustExec(t, db, "REVOKE INSERT ON io.* FROM loader", "GRANT SELECT ON io.* TO loader")
	u3 := srv.Open(srv.DSN("loader", "pw", "io"))
	mustExec(t, db, "CREATE TABLE h2 LIKE g")
	for _, on := range []string{"ON", "OFF"} {
		mustExec(t, u3, "SET sibyl_load_data_fast_path = "+on)
		_, err = u3.Exec(fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE h2 %s", file, opts))
		n, _ := mysqlErr(t, err)
		require.EqualValues(t, 1142, n, "LOAD DATA needs INSERT on the table (MySQL; go-mysql-server asks only for FILE): %v", err)
	}
	require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM h2"))
}

// TestBulkLoadSecondaryIndexes: the bulk path fills non-unique secondary
// indexes (single, composite, prefix, on DECIMAL/DATE/TEXT) with Dolt's
// own key builder; every index lookup must find exactly the rows a full
// scan finds, and the tables equal the engine's.
func TestBulkLoadSecondaryIndexes(t *testing.T) {
	gw, _, db := s3Setup(t)
	var body strings.Builder
	for i := 0; i < 30000; i++ {
		fmt.Fprintf(&body, "%d\t%d\t%d.%d\t2024-%02d-%02d\tname %d\t%s\n", i, i%97, i%50, i%10, 1+i%12, 1+i%28, i%500, strings.Repeat("t", i%40))
	}
	gw.Put("idx/rows", []byte(body.String()))
	const ddl = `CREATE TABLE %s (id INT PRIMARY KEY, g INT, amount DECIMAL(6,1), day DATE, name VARCHAR(30), note TEXT,
		KEY (g), KEY (day, g), KEY (amount), KEY (name(6)), KEY (note(10)))`
	require.True(t, loadBoth(t, db, gw.URI("idx/rows"), ddl, ""), "non-unique indexes take the bulk path")
	for _, q := range []struct{ indexed, scan string }{
		{"g = 13", "g + 0 = 13"},
		{"day = '2024-03-03' AND g = 2", "DATE_ADD(day, INTERVAL 0 DAY) = '2024-03-03' AND g + 0 = 2"},
		{"amount = 7.7", "amount + 0 = 7.7"},
		{"amount BETWEEN 3 AND 4", "amount + 0 BETWEEN 3 AND 4"},
		{"name = 'name 42'", "CONCAT(name, '') = 'name 42'"},
		{"name LIKE 'name 4%'", "CONCAT(name, '') LIKE 'name 4%'"},
		{"note = 'tttttttttttt'", "CONCAT(note, '') = 'tttttttttttt'"},
	} {
		got := dump(t, db, "SELECT id FROM load_on WHERE "+q.indexed+" ORDER BY id")
		require.NotEmpty(t, got, q.indexed)
		require.Equal(t, dump(t, db, "SELECT id FROM load_on WHERE "+q.scan+" ORDER BY id"), got, q.indexed)
		require.Equal(t, dump(t, db, "SELECT id FROM load_off WHERE "+q.indexed+" ORDER BY id"), got, q.indexed)
	}
	plan := strings.Join(dump(t, db, "EXPLAIN PLAN SELECT id FROM load_on WHERE g = 13"), "\n")
	require.Contains(t, plan, "IndexedTableAccess", "the lookup above used the index")
	// Later writes keep the bulk-built indexes consistent.
	mustExec(t, db, "UPDATE load_on SET g = 1000 WHERE id < 10", "DELETE FROM load_on WHERE id BETWEEN 10 AND 19",
		"INSERT INTO load_on VALUES (-1, 1000, 0, '2024-01-01', 'x', 'y')")
	require.Equal(t, dump(t, db, "SELECT id FROM load_on WHERE g + 0 = 1000 ORDER BY id"), dump(t, db, "SELECT id FROM load_on WHERE g = 1000 ORDER BY id"))
	require.EqualValues(t, 11, queryInt(t, db, "SELECT COUNT(*) FROM load_on WHERE g = 1000"))
}

// TestBulkLoadMoreTypes: the remaining column types, character sets and a
// table in another database give the same rows by both paths.
func TestBulkLoadMoreTypes(t *testing.T) {
	gw, _, db := s3Setup(t)
	const ddl = `CREATE TABLE %s (id INT PRIMARY KEY, tu TINYINT UNSIGNED, sm SMALLINT, md MEDIUMINT, fl FLOAT,
		bt BIT(8), yr YEAR, tm TIME, ts TIMESTAMP(6), ch CHAR(5), bn BINARY(4), bl BLOB, st SET('x','y','z'),
		l1 VARCHAR(10) CHARACTER SET latin1, u8 VARCHAR(10) COLLATE utf8mb4_0900_ai_ci, dbl DOUBLE, big BIGINT UNSIGNED)`
	rows := []string{
		"1\t255\t-32768\t8388607\t3.25\t1\t2024\t12:34:56\t2024-05-06 07:08:09.123456\tab  \tab\tblob\\0data\tx,z\tcafé\tÅngström\t-0\t18446744073709551615",
		"2\t0\t0\t0\t-1.5e10\t0\t1901\t-838:59:59\t1970-01-01 00:00:01\t\tz\t\tz\tplain\tx\t1e-300\t0",
		"3\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N",
		"4\t7\t7\t7\t0.1\t7\t0\t00:00:00\t2038-01-19 03:14:07\tfive5\tfour\t\\\\\ty,x\tÿ\t😀\t0.1\t9223372036854775808",
	}
	gw.Put("types2/rows", []byte(strings.Join(rows, "\n")+"\n"))
	require.True(t, loadBoth(t, db, gw.URI("types2/rows"), ddl, ""), "every value here converts cleanly")

	// One value per row, so each type's outcome is seen on its own.
	types := []string{"TINYINT UNSIGNED", "SMALLINT", "MEDIUMINT", "FLOAT", "BIT(8)", "YEAR", "TIME", "TIMESTAMP(6)",
		"CHAR(5)", "BINARY(4)", "BLOB", "SET('x','y','z')", "VARCHAR(10) CHARACTER SET latin1",
		"VARCHAR(10) COLLATE utf8mb4_0900_ai_ci", "DOUBLE", "BIGINT UNSIGNED"}
	for ci, typ := range types {
		var body strings.Builder
		for ri, r := range rows {
			fmt.Fprintf(&body, "%d\t%s\n", ri, strings.Split(r, "\t")[ci+1])
		}
		key := fmt.Sprintf("types2/%d", ci)
		gw.Put(key, []byte(body.String()))
		f := loadBoth(t, db, gw.URI(key), "CREATE TABLE %s (id INT PRIMARY KEY, v "+typ+")", "")
		t.Logf("%s: bulk path %v", typ, f)
	}

	// A table in another database than the session's.
	mustExec(t, db, "CREATE DATABASE other", "CREATE TABLE other.o (id INT PRIMARY KEY, v VARCHAR(10))")
	gw.Put("other/rows", []byte("1\ta\n2\tb\n"))
	before := globalStatus(t, db, "Sibyl_load_data_fast")["Sibyl_load_data_fast"]
	require.EqualValues(t, 2, execRows(t, db, fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE other.o", gw.URI("other/rows"))))
	require.EqualValues(t, 1, globalStatus(t, db, "Sibyl_load_data_fast")["Sibyl_load_data_fast"]-before)
	require.Equal(t, []string{`"1"|"a"`, `"2"|"b"`}, dump(t, db, "SELECT * FROM other.o ORDER BY id"))
	require.EqualValues(t, 0, queryInt(t, db, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'io' AND table_name = 'o'"))
}

// TestBulkLoadLocalInfile: LOAD DATA LOCAL INFILE (the client sends the
// file) takes the bulk path through a temporary copy, from the Go driver
// and from the mariadb CLI, with LOCAL's semantics: errors become
// warnings, FILE is not needed, local_infile must be ON (error 3948).
func TestBulkLoadLocalInfile(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "CREATE DATABASE io", "CREATE USER client IDENTIFIED BY 'pw'", "GRANT INSERT, SELECT ON io.* TO client")
	db := srv.Open(srv.DSN("client", "pw", "io", "allowAllFiles=true"))
	db.SetMaxOpenConns(1)
	dir := t.TempDir()
	file := filepath.Join(dir, "rows.csv")
	var body strings.Builder
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&body, "%d,%d.25,name %d\n", i, i, i)
	}
	require.NoError(t, os.WriteFile(file, []byte(body.String()), 0o644))
	const ddl = "CREATE TABLE %s (id INT PRIMARY KEY, amount DECIMAL(10,2), name VARCHAR(20))"
	load := func(table string) string {
		return fmt.Sprintf("LOAD DATA LOCAL INFILE '%s' INTO TABLE %s FIELDS TERMINATED BY ','", file, table)
	}

	mustExec(t, srv.DB(""), "CREATE TABLE io.off_first (id INT PRIMARY KEY)")
	_, err := db.Exec(load("off_first"))
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 3948, n, "local_infile is OFF by default, as in MySQL 8")
	mustExec(t, srv.DB(""), "SET GLOBAL local_infile = 1")

	admin := srv.DB("io") // client may not create tables
	fast, rows := bothPaths(t, admin, db, "l", load("%[1]s"), ddl)
	require.True(t, fast)
	require.EqualValues(t, 20000, rows)
	loaded := dump(t, db, "SELECT * FROM l_on ORDER BY id")

	// LOCAL turns duplicate keys into warnings (IGNORE), by either path.
	res, err := db.Exec(load("l_on"))
	require.NoError(t, err, "LOCAL implies IGNORE")
	affected, _ := res.RowsAffected()
	require.Zero(t, affected)
	warnings := dump(t, db, "SHOW WARNINGS")
	require.NotEmpty(t, warnings)
	require.Contains(t, warnings[0], "1062")
	require.EqualValues(t, 20000, queryInt(t, db, "SELECT COUNT(*) FROM l_on"))

	// The mariadb CLI sends the file the same way.
	mustExec(t, srv.DB(""), fmt.Sprintf(ddl, "io.cli"))
	out, err := srv.Mariadb(load("cli")+";\nSHOW STATUS LIKE 'Sibyl_load_data_fast';\n", "--local-infile=1", "-uclient", "-ppw", "io")
	require.NoError(t, err, out)
	require.EqualValues(t, 20000, queryInt(t, db, "SELECT COUNT(*) FROM cli"))
	require.Equal(t, loaded, dump(t, db, "SELECT * FROM cli ORDER BY id"))

	// Without INSERT on the table: denied, whatever LOCAL.
	mustExec(t, srv.DB(""), "CREATE DATABASE other", fmt.Sprintf(ddl, "other.t"))
	_, err = db.Exec(load("other.t"))
	n, _ = mysqlErr(t, err)
	require.Contains(t, []uint16{1044, 1142}, n, "%v", err)
	require.EqualValues(t, 0, queryInt(t, srv.DB(""), "SELECT COUNT(*) FROM other.t"))
}

// TestBulkLoadUniqueIndexes: unique indexes are checked as Dolt's index
// writer checks them (indexed columns only, NULLs never collide, the
// column's collation decides); a collision with the table or within the
// file leaves the load to the engine, whose error both paths then give.
func TestBulkLoadUniqueIndexes(t *testing.T) {
	gw, _, db := s3Setup(t)
	const ddl = `CREATE TABLE %s (id INT PRIMARY KEY, email VARCHAR(40) COLLATE utf8mb4_0900_ai_ci, a INT, b INT, name VARCHAR(20),
		UNIQUE KEY (email), UNIQUE KEY (a, b), UNIQUE KEY (name(3)), KEY (b))`
	var clean strings.Builder
	for i := 0; i < 5000; i++ {
		prefix := string([]byte{byte('a' + i/676), byte('a' + i/26%26), byte('a' + i%26)}) // unique in name(3)
		fmt.Fprintf(&clean, "%d\tuser%d@example.com\t%d\t%d\t%sxyz\n", i, i, i/100, i%100, prefix)
	}
	fmt.Fprintf(&clean, "5000\t\\N\t\\N\t1\t\\N\n5001\t\\N\t\\N\t1\t\\N\n") // NULLs never collide
	for _, tc := range []struct {
		name, body string
		fast       bool
	}{
		{"unique rows", clean.String(), true},
		{"duplicate email in the file", "1\tx@example.com\t1\t1\tabc\n2\tx@example.com\t1\t2\tdef\n", false},
		{"duplicate under the collation", "1\tX@Example.com\t1\t1\tabc\n2\tx@example.com\t1\t2\tdef\n", false},
		{"duplicate composite", "1\tp@example.com\t1\t1\tabc\n2\tq@example.com\t1\t1\tdef\n", false},
		{"duplicate prefix", "1\tp@example.com\t1\t1\tabcd\n2\tq@example.com\t1\t2\tabce\n", false},
		{"partial composite", "1\tp@example.com\t1\t\\N\tabc\n2\tq@example.com\t1\t\\N\tdef\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "uniq/" + strings.ReplaceAll(tc.name, " ", "_")
			gw.Put(key, []byte(tc.body))
			require.Equal(t, tc.fast, loadBoth(t, db, gw.URI(key), ddl, ""))
		})
	}

	// A key that collides with a row already in the table.
	mustExec(t, db, "DROP TABLE IF EXISTS load_on", fmt.Sprintf(ddl, "load_on"),
		"INSERT INTO load_on VALUES (100, 'taken@example.com', 9, 9, 'zzz')")
	gw.Put("uniq/existing", []byte("1\tTAKEN@example.com\t1\t1\tabc\n"))
	fastBefore := globalStatus(t, db, "Sibyl_load_data_fast")["Sibyl_load_data_fast"]
	_, err := db.Exec(fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE load_on", gw.URI("uniq/existing")))
	n, _ := mysqlErr(t, err)
	require.EqualValues(t, 1062, n, "%v", err)
	require.Equal(t, fastBefore, globalStatus(t, db, "Sibyl_load_data_fast")["Sibyl_load_data_fast"])
	require.EqualValues(t, 1, queryInt(t, db, "SELECT COUNT(*) FROM load_on"))

	// The bulk-built unique index still refuses later duplicates.
	gw.Put("uniq/more", []byte("1\tnew@example.com\t1\t1\tabc\n"))
	require.EqualValues(t, 1, execRows(t, db, fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE load_on", gw.URI("uniq/more"))))
	require.Greater(t, globalStatus(t, db, "Sibyl_load_data_fast")["Sibyl_load_data_fast"], fastBefore)
	_, err = db.Exec("INSERT INTO load_on VALUES (3, 'NEW@example.com', 5, 5, 'qqq')")
	n, _ = mysqlErr(t, err)
	require.EqualValues(t, 1062, n, "%v", err)
}
