package sqlext

import "testing"

func TestVectorIndexOptions(t *testing.T) {
	cases := []struct{ in, want string }{
		{"CREATE TABLE t (v VECTOR(3) NOT NULL, VECTOR INDEX (v) M=8 DISTANCE=cosine)",
			"CREATE TABLE t (v VECTOR(3) NOT NULL, VECTOR INDEX (v) COMMENT 'm=8 distance=cosine')"},
		{"create table t (v vector(3) not null, vector key vi (v) distance=EUCLIDEAN, id int)",
			"create table t (v vector(3) not null, vector key vi (v) COMMENT 'distance=euclidean', id int)"},
		{"ALTER TABLE t ADD VECTOR INDEX (v) M=16", "ALTER TABLE t ADD VECTOR INDEX (v) COMMENT 'm=16'"},
		{"CREATE TABLE t (v VECTOR(3) NOT NULL, VECTOR INDEX (v))", "CREATE TABLE t (v VECTOR(3) NOT NULL, VECTOR INDEX (v))"},
		{"SELECT 'vector index' FROM t", "SELECT 'vector index' FROM t"},
	}
	for _, c := range cases {
		if got := VectorIndexOptions(c.in); got != c.want {
			t.Errorf("VectorIndexOptions(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}
