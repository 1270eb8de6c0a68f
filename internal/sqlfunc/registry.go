// Package sqlfunc lets SibylDB packages add SQL functions to a running
// server and drop them again.
//
// GMS's Catalog.RegisterFunction is meant for start-up only (its map is not
// locked and it panics on duplicates). A Registry is consulted on every query
// instead, through GMS's external function provider hook, so CREATE FUNCTION
// and DROP FUNCTION take effect immediately in every session.
package sqlfunc

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
)

// ErrShadowsBuiltin is returned when a new function would hide a built-in.
var ErrShadowsBuiltin = errors.New("shadows a built-in function")

// ErrExists is returned when a function with the name is already registered.
var ErrExists = errors.New("function already exists")

// BuiltinLookup reports whether name is a function the engine already has.
type BuiltinLookup func(ctx *sql.Context, name string) bool

// Registry is a concurrency-safe set of run-time functions. It implements
// sql.FunctionProvider. A function belongs to one database, as MySQL stored
// functions do, and is found when that database is current; a function
// registered with an empty database is found everywhere.
type Registry struct {
	builtin BuiltinLookup

	mu  sync.RWMutex
	fns map[string]sql.Function // keyed by lower-case "db.name"
	// scoped are functions one session's current statement declared
	// (Athena's USING EXTERNAL FUNCTION), by session and lower-case name;
	// they hide the others for that statement only.
	scoped map[uint32]map[string]sql.Function
}

func fnKey(db, name string) string { return strings.ToLower(db + "." + name) }

var _ sql.FunctionProvider = (*Registry)(nil)

// NewRegistry returns an empty registry that refuses names builtin knows.
func NewRegistry(builtin BuiltinLookup) *Registry {
	return &Registry{builtin: builtin, fns: map[string]sql.Function{}}
}

// Function implements sql.FunctionProvider.
func (r *Registry) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if ctx != nil && ctx.Session != nil {
		if fn, ok := r.scoped[ctx.Session.ID()][strings.ToLower(name)]; ok {
			return fn, true
		}
		if fn, ok := r.fns[fnKey(ctx.GetCurrentDatabase(), name)]; ok {
			return fn, true
		}
	}
	fn, ok := r.fns[fnKey("", name)]
	return fn, ok
}

// Register adds fn to database db ("" for every database). It fails if the
// name is taken by a built-in or by an earlier registration.
func (r *Registry) Register(ctx *sql.Context, db string, fn sql.Function) error {
	name := strings.ToLower(fn.FunctionName())
	if r.builtin != nil && r.builtin(ctx, name) {
		return fmt.Errorf("function %s: %w", name, ErrShadowsBuiltin)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := fnKey(db, name)
	if _, ok := r.fns[k]; ok {
		return fmt.Errorf("function %s: %w", name, ErrExists)
	}
	r.fns[k] = fn
	return nil
}

// Drop removes db's function and reports whether it was registered.
func (r *Registry) Drop(db, name string) bool {
	k := fnKey(db, name)
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.fns[k]
	delete(r.fns, k)
	return ok
}

// SetScoped makes fns visible to the session's current statement only,
// replacing what an earlier statement declared. Names of built-ins are
// refused, as for Register.
func (r *Registry) SetScoped(ctx *sql.Context, fns []sql.Function) error {
	m := make(map[string]sql.Function, len(fns))
	for _, fn := range fns {
		name := strings.ToLower(fn.FunctionName())
		if r.builtin != nil && r.builtin(ctx, name) {
			return fmt.Errorf("function %s: %w", name, ErrShadowsBuiltin)
		}
		if _, ok := m[name]; ok {
			return fmt.Errorf("function %s: %w", name, ErrExists)
		}
		m[name] = fn
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scoped == nil {
		r.scoped = map[uint32]map[string]sql.Function{}
	}
	r.scoped[ctx.Session.ID()] = m
	return nil
}

// ClearScoped drops what the session's statement declared; the server
// calls it when a statement ends.
func (r *Registry) ClearScoped(sessionID uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.scoped, sessionID)
}
