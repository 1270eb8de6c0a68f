package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestIdleConnectionOutlivesNetReadTimeout: net_read_timeout bounds a
// packet that has started to arrive, not the wait for the next command, so
// an idle pooled connection is still there when the pool uses it again
// (MySQL keeps it for wait_timeout, 28800 s). The server runs with
// net_read_timeout = 1 so the idle period is short; before the fix the
// connection was closed after 1 s of idleness.
func TestIdleConnectionOutlivesNetReadTimeout(t *testing.T) {
	srv := testserver.Start(t)
	mustExec(t, srv.DB(""), "SET PERSIST net_read_timeout = 1")
	srv.Restart()
	db := srv.DB("")
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()

	var id1, id2, wait int64
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT CONNECTION_ID(), @@net_read_timeout, @@wait_timeout").Scan(&id1, new(int64), &wait))
	require.EqualValues(t, 28800, wait)
	time.Sleep(2500 * time.Millisecond)
	// A server-side prepared statement ends with COM_STMT_CLOSE, which
	// gets no reply: the connection is idle after it too.
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT CONNECTION_ID() + ?", 0).Scan(&id2))
	require.Equal(t, id1, id2)
	time.Sleep(2500 * time.Millisecond)
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id2))
	require.Equal(t, id1, id2)
}

// TestWaitTimeoutClosesIdleConnection: SET SESSION wait_timeout = 2 and the
// server closes the connection after 2 s without a command, as MySQL does;
// a connection used within the timeout stays.
func TestWaitTimeoutClosesIdleConnection(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()

	_, err = conn.ExecContext(ctx, "SET SESSION wait_timeout = 2")
	require.NoError(t, err)
	time.Sleep(time.Second)
	var n int
	require.NoError(t, conn.QueryRowContext(ctx, "SELECT 1").Scan(&n), "used within wait_timeout")
	time.Sleep(3 * time.Second)
	err = conn.QueryRowContext(ctx, "SELECT 1").Scan(&n)
	require.Error(t, err, "connection idle for longer than wait_timeout must be closed")

	// Other connections are unaffected, and the global default is MySQL's.
	require.EqualValues(t, 28800, queryInt(t, db, "SELECT @@wait_timeout"))
	require.EqualValues(t, 28800, queryInt(t, db, "SELECT @@interactive_timeout"))
}

// TestAutocommitIncrementsAreSerialised: racing autocommit read-modify-write
// statements on one row lose nothing and the clients see no error; the
// server waits on the row lock and re-runs a statement whose snapshot
// turned out older than the row.
func TestAutocommitIncrementsAreSerialised(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE tx", "CREATE TABLE tx.c (id INT PRIMARY KEY, v INT NOT NULL)", "INSERT INTO tx.c VALUES (1, 0)")
	hammer(t, db, func(ctx context.Context, conn *sql.Conn, _, _ int) error {
		_, err := conn.ExecContext(ctx, "UPDATE tx.c SET v = v + 1 WHERE id = 1")
		return err
	})
	require.EqualValues(t, clients*updatesPerClient, queryInt(t, db, "SELECT v FROM tx.c WHERE id = 1"))
}

// TestSelectForUpdateSerialisesReadModifyWrite: the client reads the value
// with FOR UPDATE and writes back what it computed; every increment is
// kept and no transaction fails, as with InnoDB.
func TestSelectForUpdateSerialisesReadModifyWrite(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE tx", "CREATE TABLE tx.c (id INT PRIMARY KEY, v INT NOT NULL)", "INSERT INTO tx.c VALUES (1, 0), (2, 0)")
	hammer(t, db, func(ctx context.Context, conn *sql.Conn, _, _ int) error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
		var v int
		if err := tx.QueryRowContext(ctx, "SELECT v FROM tx.c WHERE id = 1 FOR UPDATE").Scan(&v); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE tx.c SET v = ? WHERE id = 1", v+1); err != nil {
			return err
		}
		return tx.Commit()
	})
	require.EqualValues(t, clients*updatesPerClient, queryInt(t, db, "SELECT v FROM tx.c WHERE id = 1"))
	require.EqualValues(t, 0, queryInt(t, db, "SELECT v FROM tx.c WHERE id = 2"))
}

// TestOpenTransactionBlocksOnlyItsRows: a transaction that updated one row
// and waits (a user at the prompt) blocks the writers of that row only.
func TestOpenTransactionBlocksOnlyItsRows(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE tx", "CREATE DATABASE other",
		"CREATE TABLE tx.t1 (id INT PRIMARY KEY, v INT)", "INSERT INTO tx.t1 VALUES (1, 0), (2, 0)",
		"CREATE TABLE tx.t2 (id INT AUTO_INCREMENT PRIMARY KEY, v INT)",
		"CREATE TABLE other.t (id INT PRIMARY KEY)")
	ctx := context.Background()
	holder := session(t, db, "BEGIN", "UPDATE tx.t1 SET v = 1 WHERE id = 1")
	other := session(t, db, "SET innodb_lock_wait_timeout = 1")
	for _, q := range []string{
		"INSERT INTO tx.t2 (v) VALUES (1)",
		"INSERT INTO other.t VALUES (1)",
		"UPDATE tx.t1 SET v = v + 10 WHERE id = 2",
		"INSERT INTO tx.t1 VALUES (3, 0)",
		"DELETE FROM tx.t1 WHERE id = 3",
	} {
		waits := globalStatus(t, db, "Sibyl_row_lock_waits")["Sibyl_row_lock_waits"]
		_, err := other.ExecContext(ctx, q)
		require.NoError(t, err, q)
		require.Equal(t, waits, globalStatus(t, db, "Sibyl_row_lock_waits")["Sibyl_row_lock_waits"], "%s waited for a lock", q)
	}
	// The writer of the locked row waits innodb_lock_wait_timeout and gets
	// 1205; its connection stays usable.
	start := time.Now()
	_, err := other.ExecContext(ctx, "UPDATE tx.t1 SET v = v + 100 WHERE id = 1")
	num, state := mysqlErr(t, err)
	require.EqualValues(t, 1205, num)
	require.Equal(t, "HY000", state)
	require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond)

	// The holder has not seen the other session's commits (snapshot) and
	// commits its own row; the waiting writer then proceeds.
	_, err = holder.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	_, err = other.ExecContext(ctx, "UPDATE tx.t1 SET v = v + 100 WHERE id = 1")
	require.NoError(t, err)
	require.EqualValues(t, 101, queryInt(t, db, "SELECT v FROM tx.t1 WHERE id = 1"))
	require.EqualValues(t, 10, queryInt(t, db, "SELECT v FROM tx.t1 WHERE id = 2"))
}

// TestUniqueKeyRaceEndsInOneDuplicateError: sessions inserting the same
// UNIQUE value under different primary keys at once: one row, and every
// other session gets 1062.
func TestUniqueKeyRaceEndsInOneDuplicateError(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE tx", "CREATE TABLE tx.u (id INT PRIMARY KEY, email VARCHAR(64) NOT NULL, UNIQUE KEY (email))")
	const racers = 6
	for round := 0; round < 20; round++ {
		var wg sync.WaitGroup
		errs := make([]error, racers)
		startGate := make(chan struct{})
		for i := 0; i < racers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-startGate
				_, errs[i] = db.Exec("INSERT INTO tx.u VALUES (?, ?)", round*100+i, fmt.Sprintf("user%d@example.com", round))
			}(i)
		}
		close(startGate)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
				continue
			}
			num, _ := mysqlErr(t, err)
			require.EqualValues(t, 1062, num, "round %d: %v", round, err)
		}
		require.Equal(t, 1, ok, "round %d", round)
		require.EqualValues(t, 1, queryInt(t, db, "SELECT COUNT(*) FROM tx.u WHERE email = ?", fmt.Sprintf("user%d@example.com", round)))
	}
}

// TestDeadlockDetectedAtOnce: two sessions lock two rows in opposite order;
// the one that closes the cycle gets 1213 (SQLSTATE 40001) at once, its
// transaction is rolled back, and the other proceeds.
func TestDeadlockDetectedAtOnce(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE tx", "CREATE TABLE tx.t (id INT PRIMARY KEY, v INT)", "INSERT INTO tx.t VALUES (1, 0), (2, 0)")
	ctx := context.Background()
	a, err := db.Conn(ctx)
	require.NoError(t, err)
	defer a.Close()
	b, err := db.Conn(ctx)
	require.NoError(t, err)
	defer b.Close()
	for _, s := range []struct {
		c *sql.Conn
		q string
	}{{a, "BEGIN"}, {a, "UPDATE tx.t SET v = v + 1 WHERE id = 1"}, {b, "BEGIN"}, {b, "UPDATE tx.t SET v = v + 10 WHERE id = 2"}} {
		_, err := s.c.ExecContext(ctx, s.q)
		require.NoError(t, err, s.q)
	}
	waits := globalStatus(t, db, "Sibyl_row_lock_waits")["Sibyl_row_lock_waits"]
	aDone := make(chan error, 1)
	go func() {
		_, err := a.ExecContext(ctx, "UPDATE tx.t SET v = v + 1 WHERE id = 2")
		aDone <- err
	}()
	require.Eventually(t, func() bool { // a is waiting for b's row
		return globalStatus(t, db, "Sibyl_row_lock_waits")["Sibyl_row_lock_waits"] > waits
	}, 10*time.Second, 10*time.Millisecond)
	start := time.Now()
	_, err = b.ExecContext(ctx, "UPDATE tx.t SET v = v + 10 WHERE id = 1")
	num, state := mysqlErr(t, err)
	require.EqualValues(t, 1213, num)
	require.Equal(t, "40001", state)
	require.Less(t, time.Since(start), 10*time.Second, "deadlock must be detected, not waited out (innodb_lock_wait_timeout is 50 s)")
	require.NoError(t, <-aDone)
	_, err = a.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	// b's transaction was rolled back: b is no longer in a transaction.
	_, err = b.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	require.EqualValues(t, 1, queryInt(t, db, "SELECT v FROM tx.t WHERE id = 1"))
	require.EqualValues(t, 1, queryInt(t, db, "SELECT v FROM tx.t WHERE id = 2"))
	require.Greater(t, globalStatus(t, db, "Sibyl_deadlocks")["Sibyl_deadlocks"], int64(0))
}

// TestBankTransfersKeepTheTotal is a Jepsen-style bank test: 16 clients
// move random amounts between 10 accounts in explicit transactions (half
// with SELECT ... FOR UPDATE and values computed by the client, half with
// relative updates), retrying on 1213 and 1205, while readers sum every
// balance inside one transaction. Every read sees the initial total; so
// does the end state, after a kill -9 in the middle and a restart.
func TestBankTransfersKeepTheTotal(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	const accounts, initial = 10, 1000
	mustExec(t, db, "CREATE DATABASE bank", "CREATE TABLE bank.acct (id INT PRIMARY KEY, balance INT NOT NULL)")
	for i := 0; i < accounts; i++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO bank.acct VALUES (%d, %d)", i, initial))
	}
	const total = accounts * initial
	db.SetMaxOpenConns(24)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var transfers, reads atomic.Int64
	var wg sync.WaitGroup
	badReads := make(chan int64, 100)
	for c := 0; c < 16; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(c)))
			for ctx.Err() == nil {
				from, to := rng.Intn(accounts), rng.Intn(accounts)
				if from == to {
					continue
				}
				err := transfer(ctx, db, c%2 == 0, from, to, rng.Intn(50)+1)
				if err == nil {
					transfers.Add(1)
				} else if !retryable(err) {
					return // the server was killed
				}
			}
		}(c)
	}
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				sum, err := sumInTransaction(ctx, db, accounts)
				if err != nil {
					return
				}
				reads.Add(1)
				if sum != total {
					badReads <- sum
				}
			}
		}()
	}
	deadline := time.Now().Add(time.Minute)
	for (transfers.Load() < 200 || reads.Load() < 10) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	srv.Kill()
	cancel()
	wg.Wait()
	close(badReads)
	for sum := range badReads {
		t.Errorf("a reader saw total %d, want %d", sum, total)
	}
	require.GreaterOrEqual(t, transfers.Load(), int64(200))
	t.Logf("%d transfers, %d consistent reads before kill -9", transfers.Load(), reads.Load())

	srv.StartAgain()
	db = srv.DB("")
	require.EqualValues(t, total, queryInt(t, db, "SELECT SUM(balance) FROM bank.acct"))
	require.EqualValues(t, accounts, queryInt(t, db, "SELECT COUNT(*) FROM bank.acct"))
}

func retryable(err error) bool {
	var me *mysqldrv.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

func transfer(ctx context.Context, db *sql.DB, forUpdate bool, from, to, amount int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if forUpdate {
		var a, b int
		if err := tx.QueryRowContext(ctx, "SELECT balance FROM bank.acct WHERE id = ? FOR UPDATE", from).Scan(&a); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT balance FROM bank.acct WHERE id = ? FOR UPDATE", to).Scan(&b); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE bank.acct SET balance = ? WHERE id = ?", a-amount, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE bank.acct SET balance = ? WHERE id = ?", b+amount, to); err != nil {
			return err
		}
	} else {
		if _, err := tx.ExecContext(ctx, "UPDATE bank.acct SET balance = balance - ? WHERE id = ?", amount, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE bank.acct SET balance = balance + ? WHERE id = ?", amount, to); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// sumInTransaction reads every balance with its own statement inside one
// transaction: all of them must come from one snapshot.
func sumInTransaction(ctx context.Context, db *sql.DB, accounts int) (int64, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	var sum int64
	for i := 0; i < accounts; i++ {
		var b int64
		if err := tx.QueryRowContext(ctx, "SELECT balance FROM bank.acct WHERE id = ?", i).Scan(&b); err != nil {
			return 0, err
		}
		sum += b
	}
	return sum, tx.Commit()
}

// TestProcessListShowsLockWaits: a connection waiting for a row lock says
// so in SHOW PROCESSLIST and information_schema.PROCESSLIST, and the wait
// is counted.
func TestProcessListShowsLockWaits(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE tx", "CREATE TABLE tx.t (id INT PRIMARY KEY, v INT)", "INSERT INTO tx.t VALUES (1, 0)")
	ctx := context.Background()
	holder := session(t, db, "BEGIN", "UPDATE tx.t SET v = 1 WHERE id = 1")
	waits0 := globalStatus(t, db, "Sibyl_row_lock_waits")["Sibyl_row_lock_waits"]

	waiter, err := db.Conn(ctx)
	require.NoError(t, err)
	defer waiter.Close()
	var waiterID int64
	require.NoError(t, waiter.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&waiterID))
	done := make(chan error, 1)
	go func() {
		_, err := waiter.ExecContext(ctx, "UPDATE tx.t SET v = v + 1 WHERE id = 1")
		done <- err
	}()
	const want = "Waiting for row lock on tx.t"
	require.Eventually(t, func() bool {
		var state sql.NullString
		err := db.QueryRow("SELECT STATE FROM information_schema.PROCESSLIST WHERE ID = ?", waiterID).Scan(&state)
		return err == nil && state.String == want
	}, 10*time.Second, 50*time.Millisecond)

	rows, err := db.Query("SHOW PROCESSLIST")
	require.NoError(t, err)
	found := false
	for rows.Next() {
		var id, tm int64
		var user, host, command string
		var dbName, state, info sql.NullString
		require.NoError(t, rows.Scan(&id, &user, &host, &dbName, &command, &tm, &state, &info))
		if id == waiterID {
			found = true
			require.Equal(t, want, state.String)
			require.Equal(t, "UPDATE tx.t SET v = v + 1 WHERE id = 1", info.String)
		}
	}
	require.NoError(t, rows.Err())
	require.True(t, found)

	_, err = holder.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	require.NoError(t, <-done)
	require.EqualValues(t, 2, queryInt(t, db, "SELECT v FROM tx.t WHERE id = 1"))
	require.Greater(t, globalStatus(t, db, "Sibyl_row_lock_waits")["Sibyl_row_lock_waits"], waits0)
	// The waiter's snapshot predates the holder's commit: its statement
	// was run again on a fresh one, invisibly.
	require.Greater(t, globalStatus(t, db, "Sibyl_statement_restarts")["Sibyl_statement_restarts"], int64(0))
}

// TestMLCallsHoldNoLockOthersNeed: statements waiting on a remote model
// (a BEFORE INSERT fraud check, an UPDATE ... SET = model(...)) run side by
// side and leave writers of other rows and tables alone. Under the former
// server-wide write lock the fraud inserts ran one after the other and the
// plain writes waited for them.
func TestMLCallsHoldNoLockOthersNeed(t *testing.T) {
	// The model server holds every request until the test lets it go, so
	// what happens while model calls are in flight is observed, not timed.
	hold := make(chan struct{})
	release := sync.OnceFunc(func() { close(hold) })
	defer release()
	model := testserver.StartModelServer(t)
	model.Set(func(b *testserver.Behaviour) {
		b.Hold = hold
		b.Score = func(row []*string) string { return "False" }
	})
	srv := testserver.Start(t)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE f")
	db = srv.DB("f", "multiStatements=true")
	mustExec(t, db,
		fmt.Sprintf("CREATE ENDPOINT fraud URL '%s' MAX_CONCURRENCY 16", model.URL),
		"CREATE FUNCTION is_fraud(amount DECIMAL(10,2)) RETURNS VARCHAR(8) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'fraud'",
		"CREATE TABLE txns (id INT AUTO_INCREMENT PRIMARY KEY, amount DECIMAL(10,2), verdict VARCHAR(8))",
		"INSERT INTO txns (amount, verdict) VALUES (1, NULL)",
		`CREATE TRIGGER check_fraud BEFORE INSERT ON txns FOR EACH ROW SET NEW.verdict = is_fraud(NEW.amount)`,
		"CREATE TABLE plain (id INT AUTO_INCREMENT PRIMARY KEY, v INT)",
		"INSERT INTO plain (v) VALUES (0)",
		"SET GLOBAL innodb_lock_wait_timeout = 5")
	db.SetMaxOpenConns(16)

	const inserters = 8
	var wg sync.WaitGroup
	errs := make(chan error, inserters+1)
	for i := 0; i < inserters; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := db.Exec("INSERT INTO txns (amount) VALUES (?)", 10+i)
			errs <- err
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := db.Exec("UPDATE txns SET verdict = is_fraud(amount) WHERE id = 1")
		errs <- err
	}()
	// Every inserter's trigger and the UPDATE call the model at the same
	// time: none of them waits for another's model call.
	require.Eventually(t, func() bool { return model.InFlight() == inserters+1 }, time.Minute, 10*time.Millisecond,
		"model calls of concurrent statements ran one at a time (%d in flight)", model.InFlight())
	// Plain writes go through while every model call is held; a lock held
	// across a model call would make them wait 5 s and fail with 1205.
	for i := 0; i < 3; i++ {
		_, err := db.Exec("INSERT INTO plain (v) VALUES (1)")
		require.NoError(t, err)
		_, err = db.Exec("UPDATE plain SET v = v + 1 WHERE id = 1")
		require.NoError(t, err)
	}
	require.EqualValues(t, inserters+1, model.InFlight(), "the model calls were still held")
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, inserters+1, queryInt(t, db, "SELECT COUNT(*) FROM txns WHERE verdict = 'False'"))
}

// TestSelectForUpdateLocksOnlyItsRows: a locking read (FOR UPDATE, FOR
// SHARE, LOCK IN SHARE MODE) locks the rows it selects (sent as text or as
// a server-side prepared statement): writers of those rows wait, writers
// of other rows do not.
func TestSelectForUpdateLocksOnlyItsRows(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE tx", "CREATE TABLE tx.t (id INT PRIMARY KEY, v INT)", "INSERT INTO tx.t VALUES (1, 0), (2, 0), (3, 0)")
	ctx := context.Background()
	cases := []struct {
		name, lockQuery string
		args            []any
		locked          int
	}{
		{"text", "SELECT v FROM tx.t WHERE id = 1 FOR UPDATE", nil, 1},
		{"prepared", "SELECT v FROM tx.t AS a WHERE a.id = ? FOR UPDATE", []any{2}, 2},
		{"share mode", "SELECT v FROM tx.t WHERE id = ? LOCK IN SHARE MODE", []any{3}, 3},
		// MySQL 8's spelling, which the grammar lacked (1064 before). The
		// driver sends queries without arguments as text; the vitess
		// connection parses server-side prepared statements itself, with
		// the bare grammar, so there FOR SHARE is still 1064.
		{"for share", "select v from tx.t where id = 1 for share;", nil, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			holder, err := db.Conn(ctx)
			require.NoError(t, err)
			defer holder.Close()
			_, err = holder.ExecContext(ctx, "BEGIN")
			require.NoError(t, err)
			var v int
			require.NoError(t, holder.QueryRowContext(ctx, c.lockQuery, c.args...).Scan(&v))

			other, err := db.Conn(ctx)
			require.NoError(t, err)
			defer other.Close()
			_, err = other.ExecContext(ctx, "SET innodb_lock_wait_timeout = 1")
			require.NoError(t, err)
			for id := 1; id <= 3; id++ {
				waits := globalStatus(t, db, "Sibyl_row_lock_waits")["Sibyl_row_lock_waits"]
				_, err := other.ExecContext(ctx, "UPDATE tx.t SET v = v + 1 WHERE id = ?", id)
				if id == c.locked {
					num, _ := mysqlErr(t, err)
					require.EqualValues(t, 1205, num, "writer of the locked row %d", id)
					continue
				}
				require.NoError(t, err, "writer of row %d", id)
				require.Equal(t, waits, globalStatus(t, db, "Sibyl_row_lock_waits")["Sibyl_row_lock_waits"], "writer of row %d waited", id)
			}
			_, err = holder.ExecContext(ctx, "COMMIT")
			require.NoError(t, err)
		})
	}
}
