// Package server runs SibylDB's MySQL-compatible server: the wire protocol
// and SQL engine from go-mysql-server over embedded Dolt storage, plus the
// seams SibylDB's ML features plug into (statements, run-time functions,
// status counters and a persistent catalog).
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/dolt/go/libraries/doltcore/sqle/dprocedures"
	gms "github.com/dolthub/go-mysql-server"
	gmsserver "github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/sirupsen/logrus"

	"github.com/sibyldb/sibyldb/internal/audit"
	"github.com/sibyldb/sibyldb/internal/builtins"
	"github.com/sibyldb/sibyldb/internal/bulkload"
	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/exec"
	"github.com/sibyldb/sibyldb/internal/fileaccess"
	"github.com/sibyldb/sibyldb/internal/heatwave"
	"github.com/sibyldb/sibyldb/internal/infoschema"
	"github.com/sibyldb/sibyldb/internal/limits"
	"github.com/sibyldb/sibyldb/internal/metrics"
	"github.com/sibyldb/sibyldb/internal/ml/comprehend"
	"github.com/sibyldb/sibyldb/internal/ml/drift"
	"github.com/sibyldb/sibyldb/internal/ml/llamacpp"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/ml/onnxrt"
	"github.com/sibyldb/sibyldb/internal/ml/vector/vecsql"
	"github.com/sibyldb/sibyldb/internal/privilege"
	"github.com/sibyldb/sibyldb/internal/s3io"
	"github.com/sibyldb/sibyldb/internal/secret"
	"github.com/sibyldb/sibyldb/internal/server/plancache"
	"github.com/sibyldb/sibyldb/internal/sqlext"
	"github.com/sibyldb/sibyldb/internal/sqlfunc"
	"github.com/sibyldb/sibyldb/internal/status"
	"github.com/sibyldb/sibyldb/internal/txrebase"
)

// Version is SibylDB's release, set at build time with -ldflags.
var Version = "0.1.0-dev"

// Config is what `sibyldb serve` is started with.
type Config struct {
	// DataDir holds every database and SibylDB's own state; created if
	// missing.
	DataDir string
	// Addr is the HOST:PORT to listen on; port 0 picks a free port.
	Addr string
	// RootPassword is root's password, applied when the data dir is new.
	// It may be empty only when Addr is a loopback address.
	RootPassword string
	// SecureFilePriv is the only directory LOAD DATA INFILE and SELECT ...
	// INTO OUTFILE may use, as MySQL's secure_file_priv. Empty means
	// DataDir/.sibyldb/files.
	SecureFilePriv string
	// ShutdownTimeout bounds how long Shutdown waits for running
	// statements before cancelling them.
	ShutdownTimeout time.Duration
	// MemoryLimit is the Go runtime's soft memory limit in bytes (0: none),
	// shown as @@sibyl_memory_limit; cmd/sibyldb sets it.
	MemoryLimit uint64
	// TLSCert and TLSKey are PEM files; with them clients may connect over
	// TLS.
	TLSCert, TLSKey string
	// RequireSecureTransport refuses connections that do not use TLS
	// (MySQL's require_secure_transport).
	RequireSecureTransport bool
	// SecretKeyFile holds the key that encrypts stored credentials
	// (hex); empty means DataDir/.sibyldb/secret.key, created if missing.
	// SIBYLDB_SECRET_KEY overrides both.
	SecretKeyFile string
	// SageMakerURL is the default of aws_sagemaker_endpoint_url: endpoint
	// names without CREATE ENDPOINT resolve to
	// {SageMakerURL}/endpoints/{name}/invocations.
	SageMakerURL string
	// ComprehendBackend is the default of aws_comprehend_backend: local
	// (the default), comprehend, endpoint:NAME or onnx:PATH.
	ComprehendBackend string
	// ONNXRuntimeLib is ONNX Runtime's shared library, loaded when an
	// onnx:PATH backend is first used.
	ONNXRuntimeLib string
	// LlamaLib is the directory of llama.cpp's shared libraries, loaded
	// when a LLAMA_CPP endpoint is first used.
	LlamaLib string
	// AWSInstanceMetadata lets the AWS SDK ask the EC2 instance metadata
	// service for credentials; off, SibylDB makes no network call that
	// no statement or setting names.
	AWSInstanceMetadata bool
	// Statements are added to the grammar (see package sqlext).
	Statements []sqlext.Statement
	// Logger receives the server's logs; nil means logrus's standard logger.
	Logger *logrus.Logger
}

// Server is a running SibylDB server.
type Server struct {
	cfg      Config
	log      *logrus.Logger
	storage  *storage
	engine   *gms.Engine
	mysql    *gmsserver.Server
	listener net.Listener
	// onnxEmbedders are the ONNX models sibyl_embed has loaded.
	onnxEmbedders onnxEmbedders

	// Functions holds SQL functions added while the server runs.
	Functions *sqlfunc.Registry
	// Status publishes counters in SHOW STATUS.
	Status *status.Registry
	// Catalog persists SibylDB objects in the system database.
	Catalog *catalog.Store
	// ML manages ML functions and endpoints.
	ML *mlfunc.Manager
	// Models manages the models of CREATE MODEL and their training jobs.
	Models *models.Manager
	// Comprehend serves the Amazon Comprehend functions.
	Comprehend *comprehend.Service
	// Metrics publishes the server's figures for Prometheus; its
	// Handler serves GET /metrics (without authentication: see
	// metrics.Auth).
	Metrics *metrics.Metrics

	privileges *privilege.Checker
	audit      *audit.Log
	// storageCredentials are the named S3 credentials.
	storageCredentials *s3io.CredentialStore
	// governor applies sibyl_max_statement_memory until stopGovernor.
	governor     *limits.Governor
	governorCtx  context.Context
	stopGovernor context.CancelFunc
}

// ErrInsecureRoot is returned for a non-loopback address with no root
// password: anyone who can reach the port would own the server.
var ErrInsecureRoot = errors.New("refusing to listen on a non-loopback address with an empty root password (set --root-password)")

// New opens the storage under cfg.DataDir and binds cfg.Addr. Call Serve to
// accept connections.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = logrus.StandardLogger()
	}
	redactLogs(cfg.Logger)
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	loopback, err := isLoopback(cfg.Addr)
	if err != nil {
		return nil, err
	}
	if !loopback && cfg.RootPassword == "" {
		return nil, ErrInsecureRoot
	}

	if err := disableInstanceMetadata(cfg.AWSInstanceMetadata); err != nil {
		return nil, err
	}
	tlsConfig, err := loadTLS(cfg)
	if err != nil {
		return nil, err
	}
	reg := status.Global()
	s := &Server{cfg: cfg, log: cfg.Logger, Status: reg, Catalog: catalog.NewStore()}
	s.Functions = sqlfunc.NewRegistry(s.isBuiltinFunction)
	s.ML = mlfunc.NewManager(s.Catalog, s.Functions, reg)
	s.privileges = &privilege.Checker{}
	s.ML.Authorize = s.authorizeML
	s.Models = models.NewManager(s.Catalog, s.Functions)
	s.Models.Endpoints, s.Models.Log = s.ML, cfg.Logger
	s.Models.Drift = drift.NewMonitor(reg)
	s.Models.NewContext, s.Models.Authorize = s.NewContext, s.authorizeModel
	s.Models.CanReadFiles = func(ctx *sql.Context) bool { return s.privileges.HasGlobal(ctx, sql.PrivilegeType_File) }
	s.wireModelVersions()
	s.Models.Query = func(ctx *sql.Context, q string) (sql.Schema, sql.RowIter, error) {
		schema, iter, _, err := s.engine.Query(ctx, q)
		return schema, iter, err
	}
	s.storageCredentials = &s3io.CredentialStore{Catalog: s.Catalog}
	s.Comprehend = comprehend.NewService(comprehend.Local{}, comprehend.NewAWS)
	s.Comprehend.ML, s.Comprehend.Authorize = s.ML, s.authorizeComprehend
	onnxrt.Configure(cfg.ONNXRuntimeLib)
	llamacpp.Configure(cfg.LlamaLib)
	s.ML.CanReadFiles = s.Models.CanReadFiles
	s.newMetrics()
	heatWave := &heatwave.Routines{Models: s.Models, Privileges: s.privileges, NewContext: s.NewContext, Engine: s.Engine,
		DirectWrites: reg.Counter("Sibyl_ml_table_direct"), EngineWrites: reg.Counter("Sibyl_ml_table_engine")}
	s.Models.Dropped = heatWave.ForgetModel
	stmts := append([]sqlext.Statement{
		sqlext.FlushStatus{Counters: reg},
		sqlext.MLStatements{Manager: s.ML, Privileges: s.privileges},
		sqlext.DriftStatements{Manager: s.Models, Privileges: s.privileges}, // before ModelStatements: SHOW MODEL m DRIFT
		sqlext.ModelStatements{Manager: s.Models, Privileges: s.privileges},
		sqlext.PrivilegeStatements{Checker: s.privileges, ModelFunctions: s.modelFunctions},
		sqlext.StorageCredentialStatements{Store: s.storageCredentials, Privileges: s.privileges},
		heatWave,
		sqlext.ForecastStatement{Manager: s.Models, Engine: s.Engine},
		explainStatement{plan: s.planStatement, exec: func() sql.NodeExecBuilder { return s.engine.Analyzer.ExecBuilder }},
	}, s.dataStatements()...)
	stmts = append(stmts, cfg.Statements...)
	parser := sqlext.NewParser(sql.NewMysqlParser(), stmts...)
	parser.QualifyFunctions(comprehend.Qualifier, comprehend.Prefix)
	parser.DeclareFunctions(s.declareScoped)
	// Dolt reads stored events (at start-up, for information_schema.EVENTS)
	// with an engine of its own that has GMS's default parser; events
	// whose body is a SibylDB statement (DO ALTER MODEL m RETRAIN) need
	// ours there too.
	sql.DefaultMySQLParser = parser
	if err := installSystemVariables(cfg); err != nil {
		return nil, err
	}
	sql.SystemVariables.AddSystemVariables(mlfunc.SystemVariables(cfg.SageMakerURL))
	sql.SystemVariables.AddSystemVariables(audit.SystemVariables())
	sql.SystemVariables.AddSystemVariables(comprehend.SystemVariables(cfg.ComprehendBackend))
	sql.SystemVariables.AddSystemVariables(s3io.SystemVariables())
	sql.SystemVariables.AddSystemVariables(bulkload.SystemVariables())
	sql.SystemVariables.AddSystemVariables(heatwave.SystemVariables())
	sql.SystemVariables.AddSystemVariables(storageGCSystemVariables())
	sql.SystemVariables.AddSystemVariables(limits.SystemVariables())
	sql.SystemVariables.AddSystemVariables(vecsql.SystemVariables())
	sql.SystemVariables.AddSystemVariables(drift.SystemVariables())
	// The batching rule joins the analyzer's rules when the engine is built.
	exec.Install()
	vecsql.Install()
	heatwave.Install()
	installWarnings()
	// Dolt's procedures and system tables need the privileges of their
	// effects, and only SibylDB writes its system database.
	privilege.GuardProcedures(dprocedures.DoltProcedures, s.privileges)
	privilege.InstallAuthorization(s.privileges)
	privilege.InstallRule(s.privileges)

	st, err := openStorage(ctx, storageOptions{
		dataDir:   cfg.DataDir,
		overrides: sql.EngineOverrides{Builder: sql.BuilderOverrides{Parser: limits.Parser{Parser: parser}}},
		logger:    cfg.Logger,
		status:    reg,
	})
	if err != nil {
		return nil, err
	}
	s.storage = st
	s.engine = st.sqlEngine.GetUnderlyingEngine()
	s.Models.ArtifactDir = ModelsDir(st.dataDir)
	// Stored endpoint credentials are unsealed when bootstrap loads them.
	keyFile := cfg.SecretKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(st.dataDir, stateDirName, "secret.key")
	}
	if s.ML.Secrets, err = secret.Load(keyFile); err != nil {
		_ = st.close()
		return nil, err
	}
	exec.InstallExplain(s.engine.Analyzer.ExecBuilder)
	privilege.InstallGuard(s.engine.Analyzer.ExecBuilder, s.privileges)
	limits.InstallRecursionLimit(s.engine.Analyzer.ExecBuilder)
	hasFile := func(ctx *sql.Context) bool { return s.privileges.HasGlobal(ctx, sql.PrivilegeType_File) }
	fileaccess.InstallInto(s.engine.Analyzer.ExecBuilder, hasFile)
	s.privileges.Bind(s.engine.Analyzer.Catalog.MySQLDb)
	info := infoschema.Wrap(s.engine.Analyzer.Catalog.InfoSchema)
	s.installInfoSchema(info)
	s.engine.Analyzer.Catalog.InfoSchema = info

	// GMS consults this package-level provider before built-ins and the
	// database provider on every query. The guarded built-ins come first;
	// LOAD_FILE is SibylDB's (FILE privilege, fileaccess's confinement);
	// Dolt's functions that read beyond a table grant check privileges
	// (privilege.Functions). The vector functions (vecsql) answer for
	// their MySQL and MariaDB names. ML calls are authorized as the
	// account that bound them (exec.BindAccounts): a trigger's definer.
	functions := vecsql.NewProvider(builtins.NewProvider(fileaccess.Functions(privilege.Functions(s.Functions, s.privileges), hasFile)))
	functions.Add("sibyl_embed", vecsql.EmbedFunction(s.embeddingModels))
	analyzer.ExternalFunctionProvider = exec.BindAccounts(functions)
	if err := s.registerHeatWave(ctx); err != nil {
		_ = st.close()
		return nil, err
	}

	if err := s.bootstrap(ctx, loopback); err != nil {
		_ = st.close()
		return nil, err
	}

	s.listener, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = st.close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}

	sessions := &sessionTable{conns: map[uint32]*connState{}}
	s.privileges.ThreadOwner = sessions.owner
	txn := newTxnControl(reg, sessions)
	txrebase.Install(reg)
	plans := plancache.New(s.engine, reg)
	s.engine.PlanCache = plans
	heatWave.LockTable = txn.lockCreatedTable
	if err := (processes{locks: txn.locks, visible: s.maySeeProcess}).install(info, s.engine.Analyzer.ExecBuilder); err != nil {
		_ = s.listener.Close()
		_ = st.close()
		return nil, err
	}
	se := st.sqlEngine
	newSession, err := st.sessionFactory(ctx, txn.writeSession)
	if err != nil {
		_ = s.listener.Close()
		_ = st.close()
		return nil, err
	}
	sessionBuilder := func(ctx context.Context, conn *mysql.Conn, addr string) (sql.Session, error) {
		base, err := sql.BaseSessionFromConnection(ctx, conn, addr)
		if err != nil {
			return nil, err
		}
		client := base.Client()
		client.Host = clientHost(conn.RemoteAddr())
		base.SetClient(client)
		sess, err := newSession(base)
		if err != nil {
			return nil, err
		}
		if err := setTLSStatus(ctx, sess, conn); err != nil {
			return nil, err
		}
		initInteractiveTimeout(sess, conn.Capabilities)
		sessions.put(conn.ConnectionID, sess)
		return sess, nil
	}
	gate := newConnGate(s.listener)
	s.governor = limits.NewGovernor(s.engine.ProcessList.Kill)
	s.governorCtx, s.stopGovernor = context.WithCancel(context.Background())
	wrap := func(e *gms.Engine, sm *gmsserver.SessionManager, h mysql.Handler) (*gms.Engine, *gmsserver.SessionManager, mysql.Handler) {
		return e, sm, &handler{Handler: h, engine: e, txn: txn, sessions: sessions, ctxFactory: se.ContextFactory, log: s.log,
			finished: s.finishStatement, tlsAvailable: tlsConfig != nil, gate: gate, isAdmin: s.isConnectionAdmin, governor: s.governor,
			metrics: s.Metrics, plans: plans}
	}
	// NewConfig applies max_connections and the net timeouts, so SET
	// PERSIST max_connections takes effect at the next start, as in MySQL.
	mysqlCfg, err := gmsserver.Config{
		Protocol: "tcp",
		Address:  s.listener.Addr().String(),
		// The gate admits connections; timeoutListener's connections
		// apply wait_timeout and the net timeouts.
		Listener:  timeoutListener{gate},
		Options:   []gmsserver.Option{wrap},
		TLSConfig: tlsConfig,
		// require_secure_transport is enforced by the handler, with
		// MySQL's error 3159 (vitess would answer 1105).
	}.NewConfig()
	if err != nil {
		_ = s.listener.Close()
		_ = st.close()
		return nil, err
	}
	// The gate, not vitess, applies max_connections: vitess would count
	// connections still in their handshake.
	mysqlCfg.MaxConnections = 0
	// The connections apply wait_timeout and the net timeouts themselves
	// (see timeoutConn); vitess would apply net_read_timeout to idle
	// connections and GMS would end statements that send no row for that
	// long.
	mysqlCfg.ConnReadTimeout, mysqlCfg.ConnWriteTimeout = 0, 0
	s.mysql, err = gmsserver.NewServer(mysqlCfg, s.engine, se.ContextFactory, sessionBuilder, nil)
	if err != nil {
		_ = s.listener.Close()
		_ = st.close()
		return nil, fmt.Errorf("start MySQL protocol server: %w", err)
	}
	return s, nil
}

// Addr is the address the server accepts connections on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Engine is the SQL engine, for packages that plan or run SQL themselves.
func (s *Server) Engine() *gms.Engine { return s.engine }

// Serve accepts connections until Shutdown. It returns nil after a clean
// shutdown.
func (s *Server) Serve() error {
	s.log.Infof("SibylDB %s listening on %s (data dir %s)", Version, s.Addr(), s.storage.dataDir)
	go s.governor.Run(s.governorCtx)
	return s.mysql.Start()
}

// Shutdown stops accepting connections, lets running statements finish for
// up to the configured timeout, cancels the rest, and closes the storage.
// Every committed transaction is already durable (Dolt syncs its journal on
// commit), so nothing is lost by the cancellation.
func (s *Server) Shutdown(ctx context.Context) error {
	_ = s.mysql.Close()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ShutdownTimeout)
	defer cancel()
wait:
	for s.runningStatements() > 0 {
		select {
		case <-ctx.Done():
			s.log.Warn("shutdown timeout: cancelling running statements")
			break wait
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stopGovernor()
	s.Models.Close()
	s.audit.Close()
	return s.storage.close()
}

func (s *Server) runningStatements() int {
	n := 0
	for _, p := range s.engine.ProcessList.Processes() {
		if p.Command == sql.ProcessCommandQuery {
			n++
		}
	}
	return n
}

// NewContext returns a context in a new session acting as root@localhost,
// for work the server does on its own behalf. It is marked internal: the
// only contexts that may write the system database.
func (s *Server) NewContext(ctx context.Context) (*sql.Context, error) {
	sqlCtx, err := s.storage.sqlEngine.NewDefaultContext(privilege.Internal(ctx))
	if err != nil {
		return nil, err
	}
	sqlCtx.Session.SetClient(sql.Client{User: "root", Address: "localhost"})
	return sqlCtx, nil
}

// bootstrap creates root on a new data dir and the system database.
func (s *Server) bootstrap(ctx context.Context, loopback bool) error {
	sqlCtx, err := s.NewContext(ctx)
	if err != nil {
		return err
	}
	defer sql.SessionEnd(sqlCtx.Session)
	if s.storage.freshPrivileges {
		db := s.engine.Analyzer.Catalog.MySQLDb
		ed := db.Editor()
		db.AddSuperUser(ed, "root", "localhost", s.cfg.RootPassword)
		if !loopback {
			db.AddSuperUser(ed, "root", "%", s.cfg.RootPassword)
		}
		err := db.Persist(sqlCtx, ed)
		ed.Close()
		if err != nil {
			return fmt.Errorf("create root user: %w", err)
		}
	}
	if err := s.privileges.EnsureRoles(sqlCtx); err != nil {
		return fmt.Errorf("create ML roles: %w", err)
	}
	if err := s.privileges.EnsureSystemUser(sqlCtx); err != nil {
		return fmt.Errorf("give root SYSTEM_USER: %w", err)
	}
	if err := s.Catalog.Open(sqlCtx, s.engine); err != nil {
		return fmt.Errorf("open system catalog: %w", err)
	}
	if err := s.ML.Load(sqlCtx); err != nil {
		return fmt.Errorf("load ML functions: %w", err)
	}
	s.storageCredentials.Secrets = s.ML.Secrets
	if err := s.storageCredentials.Load(sqlCtx); err != nil {
		return fmt.Errorf("load storage credentials: %w", err)
	}
	if err := s.Models.Load(sqlCtx); err != nil {
		return fmt.Errorf("load models: %w", err)
	}
	for _, fn := range append(s.Comprehend.Functions(), s.Models.ExplainFunction(), s.Models.VersionFunction()) {
		if err := s.Functions.Register(sqlCtx, "", fn); err != nil {
			return err
		}
	}
	if s.audit, err = audit.Open(sqlCtx, s.engine, s.NewContext, s.Status, s.log); err != nil {
		return err
	}
	s.ML.Audit = s.audit.Record
	s.Models.Audit = s.audit.Record
	return nil
}

// clientHost is where a connection from addr comes from, as SHOW
// PROCESSLIST shows it and USER() names its host: the client's IP, or
// localhost for loopback as MySQL names it when it resolves host names
// (its default), and its port.
func clientHost(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsLoopback() {
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}

// authorizeML enforces MySQL's EXECUTE on the function and Aurora's INVOKE
// SAGEMAKER: held by the definer for SQL SECURITY DEFINER functions, by the
// caller for SQL SECURITY INVOKER ones.
func (s *Server) authorizeML(ctx *sql.Context, d *mlfunc.FunctionDef) error {
	// A statement-scoped function is the caller's own: no EXECUTE grant.
	if !d.Scoped && !s.privileges.CanExecute(ctx, d.DB, d.Name) {
		return privilege.ExecuteDenied(ctx, d.DB, d.Name)
	}
	var who privilege.Account
	if !strings.EqualFold(d.Security, "INVOKER") && d.Definer != "" {
		who = privilege.ParseAccount(d.Definer)
	}
	priv := privilege.InvokeSageMaker
	if d.IsBedrock() {
		priv = privilege.InvokeBedrock
	}
	if !s.privileges.Allowed(ctx, who, priv) {
		return privilege.Denied(priv)
	}
	return nil
}

// isConnectionAdmin reports whether the session's user may take the
// connection MySQL keeps beyond max_connections (CONNECTION_ADMIN or SUPER).
func (s *Server) isConnectionAdmin(ctx *sql.Context) bool {
	return s.privileges.HasGlobal(ctx, sql.PrivilegeType_Super) || s.privileges.Allowed(ctx, privilege.Account{}, "CONNECTION_ADMIN")
}

// authorizeComprehend enforces Aurora's INVOKE COMPREHEND for the
// Comprehend functions, whichever backend answers.
func (s *Server) authorizeComprehend(ctx *sql.Context) error {
	if !s.privileges.Allowed(ctx, privilege.Account{}, privilege.InvokeComprehend) {
		return privilege.Denied(privilege.InvokeComprehend)
	}
	return nil
}

// ModelsDir is where the server keeps a copy of every ready model for
// `sibyldb serve-model`.
func ModelsDir(dataDir string) string { return filepath.Join(dataDir, stateDirName, "models") }

// authorizeModel lets a model's owner use its functions, and others with
// EXECUTE on its prediction function (GRANT EXECUTE ON MODEL grants that).
func (s *Server) authorizeModel(ctx *sql.Context, md *models.Model) error {
	cl := ctx.Session.Client()
	if privilege.ParseAccount(md.Owner) == (privilege.Account{User: cl.User, Host: cl.Address}) {
		return nil
	}
	if !s.privileges.CanExecute(ctx, md.DB, md.Function) {
		return mysql.NewSQLError(1370, "42000", "execute command denied to user '%s'@'%s' for model '%s.%s'", cl.User, cl.Address, md.DB, md.Name)
	}
	return nil
}

// modelFunctions lists a model's functions and owner for GRANT EXECUTE ON
// MODEL.
func (s *Server) modelFunctions(db, name string) ([]string, string, bool) {
	md, ok := s.Models.Get(db, name)
	if !ok {
		return nil, "", false
	}
	return md.Functions(), md.Owner, true
}

// isBuiltinFunction reports names that GMS or Dolt already define, so that
// run-time functions cannot shadow them.
func (s *Server) isBuiltinFunction(ctx *sql.Context, name string) bool {
	for _, fn := range function.BuiltIns {
		if strings.EqualFold(fn.FunctionName(), name) {
			return true
		}
	}
	if fp, ok := s.engine.Analyzer.Catalog.DbProvider.(sql.FunctionProvider); ok {
		if _, ok := fp.Function(ctx, name); ok {
			return true
		}
	}
	return false
}

// loadTLS reads the server certificate when one is configured.
func loadTLS(cfg Config) (*tls.Config, error) {
	if cfg.TLSCert == "" && cfg.TLSKey == "" {
		if cfg.RequireSecureTransport {
			return nil, errors.New("require_secure_transport needs --tls-cert and --tls-key")
		}
		return nil, nil
	}
	if cfg.TLSCert == "" || cfg.TLSKey == "" {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// isLoopback reports whether addr's host only accepts local connections.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("invalid address %q: %w", addr, err)
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}
