package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// kind is a column's SQL type family.
type kind int

const (
	numeric  kind = iota // DOUBLE; values are float64
	integer              // BIGINT; values are float64 holding integers
	text                 // VARCHAR; values are string
	datetime             // DATETIME; values are time.Time
)

// column is one column of a frame; name is already a safe SQL identifier.
type column struct {
	name string
	kind kind
}

// frame is a dataset in memory. Cells are float64, string, time.Time or
// nil (NULL). test marks the rows held out for testing.
type frame struct {
	cols []column
	rows [][]any
	test []bool
}

// col returns the index of the column called name, or -1.
func (f *frame) col(name string) int {
	for i, c := range f.cols {
		if c.name == name {
			return i
		}
	}
	return -1
}

// counts returns the number of training and test rows.
func (f *frame) counts() (train, test int) {
	for _, t := range f.test {
		if t {
			test++
		} else {
			train++
		}
	}
	return train, test
}

// sanitize turns a header such as "Int'l Plan" into int_l_plan.
func sanitize(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_")
	for strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "_")
	}
	return s
}

// readCSV reads a delimited file (comma unless sep says otherwise),
// trimming spaces around fields and skipping blank lines.
func readCSV(path string, sep rune) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = sep
	r.TrimLeadingSpace = true
	r.FieldsPerRecord = -1
	var out [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		out = append(out, rec)
	}
}

// parseCell converts a field to a cell of column kind k; missing marks
// the spellings of NULL ("" always counts).
func parseCell(s string, k kind, missing string) (any, error) {
	if s == "" || (missing != "" && s == missing) {
		return nil, nil
	}
	switch k {
	case numeric, integer:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("not a number: %q", s)
		}
		return v, nil
	case datetime:
		v, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			return nil, fmt.Errorf("not a timestamp: %q", s)
		}
		return v, nil
	}
	return s, nil
}

// buildFrame turns records into a frame of columns cols; every record
// must have exactly len(cols) fields, and missing (besides "") is NULL.
func buildFrame(cols []column, records [][]string, missing string) (*frame, error) {
	f := &frame{cols: cols}
	for n, rec := range records {
		if len(rec) != len(cols) {
			return nil, fmt.Errorf("record %d has %d fields, want %d", n+1, len(rec), len(cols))
		}
		row := make([]any, len(cols))
		for i, s := range rec {
			v, err := parseCell(s, cols[i].kind, missing)
			if err != nil {
				return nil, fmt.Errorf("record %d, column %s: %w", n+1, cols[i].name, err)
			}
			row[i] = v
		}
		f.rows = append(f.rows, row)
	}
	return f, nil
}

// headerColumns names the columns of a header row; the ones listed in
// kinds get that kind, the others are numeric.
func headerColumns(header []string, kinds map[string]kind) []column {
	cols := make([]column, len(header))
	for i, h := range header {
		name := sanitize(h)
		cols[i] = column{name: name, kind: numeric}
		if k, ok := kinds[name]; ok {
			cols[i].kind = k
		}
	}
	return cols
}

// dropColumn removes the column called name.
func (f *frame) dropColumn(name string) {
	i := f.col(name)
	if i < 0 {
		return
	}
	f.cols = append(f.cols[:i], f.cols[i+1:]...)
	for r, row := range f.rows {
		f.rows[r] = append(row[:i], row[i+1:]...)
	}
}

// label renders a target cell as a class label.
func label(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// splitRows marks ~20% of the rows as test rows, reproducibly from seed.
// With stratify the split is done per class of column target, so both
// parts keep the class balance.
func (f *frame) splitRows(target string, stratify bool, seed int64) {
	t := f.col(target)
	groups := map[string][]int{}
	for i, row := range f.rows {
		g := ""
		if stratify {
			g = label(row[t])
		}
		groups[g] = append(groups[g], i)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rng := rand.New(rand.NewSource(seed))
	f.test = make([]bool, len(f.rows))
	for _, k := range keys {
		idx := groups[k]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		n := (len(idx)*2 + 5) / 10 // round(20%)
		for _, i := range idx[:n] {
			f.test[i] = true
		}
	}
}

// loadChurn reads churn_sagemaker_synthetic/churn.txt, without Phone.
func loadChurn(dir string) (*frame, error) {
	recs, err := readCSV(filepath.Join(dir, "churn.txt"), ',')
	if err != nil {
		return nil, err
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("churn.txt: no data rows")
	}
	cols := headerColumns(recs[0], map[string]kind{
		"state": text, "phone": text, "int_l_plan": text, "vmail_plan": text, "churn": text,
	})
	f, err := buildFrame(cols, recs[1:], "")
	if err != nil {
		return nil, fmt.Errorf("churn.txt: %w", err)
	}
	f.dropColumn("phone")
	return f, nil
}

// adultColumns are adult.data's fields (it has no header).
var adultColumns = []column{
	{"age", numeric}, {"workclass", text}, {"fnlwgt", numeric}, {"education", text},
	{"education_num", numeric}, {"marital_status", text}, {"occupation", text},
	{"relationship", text}, {"race", text}, {"sex", text}, {"capital_gain", numeric},
	{"capital_loss", numeric}, {"hours_per_week", numeric}, {"native_country", text},
	{"income", text},
}

// loadAdult reads the official split: adult.data (train) and adult.test
// (test; labels lose their trailing '.', and a leading "|..." comment line
// is skipped). '?' is a missing value (NULL).
func loadAdult(dir string) (*frame, error) {
	f := &frame{cols: adultColumns}
	for _, part := range []struct {
		file string
		test bool
	}{{"adult.data", false}, {"adult.test", true}} {
		recs, err := readCSV(filepath.Join(dir, part.file), ',')
		if err != nil {
			return nil, err
		}
		if len(recs) > 0 && strings.HasPrefix(recs[0][0], "|") {
			recs = recs[1:]
		}
		for _, rec := range recs {
			if len(rec) == len(adultColumns) {
				rec[len(rec)-1] = strings.TrimSuffix(rec[len(rec)-1], ".")
			}
		}
		g, err := buildFrame(adultColumns, recs, "?")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", part.file, err)
		}
		f.rows = append(f.rows, g.rows...)
		for range g.rows {
			f.test = append(f.test, part.test)
		}
	}
	return f, nil
}

// wdbcFeatures are the 30 real-valued features of wdbc.data.
var wdbcFeatures = func() []string {
	var out []string
	for _, stat := range []string{"mean", "se", "worst"} {
		for _, m := range []string{"radius", "texture", "perimeter", "area", "smoothness",
			"compactness", "concavity", "concave_points", "symmetry", "fractal_dimension"} {
			out = append(out, m+"_"+stat)
		}
	}
	return out
}()

// loadWDBC reads wdbc.data without its id column; diagnosis is M or B.
func loadWDBC(dir string) (*frame, error) {
	recs, err := readCSV(filepath.Join(dir, "wdbc.data"), ',')
	if err != nil {
		return nil, err
	}
	cols := []column{{"id", numeric}, {"diagnosis", text}}
	for _, n := range wdbcFeatures {
		cols = append(cols, column{n, numeric})
	}
	f, err := buildFrame(cols, recs, "")
	if err != nil {
		return nil, fmt.Errorf("wdbc.data: %w", err)
	}
	f.dropColumn("id")
	return f, nil
}

// loadIris reads iris.data.
func loadIris(dir string) (*frame, error) {
	recs, err := readCSV(filepath.Join(dir, "iris.data"), ',')
	if err != nil {
		return nil, err
	}
	cols := []column{{"sepal_length", numeric}, {"sepal_width", numeric},
		{"petal_length", numeric}, {"petal_width", numeric}, {"species", text}}
	f, err := buildFrame(cols, recs, "")
	if err != nil {
		return nil, fmt.Errorf("iris.data: %w", err)
	}
	return f, nil
}

// loadWine reads winequality-red.csv (semicolon-separated).
func loadWine(dir string) (*frame, error) {
	recs, err := readCSV(filepath.Join(dir, "winequality-red.csv"), ';')
	if err != nil {
		return nil, err
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("winequality-red.csv: no data rows")
	}
	cols := headerColumns(recs[0], map[string]kind{"quality": integer})
	f, err := buildFrame(cols, recs[1:], "")
	if err != nil {
		return nil, fmt.Errorf("winequality-red.csv: %w", err)
	}
	return f, nil
}

// loadHousing reads housing.csv; blank total_bedrooms are NULL.
func loadHousing(dir string) (*frame, error) {
	recs, err := readCSV(filepath.Join(dir, "housing.csv"), ',')
	if err != nil {
		return nil, err
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("housing.csv: no data rows")
	}
	cols := headerColumns(recs[0], map[string]kind{"ocean_proximity": text})
	f, err := buildFrame(cols, recs[1:], "")
	if err != nil {
		return nil, fmt.Errorf("housing.csv: %w", err)
	}
	return f, nil
}

// loadFraud reads creditcard_sample.csv; class is 0 or 1.
func loadFraud(dir string) (*frame, error) {
	recs, err := readCSV(filepath.Join(dir, "creditcard_sample.csv"), ',')
	if err != nil {
		return nil, err
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("creditcard_sample.csv: no data rows")
	}
	cols := headerColumns(recs[0], map[string]kind{"class": integer})
	f, err := buildFrame(cols, recs[1:], "")
	if err != nil {
		return nil, fmt.Errorf("creditcard_sample.csv: %w", err)
	}
	return f, nil
}

// loadTaxi reads nyc_taxi.csv (ts DATETIME, value). Every row trains the
// (unsupervised) model, so none is marked test.
func loadTaxi(dir string) (*frame, error) {
	recs, err := readCSV(filepath.Join(dir, "nyc_taxi.csv"), ',')
	if err != nil {
		return nil, err
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("nyc_taxi.csv: no data rows")
	}
	f, err := buildFrame([]column{{"ts", datetime}, {"value", numeric}}, recs[1:], "")
	if err != nil {
		return nil, fmt.Errorf("nyc_taxi.csv: %w", err)
	}
	f.test = make([]bool, len(f.rows))
	return f, nil
}

// window is a labelled anomaly window [start, end], inclusive.
type window struct{ start, end time.Time }

// loadTaxiWindows reads the realKnownCause/nyc_taxi.csv windows of NAB's
// combined_windows.json.
func loadTaxiWindows(dir string) ([]window, error) {
	b, err := os.ReadFile(filepath.Join(dir, "combined_windows.json"))
	if err != nil {
		return nil, err
	}
	var all map[string][][2]string
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("combined_windows.json: %w", err)
	}
	raw, ok := all["realKnownCause/nyc_taxi.csv"]
	if !ok {
		return nil, fmt.Errorf("combined_windows.json: no realKnownCause/nyc_taxi.csv key")
	}
	out := make([]window, len(raw))
	for i, w := range raw {
		for j, s := range w {
			t, err := time.Parse("2006-01-02 15:04:05.000000", s)
			if err != nil {
				return nil, fmt.Errorf("combined_windows.json: %w", err)
			}
			if j == 0 {
				out[i].start = t
			} else {
				out[i].end = t
			}
		}
	}
	return out, nil
}
