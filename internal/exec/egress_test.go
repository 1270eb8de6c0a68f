package exec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEgressAnalysis runs the taint analysis through GMS's analyzer on an
// in-memory database: every construct that moves a marked value, or
// decides which rows go, is refused before the remote function sees a row;
// untainted flows still run.
func TestEgressAnalysis(t *testing.T) {
	e, ctx, inv := newEngine(t)
	for _, q := range []string{
		"CREATE TABLE c (id INT PRIMARY KEY, ssn VARCHAR(11) COMMENT 'sibyl:no_egress', name VARCHAR(20), KEY (ssn))",
		"INSERT INTO c VALUES (1, '123-45-6789', 'ann'), (2, '987-65-4321', 'bob')",
		"CREATE TABLE o (id INT PRIMARY KEY, txt VARCHAR(40))",
		"INSERT INTO o VALUES (1, 'x'), (2, 'y')",
		"CREATE VIEW agg AS SELECT MAX(ssn) AS m FROM c",
		"CREATE VIEW uni AS SELECT name AS v FROM c UNION SELECT ssn FROM c",
		"CREATE TABLE g (id INT PRIMARY KEY, ssn VARCHAR(11) COMMENT 'sibyl:no_egress', s2 VARCHAR(11) AS (CONCAT(ssn, '')))",
		"INSERT INTO g (id, ssn) VALUES (1, '123-45-6789')",
	} {
		_, err := run(ctx, e, q)
		require.NoError(t, err, q)
	}
	refused := []string{
		"SELECT echo(ssn) FROM c",
		"SELECT echo(s) FROM (SELECT DISTINCT ssn AS s FROM c ORDER BY ssn LIMIT 5) d",
		"SELECT echo(s) FROM (SELECT ssn AS s FROM c WHERE id > 0) d",
		"SELECT echo(g) FROM (SELECT GROUP_CONCAT(ssn) AS g FROM c) d",
		"SELECT echo(m) FROM (SELECT MAX(ssn) AS m FROM c) d",
		"SELECT echo(j) FROM (SELECT JSON_ARRAYAGG(ssn) AS j FROM c) d",
		"SELECT echo((SELECT MAX(ssn) FROM c))",
		"SELECT echo((SELECT c2.ssn FROM c c2 WHERE c2.id = o.id)) FROM o",
		"SELECT echo(s) FROM (WITH RECURSIVE r(n, s) AS (SELECT 1, CAST('a' AS CHAR(40)) UNION ALL SELECT n + 1, (SELECT MAX(ssn) FROM c) FROM r WHERE n < 3) SELECT s FROM r) d",
		"WITH RECURSIVE r(n, s) AS (SELECT 1, CAST((SELECT MIN(ssn) FROM c) AS CHAR(40)) UNION ALL SELECT n + 1, s FROM r WHERE n < 3) SELECT echo(s) FROM r",
		"SELECT echo(x) FROM (SELECT name AS x FROM c UNION SELECT ssn FROM c) u",
		"SELECT echo(w) FROM (SELECT FIRST_VALUE(ssn) OVER (ORDER BY id) AS w FROM c) d",
		"SELECT echo(w) FROM (SELECT ROW_NUMBER() OVER (ORDER BY ssn) AS w FROM c) d",
		"SELECT echo(x) FROM (VALUES ROW((SELECT MAX(ssn) FROM c))) v(x)",
		"SELECT echo(m) FROM agg",
		"SELECT echo(v) FROM uni",
		"SELECT echo(name) FROM c GROUP BY name HAVING MAX(ssn) > '5'",
		"SELECT echo(name) FROM c WHERE ssn LIKE '1%'",
		"SELECT echo(name) FROM c WHERE ssn = '123-45-6789'",
		"SELECT echo(name) FROM c ORDER BY ssn",
		"SELECT echo(o.txt) FROM o JOIN c ON c.id = o.id AND c.ssn > '5'",
		"SELECT CASE WHEN ssn > '5' THEN echo(name) END FROM c",
		"SELECT echo(s2) FROM g",
		"INSERT INTO o SELECT id + 10, echo(ssn) FROM c",
	}
	for _, q := range refused {
		_, err := run(ctx, e, q)
		require.Error(t, err, q)
		require.Contains(t, err.Error(), "sibyl:no_egress", q)
	}
	require.Empty(t, inv.sent, "nothing was sent")

	// Copies keep the marker or are refused.
	for _, q := range []string{
		"INSERT INTO o SELECT id + 10, ssn FROM c",
		"UPDATE o SET txt = (SELECT MAX(ssn) FROM c)",
		"INSERT INTO o VALUES (9, 'z') ON DUPLICATE KEY UPDATE txt = (SELECT MAX(ssn) FROM c)",
	} {
		_, err := run(ctx, e, q)
		require.Error(t, err, q)
		require.Contains(t, err.Error(), "cannot be copied", q)
	}
	_, err := run(ctx, e, "CREATE TABLE cp AS SELECT id, ssn AS s FROM c")
	require.NoError(t, err)
	_, err = run(ctx, e, "SELECT echo(s) FROM cp")
	require.ErrorContains(t, err, "cp.s is marked")

	// User variables carry the marker.
	for _, q := range []string{"SET @v = (SELECT MAX(ssn) FROM c)", "SELECT ssn INTO @w FROM c LIMIT 1"} {
		_, err := run(ctx, e, q)
		require.NoError(t, err, q)
	}
	for _, q := range []string{"SELECT echo(@v)", "SELECT echo(CONCAT(@w, 'x'))"} {
		_, err := run(ctx, e, q)
		require.ErrorContains(t, err, "c.ssn is marked", q)
	}
	require.Empty(t, inv.sent, "nothing was sent")

	// Clean flows run.
	for _, q := range []string{
		"SELECT echo(name) FROM c",
		"SELECT id, ssn, echo(name) FROM c",
		"SELECT echo(s) FROM (SELECT DISTINCT name AS s FROM c ORDER BY name LIMIT 5) d",
		"SELECT echo(x) FROM (SELECT name AS x FROM c UNION ALL SELECT txt FROM o) u",
		"SELECT echo((SELECT MAX(name) FROM c))",
		"SELECT echo(o.txt) FROM o JOIN c ON c.id = o.id",
		"SELECT echo(x) FROM (VALUES ROW('a'), ROW('b')) v(x)",
		"WITH RECURSIVE r(n, s) AS (SELECT 1, CAST('a' AS CHAR(40)) UNION ALL SELECT n + 1, s FROM r WHERE n < 3) SELECT echo(s) FROM r",
		"SELECT echo(w) FROM (SELECT FIRST_VALUE(name) OVER (ORDER BY id) AS w FROM c) d",
		"SELECT echo(@nothing)",
		"INSERT INTO o SELECT id + 20, name FROM c",
		"UPDATE o SET txt = 'q' WHERE id IN (SELECT id FROM c WHERE ssn > '5')",
	} {
		_, err := run(ctx, e, q)
		require.NoError(t, err, q)
	}
	require.NotEmpty(t, inv.sent)
	for _, s := range inv.sent {
		require.False(t, strings.Contains(s, "-"), "an SSN was sent: %q", s)
	}
}

func TestIsExecute(t *testing.T) {
	for q, want := range map[string]bool{
		"EXECUTE s":                  true,
		"  execute s USING @v":       true,
		"/* c */ EXECUTE s":          true,
		"-- c\nEXECUTE s":            true,
		"# c\n execute s":            true,
		"EXECUTEX":                   false,
		"SELECT 'EXECUTE s'":         false,
		"PREPARE s FROM 'EXECUTE x'": false,
		"/* unterminated EXECUTE s":  false,
		"":                           false,
	} {
		require.Equal(t, want, isExecute(q), q)
	}
}
