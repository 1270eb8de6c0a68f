// Package testserver runs the real sibyldb binary for end-to-end tests: a
// fresh data directory, a free loopback port, and clients that speak the
// MySQL protocol to it (go-sql-driver/mysql and the mariadb CLI).
package testserver

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// Binary returns the sibyldb binary under test: $SIBYLDB_BIN when set (make
// test sets it), otherwise one built once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("SIBYLDB_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sibyldb-bin-")
		if err != nil {
			buildErr = err
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		builtBin = filepath.Join(dir, "sibyldb")
		cmd := exec.Command("go", "build", "-tags", "gms_pure_go", "-o", builtBin, "./cmd/sibyldb")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// Server is one running sibyldb process.
type Server struct {
	t       testing.TB
	Bin     string
	DataDir string
	// Addr is HOST:PORT once started; restarts reuse it.
	Addr string
	Args []string
	// Env is added to the server's environment.
	Env []string

	cmd    *exec.Cmd
	exited chan struct{}
	logMu  sync.Mutex
	log    bytes.Buffer
	exit   error
}

var listenRE = regexp.MustCompile(`listening on (\S+)`)

// Start runs `sibyldb serve` on a free loopback port with a temporary data
// dir and waits until it accepts connections. extra flags are appended.
// The server is stopped when the test ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	return StartWithEnv(t, nil, extra...)
}

// StartWithEnv is Start with extra environment variables (NAME=value).
func StartWithEnv(t testing.TB, env []string, extra ...string) *Server {
	t.Helper()
	s := &Server{t: t, Bin: Binary(t), DataDir: t.TempDir(), Addr: "127.0.0.1:0", Args: extra, Env: env}
	s.start()
	t.Cleanup(func() {
		if s.running() {
			s.Kill()
		}
		// make test runs a race-enabled server; a race it reports fails
		// the test that provoked it.
		if strings.Contains(s.Log(), "WARNING: DATA RACE") {
			t.Errorf("the server reported a data race")
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.Log())
		}
	})
	return s
}

func (s *Server) start() {
	s.t.Helper()
	args := append([]string{"serve", "--data-dir", s.DataDir, "--addr", s.Addr}, s.Args...)
	cmd := exec.Command(s.Bin, args...)
	if len(s.Env) > 0 {
		cmd.Env = append(os.Environ(), s.Env...)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start sibyldb: %v", err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			s.logMu.Lock()
			s.log.WriteString(line + "\n")
			s.logMu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case ready <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		s.exit = cmd.Wait()
		close(s.exited)
	}()
	select {
	case addr := <-ready:
		s.Addr = addr
	case <-s.exited:
		s.t.Fatalf("sibyldb exited during start-up: %v\n%s", s.exit, s.Log())
	case <-time.After(2 * time.Minute):
		s.Kill()
		s.t.Fatalf("sibyldb did not start within 2m\n%s", s.Log())
	}
}

func (s *Server) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// PID is the server process's id (tests read its /proc files).
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Log returns everything the server has printed.
func (s *Server) Log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// Stop sends SIGTERM and returns the process's exit error (nil for exit 0).
func (s *Server) Stop() error {
	s.t.Helper()
	if !s.running() {
		return s.exit
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(time.Minute):
		s.Kill()
		s.t.Fatalf("sibyldb did not stop within 1m after SIGTERM")
	}
	return s.exit
}

// Kill sends SIGKILL, as a crash would.
func (s *Server) Kill() {
	if !s.running() {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Restart stops the server (SIGTERM) and starts it again on the same data
// dir and port.
func (s *Server) Restart() {
	s.t.Helper()
	if err := s.Stop(); err != nil {
		s.t.Fatalf("stop before restart: %v\n%s", err, s.Log())
	}
	s.start()
}

// StartAgain starts a stopped or killed server on the same data dir.
func (s *Server) StartAgain() {
	s.t.Helper()
	s.start()
}

// DSN is a go-sql-driver/mysql DSN for user on db with extra params
// (e.g. "multiStatements=true").
func (s *Server) DSN(user, password, db string, params ...string) string {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = user, password, "tcp", s.Addr, db
	dsn := cfg.FormatDSN()
	if len(params) > 0 {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + strings.Join(params, "&")
	}
	return dsn
}

// DB opens a pool as root on db (may be "") and checks it connects.
func (s *Server) DB(db string, params ...string) *sql.DB {
	s.t.Helper()
	return s.Open(s.DSN("root", "", db, params...))
}

// Open opens a pool for dsn, pings it and closes it when the test ends.
func (s *Server) Open(dsn string) *sql.DB {
	s.t.Helper()
	pool, err := sql.Open("mysql", dsn)
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pool.PingContext(ctx); err != nil {
		s.t.Fatalf("connect %s: %v", dsn, err)
	}
	s.t.Cleanup(func() { pool.Close() })
	return pool
}

// Mariadb runs the mariadb CLI against the server with the given extra
// arguments and SQL on standard input, returning combined output. The test
// is skipped when the CLI is not installed (make test installs it).
func (s *Server) Mariadb(input string, args ...string) (string, error) {
	s.t.Helper()
	cli, err := exec.LookPath("mariadb")
	if err != nil {
		s.t.Skip("mariadb CLI not installed (make deps installs it)")
	}
	host, port, _ := strings.Cut(s.Addr, ":")
	base := []string{"--protocol=TCP", "-h", host, "-P", port, "--batch"}
	if !containsPrefix(args, "--ssl") {
		base = append(base, "--skip-ssl")
	}
	cmd := exec.Command(cli, append(base, args...)...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func containsPrefix(args []string, prefix string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, prefix) {
			return true
		}
	}
	return false
}
