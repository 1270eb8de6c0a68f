// Package gbtree evaluates XGBoost tree ensembles in pure Go.
//
// The server trains models with XGBoost's C library (package xgb) but
// predicts at query time, row by row inside SQL expressions, where a cgo call
// per row would cost more than walking the trees. This package reads the JSON
// model XGBoost 1.7 writes (XGBoosterSaveModelToBuffer with format "json"),
// checks it thoroughly, since models can arrive from outside the server, and
// flattens every tree into one array of small nodes so that prediction is an
// allocation-free loop over memory that stays in cache.
//
// Predictions reproduce XGBoost's own CPU predictor: inputs are rounded to
// float32, a value goes left when it is less than the split condition,
// missing values (NaN, or features past the end of the input) follow the
// node's default direction, and tree outputs are summed in float32 in tree
// order starting from the base score in margin space.
package gbtree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// ErrInvalidModel reports a model document that is malformed or internally
// inconsistent.
var ErrInvalidModel = errors.New("gbtree: invalid model")

// ErrUnsupported reports a well-formed model that uses a feature this
// package does not evaluate, such as linear boosters or categorical splits.
var ErrUnsupported = errors.New("gbtree: unsupported model")

// Limits that keep a hostile document from making Parse or prediction
// allocate without bound; real models are far below them.
const (
	maxFeatures = 1 << 24
	maxOutputs  = 1 << 16
	maxNodes    = math.MaxInt32
)

// The JSON document, limited to the fields prediction needs. Counts in the
// *_param objects are strings in XGBoost's output; flexNumber also accepts
// plain numbers.
type (
	jsonDocument struct {
		Learner *jsonLearner `json:"learner"`
	}
	jsonLearner struct {
		ModelParam *struct {
			BaseScore  flexNumber `json:"base_score"`
			NumClass   flexNumber `json:"num_class"`
			NumFeature flexNumber `json:"num_feature"`
			NumTarget  flexNumber `json:"num_target"`
		} `json:"learner_model_param"`
		Objective *struct {
			Name string `json:"name"`
		} `json:"objective"`
		Booster *jsonBooster `json:"gradient_booster"`
	}
	jsonBooster struct {
		Name  string         `json:"name"`
		Model *jsonTreeModel `json:"model"` // gbtree
		// GBTree and WeightDrop are set for dart, which wraps a gbtree
		// and scales each tree's output by its weight.
		GBTree *struct {
			Model *jsonTreeModel `json:"model"`
		} `json:"gbtree"`
		WeightDrop []float64 `json:"weight_drop"`
	}
	jsonTreeModel struct {
		Param struct {
			NumTrees flexNumber `json:"num_trees"`
		} `json:"gbtree_model_param"`
		TreeInfo []int64    `json:"tree_info"`
		Trees    []jsonTree `json:"trees"`
	}
	jsonTree struct {
		Param struct {
			NumNodes       flexNumber `json:"num_nodes"`
			SizeLeafVector flexNumber `json:"size_leaf_vector"`
		} `json:"tree_param"`
		LeftChildren    []int64    `json:"left_children"`
		RightChildren   []int64    `json:"right_children"`
		SplitIndices    []int64    `json:"split_indices"`
		SplitConditions []float64  `json:"split_conditions"`
		DefaultLeft     []flexBool `json:"default_left"`
		SplitType       []int64    `json:"split_type"`
		CategoriesNodes []int64    `json:"categories_nodes"`
		// SumHessian is each node's cover (the hessian sum of the training
		// rows reaching it), which TreeSHAP weighs paths by.
		SumHessian []float64 `json:"sum_hessian"`
	}
)

// flexNumber holds a number written either as a JSON number or as a string.
type flexNumber string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexNumber) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexNumber(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexNumber(n)
	return nil
}

func (f flexNumber) int(name string, lo, hi int64) (int64, error) {
	if f == "" {
		return 0, fmt.Errorf("%w: %s is missing", ErrInvalidModel, name)
	}
	v, err := strconv.ParseInt(string(f), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrInvalidModel, name, err)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%w: %s is %d, want %d..%d", ErrInvalidModel, name, v, lo, hi)
	}
	return v, nil
}

func (f flexNumber) float32(name string) (float32, error) {
	if f == "" {
		return 0, fmt.Errorf("%w: %s is missing", ErrInvalidModel, name)
	}
	v, err := strconv.ParseFloat(string(f), 32)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrInvalidModel, name, err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: %s is not finite", ErrInvalidModel, name)
	}
	return float32(v), nil
}

// flexBool holds a flag written as a JSON boolean or as 0/1, as XGBoost
// versions differ in how they write default_left.
type flexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true", "1":
		*f = true
	case "false", "0":
		*f = false
	default:
		return fmt.Errorf("flag must be 0, 1, true or false, got %.20q", b)
	}
	return nil
}

// Parse reads and validates an XGBoost JSON model. Errors wrap
// ErrInvalidModel or ErrUnsupported and name the offending part.
func Parse(data []byte) (*Model, error) {
	var doc jsonDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidModel, err)
	}
	l := doc.Learner
	switch {
	case l == nil:
		return nil, fmt.Errorf("%w: learner is missing", ErrInvalidModel)
	case l.ModelParam == nil:
		return nil, fmt.Errorf("%w: learner.learner_model_param is missing", ErrInvalidModel)
	case l.Objective == nil || l.Objective.Name == "":
		return nil, fmt.Errorf("%w: learner.objective.name is missing", ErrInvalidModel)
	case l.Booster == nil:
		return nil, fmt.Errorf("%w: learner.gradient_booster is missing", ErrInvalidModel)
	}

	m := &Model{objective: l.Objective.Name}
	mp := l.ModelParam
	numFeature, err := mp.NumFeature.int("num_feature", 0, maxFeatures)
	if err != nil {
		return nil, err
	}
	m.numFeature = int(numFeature)
	numClass, err := mp.NumClass.int("num_class", 0, maxOutputs)
	if err != nil {
		return nil, err
	}
	numTarget := int64(1)
	if mp.NumTarget != "" { // absent before XGBoost 1.7
		if numTarget, err = mp.NumTarget.int("num_target", 1, maxOutputs); err != nil {
			return nil, err
		}
	}
	m.numOutput = int(max(numClass, numTarget, 1))
	baseScore, err := mp.BaseScore.float32("base_score")
	if err != nil {
		return nil, err
	}
	m.link = linkFor(m.objective)
	if m.baseMargin, err = baseMargin(m.objective, baseScore); err != nil {
		return nil, err
	}
	if m.link == linkSoftmax && m.numOutput < 2 {
		return nil, fmt.Errorf("%w: objective %s needs num_class >= 2, got %d", ErrInvalidModel, m.objective, numClass)
	}

	b := l.Booster
	var trees *jsonTreeModel
	switch b.Name {
	case "gbtree":
		trees = b.Model
	case "dart":
		if b.GBTree != nil {
			trees = b.GBTree.Model
		}
	case "gblinear":
		return nil, fmt.Errorf("%w: linear booster (gblinear); only tree boosters are evaluated", ErrUnsupported)
	default:
		return nil, fmt.Errorf("%w: unknown gradient_booster name %q", ErrInvalidModel, b.Name)
	}
	if trees == nil {
		return nil, fmt.Errorf("%w: %s booster has no model", ErrInvalidModel, b.Name)
	}
	m.hasCover = true
	if err := m.addTrees(trees); err != nil {
		return nil, err
	}
	if !m.hasCover {
		m.cover = nil
	}
	if b.Name == "dart" {
		if err := m.setDartWeights(b.WeightDrop); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Model) addTrees(tm *jsonTreeModel) error {
	numTrees, err := tm.Param.NumTrees.int("gbtree_model_param.num_trees", 0, math.MaxInt32)
	if err != nil {
		return err
	}
	if int64(len(tm.Trees)) != numTrees {
		return fmt.Errorf("%w: num_trees is %d but %d trees are present", ErrInvalidModel, numTrees, len(tm.Trees))
	}
	if len(tm.TreeInfo) != len(tm.Trees) {
		return fmt.Errorf("%w: tree_info has %d entries for %d trees", ErrInvalidModel, len(tm.TreeInfo), len(tm.Trees))
	}
	m.trees = make([]tree, len(tm.Trees))
	for i := range tm.Trees {
		group := tm.TreeInfo[i]
		if group < 0 || group >= int64(m.numOutput) {
			return fmt.Errorf("%w: tree %d: output group %d outside 0..%d", ErrInvalidModel, i, group, m.numOutput-1)
		}
		root := len(m.nodes)
		if err := m.flatten(i, &tm.Trees[i]); err != nil {
			return err
		}
		m.trees[i] = tree{root: int32(root), group: int32(group), weight: 1}
	}
	return nil
}

// flatten validates one tree and appends its reachable nodes to m.nodes in
// breadth-first order. Assigning each node a new index the first time it is
// reached rejects cycles and shared subtrees, and drops the unreachable
// nodes XGBoost's pruner leaves behind.
func (m *Model) flatten(index int, t *jsonTree) error {
	fail := func(kind error, format string, args ...any) error {
		return fmt.Errorf("%w: tree %d: %s", kind, index, fmt.Sprintf(format, args...))
	}
	n := len(t.LeftChildren)
	numNodes, err := t.Param.NumNodes.int(fmt.Sprintf("tree %d: tree_param.num_nodes", index), 1, maxNodes)
	if err != nil {
		return err
	}
	if int64(n) != numNodes {
		return fail(ErrInvalidModel, "num_nodes is %d but left_children has %d entries", numNodes, n)
	}
	for _, a := range []struct {
		name string
		len  int
	}{
		{"right_children", len(t.RightChildren)},
		{"split_indices", len(t.SplitIndices)},
		{"split_conditions", len(t.SplitConditions)},
		{"default_left", len(t.DefaultLeft)},
	} {
		if a.len != n {
			return fail(ErrInvalidModel, "%s has %d entries, want num_nodes = %d", a.name, a.len, n)
		}
	}
	if t.Param.SizeLeafVector != "" && t.Param.SizeLeafVector != "0" {
		return fail(ErrUnsupported, "vector leaves (size_leaf_vector %s)", t.Param.SizeLeafVector)
	}
	if len(t.CategoriesNodes) > 0 {
		return fail(ErrUnsupported, "categorical splits")
	}
	if t.SplitType != nil && len(t.SplitType) != n {
		return fail(ErrInvalidModel, "split_type has %d entries, want num_nodes = %d", len(t.SplitType), n)
	}
	if len(m.nodes)+n > maxNodes {
		return fail(ErrInvalidModel, "more than %d nodes in total", maxNodes)
	}

	// newIndex maps an original node index to its offset from base in
	// m.nodes; -1 means not reached yet.
	base := len(m.nodes)
	newIndex := make([]int32, n)
	for i := range newIndex {
		newIndex[i] = -1
	}
	newIndex[0] = 0
	m.nodes = append(m.nodes, node{})
	hasCover := m.hasCover && len(t.SumHessian) == n
	if !hasCover {
		m.hasCover = false
	}
	setCover := func(at int, old int32) {
		if !hasCover {
			return
		}
		for len(m.cover) < len(m.nodes) {
			m.cover = append(m.cover, 0)
		}
		if c := t.SumHessian[old]; c > 0 && !math.IsInf(c, 0) {
			m.cover[at] = float32(c)
		}
	}
	queue := make([]int32, 1, n)
	for q := 0; q < len(queue); q++ {
		old := queue[q]
		at := base + int(newIndex[old])
		setCover(at, old)
		cond := t.SplitConditions[old]
		if math.IsNaN(cond) || math.IsInf(cond, 0) || math.Abs(cond) > math.MaxFloat32 {
			return fail(ErrInvalidModel, "node %d: split condition %v is not a finite float32", old, cond)
		}
		left, right := t.LeftChildren[old], t.RightChildren[old]
		if left == -1 {
			if right != -1 {
				return fail(ErrInvalidModel, "node %d: leaf has right child %d", old, right)
			}
			// XGBoost stores a leaf's value in split_conditions.
			m.nodes[at] = node{value: float32(cond)}
			continue
		}
		if t.SplitType != nil && t.SplitType[old] != 0 {
			return fail(ErrUnsupported, "node %d: categorical split", old)
		}
		if left < 0 || left >= int64(n) || right < 0 || right >= int64(n) {
			return fail(ErrInvalidModel, "node %d: children %d, %d outside 0..%d", old, left, right, n-1)
		}
		// XGBoost's predictor finds the right child at left+1 and ignores
		// right_children; requiring the same layout keeps this package and
		// the C library in agreement.
		if right != left+1 {
			return fail(ErrInvalidModel, "node %d: right child %d is not left child %d + 1", old, right, left)
		}
		if newIndex[left] != -1 || newIndex[right] != -1 {
			return fail(ErrInvalidModel, "node %d: child %d or %d is reached twice (cycle or shared node)", old, left, right)
		}
		feature := t.SplitIndices[old]
		if feature < 0 || feature >= int64(m.numFeature) {
			return fail(ErrInvalidModel, "node %d: split index %d outside 0..%d (num_feature %d)", old, feature, m.numFeature-1, m.numFeature)
		}
		offset := int32(len(m.nodes) - base)
		newIndex[left], newIndex[right] = offset, offset+1
		split := uint32(feature)
		if t.DefaultLeft[old] {
			split |= defaultLeftBit
		}
		m.nodes[at] = node{value: float32(cond), split: split, left: int32(base) + offset}
		m.nodes = append(m.nodes, node{}, node{})
		queue = append(queue, int32(left), int32(right))
	}
	return nil
}

func (m *Model) setDartWeights(w []float64) error {
	if len(w) != len(m.trees) {
		return fmt.Errorf("%w: dart weight_drop has %d entries for %d trees", ErrInvalidModel, len(w), len(m.trees))
	}
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
			return fmt.Errorf("%w: dart weight_drop[%d] = %v is not a finite float32", ErrInvalidModel, i, v)
		}
		m.trees[i].weight = float32(v)
	}
	m.weighted = true
	return nil
}
