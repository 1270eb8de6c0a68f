package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dprocedures"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/dolt/go/store/chunks"
	"github.com/dolthub/dolt/go/store/types"
	"github.com/dolthub/go-mysql-server/sql"
	gmstypes "github.com/dolthub/go-mysql-server/sql/types"
	"github.com/sirupsen/logrus"

	"github.com/sibyldb/sibyldb/internal/status"
)

// Storage garbage collection
//
// Every Dolt commit appends to the database's chunk journal, and chunks that
// no commit references any more stay on disk until a GC rewrites the store.
// Dolt ships an automatic GC (sqle.AutoGCController), but it races with
// CREATE DATABASE: its per-database watcher goroutine starts reading the
// DoltDB's chunk store before PrependCommitHooks has finished replacing it
// (sqle/auto_gc.go, newCommitHook runs the thread before InitDatabaseHook
// prepends the hook). The race detector reports it, and a read of a field
// while it is being replaced is a real fault in a long-running server.
//
// SibylDB therefore runs GC from its own scheduler, gcScheduler, with the
// same policy and the same GC call (dprocedures.RunDoltGC with the
// session-aware safepoint controller, so running statements are never
// killed). Its invariants:
//   - No commit hooks are installed, so nothing ever writes a DoltDB's chunk
//     store field after the database is registered. The scheduler sees a
//     database only through the provider's database map, read under the
//     provider's lock, which registerNewDatabase holds while it builds and
//     adds the database: that lock is the happens-before edge that makes
//     the DoltDB's fields safe to read.
//   - One GC runs at a time, on the scheduler's goroutine.
//   - DROP DATABASE cancels a GC of that database and does not wait for it:
//     GC waits for running statements to reach a safepoint, and the DROP
//     is one of them.

// VarStorageGCThreshold is the global variable that sets how much a
// database's store must grow (or its journal hold) before it is collected.
const VarStorageGCThreshold = "sibyl_storage_gc_threshold"

// defaultStorageGCThreshold is Dolt's own auto-GC threshold (128 MiB).
const defaultStorageGCThreshold = 128 << 20

// storageGCCheckInterval is how often store sizes are read, as Dolt does.
const storageGCCheckInterval = time.Second

func storageGCSystemVariables() []sql.SystemVariable {
	return []sql.SystemVariable{&sql.MysqlSystemVariable{
		Name:    VarStorageGCThreshold,
		Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Global),
		Dynamic: true,
		// 0 turns automatic GC off; CALL dolt_gc() still works.
		Type:    gmstypes.NewSystemIntType(VarStorageGCThreshold, 0, 1<<50, false),
		Default: int64(defaultStorageGCThreshold),
	}}
}

// storageGCThreshold reads the current threshold; 0 means off.
func storageGCThreshold() uint64 {
	_, v, ok := sql.SystemVariables.GetGlobal(VarStorageGCThreshold)
	if !ok {
		return defaultStorageGCThreshold
	}
	switch n := v.(type) {
	case int64:
		if n > 0 {
			return uint64(n)
		}
	case uint64:
		return n
	}
	return 0
}

// gcPolicyState is what the policy remembers of one database.
type gcPolicyState struct {
	// base is the store size observed after the last GC (or at the first
	// look); growth is measured from it.
	base *doltdb.StoreSizes
	// lastStart and lastEnd time the last GC; zero before the first.
	lastStart, lastEnd time.Time
	lastErr            error
}

// shouldCollect is Dolt's auto-GC policy with a configurable threshold: the
// journal (or the store's growth) passes the threshold; after a successful
// GC, the store must also have grown by more than the new generation had
// after that GC, and more time must have passed than that GC took, so a
// busy database is never collected back to back.
func (s *gcPolicyState) shouldCollect(cur doltdb.StoreSizes, threshold uint64, now time.Time) bool {
	base := *s.base
	grew := cur.TotalBytes > base.TotalBytes
	growth := cur.TotalBytes - base.TotalBytes
	if s.lastEnd.IsZero() || s.lastErr != nil {
		return cur.JournalBytes > threshold || (grew && growth > threshold)
	}
	rested := now.Sub(s.lastEnd) > s.lastEnd.Sub(s.lastStart)
	return rested && grew && growth > base.NewGenBytes && cur.NewGenBytes > threshold
}

// gcScheduler collects garbage in every database, one at a time.
type gcScheduler struct {
	provider *sqle.DoltDatabaseProvider
	newCtx   func(context.Context) (*sql.Context, error)
	log      *logrus.Logger
	runs     *status.Counter
	failures *status.Counter

	mu      sync.Mutex
	states  map[string]*gcPolicyState // only touched by the scheduler goroutine
	running string                    // database being collected, "" if none
	cancel  context.CancelFunc        // cancels the running GC

	stop chan struct{}
	done chan struct{}
}

func newGCScheduler(provider *sqle.DoltDatabaseProvider, newCtx func(context.Context) (*sql.Context, error), reg *status.Registry, log *logrus.Logger) *gcScheduler {
	// RunDoltGC otherwise kills every connection to reach a safepoint; the
	// session-aware controller waits for running statements instead. Dolt's
	// engine sets the same flag when its own auto-GC is on.
	dprocedures.UseSessionAwareSafepointController = true
	g := &gcScheduler{
		provider: provider,
		newCtx:   newCtx,
		log:      log,
		runs:     reg.Counter("Sibyl_storage_gc_runs"),
		failures: reg.Counter("Sibyl_storage_gc_failures"),
		states:   map[string]*gcPolicyState{},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	provider.AddDropDatabaseHook(g.dropped)
	return g
}

// start runs the scheduler until close.
func (g *gcScheduler) start() {
	go func() {
		defer close(g.done)
		t := time.NewTicker(storageGCCheckInterval)
		defer t.Stop()
		for {
			select {
			case <-g.stop:
				return
			case <-t.C:
				g.tick()
			}
		}
	}()
}

// close stops the scheduler, cancelling a running GC, and waits for it.
func (g *gcScheduler) close() {
	close(g.stop)
	g.mu.Lock()
	if g.cancel != nil {
		g.cancel()
	}
	g.mu.Unlock()
	<-g.done
}

// dropped is the provider's DropDatabaseHook: it cancels a GC of the
// database and forgets its state. It must not wait (see the invariants).
func (g *gcScheduler) dropped(_ *sql.Context, name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running == name && g.cancel != nil {
		g.cancel()
	}
}

// tick looks at every database once and collects those that need it.
func (g *gcScheduler) tick() {
	threshold := storageGCThreshold()
	if threshold == 0 {
		return
	}
	dbs, err := g.databases()
	if err != nil {
		g.log.WithError(err).Warn("storage gc: listing databases")
		return
	}
	seen := make(map[string]bool, len(dbs))
	for name, ddb := range dbs {
		seen[name] = true
		select {
		case <-g.stop:
			return
		default:
		}
		st := g.states[name]
		if st == nil {
			st = &gcPolicyState{}
			g.states[name] = st
		}
		sz, err := ddb.StoreSizes(context.Background())
		if err != nil {
			g.log.WithError(err).Debugf("storage gc: size of %s", name)
			continue // a store that cannot report its size is not collected
		}
		if st.base == nil {
			st.base = &sz
		}
		if st.shouldCollect(sz, threshold, time.Now()) {
			g.collect(name, ddb, st)
		}
	}
	for name := range g.states {
		if !seen[name] {
			delete(g.states, name)
		}
	}
}

// databases lists the databases the provider holds now. Reading the map
// under the provider's lock is what makes each DoltDB safe to use here.
func (g *gcScheduler) databases() (map[string]*doltdb.DoltDB, error) {
	ctx, err := g.newCtx(context.Background())
	if err != nil {
		return nil, err
	}
	defer sql.SessionEnd(ctx.Session)
	out := map[string]*doltdb.DoltDB{}
	for _, db := range g.provider.AllDatabases(ctx) {
		if sdb, ok := db.(dsess.SqlDatabase); ok {
			if ddb := sdb.DbData().Ddb; ddb != nil {
				out[sdb.Name()] = ddb
			}
		}
	}
	return out, nil
}

// collect runs one GC of a database and updates its policy state.
func (g *gcScheduler) collect(name string, ddb *doltdb.DoltDB, st *gcPolicyState) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g.mu.Lock()
	g.running, g.cancel = name, cancel
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running, g.cancel = "", nil
		g.mu.Unlock()
	}()

	start := time.Now()
	err := g.runGC(ctx, name, ddb)
	st.lastStart, st.lastEnd = start, time.Now()
	st.lastErr = nil
	switch {
	case err == nil:
		g.runs.Add(1)
		g.log.Infof("storage gc: collected database %s in %v", name, time.Since(start).Round(time.Millisecond))
	case errors.Is(err, chunks.ErrNothingToCollect):
		// Nothing was garbage; measure growth from here.
	case ctx.Err() != nil:
		return // dropped or shutting down: the state is pruned or discarded
	default:
		st.lastErr = err
		g.failures.Add(1)
		g.log.WithError(err).Warnf("storage gc: collecting database %s", name)
	}
	if sz, err := ddb.StoreSizes(context.Background()); err == nil {
		st.base = &sz
	} else {
		st.base = nil
	}
}

// runGC runs Dolt's GC in a session of its own, as dolt_gc() would, and
// turns a panic inside it into an error: a failed GC must not take the
// server down.
func (g *gcScheduler) runGC(ctx context.Context, name string, ddb *doltdb.DoltDB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("storage gc of %s panicked: %v", name, r)
		}
	}()
	sqlCtx, err := g.newCtx(ctx)
	if err != nil {
		return fmt.Errorf("storage gc session: %w", err)
	}
	defer sql.SessionEnd(sqlCtx.Session)
	sql.SessionCommandBegin(sqlCtx.Session)
	defer sql.SessionCommandEnd(sqlCtx.Session)
	return dprocedures.RunDoltGC(sqlCtx, ddb, types.GCModeDefault, chunks.SimpleArchive, name)
}
