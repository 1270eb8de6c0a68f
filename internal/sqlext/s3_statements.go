package sqlext

import (
	"context"
	"slices"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/dataio"
	"github.com/sibyldb/sibyldb/internal/s3io"
)

// S3Statements are Aurora MySQL's statements that move data between tables
// and S3 (or S3-compatible storage, or local files):
//
//	SELECT ... INTO OUTFILE S3 'uri' [CHARACTER SET cs] [FORMAT {CSV | TEXT} [HEADER]]
//	    [{FIELDS | COLUMNS} [TERMINATED BY 's'] [[OPTIONALLY] ENCLOSED BY 'c'] [ESCAPED BY 'c']]
//	    [LINES [STARTING BY 's'] [TERMINATED BY 's']] [MANIFEST {ON | OFF}] [OVERWRITE {ON | OFF}]
//	LOAD DATA FROM S3 [FILE | PREFIX | MANIFEST] 'uri' [REPLACE | IGNORE] INTO TABLE t ...
//
// Everything after LOAD DATA FROM S3's URI is MySQL's LOAD DATA grammar,
// parsed by the engine's own parser. SELECT statements are offered here
// only to be declined unless they contain OUTFILE; CSV, TEXT, HEADER,
// FORMAT, MANIFEST and OVERWRITE are keywords only after INTO OUTFILE S3,
// so they stay usable as identifiers everywhere else.
type S3Statements struct {
	Service *s3io.Service
}

var _ Statement = S3Statements{}

// Keywords implements Statement.
func (s S3Statements) Keywords() []string { return []string{"SELECT", "WITH", "LOAD"} }

// Matches implements Prefilter: only SELECTs naming OUTFILE, and LOAD
// statements, can be ours.
func (s S3Statements) Matches(query string) bool {
	return FirstKeyword(query) == "LOAD" || containsFold(query, "OUTFILE")
}

// Parse implements Statement.
func (s S3Statements) Parse(_ context.Context, stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	if FirstKeyword(stmt) == "LOAD" {
		return s.parseLoad(stmt)
	}
	// SELECT is the hottest statement: one allocation-free scan decides.
	if !containsFold(stmt, "OUTFILE") {
		return nil, ast.AuthInformation{}, false, nil
	}
	toks, err := Tokens(stmt)
	if err != nil {
		return nil, ast.AuthInformation{}, false, nil
	}
	at := -1
	depth := 0
	for i, t := range toks {
		switch {
		case t.String:
		case t.Text == "(":
			depth++
		case t.Text == ")":
			depth--
		case depth == 0 && i > 0 && i+2 < len(toks) && t.Is("INTO") && toks[i+1].Is("OUTFILE") && toks[i+2].Is("S3"):
			at = i
		}
		if at >= 0 {
			break
		}
	}
	if at < 0 {
		return nil, ast.AuthInformation{}, false, nil
	}
	spec := s3io.ExportSpec{Query: stmt[:toks[at-1].End]}
	c := &cursor{toks: toks, pos: at + 3}
	if spec.URI, err = c.str(); err != nil {
		return nil, ast.AuthInformation{}, true, err
	}
	if err := parseExportOptions(c, &spec); err != nil {
		return nil, ast.AuthInformation{}, true, err
	}
	node := &stmtNode{desc: "SELECT INTO OUTFILE S3 " + spec.URI, schema: types.OkResultSchema, readOnly: true,
		run: func(ctx *sql.Context) (sql.RowIter, error) {
			n, err := s.Service.Export(ctx, spec)
			if err != nil {
				return nil, err
			}
			return sql.RowsToRowIter(sql.NewRow(types.NewOkResult(int(n)))), nil
		}}
	// The SELECT's own privileges are checked when it runs in the
	// caller's session; SELECT INTO S3 is checked by the service.
	return node, ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil
}

// parseExportOptions reads the clauses after INTO OUTFILE S3 'uri', each
// at most once, in Aurora's order or any other.
func parseExportOptions(c *cursor, spec *s3io.ExportSpec) error {
	seen := map[string]bool{}
	once := func(clause string) error {
		if seen[clause] {
			return SyntaxError(c.near() + " (" + clause + " given twice)")
		}
		seen[clause] = true
		return nil
	}
	onOff := func() (bool, error) {
		switch {
		case c.accept("ON"):
			return true, nil
		case c.accept("OFF"):
			return false, nil
		}
		return false, SyntaxError(c.near())
	}
	strPtr := func() (*string, error) {
		v, err := c.str()
		return &v, err
	}
	// someOf parses one or more of the sub-clauses of FIELDS or LINES, in
	// any order, each a keyword sequence and a string.
	type sub struct {
		words []string
		dst   **string
		flag  *bool // set when this sub-clause is given (OPTIONALLY)
	}
	someOf := func(subs ...sub) error {
		for n := 0; ; n++ {
			i := slices.IndexFunc(subs, func(s sub) bool { return c.accept(s.words...) })
			if i < 0 {
				if n == 0 {
					return SyntaxError(c.near())
				}
				return nil
			}
			v, err := strPtr()
			if err != nil {
				return err
			}
			*subs[i].dst = v
			if subs[i].flag != nil {
				*subs[i].flag = true
			}
		}
	}
	o := &spec.Options
	for !c.done() {
		var err error
		switch {
		case c.accept("CHARACTER", "SET"), c.accept("CHARSET"):
			if err = once("CHARACTER SET"); err == nil {
				t := c.peek()
				if c.done() {
					return SyntaxError(c.near())
				}
				spec.Options.Charset = t.Text
				c.pos++
			}
		case c.accept("FORMAT"):
			if err = once("FORMAT"); err != nil {
				return err
			}
			switch {
			case c.accept("CSV"):
				o.Format = dataio.CSV
			case c.accept("TEXT"):
				o.Format = dataio.Text
			default:
				return SyntaxError(c.near())
			}
			o.Header = c.accept("HEADER")
		case c.accept("FIELDS"), c.accept("COLUMNS"):
			if err = once("FIELDS"); err == nil {
				err = someOf(
					sub{[]string{"TERMINATED", "BY"}, &o.FieldsTerminatedBy, nil},
					sub{[]string{"OPTIONALLY", "ENCLOSED", "BY"}, &o.EnclosedBy, &o.OptionallyEnclosed},
					sub{[]string{"ENCLOSED", "BY"}, &o.EnclosedBy, nil},
					sub{[]string{"ESCAPED", "BY"}, &o.EscapedBy, nil})
			}
		case c.accept("LINES"):
			if err = once("LINES"); err == nil {
				err = someOf(
					sub{[]string{"STARTING", "BY"}, &o.LinesStartingBy, nil},
					sub{[]string{"TERMINATED", "BY"}, &o.LinesTerminatedBy, nil})
			}
		case c.accept("MANIFEST"):
			if err = once("MANIFEST"); err == nil {
				spec.Manifest, err = onOff()
			}
		case c.accept("OVERWRITE"):
			if err = once("OVERWRITE"); err == nil {
				spec.Overwrite, err = onOff()
			}
		default:
			return SyntaxError(c.near())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseLoad handles LOAD DATA FROM S3 and declines every other LOAD.
func (s S3Statements) parseLoad(stmt string) (sql.Node, ast.AuthInformation, bool, error) {
	toks, err := Tokens(stmt)
	if err != nil || len(toks) < 4 {
		return nil, ast.AuthInformation{}, false, nil
	}
	c := &cursor{toks: toks}
	if !c.accept("LOAD", "DATA", "FROM", "S3") {
		return nil, ast.AuthInformation{}, false, nil
	}
	spec := s3io.ImportSpec{Source: s3io.File}
	switch {
	case c.accept("FILE"):
	case c.accept("PREFIX"):
		spec.Source = s3io.Prefix
	case c.accept("MANIFEST"):
		spec.Source = s3io.Manifest
	}
	if spec.URI, err = c.str(); err != nil {
		return nil, ast.AuthInformation{}, true, err
	}
	rest := stmt[toks[c.pos-1].End:]
	parsed, err := ast.Parse("LOAD DATA INFILE 'placeholder' " + rest)
	if err != nil {
		return nil, ast.AuthInformation{}, true, SyntaxError(strings.TrimSpace(rest))
	}
	load, ok := parsed.(*ast.Load)
	if !ok || bool(load.Local) {
		return nil, ast.AuthInformation{}, true, SyntaxError(strings.TrimSpace(rest))
	}
	spec.Load = load
	node := &stmtNode{desc: "LOAD DATA FROM S3 " + spec.URI, schema: types.OkResultSchema,
		run: func(ctx *sql.Context) (sql.RowIter, error) { return s.Service.Import(ctx, spec) }}
	return node, ast.AuthInformation{AuthType: ast.AuthType_IGNORE}, true, nil
}

// containsFold reports whether s contains the upper-case ASCII word w in
// any case, without allocating.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 != w[0]|0x20 {
			continue
		}
		j := 1
		for j < len(w) && s[i+j]|0x20 == w[j]|0x20 {
			j++
		}
		if j == len(w) {
			return true
		}
	}
	return false
}
