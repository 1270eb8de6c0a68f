// Command lineagebench measures what model lineage costs training: the
// time of ALTER MODEL m RETRAIN with sibyl_model_lineage ON (the data's
// Dolt working set is committed on a hidden tag before it is read, and
// the commit recorded) against OFF, on the shared churn data set, and
// prints a table.
//
// Each run first changes one row, so the working set differs from HEAD
// and lineage has to write a commit (its expensive path), then retrains
// and reads the version's training time from SHOW MODEL m VERSIONS
// (Finished At - Created At, both taken by the server: the statement's
// pinning and reading plus the background training). The runs alternate
// ON and OFF so that drift in machine load hits both alike; the table
// shows medians.
//
//	go build -tags gms_pure_go -o bin/sibyldb ./cmd/sibyldb
//	go run -tags gms_pure_go ./bench/lineagebench --sibyldb bin/sibyldb --runs 7 --copies 4
package main

import (
	"database/sql"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/sibyldb/sibyldb/bench/internal/benchserver"
)

const features = "account_length, intl_plan, vmail_plan, vmail_message, day_mins, day_calls, eve_mins, night_mins, intl_mins, intl_calls, custserv_calls"

func main() {
	bin := flag.String("sibyldb", "bin/sibyldb", "server binary")
	data := flag.String("data", "/work/shared/datasets/churn_sagemaker_synthetic/churn.txt", "churn CSV")
	runs := flag.Int("runs", 5, "retrains per mode")
	copies := flag.Int("copies", 1, "copies of the 5000 churn rows to load")
	modelType := flag.String("model", "XGBOOST", "MODEL_TYPE (AUTO OFF)")
	flag.Parse()
	if err := run(*bin, *data, *runs, *copies, *modelType); err != nil {
		fmt.Fprintln(os.Stderr, "lineagebench:", err)
		os.Exit(1)
	}
}

func run(bin, data string, runs, copies int, modelType string) error {
	srv, err := benchserver.Start(bin)
	if err != nil {
		return err
	}
	defer srv.Stop()
	db, err := srv.OpenNew("ml")
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	if err := load(db, data, copies); err != nil {
		return err
	}
	if _, err := db.Exec(fmt.Sprintf("CREATE MODEL m FROM (SELECT %s, churn FROM churn) TARGET churn FUNCTION m_fn AUTO OFF MODEL_TYPE %s SETTINGS (DEPLOY_POLICY 'manual')", features, modelType)); err != nil {
		return err
	}
	if _, err := wait(db, 1); err != nil {
		return err
	}
	times := map[bool][]time.Duration{}
	stmt := map[bool][]time.Duration{}
	version := 1
	for i := 0; i < 2*runs; i++ {
		lineage := i%2 == 0
		if _, err := db.Exec(fmt.Sprintf("SET GLOBAL sibyl_model_lineage = %v", map[bool]string{true: "ON", false: "OFF"}[lineage])); err != nil {
			return err
		}
		if _, err := db.Exec("UPDATE churn SET custserv_calls = custserv_calls + 1 WHERE id = ?", i); err != nil {
			return err
		}
		start := time.Now()
		if _, err := db.Exec("ALTER MODEL m RETRAIN"); err != nil {
			return err
		}
		stmt[lineage] = append(stmt[lineage], time.Since(start))
		version++
		d, err := wait(db, version)
		if err != nil {
			return err
		}
		times[lineage] = append(times[lineage], d)
	}
	var rows int
	if err := db.QueryRow("SELECT COUNT(*) FROM churn").Scan(&rows); err != nil {
		return err
	}
	on, off := median(times[true]), median(times[false])
	fmt.Printf("Training time with and without lineage pinning (ALTER MODEL m RETRAIN, AUTO OFF MODEL_TYPE %s, %d rows, %d runs each, medians)\n\n", modelType, rows, runs)
	fmt.Println("| sibyl_model_lineage | training time (s) | RETRAIN statement (ms) | overhead |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| OFF | %.3f | %.1f | |\n", off.Seconds(), float64(median(stmt[false]).Microseconds())/1000)
	fmt.Printf("| ON  | %.3f | %.1f | %+.1f%% |\n", on.Seconds(), float64(median(stmt[true]).Microseconds())/1000, 100*(on.Seconds()-off.Seconds())/off.Seconds())
	return nil
}

// load creates churn and inserts copies of the CSV's rows.
func load(db *sql.DB, path string, copies int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return err
	}
	if _, err := db.Exec(`CREATE TABLE churn (id INT PRIMARY KEY, account_length INT, intl_plan VARCHAR(3), vmail_plan VARCHAR(3),
		vmail_message INT, day_mins DOUBLE, day_calls INT, eve_mins DOUBLE, night_mins DOUBLE, intl_mins DOUBLE,
		intl_calls INT, custserv_calls INT, churn VARCHAR(8))`); err != nil {
		return err
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	rows := recs[1:]
	id := 0
	for c := 0; c < copies; c++ {
		for lo := 0; lo < len(rows); lo += 1000 {
			var sb strings.Builder
			sb.WriteString("INSERT INTO churn VALUES ")
			for i := lo; i < min(lo+1000, len(rows)); i++ {
				r := rows[i]
				if i > lo {
					sb.WriteByte(',')
				}
				fmt.Fprintf(&sb, "(%d,%s,'%s','%s',%s,%s,%s,%s,%s,%s,%s,%s,'%s')", id, r[col["Account Length"]], r[col["Int'l Plan"]],
					r[col["VMail Plan"]], r[col["VMail Message"]], r[col["Day Mins"]], r[col["Day Calls"]], r[col["Eve Mins"]],
					r[col["Night Mins"]], r[col["Intl Mins"]], r[col["Intl Calls"]], r[col["CustServ Calls"]], r[col["Churn?"]])
				id++
			}
			if _, err := db.Exec(sb.String()); err != nil {
				return err
			}
		}
	}
	return nil
}

// wait polls SHOW MODEL m VERSIONS until version n is READY and returns
// its server-side training time.
func wait(db *sql.DB, n int) (time.Duration, error) {
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		rows, err := db.Query("SHOW MODEL m VERSIONS")
		if err != nil {
			return 0, err
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return 0, err
			}
			v := map[string]string{}
			for i, c := range cols {
				v[c] = vals[i].String
			}
			if v["Version"] != fmt.Sprint(n) {
				continue
			}
			switch v["State"] {
			case "FAILED":
				rows.Close()
				return 0, fmt.Errorf("version %d failed: %s", n, v["Reason"])
			case "READY":
				rows.Close()
				const layout = "2006-01-02 15:04:05.000000"
				c, err1 := time.Parse(layout, v["Created At"])
				f, err2 := time.Parse(layout, v["Finished At"])
				if err1 != nil || err2 != nil {
					return 0, fmt.Errorf("version %d times %q %q", n, v["Created At"], v["Finished At"])
				}
				return f.Sub(c), nil
			}
		}
		rows.Close()
		time.Sleep(50 * time.Millisecond)
	}
	return 0, fmt.Errorf("version %d did not finish", n)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
