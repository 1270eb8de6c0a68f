package main

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sibyldb/sibyldb/internal/remote"
	"github.com/sibyldb/sibyldb/internal/testserver"
)

// The ML suite measures endpoint functions (issue 3's targets): per-row
// versus batched calls through a model server that adds a fixed latency per
// request, SQL batching versus a hand-written Go client doing the same
// calls, and throughput against a zero-latency endpoint.

func doubler(row []*string) string {
	if len(row) == 0 || row[0] == nil {
		return ""
	}
	f, _ := strconv.ParseFloat(*row[0], 64)
	return strconv.FormatFloat(2*f, 'g', -1, 64)
}

type mlResult struct {
	name, value, target string
}

func runML(o options, sib *target) ([]mlResult, error) {
	slow := testserver.NewModelServer()
	defer slow.Close()
	slow.Set(func(b *testserver.Behaviour) { b.Score = doubler; b.Delay = o.mlLatency })
	fast := testserver.NewModelServer()
	defer fast.Close()
	fast.Set(func(b *testserver.Behaviour) { b.Score = doubler })

	db, err := sql.Open("mysql", sib.dsn+"?multiStatements=true")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	stmts := []string{
		"CREATE DATABASE mlbench", "USE mlbench",
		"CREATE TABLE nums (id INT PRIMARY KEY, x DOUBLE)",
		fmt.Sprintf("CREATE ENDPOINT slow URL '%s' MAX_CONCURRENCY %d", slow.URL, o.mlConcurrency),
		fmt.Sprintf("CREATE ENDPOINT slow1 URL '%s' MAX_CONCURRENCY 1", slow.URL),
		fmt.Sprintf("CREATE ENDPOINT fast URL '%s' MAX_CONCURRENCY %d", fast.URL, o.mlConcurrency),
		fmt.Sprintf("CREATE FUNCTION f_batched(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'slow' MAX_BATCH_SIZE %d", o.mlBatch),
		"CREATE FUNCTION f_row(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'slow1' MAX_BATCH_SIZE 1",
		fmt.Sprintf("CREATE FUNCTION f_fast(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'fast' MAX_BATCH_SIZE %d", o.mlBatch),
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	db.Close()
	if db, err = sql.Open("mysql", sib.dsn+"mlbench"); err != nil {
		return nil, err
	}
	if err := loadNums(db, o.mlRows); err != nil {
		return nil, err
	}

	sumQuery := func(fn string, rows int) (float64, time.Duration, error) {
		start := time.Now()
		var sum float64
		err := db.QueryRow(fmt.Sprintf("SELECT SUM(%s(x)) FROM nums WHERE id < %d", fn, rows)).Scan(&sum)
		return sum, time.Since(start), err
	}
	want := float64(o.mlRows) * float64(o.mlRows-1) // sum of 2*i
	_, rowTime, err := sumQuery("f_row", o.mlPerRowRows)
	if err != nil {
		return nil, err
	}
	perRow := float64(o.mlPerRowRows) / rowTime.Seconds()
	// The batched SQL query and the Go client alternate, and each keeps
	// its median of o.trials runs, so both see the same machine load.
	var batchTimes, clientTimes, fastTimes []time.Duration
	for i := 0; i < o.trials; i++ {
		sum, d, err := sumQuery("f_batched", o.mlRows)
		if err != nil {
			return nil, err
		}
		if sum != want {
			return nil, fmt.Errorf("batched sum %v, want %v", sum, want)
		}
		batchTimes = append(batchTimes, d)
		if d, err = goClient(db, slow.URL, o); err != nil {
			return nil, err
		}
		clientTimes = append(clientTimes, d)
		if _, d, err = sumQuery("f_fast", o.mlRows); err != nil {
			return nil, err
		}
		fastTimes = append(fastTimes, d)
	}
	batchTime, clientTime, fastTime := median(batchTimes), median(clientTimes), median(fastTimes)
	batched := float64(o.mlRows) / batchTime.Seconds()
	lat := o.mlLatency.String()
	return []mlResult{
		{fmt.Sprintf("per-row calls, %s endpoint (%d rows, MAX_BATCH_SIZE 1)", lat, o.mlPerRowRows), fmt.Sprintf("%.0f rows/s", perRow), ""},
		{fmt.Sprintf("batched calls, %s endpoint (%d rows)", lat, o.mlRows), fmt.Sprintf("%.0f rows/s", batched), ""},
		{"(a) batched / per-row", fmt.Sprintf("%.0fx", batched/perRow), ">= 50x"},
		{fmt.Sprintf("Go client, same batches and concurrency (%d rows)", o.mlRows), fmt.Sprintf("%.0f rows/s", float64(o.mlRows)/clientTime.Seconds()), ""},
		{"(b) SQL time / Go client time", fmt.Sprintf("%.2fx", batchTime.Seconds()/clientTime.Seconds()), "<= 1.2x"},
		{fmt.Sprintf("(c) zero-latency endpoint (%d rows)", o.mlRows), fmt.Sprintf("%.0f rows/s", float64(o.mlRows)/fastTime.Seconds()), ""},
	}, nil
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func loadNums(db *sql.DB, n int) error {
	return insertRows(db, "nums", n, func(i int) string { return fmt.Sprintf("(%d,%d)", i, i) })
}

// goClient is what an application does without SibylDB: read the rows,
// call the endpoint in batches with the same size and concurrency, and
// combine the results.
func goClient(db *sql.DB, url string, o options) (time.Duration, error) {
	start := time.Now()
	rows, err := db.Query("SELECT x FROM nums")
	if err != nil {
		return 0, err
	}
	var xs [][]any
	for rows.Next() {
		var x float64
		if err := rows.Scan(&x); err != nil {
			return 0, err
		}
		xs = append(xs, []any{x})
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	ep := &remote.Endpoint{Name: "client", URL: url + "/invocations", Codec: remote.SageMakerCodec{},
		Timeout: time.Minute, Client: remote.NewHTTPClient(o.mlConcurrency)}
	var g errgroup.Group
	g.SetLimit(o.mlConcurrency)
	sums := make([]float64, (len(xs)+o.mlBatch-1)/o.mlBatch)
	for i := 0; i*o.mlBatch < len(xs); i++ {
		lo, hi := i*o.mlBatch, min((i+1)*o.mlBatch, len(xs))
		g.Go(func() error {
			out, err := ep.Invoke(context.Background(), remote.Request{Columns: []string{"x"}, Rows: xs[lo:hi]})
			if err != nil {
				return err
			}
			for _, v := range out {
				f, _ := strconv.ParseFloat(v.(string), 64)
				sums[i] += f
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
