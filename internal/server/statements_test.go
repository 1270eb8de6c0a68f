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

// TestHasLockingClause: the locking-read pre-check, in any letter case.
func TestHasLockingClause(t *testing.T) {
	cases := []struct {
		q    string
		want bool
	}{
		{"SELECT c FROM t WHERE id = ?", false},
		{"SELECT c FROM t WHERE id = ? FOR UPDATE", true},
		{"select c from t where id = ? for update", true},
		{"select c from t where id = ? For Share", true},
		{"SELECT c FROM t LOCK IN SHARE MODE", true},
		{"SELECT c FROM t lock in share mode", true},
		{"SELECT 'for update' FROM t", true}, // a literal costs a parse, no more
		{"SELECT c FROM t FOR", false},
		{"SELECT fo", false},
		{"", false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, hasLockingClause(c.q), c.q)
	}
}
