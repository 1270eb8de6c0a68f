package secret

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSealOpenAndKeySources(t *testing.T) {
	t.Setenv(EnvKey, "")
	file := filepath.Join(t.TempDir(), "secret.key")
	b, err := Load(file)
	require.NoError(t, err)
	info, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the key file is private")

	sealed, err := b.Seal([]byte("Bearer s3cret"))
	require.NoError(t, err)
	require.NotContains(t, sealed, "s3cret")
	again, err := b.Seal([]byte("Bearer s3cret"))
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce every time")

	same, err := Load(file) // the key file is reused
	require.NoError(t, err)
	out, err := same.Open(sealed)
	require.NoError(t, err)
	require.Equal(t, "Bearer s3cret", string(out))

	t.Setenv(EnvKey, strings.Repeat("ab", 32))
	other, err := Load(file)
	require.NoError(t, err)
	_, err = other.Open(sealed)
	require.ErrorIs(t, err, ErrWrongKey)
	_, err = other.Open("not base64!")
	require.ErrorIs(t, err, ErrWrongKey)

	t.Setenv(EnvKey, "abcd")
	_, err = Load(file)
	require.ErrorContains(t, err, "32 bytes")
}
