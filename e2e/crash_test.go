package e2e

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// TestKill9KeepsEveryAcknowledgedCommit kills the server with SIGKILL in the
// middle of a stream of inserts and checks that every insert the client saw
// succeed is there after a restart.
func TestKill9KeepsEveryAcknowledgedCommit(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "CREATE DATABASE crash", "CREATE TABLE crash.t (id INT PRIMARY KEY, payload VARCHAR(64))")
	db.SetMaxOpenConns(4)

	var acked atomic.Int64 // highest id acknowledged, ids are sequential per writer
	ackedIDs := make(chan int, 100000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const writers = 4
	done := make(chan struct{}, writers)
	for w := 0; w < writers; w++ {
		go func(w int) {
			defer func() { done <- struct{}{} }()
			for i := 0; ctx.Err() == nil; i++ {
				id := i*writers + w
				if _, err := db.ExecContext(ctx, "INSERT INTO crash.t VALUES (?, 'row')", id); err != nil {
					return
				}
				acked.Add(1)
				ackedIDs <- id
			}
		}(w)
	}
	// Let a few hundred commits through, then crash.
	deadline := time.Now().Add(time.Minute)
	for acked.Load() < 300 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	srv.Kill()
	for w := 0; w < writers; w++ {
		<-done
	}
	close(ackedIDs)
	require.GreaterOrEqual(t, acked.Load(), int64(300))

	srv.StartAgain()
	db = srv.DB("")
	present := map[int]bool{}
	rows, err := db.Query("SELECT id FROM crash.t")
	require.NoError(t, err)
	for rows.Next() {
		var id int
		require.NoError(t, rows.Scan(&id))
		present[id] = true
	}
	require.NoError(t, rows.Err())
	missing := 0
	for id := range ackedIDs {
		if !present[id] {
			missing++
		}
	}
	require.Zerof(t, missing, "%d acknowledged inserts lost after kill -9", missing)
	// The database is writable after recovery.
	_, err = db.Exec("INSERT INTO crash.t VALUES (-1, 'after restart')")
	require.NoError(t, err)
}
