package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// dirSize is the bytes of the regular files under dir. The server's
// storage GC may delete a file between the directory read and its stat: a
// file gone by then counts as nothing, as it would a moment later.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	}))
	return n
}

// noise is an SQL expression for 1,024 hex characters that differ per row
// (id) and per round: data that Dolt's chunk compression cannot shrink.
func noise(round int) string {
	parts := make([]string, 8)
	for i := range parts {
		parts[i] = fmt.Sprintf("SHA2(CONCAT(id, ':%d:%d'), 512)", round, i)
	}
	return "CONCAT(" + strings.Join(parts, ", ") + ")"
}

// TestStorageGCBoundsDiskWhileDatabasesAreCreated rewrites a small table
// many times, so that almost all it writes becomes garbage, while other
// sessions create and drop databases. The server's own GC must keep the
// database's files near its live size, and the race-enabled server must not
// report the race Dolt's auto-GC has with CREATE DATABASE.
func TestStorageGCBoundsDiskWhileDatabasesAreCreated(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	var threshold int64
	require.NoError(t, db.QueryRow("SELECT @@global.sibyl_storage_gc_threshold").Scan(&threshold))
	require.EqualValues(t, 128<<20, threshold, "Dolt's default threshold")
	// A small threshold makes a small workload collectable.
	mustExec(t, db, "SET GLOBAL sibyl_storage_gc_threshold = 1048576",
		"CREATE DATABASE churn",
		"CREATE TABLE churn.t (id INT PRIMARY KEY, body VARCHAR(2000))")
	const rows = 50
	for i := 0; i < rows; i++ {
		mustExec(t, db, fmt.Sprintf("INSERT INTO churn.t VALUES (%d, '')", i))
	}

	// Databases come and go beside the writer, as the GC runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			name := fmt.Sprintf("side%d", i)
			if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
				t.Errorf("create database: %v", err)
				return
			}
			if _, err := db.Exec("CREATE TABLE " + name + ".t (id INT PRIMARY KEY)"); err != nil {
				t.Errorf("create table: %v", err)
				return
			}
			if i%2 == 1 {
				if _, err := db.Exec("DROP DATABASE " + name); err != nil {
					t.Errorf("drop database: %v", err)
					return
				}
			}
		}
	}()

	// Each round rewrites every row: ~50 KB of new chunks, the old ones
	// garbage. 120 rounds write ~6 MB, the live data stays ~50 KB.
	const rounds = 120
	for r := 1; r <= rounds; r++ {
		mustExec(t, db, "UPDATE churn.t SET body = "+noise(r))
	}
	close(stop)
	wg.Wait()

	dir := filepath.Join(srv.DataDir, "churn")
	gcRuns := func() int64 { return globalStatus(t, db, "Sibyl_storage_gc_runs")["Sibyl_storage_gc_runs"] }
	require.Eventually(t, func() bool { return gcRuns() >= 1 }, 60*time.Second, 200*time.Millisecond,
		"the scheduler collects a database whose journal passed the threshold")
	// A collection that started before the last rounds may leave their
	// garbage for the next; wait for the store to settle under the bound.
	const bound = 3 << 20
	require.Eventually(t, func() bool { return dirSize(t, dir) < bound }, 60*time.Second, 500*time.Millisecond,
		"after GC the database holds about its live data (%d bytes now, ~6 MB written)", dirSize(t, dir))

	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM churn.t WHERE body = "+noise(rounds)).Scan(&n))
	require.Equal(t, rows, n, "GC keeps every live row")
	require.Zero(t, globalStatus(t, db, "Sibyl_storage_gc_failures")["Sibyl_storage_gc_failures"], srv.Log())

	// Data written before and after GC survives a restart.
	srv.Restart()
	db = srv.DB("")
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM churn.t").Scan(&n))
	require.Equal(t, rows, n)
	require.False(t, strings.Contains(srv.Log(), "storage gc: collecting"), "no GC failure was logged")
}

// TestStorageGCThresholdZeroTurnsItOff checks the off switch: with a zero
// threshold nothing is collected however much garbage there is.
func TestStorageGCThresholdZeroTurnsItOff(t *testing.T) {
	srv := testserver.Start(t)
	db := srv.DB("")
	mustExec(t, db, "SET GLOBAL sibyl_storage_gc_threshold = 0",
		"CREATE DATABASE g", "CREATE TABLE g.t (id INT PRIMARY KEY, body VARCHAR(2000))",
		"INSERT INTO g.t VALUES (1, '')")
	before := dirSize(t, filepath.Join(srv.DataDir, "g"))
	for r := 1; r <= 60; r++ {
		mustExec(t, db, "UPDATE g.t SET body = "+noise(r))
	}
	time.Sleep(3 * time.Second) // three scheduler ticks
	require.Zero(t, globalStatus(t, db, "Sibyl_storage_gc_runs")["Sibyl_storage_gc_runs"])
	require.Greater(t, dirSize(t, filepath.Join(srv.DataDir, "g")), before, "garbage stays without GC")
}
