package gbtree

import (
	"errors"
	"fmt"
	"math"
)

// ErrNoCover reports a model whose document lacks the node covers
// (sum_hessian) TreeSHAP needs, such as one written by hand.
var ErrNoCover = errors.New("gbtree: model has no node covers (sum_hessian); SHAP values need them")

// CanExplain reports whether Contributions can explain the model.
func (m *Model) CanExplain() bool { return m.cover != nil }

// pathElem is one feature on the path of TreeSHAP (Lundberg et al. 2018,
// "Consistent Individualized Feature Attribution for Tree Ensembles",
// Algorithm 2), as XGBoost's own TreeShap names its fields.
type pathElem struct {
	feature int
	zero    float64 // fraction of the cover flowing this way
	one     float64 // 1 if x goes this way, else 0
	weight  float64 // permutation weight
}

// Contributions writes the exact SHAP values of x in margin space, as
// XGBoost's pred_contribs computes them: out[g*(NumFeatures()+1)+f] is the
// contribution of feature f to output g, and out[g*(NumFeatures()+1)+
// NumFeatures()] is output g's expected margin (the bias), so that each
// output's values sum to its margin. out must hold NumOutputs()*
// (NumFeatures()+1) values. Missing features follow the trees' default
// directions, as in prediction.
func (m *Model) Contributions(x []float64, out []float64) error {
	stride := m.numFeature + 1
	if len(out) < m.numOutput*stride {
		return fmt.Errorf("gbtree: contributions need %d entries, got %d", m.numOutput*stride, len(out))
	}
	if m.cover == nil {
		return ErrNoCover
	}
	out = out[:m.numOutput*stride]
	for i := range out {
		out[i] = 0
	}
	for g := 0; g < m.numOutput; g++ {
		out[g*stride+m.numFeature] = float64(m.baseMargin)
	}
	var path []pathElem
	for _, t := range m.trees {
		phi := out[int(t.group)*stride : int(t.group+1)*stride]
		scale := 1.0
		if m.weighted {
			scale = float64(t.weight)
		}
		depth := m.depth(t.root)
		need := (depth + 2) * (depth + 3) / 2
		if cap(path) < need {
			path = make([]pathElem, need)
		}
		path = path[:need]
		m.shapRecurse(x, phi, scale, t.root, path, 0, 1, 1, -1)
		phi[m.numFeature] += scale * m.meanValue(t.root)
	}
	return nil
}

// depth is the depth of the tree below node i.
func (m *Model) depth(i int32) int {
	n := &m.nodes[i]
	if n.left == 0 {
		return 0
	}
	return 1 + max(m.depth(n.left), m.depth(n.left+1))
}

// meanValue is the cover-weighted mean leaf value below node i: the
// tree's expected output over the training data.
func (m *Model) meanValue(i int32) float64 {
	n := &m.nodes[i]
	if n.left == 0 {
		return float64(n.value)
	}
	l, r := n.left, n.left+1
	cl, cr := float64(m.cover[l]), float64(m.cover[r])
	if cl+cr == 0 {
		return (m.meanValue(l) + m.meanValue(r)) / 2
	}
	return (cl*m.meanValue(l) + cr*m.meanValue(r)) / (cl + cr)
}

// hot is the child x goes to at node n, as leaf() decides.
func (m *Model) hot(n *node, x []float64) (hot, cold int32) {
	f := int(n.split &^ defaultLeftBit)
	var v float32
	if f < len(x) && !math.IsNaN(x[f]) {
		v = float32(x[f])
	} else if n.split&defaultLeftBit != 0 {
		v = float32(math.Inf(-1))
	} else {
		v = float32(math.Inf(1))
	}
	if v < n.value {
		return n.left, n.left + 1
	}
	return n.left + 1, n.left
}

// shapRecurse is TreeSHAP's RECURSE. parent is the parent's path (depth+1
// entries used); the node's own path is written just after it.
func (m *Model) shapRecurse(x, phi []float64, scale float64, i int32, parent []pathElem, depth int, zero, one float64, feature int) {
	path := parent[depth+1:]
	copy(path, parent[:depth+1])
	extendPath(path, depth, zero, one, feature)
	n := &m.nodes[i]
	if n.left == 0 {
		for k := 1; k <= depth; k++ {
			w := unwoundPathSum(path, depth, k)
			e := path[k]
			phi[e.feature] += w * (e.one - e.zero) * float64(n.value) * scale
		}
		return
	}
	split := int(n.split &^ defaultLeftBit)
	hot, cold := m.hot(n, x)
	w := float64(m.cover[i])
	hotZero, coldZero := 0.5, 0.5
	if w > 0 {
		hotZero, coldZero = float64(m.cover[hot])/w, float64(m.cover[cold])/w
	}
	inZero, inOne := 1.0, 1.0
	k := 0
	for ; k <= depth; k++ {
		if path[k].feature == split {
			break
		}
	}
	if k != depth+1 {
		inZero, inOne = path[k].zero, path[k].one
		unwindPath(path, depth, k)
		depth--
	}
	m.shapRecurse(x, phi, scale, hot, path, depth+1, hotZero*inZero, inOne, split)
	m.shapRecurse(x, phi, scale, cold, path, depth+1, coldZero*inZero, 0, split)
}

func extendPath(path []pathElem, depth int, zero, one float64, feature int) {
	path[depth] = pathElem{feature: feature, zero: zero, one: one}
	if depth == 0 {
		path[depth].weight = 1
	}
	d := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		path[i+1].weight += one * path[i].weight * float64(i+1) / d
		path[i].weight = zero * path[i].weight * float64(depth-i) / d
	}
}

func unwindPath(path []pathElem, depth, k int) {
	one, zero := path[k].one, path[k].zero
	next := path[depth].weight
	d := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		if one != 0 {
			tmp := path[i].weight
			path[i].weight = next * d / (float64(i+1) * one)
			next = tmp - path[i].weight*zero*float64(depth-i)/d
		} else {
			path[i].weight = path[i].weight * d / (zero * float64(depth-i))
		}
	}
	for i := k; i < depth; i++ {
		path[i].feature, path[i].zero, path[i].one = path[i+1].feature, path[i+1].zero, path[i+1].one
	}
}

func unwoundPathSum(path []pathElem, depth, k int) float64 {
	one, zero := path[k].one, path[k].zero
	next := path[depth].weight
	d := float64(depth + 1)
	total := 0.0
	for i := depth - 1; i >= 0; i-- {
		if one != 0 {
			tmp := next * d / (float64(i+1) * one)
			total += tmp
			next = path[i].weight - tmp*zero*float64(depth-i)/d
		} else if zero != 0 {
			total += path[i].weight / zero / (float64(depth-i) / d)
		}
	}
	return total
}
