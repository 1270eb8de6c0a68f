package server

import (
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/infoschema"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/sqlext"
)

// installInfoSchema adds SibylDB's rows and tables to information_schema,
// each row visible only to those MySQL would show it to: ML functions to
// their definer and holders of a routine privilege on them, threads
// (PROCESSLIST, see processes) to their own user unless the session holds PROCESS.
func (s *Server) installInfoSchema(info *infoschema.Schema) {
	info.AddRows("routines", s.visibleRows(s.ML.RoutineRows, "ROUTINE_SCHEMA", "ROUTINE_NAME"))
	info.AddTable(mlfunc.StatsTable, mlfunc.StatsSchema, s.visibleRows(s.ML.StatsRows, "FUNCTION_SCHEMA", "FUNCTION_NAME"))
	info.AddTable(sqlext.ModelDriftTable, sqlext.ModelDriftSchema.Copy(), sqlext.DriftStatements{Manager: s.Models, Privileges: s.privileges}.ModelDriftRows)
	// GMS lists every table of a database the session has any privilege
	// in; MySQL only the tables it has some privilege on.
	for table, cols := range tableColumns {
		info.AddFilter(table, s.visibleTables(cols[0], cols[1]))
	}
}

// tableColumns names, for the information_schema tables that describe
// tables, the columns holding the described table's schema and name.
// COLUMNS is not among them: GMS filters it itself, and its analysis needs
// GMS's own table type.
var tableColumns = map[string][2]string{
	"tables":                  {"TABLE_SCHEMA", "TABLE_NAME"},
	"statistics":              {"TABLE_SCHEMA", "TABLE_NAME"},
	"table_constraints":       {"TABLE_SCHEMA", "TABLE_NAME"},
	"key_column_usage":        {"TABLE_SCHEMA", "TABLE_NAME"},
	"referential_constraints": {"CONSTRAINT_SCHEMA", "TABLE_NAME"},
	"views":                   {"TABLE_SCHEMA", "TABLE_NAME"},
	"partitions":              {"TABLE_SCHEMA", "TABLE_NAME"},
	"column_statistics":       {"SCHEMA_NAME", "TABLE_NAME"},
	"triggers":                {"EVENT_OBJECT_SCHEMA", "EVENT_OBJECT_TABLE"},
	"table_privileges":        {"TABLE_SCHEMA", "TABLE_NAME"},
	"column_privileges":       {"TABLE_SCHEMA", "TABLE_NAME"},
	"st_geometry_columns":     {"TABLE_SCHEMA", "TABLE_NAME"},
}

// visibleTables keeps the rows about tables the session has some
// privilege on. A table without the named columns is left alone.
func (s *Server) visibleTables(dbCol, tableCol string) infoschema.Keep {
	return func(ctx *sql.Context, schema sql.Schema, row sql.Row) bool {
		d, t := schema.IndexOfColName(dbCol), schema.IndexOfColName(tableCol)
		if d < 0 || t < 0 {
			return true
		}
		db, _ := row[d].(string)
		table, _ := row[t].(string)
		return s.privileges.CanSeeTable(ctx, db, table)
	}
}

// visibleRows keeps the rows describing ML functions the session may see.
func (s *Server) visibleRows(rows infoschema.Rows, dbCol, nameCol string) infoschema.Rows {
	return func(ctx *sql.Context) ([]map[string]any, error) {
		all, err := rows(ctx)
		if err != nil {
			return nil, err
		}
		kept := all[:0]
		for _, r := range all {
			db, _ := r[dbCol].(string)
			name, _ := r[nameCol].(string)
			d, ok := s.ML.Function(db, name)
			if ok && s.privileges.CanSeeRoutine(ctx, d.DB, d.Name, d.Definer) {
				kept = append(kept, r)
			}
		}
		return kept, nil
	}
}

// maySeeProcess shows a session without PROCESS only its own user's
// threads, in information_schema.PROCESSLIST and SHOW PROCESSLIST alike.
func (s *Server) maySeeProcess(ctx *sql.Context, user string) bool {
	return s.privileges.CanSeeAllProcesses(ctx) || user == ctx.Session.Client().User
}
