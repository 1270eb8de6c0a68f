// Package progress tells SHOW PROCESSLIST and
// information_schema.PROCESSLIST how far a long statement has come: a
// model being trained, a LOAD DATA, a statement scoring many rows with a
// model. MySQL shows such things as State text; MariaDB also has STAGE,
// MAX_STAGE and PROGRESS columns. The statement registers a function that
// reports its progress when asked, so the work itself only bumps counters.
package progress

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
)

// Report is a statement's progress at one moment.
type Report struct {
	// Name is what the statement is doing ("training", "loading",
	// "scoring").
	Name string
	// Done and Total count Unit; Total is 0 when unknown. Without a Unit
	// the report is Name alone.
	Done, Total int64
	Unit        string
	// Stage and MaxStage are MariaDB's STAGE and MAX_STAGE (1-based), 0
	// when the statement has a single stage.
	Stage, MaxStage int
}

// State is the report as PROCESSLIST's State text: "scoring: 5000/20000
// rows", "loading: 120000 rows".
func (r Report) State() string {
	if r.Unit == "" {
		return r.Name
	}
	if r.Total > 0 {
		return fmt.Sprintf("%s: %d/%d %s", r.Name, r.Done, r.Total, r.Unit)
	}
	return fmt.Sprintf("%s: %d %s", r.Name, r.Done, r.Unit)
}

// Percent is MariaDB's PROGRESS: how far, 0 to 100, the statement is
// through its current stage; 0 when the total is unknown.
func (r Report) Percent() float64 {
	if r.Total <= 0 {
		return 0
	}
	p := 100 * float64(r.Done) / float64(r.Total)
	return min(max(p, 0), 100)
}

// Func reports a statement's progress when PROCESSLIST is read.
type Func func() Report

type entry struct{ f Func }

// running maps a connection id to its statement's reporters, innermost
// last: a statement may run another (CREATE MODEL's training query
// scoring rows with a model), and PROCESSLIST shows the innermost.
var (
	mu      sync.Mutex
	running = map[uint32][]*entry{}
)

// Begin registers f as the progress of the statement running on ctx's
// connection until end is called.
func Begin(ctx *sql.Context, f Func) (end func()) {
	if ctx == nil || ctx.Session == nil {
		return func() {}
	}
	conn := ctx.Session.ID()
	e := &entry{f: f}
	mu.Lock()
	running[conn] = append(running[conn], e)
	mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			list := running[conn]
			for i := range list {
				if list[i] == e {
					list = append(list[:i:i], list[i+1:]...)
					break
				}
			}
			if len(list) == 0 {
				delete(running, conn)
			} else {
				running[conn] = list
			}
		})
	}
}

// Of returns the progress of the statement running on connection conn.
func Of(conn uint32) (Report, bool) {
	mu.Lock()
	list := running[conn]
	var f Func
	if len(list) > 0 {
		f = list[len(list)-1].f
	}
	mu.Unlock()
	if f == nil {
		return Report{}, false
	}
	return f(), true
}

// Job is work the server runs in the background for a user, outside any
// connection: a model's training, which CREATE MODEL starts and returns
// from. PROCESSLIST lists it as a Daemon thread of its user, as MySQL
// lists its event scheduler, so that a training job's progress shows
// there too.
type Job struct {
	// ID is the thread id PROCESSLIST shows: above every connection id
	// (those are 32-bit), so the two never collide.
	ID             uint64
	User, Host, DB string
	// Info is what the job runs ("CREATE MODEL db.m").
	Info    string
	Started time.Time
	f       Func
}

// Report is the job's progress now.
func (j *Job) Report() Report { return j.f() }

var (
	jobs    = map[uint64]*Job{}
	lastJob = uint64(1) << 32
)

// StartJob lists a background job, reporting its progress with f, until
// end is called.
func StartJob(user, host, db, info string, f Func) (end func()) {
	mu.Lock()
	lastJob++
	j := &Job{ID: lastJob, User: user, Host: host, DB: db, Info: info, Started: time.Now(), f: f}
	jobs[j.ID] = j
	mu.Unlock()
	return func() {
		mu.Lock()
		delete(jobs, j.ID)
		mu.Unlock()
	}
}

// Jobs lists the background jobs running now, oldest first.
func Jobs() []*Job {
	mu.Lock()
	out := make([]*Job, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, j)
	}
	mu.Unlock()
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}
