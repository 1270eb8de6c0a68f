// Package rcf scores anomalies with a Random Cut Forest (Guha, Mishra, Roy &
// Schrijvers, "Robust Random Cut Forest Based Anomaly Detection on Streams",
// ICML 2016), the algorithm behind Amazon's RANDOM_CUT_FOREST SQL function
// and SageMaker's RCF. SibylDB offers it because it is unsupervised (no
// labels needed), has essentially no tuning, and its scores are comparable
// across datasets: about 1 for ordinary points and several times that for
// anomalies.
//
// # Model
//
// Each tree is built on a random sample (without replacement) of the training
// rows. A node splits its points with a random cut: the dimension is chosen
// with probability proportional to its range in the node's bounding box, and
// the cut value uniformly within that range. Points that are far from the
// others in some dimension are therefore isolated close to the root.
//
// # Score
//
// Guha et al. define the anomaly score of x as its expected collusive
// displacement (CoDisp): how many sampled points would move in the tree if x
// were inserted. Computing that exactly requires simulating the insertion.
// Score uses the approximation of Amazon's reference implementation
// (randomcutforest-java, AnomalyScoreVisitor), which SageMaker's RCF uses:
// walk from the leaf x would reach back to the root; at each node, with box B
// at depth δ, the probability that inserting x would have placed a cut
// separating x from all of B is
//
//	p = (Σ range(B ∪ {x}) − Σ range(B)) / Σ range(B ∪ {x})
//
// and the running score becomes p·1/(δ+1) + (1−p)·score. The leaf starts the
// walk with 1/(δ+1), or, if x equals the leaf's point (x was in the sample),
// with a damped 1/(δ+log₂(mass+1)) that accounts for duplicates. An isolated
// point is separated high up (small δ, large score); a point inside the mass
// of the data is only separated near the leaves. Each tree's score is scaled
// by log₂(sample size + 1), the expected depth of a point in a random tree,
// which puts ordinary points around 1; the forest averages its trees.
//
// # Time series
//
// RCF scores each row independently, so to detect anomalies in a time series
// the caller turns each row into a shingle: the current value plus the
// previous values, LAG(value, k) OVER (ORDER BY ts) for k = 1 … s−1, so that
// an unusual pattern over a window, not just an unusual single value,
// becomes an isolated point. Context features such as the minute of the day
// (HOUR(ts)*60 + MINUTE(ts)) or DAYOFWEEK(ts) make a value that is normal at
// one time of day but not at another stand out.
//
// On the NAB NYC-taxi series (passenger counts every 30 minutes, 5 labelled
// anomaly windows) TestNYCTaxiWindows uses just two standardised features,
// the value and the minute of the day, with the default Trees = 100 and
// SampleSize = 256; for every seed tried, 3 of the 5 windows contain one of
// the 20 highest-scoring rows. A 48-value (one-day) shingle, as in SageMaker's
// NYC-taxi example, ranks the January blizzard far above everything else, so
// its top 20 rows all fall in that one event; prefer short shingles or
// context features when the goal is to surface several distinct anomalies.
//
// # Storage
//
// A Forest is plain data that round-trips through encoding/json. Trees are
// stored as flat node arrays and leaves refer to a shared pool of sampled
// points, so a row sampled by several trees is stored once. Bounding boxes
// are derived from the points when the forest is first used rather than
// stored. Call Validate after decoding a stored forest, before scoring.
package rcf

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
)

// Defaults used by Fit for zero Config fields.
const (
	DefaultTrees      = 100
	DefaultSampleSize = 256
)

// Config controls Fit. Zero fields take their defaults.
type Config struct {
	// Trees is the number of trees (default DefaultTrees). More trees give
	// smoother, less seed-dependent scores at proportional cost.
	Trees int
	// SampleSize is the number of rows each tree is built on (default
	// DefaultSampleSize). It bounds how many near-identical points can hide
	// an anomaly: an anomaly that recurs more often than about 1/SampleSize
	// of the time looks normal.
	SampleSize int
	// Seed makes the forest reproducible: the same data, Config and Seed give
	// the same forest.
	Seed int64
}

// Forest is a fitted random cut forest.
type Forest struct {
	// Dim is the number of features of every point.
	Dim int `json:"dim"`
	// Points is the pool of sampled training rows referenced by the leaves.
	Points [][]float64 `json:"points"`
	// Trees holds the trees.
	Trees []Tree `json:"trees"`

	once  sync.Once
	boxes []treeBoxes // derived per-tree bounding boxes, built by prepare
}

// Tree is one random cut tree stored as a flat node array in pre-order: the
// root is node 0 and a node's children always come after it.
type Tree struct {
	// Nodes holds the tree's nodes; see Node.
	Nodes []Node `json:"nodes"`
}

// Node is an internal node if Left > 0 and a leaf otherwise. An internal node
// sends x to Left if x[Dim] <= Cut and to Right otherwise. A leaf holds Mass
// copies of Points[Point] (duplicate sampled rows share one leaf).
type Node struct {
	// Dim is the feature an internal node cuts on.
	Dim int `json:"d,omitempty"`
	// Cut is the threshold of an internal node.
	Cut float64 `json:"c,omitempty"`
	// Left is the index of the left child of an internal node, 0 for leaves.
	Left int `json:"l,omitempty"`
	// Right is the index of the right child of an internal node.
	Right int `json:"r,omitempty"`
	// Point is the index in Forest.Points of a leaf's point.
	Point int `json:"p,omitempty"`
	// Mass is the number of sampled rows at a leaf.
	Mass int `json:"m,omitempty"`
}

func (n *Node) isLeaf() bool { return n.Left == 0 }

// treeBoxes holds the derived bounding box of every node of one tree.
type treeBoxes struct {
	minMax   []float64 // node i: min at [2·i·dim, 2·i·dim+dim), max after it
	rangeSum []float64 // node i: Σ (max − min) over dimensions
	mass     int       // number of sampled rows in the tree
	norm     float64   // log₂(mass + 1): scales a tree's score to about 1
}

// Fit builds a forest on the rows of X. Each tree is built on SampleSize rows
// drawn without replacement (all rows if there are fewer). ctx is checked
// before each tree; if it is cancelled or expires, Fit returns ctx.Err().
func Fit(ctx context.Context, X [][]float64, cfg Config) (*Forest, error) {
	dim, err := checkX(X)
	if err != nil {
		return nil, err
	}
	if cfg.Trees == 0 {
		cfg.Trees = DefaultTrees
	}
	if cfg.SampleSize == 0 {
		cfg.SampleSize = DefaultSampleSize
	}
	if cfg.Trees < 0 || cfg.SampleSize < 0 {
		return nil, fmt.Errorf("rcf: Trees (%d) and SampleSize (%d) must be positive", cfg.Trees, cfg.SampleSize)
	}
	n := len(X)
	sampleSize := min(cfg.SampleSize, n)
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x726366)) // "rcf"

	f := &Forest{Dim: dim, Trees: make([]Tree, cfg.Trees)}
	poolIndex := make([]int, n) // row → index in f.Points, or -1
	for i := range poolIndex {
		poolIndex[i] = -1
	}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	b := &builder{rng: rng, dim: dim, lo: make([]float64, dim), hi: make([]float64, dim)}
	for t := range f.Trees {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Partial Fisher–Yates: rows[:sampleSize] becomes a uniform sample
		// without replacement, whatever order earlier trees left rows in.
		for i := 0; i < sampleSize; i++ {
			j := i + rng.IntN(n-i)
			rows[i], rows[j] = rows[j], rows[i]
		}
		sample := make([]int, sampleSize)
		for i, r := range rows[:sampleSize] {
			if poolIndex[r] < 0 {
				poolIndex[r] = len(f.Points)
				f.Points = append(f.Points, append([]float64(nil), X[r]...))
			}
			sample[i] = poolIndex[r]
		}
		b.points = f.Points
		b.nodes = make([]Node, 0, 2*sampleSize-1)
		b.build(sample)
		f.Trees[t].Nodes = b.nodes
	}
	f.prepare()
	return f, nil
}

// builder grows one tree; it carries scratch space shared between nodes.
type builder struct {
	rng    *rand.Rand
	dim    int
	points [][]float64
	nodes  []Node
	lo, hi []float64
}

// build appends the subtree for the given point indices in pre-order and
// returns its root index.
func (b *builder) build(idx []int) int {
	self := len(b.nodes)
	b.nodes = append(b.nodes, Node{})

	copy(b.lo, b.points[idx[0]])
	copy(b.hi, b.points[idx[0]])
	for _, p := range idx[1:] {
		for j, v := range b.points[p] {
			b.lo[j] = min(b.lo[j], v)
			b.hi[j] = max(b.hi[j], v)
		}
	}
	var total float64
	for j := range b.lo {
		total += b.hi[j] - b.lo[j]
	}
	if total == 0 {
		// All points identical (or just one): a leaf holding all of them.
		b.nodes[self] = Node{Point: idx[0], Mass: len(idx)}
		return self
	}

	// Dimension with probability ∝ range, then a uniform cut within it.
	r := b.rng.Float64() * total
	d := 0
	for j := range b.lo {
		if w := b.hi[j] - b.lo[j]; w > 0 {
			d = j
			if r < w {
				break
			}
			r -= w
		}
	}
	cut := b.lo[d] + b.rng.Float64()*(b.hi[d]-b.lo[d])
	if cut >= b.hi[d] { // rounding; the cut must leave the max on the right
		cut = math.Nextafter(b.hi[d], math.Inf(-1))
	}

	// Partition in place: x[d] <= cut to the front.
	split := 0
	for i, p := range idx {
		if b.points[p][d] <= cut {
			idx[i], idx[split] = idx[split], idx[i]
			split++
		}
	}
	left := b.build(idx[:split])
	right := b.build(idx[split:])
	b.nodes[self] = Node{Dim: d, Cut: cut, Left: left, Right: right}
	return self
}

// prepare derives the bounding boxes the score needs. It runs once per
// forest; the forest must be valid.
func (f *Forest) prepare() {
	f.once.Do(func() {
		f.boxes = make([]treeBoxes, len(f.Trees))
		for t := range f.Trees {
			f.boxes[t] = f.deriveBoxes(f.Trees[t].Nodes)
		}
	})
}

// deriveBoxes computes every node's bounding box bottom-up. Because children
// follow their parent in the array, a reverse scan visits children first.
func (f *Forest) deriveBoxes(nodes []Node) treeBoxes {
	dim := f.Dim
	tb := treeBoxes{
		minMax:   make([]float64, 2*dim*len(nodes)),
		rangeSum: make([]float64, len(nodes)),
	}
	for i := len(nodes) - 1; i >= 0; i-- {
		n := &nodes[i]
		lo, hi := tb.minMax[2*dim*i:2*dim*i+dim], tb.minMax[2*dim*i+dim:2*dim*(i+1)]
		if n.isLeaf() {
			copy(lo, f.Points[n.Point])
			copy(hi, f.Points[n.Point])
			tb.mass += n.Mass
			continue
		}
		l, r := n.Left, n.Right
		for j := 0; j < dim; j++ {
			lo[j] = min(tb.minMax[2*dim*l+j], tb.minMax[2*dim*r+j])
			hi[j] = max(tb.minMax[2*dim*l+dim+j], tb.minMax[2*dim*r+dim+j])
			tb.rangeSum[i] += hi[j] - lo[j]
		}
	}
	tb.norm = math.Log2(float64(tb.mass) + 1)
	return tb
}

// Score returns the anomaly score of x: the forest average of the
// approximate collusive displacement described in the package comment.
// Ordinary points score around 1 and anomalies several times higher; the
// scale does not depend on the data's units.
//
// x must have Dim elements (Score panics otherwise, like an out-of-range
// index); a NaN or infinite feature yields NaN. Score does not allocate and is
// safe for concurrent use; the first call on a decoded forest derives its
// bounding boxes, so call Validate first.
func (f *Forest) Score(x []float64) float64 {
	x = x[:f.Dim]
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.NaN()
		}
	}
	f.prepare()
	var sum float64
	for t := range f.Trees {
		tb := &f.boxes[t]
		s, _ := f.visit(f.Trees[t].Nodes, tb, 0, 0, x)
		sum += s * tb.norm
	}
	return sum / float64(len(f.Trees))
}

// visit returns the unnormalised score of x for the subtree rooted at node i
// (at the given depth), and whether x lies inside that subtree's bounding box,
// in which case no ancestor can separate it either and the score is final.
func (f *Forest) visit(nodes []Node, tb *treeBoxes, i, depth int, x []float64) (score float64, inside bool) {
	n := &nodes[i]
	if n.isLeaf() {
		if equal(f.Points[n.Point], x) {
			// x was sampled: damp by the share of the tree it makes up, and
			// treat duplicates as if they were a subtree of size mass.
			damp := 1 - float64(n.Mass)/(2*float64(tb.mass))
			return damp / (float64(depth) + math.Log2(float64(n.Mass)+1)), true
		}
		return 1 / float64(depth+1), false
	}
	child := n.Right
	if x[n.Dim] <= n.Cut {
		child = n.Left
	}
	score, inside = f.visit(nodes, tb, child, depth+1, x)
	if inside {
		return score, true
	}
	// Probability that a random cut of box ∪ {x} separates x from the box.
	lo := tb.minMax[2*f.Dim*i : 2*f.Dim*i+f.Dim]
	hi := tb.minMax[2*f.Dim*i+f.Dim : 2*f.Dim*(i+1)]
	var ext float64
	for j, v := range x {
		if v < lo[j] {
			ext += lo[j] - v
		} else if v > hi[j] {
			ext += v - hi[j]
		}
	}
	if ext == 0 {
		return score, true
	}
	p := ext / (tb.rangeSum[i] + ext)
	return p/float64(depth+1) + (1-p)*score, false
}

func equal(a, b []float64) bool {
	b = b[:len(a)]
	for i, v := range a {
		if v != b[i] {
			return false
		}
	}
	return true
}

// NumFeatures reports the length of the feature vector Score expects.
func (f *Forest) NumFeatures() int { return f.Dim }

// Validate reports whether a (typically freshly decoded) forest is
// consistent: every point has Dim finite features, and every tree is a proper
// tree (children after their parent, each node reached exactly once, cut
// dimensions in range, leaves pointing at existing points with positive
// mass). Score relies on these properties.
func (f *Forest) Validate() error {
	if f == nil {
		return errors.New("rcf: nil forest")
	}
	if f.Dim <= 0 {
		return fmt.Errorf("rcf: dimension must be positive, got %d", f.Dim)
	}
	if len(f.Trees) == 0 {
		return errors.New("rcf: forest has no trees")
	}
	for i, p := range f.Points {
		if len(p) != f.Dim {
			return fmt.Errorf("rcf: point %d has %d features, want %d", i, len(p), f.Dim)
		}
		for j, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("rcf: point %d feature %d is not finite (%v)", i, j, v)
			}
		}
	}
	for t, tree := range f.Trees {
		if err := f.validateTree(tree.Nodes); err != nil {
			return fmt.Errorf("rcf: tree %d: %w", t, err)
		}
	}
	return nil
}

func (f *Forest) validateTree(nodes []Node) error {
	if len(nodes) == 0 {
		return errors.New("no nodes")
	}
	parents := make([]int, len(nodes))
	for i := range nodes {
		n := &nodes[i]
		if n.isLeaf() {
			if n.Point < 0 || n.Point >= len(f.Points) {
				return fmt.Errorf("leaf %d refers to point %d of %d", i, n.Point, len(f.Points))
			}
			if n.Mass <= 0 {
				return fmt.Errorf("leaf %d has mass %d", i, n.Mass)
			}
			continue
		}
		if n.Dim < 0 || n.Dim >= f.Dim {
			return fmt.Errorf("node %d cuts dimension %d of %d", i, n.Dim, f.Dim)
		}
		if math.IsNaN(n.Cut) || math.IsInf(n.Cut, 0) {
			return fmt.Errorf("node %d has cut %v", i, n.Cut)
		}
		for _, c := range []int{n.Left, n.Right} {
			if c <= i || c >= len(nodes) {
				return fmt.Errorf("node %d has child %d (must be in (%d, %d))", i, c, i, len(nodes))
			}
			parents[c]++
		}
	}
	for i := 1; i < len(nodes); i++ {
		if parents[i] != 1 {
			return fmt.Errorf("node %d is reached from %d parents, want 1", i, parents[i])
		}
	}
	return nil
}

// checkX validates a feature matrix and returns its number of columns.
func checkX(X [][]float64) (int, error) {
	d, err := dense.Check(X)
	if err != nil {
		return 0, fmt.Errorf("rcf: %w", err)
	}
	return d, nil
}
