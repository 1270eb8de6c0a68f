package main

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// quote back-quotes an identifier.
func quote(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// quoteList back-quotes and comma-joins identifiers.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quote(n)
	}
	return strings.Join(q, ", ")
}

// literal renders a cell as a SQL literal.
func literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "NULL"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return "'" + x.Format("2006-01-02 15:04:05") + "'"
	case string:
		s := strings.ReplaceAll(x, `\`, `\\`)
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return "NULL"
}

// sqlType is the column type used for a kind.
func sqlType(k kind) string {
	switch k {
	case integer:
		return "BIGINT"
	case text:
		return "VARCHAR(64)"
	case datetime:
		return "DATETIME"
	}
	return "DOUBLE"
}

// loadFrame creates table name (id BIGINT PRIMARY KEY, the frame's
// columns, split VARCHAR(5) = 'train' or 'test') and fills it with
// multi-row INSERTs of batch rows.
func loadFrame(ctx context.Context, db *sql.DB, name string, f *frame, batch int) error {
	var ddl strings.Builder
	ddl.WriteString("CREATE TABLE " + quote(name) + " (`id` BIGINT PRIMARY KEY")
	for _, c := range f.cols {
		ddl.WriteString(", " + quote(c.name) + " " + sqlType(c.kind))
	}
	ddl.WriteString(", `split` VARCHAR(5) NOT NULL)")
	if _, err := db.ExecContext(ctx, ddl.String()); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	names := []string{"id"}
	for _, c := range f.cols {
		names = append(names, c.name)
	}
	names = append(names, "split")
	prefix := "INSERT INTO " + quote(name) + " (" + quoteList(names) + ") VALUES "
	var sb strings.Builder
	for lo := 0; lo < len(f.rows); lo += batch {
		sb.Reset()
		sb.WriteString(prefix)
		for i := lo; i < lo+batch && i < len(f.rows); i++ {
			if i > lo {
				sb.WriteByte(',')
			}
			sb.WriteString("(" + strconv.Itoa(i))
			for _, v := range f.rows[i] {
				sb.WriteString("," + literal(v))
			}
			if f.test != nil && f.test[i] {
				sb.WriteString(",'test')")
			} else {
				sb.WriteString(",'train')")
			}
		}
		if _, err := db.ExecContext(ctx, sb.String()); err != nil {
			return fmt.Errorf("insert into %s (rows %d..): %w", name, lo, err)
		}
	}
	return nil
}

// modelInfo is SHOW MODEL's output.
type modelInfo struct {
	rows [][2]string
	kv   map[string]string
}

// get returns the value of key ("" when absent).
func (m *modelInfo) get(key string) string { return m.kv[key] }

// String renders the key/value rows, one per line.
func (m *modelInfo) String() string {
	var b strings.Builder
	for _, r := range m.rows {
		if r[0] == "" && r[1] == "" {
			continue
		}
		fmt.Fprintf(&b, "  %-26s %s\n", r[0], r[1])
	}
	return b.String()
}

// showModel runs SHOW MODEL name.
func showModel(ctx context.Context, db *sql.DB, name string) (*modelInfo, error) {
	rows, err := db.QueryContext(ctx, "SHOW MODEL "+quote(name))
	if err != nil {
		return nil, fmt.Errorf("show model %s: %w", name, err)
	}
	defer rows.Close()
	m := &modelInfo{kv: map[string]string{}}
	for rows.Next() {
		var k, v sql.NullString
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("show model %s: %w", name, err)
		}
		m.rows = append(m.rows, [2]string{k.String, v.String})
		if _, dup := m.kv[k.String]; !dup {
			m.kv[k.String] = v.String
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("show model %s: %w", name, err)
	}
	return m, nil
}

// training is the outcome of CREATE MODEL.
type training struct {
	info  *modelInfo
	state string        // READY or FAILED
	wall  time.Duration // CREATE MODEL sent .. READY/FAILED seen
}

// seconds is the training time: the server's "Elapsed Time (s)" (CREATE
// MODEL received .. training finished) when it reports one, else the
// wall time this client measured.
func (t *training) seconds() float64 {
	if s, err := strconv.ParseFloat(t.info.get("Elapsed Time (s)"), 64); err == nil {
		return s
	}
	return t.wall.Seconds()
}

// trainModel runs a CREATE MODEL statement and polls SHOW MODEL name until
// the model leaves TRAINING, or fails after timeout.
func trainModel(ctx context.Context, db *sql.DB, name, stmt string, timeout time.Duration) (*training, error) {
	start := time.Now()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return nil, fmt.Errorf("create model %s: %w", name, err)
	}
	deadline := start.Add(timeout)
	for {
		info, err := showModel(ctx, db, name)
		if err != nil {
			return nil, err
		}
		state := info.get("Model State")
		if state != "TRAINING" {
			return &training{info: info, state: state, wall: time.Since(start)}, nil
		}
		if time.Now().After(deadline) {
			return &training{info: info, state: "TIMEOUT", wall: time.Since(start)},
				fmt.Errorf("model %s still TRAINING after %s", name, timeout)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
