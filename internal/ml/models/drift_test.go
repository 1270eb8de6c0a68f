package models

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/model"
)

func TestArtifactIDIsByContent(t *testing.T) {
	a := &model.Artifact{Algorithm: model.XGBoost, Problem: model.Binary, Classes: []string{"no", "yes"}}
	b := &model.Artifact{Algorithm: model.XGBoost, Problem: model.Binary, Classes: []string{"no", "yes"}}
	c := &model.Artifact{Algorithm: model.XGBoost, Problem: model.Binary, Classes: []string{"n", "y"}}
	require.Len(t, ArtifactID(a), 16)
	require.Equal(t, ArtifactID(a), ArtifactID(b), "same content, same id")
	require.Equal(t, ArtifactID(a), ArtifactID(a), "cached")
	require.NotEqual(t, ArtifactID(a), ArtifactID(c))
}

func TestRegressionMetrics(t *testing.T) {
	labels := []any{1.0, 2.0, 3.0, nil}
	outs := [][]float64{{1.5}, {2.0}, {2.0}, {9}}
	got := map[string]float64{}
	for _, m := range regressionMetrics(labels, outs) {
		got[m.Name] = m.Value
	}
	mse := (0.25 + 0 + 1) / 3
	require.InDelta(t, mse, got["mse"], 1e-12, "the NULL label is skipped")
	require.InDelta(t, math.Sqrt(mse), got["rmse"], 1e-12)
	require.InDelta(t, 1.5/3, got["mae"], 1e-12)
	require.InDelta(t, 1-1.25/2, got["r2"], 1e-12)
}

func TestBinaryAUC(t *testing.T) {
	// Positives at 0.9 and 0.4, negatives at 0.4 and 0.1: of the four
	// pairs three are ordered right and one tied.
	require.InDelta(t, 3.5/4, binaryAUC([]int{1, 1, 0, 0, -1}, [][]float64{{0.9}, {0.4}, {0.4}, {0.1}, {0.5}}), 1e-12)
	require.True(t, math.IsNaN(binaryAUC([]int{1, 1}, [][]float64{{0.9}, {0.4}})))
}
