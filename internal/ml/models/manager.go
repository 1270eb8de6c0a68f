// Package models implements Redshift ML's CREATE MODEL in SibylDB: models
// trained in the background from a query, stored in the catalog, and SQL
// prediction functions that run them in-process through the batched
// operator. It also binds models brought from files or served remotely.
package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/sirupsen/logrus"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/drift"
	"github.com/sibyldb/sibyldb/internal/ml/explain"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/progress"
	"github.com/sibyldb/sibyldb/internal/sqlfunc"
)

const kindModel = "model"

// Model states, as SHOW MODEL prints them.
const (
	Training = "TRAINING"
	Ready    = "READY"
	Failed   = "FAILED"
)

// Defaults of Redshift ML's SETTINGS.
const (
	DefaultMaxRuntime = 5400 // seconds
	DefaultMaxCells   = 1_000_000
)

// Errors the SQL layer maps to MySQL codes.
var (
	ErrExists   = errors.New("model already exists")
	ErrNotFound = errors.New("model does not exist")
	ErrNotReady = errors.New("model is not ready")
)

// Spec is a CREATE MODEL statement as parsed.
type Spec struct {
	DB          string `json:"db"`
	Name        string `json:"name"`
	IfNotExists bool   `json:"-"`
	// Exactly one source: a table, a query, a model file (bring your own
	// model) or a SageMaker endpoint (remote model).
	FromTable string `json:"from_table,omitempty"`
	FromQuery string `json:"from_query,omitempty"`
	FromURI   string `json:"from_uri,omitempty"`
	SageMaker string `json:"sagemaker,omitempty"`
	// External is CREATE EXTERNAL MODEL (Bedrock, settings in Settings).
	External bool `json:"external,omitempty"`

	Target   string `json:"target,omitempty"`
	Function string `json:"function"`
	// ParamTypes and Returns are FUNCTION fn(types) RETURNS type.
	ParamTypes      []string          `json:"param_types,omitempty"`
	Returns         string            `json:"returns,omitempty"`
	IAMRole         string            `json:"iam_role,omitempty"`
	Auto            bool              `json:"auto"`
	ModelType       string            `json:"model_type,omitempty"`
	ProblemType     string            `json:"problem_type,omitempty"`
	Objective       string            `json:"objective,omitempty"`
	Hyperparameters map[string]string `json:"hyperparameters,omitempty"`
	Settings        map[string]string `json:"settings,omitempty"`
	// Ignored lists the AWS-only clauses accepted without effect.
	Ignored []string `json:"ignored,omitempty"`
	// Handle is the HeatWave model handle of a model trained by
	// sys.ML_TRAIN ("" for CREATE MODEL models, whose handle is db.name).
	Handle string `json:"handle,omitempty"`
	// Options is ML_TRAIN's options document as given, for the model
	// catalog's model_metadata.
	Options string `json:"heatwave_options,omitempty"`
	// Algorithms restricts the AUTO search (ML_TRAIN's model_list).
	Algorithms []string `json:"algorithms,omitempty"`
	// Forecast is set for forecasting models (MODEL_TYPE FORECAST,
	// HeatWave's 'forecasting' task).
	Forecast *ForecastSpec `json:"forecast,omitempty"`
	// Recommend is set for recommendation models.
	Recommend *RecommendSpec `json:"recommend,omitempty"`
}

// Model is a model and its training job.
type Model struct {
	Spec
	Owner    string    `json:"owner"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished,omitempty"`
	// Params are the prediction function's parameters (the feature
	// columns, or p1..pn for models brought from outside).
	Params     []mlfunc.Param `json:"params"`
	TargetType string         `json:"target_type,omitempty"`
	Problem    model.Problem  `json:"problem_type_inferred,omitempty"`
	Rows       int            `json:"rows"`
	Cells      int            `json:"cells"`
	Sampled    bool           `json:"sampled,omitempty"`
	MaxRuntime int            `json:"max_runtime"`
	MaxCells   int            `json:"max_cells"`
	Report     *automl.Report `json:"report,omitempty"`
	// Series are a forecasting model's trained forecasts.
	Series []SeriesForecast `json:"series,omitempty"`
	// Recommender is a recommendation model's trained state.
	Recommender *Recommender    `json:"recommender,omitempty"`
	Artifact    *model.Artifact `json:"artifact,omitempty"`
	// Explainer is the model's trained explainers (HeatWave's ML_EXPLAIN),
	// nil until one is trained.
	Explainer *explain.State `json:"explainer,omitempty"`
	// Version is the number of the deployed version, whose artifact,
	// report and parameters the fields above hold (0 until the first
	// version has trained). See versions.go.
	Version int `json:"version,omitempty"`
	// LastVersion is the highest version number given out.
	LastVersion int `json:"last_version,omitempty"`
	// DeployHistory are the versions deployed before Version, oldest
	// first, for ALTER MODEL ROLLBACK.
	DeployHistory []int `json:"deploy_history,omitempty"`
	// versions are the model's training runs by number, stored as
	// catalog objects of their own (kindVersion).
	versions map[int]*Version
	// reserved is the number of a version being started (its data being
	// read), 0 when none.
	reserved int

	// user and host created the model, for the audit record.
	user, host string

	progress atomic.Value // string
	// steps is the training job's progress for PROCESSLIST (nil before
	// the job starts).
	steps     atomic.Pointer[progress.Report]
	predictor *model.Predictor
	explainer *compiledExplainer
	cancel    context.CancelFunc
	done      chan struct{}
}

func (m *Model) key() string { return key(m.DB, m.Name) }

// listJob lists md's training job in PROCESSLIST, as a Daemon thread of
// the user who started it, until the returned function is called.
// CREATE MODEL returns while its job trains, so this is where an operator
// sees the job and how far it has come.
func listJob(md *Model, info string, f progress.Func) (end func()) {
	return progress.StartJob(md.user, md.host, md.DB, info, f)
}

// stepReport is a training job's progress after automl's Step: stage 2
// trains the candidates, stage 3 refits the chosen one on all rows.
func stepReport(done, total int, refit bool) progress.Report {
	if refit {
		return progress.Report{Name: "refitting the chosen candidate", Total: 1, Unit: "models", Stage: 3, MaxStage: trainingStages}
	}
	return progress.Report{Name: "training", Done: int64(done), Total: int64(total), Unit: "candidates", Stage: 2, MaxStage: trainingStages}
}

// progressText is the training job's progress as free text (forecasting
// and recommendation jobs report no candidates).
func (m *Model) progressText() progress.Report {
	s, _ := m.progress.Load().(string)
	return progress.Report{Name: "training: " + s}
}

// TrainingProgress is how far the training job has come, as PROCESSLIST
// shows it for a statement that waits for the job (HeatWave's ML_TRAIN):
// stage 1 reads the training data, stage 2 trains the candidates, stage 3
// refits the chosen one on all rows.
func (m *Model) TrainingProgress() progress.Report {
	if r := m.steps.Load(); r != nil {
		return *r
	}
	return progress.Report{Name: "queued for training", Unit: "candidates", Stage: 1, MaxStage: trainingStages}
}

// trainingStages are the stages of TrainingProgress.
const trainingStages = 3

// Progress is what the training job is doing, for SHOW MODEL.
func (m *Model) Progress() string {
	if s, ok := m.progress.Load().(string); ok {
		return s
	}
	return ""
}

// Functions are the names of the SQL functions the model defines.
func (m *Model) Functions() []string {
	var names []string
	for _, f := range m.functions() {
		names = append(names, f.name)
	}
	return names
}

// namedOutput is one of a model's functions.
type namedOutput struct {
	name string
	out  output
}

func (m *Model) functions() []namedOutput {
	if m.Forecast != nil {
		// Forecasts are read with FORECAST(model) or ML_PREDICT_TABLE.
		return nil
	}
	fns := []namedOutput{{m.Function, outPredict}}
	if m.SageMaker != "" || m.Recommend != nil || m.External {
		return fns
	}
	if m.Problem.Classification() {
		fns = append(fns, namedOutput{m.Function + "_prob", outProb})
	}
	if m.Problem != model.Clustering && m.Problem != model.Anomaly {
		fns = append(fns, namedOutput{m.Function + "_explain", outExplain})
	}
	return fns
}

func key(db, name string) string { return strings.ToLower(db + "." + name) }

// Manager owns the models: their definitions and artifacts (persisted in
// the catalog), their training jobs and their prediction functions.
type Manager struct {
	// NewContext opens an internal session, for the writes a training job
	// makes after its statement has returned.
	NewContext func(context.Context) (*sql.Context, error)
	// Query runs the training query in the creating session, so the
	// creator's privileges on the data apply.
	Query func(ctx *sql.Context, q string) (sql.Schema, sql.RowIter, error)
	// Authorize, when set, decides whether the session may use a model's
	// functions; it runs before any row is read.
	Authorize func(ctx *sql.Context, m *Model) error
	// Fetch reads a model file from object storage (CREATE MODEL FROM
	// 's3://...'); nil allows only file:// sources.
	Fetch func(ctx *sql.Context, uri string, limit int64) ([]byte, error)
	// CanReadFiles, when set, reports whether the session holds FILE,
	// which CREATE MODEL FROM 'file://...' needs as LOAD DATA INFILE does.
	CanReadFiles func(ctx *sql.Context) bool
	// Endpoints binds remote models (SAGEMAKER 'endpoint') to endpoint
	// functions.
	Endpoints *mlfunc.Manager
	// ArtifactDir, when set, receives a copy of every ready model as
	// NAME.json for `sibyldb serve-model`.
	ArtifactDir string
	// Audit, when set, receives one record per training job: training
	// reads data into a model as an endpoint call sends it out.
	Audit func(mlfunc.AuditRecord)
	Log   *logrus.Logger
	// Drift, when set, keeps each trained model's training distributions
	// and samples scored rows against them (see drift.go).
	Drift *drift.Monitor
	// Pin, when set, records a training run's lineage: for each table
	// query reads, the Dolt commit holding the data this session sees,
	// committing an uncommitted working set on the hidden tag tagFor(db).
	Pin func(ctx *sql.Context, query string, tagFor func(db string) string) ([]TableVersion, error)
	// Unpin drops the tags of a removed version's lineage.
	Unpin func(ctx *sql.Context, lineage []TableVersion)
	// LineageEnabled reports sibyl_model_lineage (nil: on).
	LineageEnabled func() bool
	// Dropped, when set, is told of each model DROP MODEL removed
	// (HeatWave's model catalog row goes with the model).
	Dropped func(ctx *sql.Context, md *Model)
	// MaxVersions is sibyl_model_max_versions (nil: DefaultMaxVersions).
	MaxVersions func() int

	catalog *catalog.Store
	funcs   *sqlfunc.Registry

	ctx  context.Context // parent of training jobs, cancelled by Close
	stop context.CancelFunc
	jobs sync.WaitGroup

	mu     sync.RWMutex
	models map[string]*Model

	// artifactMu orders writes of serve-model copies: each copies the
	// model as it is when the write starts, so the last write is of the
	// latest deployment.
	artifactMu sync.Mutex
}

// NewManager returns a manager storing models in cat and registering their
// functions in funcs.
func NewManager(cat *catalog.Store, funcs *sqlfunc.Registry) *Manager {
	ctx, stop := context.WithCancel(context.Background())
	return &Manager{catalog: cat, funcs: funcs, ctx: ctx, stop: stop, models: map[string]*Model{}, Log: logrus.StandardLogger()}
}

// Close cancels running training jobs and waits for them; their models
// are recorded as FAILED.
func (m *Manager) Close() {
	m.stop()
	m.jobs.Wait()
}

// Load restores the stored models at start-up. A model that was training
// when the server stopped failed: its job is gone.
func (m *Manager) Load(ctx *sql.Context) error {
	objs, err := m.catalog.List(ctx, kindModel)
	if err != nil {
		return err
	}
	for _, o := range objs {
		md := &Model{}
		if err := json.Unmarshal([]byte(o.Definition), md); err != nil {
			m.Log.WithError(err).Errorf("stored model %s is unreadable; skipping it", o.Name)
			continue
		}
		if md.State == Training {
			md.State, md.Reason, md.Finished = Failed, "the server restarted during training", time.Now().UTC()
			def, _ := json.Marshal(md)
			if err := m.catalog.PutCommitted(ctx, catalog.Object{Kind: kindModel, Name: md.key(), Definition: string(def)}); err != nil {
				return err
			}
		}
		if md.State == Ready && md.Artifact != nil {
			if md.predictor, err = md.Artifact.Compile(); err != nil {
				md.State, md.Reason = Failed, "stored model is invalid: "+err.Error()
			}
		}
		if md.SageMaker == "" && !md.External {
			if err := m.register(ctx, md); err != nil {
				m.Log.WithError(err).Errorf("model %s: functions not registered", o.Name)
			}
		}
		m.models[md.key()] = md
	}
	if err := m.loadBaselines(ctx); err != nil {
		return err
	}
	return m.loadVersions(ctx)
}

// Get returns the model db.name.
func (m *Manager) Get(db, name string) (*Model, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	md, ok := m.models[key(db, name)]
	return md, ok
}

// All lists the models ordered by database and name.
func (m *Manager) All() []*Model {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Model, 0, len(m.models))
	for _, md := range m.models {
		out = append(out, md)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// Drop removes a model, cancelling its training; found is false when it
// does not exist.
func (m *Manager) Drop(ctx *sql.Context, db, name string) (found bool, err error) {
	m.mu.Lock()
	md, ok := m.models[key(db, name)]
	if !ok {
		m.mu.Unlock()
		return false, nil
	}
	delete(m.models, md.key())
	m.mu.Unlock()
	if md.cancel != nil {
		md.cancel()
		<-md.done
	}
	if (md.SageMaker != "" || md.External) && m.Endpoints != nil {
		if _, err := m.Endpoints.DropFunction(ctx, md.DB, md.Function); err != nil {
			return true, err
		}
	}
	if !md.External {
		for _, fn := range md.Functions() {
			m.funcs.Drop(md.DB, fn)
		}
	}
	if _, err := m.catalog.Delete(ctx, kindModel, md.key()); err != nil {
		return true, err
	}
	if err := m.dropBaselines(ctx, md); err != nil {
		return true, err
	}
	if err := m.dropVersions(ctx, md); err != nil {
		return true, err
	}

	if m.ArtifactDir != "" {
		_ = os.Remove(m.artifactPath(md))
	}
	if m.Dropped != nil {
		m.Dropped(ctx, md)
	}
	return true, nil
}

func (m *Manager) artifactPath(md *Model) string {
	return filepath.Join(m.ArtifactDir, fmt.Sprintf("%s.%s.json", strings.ToLower(md.DB), strings.ToLower(md.Name)))
}

// put stores md in the catalog in ctx's transaction.
func (m *Manager) put(ctx *sql.Context, md *Model) error {
	def, err := json.Marshal(md)
	if err != nil {
		return err
	}
	return m.catalog.Put(ctx, catalog.Object{Kind: kindModel, Name: md.key(), Definition: string(def)})
}

// persist stores md in its own transaction of an internal session: a
// training job's result outlives the statement that started it.
func (m *Manager) persist(md *Model) error {
	ctx, err := m.NewContext(context.Background())
	if err != nil {
		return err
	}
	defer sql.SessionEnd(ctx.Session)
	def, err := json.Marshal(md)
	if err != nil {
		return err
	}
	return m.catalog.PutCommitted(ctx, catalog.Object{Kind: kindModel, Name: md.key(), Definition: string(def)})
}
