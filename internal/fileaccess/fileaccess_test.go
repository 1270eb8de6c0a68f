package fileaccess

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// tree builds a secure_file_priv directory with links and special files
// leading in and out of it, and returns the root and the directory.
func tree(t testing.TB) (root, dir string) {
	t.Helper()
	root = t.TempDir()
	dir = filepath.Join(root, "secure")
	for _, d := range []string{"secure/sub", "secure2", "outside"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	for _, f := range []string{"secure/a.txt", "secure/sub/b.txt", "secure2/x.txt", "securex.txt", "outside/x.txt"} {
		require.NoError(t, os.WriteFile(filepath.Join(root, f), []byte(f), 0o644))
	}
	links := map[string]string{
		"secure/link_in":     "a.txt",
		"secure/link_out":    "../outside/x.txt",
		"secure/dirlink_out": "../outside",
		"secure/dirlink_in":  "sub",
		"secure/zero":        "/dev/zero",
		"secure/dangling":    "nonexistent",
		"secure/dangle_out":  "../outside/new.txt",
		"secure/sub/up":      "..",
	}
	for l, target := range links {
		require.NoError(t, os.Symlink(target, filepath.Join(root, l)))
	}
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	return root, dir
}

func TestOpen(t *testing.T) {
	root, dir := tree(t)
	cases := []struct {
		name string
		want string // content, or "" when err is set
		err  error
	}{
		{name: "a.txt", want: "secure/a.txt"},
		{name: "sub/b.txt", want: "secure/sub/b.txt"},
		{name: "sub/../a.txt", want: "secure/a.txt"},
		{name: "link_in", want: "secure/a.txt"},
		{name: "dirlink_in/b.txt", want: "secure/sub/b.txt"},
		{name: "sub/up/a.txt", want: "secure/a.txt"},
		{name: "link_out", err: ErrOutside},
		{name: "dirlink_out/x.txt", err: ErrOutside},
		{name: "../secure2/x.txt", err: ErrOutside},
		{name: "../securex.txt", err: ErrOutside},
		{name: "../outside/x.txt", err: ErrOutside},
		{name: "/etc/passwd", err: ErrOutside},
		{name: "zero", err: ErrOutside},
		{name: "fifo", err: ErrNotRegular},
		{name: "sub", err: ErrNotRegular},
		{name: ".", err: ErrNotRegular},
		{name: "missing.txt", err: fs.ErrNotExist},
		{name: "dangling", err: ErrOutside}, // a link is never followed out of Resolve's sight
		{name: "dangle_out", err: ErrOutside},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := c.name
			if !filepath.IsAbs(name) {
				name = filepath.Join(dir, name)
			}
			f, err := Open(dir, name)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				require.Nil(t, f)
				return
			}
			require.NoError(t, err)
			defer f.Close()
			data, err := ReadAll(f, name, 100)
			require.NoError(t, err)
			require.Equal(t, c.want, string(data))
		})
	}
	// The directory itself may be named through a link.
	link := filepath.Join(root, "secure_link")
	require.NoError(t, os.Symlink("secure", link))
	data, err := ReadFile(link, filepath.Join(link, "a.txt"), 100)
	require.NoError(t, err)
	require.Equal(t, "secure/a.txt", string(data))
	_, err = ReadFile(link, filepath.Join(dir, "link_out"), 100)
	require.ErrorIs(t, err, ErrOutside)

	_, err = Open("", filepath.Join(dir, "a.txt"))
	require.ErrorIs(t, err, ErrNoDir)
}

func TestReadFileBound(t *testing.T) {
	_, dir := tree(t)
	p := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("x", 101)), 0o644))
	_, err := ReadFile(dir, p, 100)
	require.ErrorIs(t, err, ErrTooLarge)
	data, err := ReadFile(dir, p, 101)
	require.NoError(t, err)
	require.Len(t, data, 101)
}

func TestCreate(t *testing.T) {
	root, dir := tree(t)
	cases := []struct {
		name string
		err  error
	}{
		{name: "new.txt"},
		{name: "sub/new.txt"},
		{name: "dirlink_in/new2.txt"},
		{name: "a.txt", err: fs.ErrExist},
		{name: "link_in", err: fs.ErrExist},
		{name: "dangling", err: fs.ErrExist},
		{name: "dangle_out", err: fs.ErrExist},
		{name: "dirlink_out/new.txt", err: ErrOutside},
		{name: "../secure2/new.txt", err: ErrOutside},
		{name: "../securenew.txt", err: ErrOutside},
		{name: "nodir/new.txt", err: fs.ErrNotExist},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Create(dir, filepath.Join(dir, c.name), 0o640)
			if c.err != nil {
				require.ErrorIs(t, err, c.err)
				return
			}
			require.NoError(t, err)
			_, err = f.WriteString("ok")
			require.NoError(t, err)
			require.NoError(t, f.Close())
		})
	}
	_, err := os.Stat(filepath.Join(root, "outside", "new.txt"))
	require.ErrorIs(t, err, fs.ErrNotExist, "nothing may be written outside")
	_, err = os.Stat(filepath.Join(dir, "sub", "new2.txt"))
	require.NoError(t, err)
}

func TestWithin(t *testing.T) {
	cases := []struct {
		dir, p string
		want   bool
	}{
		{"/d", "/d", true},
		{"/d", "/d/x", true},
		{"/d", "/d/x/y", true},
		{"/d", "/d2", false},
		{"/d", "/d2/x", false},
		{"/d", "/dx", false},
		{"/d", "/", false},
		{"/d", "/e/d", false},
		{"/d", "/d/..x", true},
		{"/", "/anything", true},
		{"/d", "d/x", false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, Within(c.dir, c.p), "%s in %s", c.p, c.dir)
	}
}

// FuzzResolve checks Resolve's promise against an independent oracle: any
// path it accepts, once every link of its existing part is resolved by the
// operating system, is inside the directory; and Open never returns a file
// outside it.
func FuzzResolve(f *testing.F) {
	root, dir := tree(f)
	for _, s := range []string{"a.txt", "../secure2/x.txt", "link_out", "dirlink_out/x.txt", "sub/up/../../outside/x.txt",
		"dirlink_in/../link_in", "/etc/passwd", "", ".", "..", "sub/./b.txt", "dangle_out", "zero", "fifo", "\x00", "a.txt/"} {
		f.Add(s)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	require.NoError(f, err)
	realSecure := filepath.Join(realRoot, "secure")
	f.Fuzz(func(t *testing.T, name string) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		p, err := Resolve(dir, name)
		if err != nil {
			return
		}
		require.True(t, filepath.IsAbs(p))
		require.True(t, p == realSecure || strings.HasPrefix(p, realSecure+"/"), "%q resolved to %q", name, p)
		if real, err := filepath.EvalSymlinks(p); err == nil {
			require.True(t, real == realSecure || strings.HasPrefix(real, realSecure+"/"), "%q is really %q", name, real)
		}
		file, err := Open(dir, name)
		if err != nil {
			return
		}
		defer file.Close()
		target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(file.Fd())))
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(target, realSecure+"/"), "%q opened %q", name, target)
	})
}
