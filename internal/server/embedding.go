package server

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/fileaccess"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/nlp/onnxtext"
	"github.com/sibyldb/sibyldb/internal/ml/vector/vecsql"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// sibyl_embed's models besides the built-in one:
//
//   - 'onnx:/folder': a sentence-transformer the operator put in a folder
//     under secure_file_priv (model.onnx, tokenizer.json), run in process.
//     Using it needs FILE, as reading any server file from SQL does; the
//     files are read through package fileaccess, so the name cannot reach
//     outside secure_file_priv, and a user without FILE learns nothing of
//     the files (the privilege is checked first).
//   - the name of an OPENAI or KSERVE_V2 endpoint (INVOKE SAGEMAKER, like
//     calling any model endpoint), or a Bedrock embedding model ID
//     (INVOKE BEDROCK): package mlfunc sends the texts.

// maxEmbeddingModelFile bounds model.onnx (sentence-transformers are
// 20 MB to 1.3 GB).
const maxEmbeddingModelFile = 2 << 30

// embeddingModels resolves sibyl_embed's model names for vecsql.
func (s *Server) embeddingModels(name string) (vecsql.Model, bool, error) {
	if strings.HasPrefix(strings.ToLower(name), "onnx:") {
		return &onnxEmbedding{s: s, dir: strings.TrimSpace(name[len("onnx:"):])}, true, nil
	}
	e, ok, err := s.ML.EmbeddingModel(name)
	if !ok || err != nil {
		return nil, ok, err
	}
	return remoteEmbedding{s: s, e: e}, true, nil
}

// remoteEmbedding is an endpoint or Bedrock model.
type remoteEmbedding struct {
	s *Server
	e mlfunc.EmbeddingModel
}

func (r remoteEmbedding) Dim() int         { return 0 }
func (r remoteEmbedding) Remote() bool     { return true }
func (r remoteEmbedding) MaxBatch() int    { return r.e.MaxBatch() }
func (r remoteEmbedding) Concurrency() int { return r.e.Concurrency() }

func (r remoteEmbedding) Authorize(ctx *sql.Context) error {
	r.s.ML.StartStatement(ctx)
	if priv := r.e.Privilege(); !r.s.privileges.Allowed(ctx, privilege.Account{}, priv) {
		return privilege.Denied(priv)
	}
	return nil
}

func (r remoteEmbedding) Embed(ctx *sql.Context, texts []string) ([][]float32, error) {
	return r.e.Embed(ctx, texts)
}

// onnxEmbedding is an ONNX model folder, loaded on first use and kept
// until its files change.
type onnxEmbedding struct {
	s   *Server
	dir string

	mu sync.Mutex
	m  *onnxtext.Embedder
}

// Dim is unknown until the model is loaded, which needs the privilege
// check of Authorize; the statement's vectors carry their size.
func (o *onnxEmbedding) Dim() int         { return 0 }
func (o *onnxEmbedding) Remote() bool     { return false }
func (o *onnxEmbedding) MaxBatch() int    { return 64 }
func (o *onnxEmbedding) Concurrency() int { return 2 }

func (o *onnxEmbedding) Authorize(ctx *sql.Context) error {
	if !o.s.privileges.HasGlobal(ctx, sql.PrivilegeType_File) {
		return mysql.NewSQLError(mysql.ERSpecifiedAccessDenied, "42000",
			"Access denied; you need (at least one of) the FILE privilege(s) for this operation")
	}
	m, err := o.s.onnxEmbedders.load(o.dir)
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.m = m
	o.mu.Unlock()
	return nil
}

func (o *onnxEmbedding) Embed(_ *sql.Context, texts []string) ([][]float32, error) {
	o.mu.Lock()
	m := o.m
	o.mu.Unlock()
	if m == nil {
		return nil, errors.New("sibyl_embed: ONNX model used before it was authorized")
	}
	return m.Embed(texts)
}

// onnxEmbedders caches loaded ONNX embedding models by folder, reloading
// one whose model.onnx changed (size or modification time).
type onnxEmbedders struct {
	mu     sync.Mutex
	loaded map[string]loadedEmbedder
}

type loadedEmbedder struct {
	m       *onnxtext.Embedder
	size    int64
	modTime time.Time
}

func (c *onnxEmbedders) load(dir string) (*onnxtext.Embedder, error) {
	secure := fileaccess.SecureFilePriv()
	modelPath := path.Join(dir, "model.onnx")
	real, err := fileaccess.Resolve(secure, modelPath)
	if err != nil {
		return nil, embedFileError(dir, secure, err)
	}
	st, err := os.Stat(real)
	if err != nil {
		return nil, embedFileError(dir, secure, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.loaded[dir]; ok && l.size == st.Size() && l.modTime.Equal(st.ModTime()) {
		return l.m, nil
	}
	model, err := fileaccess.ReadFile(secure, modelPath, maxEmbeddingModelFile)
	if err != nil {
		return nil, embedFileError(dir, secure, err)
	}
	tok, err := fileaccess.ReadFile(secure, path.Join(dir, "tokenizer.json"), 64<<20)
	if err != nil {
		return nil, embedFileError(dir, secure, err)
	}
	m, err := onnxtext.NewEmbedder(dir, model, tok)
	if err != nil {
		return nil, fmt.Errorf("sibyl_embed: %w", err)
	}
	if c.loaded == nil {
		c.loaded = map[string]loadedEmbedder{}
	}
	// A replaced model's session is not destroyed: statements may still
	// be running it. A changed model file is rare; its memory is the price.
	c.loaded[dir] = loadedEmbedder{m: m, size: st.Size(), modTime: st.ModTime()}
	return m, nil
}

// embedFileError maps a file error of an ONNX model folder to MySQL's.
func embedFileError(dir, secure string, err error) error {
	switch {
	case errors.Is(err, fileaccess.ErrNoDir):
		return mysql.NewSQLError(mysql.EROptionPreventsStatement, "HY000",
			"The MySQL server is running with the --secure-file-priv option so it cannot execute this statement (secure_file_priv is not set, so model files cannot be read)")
	case errors.Is(err, fileaccess.ErrOutside):
		return mysql.NewSQLError(mysql.EROptionPreventsStatement, "HY000",
			"The MySQL server is running with the --secure-file-priv option so it cannot execute this statement (model files must be under %s)", secure)
	}
	return mysql.NewSQLError(1210, "HY000", "Incorrect arguments to sibyl_embed: ONNX model folder '%s' needs model.onnx and tokenizer.json: %v", dir, err)
}
