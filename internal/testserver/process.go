package testserver

import (
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// FreeAddr returns a loopback address with a port free at the time of the
// call, for a server that cannot report the port it bound.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// StartProcess starts a MySQL-protocol server's command and waits, up to
// two minutes, until dsn answers a ping. stop ends the server (SIGTERM,
// then a kill after 30 s) and waits for it.
func StartProcess(cmd *exec.Cmd, dsn string) (stop func(), err error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		db, err := sql.Open("mysql", dsn)
		if err == nil {
			err = db.Ping()
			_ = db.Close()
		}
		if err == nil {
			return stop, nil
		}
		select {
		case e := <-exited:
			return nil, fmt.Errorf("%s exited during start-up: %v", cmd.Path, e)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("%s did not accept connections: %w", cmd.Path, err)
		}
	}
}

// Process is a server started by StartSibylDBProcess, StartMariaDBProcess
// or StartDoltProcess for a benchmark: its own temporary data dir, a free
// loopback address.
type Process struct {
	Addr string // host:port
	Stop func() // ends the server and removes its data dir
}

// DSN is the root user's DSN for the process, with no default database.
func (p *Process) DSN() string { return "root@tcp(" + p.Addr + ")/" }

// StartSibylDBProcess starts bin serve with extra arguments appended.
func StartSibylDBProcess(bin string, extra ...string) (*Process, error) {
	return startInTempDir("sibyldb", func(dir, addr string) (*exec.Cmd, error) {
		args := append([]string{"serve", "--data-dir", dir, "--addr", addr, "--log-level", "warn"}, extra...)
		return exec.Command(bin, args...), nil
	})
}

// StartMariaDBProcess starts a MariaDB server (MariaDBCommand).
func StartMariaDBProcess() (*Process, error) {
	return startInTempDir("mariadb", func(dir, addr string) (*exec.Cmd, error) {
		return MariaDBCommand(dir, addr)
	})
}

// StartDoltProcess starts `bin sql-server` (Dolt's own server, for a
// benchmark of the storage engine SibylDB embeds) with its data and its
// configuration in a temporary dir: DOLT_ROOT_PATH keeps the commit
// author CREATE DATABASE needs out of the user's global config.
func StartDoltProcess(bin string) (*Process, error) {
	return startInTempDir("dolt", func(dir, addr string) (*exec.Cmd, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		env := append(os.Environ(), "DOLT_ROOT_PATH="+dir)
		for _, kv := range [][2]string{{"user.name", "bench"}, {"user.email", "bench@localhost"}} {
			c := exec.Command(bin, "config", "--global", "--add", kv[0], kv[1])
			c.Env = env
			if out, err := c.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("dolt config: %w: %s", err, out)
			}
		}
		data := dir + "/data"
		if err := os.Mkdir(data, 0o700); err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, "sql-server", "--host", host, "--port", port, "--data-dir", data, "--loglevel", "warning")
		cmd.Env = env
		return cmd, nil
	})
}

func startInTempDir(name string, command func(dir, addr string) (*exec.Cmd, error)) (*Process, error) {
	dir, err := os.MkdirTemp("", name+"-bench-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	addr, err := FreeAddr()
	if err != nil {
		cleanup()
		return nil, err
	}
	cmd, err := command(dir, addr)
	if err != nil {
		cleanup()
		return nil, err
	}
	p := &Process{Addr: addr}
	stop, err := StartProcess(cmd, p.DSN())
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p.Stop = func() { stop(); cleanup() }
	return p, nil
}
