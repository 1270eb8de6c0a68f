// Command s3bench measures SELECT ... INTO OUTFILE S3 and LOAD DATA FROM
// S3 through a real S3-compatible server (versitygw) on loopback: it starts
// versitygw and sibyldb on free ports, fills a table, exports it, imports
// it into an empty copy by the bulk path and into another by the engine's
// LOAD DATA (checking every row equal), and prints a Markdown table of MB/s
// and the server's peak resident memory growth during each statement.
//
//	go run -tags gms_pure_go ./bench/s3bench --sibyldb bin/sibyldb
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sibyldb/sibyldb/bench/internal/benchserver"
	"github.com/sibyldb/sibyldb/internal/testserver"
)

func main() {
	sibyldb := flag.String("sibyldb", "bin/sibyldb", "path to the sibyldb binary")
	versitygw := flag.String("versitygw", "bin/versitygw", "path to the versitygw binary")
	rows := flag.Int("rows", 1000000, "rows exported and imported")
	flag.Parse()
	if err := run(*sibyldb, *versitygw, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "s3bench:", err)
		os.Exit(1)
	}
}

func run(sibyldb, versitygw string, rows int) error {
	tmp, err := os.MkdirTemp("", "s3bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	gwDir := filepath.Join(tmp, "gw")
	if err := os.MkdirAll(filepath.Join(gwDir, "bench"), 0o755); err != nil {
		return err
	}
	gwAddr, err := testserver.FreeAddr()
	if err != nil {
		return err
	}
	gw := exec.Command(versitygw, "--access", "benchaccess", "--secret", "benchsecret0123456789", "--port", gwAddr, "--quiet", "posix", gwDir)
	if err := gw.Start(); err != nil {
		return fmt.Errorf("start versitygw (scripts/install-deps.sh installs it): %w", err)
	}
	defer func() { _ = gw.Process.Signal(syscall.SIGKILL); _ = gw.Wait() }()
	for i := 0; i < 200; i++ {
		if resp, err := http.Get("http://" + gwAddr + "/"); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	srv, err := benchserver.Start(sibyldb, "AWS_ACCESS_KEY_ID=benchaccess", "AWS_SECRET_ACCESS_KEY=benchsecret0123456789",
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_S3=http://"+gwAddr, "AWS_EC2_METADATA_DISABLED=true")
	if err != nil {
		return err
	}
	defer srv.Stop()
	// The bucket is a directory of the posix backend.
	db, err := srv.Open("")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE DATABASE b", "USE b",
		"CREATE TABLE t (id INT PRIMARY KEY, a DOUBLE, b DOUBLE, c VARCHAR(64), d INT, e DATE, f DECIMAL(10,2))",
		"CREATE TABLE t2 LIKE t",
		"CREATE TABLE t3 LIKE t",
		// Training data without ids, loaded with a column list into a
		// table that generates them.
		"CREATE TABLE g (id INT AUTO_INCREMENT PRIMARY KEY, a DOUBLE, b DOUBLE, c VARCHAR(64), d INT, e DATE, f DECIMAL(10,2))",
		"CREATE TABLE g2 LIKE g",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	fmt.Fprintf(os.Stderr, "s3bench: filling %d rows...\n", rows)
	side := 1000
	fill := fmt.Sprintf(`INSERT INTO t WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM r WHERE i < %d)
		SELECT x.i*%d+y.i, (x.i*%d+y.i)/7.0, RAND()*1000, CONCAT('customer-', x.i, '-', y.i, '-', MD5(y.i)), y.i %% 97,
		DATE_ADD('2020-01-01', INTERVAL y.i DAY), (y.i %% 1000) / 4.0 FROM r x JOIN r y WHERE x.i*%d+y.i < %d`, side-1, side, side, side, rows)
	if _, err := db.ExecContext(ctx, fill); err != nil {
		return fmt.Errorf("fill: %w", err)
	}

	measure := func(q string) (time.Duration, int64, error) {
		base := srv.MemoryKB("VmRSS") * 1024
		var peak int64
		var mu sync.Mutex
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				r := srv.MemoryKB("VmRSS") * 1024
				mu.Lock()
				if r > peak {
					peak = r
				}
				mu.Unlock()
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
		start := time.Now()
		_, err := db.ExecContext(ctx, q)
		d := time.Since(start)
		close(stop)
		wg.Wait()
		return d, peak - base, err
	}

	expD, expMem, err := measure("SELECT * FROM t INTO OUTFILE S3 's3://bench/export/t' FORMAT CSV")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var size int64
	parts, _ := filepath.Glob(filepath.Join(gwDir, "bench", "export", "t.part_*"))
	for _, p := range parts {
		if st, err := os.Stat(p); err == nil {
			size += st.Size()
		}
	}
	impD, impMem, err := measure("LOAD DATA FROM S3 PREFIX 's3://bench/export/t.part_' INTO TABLE t2 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\"'")
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if _, err := db.ExecContext(ctx, "SELECT a, b, c, d, e, f FROM t ORDER BY id INTO OUTFILE S3 's3://bench/export/noid' FORMAT CSV"); err != nil {
		return fmt.Errorf("export without ids: %w", err)
	}
	const genLoad = "LOAD DATA FROM S3 PREFIX 's3://bench/export/noid.part_' INTO TABLE %s FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\"' (a, b, c, d, e, f)"
	var noidSize int64
	noid, _ := filepath.Glob(filepath.Join(gwDir, "bench", "export", "noid.part_*"))
	for _, p := range noid {
		if st, err := os.Stat(p); err == nil {
			noidSize += st.Size()
		}
	}
	genD, genMem, err := measure(fmt.Sprintf(genLoad, "g"))
	if err != nil {
		return fmt.Errorf("import with generated ids: %w", err)
	}
	// The same imports through the engine's row-at-a-time LOAD DATA, for
	// the ratios (one connection: the SET applies to it).
	if _, err := db.ExecContext(ctx, "SET sibyl_load_data_fast_path = OFF"); err != nil {
		return err
	}
	engD, engMem, err := measure("LOAD DATA FROM S3 PREFIX 's3://bench/export/t.part_' INTO TABLE t3 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\"'")
	if err != nil {
		return fmt.Errorf("import through the engine: %w", err)
	}
	genEngD, genEngMem, err := measure(fmt.Sprintf(genLoad, "g2"))
	if err != nil {
		return fmt.Errorf("import with generated ids through the engine: %w", err)
	}
	var same int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM t2 JOIN t3 ON t2.id = t3.id AND t2.a <=> t3.a AND t2.b <=> t3.b
		AND t2.c <=> t3.c AND t2.d <=> t3.d AND t2.e <=> t3.e AND t2.f <=> t3.f`).Scan(&same); err != nil {
		return err
	}
	if same != rows {
		return fmt.Errorf("%d of %d rows equal between the bulk path and the engine", same, rows)
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM g JOIN g2 ON g.id = g2.id AND g.a <=> g2.a AND g.b <=> g2.b
		AND g.c <=> g2.c AND g.d <=> g2.d AND g.e <=> g2.e AND g.f <=> g2.f`).Scan(&same); err != nil {
		return err
	}
	if same != rows {
		return fmt.Errorf("%d of %d rows with generated ids equal between the bulk path and the engine", same, rows)
	}
	mb := float64(size) / 1e6
	fmt.Printf("| operation (%d rows, %.1f MB CSV, versitygw on loopback) | time | MB/s | rows/s | peak server RSS growth |\n", rows, mb)
	fmt.Println("|---|---|---|---|---|")
	fmt.Printf("| SELECT ... INTO OUTFILE S3 (FORMAT CSV) | %.2f s | %.1f | %.0f | %.0f MB |\n", expD.Seconds(), mb/expD.Seconds(), float64(rows)/expD.Seconds(), float64(expMem)/1e6)
	fmt.Printf("| LOAD DATA FROM S3 PREFIX (bulk path) | %.2f s | %.1f | %.0f | %.0f MB |\n", impD.Seconds(), mb/impD.Seconds(), float64(rows)/impD.Seconds(), float64(impMem)/1e6)
	fmt.Printf("| LOAD DATA FROM S3 PREFIX (engine path, sibyl_load_data_fast_path = OFF) | %.2f s | %.1f | %.0f | %.0f MB |\n", engD.Seconds(), mb/engD.Seconds(), float64(rows)/engD.Seconds(), float64(engMem)/1e6)
	noidMB := float64(noidSize) / 1e6
	fmt.Printf("| the same without ids (%.1f MB), (a, b, c, d, e, f) into an AUTO_INCREMENT table (bulk path) | %.2f s | %.1f | %.0f | %.0f MB |\n", noidMB, genD.Seconds(), noidMB/genD.Seconds(), float64(rows)/genD.Seconds(), float64(genMem)/1e6)
	fmt.Printf("| the same, engine path | %.2f s | %.1f | %.0f | %.0f MB |\n", genEngD.Seconds(), noidMB/genEngD.Seconds(), float64(rows)/genEngD.Seconds(), float64(genEngMem)/1e6)
	fmt.Printf("\nbulk path / engine path: %.1fx (generated ids: %.1fx); every row equal\n", engD.Seconds()/impD.Seconds(), genEngD.Seconds()/genD.Seconds())
	return nil
}
