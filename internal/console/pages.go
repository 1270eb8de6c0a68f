package console

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// pageSize is how many rows a result page shows.
const pageSize = 100

// queryTimeout bounds the queries the data pages make.
const queryTimeout = 30 * time.Second

var funcs = template.FuncMap{
	"num": num,
}

func parseTemplates() (map[string]*template.Template, error) {
	pages := []string{"login", "models", "model", "endpoints", "audit", "sql"}
	out := map[string]*template.Template{}
	for _, p := range pages {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", p, err)
		}
		out[p] = t
	}
	return out, nil
}

// render writes page with data; data is a map holding what the page needs.
func (c *Console) render(w http.ResponseWriter, page string, data map[string]any) {
	var buf bytes.Buffer
	if err := c.tmpl[page].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		c.log.WithError(err).Errorf("console: render %s", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (c *Console) page(w http.ResponseWriter, s *session, page string, data map[string]any) {
	data["Session"] = map[string]string{"User": s.user, "CSRF": s.csrf}
	data["Page"] = page
	c.render(w, page, data)
}

// sqlError is an error as the mysql client prints it.
type sqlError struct {
	Code    uint16
	State   string
	Message string
}

func (e *sqlError) String() string {
	if e.Code == 0 {
		return e.Message
	}
	return fmt.Sprintf("ERROR %d (%s): %s", e.Code, e.State, e.Message)
}

func toSQLError(err error) *sqlError {
	if err == nil {
		return nil
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return &sqlError{Code: me.Number, State: sqlState(me), Message: me.Message}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &sqlError{Message: "the statement took too long for the console and was stopped"}
	}
	return &sqlError{Message: err.Error()}
}

// result is a query's first rows.
type result struct {
	Columns []string
	Rows    [][]cellValue
	// More is true when the statement had rows past the page: they were
	// not read.
	More     bool
	Affected int64
	HasRows  bool
}

type cellValue struct {
	Text string
	Null bool
}

// query runs q on conn and reads at most limit rows after skipping skip;
// it stops there, cancelling the statement, rather than read the rest.
func query(ctx context.Context, conn interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, skip, limit int, q string, args ...any) (*result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &result{Columns: cols, HasRows: len(cols) > 0}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if n < skip {
			n++
			continue
		}
		if len(res.Rows) == limit {
			res.More = true
			// Stop the statement instead of draining its remaining rows.
			cancel()
			return res, nil
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]cellValue, len(cols))
		for i, v := range vals {
			if v == nil {
				row[i] = cellValue{Null: true, Text: "NULL"}
			} else {
				row[i] = cellValue{Text: string(v)}
			}
		}
		res.Rows = append(res.Rows, row)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// kv runs a two-column statement (SHOW MODEL) into ordered pairs.
func kv(ctx context.Context, db *sql.DB, q string) ([][2]string, error) {
	res, err := query(ctx, db, 0, 10000, q)
	if err != nil {
		return nil, err
	}
	out := make([][2]string, 0, len(res.Rows))
	for _, r := range res.Rows {
		if len(r) >= 2 {
			out = append(out, [2]string{r[0].Text, r[1].Text})
		}
	}
	return out, nil
}

func lookup(pairs [][2]string, key string) string {
	for _, p := range pairs {
		if p[0] == key {
			return p[1]
		}
	}
	return ""
}

// quoteIdent quotes a MySQL identifier.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

var percentRE = regexp.MustCompile(`^(\d+)%`)

type modelRow struct {
	DB, Name, State, Function, Owner, Progress, Elapsed string
	Percent                                             int
	Training                                            bool
}

func (c *Console) modelsPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	data := map[string]any{"Title": "Models"}
	res, err := query(ctx, s.db, 0, 500, "SHOW MODEL ALL")
	if err != nil {
		data["Error"] = toSQLError(err)
		c.page(w, s, "models", data)
		return
	}
	var models []modelRow
	training := false
	for _, row := range res.Rows {
		m := modelRow{DB: row[0].Text, Name: row[1].Text, State: row[2].Text, Function: row[3].Text, Owner: row[4].Text}
		if pairs, err := kv(ctx, s.db, "SHOW MODEL "+quoteIdent(m.DB)+"."+quoteIdent(m.Name)); err == nil {
			m.Progress, m.Elapsed = lookup(pairs, "Training Progress"), lookup(pairs, "Elapsed Time (s)")
		}
		m.Training = m.State == "TRAINING"
		if mm := percentRE.FindStringSubmatch(m.Progress); mm != nil {
			m.Percent, _ = strconv.Atoi(mm[1])
		} else if m.State == "READY" {
			m.Percent = 100
		}
		training = training || m.Training
		models = append(models, m)
	}
	data["Models"] = models
	// While a model trains the page reloads itself: live progress with
	// no script.
	data["Refresh"] = training
	c.page(w, s, "models", data)
}

type leaderRow struct {
	Rank                  int
	Algorithm, Params     string
	Score, Seconds, Error string
	Chosen                bool
}

func (c *Console) modelPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	db, name := r.PathValue("db"), r.PathValue("name")
	data := map[string]any{"Title": "Model " + db + "." + name, "DB": db, "Name": name}
	// SHOW MODEL as the user decides whether the model exists for them;
	// nothing else about it is read before it answers.
	pairs, err := kv(ctx, s.db, "SHOW MODEL "+quoteIdent(db)+"."+quoteIdent(name))
	if err != nil {
		// The page shows the server's answer, as the SQL page does.
		data["Error"] = toSQLError(err)
		c.page(w, s, "model", data)
		return
	}
	data["Details"] = pairs
	state := lookup(pairs, "Model State")
	data["State"] = state
	data["Progress"] = lookup(pairs, "Training Progress")
	data["Elapsed"] = lookup(pairs, "Elapsed Time (s)")
	data["Refresh"] = state == "TRAINING"
	if q := lookup(pairs, "Query"); q != "" {
		data["TrainingQuery"] = q
	} else if t := lookup(pairs, "Table"); t != "" {
		data["TrainingQuery"] = "SELECT * FROM " + t
	}
	if state != "READY" || c.cfg.Reports == nil {
		c.page(w, s, "model", data)
		return
	}
	rep := c.cfg.Reports(db, name)
	if rep != nil {
		var lb []leaderRow
		for i, cand := range rep.Leaderboard {
			lr := leaderRow{Rank: i + 1, Algorithm: cand.Algorithm, Params: cand.Params, Score: num(cand.Score), Seconds: fmt.Sprintf("%.1f", cand.Seconds), Error: cand.Error}
			lr.Chosen = cand.Algorithm+" "+cand.Params == rep.Chosen
			if cand.Error != "" {
				lr.Score = ""
			}
			lb = append(lb, lr)
		}
		data["Leaderboard"] = lb
		data["Objective"] = rep.Objective
		data["Chosen"] = rep.Chosen
		data["Plots"] = buildPlots(rep)
	}
	// Feature importance through EXPLAIN_MODEL, as the user.
	var doc sql.NullString
	if err := s.db.QueryRowContext(ctx, "SELECT EXPLAIN_MODEL(?)", db+"."+name).Scan(&doc); err != nil {
		data["ImportanceError"] = toSQLError(err)
	} else if labels, vals := importances(doc.String); len(labels) > 0 {
		data["Importance"] = barChart("importance", "Feature importance (EXPLAIN_MODEL)", labels, vals, "importance")
	}
	c.page(w, s, "model", data)
}

// importances reads EXPLAIN_MODEL's global SHAP values, largest first.
func importances(doc string) ([]string, []float64) {
	var d struct {
		Explanations struct {
			KernelShap map[string]struct {
				Global map[string]float64 `json:"global_shap_values"`
			} `json:"kernel_shap"`
		} `json:"explanations"`
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return nil, nil
	}
	type fv struct {
		f string
		v float64
	}
	var all []fv
	for _, l := range d.Explanations.KernelShap {
		for f, v := range l.Global {
			all = append(all, fv{f, v})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].v != all[j].v {
			return all[i].v > all[j].v
		}
		return all[i].f < all[j].f
	})
	labels, vals := make([]string, len(all)), make([]float64, len(all))
	for i, x := range all {
		labels[i], vals[i] = x.f, x.v
	}
	return labels, vals
}

type functionView struct {
	DB, Name, Endpoint             string
	Requests, Rows, Single, Errors string
	P50, P99, BatchSize            string
	Latency, Throughput            template.HTML
}

func (c *Console) endpointsPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	data := map[string]any{"Title": "Endpoints and functions"}
	res, err := query(ctx, s.db, 0, 1000, "SELECT FUNCTION_SCHEMA, FUNCTION_NAME, ENDPOINT, REQUESTS, ROWS_SCORED, SINGLE_CALLS, ERRORS, LATENCY_P50_MS, LATENCY_P99_MS FROM information_schema.ML_FUNCTION_STATS ORDER BY ENDPOINT, FUNCTION_SCHEMA, FUNCTION_NAME")
	if err != nil {
		data["Error"] = toSQLError(err)
		c.page(w, s, "endpoints", data)
		return
	}
	byEndpoint := map[string][]functionView{}
	var endpoints []string
	for _, row := range res.Rows {
		f := functionView{DB: row[0].Text, Name: row[1].Text, Endpoint: row[2].Text, Requests: row[3].Text, Rows: row[4].Text,
			Single: row[5].Text, Errors: row[6].Text, P50: row[7].Text, P99: row[8].Text}
		req, _ := strconv.ParseFloat(f.Requests, 64)
		rows, _ := strconv.ParseFloat(f.Rows, 64)
		if req > 0 {
			f.BatchSize = num(rows / req)
		}
		f.Latency, f.Throughput = c.functionCharts(f.DB + "." + f.Name)
		if _, ok := byEndpoint[f.Endpoint]; !ok {
			endpoints = append(endpoints, f.Endpoint)
		}
		byEndpoint[f.Endpoint] = append(byEndpoint[f.Endpoint], f)
	}
	type endpointView struct {
		Name, Circuit string
		Functions     []functionView
	}
	var views []endpointView
	for _, e := range endpoints {
		v := endpointView{Name: e, Functions: byEndpoint[e]}
		if c.cfg.CircuitState != nil {
			v.Circuit = c.cfg.CircuitState(e)
		}
		views = append(views, v)
	}
	data["Endpoints"] = views
	// SHOW ENDPOINTS lists the named endpoints and their settings.
	if eps, err := query(ctx, s.db, 0, 1000, "SHOW ENDPOINTS"); err == nil {
		data["Registry"] = eps
	} else {
		data["RegistryError"] = toSQLError(err)
	}
	c.page(w, s, "endpoints", data)
}

// functionCharts draws a function's recent latency and throughput from the
// sampled history.
func (c *Console) functionCharts(key string) (latency, throughput template.HTML) {
	h := c.history.get(key)
	if len(h) < 2 {
		return "", ""
	}
	now := h[len(h)-1].At
	n := len(h) - 1
	xs := make([]float64, n)
	p50, p99 := make([]float64, n), make([]float64, n)
	req, rows, errs := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := 1; i < len(h); i++ {
		k := i - 1
		dt := h[i].At.Sub(h[i-1].At).Seconds()
		if dt <= 0 {
			dt = 1
		}
		xs[k] = -now.Sub(h[i].At).Seconds()
		p50[k], p99[k] = h[i].P50, h[i].P99
		req[k] = delta(h[i].Requests, h[i-1].Requests) / dt
		rows[k] = delta(h[i].Rows, h[i-1].Rows) / dt
		errs[k] = delta(h[i].Errors, h[i-1].Errors) / dt
	}
	id := strings.NewReplacer(".", "-", " ", "-").Replace(key)
	latency = timeChart("latency-"+id, "Latency "+key, xs, []series{{"p50", "s0", p50}, {"p99", "s1", p99}}, "ms")
	throughput = timeChart("rate-"+id, "Requests, rows, errors per second "+key, xs,
		[]series{{"requests/s", "s0", req}, {"rows/s", "s2", rows}, {"errors/s", "s3", errs}}, "per second")
	return latency, throughput
}

// delta is a counter's increase; FLUSH STATUS may reset counters.
func delta(now, before uint64) float64 {
	if now < before {
		return float64(now)
	}
	return float64(now - before)
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, s *session) {
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	f := map[string]string{}
	for _, k := range []string{"user", "function", "outcome", "from", "to", "before"} {
		f[k] = strings.TrimSpace(r.URL.Query().Get(k))
	}
	data := map[string]any{"Title": "Audit log", "Filter": f}
	var where []string
	var args []any
	if f["user"] != "" {
		where, args = append(where, "user = ?"), append(args, f["user"])
	}
	if f["function"] != "" {
		where, args = append(where, "function_name = ?"), append(args, f["function"])
	}
	switch f["outcome"] {
	case "":
	case "ok":
		where = append(where, "outcome = 'OK'")
	case "error":
		where = append(where, "outcome <> 'OK'")
	default:
		data["Error"] = &sqlError{Message: "outcome is ok or error"}
		c.page(w, s, "audit", data)
		return
	}
	for _, b := range []struct{ key, op string }{{"from", ">="}, {"to", "<="}} {
		if v := f[b.key]; v != "" {
			t, err := parseTime(v)
			if err != nil {
				data["Error"] = &sqlError{Message: fmt.Sprintf("%s: %v", b.key, err)}
				c.page(w, s, "audit", data)
				return
			}
			where, args = append(where, "event_time "+b.op+" ?"), append(args, t.Format("2006-01-02 15:04:05.999999"))
		}
	}
	if v := f["before"]; v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			data["Error"] = &sqlError{Message: "before is a row id"}
			c.page(w, s, "audit", data)
			return
		}
		where, args = append(where, "id < ?"), append(args, id)
	}
	q := "SELECT id, event_time, user, host, function_name, endpoint, rows_sent, requests, bytes_sent, duration_ms, outcome FROM sibyl.ml_audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(pageSize+1)
	res, err := query(ctx, s.db, 0, pageSize, q, args...)
	if err != nil {
		data["Error"] = toSQLError(err)
		c.page(w, s, "audit", data)
		return
	}
	data["Result"] = res
	if res.More && len(res.Rows) > 0 {
		next := map[string]string{}
		for k, v := range f {
			next[k] = v
		}
		next["before"] = res.Rows[len(res.Rows)-1][0].Text
		data["Next"] = next
	}
	c.page(w, s, "audit", data)
}

func parseTime(v string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time (YYYY-MM-DD HH:MM:SS)", v)
}

// treeNode is one operator of an EXPLAIN plan.
type treeNode struct {
	Text     string
	Children []*treeNode
}

var treeGlyphs = " \t│├└─|`->"

// explainTree turns EXPLAIN's indented plan text (one line per row, as
// GMS and MySQL's FORMAT=TREE print it) into a tree by indentation.
func explainTree(lines []string) []*treeNode {
	type open struct {
		depth int
		node  *treeNode
	}
	var roots []*treeNode
	var stack []open
	for _, raw := range lines {
		for _, line := range strings.Split(raw, "\n") {
			trimmed := strings.TrimLeft(line, treeGlyphs)
			if strings.TrimSpace(trimmed) == "" {
				continue
			}
			depth := len([]rune(line)) - len([]rune(trimmed))
			n := &treeNode{Text: strings.TrimSpace(trimmed)}
			for len(stack) > 0 && stack[len(stack)-1].depth >= depth {
				stack = stack[:len(stack)-1]
			}
			if len(stack) == 0 {
				roots = append(roots, n)
			} else {
				p := stack[len(stack)-1].node
				p.Children = append(p.Children, n)
			}
			stack = append(stack, open{depth, n})
		}
	}
	return roots
}

var explainRE = regexp.MustCompile(`(?i)^\s*(explain|describe|desc)\s`)

// tabularExplainRE is an EXPLAIN of a statement in MySQL's tabular form (no
// FORMAT, not ANALYZE); its group is the statement explained.
var tabularExplainRE = regexp.MustCompile(`(?is)^\s*(?:explain|describe|desc)\s+((?:select|insert|update|delete|replace|with|\().*)$`)

func (c *Console) sqlPage(w http.ResponseWriter, r *http.Request, s *session) {
	data := map[string]any{"Title": "SQL"}
	if r.Method != http.MethodPost {
		data["Database"] = r.URL.Query().Get("db")
		c.page(w, s, "sql", data)
		return
	}
	q := strings.TrimSpace(r.PostFormValue("q"))
	dbName := strings.TrimSpace(r.PostFormValue("db"))
	offset, _ := strconv.Atoi(r.PostFormValue("offset"))
	if offset < 0 {
		offset = 0
	}
	data["Query"], data["Database"], data["Offset"] = q, dbName, offset
	if q == "" {
		c.page(w, s, "sql", data)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		data["Error"] = toSQLError(err)
		c.page(w, s, "sql", data)
		return
	}
	defer conn.Close()
	if dbName != "" {
		if _, err := conn.ExecContext(ctx, "USE "+quoteIdent(dbName)); err != nil {
			data["Error"] = toSQLError(err)
			c.page(w, s, "sql", data)
			return
		}
	}
	start := time.Now()
	res, err := query(ctx, conn, offset, pageSize, q)
	data["Seconds"] = fmt.Sprintf("%.3f", time.Since(start).Seconds())
	if err != nil {
		data["Error"] = toSQLError(err)
		c.page(w, s, "sql", data)
		return
	}
	data["Result"] = res
	if res.More {
		data["NextOffset"] = offset + pageSize
	}
	if offset > 0 {
		data["PrevOffset"] = int(math.Max(0, float64(offset-pageSize)))
		data["HasPrev"] = true
	}
	if explainRE.MatchString(q) && len(res.Rows) > 0 {
		// The plan column: the only one, or the one named like it.
		col := -1
		if len(res.Columns) == 1 {
			col = 0
		}
		for i, name := range res.Columns {
			if strings.EqualFold(name, "plan") || strings.EqualFold(name, "EXPLAIN") {
				col = i
			}
		}
		var lines []string
		if col >= 0 {
			for _, row := range res.Rows {
				lines = append(lines, strings.Split(row[col].Text, "\n")...)
			}
		} else if m := tabularExplainRE.FindStringSubmatch(q); m != nil {
			// MySQL's tabular EXPLAIN: draw the same statement's tree.
			var text string
			if err := conn.QueryRowContext(ctx, "EXPLAIN FORMAT=TREE "+m[1]).Scan(&text); err == nil {
				lines = strings.Split(text, "\n")
			}
		}
		if len(lines) > 0 {
			data["Tree"] = explainTree(lines)
		}
	}
	c.page(w, s, "sql", data)
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

func u64(v any) uint64 {
	switch x := v.(type) {
	case uint64:
		return x
	case int64:
		return uint64(x)
	case int:
		return uint64(x)
	}
	return 0
}

func f64(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	}
	return math.NaN()
}

func itoa(n int) string { return strconv.Itoa(n) }
