package objstore

import (
	"context"
	"errors"
	"io"
)

// Errors a Store reports, wrapped with the object or bucket they concern,
// so callers can map them to MySQL errors with errors.Is.
var (
	ErrNoBucket     = errors.New("bucket does not exist")
	ErrAccessDenied = errors.New("access denied by S3")
	ErrNotFound     = errors.New("object does not exist")
	ErrOutsideDir   = errors.New("path is outside secure_file_priv")
)

// Store is one bucket (or the local file system). Keys are full object
// keys (file paths for local files).
type Store interface {
	// Create starts writing key. Nothing is visible under key until
	// Close succeeds; Abort discards what was written.
	Create(ctx context.Context, key string) (Writer, error)
	// Open streams key.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns the keys that begin with prefix, in ascending order.
	List(ctx context.Context, prefix string) ([]string, error)
	// Exists reports whether key exists.
	Exists(ctx context.Context, key string) (bool, error)
	// Delete removes key; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Writer streams one object. Memory stays bounded however much is written.
type Writer interface {
	io.Writer
	// Close completes the object and reports whether it was stored.
	Close() error
	// Abort discards the object; it is safe after Close and twice.
	Abort()
}
