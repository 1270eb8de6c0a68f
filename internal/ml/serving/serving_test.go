package serving

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
)

// servedClassifier trains a small classifier: label "big" when x > 5,
// except for tier 'gold'.
func servedClassifier(t *testing.T) []byte {
	t.Helper()
	ds := &automl.Dataset{Features: []model.Feature{{Name: "x", Kind: model.Numeric}, {Name: "tier", Kind: model.Categorical}}, TargetName: "size"}
	for i := 0; i < 200; i++ {
		x, tier := float64(i%11), []string{"gold", "basic"}[i%2]
		label := "small"
		if x > 5 && tier != "gold" {
			label = "big, really"
		}
		ds.Rows = append(ds.Rows, []any{x, tier})
		ds.Target = append(ds.Target, label)
	}
	art, _, err := automl.Train(context.Background(), ds, automl.Options{ModelType: model.XGBoost, Hyperparameters: map[string]string{}})
	require.NoError(t, err)
	b, err := json.Marshal(models.Served{Name: "sizes", Params: []mlfunc.Param{{Name: "x", Type: "double"}, {Name: "tier", Type: "varchar(8)"}}, Artifact: art})
	require.NoError(t, err)
	return b
}

func TestContainerContract(t *testing.T) {
	h, err := NewHandler(servedClassifier(t))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/ping")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	post := func(ct, body string) (int, string) {
		resp, err := http.Post(srv.URL+"/invocations", ct, strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, out := post("text/csv", "9,basic\n1,basic\n9,gold\n,basic\n")
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, "\"big, really\"\nsmall\nsmall\nsmall\n", out, "one CSV line per row; labels with commas are quoted")

	for _, c := range []struct {
		ct, body string
		code     int
	}{
		{"text/csv", "1,basic,extra\n", http.StatusBadRequest},
		{"application/json", `{"instances": [[1, "basic"]]}`, http.StatusUnsupportedMediaType},
		{"text/csv", strings.Repeat("1,basic\n", MaxPayload/8+1), http.StatusRequestEntityTooLarge},
	} {
		code, _ := post(c.ct, c.body)
		require.Equal(t, c.code, code, c.body[:min(len(c.body), 40)])
	}
	resp, err = http.Get(srv.URL + "/invocations")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestNewHandlerRejectsBadFiles(t *testing.T) {
	for _, data := range []string{"", "{", `{"name": "m"}`, `{"name": "m", "artifact": {"algorithm": "XGBOOST", "xgboost": {}}}`} {
		_, err := NewHandler([]byte(data))
		require.ErrorIs(t, err, models.ErrBadModelFile, data)
	}
}

// FuzzNewHandler feeds arbitrary bytes to the model-file loader (a model
// file may come from anywhere): it may refuse them, but must not panic,
// and a handler it accepts must answer any payload without panicking.
func FuzzNewHandler(f *testing.F) {
	f.Add([]byte(`{"name": "m", "params": [{"name": "x", "type": "double"}], "artifact": {"algorithm": "LINEAR_LEARNER", "problem_type": "REGRESSION",
		"encoder": {"features": [{"name": "x", "kind": "numeric", "mean": [0], "std": [1]}], "scale": true},
		"linear": {"kind": "regression", "weights": [[2]], "bias": [1]}}}`), "1\n2\n,\n")
	f.Add([]byte(`{"artifact": {"algorithm": "KMEANS", "kmeans": {"centroids": [[1, 2]]}}}`), "x")
	f.Fuzz(func(t *testing.T, data []byte, payload string) {
		h, err := NewHandler(data)
		if err != nil {
			return
		}
		_, _ = h.Predict(payload)
	})
}
