// Package s3io runs Aurora MySQL's data movement statements: SELECT ...
// INTO OUTFILE S3 streams a query's rows into object storage, and LOAD
// DATA FROM S3 brings objects back as rows through the engine's own LOAD
// DATA INFILE, so every field, line, column-list, SET, REPLACE/IGNORE and
// warning rule is MySQL's.
package s3io

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/bulkload"
	"github.com/sibyldb/sibyldb/internal/objstore"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// System variables.
const (
	// MaxFileSizeVar is the size at which an export starts a new part
	// (Aurora: 6 GB).
	MaxFileSizeVar = "sibyl_select_into_s3_max_file_size"
	// TimeoutVar bounds S3 metadata calls and stalled transfers, seconds.
	TimeoutVar = "sibyl_s3_timeout"
)

// DefaultMaxFileSize is Aurora's part size threshold, 6 GB.
const DefaultMaxFileSize = 6 << 30

// SystemVariables are the variables this package reads.
func SystemVariables() []sql.SystemVariable {
	return []sql.SystemVariable{
		&sql.MysqlSystemVariable{
			Name:    MaxFileSizeVar,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true,
			Type:    types.NewSystemIntType(MaxFileSizeVar, 1, 1<<42, false),
			Default: int64(DefaultMaxFileSize),
		},
		&sql.MysqlSystemVariable{
			Name:    TimeoutVar,
			Scope:   sql.GetMysqlScope(sql.SystemVariableScope_Both),
			Dynamic: true,
			Type:    types.NewSystemIntType(TimeoutVar, 1, 86400, false),
			Default: int64(60),
		},
	}
}

// Service executes the statements. It is shared by all sessions; its only
// shared state is the Opener's client cache, which locks itself.
type Service struct {
	// Query runs a SELECT in the caller's session (its privileges, its
	// transaction snapshot).
	Query func(ctx *sql.Context, q string) (sql.Schema, sql.RowIter, error)
	// Loader runs the import's LOAD DATA INFILE over the downloaded
	// objects (the bulk path when it applies, else the engine).
	Loader *bulkload.Runner
	// Privileges checks SELECT INTO S3 / LOAD FROM S3; nil allows all.
	Privileges *privilege.Checker
	// Credentials, when set, supply named storage credentials for the
	// locations they cover.
	Credentials *CredentialStore

	opener objstore.Opener
}

func sessionInt(ctx *sql.Context, name string, def int64) int64 {
	v, err := ctx.GetSessionVariable(ctx, name)
	if err != nil {
		return def
	}
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case uint64:
		return int64(n)
	case int32:
		return int64(n)
	}
	if n, err := strconv.ParseInt(fmt.Sprint(v), 10, 64); err == nil {
		return n
	}
	return def
}

func (s *Service) open(ctx *sql.Context, loc objstore.Location) (objstore.Store, error) {
	timeout := time.Duration(sessionInt(ctx, TimeoutVar, 60)) * time.Second
	cred := s.Credentials.Match(loc)
	// A URI naming a server is refused unless a credential or the operator
	// names it: a statement must not make the server fetch internal pages
	// (SSRF) or send the default credentials elsewhere.
	if cred == nil && !objstore.OperatorEndpoint(loc) && !s.Credentials.NamesEndpoint(objstore.CanonicalEndpoint(loc.Endpoint)) {
		return nil, mysql.NewSQLError(mysql.ERWrongArguments, "HY000",
			"S3 endpoint '%s' is not configured: name it in a storage credential (CREATE STORAGE CREDENTIAL ... ENDPOINT_URL) or in AWS_ENDPOINT_URL_S3", objstore.CanonicalEndpoint(loc.Endpoint))
	}
	st, err := s.opener.OpenWith(ctx, loc, bulkload.SecureFilePriv(), timeout, cred)
	if err != nil {
		return nil, s3Error(err)
	}
	return st, nil
}

// authorize checks the Aurora privilege and, for local files, MySQL's FILE.
func (s *Service) authorize(ctx *sql.Context, priv string, loc objstore.Location) error {
	if s.Privileges == nil {
		return nil
	}
	if !s.Privileges.Allowed(ctx, privilege.Account{}, priv) {
		return privilege.Denied(priv)
	}
	if loc.Scheme == "file" && !s.Privileges.HasGlobal(ctx, sql.PrivilegeType_File) {
		return privilege.Denied("FILE")
	}
	return nil
}

// parseLocation parses a statement's URI with MySQL's error for a bad
// argument.
func parseLocation(uri string) (objstore.Location, error) {
	loc, err := objstore.ParseURI(uri)
	if err != nil {
		return loc, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "%s", err.Error())
	}
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") && loc.Scheme == "file" {
		return loc, mysql.NewSQLError(mysql.ERWrongArguments, "HY000", "invalid URI %q: no object key or prefix", uri)
	}
	return loc, nil
}

// s3Error gives storage failures MySQL codes and messages that name the
// problem (Aurora prefixes S3 failures with "S3 API returned error").
func s3Error(err error) error {
	var sqlErr *mysql.SQLError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &sqlErr):
		return err
	case errors.Is(err, objstore.ErrOutsideDir):
		return mysql.NewSQLError(mysql.EROptionPreventsStatement, "HY000",
			"The MySQL server is running with the --secure-file-priv option so it cannot execute this statement (%s)", err.Error())
	case errors.Is(err, objstore.ErrNotFound):
		return mysql.NewSQLError(bulkload.ErFileNotFound, "HY000", "S3 API returned error: %s", err.Error())
	case errors.Is(err, objstore.ErrNoBucket):
		return mysql.NewSQLError(mysql.ERUnknownError, "HY000", "S3 API returned error: %s", err.Error())
	case errors.Is(err, objstore.ErrAccessDenied):
		return mysql.NewSQLError(mysql.ERUnknownError, "HY000", "S3 API returned error: %s", err.Error())
	case errors.Is(err, context.Canceled):
		return mysql.NewSQLError(mysql.ERQueryInterrupted, "70100", "Query execution was interrupted (%v)", err)
	}
	return mysql.NewSQLError(mysql.ERUnknownError, "HY000", "S3 API returned error: %s", err.Error())
}

// cleanupContext outlives a cancelled statement for best-effort cleanup.
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func removeQuietly(path string) { _ = os.Remove(path) }

// ReadObject reads one object of at most limit bytes, for CREATE MODEL
// FROM 's3://...': reading a model file from S3 into the server takes the
// same LOAD FROM S3 privilege as loading data from it.
func (s *Service) ReadObject(ctx *sql.Context, uri string, limit int64) ([]byte, error) {
	loc, err := parseLocation(uri)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, privilege.LoadFromS3, loc); err != nil {
		return nil, err
	}
	st, err := s.open(ctx, loc)
	if err != nil {
		return nil, err
	}
	rc, err := st.Open(ctx, loc.Key)
	if err != nil {
		return nil, s3Error(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, s3Error(err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", uri, limit)
	}
	return data, nil
}
