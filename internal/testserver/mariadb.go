package testserver

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// MariaDBCommand prepares a MariaDB server, the MySQL implementation the
// tests compare SibylDB's behaviour with and the benchmarks its speed: a
// new data directory under dir, the server on addr, extra server options
// appended. It returns the server's command, not yet started.
func MariaDBCommand(dir, addr string, extra ...string) (*exec.Cmd, error) {
	mariadbd, err := exec.LookPath("mariadbd")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/mariadbd"); statErr != nil {
			return nil, errors.New("mariadbd not installed (make deps installs mariadb-server)")
		}
		mariadbd = "/usr/sbin/mariadbd"
	}
	installDB, err := exec.LookPath("mariadb-install-db")
	if err != nil {
		return nil, errors.New("mariadb-install-db not installed (make deps installs mariadb-server)")
	}
	data := filepath.Join(dir, "data")
	var user []string
	if os.Geteuid() == 0 {
		user = []string{"--user=root"}
	}
	install := exec.Command(installDB, append([]string{"--no-defaults", "--datadir=" + data,
		"--auth-root-authentication-method=normal", "--skip-test-db"}, user...)...)
	if out, err := install.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mariadb-install-db: %v\n%s", err, out)
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--no-defaults", "--datadir=" + data,
		"--bind-address=127.0.0.1", "--port=" + port, "--socket=" + filepath.Join(dir, "mysqld.sock"),
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--skip-log-bin"}, user...)
	return exec.Command(mariadbd, append(args, extra...)...), nil
}

// StartMariaDB runs MariaDB for the test, with extra server options, and
// returns a root DSN prefix ("root@tcp(host:port)/"). The test is skipped
// when MariaDB is not installed; make test installs it.
func StartMariaDB(t testing.TB, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cmd, err := MariaDBCommand(dir, addr, extra...)
	if err != nil {
		t.Skipf("no MariaDB to compare with: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mariadbd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	dsn := "root@tcp(" + addr + ")/"
	for deadline := time.Now().Add(2 * time.Minute); ; {
		db, err := sql.Open("mysql", dsn)
		if err == nil {
			err = db.Ping()
			_ = db.Close()
		}
		if err == nil {
			return dsn
		}
		select {
		case e := <-exited:
			t.Fatalf("mariadbd exited during start-up: %v", e)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("mariadbd did not accept connections: %v", err)
		}
	}
}
