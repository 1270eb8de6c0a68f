package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// The fraud suite measures issue 14's trigger workload: every INSERT into
// txns runs a BEFORE INSERT trigger that calls an endpoint function whose
// model server answers after a fixed latency. Row-level locking lets
// inserts of different rows wait on the model server side by side, so the
// insert rate should grow with clients, and plain inserts into another
// table should not wait behind the trigger's round trips.

func runFraud(o options, sib *target) ([]mlResult, error) {
	model := testserver.NewModelServer()
	defer model.Close()
	model.Set(func(b *testserver.Behaviour) {
		b.Delay = o.fraudLatency
		b.Score = func(row []*string) string {
			if len(row) > 0 && row[0] != nil {
				if f, _ := strconv.ParseFloat(*row[0], 64); f > 1000 {
					return "True"
				}
			}
			return "False"
		}
	})
	db, err := sql.Open("mysql", sib.dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE fraudbench"); err != nil {
		return nil, err
	}
	db.Close()
	if db, err = sql.Open("mysql", sib.dsn+"fraudbench"); err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(o.fraudClients + 4)
	db.SetMaxIdleConns(o.fraudClients + 4)
	for _, s := range []string{
		fmt.Sprintf("CREATE ENDPOINT fraud URL '%s' MAX_CONCURRENCY %d", model.URL, o.fraudClients),
		"CREATE FUNCTION is_fraud(amount DOUBLE) RETURNS VARCHAR(8) ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'fraud'",
		"CREATE TABLE txns (id INT AUTO_INCREMENT PRIMARY KEY, amount DOUBLE)",
		`CREATE TRIGGER check_fraud BEFORE INSERT ON txns FOR EACH ROW
		 BEGIN
		   IF is_fraud(NEW.amount) = 'True' THEN
		     SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'transaction blocked: fraud';
		   END IF;
		 END`,
		"CREATE TABLE events (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(32))",
	} {
		if _, err := db.Exec(s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	scored := func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, "INSERT INTO txns (amount) VALUES (12.5)")
		return err
	}
	plain := func(ctx context.Context) error {
		_, err := db.ExecContext(ctx, "INSERT INTO events (note) VALUES ('login')")
		return err
	}
	d := o.fraudFor
	one, err := rate(d, 1, scored)
	if err != nil {
		return nil, err
	}
	many, err := rate(d, o.fraudClients, scored)
	if err != nil {
		return nil, err
	}
	alone, err := rate(d, 1, plain)
	if err != nil {
		return nil, err
	}
	// Plain inserts beside o.fraudClients scoring clients.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var bgErr atomic.Value
	for i := 0; i < o.fraudClients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := scored(ctx); err != nil && ctx.Err() == nil {
					bgErr.Store(err)
					return
				}
			}
		}()
	}
	syncsBefore, serr := groupCommitStatus(db)
	beside, err := rate(d, 1, plain)
	syncsAfter, serr2 := groupCommitStatus(db)
	cancel()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if serr = errors.Join(serr, serr2); serr != nil {
		return nil, serr
	}
	if e, ok := bgErr.Load().(error); ok {
		return nil, fmt.Errorf("scored insert beside plain inserts: %w", e)
	}
	// Where the plain inserts' time goes: every commit waits until it is
	// durable (group commit), so the wait per commit and the commits each
	// fsync covered show whether fsync is the limit.
	commits := float64(syncsAfter["Sibyl_group_commit_commits"] - syncsBefore["Sibyl_group_commit_commits"])
	fsyncs := float64(syncsAfter["Sibyl_group_commit_fsyncs"] - syncsBefore["Sibyl_group_commit_fsyncs"])
	waitMs := float64(syncsAfter["Sibyl_group_commit_wait_us"]-syncsBefore["Sibyl_group_commit_wait_us"]) / 1000
	journalSyncs := float64(syncsAfter["Sibyl_journal_fsyncs"] - syncsBefore["Sibyl_journal_fsyncs"])
	journalMs := float64(syncsAfter["Sibyl_journal_fsync_us"]-syncsBefore["Sibyl_journal_fsync_us"]) / 1000
	lat := o.fraudLatency.String()
	return []mlResult{
		{fmt.Sprintf("trigger-scored INSERT, %s endpoint, 1 client", lat), fmt.Sprintf("%.1f rows/s", one), ""},
		{fmt.Sprintf("trigger-scored INSERT, %d clients", o.fraudClients), fmt.Sprintf("%.1f rows/s", many), ""},
		{fmt.Sprintf("(d) %d clients / 1 client", o.fraudClients), fmt.Sprintf("%.1fx", many/one), ">= 8x"},
		{"plain INSERT into another table, alone", fmt.Sprintf("%.0f rows/s", alone), ""},
		{fmt.Sprintf("plain INSERT beside %d scoring clients", o.fraudClients), fmt.Sprintf("%.0f rows/s", beside), ""},
		{"(e) beside / alone", fmt.Sprintf("%.2fx", beside/alone), ">= 0.5x"},
		{"durability wait per commit beside (group commit)", fmt.Sprintf("%.2f ms", waitMs/max(commits, 1)), ""},
		{"commits per fsync beside", fmt.Sprintf("%.1f", commits/max(fsyncs, 1)), ""},
		{"journal fsync time beside (all databases)", fmt.Sprintf("%.2f ms each, %.0f%% of the time", journalMs/max(journalSyncs, 1), 100*journalMs/d.Seconds()/1000), ""},
	}, nil
}

// groupCommitStatus reads the server's group-commit and journal fsync
// counters.
func groupCommitStatus(db *sql.DB) (map[string]int64, error) {
	rows, err := db.Query("SHOW GLOBAL STATUS WHERE Variable_name LIKE 'Sibyl_group_commit%' OR Variable_name LIKE 'Sibyl_journal_fsync%'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, rows.Err()
}

// rate runs op from clients goroutines for d and returns completed ops/s.
func rate(d time.Duration, clients int, op func(context.Context) error) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := op(ctx); err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}
