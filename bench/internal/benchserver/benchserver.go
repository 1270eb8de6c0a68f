// Package benchserver starts and measures sibyldb processes for the
// benchmark commands: each runs on a free loopback port with a temporary
// data directory, like the tests' internal/testserver, but without a
// testing.T.
package benchserver

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Server is one sibyldb process started on a free loopback port with a
// temporary data directory.
type Server struct {
	// Addr is the HOST:PORT the server accepts MySQL connections on.
	Addr    string
	dataDir string
	cmd     *exec.Cmd
	exited  chan struct{}

	logMu sync.Mutex
	log   bytes.Buffer
}

var listenRE = regexp.MustCompile(`listening on (\S+)`)

// Start runs `bin serve` on 127.0.0.1:0 with env added to the
// environment and waits for the "listening on ADDR" line on its stderr
// (logged at the default info level, so no --log-level flag is passed).
func Start(bin string, env ...string) (*Server, error) {
	return StartArgs(bin, nil, env...)
}

// StartArgs is Start with extra flags for `serve`.
func StartArgs(bin string, args []string, env ...string) (*Server, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("sibyldb binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "bench-sibyldb-")
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	s := &Server{dataDir: dir, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, append([]string{"serve", "--data-dir", dir, "--addr", "127.0.0.1:0"}, args...)...)
	s.cmd.Env = append(os.Environ(), env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	s.cmd.Stdout = s.cmd.Stderr
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			s.logMu.Lock()
			s.log.WriteString(line + "\n")
			if s.log.Len() > 2<<20 { // keep the last MiB
				tail := append([]byte(nil), s.log.Bytes()[s.log.Len()-1<<20:]...)
				s.log.Reset()
				s.log.Write(tail)
			}
			s.logMu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case ready <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	select {
	case s.Addr = <-ready:
		return s, nil
	case <-s.exited:
		os.RemoveAll(dir)
		return nil, fmt.Errorf("sibyldb exited during start-up:\n%s", s.Log())
	case <-time.After(2 * time.Minute):
		s.Stop()
		return nil, fmt.Errorf("sibyldb did not start within 2m:\n%s", s.Log())
	}
}

// Log returns what the server has printed so far.
func (s *Server) Log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// Alive reports whether the process is still running.
func (s *Server) Alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM (SIGKILL after 30 s) and removes the data directory.
func (s *Server) Stop() {
	if s.Alive() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
	os.RemoveAll(s.dataDir)
}

// Open connects as root (empty password) to database db ("" for none)
// and checks the connection.
func (s *Server) Open(db string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", s.Addr, db
	cfg.MaxAllowedPacket = 64 << 20
	pool, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.Addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", s.Addr, err)
	}
	return pool, nil
}

// OpenNew creates database db and opens a pool on it.
func (s *Server) OpenNew(db string) (*sql.DB, error) {
	root, err := s.Open("")
	if err != nil {
		return nil, err
	}
	_, err = root.Exec("CREATE DATABASE " + db)
	root.Close()
	if err != nil {
		return nil, fmt.Errorf("create database %s: %w", db, err)
	}
	return s.Open(db)
}

// ErrServerDied is returned when the server process exits mid-run.
var ErrServerDied = errors.New("the sibyldb server exited")

// PID is the server's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// MemoryKB reads a memory figure of the server from /proc (Linux):
// "VmRSS" (resident now) or "VmHWM" (peak since start or ResetPeak).
func (s *Server) MemoryKB(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.PID()))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb
			}
		}
	}
	return 0
}

// ResetPeak restarts the server's VmHWM from its current RSS, so a
// measurement covers one workload.
func (s *Server) ResetPeak() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.PID()), []byte("5"), 0)
}
