package s3io

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/bulkload"
	"github.com/sibyldb/sibyldb/internal/dataio"
	"github.com/sibyldb/sibyldb/internal/objstore"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// Source is what a LOAD DATA FROM S3 URI names.
type Source int

const (
	// File is one object (the default).
	File Source = iota
	// Prefix is every object whose key begins with the URI's key, in key
	// order.
	Prefix
	// Manifest is the objects an Aurora manifest lists, in its order.
	Manifest
)

// ImportSpec is one LOAD DATA FROM S3.
type ImportSpec struct {
	Source Source
	URI    string
	// Load is the statement as LOAD DATA INFILE (with a placeholder file
	// name): the target table and every FIELDS/LINES/IGNORE/column/SET
	// clause, parsed by the engine's own grammar.
	Load *ast.Load
}

// Import downloads the objects into one temporary file under
// secure_file_priv and runs the engine's LOAD DATA INFILE on it in the
// caller's session: one statement, so all objects load or none do.
// IGNORE n LINES applies to each object (every part of a HEADER export
// starts with the header), so it is done here while concatenating.
func (s *Service) Import(ctx *sql.Context, spec ImportSpec) (sql.RowIter, error) {
	loc, err := parseLocation(spec.URI)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, privilege.LoadFromS3, loc); err != nil {
		return nil, err
	}
	store, err := s.open(ctx, loc)
	if err != nil {
		return nil, err
	}
	objects, err := s.resolve(ctx, store, loc, spec.Source)
	if err != nil {
		return nil, err
	}

	tmp, err := bulkload.TempFile(".sibyl-load-s3-")
	if err != nil {
		return nil, fmt.Errorf("create temporary file for LOAD DATA FROM S3: %w", err)
	}
	defer removeQuietly(tmp.Name())

	skip := 0
	if spec.Load.IgnoreNum != nil {
		if skip, err = strconv.Atoi(string(spec.Load.IgnoreNum.Val)); err != nil || skip < 0 {
			_ = tmp.Close()
			return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "IGNORE %s LINES: not a line count", spec.Load.IgnoreNum.Val)
		}
	}
	term := []byte("\n")
	if spec.Load.Lines != nil && spec.Load.Lines.TerminatedBy != nil && len(spec.Load.Lines.TerminatedBy.Val) > 0 {
		term = spec.Load.Lines.TerminatedBy.Val
	}
	for _, o := range objects {
		if err := s.download(ctx, o, tmp, spec.Load, skip, term); err != nil {
			_ = tmp.Close()
			return nil, err
		}
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("write temporary file for LOAD DATA FROM S3: %w", err)
	}

	// The engine's LOAD DATA INFILE needs FILE; this statement needs LOAD
	// FROM S3 (checked above) and, as Aurora, INSERT (REPLACE: also
	// DELETE) on the table, which the engine checks from this.
	load := *spec.Load
	load.Infile = tmp.Name()
	load.IgnoreNum = nil
	load.Local = false
	load.Auth = bulkload.TableAuth(&load)
	// Run drains the result: the temporary file is removed when this
	// returns.
	return s.Loader.Run(ctx, ast.String(&load), &load)
}

// object is one file to load.
type object struct {
	store     objstore.Store
	loc       objstore.Location
	mandatory bool
	optional  bool // a manifest entry without "mandatory": skipped if missing
}

func (s *Service) resolve(ctx *sql.Context, store objstore.Store, loc objstore.Location, src Source) ([]object, error) {
	switch src {
	case Prefix:
		keys, err := store.List(ctx, loc.Key)
		if err != nil {
			return nil, s3Error(err)
		}
		if len(keys) == 0 {
			return nil, mysql.NewSQLError(bulkload.ErFileNotFound, "HY000", "S3 API returned error: no objects under prefix '%s'", loc)
		}
		out := make([]object, len(keys))
		for i, k := range keys {
			out[i] = object{store: store, loc: loc.WithKey(k)}
		}
		return out, nil
	case Manifest:
		r, err := store.Open(ctx, loc.Key)
		if err != nil {
			return nil, s3Error(err)
		}
		m, err := dataio.ReadManifest(r)
		_ = r.Close()
		if err != nil {
			return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "%s: %s", loc, err.Error())
		}
		var out []object
		for _, e := range m.Entries {
			eloc, err := parseLocation(e.URL)
			if err != nil {
				return nil, err
			}
			if eloc.Scheme != loc.Scheme {
				return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "manifest %s lists %s: entries must be in the same storage as the manifest", loc, e.URL)
			}
			est, err := s.open(ctx, eloc)
			if err != nil {
				return nil, err
			}
			out = append(out, object{store: est, loc: eloc, mandatory: e.Mandatory, optional: !e.Mandatory})
		}
		return out, nil
	}
	return []object{{store: store, loc: loc, mandatory: true}}, nil
}

func (s *Service) download(ctx *sql.Context, o object, dst io.Writer, load *ast.Load, skip int, term []byte) error {
	r, err := o.store.Open(ctx, o.loc.Key)
	if errors.Is(err, objstore.ErrNotFound) && o.optional {
		ctx.Warn(bulkload.ErFileNotFound, "File '%s' listed in the manifest was not found and is not mandatory; skipped", o.loc)
		return nil
	}
	if err != nil {
		return s3Error(err)
	}
	defer r.Close()
	var rest io.Reader = r
	if skip > 0 {
		if rest, err = bulkload.SkipRecords(r, load, skip); err != nil {
			return s3Error(fmt.Errorf("read %s: %w", o.loc, err))
		}
	}
	if _, err := dataio.AppendFile(dst, rest, term); err != nil {
		return s3Error(fmt.Errorf("read %s: %w", o.loc, err))
	}
	return nil
}
