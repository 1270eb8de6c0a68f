package secret

import (
	"encoding/base64"
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

	sealed, err := b.Seal([]byte("Bearer s3cret"), Object("endpoint", "e"))
	require.NoError(t, err)
	require.NotContains(t, sealed, "s3cret")
	again, err := b.Seal([]byte("Bearer s3cret"), Object("endpoint", "e"))
	require.NoError(t, err)
	require.NotEqual(t, sealed, again, "a fresh nonce every time")

	same, err := Load(file) // the key file is reused
	require.NoError(t, err)
	out, legacy, err := same.Open(sealed, Object("endpoint", "E"))
	require.NoError(t, err)
	require.False(t, legacy)
	require.Equal(t, "Bearer s3cret", string(out))

	t.Setenv(EnvKey, strings.Repeat("ab", 32))
	other, err := Load(file)
	require.NoError(t, err)
	_, _, err = other.Open(sealed, Object("endpoint", "e"))
	require.ErrorIs(t, err, ErrWrongKey)
	_, _, err = other.Open("not base64!", Object("endpoint", "e"))
	require.ErrorIs(t, err, ErrWrongKey)

	t.Setenv(EnvKey, "abcd")
	_, err = Load(file)
	require.ErrorContains(t, err, "32 bytes")
}

// TestSealedValuesAreBoundToTheirObject: a value opens only for the object
// it was sealed for, and values sealed before binding (no associated data)
// still open, reported as legacy so they are sealed again.
func TestSealedValuesAreBoundToTheirObject(t *testing.T) {
	b, err := New(make([]byte, 32))
	require.NoError(t, err)
	sealed, err := b.Seal([]byte("X-Api-Key: k"), Object("endpoint", "prod"))
	require.NoError(t, err)
	cases := []struct {
		object string
		ok     bool
	}{
		{Object("endpoint", "prod"), true},
		{Object("endpoint", "PROD"), true},
		{Object("endpoint", "attacker"), false},
		{Object("storage_credential", "prod"), false},
		{"", false},
	}
	for _, c := range cases {
		out, legacy, err := b.Open(sealed, c.object)
		if !c.ok {
			require.ErrorIs(t, err, ErrWrongKey, "%q", c.object)
			continue
		}
		require.NoError(t, err)
		require.False(t, legacy)
		require.Equal(t, "X-Api-Key: k", string(out))
	}
	// Stripping the version prefix does not downgrade a bound value.
	_, _, err = b.Open(strings.TrimPrefix(sealed, boundPrefix), Object("endpoint", "attacker"))
	require.ErrorIs(t, err, ErrWrongKey)

	// A value sealed the old way (no associated data, no prefix).
	nonce := make([]byte, b.aead.NonceSize())
	old := base64.StdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte("old"), nil))
	out, legacy, err := b.Open(old, Object("endpoint", "any"))
	require.NoError(t, err)
	require.True(t, legacy)
	require.Equal(t, "old", string(out))
}
