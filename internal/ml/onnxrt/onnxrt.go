// Package onnxrt loads ONNX Runtime, the C library behind the ONNX models
// SibylDB runs (transformer text classifiers, models brought with CREATE
// MODEL). It is loaded at run time, once per process, from the path the
// server is configured with, so the server builds and runs without it.
package onnxrt

import (
	"errors"
	"fmt"
	"os"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

var (
	mu      sync.Mutex
	libPath string
	ready   bool
)

// Configure sets the shared library Ready loads (--onnx-runtime-lib).
func Configure(path string) {
	mu.Lock()
	defer mu.Unlock()
	libPath = path
}

// Ready loads ONNX Runtime on first use. A failure is not remembered: a
// library installed later is picked up.
func Ready() error {
	mu.Lock()
	defer mu.Unlock()
	if ready {
		return nil
	}
	if libPath == "" {
		return errors.New("ONNX Runtime is not configured (start the server with --onnx-runtime-lib; make deps installs it into bin/onnxruntime)")
	}
	if _, err := os.Stat(libPath); err != nil {
		return fmt.Errorf("ONNX Runtime library: %w", err)
	}
	ort.SetSharedLibraryPath(libPath)
	if err := ort.InitializeEnvironment(); err != nil {
		return fmt.Errorf("ONNX Runtime: %w", err)
	}
	ready = true
	return nil
}
