package testserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := MariaDBCommand(t.TempDir(), addr, extra...)
	if err != nil {
		t.Skipf("no MariaDB to compare with: %v", err)
	}
	dsn := "root@tcp(" + addr + ")/"
	stop, err := StartProcess(cmd, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return dsn
}
