package testserver

import (
	"database/sql"
	"fmt"
	"net"
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
