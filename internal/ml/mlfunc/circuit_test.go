package mlfunc

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/remote"
)

func TestBreakerState(t *testing.T) {
	unwell := &remote.Error{Endpoint: "e", Status: 503}
	now := time.Now()
	for _, tc := range []struct {
		name  string
		calls []error
		at    time.Time
		want  string
	}{
		{"no calls", nil, now, CircuitClosed},
		{"a few failures", []error{unwell, unwell, unwell}, now, CircuitClosed},
		{"threshold reached", []error{unwell, unwell, unwell, unwell, unwell}, now, "open (10s left)"},
		{"after the cool-down", []error{unwell, unwell, unwell, unwell, unwell}, now.Add(breakerCooldown + time.Second), CircuitHalfOpen},
		{"a success closes it", []error{unwell, unwell, unwell, unwell, unwell, nil}, now.Add(breakerCooldown + time.Second), CircuitClosed},
		{"bad requests do not count", []error{&remote.Error{Status: 400}, &remote.Error{Status: 400}, &remote.Error{Status: 400}, &remote.Error{Status: 400}, &remote.Error{Status: 400}}, now, CircuitClosed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b breaker
			for _, err := range tc.calls {
				b.record(context.Background(), err)
			}
			at := tc.at
			if tc.want == "open (10s left)" {
				at = b.openUntil.Add(-breakerCooldown)
			}
			require.Equal(t, tc.want, b.state(at))
		})
	}
}
