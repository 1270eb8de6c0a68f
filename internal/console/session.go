package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

const (
	sessionCookie = "sibyl_session"
	// loginCookie carries the sign-in form's CSRF token (double submit):
	// there is no session yet to keep it in.
	loginCookie = "sibyl_login"
	// maxSessions bounds the open web sessions (each holds MySQL
	// connections); sign-in beyond it is refused until some expire.
	maxSessions = 256
)

// session is one signed-in browser. Its pool connects as the user, so
// every query a page makes is checked as that user's.
type session struct {
	id   string
	user string
	csrf string
	db   *sql.DB

	mu       sync.Mutex
	lastSeen time.Time
}

func (s *session) touch(now time.Time) {
	s.mu.Lock()
	s.lastSeen = now
	s.mu.Unlock()
}

func (s *session) idleSince() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastSeen
}

type sessionStore struct {
	idle time.Duration

	mu       sync.Mutex
	sessions map[string]*session // by sha256 of the id: a timing leak in the map reveals nothing usable
}

func newSessionStore(idle time.Duration) *sessionStore {
	return &sessionStore{idle: idle, sessions: map[string]*session{}}
}

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return string(h[:])
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

var errTooManySessions = errors.New("too many open console sessions; try again later")

func (st *sessionStore) add(user string, db *sql.DB) (*session, error) {
	s := &session{id: randomToken(), user: user, csrf: randomToken(), db: db, lastSeen: time.Now()}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.sessions) >= maxSessions {
		return nil, errTooManySessions
	}
	st.sessions[hashID(s.id)] = s
	return s, nil
}

// get returns the live session with id, ending it if it has been idle too long.
func (st *sessionStore) get(id string) (*session, bool) {
	if id == "" {
		return nil, false
	}
	now := time.Now()
	st.mu.Lock()
	s, ok := st.sessions[hashID(id)]
	if ok && now.Sub(s.idleSince()) > st.idle {
		delete(st.sessions, hashID(id))
		ok = false
		defer s.db.Close()
	}
	st.mu.Unlock()
	if ok {
		s.touch(now)
	}
	return s, ok
}

func (st *sessionStore) remove(s *session) {
	st.mu.Lock()
	delete(st.sessions, hashID(s.id))
	st.mu.Unlock()
	_ = s.db.Close()
}

// expire ends the sessions idle for longer than the timeout.
func (st *sessionStore) expire(now time.Time) {
	var ended []*session
	st.mu.Lock()
	for k, s := range st.sessions {
		if now.Sub(s.idleSince()) > st.idle {
			delete(st.sessions, k)
			ended = append(ended, s)
		}
	}
	st.mu.Unlock()
	for _, s := range ended {
		_ = s.db.Close()
	}
}

func (st *sessionStore) closeAll() {
	st.mu.Lock()
	all := st.sessions
	st.sessions = map[string]*session{}
	st.mu.Unlock()
	for _, s := range all {
		_ = s.db.Close()
	}
}

func (c *Console) expireSessions(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			c.sessions.expire(now)
		}
	}
}

// pinnedTLS trusts exactly cert: the console's MySQL connections go to
// the listener of its own process, which presents the same certificate,
// whatever names it was issued for.
func pinnedTLS(cert tls.Certificate) *tls.Config {
	var leaf []byte
	if len(cert.Certificate) > 0 {
		leaf = cert.Certificate[0]
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Verification is VerifyPeerCertificate's: chain and name checks
		// mean nothing for a certificate pinned byte for byte.
		InsecureSkipVerify: true, //nolint:gosec // pinned below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || len(leaf) == 0 || subtle.ConstantTimeCompare(raw[0], leaf) != 1 {
				return errors.New("console: the MySQL listener presented an unexpected certificate")
			}
			return nil
		},
	}
}

// connect signs user in through the server's MySQL listener; the error is
// the server's (e.g. 1045 Access denied).
func (c *Console) connect(ctx context.Context, user, password string) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = user, password, "tcp", c.cfg.MySQLAddr
	cfg.InterpolateParams = true
	if c.mysqlTLS != nil {
		cfg.TLS = c.mysqlTLS
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(conn)
	// A browser needs few connections; an idle one is closed soon, and
	// reopened with the same credentials when needed.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode})
}

// authed runs h for a signed-in session; others are sent to sign in. A
// POST must carry the session's CSRF token.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var id string
		if ck, err := r.Cookie(sessionCookie); err == nil {
			id = ck.Value
		}
		s, ok := c.sessions.get(id)
		if !ok {
			if r.Method != http.MethodGet {
				http.Error(w, "not signed in", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			if !sameToken(r.PostFormValue("csrf"), s.csrf) {
				http.Error(w, "invalid or missing CSRF token", http.StatusForbidden)
				return
			}
		}
		h(w, r, s)
	})
}

func sameToken(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.renderLogin(w, r, "", http.StatusOK)
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, msg string, code int) {
	token := randomToken()
	c.setCookie(w, loginCookie, token, 600)
	next := r.FormValue("next")
	if !safeNext(next) {
		next = "/models"
	}
	w.WriteHeader(code)
	c.render(w, "login", map[string]any{"CSRF": token, "Error": msg, "Next": next, "User": r.PostFormValue("user")})
}

// safeNext accepts only a path on this site as where to go after sign-in.
func safeNext(p string) bool {
	return len(p) > 0 && p[0] == '/' && (len(p) == 1 || (p[1] != '/' && p[1] != '\\'))
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) {
		http.Error(w, "invalid or missing CSRF token", http.StatusForbidden)
		return
	}
	user, password := r.PostFormValue("user"), r.PostFormValue("password")
	if user == "" {
		c.renderLogin(w, r, "Enter a user name.", http.StatusOK)
		return
	}
	db, err := c.connect(r.Context(), user, password)
	if err != nil {
		msg := "Sign-in failed."
		var me *mysql.MySQLError
		if errors.As(err, &me) {
			msg = fmt.Sprintf("ERROR %d (%s): %s", me.Number, sqlState(me), me.Message)
		}
		c.log.WithField("user", user).Info("console sign-in refused")
		// The form again, with the server's answer: a page, not a failed
		// resource, for the browser.
		c.renderLogin(w, r, msg, http.StatusOK)
		return
	}
	s, err := c.sessions.add(user, db)
	if err != nil {
		_ = db.Close()
		c.renderLogin(w, r, err.Error(), http.StatusServiceUnavailable)
		return
	}
	c.setCookie(w, loginCookie, "", -1)
	c.setCookie(w, sessionCookie, s.id, 0)
	next := r.PostFormValue("next")
	if !safeNext(next) {
		next = "/models"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	c.sessions.remove(s)
	c.setCookie(w, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func sqlState(me *mysql.MySQLError) string {
	if me.SQLState == [5]byte{} {
		return "HY000"
	}
	return string(me.SQLState[:])
}
