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
// sql.FunctionProvider.
type Registry struct {
	builtin BuiltinLookup

	mu  sync.RWMutex
	fns map[string]sql.Function // keyed by lower-case name
}

var _ sql.FunctionProvider = (*Registry)(nil)

// NewRegistry returns an empty registry that refuses names builtin knows.
func NewRegistry(builtin BuiltinLookup) *Registry {
	return &Registry{builtin: builtin, fns: map[string]sql.Function{}}
}

// Function implements sql.FunctionProvider.
func (r *Registry) Function(_ *sql.Context, name string) (sql.Function, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	fn, ok := r.fns[strings.ToLower(name)]
	return fn, ok
}

// Register adds fn. It fails if the name is taken by a built-in or by an
// earlier registration.
func (r *Registry) Register(ctx *sql.Context, fn sql.Function) error {
	name := strings.ToLower(fn.FunctionName())
	if r.builtin != nil && r.builtin(ctx, name) {
		return fmt.Errorf("function %s: %w", name, ErrShadowsBuiltin)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.fns[name]; ok {
		return fmt.Errorf("function %s: %w", name, ErrExists)
	}
	r.fns[name] = fn
	return nil
}

// Drop removes the function and reports whether it was registered.
func (r *Registry) Drop(name string) bool {
	name = strings.ToLower(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.fns[name]
	delete(r.fns, name)
	return ok
}
