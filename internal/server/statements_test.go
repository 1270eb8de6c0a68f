package server

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/txlock"
)

// TestStatementLocks: the locks a statement takes before it runs. Row
// writes are not here: they lock each row as they write it.
func TestStatementLocks(t *testing.T) {
	db := txlock.DatabaseKey
	tbl := txlock.TableKey
	cases := []struct {
		q    string
		want []stmtLock
	}{
		{"SELECT * FROM t", nil},
		{"UPDATE t SET v = v + 1", nil},
		{"INSERT INTO t VALUES (1)", nil},
		{"select v from t where id = 1 for update", []stmtLock{{db("d"), txlock.IX}, {tbl("d", "t"), txlock.X}}},
		{"SELECT v FROM o.T LOCK IN SHARE MODE", []stmtLock{{db("o"), txlock.IS}, {tbl("o", "t"), txlock.S}}},
		{"SELECT 'for update' FROM t", nil},
		{"CREATE TABLE t (id INT PRIMARY KEY)", []stmtLock{{db("d"), txlock.X}}},
		{"ALTER TABLE other.t ADD COLUMN c INT", []stmtLock{{db("other"), txlock.X}}},
		{"DROP TABLE t", []stmtLock{{db("d"), txlock.X}}},
		{"TRUNCATE TABLE x.t", []stmtLock{{db("x"), txlock.X}}},
		{"CREATE DATABASE nd", []stmtLock{{db("nd"), txlock.X}}},
		{"CREATE MODEL m FROM t TARGET y FUNCTION f", nil},
		{"LOAD DATA INFILE 'f.csv' INTO TABLE x.t FIELDS TERMINATED BY ','", []stmtLock{{db("x"), txlock.IX}, {tbl("x", "t"), txlock.X}}},
		{"LOAD DATA FROM S3 's3://b/k' INTO TABLE `t`", []stmtLock{{db("d"), txlock.IX}, {tbl("d", "t"), txlock.X}}},
	}
	for _, c := range cases {
		got := statementLocks(c.q, "d")
		sort.Slice(got, func(i, j int) bool { return got[i].key < got[j].key })
		require.Equal(t, c.want, got, c.q)
	}
}
