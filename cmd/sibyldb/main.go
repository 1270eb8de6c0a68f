// Command sibyldb is SibylDB: a MySQL-compatible database server with
// machine learning in SQL.
//
//	sibyldb serve [--data-dir DIR] [--addr HOST:PORT] [--root-password PW] [--log-level LEVEL] [--http-addr HOST:PORT]
//	sibyldb serve-model --data-dir DIR --model [DB.]NAME [--addr HOST:PORT]
//	sibyldb version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/sibyldb/sibyldb/internal/console"
	"github.com/sibyldb/sibyldb/internal/metrics"
	"github.com/sibyldb/sibyldb/internal/server"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: sibyldb <command> [flags]

commands:
  serve        run the server (sibyldb serve --help for flags)
  serve-model  serve a model trained in SQL over SageMaker's /ping and /invocations
  version      print the version
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "serve-model":
		return serveModel(args[1:], stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "sibyldb %s\n", server.Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "sibyldb: unknown command %q\n%s", args[0], usage)
		return 2
	}
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "./sibyldb-data", "directory holding the databases; created on first start")
	addr := fs.String("addr", "127.0.0.1:3306", "HOST:PORT to accept MySQL connections on")
	rootPassword := fs.String("root-password", "", "root's password for a new data dir; required unless --addr is loopback")
	logLevel := fs.String("log-level", "info", "one of trace, debug, info, warn, error")
	secureFilePriv := fs.String("secure-file-priv", "", "directory LOAD DATA INFILE / INTO OUTFILE may use (default DATA-DIR/.sibyldb/files)")
	tlsCert := fs.String("tls-cert", "", "PEM certificate for TLS client connections")
	tlsKey := fs.String("tls-key", "", "PEM private key for --tls-cert")
	requireTLS := fs.Bool("require-secure-transport", false, "refuse client connections without TLS")
	secretKeyFile := fs.String("secret-key-file", "", "key (hex) encrypting stored endpoint credentials (default DATA-DIR/.sibyldb/secret.key; SIBYLDB_SECRET_KEY overrides)")
	sageMakerURL := fs.String("sagemaker-url", "", "base URL for endpoint names without CREATE ENDPOINT: {url}/endpoints/{name}/invocations")
	comprehendBackend := fs.String("comprehend-backend", "local", "default of aws_comprehend_backend: local, comprehend (Amazon Comprehend) or endpoint:NAME")
	onnxLib := fs.String("onnx-runtime-lib", defaultONNXRuntime(), "ONNX Runtime shared library for aws_comprehend_backend = 'onnx:PATH' (default: onnxruntime/libonnxruntime.so beside the binary, as make deps installs it)")
	llamaLib := fs.String("llama-lib", besideBinary("llama"), "directory of llama.cpp's shared libraries for PROTOCOL LLAMA_CPP endpoints (default: llama/ beside the binary, as make deps installs it)")
	httpAddr := fs.String("http-addr", "", "serve the web console on this HOST:PORT (a bare PORT or :PORT is loopback; off when empty; HTTPS with --tls-cert)")
	pprofAddr := fs.String("pprof-addr", "", "serve Go's net/http/pprof profiles on this HOST:PORT (off when empty)")
	awsIMDS := fs.Bool("aws-instance-metadata", false, "let the AWS SDK fetch credentials from the EC2 instance metadata service (169.254.169.254); off by default")
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long SIGTERM waits for running statements")
	metricsAddr := fs.String("metrics-addr", "", "serve Prometheus metrics at http://HOST:PORT/metrics (off when empty; HTTPS with --tls-cert)")
	metricsToken := fs.String("metrics-token-file", "", "file holding the bearer token /metrics requires (at least 16 characters); required unless --metrics-addr is loopback")
	memoryLimit := fs.String("memory-limit", "", "soft limit on the server's memory, e.g. 2GiB (Go's GOMEMLIMIT; default: GOMEMLIMIT, else none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sibyldb serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}

	limit, err := applyMemoryLimit(*memoryLimit)
	if err != nil {
		fmt.Fprintf(stderr, "sibyldb serve: --memory-limit: %v\n", err)
		return 2
	}

	log := logrus.StandardLogger()
	log.SetOutput(stderr)
	level, err := logrus.ParseLevel(*logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "sibyldb serve: invalid --log-level %q\n", *logLevel)
		return 2
	}
	log.SetLevel(level)

	metricsOpts, err := metricsOptions(*metricsAddr, *httpAddr, *metricsToken, *tlsCert, *tlsKey)
	if err != nil {
		fmt.Fprintf(stderr, "sibyldb serve: %v\n", err)
		return 2
	}

	if *pprofAddr != "" {
		if err := servePprof(*pprofAddr, log); err != nil {
			fmt.Fprintf(stderr, "sibyldb serve: --pprof-addr: %v\n", err)
			return 1
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	srv, err := server.New(ctx, server.Config{
		DataDir:           *dataDir,
		Addr:              *addr,
		RootPassword:      *rootPassword,
		SecureFilePriv:    *secureFilePriv,
		SageMakerURL:      *sageMakerURL,
		ComprehendBackend: *comprehendBackend,
		ONNXRuntimeLib:    *onnxLib,
		LlamaLib:          *llamaLib,
		SecretKeyFile:     *secretKeyFile,
		TLSCert:           *tlsCert,
		TLSKey:            *tlsKey,

		RequireSecureTransport: *requireTLS,
		AWSInstanceMetadata:    *awsIMDS,
		ShutdownTimeout:        *shutdownTimeout,
		MemoryLimit:            limit,
		Logger:                 log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "sibyldb serve: %v\n", err)
		return 1
	}

	if *metricsAddr != "" {
		ms, err := metrics.Serve(srv.Metrics.Handler(), metricsOpts)
		if err != nil {
			fmt.Fprintf(stderr, "sibyldb serve: --metrics-addr: %v\n", err)
			_ = srv.Shutdown(context.Background())
			return 1
		}
		log.Infof("metrics on %s", ms.URL())
		defer func() { _ = ms.Close(context.Background()) }()
	}
	var web *console.Console
	if *httpAddr != "" {
		web, err = console.New(console.Config{
			Addr:          *httpAddr,
			MySQLAddr:     srv.Addr().String(),
			TLSCert:       *tlsCert,
			TLSKey:        *tlsKey,
			Reports:       srv.Models.Report,
			FunctionStats: func() ([]map[string]any, error) { return srv.ML.StatsRows(nil) },
			CircuitState:  srv.ML.CircuitState,
			Logger:        log,
			Extra:         consoleMetrics(srv.Metrics.Handler(), *httpAddr, metricsOpts.Auth),
		})
		if err != nil {
			fmt.Fprintf(stderr, "sibyldb serve: --http-addr: %v\n", err)
			_ = srv.Shutdown(context.Background())
			return 1
		}
		go func() {
			if err := web.Serve(); err != nil {
				log.WithError(err).Error("web console stopped")
			}
		}()
		defer func() { _ = web.Shutdown(context.Background()) }()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-served:
		if err != nil {
			log.WithError(err).Error("server stopped")
			_ = srv.Shutdown(context.Background())
			return 1
		}
	}
	if web != nil {
		// Signed-in sessions hold MySQL connections: end them first.
		_ = web.Shutdown(context.Background())
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		log.WithError(err).Error("shutdown")
		return 1
	}
	log.Info("shutdown complete")
	return 0
}

// defaultONNXRuntime is where `make deps` puts ONNX Runtime: bin/onnxruntime
// beside bin/sibyldb; empty when it is not there.
func defaultONNXRuntime() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(exe), "onnxruntime", "libonnxruntime.so")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// besideBinary is name in the binary's directory (where make deps puts
// libraries: bin/llama beside bin/sibyldb).
func besideBinary(name string) string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Join(filepath.Dir(exe), name)
}

// servePprof exposes the runtime profiles for diagnosing a live server.
func servePprof(addr string, log *logrus.Logger) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Infof("pprof on http://%s/debug/pprof/", l.Addr())
	go func() { _ = http.Serve(l, nil) }()
	return nil
}
