package objstore

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCanonicalEndpoint(t *testing.T) {
	cases := []struct{ in, want string }{
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000"},
		{"HTTP://Host.Example:9000/", "http://host.example:9000"},
		{"https://s3.us-east-1.amazonaws.com:443/bucket", "https://s3.us-east-1.amazonaws.com"},
		{"http://h:80", "http://h"},
		{"http://user:pw@h:81", "http://h:81"},
		{"http://[::1]:9000", "http://[::1]:9000"},
		{"http://[::1]", "http://[::1]"},
		{"", ""},
		{"not a url", ""},
		{"s3://bucket", "s3://bucket"},
	}
	for _, c := range cases {
		require.Equal(t, c.want, CanonicalEndpoint(c.in), c.in)
	}
}

func TestOperatorEndpoint(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000/")
	cases := []struct {
		uri  string
		want bool
	}{
		{"s3://b/k", true},
		{"s3-eu-west-1://b/k", true},
		{"file:///x/y", true},
		{"http://127.0.0.1:9000/b/k", true},
		{"HTTP://127.0.0.1:9000/b/k", true},
		{"https://s3.eu-west-1.amazonaws.com/b/k", true},
		{"http://s3.eu-west-1.amazonaws.com/b/k", false},
		{"https://s3.eu-west-1.amazonaws.com.evil/b/k", false},
		{"http://127.0.0.1:9001/b/k", false},
		{"http://169.254.169.254/latest/meta-data", false},
		{"http://internal/b/k", false},
	}
	for _, c := range cases {
		loc, err := ParseURI(c.uri)
		require.NoError(t, err, c.uri)
		require.Equal(t, c.want, OperatorEndpoint(loc), c.uri)
	}
}

// FuzzCanonicalEndpoint: two URIs whose canonical endpoints are equal name
// the same host and port as Go's URL parser (which the HTTP client uses)
// sees them, so a credential bound to one never goes to another.
func FuzzCanonicalEndpoint(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:9000", "http://a@b:1", "http://[::1]:80", "https://x:443/", "http://%41:1", "http://a\\b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c := CanonicalEndpoint(raw)
		if c == "" {
			return
		}
		u, err := url.Parse(strings.TrimSpace(raw))
		require.NoError(t, err)
		cu, err := url.Parse(c)
		require.NoError(t, err, "canonical form %q of %q must parse", c, raw)
		require.Equal(t, strings.ToLower(u.Hostname()), cu.Hostname(), "%q -> %q", raw, c)
		require.Equal(t, c, CanonicalEndpoint(c), "idempotent")
	})
}
