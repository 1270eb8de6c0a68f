package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// processProgress is what PROCESSLIST shows of a statement's progress.
type processProgress struct {
	state           string
	stage, maxStage int
	percent         float64
}

// progressOf reads the progress of the statement whose text contains
// marker, from information_schema.PROCESSLIST and SHOW PROCESSLIST (which
// must agree on State); ok is false while no such statement runs.
func progressOf(t *testing.T, db *sql.DB, marker string) (p processProgress, ok bool) {
	t.Helper()
	rows, err := db.Query("SELECT STATE, STAGE, MAX_STAGE, PROGRESS, INFO FROM information_schema.PROCESSLIST")
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var info sql.NullString
		var pct string
		require.NoError(t, rows.Scan(&p.state, &p.stage, &p.maxStage, &pct, &info))
		if strings.Contains(info.String, marker) && !strings.Contains(info.String, "PROCESSLIST") {
			p.percent, err = strconv.ParseFloat(pct, 64)
			require.NoError(t, err)
			ok = true
			break
		}
	}
	require.NoError(t, rows.Err())
	return p, ok
}

// showProcesslistState is SHOW PROCESSLIST's State of the statement whose
// text contains marker.
func showProcesslistState(t *testing.T, db *sql.DB, marker string) (string, bool) {
	t.Helper()
	rows, err := db.Query("SHOW FULL PROCESSLIST")
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id, tm int64
		var user, host, command string
		var dbName, state, info sql.NullString
		require.NoError(t, rows.Scan(&id, &user, &host, &dbName, &command, &tm, &state, &info))
		if strings.Contains(info.String, marker) && !strings.Contains(info.String, "PROCESSLIST") {
			return state.String, true
		}
	}
	require.NoError(t, rows.Err())
	return "", false
}

// gate holds the model server's answer for every row whose first value is
// at least from, until opened: a statement scoring rows stops there.
type gate struct {
	from float64
	open chan struct{}
	once sync.Once
}

func newGate(from float64) *gate { return &gate{from: from, open: make(chan struct{})} }

func (g *gate) score(row []*string) string {
	if row[0] != nil {
		if v, err := strconv.ParseFloat(*row[0], 64); err == nil && v >= g.from {
			<-g.open
		}
		return *row[0]
	}
	return "0"
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

var stateRows = regexp.MustCompile(`^(\w[\w ]*): (\d+)(?:/(\d+))? (\w+)$`)

// parseState splits a progress State ("scoring: 500/2000 rows").
func parseState(t *testing.T, s string) (name string, done, total int64, unit string) {
	t.Helper()
	name, done, total, unit, ok := progressState(s)
	require.Truef(t, ok, "State %q is not a progress report", s)
	return name, done, total, unit
}

// progressState is parseState for polling: a statement shows "running"
// until its operator starts reporting, so a State that is not a progress
// report only means "not yet". (require's failures must not be raised
// inside require.Eventually's condition: they end its goroutine and the
// wait runs out instead of failing.)
func progressState(s string) (name string, done, total int64, unit string, ok bool) {
	m := stateRows.FindStringSubmatch(s)
	if m == nil {
		return "", 0, 0, "", false
	}
	done, _ = strconv.ParseInt(m[2], 10, 64)
	if m[3] != "" {
		total, _ = strconv.ParseInt(m[3], 10, 64)
	}
	return m[1], done, total, m[4], true
}

// TestProcesslistShowsMLStatementProgress: an UPDATE scoring every row of
// a table with a model shows, while it runs, "scoring: done/total rows" in
// SHOW PROCESSLIST's State and MariaDB's STAGE/MAX_STAGE/PROGRESS in
// information_schema.PROCESSLIST; the count stops where the model server
// holds the answers and moves on when it answers, and the report is gone
// when the statement ends.
func TestProcesslistShowsMLStatementProgress(t *testing.T) {
	const n = 3000
	_, model, db := mlSetup(t, n, n, "SAGEMAKER")
	g := newGate(1500)
	defer g.release()
	model.Set(func(b *testserver.Behaviour) { b.Score = g.score })
	mustExec(t, db, "ALTER TABLE nums ADD COLUMN y DOUBLE")

	done := make(chan error, 1)
	go func() {
		_, err := db.Exec("UPDATE nums SET y = twice(x) /* progress-marker */")
		done <- err
	}()
	var held processProgress
	require.Eventually(t, func() bool {
		p, ok := progressOf(t, db, "progress-marker")
		if !ok || model.InFlight() == 0 {
			return false
		}
		_, d, _, _, reporting := progressState(p.state)
		held = p
		return reporting && d > 0
	}, time.Minute, 10*time.Millisecond, "the UPDATE never reported scored rows")
	// Rows below the gate are scored; the batch holding row 1500 is not.
	name, doneRows, total, unit := parseState(t, held.state)
	require.Equal(t, "scoring", name)
	require.Equal(t, "rows", unit)
	require.EqualValues(t, n, total, "the whole table is scored")
	require.Less(t, doneRows, int64(1500)+1)
	require.Equal(t, 0, held.stage)
	require.InDelta(t, 100*float64(doneRows)/n, held.percent, 0.001)
	// It stays there while the model holds its answer, and SHOW
	// PROCESSLIST says the same.
	time.Sleep(200 * time.Millisecond)
	p, ok := progressOf(t, db, "progress-marker")
	require.True(t, ok)
	_, again, _, _ := parseState(t, p.state)
	require.LessOrEqual(t, again, int64(1500))
	st, ok := showProcesslistState(t, db, "progress-marker")
	require.True(t, ok)
	require.Regexp(t, `^scoring: \d+/3000 rows$`, st)

	g.release()
	require.NoError(t, <-done)
	_, ok = progressOf(t, db, "progress-marker")
	require.False(t, ok, "the statement has ended")
	require.EqualValues(t, n, queryInt(t, db, "SELECT COUNT(*) FROM nums WHERE y = x"))
}

// TestProcesslistShowsLoadDataProgress: LOAD DATA shows "loading: N rows"
// while it runs. A BEFORE INSERT trigger asks a model about each row, and
// the model holds its answer for row 700 on, so the load stops there.
func TestProcesslistShowsLoadDataProgress(t *testing.T) {
	dir := t.TempDir()
	model := testserver.StartModelServer(t)
	g := newGate(700)
	defer g.release()
	model.Set(func(b *testserver.Behaviour) { b.Score = g.score })
	srv := testserver.Start(t, "--secure-file-priv", dir)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE ld")
	db = srv.DB("ld", "multiStatements=true")
	mustExec(t, db,
		fmt.Sprintf("CREATE ENDPOINT m URL '%s'", model.URL),
		"CREATE FUNCTION check_row(v DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'm'",
		"CREATE TABLE t (id INT PRIMARY KEY, v DOUBLE, checked DOUBLE)",
		"CREATE TRIGGER chk BEFORE INSERT ON t FOR EACH ROW SET NEW.checked = check_row(NEW.v)")
	var sb strings.Builder
	const n = 1000
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, "%d,%d\n", i, i)
	}
	file := filepath.Join(dir, "rows.csv")
	require.NoError(t, os.WriteFile(file, []byte(sb.String()), 0o644))

	done := make(chan error, 1)
	go func() {
		_, err := db.Exec(fmt.Sprintf("LOAD DATA INFILE '%s' INTO TABLE t FIELDS TERMINATED BY ',' (id, v)", file))
		done <- err
	}()
	var seen []string // progress reports, in the order polled
	require.Eventually(t, func() bool {
		p, ok := progressOf(t, db, "LOAD DATA")
		if !ok {
			return false
		}
		_, d, _, _, reporting := progressState(p.state)
		if !reporting {
			return false
		}
		seen = append(seen, p.state)
		return d >= 699 && model.InFlight() > 0
	}, time.Minute, 10*time.Millisecond, "LOAD DATA did not report the rows before the held one")
	var last int64
	for _, st := range seen {
		name, d, total, unit := parseState(t, st)
		require.Equal(t, "loading", name)
		require.Equal(t, "rows", unit)
		require.Zero(t, total, "a file's row count is not known ahead")
		require.GreaterOrEqual(t, d, last, "progress went backwards")
		last = d
	}
	require.LessOrEqual(t, last, int64(700))
	g.release()
	require.NoError(t, <-done)
	require.EqualValues(t, n, queryInt(t, db, "SELECT COUNT(*) FROM t WHERE checked = v"))
}

// TestProcesslistShowsTrainingProgress: HeatWave's ML_TRAIN waits for the
// training job; meanwhile PROCESSLIST shows the job's stage (2 of 3:
// training candidates) and "training: i/n candidates", never going back.
func TestProcesslistShowsTrainingProgress(t *testing.T) {
	_, db := modelSetup(t, 6000)
	done := make(chan error, 1)
	go func() {
		_, err := db.Exec(`CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('task', 'classification',
			'exclude_column_list', JSON_ARRAY('id', 'value')), @m)`)
		done <- err
	}()
	var seen []processProgress
	var err error
	finished := false
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline) && !finished; {
		select {
		case err = <-done:
			finished = true
			continue
		default:
		}
		if p, ok := progressOf(t, db, "ML_TRAIN"); ok && p.stage == 2 {
			seen = append(seen, p)
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.True(t, finished, "ML_TRAIN did not finish")
	require.NoError(t, err)
	require.NotEmpty(t, seen, "training stage never seen in PROCESSLIST")
	var prev int64 = -1
	for _, p := range seen {
		name, d, total, unit := parseState(t, p.state)
		require.Equal(t, "training", name)
		require.Equal(t, "candidates", unit)
		require.Equal(t, 3, p.maxStage)
		require.Positive(t, total)
		require.Less(t, d, total)
		require.GreaterOrEqual(t, d, prev, "progress went backwards")
		require.InDelta(t, 100*float64(d)/float64(total), p.percent, 0.001)
		prev = d
	}
}

// TestProcesslistShowsBackgroundTraining: CREATE MODEL returns while its
// job trains; the job is listed as a Daemon thread of its user, with its
// progress, until it ends, and only to those who may see that user's
// threads.
func TestProcesslistShowsBackgroundTraining(t *testing.T) {
	srv, db := modelSetup(t, 6000)
	mustExec(t, db, "CREATE USER watcher IDENTIFIED BY 'pw'")
	watcher := srv.Open(srv.DSN("watcher", "pw", ""))
	mustExec(t, db, `CREATE MODEL bg FROM (SELECT spend, calls, tier, churn FROM customers) TARGET churn FUNCTION bg_churn`)
	type job struct {
		id                  uint64
		user, command, info string
		state               string
		stage, maxStage     int
	}
	jobOf := func(conn *sql.DB) (job, bool) {
		t.Helper()
		rows, err := conn.Query("SELECT ID, USER, COMMAND, INFO, STATE, STAGE, MAX_STAGE FROM information_schema.PROCESSLIST WHERE COMMAND = 'Daemon'")
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var j job
			require.NoError(t, rows.Scan(&j.id, &j.user, &j.command, &j.info, &j.state, &j.stage, &j.maxStage))
			if j.info == "CREATE MODEL ml.bg" {
				return j, true
			}
		}
		require.NoError(t, rows.Err())
		return job{}, false
	}
	var seen []job
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		j, ok := jobOf(db)
		if !ok {
			break
		}
		seen = append(seen, j)
		_, visible := jobOf(watcher)
		require.False(t, visible, "another user's training job is hidden without PROCESS")
	}
	require.NotEmpty(t, seen, "the training job never showed in PROCESSLIST")
	for _, j := range seen {
		require.Greater(t, j.id, uint64(1)<<32, "job ids never collide with connection ids")
		require.Equal(t, "root", j.user)
		require.Equal(t, 3, j.maxStage)
		require.Regexp(t, `^(queued for training: 0 candidates|training: \d+/\d+ candidates|refitting the chosen candidate: 0/1 models)$`, j.state)
	}
	require.Equal(t, "READY", waitModel(t, db, "bg")["Model State"])
	_, ok := jobOf(db)
	require.False(t, ok, "a finished job leaves PROCESSLIST")
}
