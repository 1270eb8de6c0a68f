// Command serverbench runs the same SQL workloads against SibylDB and, when
// MariaDB is installed, against a MariaDB server it starts on a free port
// with its own temporary data dir, and prints a Markdown table of the
// results side by side. Both servers run on the same machine in the same
// run, so the ratios are meaningful even on a noisy machine.
//
//	go run -tags gms_pure_go ./bench/serverbench --sibyldb bin/sibyldb
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

type options struct {
	sibyldb     string
	pprofAddr   string
	inserts     int
	selects     int
	scanRows    int
	mixedFor    time.Duration
	clients     int
	skipMariaDB bool
	suite       string

	mlRows        int
	mlPerRowRows  int
	mlBatch       int
	mlConcurrency int
	mlLatency     time.Duration
	trials        int

	fraudLatency time.Duration
	fraudClients int
	fraudFor     time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.sibyldb, "sibyldb", "bin/sibyldb", "path to the sibyldb binary")
	flag.StringVar(&o.pprofAddr, "sibyldb-pprof-addr", "", "start SibylDB with --pprof-addr set to this HOST:PORT, to profile a workload")
	flag.IntVar(&o.inserts, "inserts", 2000, "single-row autocommit INSERTs")
	flag.IntVar(&o.selects, "selects", 20000, "primary-key point SELECTs")
	flag.IntVar(&o.scanRows, "scan-rows", 1000000, "rows in the scanned table")
	flag.DurationVar(&o.mixedFor, "mixed-for", 10*time.Second, "duration of the concurrent mixed workload")
	flag.IntVar(&o.clients, "clients", 8, "clients in the concurrent mixed workload")
	flag.BoolVar(&o.skipMariaDB, "skip-mariadb", false, "measure SibylDB only")
	flag.StringVar(&o.suite, "suite", "all", "which workloads: server, ml, fraud or all")
	flag.IntVar(&o.mlRows, "ml-rows", 100000, "rows scored by the ML workloads")
	flag.IntVar(&o.mlPerRowRows, "ml-per-row-rows", 1000, "rows scored one request at a time (then scaled to rows/s)")
	flag.IntVar(&o.mlBatch, "ml-batch", 10000, "MAX_BATCH_SIZE of the batched functions and the Go client")
	flag.IntVar(&o.mlConcurrency, "ml-concurrency", 4, "endpoint MAX_CONCURRENCY and Go client concurrency")
	flag.IntVar(&o.trials, "trials", 5, "runs of each ML timing; the median is reported")
	flag.DurationVar(&o.mlLatency, "ml-latency", 2*time.Millisecond, "latency the model server adds per request")
	flag.DurationVar(&o.fraudLatency, "fraud-latency", 20*time.Millisecond, "latency of the fraud trigger's model server")
	flag.IntVar(&o.fraudClients, "fraud-clients", 16, "clients inserting into the trigger-scored table")
	flag.DurationVar(&o.fraudFor, "fraud-for", 5*time.Second, "duration of each fraud-trigger measurement")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "serverbench:", err)
		os.Exit(1)
	}
}

type target struct {
	name    string
	dsn     string
	stop    func()
	results map[string]float64
}

var workloads = []struct {
	name   string
	unit   string
	target float64 // minimum SibylDB/MariaDB ratio; 0 = none
	run    func(db *sql.DB, o options) (float64, error)
}{
	{"single-row autocommit INSERT", "rows/s", 0.25, benchInsert},
	{"PK point SELECT", "queries/s", 0.3, benchPointSelect},
	{"full scan", "rows/s", 0.3, benchScan},
	{"concurrent mixed (80% read, 20% write)", "ops/s", 0, benchMixed},
}

func run(o options) error {
	var targets []*target
	sib, err := startSibylDB(o.sibyldb, o.pprofAddr)
	if err != nil {
		return err
	}
	defer sib.stop()
	if o.suite == "ml" || o.suite == "all" {
		fmt.Fprintln(os.Stderr, "SibylDB: ML endpoint functions...")
		res, err := runML(o, sib)
		if err != nil {
			return fmt.Errorf("ML suite: %w", err)
		}
		printResults("ML workload", res)
		if o.suite == "ml" {
			return nil
		}
	}
	if o.suite == "fraud" || o.suite == "all" {
		fmt.Fprintln(os.Stderr, "SibylDB: fraud-scoring trigger...")
		res, err := runFraud(o, sib)
		if err != nil {
			return fmt.Errorf("fraud suite: %w", err)
		}
		printResults("trigger workload", res)
		if o.suite == "fraud" {
			return nil
		}
	}
	targets = append(targets, sib)
	if !o.skipMariaDB {
		maria, err := startMariaDB()
		if err != nil {
			fmt.Fprintf(os.Stderr, "serverbench: MariaDB not measured: %v\n", err)
		} else {
			defer maria.stop()
			targets = append(targets, maria)
		}
	}
	for _, t := range targets {
		db, err := sql.Open("mysql", t.dsn)
		if err != nil {
			return err
		}
		db.SetMaxOpenConns(o.clients)
		db.SetMaxIdleConns(o.clients)
		if _, err := db.Exec("CREATE DATABASE bench"); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		db.Close()
		db, err = sql.Open("mysql", t.dsn+"bench")
		if err != nil {
			return err
		}
		db.SetMaxOpenConns(o.clients)
		db.SetMaxIdleConns(o.clients)
		for _, w := range workloads {
			fmt.Fprintf(os.Stderr, "%s: %s...\n", t.name, w.name)
			v, err := w.run(db, o)
			if err != nil {
				return fmt.Errorf("%s %s: %w", t.name, w.name, err)
			}
			t.results[w.name] = v
		}
		db.Close()
	}
	printTable(targets)
	return nil
}

func printResults(header string, res []mlResult) {
	fmt.Printf("| %s | SibylDB | target |\n", header)
	fmt.Println("|---|---:|---:|")
	for _, r := range res {
		fmt.Printf("| %s | %s | %s |\n", r.name, r.value, r.target)
	}
	fmt.Println()
}

func printTable(targets []*target) {
	fmt.Println("| workload | SibylDB | MariaDB | SibylDB/MariaDB | target |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, w := range workloads {
		sib := targets[0].results[w.name]
		maria, ratio, tgt := "n/a", "n/a", "-"
		if len(targets) > 1 {
			m := targets[1].results[w.name]
			maria = fmt.Sprintf("%.0f %s", m, w.unit)
			ratio = fmt.Sprintf("%.2fx", sib/m)
		}
		if w.target > 0 {
			tgt = fmt.Sprintf(">= %.2fx", w.target)
		}
		fmt.Printf("| %s | %.0f %s | %s | %s | %s |\n", w.name, sib, w.unit, maria, ratio, tgt)
	}
}

func benchInsert(db *sql.DB, o options) (float64, error) {
	if _, err := db.Exec("CREATE TABLE ins (id INT PRIMARY KEY, v INT, s VARCHAR(32))"); err != nil {
		return 0, err
	}
	start := time.Now()
	for i := 0; i < o.inserts; i++ {
		if _, err := db.Exec("INSERT INTO ins VALUES (?, ?, ?)", i, i*7, "row"); err != nil {
			return 0, err
		}
	}
	return float64(o.inserts) / time.Since(start).Seconds(), nil
}

// loadScanTable fills big with n rows.
func loadScanTable(db *sql.DB, n int) error {
	if _, err := db.Exec("CREATE TABLE big (id INT PRIMARY KEY, v INT, s VARCHAR(32))"); err != nil {
		return err
	}
	return insertRows(db, "big", n, func(i int) string { return fmt.Sprintf("(%d,%d,'payload-%d')", i, i%1000, i%97) })
}

// insertRows inserts rows 0..n-1 of table with multi-row INSERTs.
func insertRows(db *sql.DB, table string, n int, row func(i int) string) error {
	const batch = 2000
	var sb strings.Builder
	for lo := 0; lo < n; lo += batch {
		sb.Reset()
		sb.WriteString("INSERT INTO " + table + " VALUES ")
		for i := lo; i < lo+batch && i < n; i++ {
			if i > lo {
				sb.WriteByte(',')
			}
			sb.WriteString(row(i))
		}
		if _, err := db.Exec(sb.String()); err != nil {
			return err
		}
	}
	return nil
}

func benchPointSelect(db *sql.DB, o options) (float64, error) {
	if err := loadScanTable(db, o.scanRows); err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewSource(1))
	start := time.Now()
	var v int
	var s string
	for i := 0; i < o.selects; i++ {
		if err := db.QueryRow("SELECT v, s FROM big WHERE id = ?", rng.Intn(o.scanRows)).Scan(&v, &s); err != nil {
			return 0, err
		}
	}
	return float64(o.selects) / time.Since(start).Seconds(), nil
}

func benchScan(db *sql.DB, o options) (float64, error) {
	start := time.Now()
	rows, err := db.Query("SELECT id, v, s FROM big")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	var id, v int
	var s string
	for rows.Next() {
		if err := rows.Scan(&id, &v, &s); err != nil {
			return 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if n != o.scanRows {
		return 0, fmt.Errorf("scan returned %d rows, want %d", n, o.scanRows)
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

func benchMixed(db *sql.DB, o options) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.mixedFor)
	defer cancel()
	var ops atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < o.clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(c)))
			for ctx.Err() == nil {
				id := rng.Intn(o.scanRows)
				var err error
				if rng.Intn(10) < 8 {
					var v int
					err = db.QueryRowContext(ctx, "SELECT v FROM big WHERE id = ?", id).Scan(&v)
				} else {
					_, err = db.ExecContext(ctx, "UPDATE big SET v = v + 1 WHERE id = ?", id)
				}
				if err != nil {
					if ctx.Err() == nil {
						once.Do(func() { firstErr = err })
					}
					return
				}
				ops.Add(1)
			}
		}(c)
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(ops.Load()) / time.Since(start).Seconds(), nil
}

func startSibylDB(bin, pprofAddr string) (*target, error) {
	var extra []string
	if pprofAddr != "" {
		extra = append(extra, "--pprof-addr", pprofAddr)
	}
	p, err := testserver.StartSibylDBProcess(bin, extra...)
	if err != nil {
		return nil, err
	}
	return &target{name: "SibylDB", dsn: p.DSN(), stop: p.Stop, results: map[string]float64{}}, nil
}

func startMariaDB() (*target, error) {
	p, err := testserver.StartMariaDBProcess()
	if err != nil {
		return nil, err
	}
	return &target{name: "MariaDB", dsn: p.DSN(), stop: p.Stop, results: map[string]float64{}}, nil
}
