package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSageMakerEncodeQuotesPerRFC4180(t *testing.T) {
	body, ctype, err := SageMakerCodec{}.Encode(Request{
		Columns: []string{"a", "b", "c"},
		Rows: [][]any{
			{"plain", int64(1), 2.5},
			{"with, comma", nil, float32(0.25)},
			{`say "hi"`, true, int8(-3)},
			{"two\nlines", []byte("bytes"), uint64(7)},
			{"crlf\r\nx", "日本語", time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC)},
			{time.Date(2024, 2, 3, 4, 5, 6, 0, time.UTC), "", nil},
		},
	})
	require.NoError(t, err)
	require.Equal(t, "text/csv", ctype)
	require.Equal(t, "plain,1,2.5\n"+
		"\"with, comma\",,0.25\n"+
		"\"say \"\"hi\"\"\",1,-3\n"+
		"\"two\nlines\",bytes,7\n"+
		"\"crlf\r\nx\",日本語,2024-02-03\n"+
		"2024-02-03 04:05:06,,\n", string(body))

	// A single NULL argument must not become a blank line.
	body, _, err = SageMakerCodec{}.Encode(Request{Columns: []string{"a"}, Rows: [][]any{{nil}, {"x"}, {nil}}})
	require.NoError(t, err)
	require.Equal(t, "\"\"\nx\n\"\"\n", string(body))
}

func TestDecodePredictions(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		rows              int
		want              []any
		err               string
	}{
		{"csv lines", "text/csv", "0.5\n0.7\n", 2, []any{"0.5", "0.7"}, ""},
		{"csv first column", "text/csv", "yes,0.9\nno,0.1\n", 2, []any{"yes", "no"}, ""},
		{"csv quoted", "text/csv", "\"a, b\"\n\"c\"\n", 2, []any{"a, b", "c"}, ""},
		{"json predictions", "application/json", `{"predictions":[1,2.5,"x",null]}`, 4, []any{1.0, 2.5, "x", nil}, ""},
		{"json array of arrays", "application/json", `[[0.1,0.9],[0.8,0.2]]`, 2, []any{0.1, 0.8}, ""},
		{"json objects", "application/json", `{"predictions":[{"score":0.3},{"predicted_label":"a","score":0.1}]}`, 2, []any{0.3, "a"}, ""},
		{"sniffed json", "text/plain", `[true,false]`, 2, []any{true, false}, ""},
		{"wrong count", "text/csv", "1\n2\n", 3, nil, "2 results for 3 rows"},
		{"bad json", "application/json", `{"predictions":`, 1, nil, "JSON"},
		{"no predictions", "application/json", `{"foo":[1]}`, 1, nil, "predictions"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DecodePredictions(c.ctype, []byte(c.body), c.rows)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestKServeCodec(t *testing.T) {
	c := KServeCodec{Model: "churn"}
	require.Equal(t, "/v2/models/churn/infer", c.Path("ep"))
	require.Equal(t, "/v2/models/ep/infer", KServeCodec{}.Path("ep"))
	body, _, err := c.Encode(Request{Columns: []string{"a", "b"}, Rows: [][]any{{int64(1), 2.5}, {int64(3), 4.0}}})
	require.NoError(t, err)
	require.JSONEq(t, `{"inputs":[{"name":"input-0","shape":[2,2],"datatype":"FP64","data":[1,2.5,3,4]}]}`, string(body))
	body, _, err = c.Encode(Request{Columns: []string{"t"}, Rows: [][]any{{"hi"}, {nil}}})
	require.NoError(t, err)
	require.JSONEq(t, `{"inputs":[{"name":"input-0","shape":[2,1],"datatype":"BYTES","data":["hi",""]}]}`, string(body))

	out, err := c.Decode("application/json", []byte(`{"outputs":[{"name":"p","shape":[2,2],"datatype":"FP32","data":[0.1,0.9,0.7,0.3]}]}`), 2)
	require.NoError(t, err)
	require.Equal(t, []any{0.1, 0.7}, out)
	_, err = c.Decode("application/json", []byte(`{"outputs":[{"data":[1,2,3]}]}`), 2)
	require.ErrorContains(t, err, "3 output values for 2 rows")
}

func TestMLflowAndOpenAICodecs(t *testing.T) {
	body, _, err := MLflowCodec{}.Encode(Request{Columns: []string{"x", "s"}, Rows: [][]any{{int64(1), "a"}, {nil, "b"}}})
	require.NoError(t, err)
	require.JSONEq(t, `{"dataframe_split":{"columns":["x","s"],"data":[[1,"a"],[null,"b"]]}}`, string(body))

	oc := OpenAICodec{Model: "m", Prompt: "Answer POSITIVE or NEGATIVE."}
	require.Equal(t, 1, oc.RowsPerRequest())
	body, _, err = oc.Encode(Request{Columns: []string{"t"}, Rows: [][]any{{"great product"}}})
	require.NoError(t, err)
	var req map[string]any
	require.NoError(t, json.Unmarshal(body, &req))
	require.Equal(t, "m", req["model"])
	msgs := req["messages"].([]any)
	require.Len(t, msgs, 2)
	require.Equal(t, "great product", msgs[1].(map[string]any)["content"])
	out, err := oc.Decode("", []byte(`{"choices":[{"message":{"role":"assistant","content":" POSITIVE\n"}}]}`), 1)
	require.NoError(t, err)
	require.Equal(t, []any{"POSITIVE"}, out)
	_, _, err = oc.Encode(Request{Rows: [][]any{{"a"}, {"b"}}})
	require.Error(t, err)
}

type countingCounters struct{ req, resp, retry atomic.Int64 }

func (c *countingCounters) Request()  { c.req.Add(1) }
func (c *countingCounters) Response() { c.resp.Add(1) }
func (c *countingCounters) Retry()    { c.retry.Add(1) }

func TestEndpointRetriesTimeoutsAndErrors(t *testing.T) {
	var calls atomic.Int64
	var mode atomic.Value
	mode.Store("ok")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		switch mode.Load().(string) {
		case "throttle-twice":
			if n <= 2 {
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = w.Write([]byte(`{"message":"Rate exceeded"}`))
				return
			}
		case "400":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":{"message":"bad input shape"}}`))
			return
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("internal failure\n"))
			return
		case "slow":
			time.Sleep(500 * time.Millisecond)
		}
		require.Equal(t, "Bearer t", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "text/csv")
		_, _ = w.Write([]byte(strings.ToUpper(string(body))))
	}))
	defer srv.Close()
	ctrs := &countingCounters{}
	ep := &Endpoint{Name: "e", URL: srv.URL + "/invocations", Codec: SageMakerCodec{}, Timeout: 2 * time.Second,
		Headers: map[string]string{"Authorization": "Bearer t"}, MaxRetries: 3, Client: NewHTTPClient(2), Counters: ctrs}
	ctx := context.Background()
	req := Request{Columns: []string{"s"}, Rows: [][]any{{"a"}, {"b"}}}

	out, err := ep.Invoke(ctx, req)
	require.NoError(t, err)
	require.Equal(t, []any{"A", "B"}, out)

	calls.Store(0)
	mode.Store("throttle-twice")
	out, err = ep.Invoke(ctx, req)
	require.NoError(t, err)
	require.Equal(t, []any{"A", "B"}, out)
	require.EqualValues(t, 2, ctrs.retry.Load())

	mode.Store("400")
	calls.Store(0)
	_, err = ep.Invoke(ctx, req)
	require.EqualError(t, err, "endpoint 'e' returned HTTP 400: bad input shape")
	require.EqualValues(t, 1, calls.Load(), "client errors are not retried")

	mode.Store("500")
	calls.Store(0)
	_, err = ep.Invoke(ctx, req)
	// A body that is not a JSON error message is not echoed.
	require.EqualError(t, err, "endpoint 'e' returned HTTP 500")
	require.EqualValues(t, 4, calls.Load(), "server errors are retried, boundedly")

	mode.Store("slow")
	ep.Timeout = 100 * time.Millisecond
	ep.MaxRetries = 0
	_, err = ep.Invoke(ctx, req)
	require.EqualError(t, err, "endpoint 'e': request timed out")

	dead := &Endpoint{Name: "d", URL: "http://127.0.0.1:1/invocations", Codec: SageMakerCodec{}, Timeout: time.Second, Client: NewHTTPClient(1)}
	_, err = dead.Invoke(ctx, req)
	require.ErrorContains(t, err, "connection refused")
}

func TestParseProtocol(t *testing.T) {
	for in, want := range map[string]Protocol{"sagemaker": SageMaker, "KServe_V2": KServeV2, "mlflow": MLflow, "OpenAI": OpenAI} {
		p, err := ParseProtocol(in)
		require.NoError(t, err)
		require.Equal(t, want, p)
	}
	_, err := ParseProtocol("grpc")
	require.ErrorContains(t, err, "unknown protocol")
}

func TestEndpointSplitsLargeRequestsAndCapsResponses(t *testing.T) {
	var sizes []int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		sizes = append(sizes, len(body))
		mu.Unlock()
		if r.URL.Path == "/huge" {
			_, _ = w.Write(bytes.Repeat([]byte("9\n"), 1000))
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		_, _ = w.Write(body) // echo
	}))
	defer srv.Close()
	ep := &Endpoint{Name: "e", URL: srv.URL + "/invocations", Codec: SageMakerCodec{}, Timeout: 5 * time.Second,
		Client: NewHTTPClient(2), MaxRequestBytes: 100}
	rows := make([][]any, 40)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("row-%02d", i)} // 7 bytes + newline
	}
	out, err := ep.Invoke(context.Background(), Request{Columns: []string{"s"}, Rows: rows})
	require.NoError(t, err)
	require.Len(t, out, 40)
	for i, v := range out {
		require.Equal(t, fmt.Sprintf("row-%02d", i), v, "order is kept across split requests")
	}
	for _, n := range sizes {
		require.LessOrEqual(t, n, 100)
	}
	require.Greater(t, len(sizes), 1)

	_, err = ep.Invoke(context.Background(), Request{Columns: []string{"s"}, Rows: [][]any{{strings.Repeat("x", 200)}}})
	require.ErrorContains(t, err, "over the 100-byte request limit")

	huge := &Endpoint{Name: "h", URL: srv.URL + "/huge", Codec: SageMakerCodec{}, Timeout: 5 * time.Second,
		Client: NewHTTPClient(1), MaxResponseBytes: 100}
	_, err = huge.Invoke(context.Background(), Request{Columns: []string{"s"}, Rows: [][]any{{"a"}}})
	require.ErrorContains(t, err, "response larger than 100 bytes")
}
