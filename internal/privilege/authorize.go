package privilege

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"
)

// InstallAuthorization puts SibylDB's rules in front of GMS's statement
// authorization (which checks the grants each statement names):
//
//   - nothing but SibylDB itself (contexts marked Internal) changes the
//     system database: no INSERT, UPDATE, DELETE, DDL, trigger, routine or
//     lock on it, root included;
//   - a write to one of Dolt's system tables (dolt_branches, dolt_docs,
//     dolt_conflicts_t, ...) needs, on the database, the privileges of the
//     procedure with the same effect (see SystemTableClass), on top of the
//     grant on the table GMS checks.
//
// It must run before the engine is built: GMS's catalog takes its handler
// from the factory when it is created.
func InstallAuthorization(c *Checker) {
	base := sql.GetAuthorizationHandlerFactory()
	if f, ok := base.(*authFactory); ok {
		f.checker = c
		return
	}
	sql.SetAuthorizationHandlerFactory(&authFactory{base: base, checker: c})
}

type authFactory struct {
	base    sql.AuthorizationHandlerFactory
	checker *Checker
}

func (f *authFactory) CreateHandler(cat sql.Catalog) sql.AuthorizationHandler {
	return authHandler{AuthorizationHandler: f.base.CreateHandler(cat), f: f}
}

type authHandler struct {
	sql.AuthorizationHandler
	f *authFactory
}

// writeAuthTypes are the statement kinds that change a database's tables,
// schema, routines, triggers or events, or lock its tables.
var writeAuthTypes = map[string]bool{
	ast.AuthType_ALTER: true, ast.AuthType_ALTER_ROUTINE: true, ast.AuthType_CREATE: true,
	ast.AuthType_CREATE_ROUTINE: true, ast.AuthType_CREATE_TEMP: true, ast.AuthType_CREATE_VIEW: true,
	ast.AuthType_DELETE: true, ast.AuthType_DROP: true, ast.AuthType_EVENT: true,
	ast.AuthType_FOREIGN_KEY: true, ast.AuthType_INDEX: true, ast.AuthType_INSERT: true,
	ast.AuthType_LOCK: true, ast.AuthType_RENAME: true, ast.AuthType_REPLACE: true,
	ast.AuthType_TRIGGER: true, ast.AuthType_UPDATE: true,
}

// dmlAuthTypes change rows.
var dmlAuthTypes = map[string]bool{
	ast.AuthType_INSERT: true, ast.AuthType_UPDATE: true, ast.AuthType_DELETE: true, ast.AuthType_REPLACE: true,
}

// HandleAuth implements sql.AuthorizationHandler.
func (h authHandler) HandleAuth(ctx *sql.Context, state sql.AuthorizationQueryState, auth ast.AuthInformation) error {
	if auth.AuthType == ast.AuthType_TRIGGER && !definesTrigger(ctx) {
		// GMS re-parses every stored CREATE TRIGGER of a database, with
		// the session's authorization, when a statement only needs to
		// know which triggers exist (DELETE without WHERE, DROP TABLE,
		// ...). That is not the session creating a trigger: MySQL
		// asks nothing of it, and a trigger's body is judged when it
		// fires.
		return nil
	}
	if target, ok := auth.Extra.(KillTarget); ok {
		return h.f.checker.AuthorizeKill(ctx, uint32(target))
	}
	if auth.AuthType == ast.AuthType_PROCESS {
		// SHOW PROCESSLIST, the statement the grammar marks so: MySQL
		// lets every user run it and shows the threads of other users
		// only to holders of PROCESS, which the process list's rows
		// apply (CanSeeAllProcesses). GMS refused it without PROCESS.
		return nil
	}
	if auth.AuthType == ast.AuthType_CALL && len(auth.TargetNames) == 3 && !IsInternal(ctx) {
		// Server-wide procedures answer with the privilege they need
		// (GMS's own check of its AdminOnly ones names none). The other
		// classes are judged when the procedure runs, on the database it
		// acts on.
		if _, known := doltProcClasses[strings.ToLower(auth.TargetNames[1])]; known &&
			ClassOf(auth.TargetNames[1]) == ProcAdmin && !h.f.checker.HasGlobal(ctx, sql.PrivilegeType_Super) {
			return Denied("SUPER")
		}
	}
	if !IsInternal(ctx) && writeAuthTypes[auth.AuthType] {
		for _, t := range targets(ctx, auth) {
			if IsSystemDatabase(t.db) {
				return SystemDenied(ctx, SystemDatabase)
			}
			if reservedModelCatalogWrite(auth.AuthType, t) {
				return SystemDenied(ctx, t.db)
			}
			if t.table != "" && dmlAuthTypes[auth.AuthType] {
				if err := h.f.checker.authorizeSystemTableWrite(ctx, auth.AuthType, t.db, t.table); err != nil {
					return err
				}
			}
		}
	}
	if err := h.check(ctx, state, historySubject(auth)); err != nil {
		return err
	}
	if reads, ok := auth.Extra.(AlsoReads); ok {
		for i := 0; i+1 < len(reads); i += 2 {
			read := ast.AuthInformation{AuthType: ast.AuthType_SELECT, TargetType: ast.AuthTargetType_SingleTableIdentifier,
				TargetNames: []string{reads[i], reads[i+1]}}
			if err := h.check(ctx, state, read); err != nil {
				return err
			}
		}
		return nil
	}
	also, ok := auth.Extra.(AlsoNeeds)
	if !ok {
		return nil
	}
	var first error
	for _, authType := range also {
		more := auth
		more.AuthType, more.Extra = authType, nil
		err := h.check(ctx, state, more)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// check runs GMS's authorization and gives a refusal on tables MySQL's
// wording: GMS says "command denied to user 'u'@'h'" or "Access denied for
// user 'u'@'h' to table 't'", where MySQL names the command and the table
// (ER_TABLEACCESS_DENIED_ERROR).
func (h authHandler) check(ctx *sql.Context, state sql.AuthorizationQueryState, auth ast.AuthInformation) error {
	err := h.AuthorizationHandler.HandleAuth(ctx, state, auth)
	if err == nil || !(sql.ErrPrivilegeCheckFailed.Is(err) || sql.ErrTableAccessDeniedForUser.Is(err)) {
		return err
	}
	switch auth.TargetType {
	case ast.AuthTargetType_SingleTableIdentifier, ast.AuthTargetType_TableColumn, ast.AuthTargetType_MultipleTableIdentifiers:
	default:
		return err
	}
	for _, t := range targets(ctx, auth) {
		one := auth
		one.TargetType, one.TargetNames = ast.AuthTargetType_SingleTableIdentifier, []string{t.db, t.table}
		if h.AuthorizationHandler.HandleAuth(ctx, state, one) != nil {
			return TableDenied(ctx, auth.AuthType, t.table)
		}
	}
	return err
}

// AlsoNeeds, set by the SQL parser as the Extra of a statement's
// authorization, lists privileges of which the statement needs one on the
// same tables besides its own, where MySQL asks for more than GMS did:
//
//   - INSERT ... ON DUPLICATE KEY UPDATE needs UPDATE: an account allowed
//     only to add rows could overwrite any existing row;
//   - UPDATE and DELETE that read columns (in WHERE, ORDER BY or a SET
//     expression) need SELECT: the count of rows changed told an
//     UPDATE-only or DELETE-only account which rows hold which values;
//   - SELECT ... FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE needs UPDATE,
//     DELETE or LOCK TABLES (MySQL 8.0.22): a read-only account could hold
//     row locks that stop every writer of those rows.
type AlsoNeeds []string

// AlsoReads, set by the SQL parser as the Extra of a CREATE TABLE ... LIKE's
// authorization, lists the tables whose definitions the statement copies,
// as database, table pairs ("" for the current database). MySQL asks
// SELECT on them; GMS asked nothing, so anyone allowed to create a table
// could copy the definition of any table, columns, indexes and checks, and
// read it with SHOW CREATE TABLE.
type AlsoReads []string

// ModelCatalogSchemaPrefix starts the name of a HeatWave model catalog
// schema, ML_SCHEMA_<user>.
const ModelCatalogSchemaPrefix = "ML_SCHEMA_"

// reservedModelCatalogWrite reports whether a statement would create a
// model catalog schema, change its MODEL_CATALOG table, or put a trigger
// in it. Those schemas are the server's: it creates them and writes
// MODEL_CATALOG in its own unchecked sessions, so a schema or table
// prepared in advance by someone else, or a trigger there, would run that
// someone's code with the server's rights. Users read them only.
// CREATE DATABASE names no database in its authorization; the analyzer
// rule (sysdb_rule.go) refuses that one.
func reservedModelCatalogWrite(authType string, t target) bool {
	if !IsModelCatalogSchema(t.db) {
		return false
	}
	return authType == ast.AuthType_TRIGGER || strings.EqualFold(t.table, "MODEL_CATALOG")
}

// IsModelCatalogSchema reports whether db is named as a HeatWave model
// catalog schema.
func IsModelCatalogSchema(db string) bool {
	return len(db) >= len(ModelCatalogSchemaPrefix) && strings.EqualFold(db[:len(ModelCatalogSchemaPrefix)], ModelCatalogSchemaPrefix)
}

// erTableAccessDenied is MySQL's ER_TABLEACCESS_DENIED_ERROR.
const erTableAccessDenied = 1142

// definesTrigger reports whether the statement being run is CREATE or DROP
// TRIGGER (the only statements whose own authorization is TRIGGER; MySQL
// allows neither inside routines). A statement that does not parse counts
// as one, so the check is kept.
func definesTrigger(ctx *sql.Context) bool {
	stmt, _, err := ast.ParseOneWithOptions(ctx, ctx.Query(), sql.LoadSqlMode(ctx).ParserOptions())
	if err != nil {
		return true
	}
	ddl, ok := stmt.(*ast.DDL)
	return ok && ddl.TriggerSpec != nil
}

type target struct{ db, table string }

// targets lists the databases and tables a statement's authorization
// information names; an empty database is the current one.
func targets(ctx *sql.Context, auth ast.AuthInformation) []target {
	db := func(name string) string {
		if name == "" {
			return ctx.GetCurrentDatabase()
		}
		return name
	}
	names := auth.TargetNames
	var out []target
	switch auth.TargetType {
	case ast.AuthTargetType_DatabaseIdentifiers:
		for _, n := range names {
			out = append(out, target{db: db(n)})
		}
	case ast.AuthTargetType_SingleTableIdentifier, ast.AuthTargetType_TableColumn:
		if len(names) >= 2 {
			out = append(out, target{db: db(names[0]), table: names[1]})
		}
	case ast.AuthTargetType_MultipleTableIdentifiers:
		for i := 0; i+1 < len(names); i += 2 {
			out = append(out, target{db: db(names[i]), table: names[i+1]})
		}
	default:
		if auth.AuthType == ast.AuthType_RENAME {
			// from_db, from_table, to_db, to_table, ...
			for i := 0; i+1 < len(names); i += 2 {
				out = append(out, target{db: db(names[i]), table: names[i+1]})
			}
		} else if auth.TargetType != ast.AuthTargetType_Global {
			// A write whose target GMS does not spell out is judged
			// against the current database.
			out = append(out, target{db: ctx.GetCurrentDatabase()})
		}
	}
	return out
}

// SystemTableClass returns the procedure class whose privileges a write to
// a Dolt system table needs, and whether table is one.
func SystemTableClass(table string) (ProcClass, bool) {
	t := strings.ToLower(table)
	if !strings.HasPrefix(t, "dolt_") {
		return 0, false
	}
	switch t {
	case "dolt_remotes", "dolt_backups", "dolt_branch_control", "dolt_branch_namespace_control",
		"dolt_schemas", "dolt_procedures":
		// Network endpoints, Dolt's own access control, and the
		// stored definitions of views, triggers, events and
		// procedures (written directly they would skip the CREATE
		// VIEW / TRIGGER / CREATE ROUTINE checks).
		return ProcAdmin, true
	case "dolt_docs", "dolt_ignore", "dolt_query_catalog", "dolt_tests", "dolt_nonlocal_tables":
		return ProcHistory, true
	}
	// dolt_branches, dolt_conflicts_*, dolt_constraint_violations_*,
	// dolt_workspace_* and any table a later Dolt adds.
	return ProcData, true
}

func (c *Checker) authorizeSystemTableWrite(ctx *sql.Context, authType, db, table string) error {
	class, ok := SystemTableClass(table)
	if !ok || c == nil || c.db == nil || !c.db.Enabled() {
		return nil
	}
	base := baseDatabase(db)
	var allowed bool
	if class == ProcAdmin {
		allowed = c.HasGlobal(ctx, sql.PrivilegeType_Super)
	} else {
		allowed = c.db.UserHasPrivileges(ctx, sql.NewPrivilegedOperation(sql.PrivilegeCheckSubject{Database: base}, class.Privileges()...))
	}
	if allowed {
		return nil
	}
	return TableDenied(ctx, authType, table)
}
