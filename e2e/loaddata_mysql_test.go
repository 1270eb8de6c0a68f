package e2e

import (
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// loadOutcome is what a LOAD DATA did: its error code (0: none), the rows
// it left, and the level and code of each warning.
type loadOutcome struct {
	errCode  uint16
	rows     []string
	warnings []string
	first    string // SHOW WARNINGS LIMIT 1
}

// loadInto runs the statement (formatted with the table name) on one
// connection of db, into a fresh table from the ddl statements (formatted
// with the table name too).
func loadInto(t *testing.T, db *sql.DB, table, load string, ddl ...string) loadOutcome {
	t.Helper()
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	for _, q := range append([]string{"DROP TABLE IF EXISTS %s"}, ddl...) {
		_, err := conn.ExecContext(t.Context(), fmt.Sprintf(q, table))
		require.NoError(t, err, q)
	}
	var out loadOutcome
	if _, err := conn.ExecContext(t.Context(), fmt.Sprintf(load, table)); err != nil {
		out.errCode, _ = mysqlErr(t, err)
	} else {
		rows, err := conn.QueryContext(t.Context(), "SHOW WARNINGS")
		require.NoError(t, err)
		for rows.Next() {
			var level, msg string
			var code int
			require.NoError(t, rows.Scan(&level, &code, &msg))
			out.warnings = append(out.warnings, fmt.Sprintf("%s %d", level, code))
		}
		require.NoError(t, rows.Close())
		if len(out.warnings) > 0 {
			var level, msg string
			var code int
			require.NoError(t, conn.QueryRowContext(t.Context(), "SHOW WARNINGS LIMIT 1").Scan(&level, &code, &msg))
			out.first = fmt.Sprintf("%s %d", level, code)
		}
	}
	require.NoError(t, conn.Close())
	out.rows = dump(t, db, "SELECT * FROM "+table+" ORDER BY id")
	return out
}

// mariaAndSibyl starts MariaDB and SibylDB, each with database io and
// secure_file_priv dir, and returns dir and a one-connection pool to each.
func mariaAndSibyl(t *testing.T) (dir string, maria, sibyl *sql.DB) {
	dir = t.TempDir()
	maria, err := sql.Open("mysql", testserver.StartMariaDB(t, "--secure-file-priv="+dir))
	require.NoError(t, err)
	t.Cleanup(func() { _ = maria.Close() })
	maria.SetMaxOpenConns(1)
	mustExec(t, maria, "CREATE DATABASE io CHARACTER SET utf8mb4", "USE io")
	srv := testserver.Start(t, "--secure-file-priv", dir)
	mustExec(t, srv.DB(""), "CREATE DATABASE io")
	sibyl = srv.DB("io")
	sibyl.SetMaxOpenConns(1)
	return dir, maria, sibyl
}

// matchMariaDB runs load (formatted with a table name) into a fresh table
// from ddl on MariaDB and on SibylDB with the bulk path on and off, and
// requires the same outcome of all three.
// With anyOrder, the warnings are compared as a set: MariaDB raises a
// value's conversion warning while it reads the row's fields, the engine
// when it inserts the row, after the row's field-count warnings.
func matchMariaDB(t *testing.T, maria, sibyl *sql.DB, load string, anyOrder bool, ddl ...string) {
	t.Helper()
	want := loadInto(t, maria, "t", load, ddl...)
	for _, on := range []string{"ON", "OFF"} {
		mustExec(t, sibyl, "SET sibyl_load_data_fast_path = "+on)
		got := loadInto(t, sibyl, "t", load, ddl...)
		if anyOrder {
			slices.Sort(want.warnings)
			slices.Sort(got.warnings)
			want.first, got.first = "", ""
		}
		require.Equal(t, want, got, "MariaDB (expected) and SibylDB with the bulk path %s: %s\nwarnings only MariaDB raised: %v\nonly SibylDB: %v",
			on, load, missing(want.warnings, got.warnings), missing(got.warnings, want.warnings))
	}
}

// TestLoadDataMatchesMariaDB loads the same files into MariaDB and into
// SibylDB, by both of its paths, and requires the same outcome: LOAD
// DATA's reading rules (NULL words, enclosures, escapes, records spanning
// lines, too few and too many fields, empty fields, IGNORE n LINES,
// STARTING BY), strict mode's errors and IGNORE's warnings.
func TestLoadDataMatchesMariaDB(t *testing.T) {
	dir, maria, sibyl := mariaAndSibyl(t)

	const ddl = "CREATE TABLE %s (id INT PRIMARY KEY, n INT, d DECIMAL(8,2), day DATE, s VARCHAR(40), opt INT DEFAULT 7)"
	const csv = `FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"'`
	cases := []struct{ name, body, options string }{
		{"clean text", "1\t2\t1.5\t2024-01-02\tplain\t3\n2\t\\N\t\\N\t\\N\t\\N\t\\N\n", ""},
		{"clean csv", "1,2,1.5,2024-01-02,\"a,b\",3\r\n2,NULL,NULL,NULL,NULL,NULL\r\n", csv + ` LINES TERMINATED BY '\r\n'`},
		{"bare NULL is text in the TEXT format", "1\t2\t1.5\t2024-01-02\tNULL\t3\n", ""},
		{"quoted NULL is text", "1,NULL,NULL,NULL,\"NULL\",NULL\n2,\\N,\\N,\\N,\"\\N\",\\N\n", csv},
		{`\N inside a field`, "1\t2\t1.5\t2024-01-02\ta\\Nb\t3\n", ""},
		{"doubled quotes", "1,2,1.5,2024-01-02,\"say \"\"hi\"\"\",3\n", csv},
		{"enclosed line break", "1,2,1.5,2024-01-02,\"line1\nline2\",3\n2,2,1.5,2024-01-02,x,3\n", csv},
		{"escaped line break", "1\t2\t1.5\t2024-01-02\tab\\\ncd\t3\n", ""},
		{"too few fields", "1,2\n2,3,1.5,2024-01-02,x,3\n", csv},
		{"too many fields", "1,2,1.5,2024-01-02,x,3,extra\n", csv},
		{"trailing terminator at the end of input", "1,2,1.5,2024-01-02,x,3,", csv},
		{"trailing terminator before the line end", "1,2,1.5,2024-01-02,x,3,\n", csv},
		{"empty integer", "1,,1.5,2024-01-02,x,3\n", csv},
		{"empty decimal", "1,2,,2024-01-02,x,3\n", csv},
		{"empty date", "1,2,1.5,,x,3\n", csv},
		{"empty string", "1,2,1.5,2024-01-02,,3\n", csv},
		{"all-space number", "1, ,1.5,2024-01-02,x,3\n", csv},
		{"NULL into NOT NULL", "\\N,2,1.5,2024-01-02,x,3\n", csv},
		{"bad value before a missing field", "1,x\n", csv},
		{"empty line", "1,2,1.5,2024-01-02,x,3\n\n", csv},
		{"header", "id,n,d,day,s,opt\n1,2,1.5,2024-01-02,x,3\n", csv + " IGNORE 1 LINES"},
		{"starting by", "junk\n>1,2,1.5,2024-01-02,x,3\nmore junk\n>2,2,1.5,2024-01-02,y,3\n", csv + " LINES STARTING BY '>'"},
		{"latin1 file", "1,2,1.5,2024-01-02,caf\xe9 \x80,3\n", "CHARACTER SET latin1 " + csv},
		{"utf8mb4 file", "1,2,1.5,2024-01-02,café,3\n", "CHARACTER SET utf8mb4 " + csv},
		{"unknown character set", "1,2,1.5,2024-01-02,x,3\n", "CHARACTER SET nosuch " + csv},
		{"column list with variables", "1,2,1.5,2024-01-02,x\n", csv + " (id, @n, d, day, s) SET n = @n * 10"},
	}
	// A BEFORE INSERT trigger sees and changes every loaded row.
	trigger := "CREATE TRIGGER %[1]s_bi BEFORE INSERT ON %[1]s FOR EACH ROW SET NEW.opt = NEW.n * 2"
	file := filepath.Join(dir, "trigger.txt")
	require.NoError(t, os.WriteFile(file, []byte("1,2,1.5,2024-01-02,x,3\n2,5,1.5,2024-01-02,y,3\n"), 0o644))
	matchMariaDB(t, maria, sibyl, fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE %%s %s", file, csv), false, ddl, trigger)

	// A missing file, and one outside secure_file_priv.
	outside := filepath.Join(t.TempDir(), "outside.txt")
	require.NoError(t, os.WriteFile(outside, []byte("1,2,1.5,2024-01-02,x,3\n"), 0o644))
	for _, f := range []string{filepath.Join(dir, "nosuch.txt"), outside} {
		matchMariaDB(t, maria, sibyl, fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE %%s %s", f, csv), false, ddl)
	}

	for i, tc := range cases {
		file := filepath.Join(dir, fmt.Sprintf("case%d.txt", i))
		require.NoError(t, os.WriteFile(file, []byte(tc.body), 0o644))
		for _, mode := range []string{"", "IGNORE"} {
			t.Run(strings.TrimSpace(tc.name+" "+mode), func(t *testing.T) {
				matchMariaDB(t, maria, sibyl, fmt.Sprintf("LOAD DATA INFILE '%s' %s INTO TABLE %%s %s", file, mode, tc.options), false, ddl)
			})
		}
	}
}

// TestLoadDataRandomMatchesMariaDB compares seeded random files, built
// from the bytes that matter to LOAD DATA's reading (terminators,
// enclosures, escapes, NULL words, line breaks inside fields), under
// several FIELDS and LINES options, with MariaDB: strict and IGNORE.
func TestLoadDataRandomMatchesMariaDB(t *testing.T) {
	dir, maria, sibyl := mariaAndSibyl(t)
	// Text columns only: the engine converts a number with trailing text
	// ('4abc') differently from MySQL (error 1366, not 1265), which is
	// INSERT's business, not LOAD DATA's reading. A binary key, because
	// MariaDB's default collations ignore trailing spaces and case.
	const ddl = "CREATE TABLE %s (id VARBINARY(500) PRIMARY KEY, a TEXT, b TEXT, c TEXT)"
	tokens := []string{"a", "N", "NULL", ",", "\t", "\\", "\\N", "\"", "\"\"", "'", "|", ";", " ", "é", "\r", "\n", "0", ""}
	opts := []struct{ clause, sep, term, start, quote string }{
		{"", "\t", "\n", "", ""},
		{`FIELDS TERMINATED BY ','`, ",", "\n", "", ""},
		{`FIELDS TERMINATED BY ',' ENCLOSED BY '"'`, ",", "\n", "", `"`},
		{`FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '"' LINES TERMINATED BY '\r\n'`, ",", "\r\n", "", `"`},
		{`FIELDS TERMINATED BY '|' ENCLOSED BY '\'' ESCAPED BY '' LINES TERMINATED BY ';'`, "|", ";", "", "'"},
		{`FIELDS TERMINATED BY ',,' LINES STARTING BY '>' TERMINATED BY '\r\n'`, ",,", "\r\n", ">", ""},
	}
	rng := rand.New(rand.NewSource(11))
	for round := 0; round < 24; round++ {
		for oi, o := range opts {
			var body strings.Builder
			for id := 1; id <= 20; id++ {
				fmt.Fprintf(&body, "%s%d", o.start, id)
				for n := 3 + rng.Intn(3) - 1; n > 0; n-- { // 2 to 4 more fields
					body.WriteString(o.sep + randomField(rng, tokens, 5, o.quote))
				}
				body.WriteString(o.term)
			}
			file := filepath.Join(dir, fmt.Sprintf("rand-%d-%d.txt", round, oi))
			require.NoError(t, os.WriteFile(file, []byte(body.String()), 0o644))
			mode := []string{"", "IGNORE"}[round%2]
			t.Run(fmt.Sprintf("%d-%d", round, oi), func(t *testing.T) {
				matchMariaDB(t, maria, sibyl, fmt.Sprintf("LOAD DATA INFILE '%s' %s INTO TABLE %%s %s", file, mode, o.clause), true, ddl)
			})
		}
	}
}

// missing returns the elements of a that b lacks, counting repeats.
func missing(a, b []string) []string {
	left := map[string]int{}
	for _, x := range b {
		left[x]++
	}
	var out []string
	for _, x := range a {
		if left[x] > 0 {
			left[x]--
			continue
		}
		out = append(out, x)
	}
	return out
}
