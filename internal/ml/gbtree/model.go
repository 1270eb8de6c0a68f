package gbtree

import (
	"fmt"
	"math"
)

// defaultLeftBit marks, in node.split, a split whose missing values go left.
// Feature indices are far below it (see maxFeatures).
const defaultLeftBit = 1 << 31

// node is one flattened tree node, 12 bytes. A node with left == 0 is a
// leaf: the root of a tree is never anyone's child, and children are always
// stored after their parent, so 0 is free to mean "no children".
type node struct {
	value float32 // split threshold, or the leaf's output
	split uint32  // feature index, plus defaultLeftBit
	left  int32   // index of the left child in Model.nodes; right is left+1
}

// tree locates one tree in Model.nodes.
type tree struct {
	root   int32
	group  int32   // output the tree adds to
	weight float32 // dart's weight_drop; 1 for gbtree
}

// link is an objective's transformation from margin to prediction.
type link uint8

const (
	linkIdentity link = iota
	linkSigmoid
	linkExp
	linkSoftmax
	linkHinge
)

// linkFor maps an objective name to its prediction transform. Objectives
// not listed (regression losses, ranking, future additions) predict their
// margin directly.
func linkFor(objective string) link {
	switch objective {
	case "binary:logistic", "reg:logistic":
		return linkSigmoid
	case "count:poisson", "reg:gamma", "reg:tweedie", "survival:cox", "survival:aft":
		return linkExp
	case "multi:softprob", "multi:softmax":
		return linkSoftmax
	case "binary:hinge":
		return linkHinge
	}
	return linkIdentity
}

// baseMargin converts base_score, which XGBoost 1.7 stores in prediction
// space, to the margin the trees are added to, as each objective's
// ProbToMargin does (in float32, like XGBoost). binary:logitraw is not
// converted: XGBoost 1.7 uses its base_score as a margin directly.
func baseMargin(objective string, baseScore float32) (float32, error) {
	switch objective {
	case "binary:logistic", "reg:logistic":
		if !(baseScore > 0 && baseScore < 1) {
			return 0, fmt.Errorf("%w: base_score %v must be in (0, 1) for %s", ErrInvalidModel, baseScore, objective)
		}
		return float32(-math.Log(float64(1/baseScore - 1))), nil
	case "count:poisson", "reg:gamma", "reg:tweedie", "survival:cox", "survival:aft":
		if !(baseScore > 0) {
			return 0, fmt.Errorf("%w: base_score %v must be positive for %s", ErrInvalidModel, baseScore, objective)
		}
		return float32(math.Log(float64(baseScore))), nil
	}
	return baseScore, nil
}

// Model is a parsed tree ensemble, immutable and safe for concurrent use.
type Model struct {
	objective  string
	link       link
	numFeature int
	numOutput  int
	baseMargin float32
	nodes      []node
	trees      []tree
	weighted   bool // dart: scale each tree's output by tree.weight
	// cover is each node's training hessian sum (parallel to nodes), for
	// TreeSHAP; nil when the document lacks sum_hessian.
	cover    []float32
	hasCover bool
}

// NumFeatures returns the number of input features the model was trained on.
func (m *Model) NumFeatures() int { return m.numFeature }

// NumOutputs returns the number of values a prediction produces: 1 for
// regression and binary classification, the class count for multiclass.
func (m *Model) NumOutputs() int { return m.numOutput }

// Objective returns XGBoost's objective name, such as "binary:logistic".
func (m *Model) Objective() string { return m.objective }

// NumTrees returns the number of trees, which for multiclass models is the
// number of rounds times the number of classes.
func (m *Model) NumTrees() int { return len(m.trees) }

// PredictMargin writes the untransformed score of x to out[:NumOutputs()].
// Features missing from a short x, and NaN features, are treated as missing.
// It does not allocate; it fails only when out is too short.
func (m *Model) PredictMargin(x []float64, out []float64) error {
	if len(out) < m.numOutput {
		return fmt.Errorf("gbtree: output has %d entries, model produces %d", len(out), m.numOutput)
	}
	if m.numOutput == 1 {
		out[0] = float64(m.sumSingle(x))
		return nil
	}
	out = out[:m.numOutput]
	for g := range out {
		out[g] = float64(m.baseMargin)
	}
	for _, t := range m.trees {
		v := m.leaf(t.root, x)
		if m.weighted {
			v = float32(v * t.weight)
		}
		// Round the running sum to float32 each step, as XGBoost does.
		out[t.group] = float64(float32(out[t.group]) + v)
	}
	return nil
}

// sumSingle is PredictMargin's loop for single-output models, keeping the
// running sum in a register.
func (m *Model) sumSingle(x []float64) float32 {
	sum := m.baseMargin
	if m.weighted {
		for _, t := range m.trees {
			sum += float32(m.leaf(t.root, x) * t.weight)
		}
		return sum
	}
	for _, t := range m.trees {
		sum += m.leaf(t.root, x)
	}
	return sum
}

// leaf walks one tree and returns the value of the leaf x lands in.
//
// A missing value is replaced by -Inf when it should go left and +Inf when
// it should go right (split conditions are finite), so that one comparison
// decides every node.
func (m *Model) leaf(root int32, x []float64) float32 {
	nodes := m.nodes
	i := root
	for {
		n := &nodes[i]
		if n.left == 0 {
			return n.value
		}
		f := int(n.split &^ defaultLeftBit)
		var v float32
		if f < len(x) && !math.IsNaN(x[f]) {
			v = float32(x[f])
		} else if n.split&defaultLeftBit != 0 {
			v = float32(math.Inf(-1))
		} else {
			v = float32(math.Inf(1))
		}
		left := n.left
		i = left + 1
		if v < n.value {
			i = left
		}
	}
}

// Predict writes the prediction for x to out[:NumOutputs()]: the margin
// passed through the objective's transform. binary:logistic and
// reg:logistic give P(class 1); multi:softprob and multi:softmax both give
// per-class probabilities (unlike XGBoost, which returns the class index for
// multi:softmax); count:poisson, reg:gamma, reg:tweedie and the survival
// objectives give exp(margin); binary:hinge gives 0 or 1; other objectives
// give the margin.
func (m *Model) Predict(x []float64, out []float64) error {
	if err := m.PredictMargin(x, out); err != nil {
		return err
	}
	out = out[:m.numOutput]
	switch m.link {
	case linkSigmoid:
		for i, v := range out {
			out[i] = float64(sigmoid(float32(v)))
		}
	case linkExp:
		for i, v := range out {
			out[i] = float64(float32(math.Exp(v)))
		}
	case linkHinge:
		for i, v := range out {
			if v > 0 {
				out[i] = 1
			} else {
				out[i] = 0
			}
		}
	case linkSoftmax:
		softmax(out)
	}
	return nil
}

// sigmoid follows XGBoost's float32 formula 1/(1+exp(-x)).
func sigmoid(x float32) float32 {
	return 1 / (1 + float32(math.Exp(float64(-x))))
}

// softmax follows XGBoost's common::Softmax: float32 exponentials of the
// shifted margins, summed in double.
func softmax(v []float64) {
	wmax := float32(v[0])
	for _, x := range v[1:] {
		wmax = max(wmax, float32(x))
	}
	var sum float64
	for i, x := range v {
		e := float32(math.Exp(float64(float32(x) - wmax)))
		v[i] = float64(e)
		sum += float64(e)
	}
	for i, x := range v {
		v[i] = float64(float32(x) / float32(sum))
	}
}
