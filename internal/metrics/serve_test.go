package metrics

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// selfSigned returns a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sibyldb-metrics-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// With the server's certificate the metrics are served over HTTPS only,
// so a token never crosses the network in clear text.
func TestServeTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	auth, err := NewAuth("tls-token-0123456789abcdef")
	require.NoError(t, err)
	m := New(Sources{Version: "test"})
	srv, err := Serve(m.Handler(), ServeOptions{Addr: "127.0.0.1:0", Auth: auth,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Close(context.Background())) }()
	require.True(t, strings.HasPrefix(srv.URL(), "https://127.0.0.1:"), srv.URL())

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL(), nil)
	req.Header.Set("Authorization", "Bearer tls-token-0123456789abcdef")
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// Plain HTTP gets no metrics.
	resp, err = http.Get("http" + strings.TrimPrefix(srv.URL(), "https"))
	if err == nil {
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	}
}

// Only /metrics is served.
func TestServeOnlyMetricsPath(t *testing.T) {
	m := New(Sources{})
	srv, err := Serve(m.Handler(), ServeOptions{Addr: "127.0.0.1:0"})
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Close(context.Background())) }()
	for path, want := range map[string]int{"/metrics": http.StatusOK, "/": http.StatusNotFound, "/debug/pprof/": http.StatusNotFound} {
		resp, err := http.Get(strings.TrimSuffix(srv.URL(), "/metrics") + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, path)
	}
}
