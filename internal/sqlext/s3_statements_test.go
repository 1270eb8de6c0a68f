package sqlext

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/dataio"
	"github.com/sibyldb/sibyldb/internal/s3io"
)

// parseExport parses stmt and, when it is an export, re-reads its options
// to inspect the spec the node was built with.
func parseExport(t *testing.T, stmt string) (ok bool, query string, spec s3io.ExportSpec, err error) {
	t.Helper()
	node, _, ok, err := S3Statements{}.Parse(context.Background(), stmt)
	if !ok || err != nil {
		return ok, "", spec, err
	}
	require.True(t, strings.HasPrefix(node.String(), "SELECT INTO OUTFILE S3 "))
	toks, _ := Tokens(stmt)
	for i := range toks {
		if toks[i].Is("INTO") && i+2 < len(toks) && toks[i+1].Is("OUTFILE") && toks[i+2].Is("S3") {
			query = stmt[:toks[i-1].End]
			c := &cursor{toks: toks, pos: i + 4}
			spec.URI = toks[i+3].Text
			require.NoError(t, parseExportOptions(c, &spec))
			break
		}
	}
	return true, query, spec, nil
}

func TestParseSelectIntoS3(t *testing.T) {
	for _, tc := range []struct {
		stmt  string
		ok    bool
		query string
		check func(t *testing.T, s s3io.ExportSpec)
		err   string
	}{
		{stmt: "SELECT * FROM t", ok: false},
		{stmt: "SELECT outfile FROM t", ok: false},
		{stmt: "SELECT * FROM t INTO OUTFILE '/tmp/x'", ok: false},
		{stmt: "SELECT 'INTO OUTFILE S3' FROM t", ok: false},
		{stmt: "SELECT csv, header, format FROM text INTO OUTFILE S3 's3://b/p'", ok: true, query: "SELECT csv, header, format FROM text",
			check: func(t *testing.T, s s3io.ExportSpec) {
				require.Equal(t, "s3://b/p", s.URI)
				require.Equal(t, dataio.Text, s.Options.Format)
				require.False(t, s.Manifest)
				require.False(t, s.Overwrite)
			}},
		{stmt: "select * from churn into outfile s3 's3-us-west-2://bucket/churn/export' format csv header", ok: true, query: "select * from churn",
			check: func(t *testing.T, s s3io.ExportSpec) {
				require.Equal(t, dataio.CSV, s.Options.Format)
				require.True(t, s.Options.Header)
			}},
		{stmt: "SELECT a FROM (SELECT 1 a) x ORDER BY a LIMIT 3 INTO OUTFILE S3 's3://b/p' CHARACTER SET utf8mb4 FORMAT TEXT " +
			"FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '\\\\' LINES STARTING BY '>' TERMINATED BY '\\r\\n' MANIFEST ON OVERWRITE ON",
			ok: true, query: "SELECT a FROM (SELECT 1 a) x ORDER BY a LIMIT 3",
			check: func(t *testing.T, s s3io.ExportSpec) {
				require.Equal(t, "utf8mb4", s.Options.Charset)
				require.Equal(t, ",", *s.Options.FieldsTerminatedBy)
				require.Equal(t, `"`, *s.Options.EnclosedBy)
				require.True(t, s.Options.OptionallyEnclosed)
				require.Equal(t, `\`, *s.Options.EscapedBy)
				require.Equal(t, ">", *s.Options.LinesStartingBy)
				require.Equal(t, "\r\n", *s.Options.LinesTerminatedBy)
				require.True(t, s.Manifest)
				require.True(t, s.Overwrite)
			}},
		{stmt: "SELECT 1 INTO OUTFILE S3 's3://b/p' COLUMNS TERMINATED BY '|' MANIFEST OFF", ok: true, query: "SELECT 1"},
		{stmt: "SELECT 1 INTO OUTFILE S3 's3://b/p' FORMAT JSON", ok: true, err: "JSON"},
		{stmt: "SELECT 1 INTO OUTFILE S3 's3://b/p' MANIFEST ON MANIFEST OFF", ok: true, err: "given twice"},
		{stmt: "SELECT 1 INTO OUTFILE S3 's3://b/p' FIELDS", ok: true, err: "syntax"},
		{stmt: "SELECT 1 INTO OUTFILE S3 s3_uri", ok: true, err: "syntax"},
		{stmt: "SELECT 1 INTO OUTFILE S3 's3://b/p' OVERWRITE MAYBE", ok: true, err: "MAYBE"},
	} {
		t.Run(tc.stmt, func(t *testing.T) {
			ok, query, spec, err := parseExport(t, tc.stmt)
			require.Equal(t, tc.ok, ok)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.query, query)
			if tc.check != nil {
				tc.check(t, spec)
			}
		})
	}
}

func TestParseLoadDataFromS3(t *testing.T) {
	for _, tc := range []struct {
		stmt string
		ok   bool
		desc string
		err  string
	}{
		{stmt: "LOAD DATA INFILE '/x' INTO TABLE t", ok: false},
		{stmt: "LOAD DATA LOCAL INFILE '/x' INTO TABLE t", ok: false},
		{stmt: "LOAD DATA FROM S3 's3://b/k' INTO TABLE t", ok: true, desc: "LOAD DATA FROM S3 s3://b/k"},
		{stmt: "load data from s3 prefix 's3://b/k' replace into table db.t character set utf8mb4 fields terminated by ',' " +
			"optionally enclosed by '\"' lines terminated by '\\r\\n' ignore 1 lines (a, @b) set c = upper(@b)", ok: true},
		{stmt: "LOAD DATA FROM S3 MANIFEST 's3://b/m.manifest' IGNORE INTO TABLE t IGNORE 2 ROWS", ok: true},
		{stmt: "LOAD DATA FROM S3 FILE 's3://b/k' INTO TABLE", ok: true, err: "syntax"},
		{stmt: "LOAD DATA FROM S3 s3_uri INTO TABLE t", ok: true, err: "syntax"},
	} {
		t.Run(tc.stmt, func(t *testing.T) {
			node, _, ok, err := S3Statements{}.Parse(context.Background(), tc.stmt)
			require.Equal(t, tc.ok, ok)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			if ok && tc.desc != "" {
				require.Equal(t, tc.desc, node.String())
			}
		})
	}
}

func TestContainsFold(t *testing.T) {
	require.True(t, containsFold("select 1 into OutFile s3", "OUTFILE"))
	require.False(t, containsFold("select out_file", "OUTFILE"))
	require.False(t, containsFold("", "OUTFILE"))
}

// FuzzParseS3 feeds arbitrary statements to the S3 statement parser: it
// must never panic, and what it accepts has a plan node.
func FuzzParseS3(f *testing.F) {
	f.Add("SELECT * FROM t INTO OUTFILE S3 's3://b/p' FORMAT CSV HEADER MANIFEST ON")
	f.Add("LOAD DATA FROM S3 PREFIX 's3://b/p' INTO TABLE t IGNORE 1 LINES (a, @b) SET c = @b")
	f.Add("SELECT 1 INTO OUTFILE S3 'x' FIELDS TERMINATED BY ',' ENCLOSED BY '\"' LINES TERMINATED BY '\\n'")
	f.Fuzz(func(t *testing.T, stmt string) {
		node, _, ok, err := S3Statements{}.Parse(context.Background(), stmt)
		if ok && err == nil && node == nil {
			t.Fatalf("accepted %q without a node", stmt)
		}
	})
}
