// Package xgb trains and evaluates gradient-boosted tree models through
// XGBoost's C library (Debian's libxgboost, 1.7.x).
//
// Training is the one job that needs the real library: it is where the
// histogram builders, objectives and metrics live, and re-implementing them
// would be both large and subtly different. Query-time prediction, on the
// other hand, should not pay a cgo call per row; the server predicts with the
// pure-Go evaluator in package gbtree and keeps this package's Booster for
// what only XGBoost can do cheaply, such as SHAP contributions, and as the
// reference the Go evaluator is tested against.
//
// # Threads
//
// XGBoost keeps the buffers it returns (predictions, saved models, evaluation
// strings, the last error message) in thread-local storage. Goroutines move
// between OS threads, so every function here pins its goroutine with
// runtime.LockOSThread for the whole sequence of C calls whose results it
// reads, and copies those results into Go memory before unpinning.
package xgb

/*
#cgo LDFLAGS: -lxgboost
#include <stdlib.h>
#include <xgboost/c_api.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unsafe"
)

// Error is a failure reported by the XGBoost library itself.
type Error struct {
	// Op names the C function that failed.
	Op string
	// Msg is XGBGetLastError's text for the failure.
	Msg string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("xgboost %s: %s", e.Op, e.Msg)
}

// ErrInvalidInput reports arguments rejected before reaching the C library:
// mismatched lengths, empty matrices, malformed model bytes.
var ErrInvalidInput = errors.New("xgb: invalid input")

// ErrClosed is returned by methods of a Booster after Close.
var ErrClosed = errors.New("xgb: booster is closed")

// check turns a C return code into an error. It must run on the OS thread
// that made the call, because XGBGetLastError is thread-local; callers hold
// runtime.LockOSThread.
func check(op string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return &Error{Op: op, Msg: cleanMessage(C.GoString(C.XGBGetLastError()))}
}

// cleanMessage drops the parts of an XGBoost error meant for its
// developers: the "[15:04:05] src/file.cc:123: " prefix and the native stack
// trace.
func cleanMessage(msg string) string {
	if i := strings.Index(msg, "Stack trace:"); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.TrimSpace(msg)
	if strings.HasPrefix(msg, "[") {
		if end := strings.Index(msg, "] "); end >= 0 {
			msg = msg[end+2:]
			// The source location ends at the first ": " after ".cc:N" or ".cu:N".
			if colon := strings.Index(msg, ": "); colon >= 0 && strings.Contains(msg[:colon], ".c") {
				msg = msg[colon+2:]
			}
		}
	}
	return msg
}

// Matrix is a dense row-major matrix; NaN marks a missing value.
type Matrix struct {
	Data       []float32
	Rows, Cols int
}

// validate checks that the declared shape matches the data.
func (m Matrix) validate(name string) error {
	if m.Rows <= 0 || m.Cols <= 0 {
		return fmt.Errorf("%w: %s matrix is %dx%d, want at least 1x1", ErrInvalidInput, name, m.Rows, m.Cols)
	}
	if m.Rows > math.MaxInt32 || m.Cols > math.MaxInt32 || m.Rows > math.MaxInt/m.Cols {
		return fmt.Errorf("%w: %s matrix %dx%d is too large", ErrInvalidInput, name, m.Rows, m.Cols)
	}
	if len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("%w: %s matrix has %d values, want %d rows x %d cols = %d",
			ErrInvalidInput, name, len(m.Data), m.Rows, m.Cols, m.Rows*m.Cols)
	}
	return nil
}

// dmatrix is an owned XGBoost DMatrix handle.
type dmatrix struct{ h C.DMatrixHandle }

// newDMatrix copies m into a new DMatrix and attaches labels and weights when
// they are non-nil. The caller must hold the OS thread and free the result.
func newDMatrix(m Matrix, labels, weights []float32) (*dmatrix, error) {
	var h C.DMatrixHandle
	rc := C.XGDMatrixCreateFromMat((*C.float)(unsafe.Pointer(&m.Data[0])),
		C.bst_ulong(m.Rows), C.bst_ulong(m.Cols), C.float(float32(math.NaN())), &h)
	if err := check("XGDMatrixCreateFromMat", rc); err != nil {
		return nil, err
	}
	d := &dmatrix{h: h}
	for _, info := range []struct {
		field string
		vals  []float32
	}{{"label", labels}, {"weight", weights}} {
		if info.vals == nil {
			continue
		}
		if err := d.setFloatInfo(info.field, info.vals); err != nil {
			d.free()
			return nil, err
		}
	}
	return d, nil
}

func (d *dmatrix) setFloatInfo(field string, vals []float32) error {
	cfield := C.CString(field)
	defer C.free(unsafe.Pointer(cfield))
	var p *C.float
	if len(vals) > 0 {
		p = (*C.float)(unsafe.Pointer(&vals[0]))
	}
	rc := C.XGDMatrixSetFloatInfo(d.h, cfield, p, C.bst_ulong(len(vals)))
	if err := check("XGDMatrixSetFloatInfo("+field+")", rc); err != nil {
		return err
	}
	return nil
}

// free releases the handle; it is safe on a nil receiver.
func (d *dmatrix) free() {
	if d != nil && d.h != nil {
		C.XGDMatrixFree(d.h)
		d.h = nil
	}
}
