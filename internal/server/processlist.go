package server

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/rowexec"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/shopspring/decimal"

	"github.com/sibyldb/sibyldb/internal/infoschema"
	"github.com/sibyldb/sibyldb/internal/progress"
	"github.com/sibyldb/sibyldb/internal/txlock"
)

// SHOW PROCESSLIST and information_schema.PROCESSLIST name, in State, the
// lock a connection waits for ("Waiting for row lock on db.t"), so an
// operator can see who blocks whom; GMS would show "running".

// processes lists the server's connections with their states.
type processes struct {
	locks *txlock.Manager
	// visible reports whether the session may see a thread of user.
	visible func(ctx *sql.Context, user string) bool
}

type processRow struct {
	id                      uint64
	user, host, db, command string
	time                    int32
	state, info             string
	// stage, maxStage and percent are MariaDB's STAGE, MAX_STAGE and
	// PROGRESS of a statement reporting its progress (package progress).
	stage, maxStage int
	percent         float64
}

func (p processes) rows(ctx *sql.Context) []processRow {
	waiting := p.locks.Waiting()
	var out []processRow
	for _, proc := range ctx.ProcessList.Processes() {
		if !p.visible(ctx, proc.User) {
			continue
		}
		r := processRow{id: uint64(proc.Connection), user: proc.User, host: proc.Host, db: proc.Database,
			command: string(proc.Command), time: int32(proc.Seconds()), info: proc.Query}
		rep, reporting := progress.Of(proc.Connection)
		if reporting && proc.Command == sql.ProcessCommandQuery {
			r.stage, r.maxStage, r.percent = rep.Stage, rep.MaxStage, rep.Percent()
		}
		if k, ok := waiting[proc.Connection]; ok && proc.Command == sql.ProcessCommandQuery {
			r.state = waitState(k)
		} else if reporting && proc.Command == sql.ProcessCommandQuery {
			r.state = rep.State()
		} else {
			var names []string
			for name, progress := range proc.Progress {
				names = append(names, fmt.Sprintf("%s(%s)", name, progress))
			}
			sort.Strings(names)
			r.state = strings.Join(names, ", ")
			if r.state == "" && proc.Command == sql.ProcessCommandQuery {
				r.state = "running"
			}
		}
		out = append(out, r)
	}
	// Background training jobs, as Daemon threads of their users.
	for _, j := range progress.Jobs() {
		if !p.visible(ctx, j.User) {
			continue
		}
		rep := j.Report()
		out = append(out, processRow{id: j.ID, user: j.User, host: j.Host, db: j.DB, command: "Daemon",
			time: int32(time.Since(j.Started).Seconds()), state: rep.State(), info: j.Info,
			stage: rep.Stage, maxStage: rep.MaxStage, percent: rep.Percent()})
	}
	return out
}

// waitState is the State of a connection waiting for key.
func waitState(k txlock.Key) string {
	d := txlock.Describe(k)
	switch {
	case strings.HasPrefix(d, "row of "):
		return "Waiting for row lock on " + strings.TrimPrefix(d, "row of ")
	case strings.HasPrefix(d, "table "):
		return "Waiting for table lock on " + strings.TrimPrefix(d, "table ")
	}
	return "Waiting for database lock on " + strings.TrimPrefix(d, "database ")
}

// infoSchemaRows are information_schema.PROCESSLIST's rows.
func (p processes) infoSchemaRows(ctx *sql.Context) ([]map[string]any, error) {
	var out []map[string]any
	for _, r := range p.rows(ctx) {
		m := map[string]any{"ID": r.id, "USER": r.user, "HOST": r.host, "COMMAND": r.command,
			"TIME": r.time, "STATE": r.state, "INFO": r.info,
			"STAGE": int8(r.stage), "MAX_STAGE": int8(r.maxStage), "PROGRESS": decimal.NewFromFloat(r.percent).Round(3)}
		if r.db != "" {
			m["DB"] = r.db
		}
		out = append(out, m)
	}
	return out, nil
}

// progressColumns are MariaDB's progress columns of
// information_schema.PROCESSLIST: the statement's stage, the number of
// stages, and how far (0 to 100) it is through the current one.
func progressColumns() sql.Schema {
	return sql.Schema{
		{Name: "STAGE", Type: types.Int8},
		{Name: "MAX_STAGE", Type: types.Int8},
		{Name: "PROGRESS", Type: types.MustCreateDecimalType(7, 3)},
	}
}

// install replaces GMS's PROCESSLIST table and SHOW PROCESSLIST.
func (p processes) install(info *infoschema.Schema, b *rowexec.BaseBuilder) error {
	t, ok, err := info.Database.GetTableInsensitive(sql.NewEmptyContext(), "processlist")
	if err != nil || !ok {
		return fmt.Errorf("information_schema.processlist not found: %w", err)
	}
	info.AddTable(t.Name(), append(t.Schema().Copy(), progressColumns()...), p.infoSchemaRows)
	b.PriorityBuilder = showProcessListBuilder{p: p, next: b.PriorityBuilder}
	return nil
}

// showProcessListBuilder answers SHOW PROCESSLIST; every other node goes
// to next, then to GMS's own builder.
type showProcessListBuilder struct {
	p    processes
	next sql.NodeExecBuilder
}

// Build implements sql.NodeExecBuilder.
func (b showProcessListBuilder) Build(ctx *sql.Context, n sql.Node, r sql.Row) (sql.RowIter, error) {
	if _, ok := n.(*plan.ShowProcessList); ok {
		var rows []sql.Row
		for _, pr := range b.p.rows(ctx) {
			var db any
			if pr.db != "" {
				db = pr.db
			}
			rows = append(rows, sql.NewRow(int64(pr.id), pr.user, pr.host, db, pr.command, int64(pr.time), pr.state, pr.info))
		}
		return sql.RowsToRowIter(rows...), nil
	}
	if b.next == nil {
		return nil, nil
	}
	return b.next.Build(ctx, n, r)
}
