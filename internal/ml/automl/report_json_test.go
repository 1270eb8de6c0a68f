package automl

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReportJSONCarriesNaNScores: an unsupervised model's report (score
// NaN) and a failed candidate's must store and load.
func TestReportJSONCarriesNaNScores(t *testing.T) {
	in := Report{Objective: "none", Score: math.NaN(), Chosen: "kmeans", TrainRows: 10, Leaderboard: []Candidate{
		{Algorithm: "kmeans", Score: math.NaN(), Seconds: 1.5},
		{Algorithm: "xgboost", Score: 0.75, Error: ""},
		{Algorithm: "linear", Score: math.Inf(1), Error: "diverged"},
	}}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	require.Contains(t, string(b), `"validation_score":null`)
	require.Contains(t, string(b), `"score":0.75`)
	var out Report
	require.NoError(t, json.Unmarshal(b, &out))
	require.True(t, math.IsNaN(out.Score))
	require.Equal(t, "kmeans", out.Chosen)
	require.Equal(t, 10, out.TrainRows)
	require.Len(t, out.Leaderboard, 3)
	require.True(t, math.IsNaN(out.Leaderboard[0].Score))
	require.Equal(t, 1.5, out.Leaderboard[0].Seconds)
	require.Equal(t, 0.75, out.Leaderboard[1].Score)
	require.True(t, math.IsNaN(out.Leaderboard[2].Score))
	require.Equal(t, "diverged", out.Leaderboard[2].Error)

	// A finite score is written as before.
	b, err = json.Marshal(Report{Score: 0.5})
	require.NoError(t, err)
	require.Contains(t, string(b), `"validation_score":0.5`)
}
