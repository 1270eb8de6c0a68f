package console

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/model"
)

func TestListenAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"8080", "127.0.0.1:8080"},
		{":8080", "127.0.0.1:8080"},
		{"0.0.0.0:8080", "0.0.0.0:8080"},
		{"[::1]:9", "[::1]:9"},
		{"example.internal:443", "example.internal:443"},
	} {
		got, err := ListenAddr(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	_, err := ListenAddr("")
	require.Error(t, err)
}

func TestDialable(t *testing.T) {
	require.Equal(t, "127.0.0.1:3306", dialable("0.0.0.0:3306"))
	require.Equal(t, "127.0.0.1:3306", dialable("[::]:3306"))
	require.Equal(t, "10.0.0.1:3306", dialable("10.0.0.1:3306"))
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]bool{
		"/models": true, "/": true, "/sql?db=x": true,
		"": false, "//evil.example/": false, "/\\evil.example": false, "https://evil.example/": false, "models": false,
	} {
		require.Equal(t, want, safeNext(in), in)
	}
}

// roc's area is the rank statistic automl scores AUC with, ties included.
func TestROCAreaMatchesTheAUCObjective(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for _, tc := range []struct {
		name  string
		n     int
		ties  bool
		noise float64
	}{
		{"separable", 50, false, 0},
		{"noisy", 400, false, 1},
		{"tied scores", 400, true, 1},
		{"random", 400, false, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scores, pos := make([]float64, tc.n), make([]bool, tc.n)
			y, out := make([]float64, tc.n), make([][]float64, tc.n)
			for i := range scores {
				pos[i] = i%3 == 0
				s := rng.NormFloat64() * tc.noise
				if pos[i] {
					s += 2
				}
				if tc.ties {
					s = math.Round(s)
				}
				scores[i] = s
				if pos[i] {
					y[i] = 1
				}
				out[i] = []float64{s}
			}
			fpr, tpr, auc := roc(scores, pos)
			want, err := automl.Score("auc", y, out, model.Binary)
			require.NoError(t, err)
			require.InDelta(t, want, auc, 1e-9)
			require.Equal(t, 0.0, fpr[0])
			require.Equal(t, 1.0, fpr[len(fpr)-1])
			require.Equal(t, 1.0, tpr[len(tpr)-1])
		})
	}
	fpr, _, auc := roc([]float64{1, 2}, []bool{true, true})
	require.Nil(t, fpr, "one class only")
	require.True(t, math.IsNaN(auc))
}

func TestExplainTree(t *testing.T) {
	gms := []string{
		"Project",
		" ├─ columns: [v.id]",
		" └─ Filter",
		"     ├─ (v.spend > 3)",
		"     └─ Table",
		"         └─ name: visits",
	}
	roots := explainTree(gms)
	require.Len(t, roots, 1)
	require.Equal(t, "Project", roots[0].Text)
	require.Len(t, roots[0].Children, 2)
	require.Equal(t, "columns: [v.id]", roots[0].Children[0].Text)
	filter := roots[0].Children[1]
	require.Equal(t, "Filter", filter.Text)
	require.Len(t, filter.Children, 2)
	require.Equal(t, "name: visits", filter.Children[1].Children[0].Text)

	// MySQL's FORMAT=TREE: one cell holding every line.
	mysqlTree := "-> Nested loop inner join  (cost=0.7 rows=1)\n    -> Table scan on v  (cost=0.35 rows=1)\n    -> Single-row index lookup on w using PRIMARY (id=v.id)"
	roots = explainTree([]string{mysqlTree})
	require.Len(t, roots, 1)
	require.Equal(t, "Nested loop inner join  (cost=0.7 rows=1)", roots[0].Text)
	require.Len(t, roots[0].Children, 2)
}

func TestBuildPlotsPerProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  *automl.Report
		want []string
	}{
		{"binary", &automl.Report{Problem: model.Binary, Validation: &automl.Validation{
			Classes: []string{"no", "yes"}, Actual: []float64{0, 1, 1, 0}, Outputs: [][]float64{{0.1}, {0.9}, {0.4}, {0.6}}}},
			[]string{`id="confusion"`, `id="roc"`, `class="roc-curve s0"`, `AUC yes = 0.750`}},
		{"multiclass", &automl.Report{Problem: model.Multiclass, Validation: &automl.Validation{
			Classes: []string{"a", "b", "c"}, Actual: []float64{0, 1, 2}, Outputs: [][]float64{{.8, .1, .1}, {.1, .8, .1}, {.3, .3, .4}}}},
			[]string{`id="confusion"`, `AUC a vs rest = 1.000`, `class="roc-curve s2"`}},
		{"regression", &automl.Report{Problem: model.Regression, Validation: &automl.Validation{
			Actual: []float64{1, 2, 3}, Outputs: [][]float64{{1.5}, {2}, {2.5}}}},
			[]string{`id="predicted-actual"`, `id="residuals"`, `<circle class="point"`}},
		{"kmeans", &automl.Report{Problem: model.Clustering, Validation: &automl.Validation{ClusterSizes: []int{3, 5}}},
			[]string{`id="clusters"`, `cluster 1: 5`}},
		{"rcf", &automl.Report{Problem: model.Anomaly, Validation: &automl.Validation{Scores: []float64{1, 1.2, 0.9, 5}, Threshold: 4}},
			[]string{`id="scores"`, `class="threshold"`, `threshold 4`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := buildPlots(tc.rep)
			var all strings.Builder
			for _, c := range p.Charts {
				all.WriteString(string(c))
			}
			for _, w := range tc.want {
				require.Contains(t, all.String(), w)
			}
			require.NotEmpty(t, p.Metrics)
		})
	}
	p := buildPlots(&automl.Report{Problem: model.Binary})
	require.Empty(t, p.Charts)
	require.NotEmpty(t, p.Note)
}

// Text in a chart is escaped: a feature may be named anything.
func TestChartsEscapeText(t *testing.T) {
	svg := string(barChart("importance", "t", []string{`<script>alert(1)</script>`}, []float64{1}, ""))
	require.NotContains(t, svg, "<script>")
	require.Contains(t, svg, "&lt;script&gt;")
}

func TestHistoryRing(t *testing.T) {
	h := newHistory(4)
	at := time.Unix(0, 0)
	for i := 0; i < 6; i++ {
		h.add("d.f", sample{At: at.Add(time.Duration(i) * time.Second), Requests: uint64(i)})
	}
	got := h.get("d.f")
	require.Len(t, got, 4)
	for i, s := range got {
		require.EqualValues(t, i+2, s.Requests, "oldest first")
	}
	h.retain(map[string]bool{"other": true})
	require.Nil(t, h.get("d.f"))

	// Concurrent writers and readers (run with -race).
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				h.add(fmt.Sprintf("d.f%d", i%3), sample{Requests: uint64(i)})
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				_ = h.get("d.f1")
			}
		}()
	}
	wg.Wait()
}

func TestSessionsExpireWhenIdle(t *testing.T) {
	st := newSessionStore(time.Minute)
	open := func() *sql.DB {
		db, err := sql.Open("mysql", "u:p@tcp(127.0.0.1:1)/")
		require.NoError(t, err)
		return db
	}
	s, err := st.add("alice", open())
	require.NoError(t, err)
	require.Len(t, s.id, 43, "256 bits, base64")
	require.NotEqual(t, s.id, s.csrf)
	got, ok := st.get(s.id)
	require.True(t, ok)
	require.Same(t, s, got)
	_, ok = st.get(s.id + "x")
	require.False(t, ok)

	s.mu.Lock()
	s.lastSeen = time.Now().Add(-2 * time.Minute)
	s.mu.Unlock()
	_, ok = st.get(s.id)
	require.False(t, ok, "idle too long")

	s2, err := st.add("bob", open())
	require.NoError(t, err)
	st.expire(time.Now().Add(2 * time.Minute))
	_, ok = st.get(s2.id)
	require.False(t, ok)

	for i := 0; i < maxSessions; i++ {
		_, err := st.add("u", open())
		require.NoError(t, err)
	}
	_, err = st.add("u", open())
	require.ErrorIs(t, err, errTooManySessions)
	st.closeAll()
	_, err = st.add("u", open())
	require.NoError(t, err)
}
