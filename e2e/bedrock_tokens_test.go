package e2e

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBedrockInvokeModelTokens checks that Aurora's raw InvokeModel calls
// count the tokens Bedrock reports in its X-Amzn-Bedrock-*-Token-Count
// headers in ML_FUNCTION_STATS and the global counters, and that
// sibyl_ml_max_tokens_per_statement stops a statement that has used its
// tokens.
func TestBedrockInvokeModelTokens(t *testing.T) {
	_, bed, db := bedrockSetup(t, 20, 20) // 20 prompts "prompt number i": 3 words each
	_, err := db.Exec("SELECT id, titan(JSON_OBJECT('inputText', p)) FROM prompts")
	require.NoError(t, err)
	var in, out int64
	require.NoError(t, db.QueryRow(`SELECT input_tokens, output_tokens FROM information_schema.ML_FUNCTION_STATS
		WHERE function_schema = 'gen' AND function_name = 'titan'`).Scan(&in, &out))
	require.EqualValues(t, 20*3, in, "the test server counts words as tokens")
	require.EqualValues(t, 20*3, out)
	st := globalStatus(t, db, "Sibyl_ml_%_tokens")
	require.EqualValues(t, 60, st["Sibyl_ml_input_tokens"])
	require.EqualValues(t, 60, st["Sibyl_ml_output_tokens"])

	// A limit of 30 tokens: five calls (6 tokens each) use it up, and the
	// statement fails before sending all 20.
	c := session(t, db, "SET sibyl_ml_max_tokens_per_statement = 30")
	sent := bed.Requests()
	rows, err := c.QueryContext(t.Context(), "SELECT id, titan(JSON_OBJECT('inputText', CONCAT(p, ' again'))) FROM prompts ORDER BY id")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	require.ErrorContains(t, err, "statement exceeds sibyl_ml_max_tokens_per_statement = 30")
	require.Less(t, bed.Requests()-sent, int64(20), "the limit stops the statement before every row is sent")
}
