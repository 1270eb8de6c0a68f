package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// MinTokenLength is the shortest bearer token accepted: tokens are meant
// to be random (openssl rand -hex 32), and a short one could be guessed.
const MinTokenLength = 16

// Auth checks the bearer token scrapers send.
//
// A token file, not SibylDB accounts, guards the metrics: Prometheus
// sends a bearer token from a file natively (authorization:
// credentials_file), a scrape every few seconds should not run a password
// hash or touch the privilege tables, and a token that can only read
// metrics is a smaller secret to hand to a monitoring system than a
// database account's password.
type Auth struct {
	sum [sha256.Size]byte
}

// ErrInsecure refuses to publish metrics on a non-loopback address
// without a token: the figures name endpoints, functions and schemas.
var ErrInsecure = errors.New("refusing to serve metrics on a non-loopback address without authentication (set --metrics-token-file)")

// LoadToken reads the token from path: the file's content, surrounding
// white space removed.
func LoadToken(path string) (*Auth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("metrics token: %w", err)
	}
	return NewAuth(strings.TrimSpace(string(b)))
}

// NewAuth accepts requests bearing token.
func NewAuth(token string) (*Auth, error) {
	if len(token) < MinTokenLength {
		return nil, fmt.Errorf("metrics token: %d characters; it must have at least %d (e.g. openssl rand -hex 32)", len(token), MinTokenLength)
	}
	return &Auth{sum: sha256.Sum256([]byte(token))}, nil
}

// Allowed reports whether r bears the token. Digests are compared, in
// constant time, so neither the token's content nor its length leaks
// through timing.
func (a *Auth) Allowed(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
	return subtle.ConstantTimeCompare(got[:], a.sum[:]) == 1
}

// Wrap guards h: requests without the token get 401.
func (a *Auth) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.Allowed(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sibyldb metrics"`)
			http.Error(w, "401 Unauthorized: send Authorization: Bearer <token from --metrics-token-file>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ServeOptions say where and how Serve publishes the metrics.
type ServeOptions struct {
	// Addr is HOST:PORT; port 0 picks a free port.
	Addr string
	// Auth, when set, is required of every request. Without it Addr must
	// be a loopback address.
	Auth *Auth
	// TLS, when set, serves HTTPS (the server's --tls-cert).
	TLS *tls.Config
}

// Server is a running metrics listener.
type Server struct {
	srv      *http.Server
	listener net.Listener
	tls      bool
	done     chan error
}

// Serve publishes h at /metrics on opts.Addr until Close.
func Serve(h http.Handler, opts ServeOptions) (*Server, error) {
	loopback, err := IsLoopback(opts.Addr)
	if err != nil {
		return nil, err
	}
	if !loopback && opts.Auth == nil {
		return nil, ErrInsecure
	}
	if opts.Auth != nil {
		h = opts.Auth.Wrap(h)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	l, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", opts.Addr, err)
	}
	if opts.TLS != nil {
		l = tls.NewListener(l, opts.TLS)
	}
	s := &Server{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
			WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10},
		listener: l,
		tls:      opts.TLS != nil,
		done:     make(chan error, 1),
	}
	go func() { s.done <- s.srv.Serve(l) }()
	return s, nil
}

// URL is where the metrics are served.
func (s *Server) URL() string {
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	return scheme + "://" + s.listener.Addr().String() + "/metrics"
}

// Close stops the listener, letting scrapes in progress finish until ctx
// ends.
func (s *Server) Close(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// IsLoopback reports whether addr's host accepts only local connections;
// an empty host listens on every interface, so it is not loopback.
func IsLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("invalid metrics address %q: %w", addr, err)
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}
