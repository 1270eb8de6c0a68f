// Package status publishes SibylDB's own counters in SHOW [GLOBAL] STATUS.
//
// GMS keeps status variables in the package-global sql.StatusVariables and
// offers no way to add to it, so this package decorates that registry: the
// engine's own variables are served as before and SibylDB's counters are
// merged in. Counters are global-scope, like Aurora's Aurora_ml_* figures,
// and FLUSH STATUS resets them.
package status

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/go-mysql-server/sql/variables"
)

// Counter is one monotonically increasing global status variable. It is safe
// for concurrent use; Add is a single atomic operation so hot paths may call
// it per row.
type Counter struct {
	v   atomic.Uint64
	def *sql.MySQLStatusVariable
}

// Add increases the counter by n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Value returns the current count.
func (c *Counter) Value() uint64 { return c.v.Load() }

// Name returns the status variable name as SHOW STATUS prints it.
func (c *Counter) Name() string { return c.def.Name }

// Registry serves GMS's status variables plus SibylDB's counters.
type Registry struct {
	base sql.StatusVariableRegistry

	mu       sync.RWMutex
	counters map[string]*Counter // keyed by lower-case name

	// lookups is a read-only copy of counters, also keyed by each
	// counter's name as registered, replaced when a counter is added.
	// GMS increments status variables several times per statement
	// (Questions, Com_select, Threads_running, ...) by their mixed-case
	// names; reading a snapshot needs neither the lock, whose shared
	// cache line every statement on every core would write, nor a
	// lower-cased copy of the name.
	lookups atomic.Pointer[map[string]*Counter]

	// started is when the registry was installed, at the server's start,
	// and flushed when FLUSH STATUS last ran (or started): MySQL's Uptime
	// and Uptime_since_flush_status count from them (GMS keeps both at 0).
	started time.Time
	flushed atomic.Int64 // UnixNano
}

// clock returns the value the registry computes for the GMS status
// variable name, if it is one of MySQL's clocks.
func (r *Registry) clock(name string) (uint64, bool) {
	since := func(t time.Time) uint64 { return uint64(time.Since(t) / time.Second) }
	switch strings.ToLower(name) {
	case "uptime":
		return since(r.started), true
	case "uptime_since_flush_status":
		if ns := r.flushed.Load(); ns != 0 {
			return since(time.Unix(0, ns)), true
		}
		return since(r.started), true
	}
	return 0, false
}

var (
	installOnce sync.Once
	global      *Registry
)

// Global returns the process-wide registry, installing it as
// sql.StatusVariables on first use. The registry is process-wide because
// GMS's is: every engine in the process reads sql.StatusVariables.
func Global() *Registry {
	installOnce.Do(func() {
		if sql.StatusVariables == nil {
			variables.InitStatusVariables()
		}
		global = &Registry{base: sql.StatusVariables, counters: map[string]*Counter{}, started: time.Now()}
		sql.StatusVariables = global
	})
	return global
}

// Counter returns the counter with the given name, creating it at zero on
// first use. Packages call it once at start-up and keep the pointer.
func (r *Registry) Counter(name string) *Counter {
	key := strings.ToLower(name)
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.counters[key]; ok {
		return c
	}
	c := &Counter{def: &sql.MySQLStatusVariable{
		Name:    name,
		Scope:   sql.StatusVariableScope_Global,
		Type:    types.NewSystemIntType(name, 0, 0, false),
		Default: uint64(0),
	}}
	r.counters[key] = c
	snap := make(map[string]*Counter, 2*len(r.counters))
	for k, c := range r.counters {
		snap[k] = c
		snap[c.Name()] = c
	}
	r.lookups.Store(&snap)
	return c
}

// Names lists the registered counter names in sorted order.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.counters))
	for _, c := range r.counters {
		names = append(names, c.Name())
	}
	sort.Strings(names)
	return names
}

// Each calls fn with every SibylDB counter's name and current value, in no
// particular order. It reads the live counters, so exporters (package
// metrics) publish the same figures SHOW STATUS shows without keeping
// copies; fn must not register counters.
func (r *Registry) Each(fn func(name string, value uint64)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, c := range r.counters {
		fn(c.Name(), c.Value())
	}
}

// Flush resets every SibylDB counter to zero, as FLUSH STATUS does in MySQL.
func (r *Registry) Flush() {
	r.flushed.Store(time.Now().UnixNano())
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, c := range r.counters {
		c.v.Store(0)
	}
}

func (r *Registry) lookup(name string) (*Counter, bool) {
	snap := r.lookups.Load()
	if snap == nil {
		return nil, false
	}
	if c, ok := (*snap)[name]; ok {
		return c, true
	}
	// Lower-case into a stack buffer: a map index by string(bytes) does
	// not copy, and most names asked for are GMS's own, which miss.
	var buf [64]byte
	if len(name) > len(buf) {
		c, ok := (*snap)[strings.ToLower(name)]
		return c, ok
	}
	b := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		ch := name[i]
		if ch >= 0x80 {
			c, ok := (*snap)[strings.ToLower(name)]
			return c, ok
		}
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b[i] = ch
	}
	c, ok := (*snap)[string(b)]
	return c, ok
}

// NewSessionMap implements sql.StatusVariableRegistry. SibylDB counters are
// global-only, so sessions get the engine's variables alone.
func (r *Registry) NewSessionMap() map[string]sql.StatusVarValue {
	return r.base.NewSessionMap()
}

// NewGlobalMap implements sql.StatusVariableRegistry.
func (r *Registry) NewGlobalMap() map[string]sql.StatusVarValue {
	m := r.base.NewGlobalMap()
	for name, v := range m {
		if secs, ok := r.clock(name); ok {
			m[name] = &sql.ImmutableStatusVarValue{Var: v.Variable(), Val: secs}
		}
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, c := range r.counters {
		m[c.Name()] = &sql.ImmutableStatusVarValue{Var: c.def, Val: c.Value()}
	}
	return m
}

// GetGlobal implements sql.StatusVariableRegistry.
func (r *Registry) GetGlobal(name string) (sql.StatusVariable, interface{}, bool) {
	if c, ok := r.lookup(name); ok {
		return c.def, c.Value(), true
	}
	def, v, ok := r.base.GetGlobal(name)
	if secs, isClock := r.clock(name); ok && isClock {
		v = secs
	}
	return def, v, ok
}

// SetGlobal implements sql.StatusVariableRegistry.
func (r *Registry) SetGlobal(name string, val interface{}) error {
	if c, ok := r.lookup(name); ok {
		v, _, err := types.Uint64.Convert(nil, val)
		if err != nil {
			return err
		}
		c.v.Store(v.(uint64))
		return nil
	}
	return r.base.SetGlobal(name, val)
}

// IncrementGlobal implements sql.StatusVariableRegistry.
func (r *Registry) IncrementGlobal(name string, val int) {
	if c, ok := r.lookup(name); ok {
		if val > 0 {
			c.Add(uint64(val))
		}
		return
	}
	r.base.IncrementGlobal(name, val)
}
