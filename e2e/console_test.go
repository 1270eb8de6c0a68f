package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

var consoleURLRE = regexp.MustCompile(`web console at (https?://[^\s"]+/)`)

// startConsole starts a server with the web console and returns the
// console's URL.
func startConsole(t *testing.T, extra ...string) (*testserver.Server, string) {
	t.Helper()
	srv := testserver.Start(t, append([]string{"--http-addr", "127.0.0.1:0"}, extra...)...)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := consoleURLRE.FindStringSubmatch(srv.Log()); m != nil {
			return srv, m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the web console did not start\n%s", srv.Log())
	return nil, ""
}

// browser is headless Chromium that fails the test on any console error,
// uncaught exception or error logged by the page (a CSP violation, a
// failed load).
type browser struct {
	t   *testing.T
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("chromium not installed (scripts/install-deps.sh installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests may run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t}
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithListener(b.event))
	b.ctx = ctx
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.errors) > 0 {
			t.Errorf("the pages logged errors:\n%s", strings.Join(b.errors, "\n"))
		}
	})
	// Start the browser now, without a timeout (it would stop the browser).
	require.NoError(t, chromedp.Do(ctx))
	return b
}

// event records what a page reports as an error.
func (b *browser) event(ev any) {
	var msg string
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, a.Description+string(a.Value))
			}
			msg = "console." + string(e.Type) + ": " + strings.Join(parts, " ")
		}
	case *runtime.EventExceptionThrown:
		msg = "uncaught exception: " + e.ExceptionDetails.Text
		if ex := e.ExceptionDetails.Exception; ex != nil {
			msg += " " + ex.Description
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError {
			msg = "log: " + e.Entry.Text + " " + e.Entry.URL
		}
	}
	if msg != "" {
		b.mu.Lock()
		b.errors = append(b.errors, msg)
		b.mu.Unlock()
	}
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, steps...))
}

func get[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(b.t, err)
	return v
}

// html navigates to u and returns the page's HTML.
func (b *browser) html(u string) string {
	b.t.Helper()
	b.do(chromedp.Navigate(u))
	return get(b, chromedp.OuterHTML(chromedp.CSS("html")))
}

func (b *browser) location() string {
	b.t.Helper()
	return get(b, chromedp.Location())
}

func (b *browser) signIn(base, user, password string) {
	b.t.Helper()
	b.do(chromedp.Navigate(base+"login"),
		chromedp.SendKeys(chromedp.CSS("#user"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#signed-in-user")))
}

// runSQL runs q on the SQL page in database db and returns the page.
func (b *browser) runSQL(base, db, q string) string {
	b.t.Helper()
	b.do(chromedp.Navigate(base+"sql"),
		chromedp.SetValue(chromedp.CSS("#db"), db),
		chromedp.SetValue(chromedp.CSS("#q"), q),
		chromedp.Click(chromedp.CSS("#run")),
		chromedp.WaitVisible(chromedp.CSS("#sql-error, #row-info")))
	return get(b, chromedp.OuterHTML(chromedp.CSS("html")))
}

// screenshot saves the page as a PNG in dir and checks it is a real image.
func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	buf := get(b, chromedp.FullScreenshot(100))
	p := filepath.Join(dir, name+".png")
	require.NoError(b.t, os.WriteFile(p, buf, 0o600))
	img, err := png.Decode(bytes.NewReader(buf))
	require.NoError(b.t, err, "%s is not a PNG", p)
	require.Greater(b.t, img.Bounds().Dx(), 100, p)
	require.Greater(b.t, img.Bounds().Dy(), 100, p)
}

func TestConsoleInBrowser(t *testing.T) {
	srv, base := startConsole(t)
	model := testserver.StartModelServer(t)
	model.Set(func(b *testserver.Behaviour) { b.Score = doubler })
	root := srv.DB("", "multiStatements=true")
	var sb strings.Builder
	sb.WriteString("INSERT INTO shop.visits VALUES ")
	for i := 0; i < 300; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		// bought follows spend with some noise, so the ROC is not perfect.
		spend := float64(i%50) + float64(i%7)*0.3
		bought := 0
		if spend > 25 || i%11 == 0 {
			bought = 1
		}
		fmt.Fprintf(&sb, "(%d,%g,%d,%d)", i, spend, i%13, bought)
	}
	mustExec(t, root,
		"CREATE DATABASE shop",
		"CREATE TABLE shop.visits (id INT PRIMARY KEY, spend DOUBLE, pages INT, bought INT)",
		sb.String(),
		"CREATE DATABASE other",
		"CREATE USER bob IDENTIFIED BY 'bob-pw'",
		"GRANT SELECT ON other.* TO bob",
		fmt.Sprintf("CREATE ENDPOINT scorer URL '%s' PROTOCOL SAGEMAKER", model.URL),
		"CREATE FUNCTION shop.twice(x DOUBLE) RETURNS DOUBLE ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'scorer'",
		// The other plot kinds, trained directly.
		`CREATE MODEL shop.spend_reg FROM (SELECT pages, bought, spend FROM shop.visits) TARGET spend FUNCTION spend_of
			AUTO OFF MODEL_TYPE LINEAR_LEARNER`,
		`CREATE MODEL shop.segments FROM (SELECT spend, pages FROM shop.visits) FUNCTION segment_of
			AUTO OFF MODEL_TYPE KMEANS HYPERPARAMETERS DEFAULT EXCEPT (K '3')`,
		`CREATE MODEL shop.outliers FROM (SELECT spend, pages FROM shop.visits) FUNCTION outlier_of
			AUTO OFF MODEL_TYPE RANDOM_CUT_FOREST HYPERPARAMETERS DEFAULT EXCEPT (NUM_TREES '20')`,
	)
	shots := t.TempDir()
	b := newBrowser(t)

	// Nothing but the health check answers without signing in.
	require.Contains(t, b.html(base+"healthz"), "ok")
	b.html(base + "models")
	require.Contains(t, b.location(), "/login?next=%2Fmodels")

	// A wrong password is the server's own refusal.
	b.do(chromedp.Navigate(base+"login"),
		chromedp.SendKeys(chromedp.CSS("#user"), "root"),
		chromedp.SendKeys(chromedp.CSS("#password"), "wrong"),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#login-error")))
	loginErr := get(b, chromedp.Text(chromedp.CSS("#login-error")))
	require.Contains(t, loginErr, "ERROR 1045 (28000)")

	b.signIn(base, "root", "")
	b.screenshot(shots, "models-empty")

	// Train a classifier from the SQL page and watch it turn READY.
	page := b.runSQL(base, "shop", `CREATE MODEL buyers FROM (SELECT spend, pages, bought FROM visits) TARGET bought FUNCTION will_buy
		AUTO OFF MODEL_TYPE XGBOOST PROBLEM_TYPE BINARY_CLASSIFICATION HYPERPARAMETERS DEFAULT EXCEPT (NUM_ROUND '20')`)
	require.NotContains(t, page, `id="sql-error"`, page)
	b.do(chromedp.Navigate(base + "models"))
	deadline := time.Now().Add(45 * time.Second)
	state := ""
	for time.Now().Before(deadline) {
		// The page reloads itself while a model trains.
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		s, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		cancel()
		if err != nil {
			continue // reloading
		}
		if m := regexp.MustCompile(`data-model="shop.buyers">[\s\S]*?class="state state-(\w+)"`).FindStringSubmatch(s); m != nil {
			state = m[1]
			if state == "READY" || state == "FAILED" {
				break
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	require.Equal(t, "READY", state)
	b.screenshot(shots, "models")

	// Its plots: confusion matrix, ROC with AUC, feature importance.
	page = b.html(base + "models/shop/buyers")
	require.Contains(t, page, `id="model-state">READY`)
	require.Regexp(t, `<svg[^>]*id="roc"[\s\S]*?<path class="roc-curve s0" d="M[^"]+L[^"]+"`, page)
	// The split is random: a validation sample may happen to be separable.
	require.Regexp(t, `<text class="auc s0"[^>]*>AUC 1 = (0\.\d{3}|1\.000)</text>`, page)
	require.Regexp(t, `<svg[^>]*id="confusion"`, page)
	require.Equal(t, 4, strings.Count(page, `<rect class="cell"`), "a 2×2 confusion matrix")
	require.Regexp(t, `<svg[^>]*id="importance"[\s\S]*?<rect class="bar"`, page)
	require.Contains(t, page, `id="training-query"`)
	require.Contains(t, page, "SELECT spend, pages, bought FROM visits")
	require.Regexp(t, `<th>AUC</th><td>(0\.\d+|1)</td>`, page)
	b.screenshot(shots, "model-classifier")

	for _, c := range []struct{ model, svg, want string }{
		{"spend_reg", "predicted-actual", `<circle class="point"`},
		{"spend_reg", "residuals", `<circle class="point"`},
		{"segments", "clusters", `<rect class="bar"`},
		{"outliers", "scores", `<path class="threshold"`},
	} {
		require.Equal(t, "READY", waitModel(t, root, "shop."+c.model)["Model State"], c.model)
		page = b.html(base + "models/shop/" + c.model)
		require.Regexp(t, `<svg[^>]*id="`+c.svg+`"[\s\S]*?`+c.want, page, c.model)
	}
	b.screenshot(shots, "model-anomaly")

	// SQL: a paged result, an error with its MySQL code, EXPLAIN.
	page = b.runSQL(base, "shop", "SELECT id, spend, twice(spend) FROM visits ORDER BY id")
	require.Equal(t, 101, strings.Count(page, "<tr>"), "a header and 100 rows")
	require.Contains(t, page, `id="next-page"`)
	b.do(chromedp.Click(chromedp.CSS("#next-page")), chromedp.WaitVisible(chromedp.CSS("#prev-page")))
	first := get(b, chromedp.Text(chromedp.CSS("#result tbody tr td")))
	require.Equal(t, "100", first)
	b.screenshot(shots, "sql")
	page = b.runSQL(base, "shop", "SELECT * FROM missing")
	require.Regexp(t, `id="sql-error">ERROR 1146 \(42S02\)`, page)
	page = b.runSQL(base, "shop", "EXPLAIN SELECT v.id FROM visits v JOIN visits w ON v.id = w.id WHERE v.spend > 3")
	require.NotContains(t, page, `id="sql-error"`)
	require.Contains(t, page, `id="explain-tree"`)
	require.Contains(t, page, "<th>possible_keys</th>", "the tabular EXPLAIN is shown too")

	// Endpoints: the function's figures after the query above.
	page = b.html(base + "endpoints")
	require.Regexp(t, `data-function="shop.twice"><td>shop.twice</td><td>[1-9]`, page)
	require.Contains(t, page, "<code>scorer</code>")
	require.Contains(t, page, `id="circuit-scorer">closed<`)
	b.screenshot(shots, "endpoints")

	// The audit log has the training run (written in the background).
	deadline = time.Now().Add(30 * time.Second)
	for {
		page = b.html(base + "audit?function=" + url.QueryEscape("CREATE MODEL shop.buyers"))
		if strings.Contains(page, "<td>CREATE MODEL shop.buyers</td>") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.Contains(t, page, "<td>CREATE MODEL shop.buyers</td>")
	b.screenshot(shots, "audit")
	for _, c := range []struct {
		query string
		found bool
	}{
		{"user=root&outcome=ok", true},
		{"user=bob", false},
		{"outcome=error&function=" + url.QueryEscape("CREATE MODEL shop.buyers"), false},
		{"from=2000-01-01T00:00&to=2999-01-01T00:00&function=" + url.QueryEscape("CREATE MODEL shop.buyers"), true},
		{"to=2000-01-01T00:00", false},
	} {
		page = b.html(base + "audit?" + c.query)
		require.NotContains(t, page, `id="audit-error"`, c.query)
		require.Equal(t, c.found, strings.Contains(page, "<td>CREATE MODEL shop.buyers</td>"), c.query)
	}

	// Sign out: the pages send to sign-in again.
	b.do(chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#sign-in")))
	for _, p := range []string{"models", "models/shop/buyers", "sql", "audit", "endpoints"} {
		b.html(base + p)
		require.Contains(t, b.location(), "/login?next=", p)
	}

	// bob sees what SQL shows bob: no models, no functions, no audit rows.
	b.signIn(base, "bob", "bob-pw")
	page = b.html(base + "models")
	require.Contains(t, page, `id="no-models"`)
	require.NotContains(t, page, "buyers")
	page = b.html(base + "models/shop/buyers")
	require.Contains(t, page, `id="model-error"`)
	require.NotContains(t, page, "<svg")
	page = b.html(base + "endpoints")
	require.NotContains(t, page, "shop.twice")
	page = b.html(base + "audit")
	// SELECT on the system database is refused (1044 or 1142, as the
	// server decides), and no row is shown.
	require.Regexp(t, `id="audit-error">ERROR (1044|1142) \(42000\)`, page)
	require.NotContains(t, page, "<td>CREATE MODEL shop.buyers</td>")
	page = b.runSQL(base, "shop", "SELECT * FROM visits")
	require.Regexp(t, `id="sql-error">ERROR 1044 \(42000\)`, page)
	b.screenshot(shots, "bob")

	entries, err := os.ReadDir(shots)
	require.NoError(t, err)
	require.Len(t, entries, 8)
}

// consoleClient signs user in with a plain HTTP client and returns it and
// the session's CSRF token (from the SQL page's form).
func consoleClient(t *testing.T, base, user, password string, tlsCfg *tls.Config) (*http.Client, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	t.Cleanup(c.CloseIdleConnections)
	token := formToken(t, c, base+"login")
	resp, err := c.PostForm(base+"login", url.Values{"csrf": {token}, "user": {user}, "password": {password}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasSuffix(resp.Request.URL.Path, "/models"), resp.Request.URL.String())
	return c, formToken(t, c, base+"sql")
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func formToken(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	m := csrfRE.FindSubmatch(body)
	require.NotNil(t, m, "no CSRF token on %s:\n%s", u, body)
	return string(m[1])
}

func TestConsoleRejectsPostsWithoutCSRFToken(t *testing.T) {
	srv, base := startConsole(t)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE d")
	c, token := consoleClient(t, base, "root", "", nil)
	noRedirect := *c
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	for _, tc := range []struct {
		name  string
		path  string
		form  url.Values
		token string
		code  int
	}{
		{"sql without token", "sql", url.Values{"q": {"CREATE TABLE d.t1 (a INT)"}}, "", http.StatusForbidden},
		{"sql with a wrong token", "sql", url.Values{"q": {"CREATE TABLE d.t2 (a INT)"}}, strings.Repeat("A", 43), http.StatusForbidden},
		{"logout without token", "logout", url.Values{}, "", http.StatusForbidden},
		{"sign-in without the form's token", "login", url.Values{"user": {"root"}, "password": {""}}, "", http.StatusForbidden},
		{"sql with the token", "sql", url.Values{"q": {"CREATE TABLE d.t3 (a INT)"}}, token, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.token != "" {
				tc.form.Set("csrf", tc.token)
			}
			resp, err := noRedirect.PostForm(base+tc.path, tc.form)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, tc.code, resp.StatusCode)
		})
	}
	// Only the statement with the token ran.
	require.EqualValues(t, 1, queryInt(t, root, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'd'"))
	require.EqualValues(t, 1, queryInt(t, root, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'd' AND table_name = 't3'"))

	// A POST from a browser that is not signed in is refused outright.
	resp, err := http.PostForm(base+"sql", url.Values{"q": {"CREATE TABLE d.t4 (a INT)"}, "csrf": {token}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestConsoleOverTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	_, base := startConsole(t, "--tls-cert", certFile, "--tls-key", keyFile, "--require-secure-transport")
	require.True(t, strings.HasPrefix(base, "https://"), base)
	tlsCfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}

	// Sign-in works even with require_secure_transport: the console's own
	// MySQL connection uses TLS.
	c, _ := consoleClient(t, base, "root", "", tlsCfg)
	u, err := url.Parse(base)
	require.NoError(t, err)
	var session *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "sibyl_session" {
			session = ck
		}
	}
	require.NotNil(t, session)
	require.Len(t, session.Value, 43, "256 random bits")

	// The cookie's flags, as the server set them.
	jar, _ := cookiejar.New(nil)
	raw := &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	token := formToken(t, raw, base+"login")
	raw.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := raw.PostForm(base+"login", url.Values{"csrf": {token}, "user": {"root"}, "password": {""}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	setCookie := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
	require.Regexp(t, `sibyl_session=[^;]+; Path=/; HttpOnly; Secure; SameSite=Strict`, setCookie)

	// Plain HTTP gets nothing.
	if resp, err := http.Get(strings.Replace(base, "https://", "http://", 1) + "healthz"); err == nil {
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	}
	var unknown x509.UnknownAuthorityError
	_, err = http.Get(base + "healthz")
	require.ErrorAs(t, err, &unknown)
}

// TestConsoleServesMetrics: /metrics is also on the console's listener,
// outside sign-in: open on a loopback console, behind the metrics token
// when one is set.
func TestConsoleServesMetrics(t *testing.T) {
	scrape := func(u, token string) (int, string) {
		t.Helper()
		code, body := getMetrics(t, u+"metrics", token)
		return code, string(body)
	}
	_, base := startConsole(t)
	code, body := scrape(base, "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "sibyl_build_info")

	_, base = startConsole(t, "--metrics-token-file", tokenFile(t, metricsToken))
	code, _ = scrape(base, "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, body = scrape(base, metricsToken)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "sibyl_statement_duration_seconds")
}
