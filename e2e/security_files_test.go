package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/testserver"
)

// fileTree lays out secure_file_priv with links, a FIFO and siblings that
// share its name's prefix, and returns the root and the secure directory.
func fileTree(t *testing.T) (root, secure string) {
	t.Helper()
	root = t.TempDir()
	secure = filepath.Join(root, "secure")
	for _, d := range []string{"secure/sub", "secure2", "outside"} {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
	}
	files := map[string]string{
		"secure/in.txt":      "1\tinside\n",
		"outside/secret.txt": "1\tsecret\n",
		"secure2/x.txt":      "1\tsibling\n",
	}
	for f, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(root, f), []byte(content), 0o644))
	}
	model, err := os.ReadFile("testdata/lightgbm_breast_cancer.txt")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(secure, "model.txt"), model, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "outside", "model.txt"), model, 0o644))
	for link, target := range map[string]string{
		"secure/link_out":     "../outside/secret.txt",
		"secure/model_out":    "../outside/model.txt",
		"secure/dirlink":      "../outside",
		"secure/zero":         "/dev/zero",
		"secure/link_in":      "in.txt",
		"secure/dirlink_in":   "sub",
		"secure/link_created": "../outside/created.txt",
	} {
		require.NoError(t, os.Symlink(target, filepath.Join(root, link)))
	}
	require.NoError(t, syscall.Mkfifo(filepath.Join(secure, "fifo"), 0o644))
	return root, secure
}

// TestFileStatementsNeedFILE: without FILE, SELECT ... INTO OUTFILE and
// DUMPFILE are refused (1227), LOAD_FILE is NULL, and CREATE MODEL FROM
// 'file://...' is refused like LOAD DATA INFILE.
func TestFileStatementsNeedFILE(t *testing.T) {
	_, secure := fileTree(t)
	srv := testserver.Start(t, "--secure-file-priv", secure)
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE f", "CREATE TABLE f.t (id INT PRIMARY KEY, s VARCHAR(20))", "INSERT INTO f.t VALUES (1, 'a')",
		"CREATE USER mallory IDENTIFIED BY 'pw'", "GRANT SELECT, INSERT ON f.* TO mallory", "GRANT CREATE MODEL ON *.* TO mallory",
		// CREATE ROUTINE on f lets CREATE MODEL reach its FILE check.
		"GRANT CREATE ROUTINE ON f.* TO mallory",
		"CREATE USER filer IDENTIFIED BY 'pw'", "GRANT SELECT, INSERT ON f.* TO filer", "GRANT FILE ON *.* TO filer")
	mallory := srv.Open(srv.DSN("mallory", "pw", "f"))
	filer := srv.Open(srv.DSN("filer", "pw", "f"))

	denied := []string{
		fmt.Sprintf("SELECT * FROM t INTO OUTFILE '%s/m1.txt'", secure),
		fmt.Sprintf("SELECT s FROM t INTO DUMPFILE '%s/m2.bin'", secure),
		fmt.Sprintf("LOAD DATA INFILE '%s/in.txt' INTO TABLE t", secure),
		fmt.Sprintf("CREATE MODEL m FROM 'file://%s/model.txt' FUNCTION m_fn (%s) RETURNS INT", secure, doubles(30)),
	}
	for _, q := range denied {
		_, err := mallory.Exec(q)
		num, state := mysqlErr(t, err)
		require.EqualValues(t, 1227, num, "%s: %v", q, err)
		require.Equal(t, "42000", state)
		require.ErrorContains(t, err, "FILE privilege")
	}
	for _, f := range []string{"m1.txt", "m2.bin"} {
		require.NoFileExists(t, filepath.Join(secure, f))
	}
	var got sql.NullString
	require.NoError(t, mallory.QueryRow(fmt.Sprintf("SELECT LOAD_FILE('%s/in.txt')", secure)).Scan(&got))
	require.False(t, got.Valid, "LOAD_FILE without FILE must be NULL, got %q", got.String)

	// With FILE the same statements work.
	mustExec(t, filer, fmt.Sprintf("SELECT * FROM t INTO OUTFILE '%s/f1.txt'", secure))
	b, err := os.ReadFile(filepath.Join(secure, "f1.txt"))
	require.NoError(t, err)
	require.Equal(t, "1\ta\n", string(b))
	require.NoError(t, filer.QueryRow(fmt.Sprintf("SELECT LOAD_FILE('%s/in.txt')", secure)).Scan(&got))
	require.Equal(t, sql.NullString{String: "1\tinside\n", Valid: true}, got)
}

func doubles(n int) string {
	s := "DOUBLE"
	for i := 1; i < n; i++ {
		s += ", DOUBLE"
	}
	return s
}

// TestFileConfinement: every statement that names a server file stays in
// secure_file_priv: paths are compared as directories (not string
// prefixes), links (of files and directories) are resolved, and FIFOs or
// devices are refused at once instead of blocking or reading forever.
func TestFileConfinement(t *testing.T) {
	root, secure := fileTree(t)
	srv := testserver.Start(t, "--secure-file-priv", secure)
	mustExec(t, srv.DB(""), "CREATE DATABASE f")
	db := srv.DB("f")
	db.SetMaxOpenConns(1)
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20))", "INSERT INTO t VALUES (1, 'a')")

	outside := []struct{ name, q string }{
		{"outfile sibling dir", fmt.Sprintf("SELECT * FROM t INTO OUTFILE '%s2/o.txt'", secure)},
		{"outfile prefix file", fmt.Sprintf("SELECT * FROM t INTO OUTFILE '%sx.txt'", secure)},
		{"outfile dir link", fmt.Sprintf("SELECT * FROM t INTO OUTFILE '%s/dirlink/o.txt'", secure)},
		{"dumpfile dir link", fmt.Sprintf("SELECT s FROM t INTO DUMPFILE '%s/dirlink/d.bin'", secure)},
		{"load data file link", fmt.Sprintf("LOAD DATA INFILE '%s/link_out' INTO TABLE t", secure)},
		{"load data dir link", fmt.Sprintf("LOAD DATA INFILE '%s/dirlink/secret.txt' INTO TABLE t", secure)},
		{"load data sibling", fmt.Sprintf("LOAD DATA INFILE '%s2/x.txt' INTO TABLE t", secure)},
		{"model file link", fmt.Sprintf("CREATE MODEL m1 FROM 'file://%s/model_out' FUNCTION m1_fn (%s) RETURNS INT", secure, doubles(30))},
		{"model dir link", fmt.Sprintf("CREATE MODEL m2 FROM 'file://%s/dirlink/model.txt' FUNCTION m2_fn (%s) RETURNS INT", secure, doubles(30))},
	}
	for _, c := range outside {
		t.Run(c.name, func(t *testing.T) {
			_, err := db.Exec(c.q)
			num, _ := mysqlErr(t, err)
			require.EqualValues(t, 1290, num, "%s: %v", c.q, err)
			require.ErrorContains(t, err, "--secure-file-priv")
		})
	}
	for _, f := range []string{"outside/o.txt", "outside/d.bin", "secure2/o.txt", "securex.txt"} {
		require.NoFileExists(t, filepath.Join(root, f))
	}
	require.Equal(t, []string{`"1"|"a"`}, dump(t, db, "SELECT * FROM t ORDER BY id"), "nothing from outside may be loaded")

	// S3 statements with file:// URIs: the link leads outside.
	_, err := db.Exec(fmt.Sprintf("LOAD DATA FROM S3 'file://%s/link_out' INTO TABLE t", secure))
	require.ErrorContains(t, err, "secure_file_priv")
	_, err = db.Exec(fmt.Sprintf("LOAD DATA FROM S3 'file://%s/dirlink/secret.txt' INTO TABLE t", secure))
	require.ErrorContains(t, err, "secure_file_priv")
	_, err = db.Exec(fmt.Sprintf("SELECT * FROM t INTO OUTFILE S3 'file://%s/dirlink/exp'", secure))
	require.ErrorContains(t, err, "secure_file_priv")
	require.NoFileExists(t, filepath.Join(root, "outside", "exp.part_00000"))

	// An existing file or link is never overwritten or followed.
	_, err = db.Exec(fmt.Sprintf("SELECT * FROM t INTO OUTFILE '%s/link_created'", secure))
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1086, num, "%v", err)
	require.NoFileExists(t, filepath.Join(root, "outside", "created.txt"))

	// LOAD_FILE is NULL outside, through links and for special files.
	for _, p := range []string{root + "/outside/secret.txt", secure + "/link_out", secure + "/dirlink/secret.txt", secure + "2/x.txt", secure + "/zero", secure + "/fifo", secure + "/sub"} {
		var got sql.NullString
		require.NoError(t, db.QueryRow("SELECT LOAD_FILE(?)", p).Scan(&got), p)
		require.False(t, got.Valid, "LOAD_FILE(%s) = %q", p, got.String)
	}

	// Links inside the directory keep working.
	var got sql.NullString
	require.NoError(t, db.QueryRow("SELECT LOAD_FILE(?)", secure+"/link_in").Scan(&got))
	require.Equal(t, "1\tinside\n", got.String)
	mustExec(t, db, fmt.Sprintf("SELECT * FROM t INTO OUTFILE '%s/dirlink_in/o.txt'", secure))
	require.FileExists(t, filepath.Join(secure, "sub", "o.txt"))

}

// TestFileSpecialFilesFailFast: a FIFO or a device inside secure_file_priv
// fails at once: it neither blocks nor reads forever.
func TestFileSpecialFilesFailFast(t *testing.T) {
	_, secure := fileTree(t)
	srv := testserver.Start(t, "--secure-file-priv", secure)
	mustExec(t, srv.DB(""), "CREATE DATABASE f")
	db := srv.DB("f")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20))")
	special := []string{
		fmt.Sprintf("LOAD DATA INFILE '%s/fifo' INTO TABLE t", secure),
		fmt.Sprintf("LOAD DATA INFILE '%s/zero' INTO TABLE t", secure),
		fmt.Sprintf("LOAD DATA FROM S3 'file://%s/fifo' INTO TABLE t", secure),
		fmt.Sprintf("CREATE MODEL m3 FROM 'file://%s/fifo' FUNCTION m3_fn (%s) RETURNS INT", secure, doubles(30)),
		fmt.Sprintf("CREATE MODEL m4 FROM 'file://%s/zero' FUNCTION m4_fn (%s) RETURNS INT", secure, doubles(30)),
	}
	for _, q := range special {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		start := time.Now()
		_, err := db.ExecContext(ctx, q)
		cancel()
		require.Error(t, err, q)
		require.NotErrorIs(t, err, context.DeadlineExceeded, q)
		require.Less(t, time.Since(start), 10*time.Second, q)
	}
}

// recorder is a loopback HTTP server that counts what reaches it (an
// attacker's host, an internal service, the instance metadata service).
type recorder struct {
	*httptest.Server
	mu    sync.Mutex
	paths []string
	auth  []string
}

func startRecorder(t *testing.T, body string) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.Method+" "+req.URL.Path)
		r.auth = append(r.auth, req.Header.Get("Authorization")+req.Header.Get("X-Amz-Security-Token"))
		r.mu.Unlock()
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}

// TestS3CredentialsBoundToEndpoint: a named storage credential is sent only
// to the server it names, and an S3 URI naming any other host is refused
// before a byte is sent (no credential leak, no SSRF).
func TestS3CredentialsBoundToEndpoint(t *testing.T) {
	gw := testserver.StartS3Server(t)
	attacker := startRecorder(t, "1\tinternal page\n")
	srv := testserver.StartWithEnv(t, []string{"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=",
		"AWS_ENDPOINT_URL_S3=", "AWS_ENDPOINT_URL="})
	root := srv.DB("")
	mustExec(t, root, "CREATE DATABASE io", "CREATE TABLE io.t (id INT PRIMARY KEY, v VARCHAR(40))", "INSERT INTO io.t VALUES (1, 'a')",
		fmt.Sprintf("CREATE STORAGE CREDENTIAL gw FOR 's3://%s/' ACCESS_KEY_ID '%s' SECRET_ACCESS_KEY '%s' REGION 'us-east-1' ENDPOINT_URL '%s'",
			gw.Bucket, gw.AccessKey, gw.SecretKey, gw.URL),
		fmt.Sprintf("SELECT * FROM io.t INTO OUTFILE S3 '%s' OVERWRITE ON", gw.URI("bound/t")),
		"CREATE TABLE io.dst (id INT PRIMARY KEY, v VARCHAR(40))", "CREATE TABLE io.dst2 LIKE io.dst",
		"CREATE USER mallory IDENTIFIED BY 'pw'", "GRANT SELECT, INSERT ON io.* TO mallory", "GRANT LOAD FROM S3 ON *.* TO mallory")
	mallory := srv.Open(srv.DSN("mallory", "pw", "io"))

	refused := []struct{ name, uri string }{
		{"credential's bucket on another host", fmt.Sprintf("%s/%s/bound/t.part_00000", attacker.URL, gw.Bucket)},
		{"internal page", attacker.URL + "/internal/status"},
		{"same host other port", fmt.Sprintf("http://127.0.0.1:1/%s/bound/t.part_00000", gw.Bucket)},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			_, err := mallory.Exec(fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE dst", c.uri))
			num, _ := mysqlErr(t, err)
			require.EqualValues(t, 1210, num, "%v", err)
			require.ErrorContains(t, err, "is not configured")
		})
	}
	require.Empty(t, attacker.requests(), "nothing may reach a host no credential or setting names")
	require.Zero(t, queryInt(t, root, "SELECT COUNT(*) FROM io.dst"))

	// The credential's own server, in either URI form, works.
	require.EqualValues(t, 1, execRows(t, mallory, fmt.Sprintf("LOAD DATA FROM S3 '%s' INTO TABLE dst", gw.URI("bound/t.part_00000"))))
	require.EqualValues(t, 1, execRows(t, mallory, fmt.Sprintf("LOAD DATA FROM S3 '%s/%s/bound/t.part_00000' INTO TABLE dst2", gw.URL, gw.Bucket)))
}

// TestNoInstanceMetadataByDefault: with no AWS credentials configured, S3
// and SageMaker statements fail without the SDK asking the instance
// metadata service; --aws-instance-metadata lets it.
func TestNoInstanceMetadataByDefault(t *testing.T) {
	imds := startRecorder(t, "")
	sink := startRecorder(t, "")
	srv := testserver.StartWithEnv(t, []string{"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.URL, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv4",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=", "AWS_WEB_IDENTITY_TOKEN_FILE=",
		"AWS_ENDPOINT_URL_S3=" + sink.URL, "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=" + sink.URL, "AWS_ENDPOINT_URL=" + sink.URL})
	mustExec(t, srv.DB(""), "CREATE DATABASE io")
	db := srv.DB("io")
	mustExec(t, db, "CREATE TABLE t (id INT PRIMARY KEY)",
		"CREATE FUNCTION churn(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'churn'")
	try := func() {
		t.Helper()
		_, err := db.Exec("LOAD DATA FROM S3 's3://bucket/key' INTO TABLE t")
		require.Error(t, err)
		_, err = db.Exec("SELECT churn(1)")
		require.Error(t, err)
	}
	try()
	require.Empty(t, imds.requests(), "the instance metadata service must not be asked")

	srv.Args = append(srv.Args, "--aws-instance-metadata")
	srv.Restart()
	db = srv.DB("io")
	try()
	require.NotEmpty(t, imds.requests(), "the operator's flag lets the SDK ask it")
}

// TestEndpointSecrets: an endpoint's secret headers and URL credentials
// stay with the URL they were given for: ALTER ENDPOINT ... URL needs them
// again, redirects are not followed, SHOW ENDPOINTS hides URL passwords,
// and error messages do not echo what a URL's server answered.
func TestEndpointSecrets(t *testing.T) {
	model := testserver.StartModelServer(t)
	model.Set(func(b *testserver.Behaviour) { b.Score = doubler })
	attacker := startRecorder(t, "")
	internal := startRecorder(t, "root:x:0:0:internal-secret-page\n")
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, attacker.URL+"/redirected", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)

	srv := testserver.Start(t)
	root := srv.DB("", "multiStatements=true")
	mustExec(t, root, "CREATE DATABASE ep", "USE ep",
		fmt.Sprintf("CREATE ENDPOINT prod URL '%s' HEADERS ('Authorization' = 'Bearer owner-s3cret')", model.URL),
		"CREATE FUNCTION f_prod(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'prod'",
		fmt.Sprintf("CREATE ENDPOINT redir URL '%s/invocations' HEADERS ('X-Api-Key' = 'redirected-s3cret')", redirector.URL),
		"CREATE FUNCTION f_redir(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'redir'",
		fmt.Sprintf("CREATE ENDPOINT internal URL '%s/admin'", internal.URL),
		"CREATE FUNCTION f_internal(x INT) RETURNS INT ALIAS AWS_SAGEMAKER_INVOKE_ENDPOINT ENDPOINT NAME 'internal'",
		"CREATE ENDPOINT userinfo URL 'http://svc:hunter2@127.0.0.1:9/x'",
		"CREATE USER mlops IDENTIFIED BY 'pw'", "GRANT CREATE ENDPOINT ON *.* TO mlops")
	db := srv.DB("ep")
	mlops := srv.Open(srv.DSN("mlops", "pw", ""))

	// Moving prod elsewhere without giving its headers again is refused.
	_, err := mlops.Exec(fmt.Sprintf("ALTER ENDPOINT prod URL '%s/steal'", attacker.URL))
	require.ErrorContains(t, err, "HEADERS")
	require.EqualValues(t, 42, queryInt(t, db, "SELECT f_prod(21)"))
	require.Equal(t, "Bearer owner-s3cret", model.LastHeader("Authorization"))
	// With new headers the move is the mover's own endpoint: the owner's
	// secret does not travel.
	mustExec(t, mlops, fmt.Sprintf("ALTER ENDPOINT prod URL '%s/steal' HEADERS ('Authorization' = 'Bearer mlops-own')", attacker.URL))
	_, _ = db.Exec("SELECT f_prod(21)")

	// A redirect is not followed: neither body nor key reaches its target.
	_, err = db.Exec("SELECT f_redir(1)")
	require.ErrorContains(t, err, "redirect")

	// What an internal page says does not come back in the error.
	_, err = db.Exec("SELECT f_internal(1)")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "secret-page", "at most a short prefix of an answer is echoed")

	for _, auth := range attacker.auth {
		require.NotContains(t, auth, "owner-s3cret")
		require.NotContains(t, auth, "redirected-s3cret")
	}
	require.NotContains(t, attacker.requests(), "POST /redirected", "the redirect must not be followed")

	// URL credentials are secrets in SHOW ENDPOINTS.
	rows := dump(t, root, "SHOW ENDPOINTS")
	joined := fmt.Sprint(rows)
	require.NotContains(t, joined, "hunter2")
	require.Contains(t, joined, "http://***@127.0.0.1:9/x")
}

// TestCABundleConfined: CA_BUNDLE paths are server files: inside
// secure_file_priv, regular, bounded, and refused with one message whatever
// the reason (no oracle for files outside).
func TestCABundleConfined(t *testing.T) {
	root, secure := fileTree(t)
	require.NoError(t, os.WriteFile(filepath.Join(secure, "notpem.txt"), []byte("hello"), 0o644))
	srv := testserver.Start(t, "--secure-file-priv", secure)
	db := srv.DB("")
	var msgs []string
	for _, p := range []string{"/dev/zero", "/etc/passwd", "/nonexistent/ca.pem", root + "/outside/secret.txt",
		secure + "/link_out", secure + "/fifo", secure + "/zero", secure + "/sub"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		start := time.Now()
		_, err := db.ExecContext(ctx, fmt.Sprintf("CREATE ENDPOINT c URL 'https://127.0.0.1:1' CA_BUNDLE '%s'", p))
		cancel()
		require.Error(t, err, p)
		require.Less(t, time.Since(start), 10*time.Second, p)
		require.ErrorContains(t, err, "secure_file_priv", p)
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs {
		require.Equal(t, msgs[0], m, "one message whatever the reason")
	}
	_, err := db.Exec(fmt.Sprintf("CREATE ENDPOINT c URL 'https://127.0.0.1:1' CA_BUNDLE '%s/notpem.txt'", secure))
	require.ErrorContains(t, err, "CA_BUNDLE")
}

// TestStateFilesPrivate: Dolt's config_global.json (SET PERSIST values) is
// 0600 and the state directories 0700, so no other OS user reads them even
// though Dolt rewrites the file with mode 0777.
func TestStateFilesPrivate(t *testing.T) {
	srv := testserver.Start(t)
	state := filepath.Join(srv.DataDir, ".sibyldb")
	check := func() {
		t.Helper()
		for p, want := range map[string]os.FileMode{state: 0o700, filepath.Join(state, ".dolt"): 0o700} {
			fi, err := os.Stat(p)
			require.NoError(t, err)
			require.Equal(t, want, fi.Mode().Perm(), p)
		}
	}
	check()
	fi, err := os.Stat(filepath.Join(state, ".dolt", "config_global.json"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	mustExec(t, srv.DB(""), "SET PERSIST max_connections = 77")
	check()
	srv.Restart()
	check()
	fi, err = os.Stat(filepath.Join(state, ".dolt", "config_global.json"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

// TestAuditOutcomeIsTheStatements: requests that succeeded are audited as
// failed when their statement failed afterwards.
func TestAuditOutcomeIsTheStatements(t *testing.T) {
	_, model, db := mlSetup(t, 0, 1, "SAGEMAKER")
	mustExec(t, db, "CREATE TABLE c (id INT PRIMARY KEY, y DOUBLE)")
	_, err := db.Exec("INSERT INTO c VALUES (1, twice(1)), (1, twice(2))")
	num, _ := mysqlErr(t, err)
	require.EqualValues(t, 1062, num, "%v", err)
	require.NotZero(t, model.Requests(), "the endpoint answered")
	mustExec(t, db, "INSERT INTO c VALUES (2, twice(3))")
	var outcomes []string
	require.Eventually(t, func() bool {
		outcomes = nil
		rs, err := db.Query("SELECT outcome FROM sibyl.ml_audit_log ORDER BY id")
		require.NoError(t, err)
		defer rs.Close()
		for rs.Next() {
			var o string
			require.NoError(t, rs.Scan(&o))
			outcomes = append(outcomes, o)
		}
		return len(outcomes) == 2
	}, 10*time.Second, 50*time.Millisecond)
	require.Contains(t, outcomes[0], "statement failed")
	require.Contains(t, outcomes[0], "duplicate")
	require.Equal(t, "OK", outcomes[1])
}

// TestSecretsNeverLogged: passwords, endpoint headers and storage keys are
// redacted from every log line, at debug level and for failed statements
// at the default level, whatever comments or spacing hide the keywords.
func TestSecretsNeverLogged(t *testing.T) {
	for _, level := range []string{"debug", "info"} {
		t.Run(level, func(t *testing.T) {
			srv := testserver.Start(t, "--log-level", level)
			db := srv.DB("")
			stmts := []string{
				"CREATE USER a IDENTIFIED BY 'pw-user-1'",
				"CREATE USER a IDENTIFIED BY 'pw-fail-1'", // fails: exists
				"ALTER USER a IDENTIFIED /* c */ BY 'pw-user-2'",
				"SET PASSWORD FOR a = 'pw-user-3'",
				"CREATE USER b IDENTIFIED WITH mysql_native_password BY 'pw-user-4'",
				"CREATE ENDPOINT e URL 'http://127.0.0.1:9' HEADERS/**/('A' = 'hdr-secret-1')",
				"ALTER ENDPOINT e HEADERS /* x */ ('A' = 'hdr-secret-2')",
				"ALTER ENDPOINT nosuch HEADERS ('A' = 'hdr-fail-1')", // fails: no endpoint
				"CREATE STORAGE CREDENTIAL c FOR 's3://b/' ACCESS_KEY_ID 'k' SECRET_ACCESS_KEY/**/'key-secret-1'",
				"CREATE STORAGE CREDENTIAL c FOR 's3://b/' ACCESS_KEY_ID 'k' SECRET_ACCESS_KEY 'key-fail-1'", // fails: exists
				"CREATE USER c IDENTIFIED BY 'pw-syntax-1' GARBAGE",                                          // fails: syntax
			}
			for _, s := range stmts {
				_, _ = db.Exec(s)
			}
			time.Sleep(200 * time.Millisecond)
			log := srv.Log()
			for _, secret := range []string{"pw-user-1", "pw-fail-1", "pw-user-2", "pw-user-3", "pw-user-4", "hdr-secret-1",
				"hdr-secret-2", "hdr-fail-1", "key-secret-1", "key-fail-1", "pw-syntax-1"} {
				require.NotContains(t, log, secret)
			}
		})
	}
}
