package remote

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRedirectsAreNotFollowed: a 307 would re-POST the body and the secret
// headers to wherever it points; the call fails instead, unretried.
func TestRedirectsAreNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		var calls atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			http.Redirect(w, r, other.URL+"/steal", code)
		}))
		ep := &Endpoint{Name: "e", URL: srv.URL + "/invocations", Codec: SageMakerCodec{}, Timeout: 2 * time.Second,
			Client: NewHTTPClient(1), MaxRetries: 3, Headers: map[string]string{"Authorization": "Bearer secret"}}
		_, err := ep.Invoke(context.Background(), Request{Rows: [][]any{{1}}})
		require.EqualError(t, err, "endpoint 'e': "+ErrRedirect.Error(), "HTTP %d", code)
		require.EqualValues(t, 1, calls.Load(), "HTTP %d: a redirect is not retried", code)
		srv.Close()
	}
	require.Zero(t, elsewhere.Load(), "nothing may reach the redirect's target")
}

// TestErrorBodiesAreNotEchoed: only a short, sanitised JSON message of the
// provider reaches the user, never the body of whatever answered.
func TestErrorBodiesAreNotEchoed(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{"message":"bad input shape"}`, "bad input shape"},
		{`{"error":{"message":"quota"}}`, "quota"},
		{`{"detail":"line1\nline2\u0000"}`, "line1 line2"},
		{"root:x:0:0:root:/root:/bin/bash\n", ""},
		{"<html><body>internal admin page</body></html>", ""},
		{`{"message":"` + strings.Repeat("x", 1000) + `"}`, strings.Repeat("x", maxMessage) + "..."},
		{"", ""},
	}
	for _, c := range cases {
		require.Equal(t, c.want, errorMessage([]byte(c.body)), c.body)
	}
}
