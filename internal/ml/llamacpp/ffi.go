package llamacpp

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// llama_model_load_from_file and llama_init_from_model take their
// parameter structs (80 and 160 bytes) by value, which the System V ABI
// passes as eightbytes on the stack: more than purego's calls can carry
// (9 stack words). libffi, which every Linux
// distribution ships (libffi.so.8) and which yzma uses for all its calls,
// makes those two calls. It is opened when the first model is loaded rather
// than when the server starts (the Go ffi package opens it in an init
// function and panics without it), so a server without libffi runs and
// only LLAMA_CPP endpoints report it missing.

// ffiType is libffi's ffi_type.
type ffiType struct {
	size      uintptr
	alignment uint16
	typ       uint16
	elements  *uintptr
}

// ffiCif is libffi's ffi_cif on x86-64 and arm64 Linux, with room to spare.
type ffiCif struct {
	abi      uint32
	nargs    uint32
	argTypes *uintptr
	rtype    uintptr
	bytes    uint32
	flags    uint32
	_        [8]uint64
}

const (
	ffiTypeStruct = 13
	ffiOK         = 0
)

// ffiDefaultABI is FFI_DEFAULT_ABI: FFI_UNIX64 on x86-64, FFI_SYSV on arm64.
func ffiDefaultABI() uint32 {
	if runtime.GOARCH == "amd64" {
		return 2
	}
	return 1
}

// structCall is a prepared libffi call of a C function taking (pointer,
// struct by value) and returning a pointer.
type structCall struct {
	cif   ffiCif
	fn    uintptr
	st    ffiType
	elems []uintptr
	args  []uintptr
}

// libffi's entry points, opened once.
var (
	ffiOnce sync.Once
	ffiErr  error
	ffiPrep func(cif *ffiCif, abi uint32, nargs uint32, rtype uintptr, atypes *uintptr) int32
	ffiCall func(cif *ffiCif, fn uintptr, rvalue unsafe.Pointer, avalue *unsafe.Pointer)
	ffiU64  uintptr
	ffiPtr  uintptr
)

func openFFI() error {
	ffiOnce.Do(func() {
		h, err := openFirst("libffi.so.8", "libffi.so.7", "libffi.so")
		if err != nil {
			ffiErr = fmt.Errorf("%w: libffi (libffi.so.8) is needed to call llama.cpp: %v", ErrNoLibrary, err)
			return
		}
		purego.RegisterLibFunc(&ffiPrep, h, "ffi_prep_cif")
		purego.RegisterLibFunc(&ffiCall, h, "ffi_call")
		if ffiU64, err = purego.Dlsym(h, "ffi_type_uint64"); err == nil {
			ffiPtr, err = purego.Dlsym(h, "ffi_type_pointer")
		}
		if err != nil {
			ffiErr = fmt.Errorf("%w: libffi: %v", ErrNoLibrary, err)
		}
	})
	return ffiErr
}

// prepareStructCall describes name(pointer, struct of size bytes) ->
// pointer to libffi. The struct is described as size/8 uint64s: a struct
// over 16 bytes is passed in memory whatever its fields, so only its size
// and alignment matter. The returned call lives for the process.
func prepareStructCall(lib uintptr, name string, size uintptr) (*structCall, error) {
	if err := openFFI(); err != nil {
		return nil, err
	}
	c := &structCall{}
	var err error
	if c.fn, err = purego.Dlsym(lib, name); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoLibrary, err)
	}
	words := int(size / 8)
	c.elems = make([]uintptr, words+1) // NULL-terminated
	for i := 0; i < words; i++ {
		c.elems[i] = ffiU64
	}
	c.st = ffiType{typ: ffiTypeStruct, elements: &c.elems[0]}
	c.args = []uintptr{ffiPtr, uintptr(unsafe.Pointer(&c.st))}
	if st := ffiPrep(&c.cif, ffiDefaultABI(), 2, ffiPtr, &c.args[0]); st != ffiOK {
		return nil, fmt.Errorf("%w: ffi_prep_cif for %s failed (%d)", ErrNoLibrary, name, st)
	}
	if c.st.size != size {
		return nil, fmt.Errorf("%w: libffi sizes %s's argument at %d bytes, not %d", ErrNoLibrary, name, c.st.size, size)
	}
	return c, nil
}

// call calls the function with first (a pointer) and the struct at p.
func (c *structCall) call(first unsafe.Pointer, p unsafe.Pointer) uintptr {
	var out uintptr
	args := []unsafe.Pointer{unsafe.Pointer(&first), p}
	ffiCall(&c.cif, c.fn, unsafe.Pointer(&out), &args[0])
	runtime.KeepAlive(args)
	return out
}

func openFirst(names ...string) (uintptr, error) {
	var err error
	for _, n := range names {
		var h uintptr
		if h, err = purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_GLOBAL); err == nil {
			return h, nil
		}
	}
	return 0, err
}
