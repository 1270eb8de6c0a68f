package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sibyldb/sibyldb/internal/ml/serving"
	"github.com/sibyldb/sibyldb/internal/server"
)

// serveModel runs `sibyldb serve-model`: one model, served over the
// SageMaker container contract. It reads the copy the server keeps of
// every ready model, so it can run next to a live server.
func serveModel(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve-model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "./sibyldb-data", "the server's data directory")
	name := fs.String("model", "", "model to serve: DB.NAME, or NAME when only one database has it")
	addr := fs.String("addr", "127.0.0.1:8080", "HOST:PORT to serve on (SageMaker containers use port 8080)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *name == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: sibyldb serve-model --data-dir DIR --model [DB.]NAME [--addr HOST:PORT]")
		return 2
	}
	path, err := findModel(server.ModelsDir(*dataDir), *name)
	if err != nil {
		fmt.Fprintf(stderr, "sibyldb serve-model: %v\n", err)
		return 1
	}
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "sibyldb serve-model: %v\n", err)
		return 1
	}
	h, err := serving.NewHandler(data)
	if err != nil {
		fmt.Fprintf(stderr, "sibyldb serve-model: %s: %v\n", path, err)
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "sibyldb serve-model: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "serving model %s on http://%s\n", h.Name(), ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 60 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "sibyldb serve-model: %v\n", err)
		return 1
	}
	return 0
}

// findModel locates DB.NAME.json, or the only *.NAME.json, in dir.
func findModel(dir, name string) (string, error) {
	name = strings.ToLower(name)
	if strings.Contains(name, ".") {
		p := filepath.Join(dir, name+".json")
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("model %s: no ready model of that name in %s", name, dir)
		}
		return p, nil
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*."+name+".json"))
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("model %s: no ready model of that name in %s", name, dir)
	case 1:
		return matches[0], nil
	}
	return "", fmt.Errorf("model %s exists in several databases: name it as DB.%s", name, name)
}
