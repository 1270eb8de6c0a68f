package s3io

import (
	"bytes"
	"fmt"
	"io"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/dataio"
	"github.com/sibyldb/sibyldb/internal/objstore"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// ExportSpec is one SELECT ... INTO OUTFILE S3.
type ExportSpec struct {
	// Query is the SELECT without its INTO clause.
	Query string
	// URI is the prefix the parts are named after.
	URI string
	// Options carry FORMAT, FIELDS, LINES and CHARACTER SET.
	Options   dataio.Options
	Manifest  bool
	Overwrite bool
}

// Export streams the query's rows into parts under spec.URI and returns
// the row count. Rows are encoded as they come from the engine and parts
// upload while the query runs, so memory stays bounded. The manifest is
// written only after every part was stored: a failed export leaves no
// manifest, and the parts it did write are removed when possible.
func (s *Service) Export(ctx *sql.Context, spec ExportSpec) (int64, error) {
	loc, err := parseLocation(spec.URI)
	if err != nil {
		return 0, err
	}
	if err := s.authorize(ctx, privilege.SelectIntoS3, loc); err != nil {
		return 0, err
	}
	if _, err := dataio.Charset(spec.Options.Charset); err != nil {
		return 0, err
	}
	store, err := s.open(ctx, loc)
	if err != nil {
		return 0, err
	}
	prefix := loc.Key

	// One listing finds both a missing bucket and existing output.
	existing, err := store.List(ctx, prefix)
	if err != nil {
		return 0, s3Error(err)
	}
	var old []string
	for _, k := range existing {
		if dataio.IsOutput(prefix, k) {
			old = append(old, k)
		}
	}
	if len(old) > 0 && !spec.Overwrite {
		return 0, mysql.NewSQLError(mysql.ERFileExists, "HY000",
			"File '%s' already exists (OVERWRITE OFF); use OVERWRITE ON to replace it", loc.WithKey(old[0]).String())
	}
	// A stale manifest must not describe a half-replaced export.
	for _, k := range old {
		if k == dataio.ManifestName(prefix) {
			if err := store.Delete(ctx, k); err != nil {
				return 0, s3Error(err)
			}
		}
	}

	schema, iter, err := s.Query(ctx, spec.Query)
	if err != nil {
		return 0, err
	}
	enc, err := dataio.NewEncoder(schema, spec.Options)
	if err != nil {
		_ = iter.Close(ctx)
		return 0, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "%s", err.Error())
	}
	var written []string
	pw := &dataio.PartWriter{
		MaxSize: sessionInt(ctx, MaxFileSizeVar, DefaultMaxFileSize),
		Header:  enc.Header(),
		Create: func(i int) (objstore.Writer, error) {
			k := dataio.PartName(prefix, i)
			written = append(written, k)
			return store.Create(ctx, k)
		},
	}
	// Closing the engine's iterator ends the statement's process-list
	// entry, which cancels ctx; it is closed only when all S3 work is done.
	closeIter := func() error { return iter.Close(ctx) }
	rows, err := s.copyRows(ctx, iter, enc, pw)
	parts := 0
	if err == nil {
		parts, err = pw.Close()
	} else {
		pw.Abort()
	}
	if err == nil && spec.Manifest {
		err = writeManifest(ctx, store, loc, parts)
	}
	if err != nil {
		// Best effort: the parts of a failed export are not data.
		cctx, cancel := cleanupContext()
		for _, k := range written {
			_ = store.Delete(cctx, k)
		}
		cancel()
		_ = closeIter()
		return rows, s3Error(err)
	}
	// Parts of an earlier, larger export would be read as data by a
	// PREFIX load; remove those this export did not replace.
	for _, k := range old {
		if k != dataio.ManifestName(prefix) && !contains(written, k) {
			if err := store.Delete(ctx, k); err != nil {
				ctx.Warn(mysql.ERUnknownError, "could not remove stale part %s: %v", loc.WithKey(k), err)
			}
		}
	}
	return rows, closeIter()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// copyRows encodes rows into lines and hands them to the part writer in
// chunks of about 64 KB (a row is never split across parts).
func (s *Service) copyRows(ctx *sql.Context, iter sql.RowIter, enc *dataio.Encoder, pw *dataio.PartWriter) (int64, error) {
	var n int64
	buf := make([]byte, 0, 64<<10)
	var line []byte
	var err error
	for {
		row, nerr := iter.Next(ctx)
		if nerr == io.EOF {
			break
		}
		if nerr != nil {
			return n, nerr
		}
		if line, err = enc.AppendRow(ctx, line[:0], row); err != nil {
			return n, err
		}
		n++
		if pw.MaxSize < 1<<20 {
			// Small parts (tests, tiny thresholds): split per row.
			if err := pw.Write(line); err != nil {
				return n, err
			}
			continue
		}
		buf = append(buf, line...)
		if len(buf) >= 64<<10 {
			if err := pw.Write(buf); err != nil {
				return n, err
			}
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if err := pw.Write(buf); err != nil {
			return n, err
		}
	}
	return n, nil
}

// writeManifest stores Aurora's manifest listing the parts in order.
func writeManifest(ctx *sql.Context, store objstore.Store, loc objstore.Location, parts int) error {
	var m dataio.Manifest
	for i := 0; i < parts; i++ {
		m.Entries = append(m.Entries, dataio.ManifestEntry{URL: loc.WithKey(dataio.PartName(loc.Key, i)).String()})
	}
	w, err := store.Create(ctx, dataio.ManifestName(loc.Key))
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, bytes.NewReader(m.Marshal())); err != nil {
		w.Abort()
		return fmt.Errorf("write manifest: %w", err)
	}
	return w.Close()
}
