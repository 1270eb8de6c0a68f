package models

// Model versions: every training run of a model (CREATE MODEL, CREATE OR
// REPLACE MODEL, ALTER MODEL ... RETRAIN) is a numbered Version with its
// lineage (the Dolt commit of each table it read), its metrics and its
// artifact. The Model itself always describes the deployed version, so the
// prediction functions, SHOW MODEL and the HeatWave model catalog read the
// deployed artifact without knowing about versions.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	ast "github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/progress"
)

const kindVersion = "model_version"

// Deploy policies (SETTINGS (DEPLOY_POLICY '...')).
const (
	// PolicyBestScore deploys a new version when it scores at least as
	// well as the deployed one on the comparison rows (PostgresML's
	// default).
	PolicyBestScore = "best_score"
	// PolicyMostRecent deploys every version that trains successfully.
	PolicyMostRecent = "most_recent"
	// PolicyManual deploys only on ALTER MODEL ... DEPLOY VERSION.
	PolicyManual = "manual"
)

// DefaultMaxVersions is sibyl_model_max_versions' default.
const DefaultMaxVersions = 10

// Errors of version management.
var (
	ErrNoVersion    = errors.New("unknown model version")
	ErrNoRollback   = errors.New("no previously deployed version to roll back to")
	ErrIncompatible = errors.New("retrained model is incompatible with the model's functions")
)

// TableVersion is one table a training run read and the Dolt commit its
// data was read at: SELECT ... FROM db.table AS OF 'commit' reads it back.
type TableVersion struct {
	DB     string `json:"db"`
	Table  string `json:"table"`
	Commit string `json:"commit"`
	// Tag is the hidden tag that keeps Commit reachable ("" when Commit
	// was already a commit of a branch).
	Tag string `json:"tag,omitempty"`
}

func (t TableVersion) String() string { return fmt.Sprintf("%s.%s@%s", t.DB, t.Table, t.Commit) }

// Version is one training run of a model.
type Version struct {
	Number int    `json:"number"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Query is the training query as written (FROM (query) or SELECT *
	// FROM table); AsOf is ALTER MODEL ... RETRAIN AS OF's commit.
	Query string `json:"query"`
	AsOf  string `json:"as_of,omitempty"`
	// QueryDB is the current database the query ran in.
	QueryDB string         `json:"query_db,omitempty"`
	Lineage []TableVersion `json:"lineage,omitempty"`
	Seed    int64          `json:"seed"`

	Auto            bool              `json:"auto"`
	ModelType       string            `json:"model_type,omitempty"`
	Objective       string            `json:"objective,omitempty"`
	Hyperparameters map[string]string `json:"hyperparameters,omitempty"`
	Settings        map[string]string `json:"settings,omitempty"`

	// ModelCreated is the creation time of the model the version
	// belongs to, so a stale version of a dropped model of the same name
	// is never attached to a new one.
	ModelCreated time.Time `json:"model_created"`
	CreatedBy    string    `json:"created_by"`
	Created      time.Time `json:"created"`
	Finished     time.Time `json:"finished,omitempty"`

	Rows       int            `json:"rows"`
	Cells      int            `json:"cells"`
	Sampled    bool           `json:"sampled,omitempty"`
	Params     []mlfunc.Param `json:"params"`
	TargetType string         `json:"target_type,omitempty"`
	Problem    model.Problem  `json:"problem_type,omitempty"`
	Report     *automl.Report `json:"report,omitempty"`
	// CompareScore is the version's score (Report.Objective) on the
	// model's comparison rows; NaN (stored as null) when not computed.
	CompareScore  *float64 `json:"compare_score,omitempty"`
	CompareRows   int      `json:"compare_rows,omitempty"`
	CompareHigher bool     `json:"compare_higher,omitempty"`

	Artifact       *model.Artifact `json:"artifact,omitempty"`
	ArtifactSHA256 string          `json:"artifact_sha256,omitempty"`

	predictor *model.Predictor
}

func versionName(md *Model, n int) string { return fmt.Sprintf("%s#%d", md.key(), n) }

// VersionTag is the hidden Dolt tag keeping version n's training data of
// database db reachable: sibyl/model/<model db>/<model>/v<n>/<db>.
func VersionTag(md *Model, n int, db string) string {
	return fmt.Sprintf("sibyl/model/%s/%s/v%d/%s", refPart(md.DB), refPart(md.Name), n, refPart(db))
}

// refPart keeps a name usable inside a Dolt ref name.
func refPart(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "_%x", r)
		}
	}
	return b.String()
}

// Policy is the model's DEPLOY_POLICY.
func (md *Model) Policy() string {
	if p := strings.ToLower(md.Settings["deploy_policy"]); p != "" {
		return p
	}
	return PolicyBestScore
}

// Versions lists the model's versions, oldest first.
func (m *Manager) Versions(md *Model) []Version {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Version, 0, len(md.versions))
	for _, v := range md.versions {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// DeployedVersion is the number of the deployed version (0: none yet).
func (m *Manager) DeployedVersion(md *Model) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return md.Version
}

// Retrain is ALTER MODEL ... RETRAIN and CREATE OR REPLACE MODEL: it reads
// the training data in ctx's session (the caller's privileges apply),
// pins it, and trains version N+1 in the background. query "" retrains on
// the query of the deployed version (or latest); asOf reads every table
// of the query at that Dolt commit, branch or tag. spec, when set,
// replaces the model's training choices (CREATE OR REPLACE MODEL).
// It returns the new version's number.
func (m *Manager) Retrain(ctx *sql.Context, md *Model, query, asOf string, spec *Spec) (int, error) {
	if md.SageMaker != "" || md.External || md.FromURI != "" || md.Forecast != nil || md.Recommend != nil {
		return 0, fmt.Errorf("%w: model %s is not trained by SibylDB and has no versions", automl.ErrBadSetting, md.Name)
	}
	m.mu.Lock()
	if md.State == Training && md.Version == 0 {
		m.mu.Unlock()
		return 0, fmt.Errorf("model %s.%s: %w: its first version is still training", md.DB, md.Name, ErrNotReady)
	}
	if md.reserved != 0 {
		m.mu.Unlock()
		return 0, fmt.Errorf("model %s.%s: %w: version %d is being started", md.DB, md.Name, ErrNotReady, md.reserved)
	}
	for _, v := range md.versions {
		if v.State == Training {
			m.mu.Unlock()
			return 0, fmt.Errorf("model %s.%s: %w: version %d is still training", md.DB, md.Name, ErrNotReady, v.Number)
		}
	}
	queryDB := ctx.GetCurrentDatabase()
	if query == "" {
		// The query the deployed version was trained with, in the
		// database it was written for.
		query = md.trainingQuery()
		if cur := md.versions[md.Version]; cur != nil && cur.Query != "" {
			query = cur.Query
			if cur.QueryDB != "" {
				queryDB = cur.QueryDB
			}
		}
	}
	tmp := &Model{Spec: md.Spec, MaxRuntime: md.MaxRuntime, MaxCells: md.MaxCells}
	if spec != nil {
		tmp.Spec.Auto, tmp.Spec.ModelType, tmp.Spec.Objective = spec.Auto, spec.ModelType, spec.Objective
		tmp.Spec.Hyperparameters, tmp.Spec.Settings = spec.Hyperparameters, spec.Settings
		tmp.Spec.ProblemType = spec.ProblemType
		tmp.MaxRuntime, tmp.MaxCells = DefaultMaxRuntime, DefaultMaxCells
		if err := tmp.applySettings(); err != nil {
			m.mu.Unlock()
			return 0, err
		}
	}
	md.LastVersion++
	n := md.LastVersion
	cl := ctx.Session.Client()
	// The version is private to this statement until its data is read
	// (SHOW MODEL ... VERSIONS lists it from then on); the number is
	// reserved meanwhile.
	v := &Version{Number: n, State: Training, Query: query, AsOf: asOf, QueryDB: queryDB, Seed: 42,
		Auto: tmp.Auto, ModelType: tmp.ModelType, Objective: tmp.Objective, Hyperparameters: tmp.Hyperparameters,
		Settings: tmp.Settings, CreatedBy: cl.User + "@" + cl.Address, Created: time.Now().UTC(), ModelCreated: md.Created}
	md.reserved = n
	m.mu.Unlock()
	ok := false
	defer func() {
		m.mu.Lock()
		md.reserved = 0
		if !ok && md.LastVersion == n {
			md.LastVersion--
		}
		m.mu.Unlock()
	}()

	if saved := ctx.GetCurrentDatabase(); queryDB != "" && queryDB != saved {
		ctx.SetCurrentDatabase(queryDB)
		defer ctx.SetCurrentDatabase(saved)
	}
	ds, err := m.readVersionData(ctx, md, tmp, v)
	if err != nil {
		return 0, err
	}
	if !sameParams(tmp.Params, md.Params) {
		return 0, fmt.Errorf("%w: the training query's columns (%s) differ from the function's parameters (%s); use a new model for a new signature",
			ErrIncompatible, paramList(tmp.Params), paramList(md.Params))
	}
	if tmp.TargetType != md.TargetType {
		return 0, fmt.Errorf("%w: the target column's type %s differs from the model's %s", ErrIncompatible, tmp.TargetType, md.TargetType)
	}
	opt := automl.Options{Auto: v.Auto, ModelType: v.ModelType, Problem: model.Problem(tmp.ProblemType),
		Objective: v.Objective, Hyperparameters: v.Hyperparameters, Algorithms: md.Algorithms, Seed: v.Seed}
	p, _, err := automl.Prepare(ds, opt)
	if err != nil {
		return 0, err
	}
	if p != md.Problem {
		return 0, fmt.Errorf("%w: the data makes a %s problem, the model is %s", ErrIncompatible, p, md.Problem)
	}
	v.Problem = p
	// The training read ended the statement's query context (GMS ends
	// a query's process when its iterator closes), so the comparison
	// read gets a context of its own.
	cmp, err := m.comparisonRows(ctx.WithContext(context.WithoutCancel(ctx)), md)
	if err != nil {
		m.Log.WithError(err).Warnf("model %s: comparison rows unreadable; version %d is compared by validation score", md.key(), n)
	}
	if err := m.persistVersion(md, v); err != nil {
		return 0, err
	}
	m.mu.Lock()
	if md.versions == nil {
		md.versions = map[int]*Version{}
	}
	md.versions[n] = v
	m.mu.Unlock()
	jobCtx, cancel := context.WithTimeout(m.ctx, time.Duration(tmp.MaxRuntime)*time.Second)
	ok = true
	m.jobs.Add(1)
	go m.trainVersion(jobCtx, cancel, md, v, ds, cmp, opt)
	return n, nil
}

// trainingQuery is the query CREATE MODEL's FROM clause stands for.
func (md *Model) trainingQuery() string {
	if md.FromQuery != "" {
		return md.FromQuery
	}
	return "SELECT * FROM " + md.FromTable
}

// readVersionData pins v's data and reads it into a dataset; tmp receives
// the columns (Params, TargetType) and row counts.
func (m *Manager) readVersionData(ctx *sql.Context, md, tmp *Model, v *Version) (*automl.Dataset, error) {
	q := v.Query
	if v.AsOf != "" {
		var err error
		if q, err = QueryAsOf(q, func(string) string { return v.AsOf }); err != nil {
			return nil, err
		}
	}
	if err := m.pin(ctx, md, v, q); err != nil {
		return nil, err
	}
	tmp.FromQuery, tmp.FromTable = q, ""
	ds, err := m.readTrainingData(ctx, tmp)
	if err != nil {
		return nil, err
	}
	v.Rows, v.Cells, v.Sampled, v.Params, v.TargetType = tmp.Rows, tmp.Cells, tmp.Sampled, tmp.Params, tmp.TargetType
	return ds, nil
}

// pin records v's lineage: the Dolt commit of every table q reads.
func (m *Manager) pin(ctx *sql.Context, md *Model, v *Version, q string) error {
	if m.Pin == nil || (m.LineageEnabled != nil && !m.LineageEnabled()) {
		return nil
	}
	lin, err := m.Pin(ctx, q, func(db string) string { return VersionTag(md, v.Number, db) })
	if err != nil {
		// Unwrapped: the query's own errors (unknown table, access
		// denied) keep their MySQL codes.
		return err
	}
	v.Lineage = lin
	return nil
}

func sameParams(a, b []mlfunc.Param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i].Name, b[i].Name) || a[i].Type != b[i].Type {
			return false
		}
	}
	return true
}

func paramList(ps []mlfunc.Param) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Name + " " + p.Type
	}
	return strings.Join(s, ", ")
}

// QueryAsOf rewrites q so that every table it names is read AS OF
// commitFor(db) ("" leaves the table as it is; db is "" for tables
// named without a database). Tables reached through views are not
// rewritten.
func QueryAsOf(q string, commitFor func(db string) string) (string, error) {
	st, err := ast.Parse(q)
	if err != nil {
		return "", err
	}
	_ = ast.Walk(func(node ast.SQLNode) (bool, error) {
		if t, ok := node.(*ast.AliasedTableExpr); ok && t.AsOf == nil {
			if tn, ok := t.Expr.(ast.TableName); ok {
				if c := commitFor(tn.DbQualifier.String()); c != "" {
					t.AsOf = &ast.AsOf{Time: ast.NewStrVal([]byte(c))}
				}
			}
		}
		return true, nil
	}, st)
	return ast.String(st), nil
}

// comparisonRows are the rows every version of md is scored on: a
// deterministic hash-selected fifth of the first version's training data,
// read back AS OF the commits that version recorded. nil when the first
// version has no lineage.
func (m *Manager) comparisonRows(ctx *sql.Context, md *Model) (*automl.Dataset, error) {
	m.mu.RLock()
	first := md.firstVersion()
	m.mu.RUnlock()
	if first == nil || len(first.Lineage) == 0 {
		return nil, nil
	}
	commits := map[string]string{}
	for _, t := range first.Lineage {
		commits[strings.ToLower(t.DB)] = t.Commit
	}
	q, err := QueryAsOf(first.Query, func(db string) string {
		if db == "" {
			db = first.QueryDB
		}
		return commits[strings.ToLower(db)]
	})
	if err != nil {
		return nil, err
	}
	saved := ctx.GetCurrentDatabase()
	if first.QueryDB != "" && first.QueryDB != saved {
		ctx.SetCurrentDatabase(first.QueryDB)
		defer ctx.SetCurrentDatabase(saved)
	}
	tmp := &Model{Spec: Spec{FromQuery: q, Target: md.Target}, MaxCells: math.MaxInt32}
	ds, err := m.readTrainingData(ctx, tmp)
	if err != nil {
		return nil, err
	}
	return comparisonSubset(ds), nil
}

// firstVersion is the oldest version still kept.
func (md *Model) firstVersion() *Version {
	var first *Version
	for _, v := range md.versions {
		if first == nil || v.Number < first.Number {
			first = v
		}
	}
	return first
}

// comparisonSubset keeps the rows whose content hashes into one fifth:
// the same rows whichever order they are read in.
func comparisonSubset(ds *automl.Dataset) *automl.Dataset {
	out := &automl.Dataset{Features: ds.Features, TargetName: ds.TargetName, TargetNumeric: ds.TargetNumeric}
	for i, row := range ds.Rows {
		h := fnv.New64a()
		for _, v := range row {
			fmt.Fprintf(h, "%v\x00", v)
		}
		if ds.Target != nil {
			fmt.Fprintf(h, "%v", ds.Target[i])
		}
		if h.Sum64()%5 == 0 {
			out.Rows = append(out.Rows, row)
			if ds.Target != nil {
				out.Target = append(out.Target, ds.Target[i])
			}
		}
	}
	return out
}

// trainVersion is the training job of a version after the first. The
// version becomes READY and, when the policy says so, deployed in one
// step: whoever sees it READY sees the deployment decided.
func (m *Manager) trainVersion(ctx context.Context, cancel context.CancelFunc, md *Model, v *Version, ds, cmp *automl.Dataset, opt automl.Options) {
	defer m.jobs.Done()
	defer cancel()
	var steps atomic.Pointer[progress.Report]
	opt.Step = func(done, total int, refit bool) {
		r := stepReport(done, total, refit)
		steps.Store(&r)
	}
	defer listJob(md, fmt.Sprintf("ALTER MODEL %s RETRAIN (version %d)", md.key(), v.Number), func() progress.Report {
		if r := steps.Load(); r != nil {
			return *r
		}
		return progress.Report{Name: "queued for training", Unit: "candidates", Stage: 1, MaxStage: trainingStages}
	})()
	start := time.Now()
	art, rep, pred, err := m.trainAndCompile(ctx, md, ds, opt)
	// Each version has its own training distributions (keyed by its
	// artifact), against which drift is measured while it is deployed.
	var base *driftBaseline
	if err == nil {
		base = m.newDriftBaseline(md, ds, art, pred)
	}
	var score *float64
	var scoreRows int
	var higher bool
	if err == nil && cmp != nil {
		if s, h, n, serr := automl.CompareScore(art, cmp, rep.Objective); serr == nil && !math.IsNaN(s) && !math.IsInf(s, 0) {
			score, scoreRows, higher = &s, n, h
		}
	}
	m.mu.Lock()
	_, live := m.models[md.key()]
	v.Finished = time.Now().UTC()
	deployed := false
	if err != nil {
		v.State, v.Reason = Failed, err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			v.Reason = "training did not finish within MAX_RUNTIME"
		}
		if m.ctx.Err() != nil {
			v.Reason = "the server shut down during training"
		}
	} else {
		base.track() // before anyone sees READY
		v.State, v.Artifact, v.Report, v.predictor = Ready, art, rep, pred
		v.ArtifactSHA256 = artifactHash(art)
		v.CompareScore, v.CompareRows, v.CompareHigher = score, scoreRows, higher
		if live && m.shouldDeployLocked(md, v) {
			deployed = m.deployLocked(md, v.Number, false) == nil
		}
	}
	m.mu.Unlock()
	if m.Audit != nil {
		outcome := "OK"
		if v.State == Failed {
			outcome = v.Reason
		}
		m.Audit(mlfunc.AuditRecord{Time: v.Created, User: md.user, Host: md.host, Function: fmt.Sprintf("ALTER MODEL %s RETRAIN (version %d)", md.key(), v.Number),
			Endpoint: "in-process training", Rows: int64(v.Rows), Requests: 1, Duration: time.Since(start), Outcome: outcome})
	}
	if !live {
		base.untrack()
		return
	}
	if v.State == Ready {
		base.store()
	}
	if err := m.persistVersion(md, v); err != nil {
		m.Log.WithError(err).Errorf("model %s: storing version %d", md.key(), v.Number)
		return
	}
	if deployed {
		if err := m.persistDeployment(md); err != nil {
			m.Log.WithError(err).Errorf("model %s: storing the deployment of version %d", md.key(), v.Number)
		}
	}
	m.prune(md)
}

// shouldDeployLocked applies the model's DEPLOY_POLICY to a new ready
// version; m.mu is held.
func (m *Manager) shouldDeployLocked(md *Model, v *Version) bool {
	switch md.Policy() {
	case PolicyManual:
		return false
	case PolicyMostRecent:
		return true
	}
	cur := md.versions[md.Version]
	if cur == nil || cur.State != Ready {
		return true
	}
	a, b := v.CompareScore, cur.CompareScore
	higher := v.CompareHigher
	if a == nil || b == nil {
		// No common rows: compare on each version's own validation
		// split, the best evidence there is.
		if v.Report == nil || cur.Report == nil || v.Report.Objective != cur.Report.Objective {
			return true
		}
		x, y := v.Report.Score, cur.Report.Score
		a, b = &x, &y
		higher = v.Report.Objective == "Accuracy" || v.Report.Objective == "F1" || v.Report.Objective == "F1Macro" || v.Report.Objective == "AUC"
	}
	if higher {
		return *a >= *b
	}
	return *a <= *b
}

// Deploy is ALTER MODEL ... DEPLOY VERSION n.
func (m *Manager) Deploy(md *Model, n int) error { return m.deploy(md, n, false) }

// Rollback is ALTER MODEL ... ROLLBACK: the previously deployed version
// is deployed again.
func (m *Manager) Rollback(md *Model) (int, error) {
	m.mu.RLock()
	var prev int
	for i := len(md.DeployHistory) - 1; i >= 0; i-- {
		if v := md.versions[md.DeployHistory[i]]; v != nil && v.State == Ready {
			prev = v.Number
			break
		}
	}
	m.mu.RUnlock()
	if prev == 0 {
		return 0, fmt.Errorf("model %s.%s: %w", md.DB, md.Name, ErrNoRollback)
	}
	return prev, m.deploy(md, prev, true)
}

// deploy makes version n the one the prediction functions use and stores
// the change. Statements already running keep the version they bound when
// they were planned (see invoker.bind). rollback pops the history instead
// of pushing to it.
func (m *Manager) deploy(md *Model, n int, rollback bool) error {
	m.mu.Lock()
	err := m.deployLocked(md, n, rollback)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	return m.persistDeployment(md)
}

// deployLocked switches the deployed version in memory; m.mu is held.
func (m *Manager) deployLocked(md *Model, n int, rollback bool) error {
	v := md.versions[n]
	if v == nil {
		return fmt.Errorf("model %s.%s version %d: %w", md.DB, md.Name, n, ErrNoVersion)
	}
	if v.State != Ready || v.Artifact == nil {
		return fmt.Errorf("model %s.%s version %d: %w (state %s)", md.DB, md.Name, n, ErrNotReady, v.State)
	}
	if v.predictor == nil {
		p, err := v.Artifact.Compile()
		if err != nil {
			return err
		}
		v.predictor = p
	}
	if n != md.Version {
		if rollback {
			for len(md.DeployHistory) > 0 {
				last := md.DeployHistory[len(md.DeployHistory)-1]
				md.DeployHistory = md.DeployHistory[:len(md.DeployHistory)-1]
				if last == n {
					break
				}
			}
		} else if md.Version != 0 {
			md.DeployHistory = append(md.DeployHistory, md.Version)
		}
	}
	md.Version = n
	md.State, md.Reason = Ready, ""
	md.Artifact, md.Report, md.predictor = v.Artifact, v.Report, v.predictor
	md.Rows, md.Cells, md.Sampled = v.Rows, v.Cells, v.Sampled
	md.Finished = v.Finished
	return nil
}

// persistDeployment stores the model after its deployed version changed.
func (m *Manager) persistDeployment(md *Model) error {
	m.mu.RLock()
	err := m.persist(md)
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	m.writeArtifact(md)
	return nil
}

// VersionPredictor returns version n's compiled predictor (n 0: the
// deployed version), compiling a stored artifact on first use.
func (m *Manager) VersionPredictor(md *Model, n int) (*model.Predictor, error) {
	if n == 0 {
		return m.predictor(md)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := md.versions[n]
	if v == nil {
		return nil, fmt.Errorf("model %s.%s version %d: %w", md.DB, md.Name, n, ErrNoVersion)
	}
	if v.State != Ready || v.Artifact == nil {
		return nil, fmt.Errorf("model %s.%s version %d: %w (state %s)", md.DB, md.Name, n, ErrNotReady, v.State)
	}
	if v.predictor == nil {
		p, err := v.Artifact.Compile()
		if err != nil {
			return nil, err
		}
		v.predictor = p
	}
	return v.predictor, nil
}

// prune removes the oldest versions beyond sibyl_model_max_versions, with
// their artifacts and lineage tags; the deployed version and the one
// training are kept.
func (m *Manager) prune(md *Model) {
	limit := DefaultMaxVersions
	if m.MaxVersions != nil {
		limit = m.MaxVersions()
	}
	if limit < 1 {
		limit = 1
	}
	m.mu.Lock()
	nums := make([]int, 0, len(md.versions))
	for n := range md.versions {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var drop []*Version
	for _, n := range nums {
		if len(nums)-len(drop) <= limit {
			break
		}
		v := md.versions[n]
		if n == md.Version || v.State == Training {
			continue
		}
		drop = append(drop, v)
		delete(md.versions, n)
	}
	if len(drop) > 0 {
		kept := md.DeployHistory[:0]
		for _, n := range md.DeployHistory {
			if md.versions[n] != nil {
				kept = append(kept, n)
			}
		}
		md.DeployHistory = kept
	}
	m.mu.Unlock()
	if len(drop) == 0 {
		return
	}
	ctx, err := m.NewContext(context.Background())
	if err != nil {
		m.Log.WithError(err).Errorf("model %s: removing old versions", md.key())
		return
	}
	defer sql.SessionEnd(ctx.Session)
	for _, v := range drop {
		if err := m.catalog.DeleteCommitted(ctx, kindVersion, versionName(md, v.Number)); err != nil {
			m.Log.WithError(err).Errorf("model %s: removing version %d", md.key(), v.Number)
		}
		if m.Unpin != nil {
			m.Unpin(ctx, v.Lineage)
		}
	}
	m.mu.RLock()
	err = m.persist(md)
	m.mu.RUnlock()
	if err != nil {
		m.Log.WithError(err).Errorf("model %s: storing after removing old versions", md.key())
	}
}

// persistVersion stores v in a transaction of its own.
func (m *Manager) persistVersion(md *Model, v *Version) error {
	ctx, err := m.NewContext(context.Background())
	if err != nil {
		return err
	}
	defer sql.SessionEnd(ctx.Session)
	m.mu.RLock()
	def, err := json.Marshal(v)
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	return m.catalog.PutCommitted(ctx, catalog.Object{Kind: kindVersion, Name: versionName(md, v.Number), Definition: string(def)})
}

// loadVersions restores the stored versions at start-up; one that was
// training when the server stopped is FAILED, never deployed.
func (m *Manager) loadVersions(ctx *sql.Context) error {
	objs, err := m.catalog.List(ctx, kindVersion)
	if err != nil {
		return err
	}
	for _, o := range objs {
		k, _, ok := strings.Cut(o.Name, "#")
		md := m.models[k]
		if !ok || md == nil {
			continue
		}
		v := &Version{}
		if err := json.Unmarshal([]byte(o.Definition), v); err != nil {
			m.Log.WithError(err).Errorf("stored model version %s is unreadable; skipping it", o.Name)
			continue
		}
		if !v.ModelCreated.Equal(md.Created) {
			if err := m.catalog.DeleteCommitted(ctx, kindVersion, o.Name); err != nil {
				m.Log.WithError(err).Warnf("stale model version %s", o.Name)
			}
			continue
		}
		if v.State == Training {
			v.State, v.Reason, v.Finished = Failed, "the server restarted during training", time.Now().UTC()
			def, _ := json.Marshal(v)
			if err := m.catalog.PutCommitted(ctx, catalog.Object{Kind: kindVersion, Name: o.Name, Definition: string(def)}); err != nil {
				return err
			}
		}
		if md.versions == nil {
			md.versions = map[int]*Version{}
		}
		if v.Number == md.Version && md.State == Ready {
			v.predictor = md.predictor
		}
		md.versions[v.Number] = v
		if v.Number > md.LastVersion {
			md.LastVersion = v.Number
		}
	}
	return nil
}

// dropVersions removes all of md's stored versions and lineage tags.
func (m *Manager) dropVersions(ctx *sql.Context, md *Model) error {
	m.mu.Lock()
	vs := md.versions
	md.versions = nil
	m.mu.Unlock()
	for _, v := range vs {
		if _, err := m.catalog.Delete(ctx, kindVersion, versionName(md, v.Number)); err != nil {
			return err
		}
		if m.Unpin != nil {
			m.Unpin(ctx, v.Lineage)
		}
	}
	return nil
}

// artifactHash is the SHA-256 of an artifact's stored form: equal hashes
// mean bit-identical models.
func artifactHash(a *model.Artifact) string {
	b, err := json.Marshal(a)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SetSettings is ALTER MODEL ... SETTINGS (...): it changes settings that
// apply to later versions (DEPLOY_POLICY).
func (m *Manager) SetSettings(ctx *sql.Context, md *Model, settings map[string]string) error {
	for k, v := range settings {
		if k != "deploy_policy" {
			return fmt.Errorf("%w: ALTER MODEL ... SETTINGS changes DEPLOY_POLICY only, not %s", automl.ErrBadSetting, strings.ToUpper(k))
		}
		switch strings.ToLower(v) {
		case PolicyBestScore, PolicyMostRecent, PolicyManual:
		default:
			return fmt.Errorf("%w: DEPLOY_POLICY '%s' (use best_score, most_recent or manual)", automl.ErrBadSetting, v)
		}
	}
	m.mu.Lock()
	next := map[string]string{}
	for k, v := range md.Settings {
		next[k] = v
	}
	for k, v := range settings {
		next[k] = strings.ToLower(v)
	}
	md.Settings = next
	m.mu.Unlock()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.put(ctx, md)
}
