package s3io

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/objstore"
)

func TestMatchBindsCredentialToEndpoint(t *testing.T) {
	store := &CredentialStore{byName: map[string]*Credential{}}
	for _, cr := range []*Credential{
		{Name: "minio", Location: "s3://data/", AccessKeyID: "minio-key", Endpoint: "http://127.0.0.1:9000"},
		{Name: "aws", Location: "s3://logs/", AccessKeyID: "aws-key"},
		{Name: "path", Location: "https://store.example/photos/", AccessKeyID: "path-key"},
	} {
		require.NoError(t, cr.bind())
		store.byName[cr.Name] = cr
	}
	cases := []struct {
		uri, key, endpoint string
	}{
		{"s3://data/x", "minio-key", "http://127.0.0.1:9000"},
		{"http://127.0.0.1:9000/data/x", "minio-key", "http://127.0.0.1:9000"},
		{"HTTP://127.0.0.1:9000/data/x", "minio-key", "http://127.0.0.1:9000"},
		{"http://127.0.0.1:9001/data/x", "", ""},
		{"http://attacker/data/x", "", ""},
		{"s3://logs/2024/a", "aws-key", ""},
		{"https://attacker/logs/a", "", ""},
		{"https://store.example/photos/a.jpg", "path-key", "https://store.example"},
		{"s3://photos/a.jpg", "path-key", "https://store.example"},
		{"http://store.example/photos/a.jpg", "", ""},
		{"s3://other/x", "", ""},
	}
	for _, c := range cases {
		loc, err := objstore.ParseURI(c.uri)
		require.NoError(t, err)
		got := store.Match(loc)
		if c.key == "" {
			require.Nil(t, got, c.uri)
			continue
		}
		require.NotNil(t, got, c.uri)
		require.Equal(t, c.key, got.AccessKeyID, c.uri)
		require.Equal(t, c.endpoint, got.Endpoint, c.uri)
	}
	require.True(t, store.NamesEndpoint("http://127.0.0.1:9000"))
	require.False(t, store.NamesEndpoint("http://attacker"))
	require.False(t, store.NamesEndpoint(""))
}
