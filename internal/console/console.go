// Package console is SibylDB's web console: pages that show the models,
// endpoints, ML functions and audit log, and run SQL, for a signed-in
// SibylDB account.
//
// The console is a MySQL client of the server it runs in: signing in opens
// a connection through the server's own MySQL listener with the user's
// name and password, and every page queries through it. Authentication and
// every privilege check are therefore the server's own; a page shows only
// what SQL shows that user. Data that SQL has no statement for (a model's
// validation outputs, the history of the per-function figures) is read
// in-process, and only for objects the user's SQL has just shown them.
//
// Pages are rendered with html/template from embedded files; charts are
// SVG drawn on the server, so the pages need no JavaScript and nothing is
// fetched from another origin.
package console

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/sibyldb/sibyldb/internal/ml/automl"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is how the console is started.
type Config struct {
	// Addr is HOST:PORT to serve on. A bare PORT or :PORT binds the
	// loopback interface only: exposing the console is a decision.
	Addr string
	// MySQLAddr is the server's MySQL listener (HOST:PORT), which sign-in
	// connects through.
	MySQLAddr string
	// TLSCert and TLSKey, when set, serve HTTPS (and mark cookies Secure).
	// The console's own MySQL connections then use TLS too, trusting only
	// this certificate: the MySQL listener is the same process.
	TLSCert, TLSKey string
	// IdleTimeout ends a web session not used for this long (default
	// 30 minutes).
	IdleTimeout time.Duration
	// Reports returns a model's training report (nil when it has none).
	// The console calls it only after SHOW MODEL, as the signed-in user,
	// showed the model.
	Reports func(db, name string) *automl.Report
	// FunctionStats returns every ML function's figures as rows of
	// information_schema.ML_FUNCTION_STATS; the console samples it into
	// a short history for the charts and shows a user the history of
	// the functions that table shows them.
	FunctionStats func() ([]map[string]any, error)
	// CircuitState is an endpoint's circuit-breaker state, shown beside
	// the endpoints the user's functions call.
	CircuitState func(endpoint string) string
	// SampleInterval is how often FunctionStats is sampled (default 5s).
	SampleInterval time.Duration
	// Extra are handlers mounted at their paths on the same listener,
	// outside sign-in (e.g. "/metrics"): each does its own authentication.
	Extra map[string]http.Handler
	// Logger receives the console's logs; nil means logrus's standard one.
	Logger *logrus.Logger
}

// Console is a running web console.
type Console struct {
	cfg      Config
	log      *logrus.Logger
	listener net.Listener
	http     *http.Server
	tmpl     map[string]*template.Template
	sessions *sessionStore
	history  *history
	secure   bool
	mysqlTLS *tls.Config

	// ctx ends the background work (sampling, session expiry) at Shutdown.
	ctx      context.Context
	stop     context.CancelFunc
	stopOnce sync.Once
}

// ListenAddr resolves --http-addr: a bare port or :port is loopback.
func ListenAddr(addr string) (string, error) {
	if addr == "" {
		return "", errors.New("empty address")
	}
	if !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// dialable turns a listener's wildcard address (0.0.0.0, ::) into the
// loopback one, which reaches the same listener.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// isLoopback reports whether host names only this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// New binds cfg.Addr. Call Serve to answer requests.
func New(cfg Config) (*Console, error) {
	if cfg.Logger == nil {
		cfg.Logger = logrus.StandardLogger()
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.SampleInterval <= 0 {
		cfg.SampleInterval = 5 * time.Second
	}
	if cfg.MySQLAddr == "" {
		return nil, errors.New("console: no MySQL address to sign in through")
	}
	cfg.MySQLAddr = dialable(cfg.MySQLAddr)
	addr, err := ListenAddr(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("console address %q: %w", cfg.Addr, err)
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, log: cfg.Logger, tmpl: tmpl, history: newHistory(historyLength)}
	c.sessions = newSessionStore(cfg.IdleTimeout)
	var tlsCfg *tls.Config
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("console TLS: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		c.secure = true
		c.mysqlTLS = pinnedTLS(cert)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("console: listen on %s: %w", addr, err)
	}
	c.ctx, c.stop = context.WithCancel(context.Background())
	if host, _, _ := net.SplitHostPort(addr); !c.secure && !isLoopback(host) {
		c.log.Warnf("web console on %s without TLS: passwords and session cookies cross the network in clear (set --tls-cert and --tls-key)", addr)
	}
	if tlsCfg != nil {
		l = tls.NewListener(l, tlsCfg)
	}
	c.listener = l
	c.http = &http.Server{
		Handler:           c.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return c, nil
}

// URL is where the console answers, e.g. https://127.0.0.1:8080/.
func (c *Console) URL() string {
	scheme := "http"
	if c.secure {
		scheme = "https"
	}
	return scheme + "://" + c.listener.Addr().String() + "/"
}

// Serve answers requests until Shutdown; it returns nil after Shutdown.
func (c *Console) Serve() error {
	go c.sample(c.ctx)
	go c.expireSessions(c.ctx)
	c.log.Infof("web console at %s", c.URL())
	err := c.http.Serve(c.listener)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops answering, ends every web session and closes their MySQL
// connections.
func (c *Console) Shutdown(ctx context.Context) error {
	err := c.http.Shutdown(ctx)
	c.stopOnce.Do(func() {
		c.stop()
		c.sessions.closeAll()
	})
	return err
}

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	// Browsers ask for /favicon.ico on pages that name no icon (the
	// health check); there is none.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.Handle("POST /logout", c.authed(c.logout))
	mux.Handle("GET /{$}", c.authed(func(w http.ResponseWriter, r *http.Request, s *session) {
		http.Redirect(w, r, "/models", http.StatusSeeOther)
	}))
	mux.Handle("GET /models", c.authed(c.modelsPage))
	mux.Handle("GET /models/{db}/{name}", c.authed(c.modelPage))
	mux.Handle("GET /endpoints", c.authed(c.endpointsPage))
	mux.Handle("GET /audit", c.authed(c.auditPage))
	mux.Handle("GET /sql", c.authed(c.sqlPage))
	mux.Handle("POST /sql", c.authed(c.sqlPage))
	for path, h := range c.cfg.Extra {
		mux.Handle(path, h)
	}
	return securityHeaders(mux)
}

// securityHeaders keeps the pages from being framed, sniffed or made to
// load anything from another origin; the only script allowed is none.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
