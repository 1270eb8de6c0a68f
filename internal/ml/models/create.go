package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/sample"
	"github.com/sibyldb/sibyldb/internal/progress"
	"github.com/sibyldb/sibyldb/internal/recovered"
)

// Create runs CREATE MODEL: it reads the training data in the creating
// session (so the creator's privileges and snapshot apply), checks it,
// registers the prediction functions and starts training in the
// background. It returns once training has started.
func (m *Manager) Create(ctx *sql.Context, spec *Spec, owner string) error {
	md := newModel(ctx, spec, owner)
	if spec.ModelType == ModelTypeForecast {
		return m.createRedshiftForecast(ctx, spec, owner)
	}
	if md.External {
		// Bedrock's settings are checked by createExternal.
	} else if err := md.applySettings(); err != nil {
		return err
	}
	keep, release, err := m.reserve(md)
	if err != nil {
		return err
	}
	defer release()

	switch {
	case spec.External:
		if err := m.createExternal(ctx, md); err != nil {
			return err
		}
		keep()
		return nil
	case spec.SageMaker != "":
		if err := m.createRemote(ctx, md); err != nil {
			return err
		}
		keep()
		return nil
	case spec.FromURI != "":
		if err := m.createFromFile(ctx, md); err != nil {
			return err
		}
		keep()
		return nil
	}

	v := m.firstVersionOf(ctx, md)
	if err := m.pin(ctx, md, v, v.Query); err != nil {
		return err
	}
	ds, err := m.readTrainingData(ctx, md)
	if err != nil {
		return err
	}
	v.Rows, v.Cells, v.Sampled, v.Params, v.TargetType = md.Rows, md.Cells, md.Sampled, md.Params, md.TargetType
	opt := automl.Options{Auto: md.Auto, ModelType: md.ModelType, Problem: model.Problem(md.ProblemType),
		Objective: md.Objective, Hyperparameters: md.Hyperparameters, Algorithms: md.Algorithms, Seed: v.Seed}
	if md.Problem, _, err = automl.Prepare(ds, opt); err != nil {
		return err
	}
	v.Problem = md.Problem
	if err := m.register(ctx, md); err != nil {
		return err
	}
	// The model is stored in a transaction of its own, not the creating
	// statement's: the job's later write of the result must not race
	// that statement's commit.
	if err := m.persist(md); err != nil {
		m.unregister(md)
		return err
	}
	if err := m.persistVersion(md, v); err != nil {
		m.unregister(md)
		return err
	}
	m.mu.Lock()
	md.versions = map[int]*Version{1: v}
	m.mu.Unlock()
	keep()
	m.startJob(md, func(ctx context.Context) { m.train(ctx, md, ds, opt) })
	return nil
}

// newModel is the model a CREATE statement of the session's user starts.
func newModel(ctx *sql.Context, spec *Spec, owner string) *Model {
	cl := ctx.Session.Client()
	return &Model{Spec: *spec, Owner: owner, State: Training, Created: time.Now().UTC(),
		MaxRuntime: DefaultMaxRuntime, MaxCells: DefaultMaxCells, user: cl.User, host: cl.Address}
}

// reserve claims md's name while its data is read (ErrExists when taken);
// the returned release gives the name up again unless keep was called,
// and is meant to be deferred.
func (m *Manager) reserve(md *Model) (keep func(), release func(), err error) {
	m.mu.Lock()
	if _, ok := m.models[md.key()]; ok {
		m.mu.Unlock()
		return nil, nil, fmt.Errorf("model %s.%s: %w", md.DB, md.Name, ErrExists)
	}
	m.models[md.key()] = md
	m.mu.Unlock()
	kept := false
	return func() { kept = true }, func() {
		if !kept {
			m.mu.Lock()
			delete(m.models, md.key())
			m.mu.Unlock()
		}
	}, nil
}

// startJob runs train as md's background training job, bounded by its
// MAX_RUNTIME and by the server's life.
func (m *Manager) startJob(md *Model, train func(ctx context.Context)) {
	md.progress.Store("queued")
	jobCtx, cancel := context.WithTimeout(m.ctx, time.Duration(md.MaxRuntime)*time.Second)
	md.cancel, md.done = cancel, make(chan struct{})
	m.jobs.Add(1)
	go train(jobCtx)
}

// firstVersionOf starts version 1 of a model being created.
func (m *Manager) firstVersionOf(ctx *sql.Context, md *Model) *Version {
	cl := ctx.Session.Client()
	v := &Version{Number: 1, State: Training, Query: md.trainingQuery(), QueryDB: ctx.GetCurrentDatabase(), Seed: 42,
		Auto: md.Auto, ModelType: md.ModelType, Objective: md.Objective, Hyperparameters: md.Hyperparameters,
		Settings: md.Settings, CreatedBy: cl.User + "@" + cl.Address, Created: md.Created, ModelCreated: md.Created}
	m.mu.Lock()
	md.LastVersion = 1
	m.mu.Unlock()
	return v
}

// applySettings reads SETTINGS (MAX_RUNTIME, MAX_CELLS); the AWS-only
// ones (S3_BUCKET, KMS_KEY_ID, S3_GARBAGE_COLLECT) are recorded and
// ignored.
func (md *Model) applySettings() error {
	for k, v := range md.Settings {
		switch k {
		case "max_runtime":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("%w: MAX_RUNTIME '%s' must be a positive number of seconds", automl.ErrBadSetting, v)
			}
			md.MaxRuntime = n
		case "max_cells":
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("%w: MAX_CELLS '%s' must be a positive integer", automl.ErrBadSetting, v)
			}
			md.MaxCells = n
		case "deploy_policy":
			switch strings.ToLower(v) {
			case PolicyBestScore, PolicyMostRecent, PolicyManual:
			default:
				return fmt.Errorf("%w: DEPLOY_POLICY '%s' (use best_score, most_recent or manual)", automl.ErrBadSetting, v)
			}
		case "s3_bucket", "kms_key_id", "s3_garbage_collect":
			md.Ignored = append(md.Ignored, strings.ToUpper(k))
		default:
			return fmt.Errorf("%w: unknown setting '%s' (use MAX_RUNTIME, MAX_CELLS, DEPLOY_POLICY, S3_BUCKET, KMS_KEY_ID, S3_GARBAGE_COLLECT)", automl.ErrBadSetting, strings.ToUpper(k))
		}
	}
	return nil
}

// readTrainingData runs the FROM query and keeps at most MAX_CELLS cells,
// sampling rows uniformly (reservoir sampling) from larger results.
func (m *Manager) readTrainingData(ctx *sql.Context, md *Model) (*automl.Dataset, error) {
	schema, iter, err := m.Query(ctx, md.trainingQuery())
	if err != nil {
		return nil, err
	}
	defer iter.Close(ctx)
	unsupervised := md.Target == ""
	target := -1
	for i, c := range schema {
		if !unsupervised && strings.EqualFold(c.Name, md.Target) {
			target = i
		}
	}
	if !unsupervised && target < 0 {
		return nil, sql.ErrColumnNotFound.New(md.Target)
	}
	ds := &automl.Dataset{TargetName: md.Target}
	var featureIdx []int
	for i, c := range schema {
		if i == target {
			md.TargetType = c.Type.String()
			ds.TargetNumeric = types.IsNumber(c.Type)
			continue
		}
		featureIdx = append(featureIdx, i)
		ds.Features = append(ds.Features, model.Feature{Name: c.Name, Type: c.Type.String(), Kind: kindOf(c.Type)})
		md.Params = append(md.Params, mlfunc.Param{Name: c.Name, Type: c.Type.String()})
	}
	maxRows := md.MaxCells / len(schema)
	if maxRows < 1 {
		maxRows = 1
	}
	res := sample.NewReservoir(maxRows, 42)
	seen := 0
	var read atomic.Int64
	end := progress.Begin(ctx, func() progress.Report {
		return progress.Report{Name: "reading training data", Done: read.Load(), Unit: "rows", Stage: 1, MaxStage: trainingStages}
	})
	defer end()
	for {
		row, err := iter.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		seen++
		read.Store(int64(seen))
		slot, keep := res.Next()
		if !keep {
			continue
		}
		feats := make([]any, len(featureIdx))
		for k, i := range featureIdx {
			feats[k] = plain(ctx, row[i])
		}
		var y any
		if target >= 0 {
			y = plain(ctx, row[target])
		}
		if slot == len(ds.Rows) {
			ds.Rows = append(ds.Rows, feats)
			if target >= 0 {
				ds.Target = append(ds.Target, y)
			}
		} else {
			ds.Rows[slot] = feats
			if target >= 0 {
				ds.Target[slot] = y
			}
		}
	}
	md.Rows, md.Cells, md.Sampled = len(ds.Rows), len(ds.Rows)*len(schema), seen > len(ds.Rows)
	return ds, nil
}

// plain unwraps lazily loaded values (TEXT, JSON) into Go values.
func plain(ctx *sql.Context, v any) any {
	if u, err := sql.UnwrapAny(ctx, v); err == nil {
		return u
	}
	return v
}

// kindOf decides how a column of type t is encoded.
func kindOf(t sql.Type) model.Kind {
	switch {
	case types.IsNumber(t):
		return model.Numeric
	case types.IsTime(t) || types.IsDateType(t) || types.IsDatetimeType(t) || types.IsTimestampType(t):
		return model.Temporal
	}
	return model.Categorical
}

// train is a training job.
// trainAndCompile trains and compiles the model. A panic fails the job
// with a short reason; its stack goes to the server log.
func (m *Manager) trainAndCompile(ctx context.Context, md *Model, ds *automl.Dataset, opt automl.Options) (art *model.Artifact, rep *automl.Report, pred *model.Predictor, err error) {
	defer func() {
		if r := recover(); r != nil {
			p := recovered.New(r)
			if m.Log != nil {
				m.Log.Errorf("training %s: %s", md.key(), p)
			}
			err = fmt.Errorf("training failed: internal error: %v", r)
		}
	}()
	art, rep, err = automl.Train(ctx, ds, opt)
	if err == nil {
		pred, err = art.Compile()
	}
	return art, rep, pred, err
}

func (m *Manager) train(ctx context.Context, md *Model, ds *automl.Dataset, opt automl.Options) {
	defer m.jobs.Done()
	defer listJob(md, "CREATE MODEL "+md.key(), md.TrainingProgress)()
	defer close(md.done)
	defer md.cancel()
	start := time.Now()
	opt.Progress = func(f float64, stage string) {
		md.progress.Store(fmt.Sprintf("%.0f%% %s", f*100, stage))
	}
	opt.Step = func(done, total int, refit bool) {
		r := stepReport(done, total, refit)
		md.steps.Store(&r)
	}
	art, rep, pred, err := m.trainAndCompile(ctx, md, ds, opt)
	var base *driftBaseline
	if err == nil {
		base = m.newDriftBaseline(md, ds, art, pred)
	}
	if errors.Is(err, context.Canceled) && m.ctx.Err() == nil {
		// DROP MODEL cancelled the job; the model is gone.
		return
	}
	// The score on the comparison rows later versions are scored on;
	// read back AS OF this version's commits they are these same rows.
	var score *float64
	var scoreRows int
	var higher bool
	if err == nil && (md.Problem.Classification() || md.Problem == model.Regression) {
		if s, h, n, serr := automl.CompareScore(art, comparisonSubset(ds), rep.Objective); serr == nil && !math.IsNaN(s) && !math.IsInf(s, 0) {
			score, scoreRows, higher = &s, n, h
		}
	}
	m.mu.Lock()
	md.Finished = time.Now().UTC()
	if err != nil {
		md.State = Failed
		md.Reason = err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			md.Reason = fmt.Sprintf("training did not finish within MAX_RUNTIME (%d s)", md.MaxRuntime)
		}
		if m.ctx.Err() != nil {
			md.Reason = "the server shut down during training"
		}
	} else {
		md.State, md.Artifact, md.Report, md.predictor = Ready, art, rep, pred
		base.track() // before anyone sees READY
	}
	v := md.versions[1]
	if v != nil {
		v.State, v.Reason, v.Finished = md.State, md.Reason, md.Finished
		if md.State == Ready {
			v.Artifact, v.Report, v.predictor, v.ArtifactSHA256 = art, rep, pred, artifactHash(art)
			v.CompareScore, v.CompareRows, v.CompareHigher = score, scoreRows, higher
			md.Version = 1
		}
	}
	md.progress.Store(fmt.Sprintf("finished in %.1f s", time.Since(start).Seconds()))
	_, live := m.models[md.key()]
	outcome := "OK"
	if md.State == Failed {
		outcome = md.Reason
	}
	m.mu.Unlock()
	if m.Audit != nil {
		m.Audit(mlfunc.AuditRecord{Time: md.Created, User: md.user, Host: md.host, Function: "CREATE MODEL " + md.key(),
			Endpoint: "in-process training", Rows: int64(md.Rows), Requests: 1, Duration: time.Since(start), Outcome: outcome})
	}
	if !live {
		base.untrack()
		return
	}
	if v != nil {
		if err := m.persistVersion(md, v); err != nil {
			m.Log.WithError(err).Errorf("model %s: storing version 1", md.key())
		}
	}
	m.mu.RLock()
	err = m.persist(md)
	ready := md.State == Ready
	m.mu.RUnlock()
	if err != nil {
		m.Log.WithError(err).Errorf("model %s: storing the training result", md.key())
	}
	if ready {
		m.writeArtifact(md)
		base.store()
	}
}

// writeArtifact copies a ready model to ArtifactDir for serve-model. It
// reads the model under m.mu (a deployment may switch its artifact at any
// time) and must be called without it.
func (m *Manager) writeArtifact(md *Model) {
	if m.ArtifactDir == "" {
		return
	}
	m.artifactMu.Lock()
	defer m.artifactMu.Unlock()
	m.mu.RLock()
	data, err := ServedModel(md)
	path := m.artifactPath(md)
	m.mu.RUnlock()
	if err == nil {
		if err = os.MkdirAll(m.ArtifactDir, 0o700); err == nil {
			tmp := path + ".tmp"
			if err = os.WriteFile(tmp, data, 0o600); err == nil {
				err = os.Rename(tmp, path)
			}
		}
	}
	if err != nil {
		m.Log.WithError(err).Warnf("model %s: writing the serve-model copy", md.key())
	}
}
