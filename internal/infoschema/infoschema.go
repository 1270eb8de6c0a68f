// Package infoschema lets SibylDB packages add tables to information_schema
// and rows to its existing tables (ML functions in ROUTINES, so that SHOW
// FUNCTION STATUS, which GMS answers from ROUTINES, lists them too).
//
// GMS builds information_schema from a fixed set of tables; the catalog's
// InfoSchema database is the one exported seam, so Schema wraps it.
package infoschema

import (
	"sort"
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	gmsinfo "github.com/dolthub/go-mysql-server/sql/information_schema"
	"github.com/dolthub/go-mysql-server/sql/plan"
)

// Rows produces the rows SibylDB contributes to a table, as column name ->
// value maps; columns not named are NULL.
type Rows func(ctx *sql.Context) ([]map[string]any, error)

// Keep decides whether the session may see one row of a table; schema is
// the table's.
type Keep func(ctx *sql.Context, schema sql.Schema, row sql.Row) bool

// Schema is information_schema with SibylDB's tables and rows added.
type Schema struct {
	sql.Database

	mu      sync.RWMutex
	tables  map[string]*gmsinfo.InformationSchemaTable
	extra   map[string][]Rows
	filters map[string][]Keep
}

var _ sql.Database = (*Schema)(nil)

// Wrap returns base (GMS's information_schema) with room for additions.
func Wrap(base sql.Database) *Schema {
	return &Schema{Database: base, tables: map[string]*gmsinfo.InformationSchemaTable{}, extra: map[string][]Rows{},
		filters: map[string][]Keep{}}
}

// AddFilter hides the rows of one of GMS's tables (e.g. "processlist")
// that keep rejects.
func (s *Schema) AddFilter(table string, keep Keep) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := strings.ToLower(table)
	s.filters[t] = append(s.filters[t], keep)
}

// AddTable adds a read-only table.
func (s *Schema) AddTable(name string, schema sql.Schema, rows Rows) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range schema {
		c.Source = name
		c.DatabaseSource = sql.InformationSchemaDatabaseName
	}
	s.tables[strings.ToLower(name)] = &gmsinfo.InformationSchemaTable{
		TableName:   name,
		TableSchema: schema,
		Reader: func(ctx *sql.Context, _ sql.Catalog) (sql.RowIter, error) {
			out, err := layout(ctx, schema, rows)
			return sql.RowsToRowIter(out...), err
		},
	}
}

// AddRows appends rows to one of GMS's tables (e.g. "routines").
func (s *Schema) AddRows(table string, rows Rows) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := strings.ToLower(table)
	s.extra[t] = append(s.extra[t], rows)
}

// GetTableInsensitive implements sql.Database.
func (s *Schema) GetTableInsensitive(ctx *sql.Context, name string) (sql.Table, bool, error) {
	key := strings.ToLower(name)
	s.mu.RLock()
	own, isOwn := s.tables[key]
	extra := s.extra[key]
	filters := s.filters[key]
	s.mu.RUnlock()
	if isOwn {
		return own, true, nil
	}
	t, ok, err := s.Database.GetTableInsensitive(ctx, name)
	if err != nil || !ok || len(extra) == 0 && len(filters) == 0 {
		return t, ok, err
	}
	return &extended{Table: t, extra: extra, filters: filters}, true, nil
}

// extended is one of GMS's tables with rows appended or hidden. GMS hands
// such tables their catalog and stored procedures after resolution;
// extended passes those on and stays wrapped.
type extended struct {
	sql.Table
	extra   []Rows
	filters []Keep
}

var _ sql.CatalogTable = (*extended)(nil)
var _ analyzer.RoutineTable = (*extended)(nil)

// AssignCatalog implements sql.CatalogTable.
func (e *extended) AssignCatalog(cat sql.Catalog) sql.Table {
	if ct, ok := e.Table.(sql.CatalogTable); ok {
		return &extended{Table: ct.AssignCatalog(cat), extra: e.extra, filters: e.filters}
	}
	return e
}

// AssignProcedures implements analyzer.RoutineTable.
func (e *extended) AssignProcedures(p map[string][]*plan.Procedure) sql.Table {
	if rt, ok := e.Table.(analyzer.RoutineTable); ok {
		return &extended{Table: rt.AssignProcedures(p), extra: e.extra, filters: e.filters}
	}
	return e
}

// PartitionRows implements sql.Table: the added rows follow the first
// partition's (information_schema tables have one).
func (e *extended) PartitionRows(ctx *sql.Context, p sql.Partition) (sql.RowIter, error) {
	it, err := e.Table.PartitionRows(ctx, p)
	if err != nil {
		return nil, err
	}
	parts, err := e.Table.Partitions(ctx)
	if err != nil {
		return nil, err
	}
	first, err := parts.Next(ctx)
	_ = parts.Close(ctx)
	isFirst := err == nil && string(first.Key()) == string(p.Key())
	if !isFirst && len(e.filters) == 0 {
		return it, nil
	}
	all, err := sql.RowIterToRows(ctx, it)
	if err != nil {
		return nil, err
	}
	if isFirst {
		for _, rows := range e.extra {
			more, err := layout(ctx, e.Table.Schema(), rows)
			if err != nil {
				return nil, err
			}
			all = append(all, more...)
		}
	}
	kept := all[:0]
rows:
	for _, r := range all {
		for _, keep := range e.filters {
			if !keep(ctx, e.Table.Schema(), r) {
				continue rows
			}
		}
		kept = append(kept, r)
	}
	return sql.RowsToRowIter(kept...), nil
}

// GetTableNames implements sql.Database.
func (s *Schema) GetTableNames(ctx *sql.Context) ([]string, error) {
	names, err := s.Database.GetTableNames(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	for _, t := range s.tables {
		names = append(names, t.TableName)
	}
	s.mu.RUnlock()
	sort.Strings(names)
	return names, nil
}

// layout turns rows into sql.Rows in schema order.
func layout(ctx *sql.Context, schema sql.Schema, rows Rows) ([]sql.Row, error) {
	maps, err := rows(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]sql.Row, 0, len(maps))
	for _, m := range maps {
		r := make(sql.Row, len(schema))
		for i, c := range schema {
			if v, ok := m[strings.ToUpper(c.Name)]; ok {
				r[i] = v
			} else if v, ok := m[c.Name]; ok {
				r[i] = v
			}
		}
		out = append(out, r)
	}
	return out, nil
}
