// Package txrebase commits a transaction onto a database root that moved
// since the transaction started by replaying the transaction's row edits
// onto it, instead of Dolt's general three-way root merge.
//
// Why: every transaction whose snapshot is older than the database's
// working root (some other transaction committed in between, which is the
// rule, not the exception, once more than one client writes) is merged by
// Dolt's merge.MergeRoots inside the database's commit lock. MergeRoots is
// built for branch merges: it loads and merges schemas, builds a table
// merger per table, computes conflicts, constraint violations and
// artifacts, and costs ~1.2 ms of the serial commit section even for a
// one-row change. Row-level concurrency control (package txlock) already
// keeps two client transactions from writing the same row or unique key
// value, so for the common case the merge's result is simply "the moved
// root, plus this transaction's row changes", which a diff of the
// transaction's own tables and a few tree edits produce.
//
// The replay is done first outside the commit lock, onto the working root
// as it is then (Dolt patch 6): under the lock the commit is a
// fast-forward unless another transaction committed in between, in which
// case the rebased root is rebased once more onto the new one.
//
// # When it applies
//
// Rebase returns ok=false, and Dolt's MergeRoots runs as before, unless
// every one of these holds; each is checked, none is assumed:
//
//   - the three roots (ancestor = the transaction's snapshot, ours = its
//     working root, head = the database's current working root) have the
//     same feature version, collation, table names and foreign keys: no
//     DDL ran on either side;
//   - a table both sides changed has the same schema in all three, a
//     primary key, no foreign key naming it, no full-text, spatial or
//     vector index, and the transaction left its conflicts and constraint
//     violations (Dolt's artifacts) as they were;
//   - every row key and index key the transaction changed holds, in head,
//     exactly what it held in the ancestor: nobody else changed that row
//     (a lock-free writer such as the server's own catalog session, or a
//     lost race); the merge decides such rows;
//   - no value the transaction added to a unique index is in head's index
//     under a row the transaction did not delete: a unique violation
//     between the two sides is the merge's to report (txlock makes it
//     impossible between clients: the second writer of a value waits for
//     the first and then sees its row).
//
// # What it produces
//
// The result equals MergeRoots' for these inputs: tables only the
// transaction changed are taken from it, tables only others changed stay as
// in head, and in a table both changed the transaction's primary-row and
// secondary-index edits (puts and deletes, found by diffing ancestor and
// ours) are applied to head's trees. The auto-increment counter is the
// larger of the two sides', as the merge keeps it.
package txrebase

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb"
	"github.com/dolthub/dolt/go/libraries/doltcore/doltdb/durable"
	"github.com/dolthub/dolt/go/libraries/doltcore/schema"
	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dsess"
	"github.com/dolthub/dolt/go/store/hash"
	"github.com/dolthub/dolt/go/store/prolly"
	"github.com/dolthub/dolt/go/store/prolly/tree"
	"github.com/dolthub/dolt/go/store/val"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/status"
)

var installOnce sync.Once

// Install makes every transaction commit in the process try Rebase before
// Dolt's merge. The hook is process-wide because Dolt's is; the counters
// are Sibyl_commit_rebases and Sibyl_commit_merges of reg.
//
// Dolt (patch 6) calls the hook first outside the commit lock, onto the
// working root as it is then, and again under the lock only if the root
// moved once more in between. So Sibyl_commit_rebases counts rebases done
// (a commit rebased early and again under the lock counts twice) and
// Sibyl_commit_merges counts commits left to the merge, which only the
// locked call decides: an early decline is tried again under the lock.
// Sibyl_commit_rebases_locked counts the rebases done under the lock.
func Install(reg *status.Registry) {
	installOnce.Do(func() {
		rebased, merged := reg.Counter("Sibyl_commit_rebases"), reg.Counter("Sibyl_commit_merges")
		rebasedLocked := reg.Counter("Sibyl_commit_rebases_locked")
		dsess.RebaseWorkingRoot = func(ctx *sql.Context, head, ours, anc doltdb.RootValue, locked bool) (doltdb.RootValue, bool, error) {
			root, ok, err := Rebase(ctx, head, ours, anc)
			switch {
			case err != nil:
			case ok:
				rebased.Add(1)
				if locked {
					rebasedLocked.Add(1)
				}
			case locked:
				merged.Add(1)
			}
			return root, ok, err
		}
	})
}

// errDecline ends a rebase that must be left to the merge.
var errDecline = errors.New("left to the three-way merge")

// Rebase returns head with the changes ours made since anc applied to it,
// or ok=false when the package doc's conditions do not hold.
func Rebase(ctx context.Context, head, ours, anc doltdb.RootValue) (doltdb.RootValue, bool, error) {
	root, err := rebase(ctx, head, ours, anc)
	if errors.Is(err, errDecline) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("rebase transaction onto the working root: %w", err)
	}
	return root, true, nil
}

func rebase(ctx context.Context, head, ours, anc doltdb.RootValue) (doltdb.RootValue, error) {
	names, fks, err := sameRootShape(ctx, anc, ours, head)
	if err != nil {
		return nil, err
	}
	result := head
	for name := range names {
		ha, _, err := anc.GetTableHash(ctx, name)
		if err != nil {
			return nil, err
		}
		ho, _, err := ours.GetTableHash(ctx, name)
		if err != nil {
			return nil, err
		}
		if ho == ha {
			continue // the transaction did not touch it: head's is the result
		}
		if declared, referenced := fks.KeysForTable(name); len(declared)+len(referenced) > 0 {
			return nil, errDecline
		}
		oursTbl, _, err := ours.GetTable(ctx, name)
		if err != nil {
			return nil, err
		}
		hh, _, err := head.GetTableHash(ctx, name)
		if err != nil {
			return nil, err
		}
		if hh != ha {
			ancTbl, _, err := anc.GetTable(ctx, name)
			if err != nil {
				return nil, err
			}
			headTbl, _, err := head.GetTable(ctx, name)
			if err != nil {
				return nil, err
			}
			if oursTbl, err = rebaseTable(ctx, headTbl, oursTbl, ancTbl); err != nil {
				return nil, err
			}
		}
		if result, err = result.PutTable(ctx, name, oursTbl); err != nil {
			return nil, err
		}
	}
	return result, nil
}

// sameRootShape declines unless the three roots differ in table contents
// only, and returns their (common) table names and foreign keys.
func sameRootShape(ctx context.Context, anc, ours, head doltdb.RootValue) (map[doltdb.TableName]struct{}, *doltdb.ForeignKeyCollection, error) {
	ancNames, err := tableNames(ctx, anc)
	if err != nil {
		return nil, nil, err
	}
	ancFKs, err := anc.GetForeignKeyCollection(ctx)
	if err != nil {
		return nil, nil, err
	}
	var ancFKHash hash.Hash
	if ancFKs.Count() > 0 {
		if ancFKHash, err = ancFKs.HashOf(ctx, anc.VRW()); err != nil {
			return nil, nil, err
		}
	}
	ancVersion, _, err := anc.GetFeatureVersion(ctx)
	if err != nil {
		return nil, nil, err
	}
	ancCollation, err := anc.GetCollation(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range []doltdb.RootValue{ours, head} {
		if v, _, err := r.GetFeatureVersion(ctx); err != nil || v != ancVersion {
			return nil, nil, declineOr(err)
		}
		if c, err := r.GetCollation(ctx); err != nil || c != ancCollation {
			return nil, nil, declineOr(err)
		}
		names, err := tableNames(ctx, r)
		if err != nil || !sameNames(names, ancNames) {
			return nil, nil, declineOr(err)
		}
		fks, err := r.GetForeignKeyCollection(ctx)
		if err != nil || fks.Count() != ancFKs.Count() {
			return nil, nil, declineOr(err)
		}
		if fks.Count() > 0 {
			h, err := fks.HashOf(ctx, r.VRW())
			if err != nil || h != ancFKHash {
				return nil, nil, declineOr(err)
			}
		}
	}
	return ancNames, ancFKs, nil
}

func declineOr(err error) error {
	if err != nil {
		return err
	}
	return errDecline
}

func tableNames(ctx context.Context, r doltdb.RootValue) (map[doltdb.TableName]struct{}, error) {
	names, err := r.GetAllTableNames(ctx, true)
	if err != nil {
		return nil, err
	}
	set := make(map[doltdb.TableName]struct{}, len(names))
	for _, n := range names {
		set[n] = struct{}{}
	}
	return set, nil
}

func sameNames(a, b map[doltdb.TableName]struct{}) bool {
	if len(a) != len(b) {
		return false
	}
	for n := range a {
		if _, ok := b[n]; !ok {
			return false
		}
	}
	return true
}

// rebaseTable applies the row and index edits that took anc to ours onto
// head, all three versions of one table.
func rebaseTable(ctx context.Context, head, ours, anc *doltdb.Table) (*doltdb.Table, error) {
	sh, err := anc.GetSchemaHash(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range []*doltdb.Table{ours, head} {
		if h, err := t.GetSchemaHash(ctx); err != nil || h != sh {
			return nil, declineOr(err)
		}
	}
	sch, err := ours.GetSchema(ctx)
	if err != nil {
		return nil, err
	}
	if schema.IsKeyless(sch) {
		return nil, errDecline
	}
	for _, idx := range sch.Indexes().AllIndexes() {
		if idx.IsFullText() || idx.IsSpatial() || idx.IsVector() {
			return nil, errDecline
		}
	}
	if !sameArtifacts(ours, anc) {
		return nil, errDecline
	}

	ns := head.NodeStore()
	kd, vd := sch.GetKeyDescriptor(ns), sch.GetValueDescriptor(ns)
	rows := func(t *doltdb.Table) (prolly.Map, error) {
		idx, err := t.GetRowDataWithDescriptors(ctx, kd, vd)
		if err != nil {
			return prolly.Map{}, err
		}
		return durable.ProllyMapFromIndex(idx)
	}
	merged, err := replay(ctx, rows, head, ours, anc, 0)
	if err != nil {
		return nil, err
	}
	result, err := head.UpdateRows(ctx, durable.IndexFromProllyMap(merged))
	if err != nil {
		return nil, err
	}

	if sch.Indexes().Count() > 0 {
		sets := map[*doltdb.Table]durable.IndexSet{}
		for _, t := range []*doltdb.Table{head, ours, anc} {
			if sets[t], err = t.GetIndexSet(ctx); err != nil {
				return nil, err
			}
		}
		out := sets[head]
		for _, idx := range sch.Indexes().AllIndexes() {
			index := func(t *doltdb.Table) (prolly.Map, error) {
				i, err := sets[t].GetIndex(ctx, sch, nil, idx.Name())
				if err != nil {
					return prolly.Map{}, err
				}
				return durable.ProllyMapFromIndex(i)
			}
			uniqueCols := 0
			if idx.IsUnique() {
				uniqueCols = idx.Count()
			}
			m, err := replay(ctx, index, head, ours, anc, uniqueCols)
			if err != nil {
				return nil, err
			}
			if out, err = out.PutIndex(ctx, idx.Name(), durable.IndexFromProllyMap(m)); err != nil {
				return nil, err
			}
		}
		if result, err = result.SetIndexSet(ctx, out); err != nil {
			return nil, err
		}
	}

	ancAI, err := anc.GetAutoIncrementValue(ctx)
	if err != nil {
		return nil, err
	}
	oursAI, err := ours.GetAutoIncrementValue(ctx)
	if err != nil {
		return nil, err
	}
	headAI, err := head.GetAutoIncrementValue(ctx)
	if err != nil {
		return nil, err
	}
	if oursAI != ancAI && oursAI > headAI {
		if result, err = result.SetAutoIncrementValue(ctx, oursAI); err != nil {
			return nil, err
		}
	}
	return result, nil
}

// sameArtifacts reports whether the transaction left the table's
// conflicts and constraint violations as they were. Artifacts are content
// addressed, so equal addresses are equal artifacts (the zero address is
// none); a format without an address declines the rebase.
func sameArtifacts(ours, anc *doltdb.Table) bool {
	o, ok := ours.ArtifactsAddr()
	if !ok {
		return false
	}
	a, ok := anc.ArtifactsAddr()
	return ok && o == a
}

// replay applies the edits from anc's to ours' version of one tree (the
// primary rows or one secondary index, each read by read) to head's. It
// declines when head's entry for an edited key is not the ancestor's, and,
// for a unique index on uniqueCols columns, when an added entry's
// non-NULL values are in head's index under a row the transaction did not
// delete (a violation the merge reports). A value the transaction moved
// from one row to another is rebased: Dolt's merge reports that as a
// unique violation.
func replay(ctx context.Context, read func(*doltdb.Table) (prolly.Map, error), head, ours, anc *doltdb.Table, uniqueCols int) (prolly.Map, error) {
	a, err := read(anc)
	if err != nil {
		return prolly.Map{}, err
	}
	o, err := read(ours)
	if err != nil {
		return prolly.Map{}, err
	}
	h, err := read(head)
	if err != nil {
		return prolly.Map{}, err
	}
	if a.HashOf() == o.HashOf() {
		return h, nil
	}
	if a.HashOf() == h.HashOf() {
		return o, nil
	}
	var unique *val.TupleDesc
	if uniqueCols > 0 {
		unique = h.KeyDesc().PrefixDesc(uniqueCols)
	}
	var diffs []tree.Diff
	err = prolly.DiffMaps(ctx, a, o, false, func(_ context.Context, d tree.Diff) error {
		diffs = append(diffs, d)
		return nil
	})
	if err != nil && err != io.EOF { // DiffMaps ends with io.EOF
		return prolly.Map{}, err
	}
	// removed holds the entries the transaction deleted, which may hold a
	// unique value it gave another row.
	removed := map[string]bool{}
	for _, d := range diffs {
		if d.Type == tree.RemovedDiff {
			removed[string(d.Key)] = true
		}
	}
	edits := h.Mutate()
	for _, d := range diffs {
		key := val.Tuple(d.Key)
		found, cur := false, val.Tuple(nil)
		if err := h.Get(ctx, key, func(k, v val.Tuple) error {
			found, cur = k != nil, v
			return nil
		}); err != nil {
			return prolly.Map{}, err
		}
		if d.Type == tree.AddedDiff && found || d.Type != tree.AddedDiff && (!found || string(cur) != string(d.From)) {
			return prolly.Map{}, errDecline // someone else changed this entry: the merge decides
		}
		if d.Type == tree.RemovedDiff {
			if err := edits.Delete(ctx, key); err != nil {
				return prolly.Map{}, err
			}
			continue
		}
		if unique != nil && !unique.HasNulls(key) {
			// head satisfies the constraint, so it has at most one entry
			// with these values; it must be one the transaction deleted.
			var holder val.Tuple
			if err := h.GetPrefix(ctx, key, unique, func(k, _ val.Tuple) error {
				holder = k
				return nil
			}); err != nil {
				return prolly.Map{}, err
			}
			if holder != nil && !removed[string(holder)] {
				return prolly.Map{}, errDecline
			}
		}
		if err := edits.Put(ctx, key, val.Tuple(d.To)); err != nil {
			return prolly.Map{}, err
		}
	}
	return edits.Map(ctx)
}
