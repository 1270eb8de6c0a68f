package xgb

/*
#include <stdlib.h>
#include <xgboost/c_api.h>
*/
import "C"

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/sibyldb/sibyldb/internal/ml/gbtree"
)

// Prediction types understood by XGBoosterPredictFromDMatrix.
const (
	predictValue   = 0 // transformed prediction
	predictMargin  = 1 // raw margin, before the objective's link
	predictContrib = 2 // exact SHAP contributions
)

// Booster is a trained XGBoost model held by the C library. It is safe for
// concurrent use: calls are serialised by a mutex, because XGBoost's learner
// keeps per-call scratch state that concurrent predictions would race on.
type Booster struct {
	mu      sync.Mutex
	h       C.BoosterHandle // nil after Close
	cleanup runtime.Cleanup
}

// newBooster wraps an owned handle. The cleanup is a safety net for boosters
// that are dropped without Close; it must not capture b itself.
func newBooster(h C.BoosterHandle) *Booster {
	b := &Booster{h: h}
	b.cleanup = runtime.AddCleanup(b, func(h C.BoosterHandle) { C.XGBoosterFree(h) }, h)
	return b
}

// Load reads a model saved by XGBoost as JSON or UBJSON (the library's
// XGBoosterLoadModelFromBuffer tells them apart).
//
// XGBoost trusts the tree structure it loads, so a model with a child index
// out of range would make it read outside its arrays. Load therefore only
// accepts tree models that pass gbtree.Parse's structural checks: JSON is
// checked before it reaches the library, and every model, UBJSON included,
// is checked again as the library understood it, by exporting it back to
// JSON, before Load returns. The legacy binary format is rejected.
func Load(model []byte) (*Booster, error) {
	trimmed := bytes.TrimLeft(model, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty model", ErrInvalidInput)
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: model is neither JSON nor UBJSON (legacy binary models are not accepted)", ErrInvalidInput)
	}
	// XGBoost reads `{"` as JSON and `{` followed by a letter (a UBJSON
	// type marker) as UBJSON.
	if len(trimmed) > 1 && trimmed[1] != '"' && !isLetter(trimmed[1]) {
		return nil, fmt.Errorf("%w: model is neither JSON nor UBJSON", ErrInvalidInput)
	}
	if len(trimmed) > 1 && trimmed[1] == '"' {
		if _, err := gbtree.Parse(model); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidInput, err)
		}
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var h C.BoosterHandle
	if err := check("XGBoosterCreate", C.XGBoosterCreate(nil, 0, &h)); err != nil {
		return nil, err
	}
	rc := C.XGBoosterLoadModelFromBuffer(h, unsafe.Pointer(&model[0]), C.bst_ulong(len(model)))
	if err := check("XGBoosterLoadModelFromBuffer", rc); err != nil {
		C.XGBoosterFree(h)
		return nil, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	b := newBooster(h)
	js, err := saveJSON(b.h)
	if err == nil {
		_, err = gbtree.Parse(js)
	}
	if err != nil {
		b.closeLocked()
		return nil, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	return b, nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// Close frees the C booster. It is idempotent; other methods return
// ErrClosed afterwards.
func (b *Booster) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closeLocked()
}

func (b *Booster) closeLocked() {
	if b.h == nil {
		return
	}
	b.cleanup.Stop()
	C.XGBoosterFree(b.h)
	b.h = nil
}

// lock acquires the mutex and pins the OS thread; the returned function
// undoes both. Every method that reads a C-owned buffer runs between them.
func (b *Booster) lock() (unlock func(), err error) {
	b.mu.Lock()
	if b.h == nil {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	runtime.LockOSThread()
	return func() {
		runtime.UnlockOSThread()
		b.mu.Unlock()
	}, nil
}

// JSON returns the model in XGBoost's JSON format, which gbtree.Parse reads.
func (b *Booster) JSON() ([]byte, error) {
	unlock, err := b.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return saveModel(b.h, "json")
}

// saveJSON serialises the booster h as JSON. The OS thread must be locked.
func saveJSON(h C.BoosterHandle) ([]byte, error) { return saveModel(h, "json") }

// saveModel serialises the booster h in format "json" or "ubj". The OS
// thread must be locked: the returned buffer is thread-local.
func saveModel(h C.BoosterHandle, format string) ([]byte, error) {
	cfg := C.CString(`{"format":"` + format + `"}`)
	defer C.free(unsafe.Pointer(cfg))
	var n C.bst_ulong
	var p *C.char
	if err := check("XGBoosterSaveModelToBuffer", C.XGBoosterSaveModelToBuffer(h, cfg, &n, &p)); err != nil {
		return nil, err
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n)), nil
}

// NumFeatures returns the number of input columns the model was trained on.
func (b *Booster) NumFeatures() (int, error) {
	unlock, err := b.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	var n C.bst_ulong
	if err := check("XGBoosterGetNumFeature", C.XGBoosterGetNumFeature(b.h, &n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

// Rounds returns the number of boosting rounds in the model. A multiclass
// model has one tree per class per round.
func (b *Booster) Rounds() (int, error) {
	unlock, err := b.lock()
	if err != nil {
		return 0, err
	}
	defer unlock()
	var n C.int
	if err := check("XGBoosterBoostedRounds", C.XGBoosterBoostedRounds(b.h, &n)); err != nil {
		return 0, err
	}
	return int(n), nil
}

// Predict returns the objective's transformed predictions for each row of
// m, row-major: one value per row for regression and binary objectives,
// NumClass values per row for multi:softprob, and the class index for
// multi:softmax.
func (b *Booster) Predict(m Matrix) ([]float32, error) {
	out, _, err := b.predict(m, predictValue)
	return out, err
}

// PredictMargin returns the untransformed margins (the sum of the trees plus
// the base score in margin space), shaped as Predict's output except that
// multi:softmax yields one margin per class.
func (b *Booster) PredictMargin(m Matrix) ([]float32, error) {
	out, _, err := b.predict(m, predictMargin)
	return out, err
}

// Contributions returns exact SHAP values and their shape as XGBoost reports
// it: rows x (cols+1) for single-output models, rows x classes x (cols+1) for
// multiclass ones. The last entry of each innermost group is the bias, so a
// group sums to the margin prediction.
func (b *Booster) Contributions(m Matrix) ([]float32, []uint64, error) {
	return b.predict(m, predictContrib)
}

func (b *Booster) predict(m Matrix, kind int) ([]float32, []uint64, error) {
	if err := m.validate("prediction"); err != nil {
		return nil, nil, err
	}
	unlock, err := b.lock()
	if err != nil {
		return nil, nil, err
	}
	defer unlock()

	var nf C.bst_ulong
	if err := check("XGBoosterGetNumFeature", C.XGBoosterGetNumFeature(b.h, &nf)); err != nil {
		return nil, nil, err
	}
	if m.Cols != int(nf) {
		return nil, nil, fmt.Errorf("%w: matrix has %d columns, model expects %d", ErrInvalidInput, m.Cols, nf)
	}
	d, err := newDMatrix(m, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	defer d.free()

	cfg := C.CString(fmt.Sprintf(`{"type":%d,"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":false}`, kind))
	defer C.free(unsafe.Pointer(cfg))
	var (
		shape *C.bst_ulong
		dim   C.bst_ulong
		res   *C.float
	)
	rc := C.XGBoosterPredictFromDMatrix(b.h, d.h, cfg, &shape, &dim, &res)
	if err := check("XGBoosterPredictFromDMatrix", rc); err != nil {
		return nil, nil, err
	}
	// Copy the thread-local shape and result before anything else can
	// touch XGBoost on this thread.
	dims := make([]uint64, int(dim))
	size := uint64(1)
	for i, s := range unsafe.Slice(shape, int(dim)) {
		dims[i] = uint64(s)
		size *= uint64(s)
	}
	out := make([]float32, size)
	if size > 0 {
		copy(out, unsafe.Slice((*float32)(unsafe.Pointer(res)), size))
	}
	return out, dims, nil
}
