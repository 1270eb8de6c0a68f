package plancache

import (
	"testing"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"
	"github.com/stretchr/testify/require"
)

func TestInvalidates(t *testing.T) {
	cases := []struct {
		query string
		want  bool
	}{
		{"SELECT c FROM t WHERE id = ?", false},
		{"  select 1", false},
		{"INSERT INTO t VALUES (1)", false},
		{"UPDATE t SET c = 1", false},
		{"DELETE FROM t", false},
		{"REPLACE INTO t VALUES (1)", false},
		{"BEGIN", false},
		{"START TRANSACTION", false},
		{"COMMIT", false},
		{"ROLLBACK", false},
		{"SHOW TABLES", false},
		{"ALTER TABLE t ADD COLUMN z INT", true},
		{"CREATE INDEX i ON t (c)", true},
		{"DROP TABLE t", true},
		{"TRUNCATE t", true},
		{"RENAME TABLE t TO u", true},
		{"GRANT SELECT ON d.* TO u", true},
		{"REVOKE SELECT ON d.* FROM u", true},
		{"SET ROLE r", true},
		{"SET sql_mode = ''", true},
		{"CALL dolt_checkout('b')", true},
		{"CALL p()", true},
		{"USE d", true},
		{"PREPARE s FROM 'SELECT 1'", true},
		{"DEALLOCATE PREPARE s", true},
		{"LOAD DATA INFILE 'f' INTO TABLE t", true},
		{"FLUSH PRIVILEGES", true},
		{"WITH x AS (SELECT 1) SELECT * FROM x", true},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, Invalidates(tc.query), tc.query)
	}
}

func TestShapes(t *testing.T) {
	cases := []struct {
		query         string
		point, search bool
	}{
		{"SELECT c FROM t WHERE id = ?", true, false},
		{"SELECT * FROM t WHERE id = ?", true, false},
		{"SELECT t.c, id FROM d.t WHERE ? = t.id", true, false},
		{"SELECT c FROM t WHERE a = ? AND b = ?", true, false},
		{"SELECT c FROM t WHERE a = ? AND a = ?", false, false},
		{"SELECT c FROM t WHERE id = ? OR id = ?", false, false},
		{"SELECT c FROM t WHERE id = 1", false, false},
		{"SELECT c FROM t WHERE id > ?", false, false},
		{"SELECT c FROM t WHERE id = ? LIMIT 1", false, false},
		{"SELECT c FROM t WHERE id = ? ORDER BY c", false, false},
		{"SELECT c FROM t WHERE id = ? FOR UPDATE", false, false},
		{"SELECT c FROM t WHERE id = ? LOCK IN SHARE MODE", false, false},
		{"SELECT DISTINCT c FROM t WHERE id = ?", false, false},
		{"SELECT c + 1 FROM t WHERE id = ?", false, false},
		{"SELECT RAND() FROM t WHERE id = ?", false, false},
		{"SELECT c FROM t, u WHERE id = ?", false, false},
		{"SELECT c FROM t AS OF 'main' WHERE id = ?", false, false},
		{"SELECT c FROM t USE INDEX (i) WHERE id = ?", false, false},
		{"SELECT c FROM (SELECT * FROM t) s WHERE id = ?", false, false},
		{"SELECT c FROM t WHERE id = (SELECT ?)", false, false},
		{"SELECT c INTO @x FROM t WHERE id = ?", false, false},
		{"SELECT /*+ JOIN_ORDER(t) */ c FROM t WHERE id = ?", false, false},
		{"WITH s AS (SELECT 1) SELECT c FROM t WHERE id = ?", false, false},
		{"SELECT id FROM t ORDER BY VEC_DISTANCE_COSINE(v, ?) LIMIT 10", false, true},
		{"SELECT id, c FROM t ORDER BY VEC_DISTANCE(v, STRING_TO_VECTOR(?)) LIMIT 5", false, true},
		{"SELECT id FROM t ORDER BY VEC_DISTANCE_COSINE(v, ?) DESC LIMIT 10", false, false},
		{"SELECT id FROM t ORDER BY VEC_DISTANCE_COSINE(v, ?) LIMIT ?", false, false},
		{"SELECT id FROM t ORDER BY VEC_DISTANCE_COSINE(v, ?) LIMIT 10 OFFSET 2", false, false},
		{"SELECT id FROM t WHERE g = ? ORDER BY VEC_DISTANCE_COSINE(v, ?) LIMIT 10", false, false},
		{"SELECT id FROM t ORDER BY VEC_DISTANCE_COSINE(v, ?), id LIMIT 10", false, false},
		{"SELECT id FROM t ORDER BY VEC_DISTANCE_COSINE(v, '[1,2]') LIMIT 10", false, false},
	}
	for _, tc := range cases {
		st, err := ast.Parse(tc.query)
		require.NoError(t, err, tc.query)
		_, _, point := pointShape(st)
		_, search := searchShape(st)
		require.Equal(t, tc.point, point, "point: %s", tc.query)
		require.Equal(t, tc.search, search, "search: %s", tc.query)
	}
}

func TestRangeShape(t *testing.T) {
	cases := []struct {
		query string
		want  bool
	}{
		{"SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ?", true},
		{"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?", true},
		{"SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c", true},
		{"SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c", true},
		{"SELECT COUNT(*), MIN(c) AS m, AVG(k) FROM t WHERE t.id BETWEEN ? AND ?", true},
		{"SELECT * FROM t WHERE id BETWEEN ? AND ? ORDER BY c DESC, k", true},
		{"SELECT c FROM t WHERE id BETWEEN ? AND ? LIMIT 5", false},
		{"SELECT c FROM t WHERE id NOT BETWEEN ? AND ?", false},
		{"SELECT c FROM t WHERE id BETWEEN 1 AND ?", false},
		{"SELECT c FROM t WHERE id BETWEEN ? AND ? + 1", false},
		{"SELECT c FROM t WHERE id BETWEEN ? AND ? AND k = ?", false},
		{"SELECT c FROM t WHERE id >= ? AND id <= ?", false},
		{"SELECT SUM(DISTINCT k) FROM t WHERE id BETWEEN ? AND ?", false},
		{"SELECT SUM(k + 1) FROM t WHERE id BETWEEN ? AND ?", false},
		{"SELECT UPPER(c) FROM t WHERE id BETWEEN ? AND ?", false},
		{"SELECT k, COUNT(*) FROM t WHERE id BETWEEN ? AND ? GROUP BY k", false},
		{"SELECT SUM(k) FROM t WHERE id BETWEEN ? AND ? HAVING SUM(k) > 1", false},
		{"SELECT c FROM t WHERE id BETWEEN ? AND ? ORDER BY 1", false},
		{"SELECT c FROM t WHERE id BETWEEN ? AND ? ORDER BY ?", false},
		{"SELECT c FROM t WHERE id BETWEEN ? AND ? FOR UPDATE", false},
		{"SELECT c FROM t AS OF 'main' WHERE id BETWEEN ? AND ?", false},
		{"SELECT c FROM t, u WHERE id BETWEEN ? AND ?", false},
		{"SELECT c FROM (SELECT * FROM t) x WHERE id BETWEEN ? AND ?", false},
		{"SELECT SUM(k) OVER () FROM t WHERE id BETWEEN ? AND ?", false},
		{"SELECT c FROM t WHERE @v BETWEEN ? AND ?", false},
	}
	for _, tc := range cases {
		parsed, err := ast.Parse(tc.query)
		require.NoError(t, err, tc.query)
		_, _, _, _, ok := rangeShape(parsed)
		require.Equal(t, tc.want, ok, tc.query)
	}
}
