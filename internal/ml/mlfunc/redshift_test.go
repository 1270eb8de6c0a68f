package mlfunc

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseInference checks Redshift's inference configuration: the four
// keys, case-sensitive, with their ranges.
func TestParseInference(t *testing.T) {
	for _, tc := range []struct {
		in      string
		max     int32
		temp    float32
		stops   []string
		wantErr string
	}{
		{in: `{"maxTokens": 64, "temperature": 0.5, "topP": 1, "stopSequences": ["\n\nHuman:"]}`, max: 64, temp: 0.5, stops: []string{"\n\nHuman:"}},
		{in: `{"stopSequences": []}`, stops: []string{}},
		{in: `{"MaxTokens": 64}`, wantErr: "unknown key 'MaxTokens'"},
		{in: `{"maxTokens": 1.5}`, wantErr: "maxTokens must be a positive integer"},
		{in: `{"maxTokens": 0}`, wantErr: "maxTokens must be a positive integer"},
		{in: `{"maxTokens": "64"}`, wantErr: "maxTokens must be a positive integer"},
		{in: `{"temperature": 2}`, wantErr: "temperature must be a number from 0 to 1"},
		{in: `{"topP": -0.1}`, wantErr: "topP must be a number from 0 to 1"},
		{in: `{"stopSequences": "x"}`, wantErr: "stopSequences must be an array of strings"},
		{in: `{"stopSequences": [1]}`, wantErr: "stopSequences must be an array of strings"},
		{in: `[1]`, wantErr: "must be a JSON object"},
		{in: `null`, wantErr: "must be a JSON object"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			inf, err := parseInference(tc.in)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			if tc.max != 0 {
				require.Equal(t, tc.max, *inf.MaxTokens)
			} else {
				require.Nil(t, inf.MaxTokens)
			}
			if tc.temp != 0 {
				require.Equal(t, tc.temp, *inf.Temperature)
			}
			require.Equal(t, tc.stops, inf.StopSequences)
		})
	}
}
