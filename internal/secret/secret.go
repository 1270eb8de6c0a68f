// Package secret encrypts credentials SibylDB stores in its catalog (model
// endpoint headers) with AES-256-GCM from the Go standard library.
//
// The key comes from SIBYLDB_SECRET_KEY (64 hex digits), from a key file
// named with --secret-key-file, or from DATA-DIR/.sibyldb/secret.key, which
// is created on first start. The key is never stored in a database, so
// dumps, clones and backups of the databases carry only ciphertext.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// EnvKey is the environment variable that holds the key in hex.
const EnvKey = "SIBYLDB_SECRET_KEY"

// ErrWrongKey means a sealed value does not open with this key.
var ErrWrongKey = errors.New("cannot decrypt: wrong secret key or corrupted value")

// Box seals and opens values with one key.
type Box struct {
	aead cipher.AEAD
}

// New returns a box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Load finds the key: $SIBYLDB_SECRET_KEY, else keyFile, created with a
// random key if it does not exist.
func Load(keyFile string) (*Box, error) {
	if v := strings.TrimSpace(os.Getenv(EnvKey)); v != "" {
		key, err := hex.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKey, err)
		}
		return New(key)
	}
	data, err := os.ReadFile(keyFile)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("create secret key file: %w", err)
		}
		return New(key)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", keyFile, err)
	}
	return New(key)
}

// boundPrefix marks values sealed with their object as associated data.
// Values without it were sealed before SibylDB bound them (no associated
// data); they still open, and are sealed again, bound, on their next write.
const boundPrefix = "v2:"

// Object names what a sealed value belongs to, as associated data: kind
// (endpoint, storage_credential) and the object's name, case-folded as
// the catalog keys it.
func Object(kind, name string) string { return kind + "\x00" + strings.ToLower(name) }

// Seal encrypts plaintext into printable text bound to object (see
// Object): it opens only for the same object, so a sealed value copied
// onto another catalog row does not decrypt there.
func (b *Box) Seal(plaintext []byte, object string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return boundPrefix + base64.StdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, plaintext, []byte(object))), nil
}

// Open decrypts what Seal produced for object. A value sealed before
// values were bound (no prefix) opens without associated data; legacy
// reports that, so the caller can seal it again.
func (b *Box) Open(sealed, object string) (plain []byte, legacy bool, err error) {
	var aad []byte
	enc, bound := strings.CutPrefix(sealed, boundPrefix)
	if bound {
		aad = []byte(object)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return nil, false, ErrWrongKey
	}
	n := b.aead.NonceSize()
	out, err := b.aead.Open(nil, raw[:n], raw[n:], aad)
	if err != nil {
		return nil, false, ErrWrongKey
	}
	return out, !bound, nil
}
