package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

const (
	clients          = 8
	updatesPerClient = 250
)

// hammer runs fn updatesPerClient times from clients goroutines, each on
// its own connection, and fails the test on the first error.
func hammer(t *testing.T, db *sql.DB, fn func(ctx context.Context, conn *sql.Conn, client, i int) error) {
	t.Helper()
	hammerN(t, db, updatesPerClient, fn)
}

// hammerN is hammer with n operations per client.
func hammerN(t *testing.T, db *sql.DB, n int, fn func(ctx context.Context, conn *sql.Conn, client, i int) error) {
	t.Helper()
	db.SetMaxOpenConns(clients)
	db.SetMaxIdleConns(clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			ctx := context.Background()
			conn, err := db.Conn(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			for i := 0; i < n; i++ {
				if err := fn(ctx, conn, c, i); err != nil {
					errs <- fmt.Errorf("client %d op %d: %w", c, i, err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE cc",
		"CREATE TABLE cc.c (id INT PRIMARY KEY, v INT NOT NULL)",
		"INSERT INTO cc.c VALUES (1, 0), (2, 0)",
		"CREATE TABLE cc.ins (id INT AUTO_INCREMENT PRIMARY KEY, client INT, i INT)")

	t.Run("autocommit", func(t *testing.T) {
		hammer(t, db, func(ctx context.Context, conn *sql.Conn, _, _ int) error {
			_, err := conn.ExecContext(ctx, "UPDATE cc.c SET v = v + 1 WHERE id = 1")
			return err
		})
		require.EqualValues(t, clients*updatesPerClient, queryInt(t, db, "SELECT v FROM cc.c WHERE id = 1"))
	})

	t.Run("explicit transactions with a read first", func(t *testing.T) {
		hammer(t, db, func(ctx context.Context, conn *sql.Conn, _, _ int) error {
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			// The snapshot taken here is older than the lock; the server
			// must refresh it when the UPDATE takes the lock.
			var v int
			if err := tx.QueryRowContext(ctx, "SELECT v FROM cc.c WHERE id = 2").Scan(&v); err != nil {
				_ = tx.Rollback()
				return err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE cc.c SET v = v + 1 WHERE id = 2"); err != nil {
				_ = tx.Rollback()
				return err
			}
			return tx.Commit()
		})
		require.EqualValues(t, clients*updatesPerClient, queryInt(t, db, "SELECT v FROM cc.c WHERE id = 2"))
	})

	t.Run("concurrent inserts are all kept", func(t *testing.T) {
		hammer(t, db, func(ctx context.Context, conn *sql.Conn, c, i int) error {
			_, err := conn.ExecContext(ctx, "INSERT INTO cc.ins (client, i) VALUES (?, ?)", c, i)
			return err
		})
		require.EqualValues(t, clients*updatesPerClient, queryInt(t, db, "SELECT COUNT(*) FROM cc.ins"))
		require.EqualValues(t, clients*updatesPerClient, queryInt(t, db, "SELECT COUNT(DISTINCT id) FROM cc.ins"))
	})
}

func TestReadersDoNotWaitForWriters(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE rw", "CREATE TABLE rw.t (id INT PRIMARY KEY, v INT)", "INSERT INTO rw.t VALUES (1, 10)")
	ctx := context.Background()

	writer, err := db.Conn(ctx)
	require.NoError(t, err)
	defer writer.Close()
	_, err = writer.ExecContext(ctx, "BEGIN")
	require.NoError(t, err)
	_, err = writer.ExecContext(ctx, "UPDATE rw.t SET v = 20 WHERE id = 1")
	require.NoError(t, err)

	// A reader, and a read-only transaction, proceed while the writer holds
	// the lock, and see the last committed value. A reader that waited
	// would hit the 10 s context deadline.
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var v int
	require.NoError(t, db.QueryRowContext(rctx, "SELECT v FROM rw.t WHERE id = 1").Scan(&v))
	require.Equal(t, 10, v)
	rtx, err := db.BeginTx(rctx, &sql.TxOptions{ReadOnly: true})
	require.NoError(t, err)
	require.NoError(t, rtx.QueryRowContext(rctx, "SELECT COUNT(*) FROM rw.t").Scan(&v))
	require.NoError(t, rtx.Commit())

	// A second writer of the same row waits, then gets MySQL's lock wait
	// timeout, and its connection stays usable. (With the server-wide
	// write lock this test inserted another row; writers of other rows no
	// longer wait, see TestOpenTransactionBlocksOnlyItsRows.)
	other, err := db.Conn(ctx)
	require.NoError(t, err)
	defer other.Close()
	_, err = other.ExecContext(ctx, "SET innodb_lock_wait_timeout = 1")
	require.NoError(t, err)
	_, err = other.ExecContext(ctx, "UPDATE rw.t SET v = v + 1 WHERE id = 1")
	num, state := mysqlErr(t, err)
	require.EqualValues(t, 1205, num)
	require.Equal(t, "HY000", state)
	require.NoError(t, other.QueryRowContext(ctx, "SELECT 1").Scan(&v))

	_, err = writer.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)

	// Once the writer commits, the waiting writer's retry succeeds and
	// builds on the committed value.
	_, err = other.ExecContext(ctx, "UPDATE rw.t SET v = v + 1 WHERE id = 1")
	require.NoError(t, err)
	require.EqualValues(t, 21, queryInt(t, db, "SELECT v FROM rw.t WHERE id = 1"))
}

func TestWaitingWriterProceedsWhenHolderDisconnects(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE dc", "CREATE TABLE dc.t (id INT PRIMARY KEY)")
	ctx := context.Background()

	holder := srv.Open(srv.DSN("root", "", ""))
	conn, err := holder.Conn(ctx)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "BEGIN")
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, "INSERT INTO dc.t VALUES (1)")
	require.NoError(t, err)

	// The waiter inserts the same key, so it waits for the holder's row
	// lock (writers of other rows no longer wait at all).
	done := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, "INSERT INTO dc.t VALUES (1)")
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	// The holder vanishes without COMMIT: its transaction is rolled back
	// and the lock passes on.
	_ = conn.Close()
	require.NoError(t, holder.Close())
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("waiting writer did not proceed after the lock holder disconnected")
	}
	// Only the waiter's row is there: the holder's insert was rolled back.
	require.EqualValues(t, 1, queryInt(t, db, "SELECT COUNT(*) FROM dc.t"))
}

func TestFailedAutocommitStatementChangesNothing(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE fa", "CREATE TABLE fa.t (id INT PRIMARY KEY, v INT)", "INSERT INTO fa.t VALUES (5, 0)")
	// The third row collides: MySQL rolls back the whole statement.
	_, err := db.Exec("INSERT INTO fa.t VALUES (1, 0), (2, 0), (5, 0)")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1062, num)
	require.EqualValues(t, 1, queryInt(t, db, "SELECT COUNT(*) FROM fa.t"))
	// And its row locks were released: a writer of the same key is not
	// blocked.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, "INSERT INTO fa.t VALUES (1, 0)")
	require.NoError(t, err)
}

// TestGroupCommitSyncsOutsideTheCommitLock: client statements' commits
// hand their journal fsync back to the server (the patched Dolt of
// patches/dolt), which runs it before acknowledging; concurrent commits
// share fsyncs. The counters prove the path is taken (a build without the
// patch syncs inside Dolt and counts nothing) and that every deferred
// commit was synced by its own fsync or an earlier one (fsyncs <= commits;
// how many commits share one depends on timing, so it is measured by
// bench/sysbench, not asserted).
func TestGroupCommitSyncsOutsideTheCommitLock(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE gc", "CREATE TABLE gc.t (client INT, i INT, PRIMARY KEY (client, i))")
	before := globalStatus(t, db, "Sibyl_group_commit_%")
	hammer(t, db, func(ctx context.Context, conn *sql.Conn, client, i int) error {
		_, err := conn.ExecContext(ctx, "INSERT INTO gc.t VALUES (?, ?)", client, i)
		return err
	})
	require.EqualValues(t, clients*updatesPerClient, queryInt(t, db, "SELECT COUNT(*) FROM gc.t"))
	after := globalStatus(t, db, "Sibyl_group_commit_%")
	commits := after["Sibyl_group_commit_commits"] - before["Sibyl_group_commit_commits"]
	fsyncs := after["Sibyl_group_commit_fsyncs"] - before["Sibyl_group_commit_fsyncs"]
	// Every autocommit INSERT defers its fsync, except the rare root update
	// that also flushes the journal's index, which syncs at once.
	require.GreaterOrEqual(t, commits, int64(clients*updatesPerClient*9/10))
	require.LessOrEqual(t, commits, int64(clients*updatesPerClient))
	require.Positive(t, fsyncs)
	require.LessOrEqual(t, fsyncs, commits)
	// Each of those statements waited for its fsync, or for one that
	// covered it: at least some microseconds in all.
	require.Positive(t, after["Sibyl_group_commit_wait_us"]-before["Sibyl_group_commit_wait_us"])
	journal := globalStatus(t, db, "Sibyl_journal_fsync%")
	require.GreaterOrEqual(t, journal["Sibyl_journal_fsyncs"], fsyncs, "every journal fsync is counted, deferred or not")
	require.Positive(t, journal["Sibyl_journal_fsync_us"])
	t.Logf("%d commits, %d fsyncs", commits, fsyncs)
}
