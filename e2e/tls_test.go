package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sibyldb-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestTLSClientConnections(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	srv := testserver.Start(t, "--tls-cert", certFile, "--tls-key", keyFile, "--require-secure-transport")
	require.NoError(t, mysql.RegisterTLSConfig("sibyldb-test", &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))

	// A verified TLS connection works.
	db := srv.Open(srv.DSN("root", "", "", "tls=sibyldb-test"))
	require.EqualValues(t, 1, queryInt(t, db, "SELECT @@require_secure_transport"))

	// A plain connection is refused.
	plain, err := sql.Open("mysql", srv.DSN("root", "", ""))
	require.NoError(t, err)
	defer plain.Close()
	num, _ := mysqlErr(t, plain.Ping())
	require.EqualValues(t, 3159, num, "MySQL's ER_SECURE_TRANSPORT_REQUIRED")

	// The mariadb client connects with TLS too.
	out, err := srv.Mariadb("SELECT 42;\n", "-u", "root", "--ssl", "--ssl-ca", certFile)
	require.NoError(t, err, out)
	require.Contains(t, out, "42")
}

func TestTLSFlagsAreValidated(t *testing.T) {
	bin := testserver.Binary(t)
	out, err := runCommand(t, bin, "serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--require-secure-transport")
	require.Error(t, err)
	require.Contains(t, out, "--tls-cert")
	out, err = runCommand(t, bin, "serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--tls-cert", "/nonexistent.pem", "--tls-key", "/nonexistent.key")
	require.Error(t, err)
	require.Contains(t, out, "load TLS certificate")
}

func TestAuthenticationPluginsAndRequireSSL(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	srv := testserver.Start(t, "--tls-cert", certFile, "--tls-key", keyFile)
	require.NoError(t, mysql.RegisterTLSConfig("sibyldb-auth", &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}))
	root := srv.DB("")
	mustExec(t, root,
		"CREATE USER sha IDENTIFIED WITH caching_sha2_password BY 'pw-sha'",
		"CREATE USER nat IDENTIFIED WITH mysql_native_password BY 'pw-nat'",
		"CREATE USER tlsonly IDENTIFIED BY 'pw-tls' REQUIRE SSL")

	for _, c := range []struct{ user, pass, params string }{
		{"sha", "pw-sha", "tls=sibyldb-auth"},
		{"nat", "pw-nat", ""},
		{"nat", "pw-nat", "tls=sibyldb-auth"},
		{"tlsonly", "pw-tls", "tls=sibyldb-auth"},
	} {
		db := srv.Open(srv.DSN(c.user, c.pass, "", c.params))
		require.EqualValues(t, 1, queryInt(t, db, "SELECT 1"), "%s %s", c.user, c.params)
	}
	for _, c := range []struct{ user, pass, params string }{
		{"sha", "wrong", "tls=sibyldb-auth"},
		{"tlsonly", "pw-tls", ""}, // REQUIRE SSL refuses a plain connection
	} {
		db, err := sql.Open("mysql", srv.DSN(c.user, c.pass, "", c.params))
		require.NoError(t, err)
		err = db.Ping()
		db.Close()
		num, _ := mysqlErr(t, err)
		require.EqualValues(t, 1045, num, "%s %s", c.user, c.params)
	}
}

func TestHTTPSEndpointWithCABundle(t *testing.T) {
	model := testserver.StartTLSModelServer(t)
	model.Set(func(b *testserver.Behaviour) { b.Score = doubler })
	// A CA_BUNDLE path is a server file: inside secure_file_priv.
	files := t.TempDir()
	caFile := filepath.Join(files, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, model.CACert, 0o600))
	srv := testserver.Start(t, "--secure-file-priv", files)
	db := srv.DB("", "multiStatements=true")
	mustExec(t, db, "CREATE DATABASE s", "USE s",
		fmt.Sprintf("CREATE ENDPOINT untrusted URL '%s'", model.URL),
		"CREATE FUNCTION f_untrusted(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'untrusted'",
		fmt.Sprintf("CREATE ENDPOINT trusted URL '%s' CA_BUNDLE '%s'", model.URL, caFile),
		"CREATE FUNCTION f_trusted(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'trusted'")
	db = srv.DB("s")
	_, err := db.Exec("SELECT f_untrusted(1)")
	require.ErrorContains(t, err, "certificate", "a private CA is not trusted by default")
	require.EqualValues(t, 42, queryInt(t, db, "SELECT f_trusted(21)"))

	// The bundle can also be given inline, and a bad one is refused at once.
	mustExec(t, db, fmt.Sprintf("ALTER ENDPOINT untrusted CA_BUNDLE '%s'", model.CACert))
	require.EqualValues(t, 42, queryInt(t, db, "SELECT f_untrusted(21)"))
	_, err = db.Exec("CREATE ENDPOINT bad URL 'https://127.0.0.1:1' CA_BUNDLE '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----'")
	require.ErrorContains(t, err, "CA_BUNDLE")
}
