package server

import (
	"regexp"
	"strings"

	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/sqlext"
	"github.com/sibyldb/sibyldb/internal/txlock"
)

// stmtLock is a lock a statement takes before it runs.
type stmtLock struct {
	key  txlock.Key
	mode txlock.Mode
}

// ddlKeywords start statements that change schemas; they lock their
// databases exclusively (see package txlock).
var ddlKeywords = map[string]bool{
	"CREATE": true, "ALTER": true, "DROP": true, "RENAME": true, "TRUNCATE": true,
}

var loadDataTable = regexp.MustCompile(`(?is)^\s*LOAD\s+DATA\b.*?\bINTO\s+TABLE\s+([^\s(]+)`)

// statementLocks returns the locks query takes before it runs, given the
// session's current database:
//   - DDL: X on each database it names (or the current one);
//   - SELECT ... FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE: X or S on
//     the tables it reads, with IX / IS on their databases;
//   - LOAD DATA: X on its table (the bulk path writes the table's
//     storage directly, not row by row).
//
// Statements that only write rows lock them as they write them.
func statementLocks(query, currentDB string) []stmtLock {
	kw := sqlext.FirstKeyword(query)
	switch {
	case ddlKeywords[kw]:
		return ddlLocks(query, currentDB)
	case kw == "SELECT" || kw == "WITH" || kw == "(":
		if !hasLockingClause(query) {
			return nil
		}
		return lockingReadLocks(query, currentDB)
	case kw == "LOAD":
		m := loadDataTable.FindStringSubmatch(query)
		if m == nil {
			return nil
		}
		db, table := splitQualified(m[1], currentDB)
		if db == "" {
			return nil
		}
		return []stmtLock{{txlock.DatabaseKey(db), txlock.IX}, {txlock.TableKey(db, table), txlock.X}}
	}
	return nil
}

func ddlLocks(query, currentDB string) []stmtLock {
	st, err := ast.Parse(query)
	if err != nil {
		// Statements of SibylDB's own grammar (CREATE MODEL, CREATE
		// FUNCTION ... ML) write only the catalog, which merges.
		return nil
	}
	dbs := map[string]bool{}
	addTable := func(t ast.TableName) {
		if t.Name.IsEmpty() {
			return
		}
		if q := t.DbQualifier.String(); q != "" {
			dbs[strings.ToLower(q)] = true
		} else if currentDB != "" {
			dbs[strings.ToLower(currentDB)] = true
		}
	}
	switch s := st.(type) {
	case *ast.DBDDL:
		if s.DBName != "" {
			dbs[strings.ToLower(s.DBName)] = true
		}
	case *ast.DDL:
		addTable(s.Table)
	case *ast.AlterTable:
		addTable(s.Table)
	}
	_ = ast.Walk(func(n ast.SQLNode) (bool, error) {
		switch t := n.(type) {
		case ast.TableName:
			addTable(t)
		case *ast.TableName:
			addTable(*t)
		}
		return true, nil
	}, st)
	if len(dbs) == 0 && currentDB != "" {
		dbs[strings.ToLower(currentDB)] = true
	}
	var out []stmtLock
	for db := range dbs {
		out = append(out, stmtLock{txlock.DatabaseKey(db), txlock.X})
	}
	return out
}

// parseLockingRead parses a locking read, FOR SHARE included (see
// sqlext.ShareModeSpelling).
func parseLockingRead(query string) (ast.Statement, error) {
	return ast.Parse(sqlext.ShareModeSpelling(query))
}

func lockingReadLocks(query, currentDB string) []stmtLock {
	st, err := parseLockingRead(query)
	if err != nil {
		return nil
	}
	mode := txlock.S
	var found bool
	tables := map[[2]string]bool{}
	_ = ast.Walk(func(n ast.SQLNode) (bool, error) {
		switch t := n.(type) {
		case *ast.Select:
			if t.Lock != nil && strings.TrimSpace(t.Lock.Type) != "" {
				found = true
				if strings.Contains(strings.ToLower(t.Lock.Type), "update") {
					mode = txlock.X
				}
			}
		case ast.TableName:
			if !t.Name.IsEmpty() {
				db, table := strings.ToLower(t.DbQualifier.String()), strings.ToLower(t.Name.String())
				if db == "" {
					db = strings.ToLower(currentDB)
				}
				if db != "" && db != "information_schema" {
					tables[[2]string{db, table}] = true
				}
			}
		}
		return true, nil
	}, st)
	if !found {
		return nil
	}
	intent := txlock.IS
	if mode == txlock.X {
		intent = txlock.IX
	}
	var out []stmtLock
	dbs := map[string]bool{}
	for t := range tables {
		if !dbs[t[0]] {
			dbs[t[0]] = true
			out = append(out, stmtLock{txlock.DatabaseKey(t[0]), intent})
		}
	}
	for t := range tables {
		out = append(out, stmtLock{txlock.TableKey(t[0], t[1]), mode})
	}
	return out
}

// splitQualified splits `db`.`t`, db.t or t.
func splitQualified(name, currentDB string) (string, string) {
	name = strings.ReplaceAll(name, "`", "")
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return strings.ToLower(name[:i]), strings.ToLower(name[i+1:])
	}
	return strings.ToLower(currentDB), strings.ToLower(name)
}

// hasLockingClause reports SELECT ... FOR UPDATE / FOR SHARE / LOCK IN SHARE
// MODE. A match inside a string literal only costs a parse.
// It runs for every SELECT, so it compares in place instead of upper-casing
// a copy of the query.
func hasLockingClause(query string) bool {
	return containsFold(query, "FOR UPDATE") || containsFold(query, "FOR SHARE") || containsFold(query, "LOCK IN SHARE MODE")
}

// containsFold reports whether s contains the upper-case ASCII word
// sequence sub, ignoring case.
func containsFold(s, sub string) bool {
	first := sub[0]
	for i := 0; i+len(sub) <= len(s); i++ {
		if c := s[i]; c == first || c == first+('a'-'A') {
			if strings.EqualFold(s[i:i+len(sub)], sub) {
				return true
			}
		}
	}
	return false
}
