package main

import (
	"context"
	"database/sql"
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
	beside, err := rate(d, 1, plain)
	cancel()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if e, ok := bgErr.Load().(error); ok {
		return nil, fmt.Errorf("scored insert beside plain inserts: %w", e)
	}
	lat := o.fraudLatency.String()
	return []mlResult{
		{fmt.Sprintf("trigger-scored INSERT, %s endpoint, 1 client", lat), fmt.Sprintf("%.1f rows/s", one), ""},
		{fmt.Sprintf("trigger-scored INSERT, %d clients", o.fraudClients), fmt.Sprintf("%.1f rows/s", many), ""},
		{fmt.Sprintf("(d) %d clients / 1 client", o.fraudClients), fmt.Sprintf("%.1fx", many/one), ">= 8x"},
		{"plain INSERT into another table, alone", fmt.Sprintf("%.0f rows/s", alone), ""},
		{fmt.Sprintf("plain INSERT beside %d scoring clients", o.fraudClients), fmt.Sprintf("%.0f rows/s", beside), ""},
		{"(e) beside / alone", fmt.Sprintf("%.2fx", beside/alone), ">= 0.5x"},
	}, nil
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
