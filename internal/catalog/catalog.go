// Package catalog persists SibylDB's own objects (endpoints, ML functions,
// models, ...) in the `sibyl` system database.
//
// Objects live in an ordinary Dolt table, written through the caller's
// session. A statement such as CREATE FUNCTION therefore changes the catalog
// in its own transaction: the object appears at commit, vanishes on
// rollback, survives restarts, and is backed up and cloned with the data.
package catalog

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	gms "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// Database is the system database SibylDB keeps its own tables in.
const Database = "sibyl"

const objectsTable = "catalog_objects"

// Object is one persisted catalog entry. Definition is owned by the package
// that stores the object (typically JSON).
type Object struct {
	Kind       string
	Name       string
	Definition string
	UpdatedAt  time.Time
}

// Store reads and writes catalog objects.
type Store struct {
	engine *gms.Engine
}

// NewStore returns a store to be bound to an engine with Open. It exists
// before the engine so that packages holding it can be built first.
func NewStore() *Store { return &Store{} }

// Open binds the store to engine and creates the system database and
// catalog table when missing.
func (s *Store) Open(ctx *sql.Context, engine *gms.Engine) error {
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS " + Database,
		"CREATE TABLE IF NOT EXISTS " + Database + "." + objectsTable + ` (
			kind VARCHAR(64) NOT NULL,
			name VARCHAR(255) NOT NULL,
			definition LONGTEXT NOT NULL,
			updated_at DATETIME(6) NOT NULL,
			PRIMARY KEY (kind, name)
		)`,
	} {
		if err := Exec(ctx, engine, q); err != nil {
			return fmt.Errorf("catalog bootstrap %q: %w", q, err)
		}
	}
	s.engine = engine
	return nil
}

// Exec runs one statement in ctx's session and drains its result.
func Exec(ctx *sql.Context, engine *gms.Engine, q string) error {
	_, iter, _, err := engine.Query(ctx, q)
	if err != nil {
		return err
	}
	_, err = sql.RowIterToRows(ctx, iter)
	return err
}

// QueryInt runs a query returning one integer in ctx's session; ok is
// false when it returns no row or NULL.
func QueryInt(ctx *sql.Context, engine *gms.Engine, q string) (n int64, ok bool, err error) {
	_, iter, _, err := engine.Query(ctx, q)
	if err != nil {
		return 0, false, err
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil || len(rows) == 0 || len(rows[0]) == 0 || rows[0][0] == nil {
		return 0, false, err
	}
	v, _, err := types.Int64.Convert(ctx, rows[0][0])
	if err != nil {
		return 0, false, err
	}
	return v.(int64), true, nil
}

// InsertRows adds rows to a table of the system database in ctx's
// transaction. Like the catalog itself it bypasses user privileges: it is
// for the server's own tables.
func InsertRows(ctx *sql.Context, engine *gms.Engine, table string, rows []sql.Row) error {
	tbl, err := systemTable(ctx, engine, table)
	if err != nil {
		return err
	}
	ins, ok := tbl.(sql.InsertableTable)
	if !ok {
		return fmt.Errorf("%s.%s is not insertable", Database, table)
	}
	ed := ins.Inserter(ctx)
	return edit(ctx, ed, func() error {
		for _, r := range rows {
			if err := ed.Insert(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func systemTable(ctx *sql.Context, engine *gms.Engine, name string) (sql.Table, error) {
	// The server's own tables are reached through the storage provider,
	// not the privilege-checking catalog, so a user allowed to create a
	// function need not be allowed to read the sibyl database.
	db, err := engine.Analyzer.Catalog.DbProvider.Database(ctx, Database)
	if err != nil {
		return nil, fmt.Errorf("system database: %w", err)
	}
	tbl, ok, err := db.GetTableInsensitive(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("system table %s: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("system table %s.%s is missing", Database, name)
	}
	return tbl, nil
}

// ErrNoTransaction is returned for a write made outside a transaction: it
// would be silently discarded. Statements always run in one.
var ErrNoTransaction = errors.New("catalog write outside a transaction")

// Put creates or replaces obj in the transaction of ctx.
func (s *Store) Put(ctx *sql.Context, obj Object) error {
	if ctx.GetTransaction() == nil {
		return ErrNoTransaction
	}
	tbl, err := s.table(ctx)
	if err != nil {
		return err
	}
	if obj.UpdatedAt.IsZero() {
		obj.UpdatedAt = time.Now().UTC()
	}
	row := sql.NewRow(obj.Kind, key(obj.Name), obj.Definition, obj.UpdatedAt)
	old, found, err := s.find(ctx, tbl, obj.Kind, obj.Name)
	if err != nil {
		return err
	}
	if found {
		up, ok := tbl.(sql.UpdatableTable)
		if !ok {
			return fmt.Errorf("catalog table is not updatable")
		}
		ed := up.Updater(ctx)
		return edit(ctx, ed, func() error { return ed.Update(ctx, old, row) })
	}
	ins, ok := tbl.(sql.InsertableTable)
	if !ok {
		return fmt.Errorf("catalog table is not insertable")
	}
	ed := ins.Inserter(ctx)
	return edit(ctx, ed, func() error { return ed.Insert(ctx, row) })
}

// Get returns the object of that kind and name.
func (s *Store) Get(ctx *sql.Context, kind, name string) (Object, bool, error) {
	tbl, err := s.table(ctx)
	if err != nil {
		return Object{}, false, err
	}
	row, found, err := s.find(ctx, tbl, kind, name)
	if err != nil || !found {
		return Object{}, found, err
	}
	return toObject(row), true, nil
}

// Delete removes the object, in the transaction of ctx, and reports whether
// it existed.
func (s *Store) Delete(ctx *sql.Context, kind, name string) (bool, error) {
	if ctx.GetTransaction() == nil {
		return false, ErrNoTransaction
	}
	tbl, err := s.table(ctx)
	if err != nil {
		return false, err
	}
	row, found, err := s.find(ctx, tbl, kind, name)
	if err != nil || !found {
		return false, err
	}
	del, ok := tbl.(sql.DeletableTable)
	if !ok {
		return false, fmt.Errorf("catalog table is not deletable")
	}
	ed := del.Deleter(ctx)
	return true, edit(ctx, ed, func() error { return ed.Delete(ctx, row) })
}

// List returns every object of kind, ordered by name.
func (s *Store) List(ctx *sql.Context, kind string) ([]Object, error) {
	tbl, err := s.table(ctx)
	if err != nil {
		return nil, err
	}
	var out []Object
	err = scan(ctx, tbl, func(r sql.Row) bool {
		if r[0].(string) == kind {
			out = append(out, toObject(r))
		}
		return true
	})
	return out, err
}

func (s *Store) table(ctx *sql.Context) (sql.Table, error) {
	return systemTable(ctx, s.engine, objectsTable)
}

// find scans for the row. The catalog holds at most thousands of rows and
// callers cache what they read, so a scan keeps this simple.
func (s *Store) find(ctx *sql.Context, tbl sql.Table, kind, name string) (sql.Row, bool, error) {
	var found sql.Row
	name = key(name)
	err := scan(ctx, tbl, func(r sql.Row) bool {
		if r[0].(string) == kind && r[1].(string) == name {
			found = r
			return false
		}
		return true
	})
	return found, found != nil, err
}

func scan(ctx *sql.Context, tbl sql.Table, fn func(sql.Row) bool) error {
	parts, err := tbl.Partitions(ctx)
	if err != nil {
		return err
	}
	iter := sql.NewTableRowIter(ctx, tbl, parts)
	defer iter.Close(ctx)
	for {
		r, err := iter.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		// Dolt hands out large text lazily; materialise it.
		for i, v := range r {
			if r[i], err = sql.UnwrapAny(ctx, v); err != nil {
				return err
			}
		}
		if !fn(r) {
			return nil
		}
	}
}

type editor interface {
	sql.EditOpenerCloser
	sql.Closer
}

// edit runs one change with the statement protocol GMS's own DML uses, so
// a failed change is discarded rather than half-applied.
func edit(ctx *sql.Context, ed editor, change func() error) error {
	ed.StatementBegin(ctx)
	if err := change(); err != nil {
		_ = ed.DiscardChanges(ctx, err)
		_ = ed.Close(ctx)
		return err
	}
	if err := ed.StatementComplete(ctx); err != nil {
		_ = ed.Close(ctx)
		return err
	}
	return ed.Close(ctx)
}

// key normalises names: MySQL function and object names are
// case-insensitive.
func key(name string) string { return strings.ToLower(name) }

func toObject(r sql.Row) Object {
	o := Object{Kind: r[0].(string), Name: r[1].(string), Definition: r[2].(string)}
	if t, ok := r[3].(time.Time); ok {
		o.UpdatedAt = t
	}
	return o
}

// PutCommitted stores obj in a transaction of its own in ctx's session,
// for writers that run after their statement ended (a training job
// recording its result). A commit that conflicts with a concurrent catalog
// write is retried.
func (s *Store) PutCommitted(ctx *sql.Context, obj Object) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = Exec(ctx, s.engine, "START TRANSACTION"); err != nil {
			return err
		}
		if err = s.Put(ctx, obj); err == nil {
			if err = Exec(ctx, s.engine, "COMMIT"); err == nil {
				return nil
			}
		}
		_ = Exec(ctx, s.engine, "ROLLBACK")
		time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
	}
	return err
}

// DeleteCommitted removes an object in a transaction of its own in ctx's
// session, for clean-up that runs after its statement ended.
func (s *Store) DeleteCommitted(ctx *sql.Context, kind, name string) error {
	if err := Exec(ctx, s.engine, "START TRANSACTION"); err != nil {
		return err
	}
	if _, err := s.Delete(ctx, kind, name); err != nil {
		_ = Exec(ctx, s.engine, "ROLLBACK")
		return err
	}
	return Exec(ctx, s.engine, "COMMIT")
}
