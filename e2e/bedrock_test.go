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

// queryIDs runs q, which selects id and twice(x) from nums (x = id), checks
// every answer and returns the ids.
func queryIDs(t *testing.T, db *sql.DB, q string, args ...any) []int {
	t.Helper()
	rows, err := db.Query(q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var ids []int
	for rows.Next() {
		var id int
		var y float64
		require.NoError(t, rows.Scan(&id, &y))
		require.Equal(t, float64(2*id), y, "row %d", id)
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

func span(from, n, step int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = from + i*step
	}
	return out
}

// TestLimitBoundsReadAhead checks that a LIMIT above the projection that
// calls a model bounds what the read-ahead sends: every row sent costs money
// with a priced model.
func TestLimitBoundsReadAhead(t *testing.T) {
	_, model, db := mlSetup(t, 3000, 3000, "SAGEMAKER")
	model.Set(func(b *testserver.Behaviour) { b.Delay = 5 * time.Millisecond })
	for _, tc := range []struct {
		query string
		ids   []int
	}{
		{"SELECT id, twice(x) FROM nums ORDER BY id DESC LIMIT 200", span(2999, 200, -1)},
		{"SELECT id, twice(x) FROM nums ORDER BY id LIMIT 200", span(0, 200, 1)},
		{"SELECT id, twice(x) FROM nums ORDER BY id LIMIT 100, 200", span(100, 200, 1)},
		{"SELECT id, twice(x) FROM nums ORDER BY id DESC LIMIT 200 OFFSET 2900", span(99, 100, -1)},
		{"SELECT id, twice(x) FROM (SELECT * FROM nums ORDER BY id DESC LIMIT 200) d ORDER BY id DESC", span(2999, 200, -1)},
		{"SELECT id, twice(x) FROM nums ORDER BY id DESC LIMIT 3", span(2999, 3, -1)},
		{"SELECT id, twice(x) FROM nums ORDER BY id LIMIT 0", nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			model.Reset()
			require.Equal(t, tc.ids, queryIDs(t, db, tc.query))
			require.LessOrEqual(t, model.Rows(), int64(len(tc.ids)), "rows sent: batches %v", model.Batches())
		})
	}

	t.Run("found rows", func(t *testing.T) {
		conn, err := db.Conn(context.Background())
		require.NoError(t, err)
		defer conn.Close()
		rows, err := conn.QueryContext(context.Background(), "SELECT SQL_CALC_FOUND_ROWS id, twice(x) FROM nums ORDER BY id LIMIT 5")
		require.NoError(t, err)
		for rows.Next() {
		}
		require.NoError(t, rows.Err())
		var found int
		require.NoError(t, conn.QueryRowContext(context.Background(), "SELECT FOUND_ROWS()").Scan(&found))
		require.Equal(t, 3000, found)
	})

	t.Run("prepared", func(t *testing.T) {
		model.Reset()
		require.Equal(t, span(0, 30, 1), queryIDs(t, db, "SELECT id, twice(x) FROM nums ORDER BY id LIMIT ?", 30))
		require.LessOrEqual(t, model.Rows(), int64(30), "rows sent: batches %v", model.Batches())
	})
}

// mlFunctionStats reads one function's row of ML_FUNCTION_STATS.
func mlFunctionStats(t *testing.T, db *sql.DB, name string) (requests, errors, cancelled int64) {
	t.Helper()
	require.NoError(t, db.QueryRow(`SELECT requests, errors, cancelled FROM information_schema.ML_FUNCTION_STATS
		WHERE function_schema = DATABASE() AND function_name = ?`, name).Scan(&requests, &errors, &cancelled))
	return requests, errors, cancelled
}

// TestCancelledReadAheadIsNotAnError checks that requests a statement
// abandons when it has its rows (read-ahead in flight at LIMIT) are counted
// as cancelled, not as errors, while real failures still are errors.
func TestCancelledReadAheadIsNotAnError(t *testing.T) {
	_, model, db := mlSetup(t, 500, 500, "SAGEMAKER")
	// The first request answers after 300 ms, by when the read-ahead has
	// sent the second; that one is slower, so it is still in flight when
	// LIMIT 5 is satisfied.
	model.Set(func(b *testserver.Behaviour) {
		b.Fail = func(n int64) (int, string) {
			if n == 1 {
				time.Sleep(300 * time.Millisecond)
			} else {
				time.Sleep(time.Second)
			}
			return 0, ""
		}
	})
	// The filter's Batch cannot be bounded by the LIMIT: it reads ahead.
	rows, err := db.Query("SELECT id, twice(x) FROM nums WHERE twice(x) >= 0 ORDER BY id LIMIT 5")
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 5, n)
	require.Greater(t, model.Requests(), int64(1), "the read-ahead sent a second request")
	reqs, errs, cancelled := mlFunctionStats(t, db, "twice")
	require.Zero(t, errs, "requests cancelled at statement end are not errors")
	require.EqualValues(t, 1, cancelled)
	require.EqualValues(t, model.Requests(), reqs)

	// A real failure still counts.
	model.Set(func(b *testserver.Behaviour) {
		b.Fail = func(int64) (int, string) { return 400, `{"message":"bad input"}` }
	})
	_, err = db.Exec("SELECT twice(1)")
	require.ErrorContains(t, err, "bad input")
	_, errs, cancelled = mlFunctionStats(t, db, "twice")
	require.EqualValues(t, 1, errs)
	require.EqualValues(t, 1, cancelled)
}

// TestEndpointConcurrencySharedFairly checks that an endpoint's
// MAX_CONCURRENCY is shared between statements: a short SELECT arriving
// while long statements keep the endpoint busy gets the next free slot
// instead of queueing behind every request they have waiting.
func TestEndpointConcurrencySharedFairly(t *testing.T) {
	const delay = 300 * time.Millisecond
	srv, model, db := mlSetup(t, 200, 200, "SAGEMAKER")
	model.Set(func(b *testserver.Behaviour) { b.Delay = delay })
	mustExec(t, db,
		"CREATE TABLE out1 (id INT PRIMARY KEY, y DOUBLE)",
		"INSERT INTO out1 SELECT id, 0 FROM nums WHERE id < 40",
		fmt.Sprintf("CREATE ENDPOINT slow URL '%s' PROTOCOL SAGEMAKER MAX_CONCURRENCY 2", model.URL),
		"CREATE FUNCTION one_by_one(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'slow' MAX_BATCH_SIZE 1")

	// Three long statements, one row per request, each keeping its share
	// of requests queued on the endpoint.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, q := range []string{
		"UPDATE out1 SET y = one_by_one(id)",
		"SELECT SUM(one_by_one(x)) FROM nums WHERE id BETWEEN 100 AND 139",
		"SELECT SUM(one_by_one(x)) FROM nums WHERE id BETWEEN 140 AND 179",
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = srv.DB("ml").ExecContext(ctx, q)
		}()
	}
	defer wg.Wait()
	defer cancel()
	require.Eventually(t, func() bool { return model.Requests() >= 4 }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(delay / 2)

	// The short statement waits for at most one request to finish, then
	// takes its own: about 2 x delay, where a single FIFO queue made it
	// wait for every request queued before it.
	start := time.Now()
	var v float64
	require.NoError(t, db.QueryRow("SELECT one_by_one(21)").Scan(&v))
	took := time.Since(start)
	require.Equal(t, 42.0, v)
	require.Less(t, took, 3*delay+delay/2, "short SELECT took %s behind long statements", took)
}
