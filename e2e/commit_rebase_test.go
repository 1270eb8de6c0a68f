package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// commitPaths returns how many rebases onto a moved working root
// (internal/txrebase) were done so far, how many of them under the commit
// lock, and how many commits were left to Dolt's merge.
func commitPaths(t *testing.T, db *sql.DB) (rebased, locked, merged int64) {
	t.Helper()
	s := globalStatus(t, db, "Sibyl_commit_%")
	return s["Sibyl_commit_rebases"], s["Sibyl_commit_rebases_locked"], s["Sibyl_commit_merges"]
}

// TestConcurrentWriteTransactionsRebase runs sysbench's oltp_write_only
// transaction (two updates, a delete and an insert, here of the deleted
// row, so the sum of k counts committed transactions) plus an
// auto-increment insert from 8 clients, and checks that nothing is lost,
// that the secondary index matches the rows, and that the commits were
// rebased rather than merged, before and after a restart.
func TestConcurrentWriteTransactionsRebase(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	const rows, txnsPerClient = 100, 40
	mustExec(t, db, "CREATE DATABASE rb",
		"CREATE TABLE rb.t (id INT PRIMARY KEY, k INT NOT NULL, c VARCHAR(40) NOT NULL, KEY k_idx (k))",
		"CREATE TABLE rb.ai (id INT AUTO_INCREMENT PRIMARY KEY, client INT NOT NULL)")
	values := make([]string, rows)
	for i := range values {
		values[i] = fmt.Sprintf("(%d, 0, 'init')", i+1)
	}
	mustExec(t, db, "INSERT INTO rb.t VALUES "+strings.Join(values, ", "))
	rebasedBefore, lockedBefore, mergedBefore := commitPaths(t, db)

	var committed atomic.Int64
	rngs := make([]*rand.Rand, clients)
	for c := range rngs {
		rngs[c] = rand.New(rand.NewSource(int64(c)))
	}
	hammerN(t, db, txnsPerClient, func(ctx context.Context, conn *sql.Conn, c, i int) error {
		a, b, d := rngs[c].Intn(rows)+1, rngs[c].Intn(rows)+1, rngs[c].Intn(rows)+1
		for {
			err := writeOnlyTxn(ctx, conn, c, i, a, b, d)
			if err == nil {
				committed.Add(1)
				return nil
			}
			if !retryable(err) {
				return err
			}
		}
	})
	require.EqualValues(t, clients*txnsPerClient, committed.Load())

	check := func(t *testing.T) {
		require.EqualValues(t, committed.Load(), queryInt(t, db, "SELECT SUM(k) FROM rb.t"), "every committed k + 1 is kept")
		require.EqualValues(t, rows, queryInt(t, db, "SELECT COUNT(*) FROM rb.t"))
		require.Equal(t, idAndK(t, db, "SELECT id, k FROM rb.t ORDER BY id"),
			idAndK(t, db, "SELECT id, k FROM rb.t WHERE k >= 0 ORDER BY id"),
			"the k_idx index holds exactly the table's rows")
		require.EqualValues(t, committed.Load(), queryInt(t, db, "SELECT COUNT(DISTINCT id) FROM rb.ai"))
		require.EqualValues(t, committed.Load(), queryInt(t, db, "SELECT COUNT(*) FROM rb.ai"))
		for c := 0; c < clients; c++ {
			require.EqualValues(t, txnsPerClient, queryInt(t, db, "SELECT COUNT(*) FROM rb.ai WHERE client = ?", c))
		}
	}
	require.Contains(t, explainTree(t, db, "SELECT id, k FROM rb.t WHERE k >= 0 ORDER BY id"), "index: [t.k]", "the range query must read the secondary index")
	check(t)

	rebased, locked, merged := commitPaths(t, db)
	t.Logf("%d rebases, %d of them under the commit lock (the root moved again after an early rebase)", rebased-rebasedBefore, locked-lockedBefore)
	require.Greater(t, rebased-rebasedBefore, int64(0), "commits onto a moved root were rebased")
	require.Equal(t, mergedBefore, merged, "no commit of this workload needs Dolt's merge")

	maxID := queryInt(t, db, "SELECT MAX(id) FROM rb.ai")
	mustExec(t, db, "INSERT INTO rb.ai (client) VALUES (99)")
	require.Greater(t, queryInt(t, db, "SELECT id FROM rb.ai WHERE client = 99"), maxID, "the auto-increment counter kept the largest id")
	mustExec(t, db, "DELETE FROM rb.ai WHERE client = 99")

	srv.Restart()
	check(t)
}

// writeOnlyTxn is one oltp_write_only transaction on rb.t plus an insert
// into rb.ai, rolled back on any error.
func writeOnlyTxn(ctx context.Context, conn *sql.Conn, client, i, a, b, d int) (err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if _, err = tx.ExecContext(ctx, "UPDATE rb.t SET k = k + 1 WHERE id = ?", a); err != nil {
		return err
	}
	if _, err = tx.ExecContext(ctx, "UPDATE rb.t SET c = ? WHERE id = ?", fmt.Sprintf("c%d-%d", client, i), b); err != nil {
		return err
	}
	var k int
	var c string
	if err = tx.QueryRowContext(ctx, "SELECT k, c FROM rb.t WHERE id = ? FOR UPDATE", d).Scan(&k, &c); err != nil {
		return err
	}
	if _, err = tx.ExecContext(ctx, "DELETE FROM rb.t WHERE id = ?", d); err != nil {
		return err
	}
	if _, err = tx.ExecContext(ctx, "INSERT INTO rb.t VALUES (?, ?, ?)", d, k, c); err != nil {
		return err
	}
	if _, err = tx.ExecContext(ctx, "INSERT INTO rb.ai (client) VALUES (?)", client); err != nil {
		return err
	}
	return tx.Commit()
}

func idAndK(t *testing.T, db *sql.DB, q string) [][2]int64 {
	t.Helper()
	rows, err := db.Query(q)
	require.NoError(t, err)
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var r [2]int64
		require.NoError(t, rows.Scan(&r[0], &r[1]))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestCommitRebaseOrMerge interleaves two sessions so that the first
// commits after the second moved the working root, and checks which path
// each table shape takes and that both sessions' rows are kept.
func TestCommitRebaseOrMerge(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE ro",
		"CREATE TABLE ro.plain (id INT PRIMARY KEY, v INT NOT NULL, KEY v_idx (v))",
		"INSERT INTO ro.plain VALUES (1, 10), (2, 20)",
		"CREATE TABLE ro.parent (id INT PRIMARY KEY)",
		"INSERT INTO ro.parent VALUES (1)",
		"CREATE TABLE ro.child (id INT PRIMARY KEY, pid INT NOT NULL, FOREIGN KEY (pid) REFERENCES ro.parent (id))",
		"CREATE TABLE ro.uniq (id INT PRIMARY KEY, e VARCHAR(20) NOT NULL, UNIQUE KEY e_uq (e))")

	for _, tc := range []struct {
		name         string
		first, other string // the first session's statements ("; "-separated, in BEGIN ... COMMIT) and the other's (autocommit)
		rebased      bool
		check        string // returns 1 when both sessions' changes are there
	}{
		{"rows of one table", "UPDATE ro.plain SET v = v + 1 WHERE id = 1", "UPDATE ro.plain SET v = v + 5 WHERE id = 2", true,
			"SELECT COUNT(*) = 2 FROM ro.plain WHERE (id, v) IN ((1, 11), (2, 25)) AND v > 0"},
		{"a table with a foreign key", "INSERT INTO ro.child VALUES (1, 1)", "INSERT INTO ro.child VALUES (2, 1)", false,
			"SELECT COUNT(*) = 2 FROM ro.child"},
		{"a new unique value", "INSERT INTO ro.uniq VALUES (1, 'a')", "INSERT INTO ro.uniq VALUES (2, 'b')", true,
			"SELECT COUNT(*) = 2 FROM ro.uniq WHERE e IN ('a', 'b')"},
		// The transaction moves 'a' from row 1 to row 3 while head still
		// has ('a', 1): Dolt's merge reported a unique violation (1105,
		// transaction rolled back); the rebase sees the transaction
		// deleted that entry.
		{"a unique value moved to another row", "UPDATE ro.uniq SET e = 'z' WHERE id = 1; INSERT INTO ro.uniq VALUES (3, 'a')",
			"INSERT INTO ro.uniq VALUES (4, 'q')", true,
			"SELECT COUNT(*) = 4 FROM ro.uniq WHERE (id, e) IN ((1, 'z'), (2, 'b'), (3, 'a'), (4, 'q'))"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rebasedBefore, lockedBefore, mergedBefore := commitPaths(t, db)
			tx, err := db.BeginTx(ctx, nil)
			require.NoError(t, err)
			for _, q := range strings.Split(tc.first, "; ") {
				_, err = tx.ExecContext(ctx, q)
				require.NoError(t, err)
			}
			mustExec(t, db, tc.other)
			require.NoError(t, tx.Commit())
			rebased, locked, merged := commitPaths(t, db)
			// Nothing commits between the early rebase and the commit
			// lock here, so the lock never rebases.
			require.Equal(t, lockedBefore, locked, "the rebase ran before the commit lock")
			if tc.rebased {
				require.Equal(t, rebasedBefore+1, rebased)
				require.Equal(t, mergedBefore, merged)
			} else {
				require.Equal(t, rebasedBefore, rebased)
				require.Equal(t, mergedBefore+1, merged)
			}
			require.EqualValues(t, 1, queryInt(t, db, tc.check))
		})
	}
	// The index of the rebased table matches its rows.
	require.Equal(t, idAndK(t, db, "SELECT id, v FROM ro.plain ORDER BY id"),
		idAndK(t, db, "SELECT id, v FROM ro.plain WHERE v > 0 ORDER BY id"))
}
