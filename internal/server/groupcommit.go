package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/dolthub/dolt/go/store/nbs"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/status"
)

// Group commit. Dolt fsyncs its journal inside every root update, under
// its per-branch commit lock, so commits per second could never exceed
// 1 / (commit work + fsync) however many clients commit. SibylDB's patch to
// Dolt's journal (patches/dolt/0001-journal-group-commit.patch) lets the
// caller of a root update take the fsync out of the lock: a client
// statement's context carries a commitSyncs, the journal writes the root
// record and hands the fsync back, and the statement runs it before its
// result reaches the client. Commits that queued behind one fsync share
// the next one.
//
// Invariants:
//   - a client never sees the result of a statement that committed before
//     the commit is durable: run flushes the statement's deferred fsyncs
//     before the first result packet and before returning (an error packet
//     is written after run returns);
//   - sessions the server opens for itself (catalog, audit, events, storage
//     GC) carry no commitSyncs and sync inside the root update, as before;
//   - between the root update and its fsync (one fsync, ~1-3 ms) other
//     sessions can read the new rows; a crash in that window loses them,
//     and their writer was never acknowledged. InnoDB with
//     innodb_flush_log_at_trx_commit=1 does not show rows before their
//     redo is flushed; this is the one place SibylDB is weaker.
//
// deferredSyncKey is the patch's context key for a statement's syncer.
const deferredSyncKey = nbs.DeferredSyncKey

var observeFsyncs sync.Once

// countJournalFsyncs makes every journal fsync in the process, deferred or
// not, count in Sibyl_journal_fsyncs and Sibyl_journal_fsync_us: with
// Sibyl_group_commit_wait_us they tell a slow disk from a long queue.
func countJournalFsyncs(reg *status.Registry) {
	observeFsyncs.Do(func() {
		n, us := reg.Counter("Sibyl_journal_fsyncs"), reg.Counter("Sibyl_journal_fsync_us")
		nbs.FsyncObserver = func(d time.Duration) {
			n.Add(1)
			us.Add(uint64(d.Microseconds()))
		}
	})
}

// groupCommitCounters count deferred commits, the fsyncs they ran and the
// time statements waited for their commits to become durable (their own
// fsync or one already running that covers them), in microseconds.
type groupCommitCounters struct {
	commits, fsyncs, waitMicros *status.Counter
}

func newGroupCommitCounters(reg *status.Registry) groupCommitCounters {
	countJournalFsyncs(reg)
	return groupCommitCounters{
		commits:    reg.Counter("Sibyl_group_commit_commits"),
		fsyncs:     reg.Counter("Sibyl_group_commit_fsyncs"),
		waitMicros: reg.Counter("Sibyl_group_commit_wait_us"),
	}
}

// commitSyncs collects the fsyncs a statement's commits deferred. A
// statement may commit from more than one goroutine, hence the mutex.
type commitSyncs struct {
	mu       sync.Mutex
	pending  []func() (bool, error)
	counters groupCommitCounters
}

// DeferSync implements the patched journal's nbs.DeferredSyncer.
func (s *commitSyncs) DeferSync(sync func() (synced bool, err error)) {
	s.mu.Lock()
	s.pending = append(s.pending, sync)
	s.mu.Unlock()
	s.counters.commits.Add(1)
}

// withCommitSyncs returns ctx carrying a new commitSyncs.
func withCommitSyncs(ctx context.Context, counters groupCommitCounters) (context.Context, *commitSyncs) {
	s := &commitSyncs{counters: counters}
	return context.WithValue(ctx, deferredSyncKey, s), s //nolint:staticcheck // the key's type is fixed by the Dolt patch
}

// flush makes the statement's commits so far durable.
func (s *commitSyncs) flush() error {
	s.mu.Lock()
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	start := time.Now()
	defer func() { s.counters.waitMicros.Add(uint64(time.Since(start).Microseconds())) }()
	for _, sync := range pending {
		synced, err := sync()
		if err != nil {
			return errDuringCommit(err)
		}
		if synced {
			s.counters.fsyncs.Add(1)
		}
	}
	return nil
}

// errDuringCommit is MySQL's ER_ERROR_DURING_COMMIT for a commit whose
// journal could not be made durable.
func errDuringCommit(err error) error {
	code := -1
	var errno syscall.Errno
	if errors.As(err, &errno) {
		code = int(errno)
	}
	return mysql.NewSQLError(1180, mysql.SSUnknownSQLState, "%s", fmt.Sprintf("Got error %d - '%s' during COMMIT", code, err))
}
