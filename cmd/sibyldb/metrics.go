package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"

	"github.com/sibyldb/sibyldb/internal/console"
	"github.com/sibyldb/sibyldb/internal/metrics"
)

// metricsOptions checks the --metrics-* flags before the server starts:
// the token file is read (and refused when too short), a non-loopback
// address without a token is refused, and the metrics are served over TLS
// when the server has a certificate.
func metricsOptions(addr, consoleAddr, tokenFile, certFile, keyFile string) (metrics.ServeOptions, error) {
	opts := metrics.ServeOptions{Addr: addr}
	if tokenFile != "" {
		if addr == "" && consoleAddr == "" {
			return opts, errors.New("--metrics-token-file needs --metrics-addr or --http-addr")
		}
		auth, err := metrics.LoadToken(tokenFile)
		if err != nil {
			return opts, err
		}
		opts.Auth = auth
	}
	if addr == "" {
		return opts, nil
	}
	loopback, err := metrics.IsLoopback(addr)
	if err != nil {
		return opts, err
	}
	if !loopback && opts.Auth == nil {
		return opts, metrics.ErrInsecure
	}
	if certFile != "" && keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return opts, fmt.Errorf("load TLS certificate: %w", err)
		}
		opts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return opts, nil
}

// consoleMetrics is what the web console serves at /metrics on its own
// listener: the metrics behind the metrics token when one is set, open
// when the console listens on loopback only, and nothing otherwise (an
// operator who wants metrics off loopback sets a token).
func consoleMetrics(h http.Handler, consoleAddr string, auth *metrics.Auth) map[string]http.Handler {
	if auth != nil {
		return map[string]http.Handler{"/metrics": auth.Wrap(h)}
	}
	addr, err := console.ListenAddr(consoleAddr)
	if err != nil {
		return nil
	}
	if loopback, err := metrics.IsLoopback(addr); err != nil || !loopback {
		return nil
	}
	return map[string]http.Handler{"/metrics": h}
}
