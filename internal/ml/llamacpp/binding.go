package llamacpp

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// The C structs handed to llama.cpp by value, laid out exactly as the
// llama.h of the libraries make deps installs (llama.cpp v0.5.0, as
// node-llama-cpp 3.22.1 builds it). A newer llama.cpp that changes them
// needs these changed with it: Load checks the build it finds.

type modelParams struct {
	devices                  uintptr
	tensorBuftOverrides      uintptr
	nGpuLayers               int32
	splitMode                int32
	loadMode                 int32
	lazyMode                 int32
	mainGpu                  int32
	_                        int32
	tensorSplit              uintptr
	progressCallback         uintptr
	progressCallbackUserData uintptr
	kvOverrides              uintptr
	vocabOnly                bool
	checkTensors             bool
	useExtraBufts            bool
	noHost                   bool
	noAlloc                  bool
	loadMTP                  bool
	_                        [2]byte
}

type contextParams struct {
	nCtx               uint32
	nBatch             uint32
	nUbatch            uint32
	nSeqMax            uint32
	nRsSeq             uint32
	nOutputsMax        uint32
	nOutputsMaxPerSeq  uint32
	nThreads           int32
	nThreadsBatch      int32
	ctxType            int32
	ropeScalingType    int32
	poolingType        int32
	attentionType      int32
	flashAttentionType int32
	ropeFreqBase       float32
	ropeFreqScale      float32
	yarnExtFactor      float32
	yarnAttnFactor     float32
	yarnBetaFast       float32
	yarnBetaSlow       float32
	yarnOrigCtx        uint32
	defragThold        float32
	cbEval             uintptr
	cbEvalUserData     uintptr
	typeK              int32
	typeV              int32
	abortCallback      uintptr
	abortCallbackData  uintptr
	embeddings         bool
	offloadKQV         bool
	noPerf             bool
	opOffload          bool
	swaFull            bool
	kvUnified          bool
	_                  [2]byte
	samplers           uintptr
	nSamplers          uint64
	ctxOther           uintptr
}

type batch struct {
	nTokens int32
	_       int32
	token   *int32
	embd    *float32
	pos     *int32
	nSeqID  *int32
	seqID   **int32
	logits  *int8
}

type chainParams struct {
	noPerf bool
}

type chatMessage struct {
	role, content *byte
}

// api is the handful of llama.cpp functions SibylDB calls.
type api struct {
	lib                  uintptr
	loadModel            *structCall
	initContext          *structCall
	backendInit          func()
	loadAllFromPath      func(path string)
	logSet               func(cb, user uintptr)
	modelDefaultParams   func() modelParams
	modelFree            func(model uintptr)
	modelGetVocab        func(model uintptr) uintptr
	modelChatTemplate    func(model uintptr, name uintptr) uintptr
	modelNCtxTrain       func(model uintptr) int32
	contextDefaultParams func() contextParams
	free                 func(ctx uintptr)
	nCtx                 func(ctx uintptr) uint32
	tokenize             func(vocab uintptr, text *byte, textLen int32, tokens *int32, nMax int32, addSpecial, parseSpecial bool) int32
	tokenToPiece         func(vocab uintptr, token int32, buf *byte, length int32, lstrip int32, special bool) int32
	vocabIsEOG           func(vocab uintptr, token int32) bool
	batchGetOne          func(tokens *int32, n int32) batch
	decode               func(ctx uintptr, b batch) int32
	getMemory            func(ctx uintptr) uintptr
	memoryClear          func(mem uintptr, data bool)
	chainInit            func(p chainParams) uintptr
	chainAdd             func(chain, smpl uintptr)
	initGreedy           func() uintptr
	initDist             func(seed uint32) uintptr
	initTemp             func(t float32) uintptr
	initTopP             func(p float32, minKeep uintptr) uintptr
	sample               func(smpl, ctx uintptr, idx int32) int32
	samplerFree          func(smpl uintptr)
	chatApplyTemplate    func(tmpl uintptr, chat *chatMessage, n uintptr, addAss bool, buf *byte, length int32) int32
}

// ErrNoLibrary is returned when llama.cpp's libraries are not where the
// server was told to find them.
var ErrNoLibrary = errors.New("llama.cpp library not found")

var (
	loadMu   sync.Mutex
	loaded   *api
	libDir   string
	logMu    sync.Mutex
	lastLogs []string // the latest error lines llama.cpp logged
)

// Configure sets the directory Load finds llama.cpp's shared libraries in
// (--llama-lib; make deps installs them into bin/llama).
func Configure(dir string) {
	loadMu.Lock()
	defer loadMu.Unlock()
	libDir = dir
}

// LibraryDir is the configured library directory.
func LibraryDir() string {
	loadMu.Lock()
	defer loadMu.Unlock()
	return libDir
}

// findLib returns the library in dir whose name is prefix.so, or
// prefix.v<version>.so as node-llama-cpp names them.
func findLib(dir, prefix string) (string, error) {
	p := filepath.Join(dir, prefix+".so")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob(filepath.Join(dir, prefix+".v*.so"))
	if len(matches) == 1 {
		return matches[0], nil
	}
	return "", fmt.Errorf("%w: no %s.so in %s (make deps installs llama.cpp into bin/llama; start the server with --llama-lib DIR to use another)", ErrNoLibrary, prefix, dir)
}

// load opens the libraries once per process. A failure is not remembered:
// libraries installed later are picked up.
func load() (*api, error) {
	loadMu.Lock()
	defer loadMu.Unlock()
	if loaded != nil {
		return loaded, nil
	}
	if libDir == "" {
		return nil, fmt.Errorf("%w: the server has no --llama-lib directory (make deps installs llama.cpp into bin/llama)", ErrNoLibrary)
	}
	if st, err := os.Stat(libDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: directory %s: %v", ErrNoLibrary, libDir, errOr(err, fs.ErrInvalid))
	}
	ggmlPath, err := findLib(libDir, "libggml")
	if err != nil {
		return nil, err
	}
	llamaPath, err := findLib(libDir, "libllama")
	if err != nil {
		return nil, err
	}
	ggml, err := purego.Dlopen(ggmlPath, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoLibrary, ggmlPath, err)
	}
	lib, err := purego.Dlopen(llamaPath, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoLibrary, llamaPath, err)
	}
	a := &api{lib: lib}
	var missing []string
	reg := func(handle uintptr, fptr any, name string) {
		if _, err := purego.Dlsym(handle, name); err != nil {
			missing = append(missing, name)
			return
		}
		purego.RegisterLibFunc(fptr, handle, name)
	}
	reg(ggml, &a.loadAllFromPath, "ggml_backend_load_all_from_path")
	reg(lib, &a.backendInit, "llama_backend_init")
	reg(lib, &a.logSet, "llama_log_set")
	reg(lib, &a.modelDefaultParams, "llama_model_default_params")
	reg(lib, &a.modelFree, "llama_model_free")
	reg(lib, &a.modelGetVocab, "llama_model_get_vocab")
	reg(lib, &a.modelChatTemplate, "llama_model_chat_template")
	reg(lib, &a.modelNCtxTrain, "llama_model_n_ctx_train")
	reg(lib, &a.contextDefaultParams, "llama_context_default_params")
	reg(lib, &a.free, "llama_free")
	reg(lib, &a.nCtx, "llama_n_ctx")
	reg(lib, &a.tokenize, "llama_tokenize")
	reg(lib, &a.tokenToPiece, "llama_token_to_piece")
	reg(lib, &a.vocabIsEOG, "llama_vocab_is_eog")
	reg(lib, &a.batchGetOne, "llama_batch_get_one")
	reg(lib, &a.decode, "llama_decode")
	reg(lib, &a.getMemory, "llama_get_memory")
	reg(lib, &a.memoryClear, "llama_memory_clear")
	reg(lib, &a.chainInit, "llama_sampler_chain_init")
	reg(lib, &a.chainAdd, "llama_sampler_chain_add")
	reg(lib, &a.initGreedy, "llama_sampler_init_greedy")
	reg(lib, &a.initDist, "llama_sampler_init_dist")
	reg(lib, &a.initTemp, "llama_sampler_init_temp")
	reg(lib, &a.initTopP, "llama_sampler_init_top_p")
	reg(lib, &a.sample, "llama_sampler_sample")
	reg(lib, &a.samplerFree, "llama_sampler_free")
	reg(lib, &a.chatApplyTemplate, "llama_chat_apply_template")
	// The struct layouts above are those of llama.cpp v0.5.0; a build
	// without its newest entry points has older ones.
	for _, name := range []string{"llama_memory_seq_pos_max", "llama_sampler_init_adaptive_p"} {
		if _, err := purego.Dlsym(lib, name); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s is not the llama.cpp build SibylDB supports (v0.5.0, from @node-llama-cpp/linux-x64 3.22.1): missing %s",
			ErrNoLibrary, llamaPath, strings.Join(missing, ", "))
	}
	if a.loadModel, err = prepareStructCall(lib, "llama_model_load_from_file", unsafe.Sizeof(modelParams{})); err != nil {
		return nil, err
	}
	if a.initContext, err = prepareStructCall(lib, "llama_init_from_model", unsafe.Sizeof(contextParams{})); err != nil {
		return nil, err
	}
	a.logSet(purego.NewCallback(logCallback), 0)
	a.loadAllFromPath(libDir) // the CPU backend variant that suits this CPU
	a.backendInit()
	loaded = a
	return a, nil
}

func errOr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// ggml's log levels.
const (
	logLevelError = 4
	logLevelCont  = 5
)

// logCallback keeps llama.cpp's error lines (why a model failed to load)
// for the error the caller returns, and drops the rest, which is chatter
// on every load.
func logCallback(level int32, text *byte, _ uintptr) uintptr {
	if level != logLevelError && level != logLevelCont {
		return 0
	}
	s := strings.TrimSpace(goString(text))
	if s == "" {
		return 0
	}
	logMu.Lock()
	defer logMu.Unlock()
	if level == logLevelCont && len(lastLogs) > 0 {
		lastLogs[len(lastLogs)-1] += " " + s
		return 0
	}
	lastLogs = append(lastLogs, s)
	if len(lastLogs) > 4 {
		lastLogs = lastLogs[len(lastLogs)-4:]
	}
	return 0
}

// takeLogs returns and forgets the error lines logged since the last call.
func takeLogs() string {
	logMu.Lock()
	defer logMu.Unlock()
	s := strings.Join(lastLogs, "; ")
	lastLogs = nil
	return s
}

// goString copies a NUL-terminated C string.
func goString(p *byte) string {
	if p == nil {
		return ""
	}
	var n int
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
