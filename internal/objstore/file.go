package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sibyldb/sibyldb/internal/fileaccess"
)

// FileStore is the local file system confined to one directory, as MySQL
// confines file I/O to secure_file_priv.
type FileStore struct {
	// Dir is the only directory (and its subdirectories) keys may name.
	Dir string
}

var _ Store = FileStore{}

// check makes key absolute and refuses paths outside Dir (see
// fileaccess.Resolve: links resolved, compared as directories).
func (f FileStore) check(key string) (string, error) {
	p, err := fileaccess.Resolve(f.Dir, key)
	switch {
	case errors.Is(err, fileaccess.ErrNoDir):
		return "", fmt.Errorf("%s: %w (secure_file_priv is not set)", key, ErrOutsideDir)
	case errors.Is(err, fileaccess.ErrOutside):
		return "", fmt.Errorf("%s: %w %s", key, ErrOutsideDir, f.Dir)
	case err != nil:
		return "", err
	}
	return p, nil
}

// Create writes to a temporary file next to key and renames it into place
// on Close, so a failed export leaves no file behind.
func (f FileStore) Create(_ context.Context, key string) (Writer, error) {
	p, err := f.check(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	return &fileWriter{f: tmp, dest: p}, nil
}

type fileWriter struct {
	f    *os.File
	dest string
	done bool
}

func (w *fileWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *fileWriter) Close() error {
	if w.done {
		return errors.New("writer already closed")
	}
	w.done = true
	if err := w.f.Close(); err != nil {
		_ = os.Remove(w.f.Name())
		return fmt.Errorf("write %s: %w", w.dest, err)
	}
	if err := os.Rename(w.f.Name(), w.dest); err != nil {
		_ = os.Remove(w.f.Name())
		return fmt.Errorf("write %s: %w", w.dest, err)
	}
	return nil
}

func (w *fileWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}

// Open implements Store.
func (f FileStore) Open(_ context.Context, key string) (io.ReadCloser, error) {
	r, err := fileaccess.Open(f.Dir, key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	case errors.Is(err, fileaccess.ErrNoDir):
		return nil, fmt.Errorf("%s: %w (secure_file_priv is not set)", key, ErrOutsideDir)
	case errors.Is(err, fileaccess.ErrOutside):
		return nil, fmt.Errorf("%s: %w %s", key, ErrOutsideDir, f.Dir)
	case err != nil:
		return nil, err
	}
	return r, nil
}

// List implements Store: files whose path begins with prefix, within
// prefix's directory (not descending into subdirectories).
func (f FileStore) List(_ context.Context, prefix string) ([]string, error) {
	p, err := f.check(prefix)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(prefix, "/") {
		p += "/"
	}
	entries, err := os.ReadDir(filepath.Dir(p + "x"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	var keys []string
	for _, e := range entries {
		full := filepath.Join(filepath.Dir(p+"x"), e.Name())
		if e.Type().IsRegular() && strings.HasPrefix(full, strings.TrimSuffix(p, "/")) && !strings.HasPrefix(e.Name(), ".") {
			keys = append(keys, full)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// Exists implements Store.
func (f FileStore) Exists(_ context.Context, key string) (bool, error) {
	p, err := f.check(key)
	if err != nil {
		return false, err
	}
	_, err = os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Delete implements Store.
func (f FileStore) Delete(_ context.Context, key string) error {
	p, err := f.check(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
