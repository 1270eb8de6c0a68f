package main

import (
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/sibyldb/sibyldb/internal/metrics"
)

// metricsOptions checks the --metrics-* flags before the server starts:
// the token file is read (and refused when too short), a non-loopback
// address without a token is refused, and the metrics are served over TLS
// when the server has a certificate.
func metricsOptions(addr, tokenFile, certFile, keyFile string) (metrics.ServeOptions, error) {
	opts := metrics.ServeOptions{Addr: addr}
	if addr == "" {
		if tokenFile != "" {
			return opts, errors.New("--metrics-token-file needs --metrics-addr")
		}
		return opts, nil
	}
	if tokenFile != "" {
		auth, err := metrics.LoadToken(tokenFile)
		if err != nil {
			return opts, err
		}
		opts.Auth = auth
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
