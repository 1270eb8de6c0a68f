package mlfunc

import (
	"fmt"
	"strings"
	"time"
)

// Circuit states, as the web console shows them.
const (
	CircuitClosed   = "closed"
	CircuitOpen     = "open"
	CircuitHalfOpen = "half-open"
	// CircuitUnused is an endpoint no statement has called since the
	// server started (it has no client yet).
	CircuitUnused = "not called yet"
)

// CircuitState is the state of a named endpoint's circuit breaker: open
// while it fails fast (with the time left), half-open while it lets a probe
// through after the cool-down, closed otherwise.
func (m *Manager) CircuitState(endpoint string) string {
	m.mu.RLock()
	t, ok := m.targets[strings.ToLower(endpoint)]
	m.mu.RUnlock()
	if !ok {
		return CircuitUnused
	}
	return t.breaker.state(time.Now())
}

func (b *breaker) state(now time.Time) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case now.Before(b.openUntil):
		return fmt.Sprintf("%s (%s left)", CircuitOpen, b.openUntil.Sub(now).Round(time.Second))
	case !b.openUntil.IsZero() && b.failures >= breakerThreshold-1:
		return CircuitHalfOpen
	}
	return CircuitClosed
}
