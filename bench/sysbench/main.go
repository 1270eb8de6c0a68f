// Command sysbench runs the standard sysbench OLTP workloads against SibylDB
// and against a MariaDB server it starts beside it (both on free loopback
// ports with temporary data dirs, in the same run on the same machine), and
// prints a Markdown table of transactions per second, their ratio and the
// rate of retryable errors (1213 and 1205, which sysbench is told to retry).
// With --dolt it also measures Dolt's own sql-server, built from the Dolt
// version SibylDB embeds (scripts/build-dolt.sh), without SibylDB's patches:
// the storage engine's own figures, to tell what SibylDB adds or costs
// from what the engine itself does.
//
//	go run -tags gms_pure_go ./bench/sysbench --sibyldb bin/sibyldb [--dolt bin/dolt]
//
// Every workload runs at every thread count against the same prepared
// tables (10 x 10,000 rows by default); the write workloads keep the table
// sizes constant, so the order of the cells does not change their data.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

type options struct {
	sibyldb   string
	tables    int
	tableSize int
	duration  time.Duration
	threads   []int
	workloads []string
	skipMaria bool
	dolt      string
}

// server is one MySQL-protocol server under test.
type server struct {
	name string
	host string
	port string
	stop func()
}

// result is one sysbench run.
type result struct {
	tps, errorsPerSec, p95ms float64
}

func main() {
	var o options
	var threads, workloads string
	flag.StringVar(&o.sibyldb, "sibyldb", "bin/sibyldb", "path to the sibyldb binary")
	flag.IntVar(&o.tables, "tables", 10, "sysbench --tables")
	flag.IntVar(&o.tableSize, "table-size", 10000, "sysbench --table-size")
	flag.DurationVar(&o.duration, "time", 10*time.Second, "duration of each run")
	flag.StringVar(&threads, "threads", "1,8,16", "comma-separated thread counts")
	flag.StringVar(&workloads, "workloads", "oltp_point_select,oltp_read_only,oltp_read_write,oltp_write_only,oltp_update_index", "comma-separated sysbench workloads")
	flag.BoolVar(&o.skipMaria, "skip-mariadb", false, "do not measure MariaDB")
	flag.StringVar(&o.dolt, "dolt", "", "path to a dolt binary: also measure Dolt's own sql-server")
	flag.Parse()
	for _, t := range strings.Split(threads, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(t))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "sysbench: bad thread count %q\n", t)
			os.Exit(2)
		}
		o.threads = append(o.threads, n)
	}
	o.workloads = strings.Split(workloads, ",")
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "sysbench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if _, err := exec.LookPath("sysbench"); err != nil {
		return fmt.Errorf("sysbench not installed (make deps installs it): %w", err)
	}
	servers := []*server{}
	sib, err := startSibylDB(o.sibyldb)
	if err != nil {
		return err
	}
	defer sib.stop()
	servers = append(servers, sib)
	if !o.skipMaria {
		maria, err := startMariaDB()
		if err != nil {
			fmt.Fprintf(os.Stderr, "sysbench: MariaDB not measured: %v\n", err)
		} else {
			defer maria.stop()
			servers = append(servers, maria)
		}
	}
	if o.dolt != "" {
		p, err := testserver.StartDoltProcess(o.dolt)
		if err != nil {
			return err
		}
		dolt := newServer("Dolt", p)
		defer dolt.stop()
		servers = append(servers, dolt)
	}
	results := map[string]map[string]result{} // server -> cell -> result
	for _, s := range servers {
		results[s.name] = map[string]result{}
		if err := prepare(s, o); err != nil {
			return fmt.Errorf("%s: prepare: %w", s.name, err)
		}
	}
	// Alternate servers cell by cell so that a noisy phase of the machine
	// hits both sides of a ratio alike.
	for _, w := range o.workloads {
		for _, th := range o.threads {
			for _, s := range servers {
				fmt.Fprintf(os.Stderr, "%s: %s, %d threads...\n", s.name, w, th)
				r, err := runOne(s, o, w, th)
				if err != nil {
					return fmt.Errorf("%s %s %d threads: %w", s.name, w, th, err)
				}
				results[s.name][cell(w, th)] = r
			}
		}
	}
	printTable(o, servers, results)
	return nil
}

func cell(w string, th int) string { return fmt.Sprintf("%s/%d", w, th) }

func baseArgs(s *server, o options) []string {
	return []string{
		"--db-driver=mysql", "--mysql-host=" + s.host, "--mysql-port=" + s.port,
		"--mysql-user=root", "--mysql-password=", "--mysql-db=sbtest",
		fmt.Sprintf("--tables=%d", o.tables), fmt.Sprintf("--table-size=%d", o.tableSize),
	}
}

func prepare(s *server, o options) error {
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s:%s)/", s.host, s.port))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE sbtest"); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: preparing %d tables x %d rows...\n", s.name, o.tables, o.tableSize)
	args := append([]string{"oltp_common"}, baseArgs(s, o)...)
	args = append(args, "--threads=2", "prepare")
	out, err := exec.Command("sysbench", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, tail(out))
	}
	return nil
}

var (
	tpsRe = regexp.MustCompile(`transactions:\s+\d+\s+\(([\d.]+) per sec\.\)`)
	errRe = regexp.MustCompile(`ignored errors:\s+\d+\s+\(([\d.]+) per sec\.\)`)
	p95Re = regexp.MustCompile(`95th percentile:\s+([\d.]+)`)
)

func runOne(s *server, o options, workload string, threads int) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+2*time.Minute)
	defer cancel()
	args := append([]string{workload}, baseArgs(s, o)...)
	args = append(args,
		fmt.Sprintf("--threads=%d", threads),
		fmt.Sprintf("--time=%d", int(o.duration.Seconds())),
		"--mysql-ignore-errors=1213,1205",
		"--percentile=95", "--report-interval=0", "run")
	out, err := exec.CommandContext(ctx, "sysbench", args...).CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("%w: %s", err, tail(out))
	}
	var r result
	var ok bool
	if r.tps, ok = parse(tpsRe, out); !ok {
		return result{}, fmt.Errorf("no transaction rate in sysbench output: %s", tail(out))
	}
	r.errorsPerSec, _ = parse(errRe, out)
	r.p95ms, _ = parse(p95Re, out)
	return r, nil
}

func parse(re *regexp.Regexp, out []byte) (float64, bool) {
	m := re.FindSubmatch(out)
	if m == nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	return v, err == nil
}

func tail(out []byte) string {
	s := strings.TrimSpace(string(out))
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}

// printTable prints a row per cell: SibylDB, then each other server with
// SibylDB's ratio to it.
func printTable(o options, servers []*server, results map[string]map[string]result) {
	fmt.Printf("sysbench, %d tables x %d rows, %s per run; tps (p95 latency ms; retried errors/s)\n\n",
		o.tables, o.tableSize, o.duration)
	head, rule := "| workload | threads | SibylDB |", "|---|---:|---:|"
	for _, s := range servers[1:] {
		head += fmt.Sprintf(" %s | SibylDB/%s |", s.name, s.name)
		rule += "---:|---:|"
	}
	fmt.Println(head)
	fmt.Println(rule)
	for _, w := range o.workloads {
		for _, th := range o.threads {
			sib := results[servers[0].name][cell(w, th)]
			fmt.Printf("| %s | %d | %s |", w, th, format(sib))
			for _, s := range servers[1:] {
				r := results[s.name][cell(w, th)]
				ratio := "n/a"
				if r.tps > 0 {
					ratio = fmt.Sprintf("%.2fx", sib.tps/r.tps)
				}
				fmt.Printf(" %s | %s |", format(r), ratio)
			}
			fmt.Println()
		}
	}
}

func format(r result) string {
	s := fmt.Sprintf("%.1f (%.1f ms", r.tps, r.p95ms)
	if r.errorsPerSec > 0 {
		s += fmt.Sprintf("; %.2f err/s", r.errorsPerSec)
	}
	return s + ")"
}

func startSibylDB(bin string) (*server, error) {
	p, err := testserver.StartSibylDBProcess(bin)
	if err != nil {
		return nil, err
	}
	return newServer("SibylDB", p), nil
}

func startMariaDB() (*server, error) {
	p, err := testserver.StartMariaDBProcess()
	if err != nil {
		return nil, err
	}
	return newServer("MariaDB", p), nil
}

func newServer(name string, p *testserver.Process) *server {
	i := strings.LastIndex(p.Addr, ":")
	return &server{name: name, host: p.Addr[:i], port: p.Addr[i+1:], stop: p.Stop}
}
