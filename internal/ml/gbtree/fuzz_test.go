package gbtree_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sibyldb/sibyldb/internal/ml/gbtree"
)

// FuzzParse checks that no document makes Parse or prediction panic or
// loop. The committed corpus in testdata/fuzz/FuzzParse holds small real
// models; the seeds below add the fixtures and a few near misses.
func FuzzParse(f *testing.F) {
	for _, sm := range smallModels {
		data, err := os.ReadFile(filepath.Join("testdata", sm.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"learner":{"learner_model_param":{"base_score":"0","num_class":"0","num_feature":"1"},` +
		`"objective":{"name":"reg:squarederror"},"gradient_booster":{"name":"gbtree","model":{` +
		`"gbtree_model_param":{"num_trees":"1"},"tree_info":[0],"trees":[{"tree_param":{"num_nodes":"3"},` +
		`"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[0,0,0],` +
		`"split_conditions":[0.5,-1,1],"default_left":[1,0,0]}]}}}}`))
	f.Add([]byte(`{"learner":{}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := gbtree.Parse(data)
		if err != nil {
			return
		}
		out := make([]float64, m.NumOutputs())
		// Cap the input so that a huge num_feature cannot slow the fuzzer;
		// features past its end are read as missing.
		zero := make([]float64, min(m.NumFeatures(), 1<<12))
		if err := m.Predict(zero, out); err != nil {
			t.Fatal(err)
		}
		if err := m.PredictMargin(nil, out); err != nil {
			t.Fatal(err)
		}
	})
}
