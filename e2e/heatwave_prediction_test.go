package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHeatWavePredictionExtract: JSON_EXTRACT(ML_PREDICT_ROW(JSON_OBJECT(...),
// ...), '$.Prediction'), with or without JSON_UNQUOTE, which the server
// computes without building ML_PREDICT_ROW's document, give for every row
// what the document itself holds, under the same column names, for a
// classifier and a regression model.
func TestHeatWavePredictionExtract(t *testing.T) {
	_, db := modelSetup(t, 600)
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()
	for _, q := range []string{
		`CALL sys.ML_TRAIN('ml.customers', 'churn', JSON_OBJECT('task', 'classification',
			'exclude_column_list', JSON_ARRAY('id', 'value')), @churn)`,
		`CALL sys.ML_TRAIN('ml.customers', 'value', JSON_OBJECT('task', 'regression',
			'exclude_column_list', JSON_ARRAY('id', 'churn')), @value)`,
	} {
		_, err := conn.ExecContext(t.Context(), q)
		require.NoError(t, err, q)
	}

	input := `JSON_OBJECT('spend', spend, 'calls', calls, 'tier', tier, 'signup', signup)`
	for _, handle := range []string{"@churn", "@value"} {
		call := "sys.ML_PREDICT_ROW(" + input + ", " + handle + ", NULL)"
		exprs := []string{
			"JSON_EXTRACT(" + call + ", '$.Prediction')",
			"JSON_UNQUOTE(JSON_EXTRACT(" + call + ", '$.Prediction'))",
		}
		q := "SELECT id, " + call + ", " + strings.Join(exprs, ", ") + " FROM customers ORDER BY id"
		rows, err := conn.QueryContext(t.Context(), q)
		require.NoError(t, err, q)
		cols, err := rows.Columns()
		require.NoError(t, err)
		require.Equal(t, exprs, cols[2:], "column names are the expressions' text")
		n := 0
		for rows.Next() {
			var id int
			var doc, extracted, unquoted string
			require.NoError(t, rows.Scan(&id, &doc, &extracted, &unquoted))
			var full map[string]any
			require.NoError(t, json.Unmarshal([]byte(doc), &full), doc)
			want, err := json.Marshal(full["Prediction"])
			require.NoError(t, err)
			var v any
			require.NoError(t, json.Unmarshal([]byte(extracted), &v), extracted)
			require.Equal(t, full["Prediction"], v, "row %d: %s", id, handle)
			if s, ok := full["Prediction"].(string); ok {
				require.Equal(t, s, unquoted, "row %d: JSON_UNQUOTE gives the class label", id)
			} else {
				require.Equal(t, strings.Trim(string(want), `"`), unquoted, "row %d", id)
			}
			n++
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		require.Equal(t, 600, n)

		// The plan reads the prediction straight from the batched call;
		// another path still extracts from the whole document.
		sum := func(path string) string {
			plan := explainTree(t, db, "SELECT SUM(JSON_EXTRACT(sys.ML_PREDICT_ROW("+input+", 'no_such', NULL), '"+path+"')) FROM customers")
			for _, line := range strings.Split(plan, "\n") {
				if strings.Contains(line, "select:") {
					return line
				}
			}
			require.Fail(t, "no aggregation in the plan", plan)
			return ""
		}
		require.NotContains(t, strings.ToLower(sum("$.Prediction")), "json_extract")
		require.Contains(t, strings.ToLower(sum("$.ml_results")), "json_extract")
	}

	// A prediction is summed the same either way.
	var viaExtract, viaDoc float64
	require.NoError(t, conn.QueryRowContext(t.Context(), `SELECT SUM(JSON_EXTRACT(sys.ML_PREDICT_ROW(`+input+`, @value, NULL), '$.Prediction'))
		FROM customers`).Scan(&viaExtract))
	require.NoError(t, conn.QueryRowContext(t.Context(), `SELECT SUM(JSON_EXTRACT(doc, '$.Prediction')) FROM
		(SELECT sys.ML_PREDICT_ROW(`+input+`, @value, NULL) AS doc FROM customers) AS s`).Scan(&viaDoc))
	require.InDelta(t, viaDoc, viaExtract, 1e-6*max(1, viaDoc))
}
