package main

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
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// server is one sibyldb process started on a free loopback port with a
// temporary data directory.
type server struct {
	addr    string
	dataDir string
	cmd     *exec.Cmd
	exited  chan struct{}

	logMu sync.Mutex
	log   bytes.Buffer
}

var listenRE = regexp.MustCompile(`listening on (\S+)`)

// startServer runs `bin serve` on 127.0.0.1:0 and waits for the
// "listening on ADDR" line on its stderr (logged at the default info
// level, so no --log-level flag is passed).
func startServer(bin string) (*server, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("sibyldb binary: %w", err)
	}
	dir, err := os.MkdirTemp("", "mlbench-sibyldb-")
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	s := &server{dataDir: dir, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0")
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
	case s.addr = <-ready:
		return s, nil
	case <-s.exited:
		os.RemoveAll(dir)
		return nil, fmt.Errorf("sibyldb exited during start-up:\n%s", s.Log())
	case <-time.After(2 * time.Minute):
		s.stop()
		return nil, fmt.Errorf("sibyldb did not start within 2m:\n%s", s.Log())
	}
}

// Log returns what the server has printed so far.
func (s *server) Log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

// alive reports whether the process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM (SIGKILL after 30 s) and removes the data directory.
func (s *server) stop() {
	if s.alive() {
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

// open connects as root (empty password) to database db ("" for none)
// and checks the connection.
func (s *server) open(db string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", s.addr, db
	cfg.MaxAllowedPacket = 64 << 20
	pool, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", s.addr, err)
	}
	return pool, nil
}

// errServerDied is returned when the server process exits mid-run.
var errServerDied = errors.New("the sibyldb server exited")
