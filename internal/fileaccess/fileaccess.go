// Package fileaccess confines the server's file I/O on behalf of SQL users
// to one directory, MySQL's secure_file_priv. Every statement that names a
// server file (LOAD DATA INFILE, SELECT ... INTO OUTFILE/DUMPFILE,
// LOAD_FILE(), file:// URIs of S3 statements and CREATE MODEL) goes
// through this package, so the rule is written and tested once.
//
// The rule: a path is allowed when its real location, after resolving every
// symbolic link (of its directories and of the file itself), is the
// directory or lies below it. Paths are compared as directories, never as
// string prefixes (/dir2/x and /dirx are outside /dir). A file is opened
// once, without following a final symbolic link, and the opened descriptor
// is checked again, so a link swapped in between the check and the open
// cannot lead outside. Reads require a regular file (not a FIFO, device or
// directory, which could block or never end) and are bounded.
package fileaccess

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Errors the functions return, wrapped with the path they concern, so that
// callers map them to MySQL errors with errors.Is. A missing file is
// reported with fs.ErrNotExist.
var (
	// ErrOutside: the path is outside the directory (MySQL's 1290).
	ErrOutside = errors.New("path is outside secure_file_priv")
	// ErrNoDir: no directory is configured, so no file may be named.
	ErrNoDir = errors.New("secure_file_priv is not set")
	// ErrNotRegular: the path is a directory, FIFO, device or socket.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file is larger than the caller's bound.
	ErrTooLarge = errors.New("file is too large")
)

// Resolve returns the real path name designates, after checking that it is
// dir or lies below dir. Relative names are taken from the working
// directory. Symbolic links are resolved in every existing component,
// the final one included; the components that do not exist yet are kept as
// written (Create makes the file). Resolve does not open anything: use
// Open, ReadFile or Create for I/O, which check again after opening.
func Resolve(dir, name string) (string, error) {
	realDir, err := realDir(dir)
	if err != nil {
		return "", err
	}
	return resolveIn(realDir, name)
}

func realDir(dir string) (string, error) {
	if dir == "" {
		return "", ErrNoDir
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("secure_file_priv %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("secure_file_priv %s: %w", dir, err)
	}
	return real, nil
}

func resolveIn(realDir, name string) (string, error) {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return "", fmt.Errorf("%q: %w", name, fs.ErrInvalid)
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	resolved, err := evalExisting(abs)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if !Within(realDir, resolved) {
		return "", fmt.Errorf("%s: %w", name, ErrOutside)
	}
	return resolved, nil
}

// evalExisting resolves the symbolic links of the longest existing prefix
// of the clean absolute path p and appends the rest, which does not exist
// and so holds no link. A dangling final link is kept as the link itself:
// Open and Create refuse to follow it.
func evalExisting(p string) (string, error) {
	rest := ""
	cur := p
	for {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if fi, lerr := os.Lstat(cur); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			// A dangling link: resolve its directory, keep its name.
			parent, err := evalExisting(filepath.Dir(cur))
			if err != nil {
				return "", err
			}
			return filepath.Join(parent, filepath.Base(cur), rest), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return "", err
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// Within reports whether the clean absolute path p is dir or lies below it,
// comparing whole components (/dir2 and /dir/../x are not within /dir).
func Within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	if err != nil || !filepath.IsAbs(p) || !filepath.IsAbs(dir) {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Open opens name for reading. It must resolve inside dir and be a regular
// file. The final component is opened without following a link and without
// blocking (a FIFO would wait for a writer), and the descriptor's real path
// is checked against dir again.
func Open(dir, name string) (*os.File, error) {
	real, err := realDir(dir)
	if err != nil {
		return nil, err
	}
	p, err := resolveIn(real, name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			// The link was swapped in after Resolve.
			return nil, fmt.Errorf("%s: %w", name, ErrOutside)
		}
		return nil, fmt.Errorf("%s: %w", name, unwrapPath(err))
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		if fi.IsDir() {
			return nil, fmt.Errorf("%s: %w (%w)", name, ErrNotRegular, syscall.EISDIR)
		}
		return nil, fmt.Errorf("%s: %w", name, ErrNotRegular)
	}
	if err := checkOpened(real, p, f, fi); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// ReadFile reads name (see Open) whole, refusing files over max bytes
// without reading more than max+1 of them.
func ReadFile(dir, name string, max int64) ([]byte, error) {
	f, err := Open(dir, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, name, max)
}

// ReadAll reads r whole, refusing more than max bytes.
func ReadAll(r io.Reader, name string, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s: %w (over %d bytes)", name, ErrTooLarge, max)
	}
	return data, nil
}

// Create creates name inside dir for writing, with mode perm (before the
// umask). It fails with fs.ErrExist when name exists, a link included:
// MySQL never overwrites a file, and an existing link must not be followed.
func Create(dir, name string, perm fs.FileMode) (*os.File, error) {
	real, err := realDir(dir)
	if err != nil {
		return nil, err
	}
	p, err := resolveIn(real, name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, perm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, unwrapPath(err))
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkOpened(real, p, f, fi)
	}
	if err != nil {
		// Where the file went is unknown: do not remove by name.
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

// checkOpened verifies that the open file f, found at path p, is inside
// dir: by the kernel's name for the descriptor where /proc is mounted, or
// else by comparing it with what p names now.
func checkOpened(dir, p string, f *os.File, fi fs.FileInfo) error {
	if target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd()))); err == nil {
		if !Within(dir, target) {
			return ErrOutside
		}
		return nil
	}
	now, err := os.Lstat(p)
	if err != nil || !os.SameFile(fi, now) {
		return ErrOutside
	}
	return nil
}

// unwrapPath drops the *fs.PathError layer, whose message repeats the
// resolved path: callers name the path as the user wrote it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
