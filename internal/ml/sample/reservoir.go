// Package sample draws uniform samples of streams whose length is not
// known in advance (training data, explainer background rows).
package sample

import "math/rand"

// Reservoir places the items of a stream in a uniform sample of at most n
// items (Vitter's Algorithm R): the first n items are kept in order, then
// item i (1-based) replaces a random kept item with probability n/i. The
// seed makes the sample of a given stream reproducible.
type Reservoir struct {
	n, seen, kept int
	rng           *rand.Rand
}

// NewReservoir returns a reservoir of n items (at least 1).
func NewReservoir(n int, seed int64) *Reservoir {
	return &Reservoir{n: max(n, 1), rng: rand.New(rand.NewSource(seed))}
}

// Next is told of the stream's next item and says where it goes: slot is
// its index in the sample, equal to the sample's current size when the item
// is appended; keep is false when the item is not sampled.
func (r *Reservoir) Next() (slot int, keep bool) {
	r.seen++
	if r.kept < r.n {
		r.kept++
		return r.kept - 1, true
	}
	if slot = r.rng.Intn(r.seen); slot < r.n {
		return slot, true
	}
	return 0, false
}
