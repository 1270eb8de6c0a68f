package gbtree_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// edit returns model with the value at a dotted path ("learner.trees.0.x")
// replaced by value, or removed when value is nil. Numbers are kept as
// written so that untouched parts of the model stay byte-for-byte valid.
func edit(t *testing.T, model, path string, value any) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(model))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("edit %s: %v", path, err)
	}
	keys := strings.Split(path, ".")
	parent := doc
	for _, k := range keys[:len(keys)-1] {
		parent = child(t, parent, k, path)
	}
	last := keys[len(keys)-1]
	switch p := parent.(type) {
	case map[string]any:
		if value == nil {
			delete(p, last)
		} else {
			p[last] = value
		}
	case []any:
		i, err := strconv.Atoi(last)
		if err != nil || i >= len(p) {
			t.Fatalf("edit %s: bad index %q", path, last)
		}
		p[i] = value
	default:
		t.Fatalf("edit %s: cannot descend into %T", path, parent)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(doc); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func child(t *testing.T, v any, key, path string) any {
	t.Helper()
	switch c := v.(type) {
	case map[string]any:
		if next, ok := c[key]; ok {
			return next
		}
	case []any:
		if i, err := strconv.Atoi(key); err == nil && i < len(c) {
			return c[i]
		}
	}
	t.Fatalf("edit %s: no %q", path, key)
	return nil
}

// editTree replaces the first tree with a three-node tree whose child links
// are left and right.
func editTree(t *testing.T, model string, left, right []int) string {
	t.Helper()
	return edit(t, model, "learner.gradient_booster.model.trees.0", map[string]any{
		"tree_param":       map[string]any{"num_nodes": "3", "size_leaf_vector": "0"},
		"left_children":    left,
		"right_children":   right,
		"split_indices":    []int{0, 0, 0},
		"split_conditions": []float64{0.5, -1, 1},
		"default_left":     []int{1, 0, 0},
		"split_type":       []int{0, 0, 0},
	})
}
