package objstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseURI(t *testing.T) {
	for _, tc := range []struct {
		uri  string
		want Location
		str  string
		err  string
	}{
		{uri: "s3://bucket/prefix/file", want: Location{Scheme: "s3", Bucket: "bucket", Key: "prefix/file"}},
		{uri: "S3://bucket/k", want: Location{Scheme: "s3", Bucket: "bucket", Key: "k"}, str: "s3://bucket/k"},
		{uri: "s3-us-west-2://b/churn/export", want: Location{Scheme: "s3", Region: "us-west-2", Bucket: "b", Key: "churn/export"}},
		{uri: "https://minio.local:9000/b/x/y", want: Location{Scheme: "s3", Endpoint: "https://minio.local:9000", Bucket: "b", Key: "x/y"}},
		{uri: "http://127.0.0.1:7070/b/x", want: Location{Scheme: "s3", Endpoint: "http://127.0.0.1:7070", Bucket: "b", Key: "x"}},
		{uri: "https://s3.eu-west-1.amazonaws.com/b/k", want: Location{Scheme: "s3", Region: "eu-west-1", Endpoint: "https://s3.eu-west-1.amazonaws.com", Bucket: "b", Key: "k"}},
		{uri: "file:///var/lib/x/../out", want: Location{Scheme: "file", Key: "/var/lib/out"}, str: "file:///var/lib/out"},
		{uri: "s3://bucket", want: Location{Scheme: "s3", Bucket: "bucket"}, str: "s3://bucket/"},
		{uri: "s3:///key", err: "no bucket"},
		{uri: "file://relative/path", err: "absolute path"},
		{uri: "ftp://b/k", err: "unsupported scheme"},
		{uri: "bucket/key", err: "expected s3://"},
		{uri: "https:///b", err: "no host"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			got, err := ParseURI(tc.uri)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			got.form = ""
			require.Equal(t, tc.want, got)
			back, _ := ParseURI(tc.uri)
			if tc.str == "" {
				tc.str = tc.uri
			}
			require.Equal(t, tc.str, back.String())
			require.Equal(t, "part", back.WithKey("part").Key)
		})
	}
}

func TestFileStoreConfined(t *testing.T) {
	dir := t.TempDir()
	fs := FileStore{Dir: dir}
	ctx := context.Background()
	w, err := fs.Create(ctx, filepath.Join(dir, "sub", "a.part_00000"))
	require.NoError(t, err)
	_, _ = w.Write([]byte("data"))
	ok, _ := fs.Exists(ctx, filepath.Join(dir, "sub", "a.part_00000"))
	require.False(t, ok, "nothing is visible before Close")
	require.NoError(t, w.Close())
	keys, err := fs.List(ctx, filepath.Join(dir, "sub", "a"))
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, "sub", "a.part_00000")}, keys)

	w, err = fs.Create(ctx, filepath.Join(dir, "b"))
	require.NoError(t, err)
	w.Abort()
	entries, _ := os.ReadDir(dir)
	require.Len(t, entries, 1, "an aborted write leaves nothing")

	for _, bad := range []string{"/etc/passwd", filepath.Join(dir, "..", "x"), filepath.Join(dir, "sub", "..", "..", "y")} {
		_, err := fs.Open(ctx, bad)
		require.True(t, errors.Is(err, ErrOutsideDir), "%s: %v", bad, err)
		_, err = fs.Create(ctx, bad)
		require.True(t, errors.Is(err, ErrOutsideDir), "%s: %v", bad, err)
	}
	require.NoError(t, os.Symlink("/etc", filepath.Join(dir, "link")))
	_, err = fs.Open(ctx, filepath.Join(dir, "link", "passwd"))
	require.True(t, errors.Is(err, ErrOutsideDir), "a symlink out of the directory: %v", err)
	_, err = fs.Open(ctx, filepath.Join(dir, "missing"))
	require.True(t, errors.Is(err, ErrNotFound))
}
