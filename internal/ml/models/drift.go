package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"runtime"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/ml/automl"
	"github.com/sibyldb/sibyldb/internal/ml/drift"
	"github.com/sibyldb/sibyldb/internal/ml/model"
)

// kindDrift is the catalog kind of a trained artifact's drift baseline,
// named "<db>.<model>@<artifact id>".
const kindDrift = "model_drift"

// baselineRows bounds the training rows scored for the prediction's
// training distribution.
const baselineRows = 20000

// artifactIDs caches ArtifactID per artifact: hashing a model is not free
// and scoring asks once per batch. Weak keys let dropped models go; a
// cleanup removes their entries.
var artifactIDs sync.Map // weak.Pointer[model.Artifact] -> string

// ArtifactID identifies a trained artifact by content: the first 16 hex
// digits of the SHA-256 of its JSON form. Drift statistics are kept per
// artifact, so a model retrained (or rolled back) to another artifact
// starts from that artifact's own training distribution.
func ArtifactID(a *model.Artifact) string {
	wp := weak.Make(a)
	if id, ok := artifactIDs.Load(wp); ok {
		return id.(string)
	}
	b, err := json.Marshal(a)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	id := hex.EncodeToString(sum[:8])
	if _, loaded := artifactIDs.LoadOrStore(wp, id); !loaded {
		runtime.AddCleanup(a, func(k weak.Pointer[model.Artifact]) { artifactIDs.Delete(k) }, wp)
	}
	return id
}

// driftKey names the drift statistics of artifact a of model md.
func driftKey(md *Model, a *model.Artifact) string { return md.key() + "@" + ArtifactID(a) }

// driftBaseline is a freshly trained artifact's training distributions on
// their way to the monitor and the catalog. A nil one does nothing.
type driftBaseline struct {
	m   *Manager
	md  *Model
	key string
	b   *drift.Baseline
}

// newDriftBaseline computes the training distributions of a freshly
// trained model: its features over the training rows, its predictions over
// up to baselineRows of them.
func (m *Manager) newDriftBaseline(md *Model, ds *automl.Dataset, art *model.Artifact, pred *model.Predictor) *driftBaseline {
	if m.Drift == nil || art == nil || pred == nil || len(ds.Rows) == 0 {
		return nil
	}
	return &driftBaseline{m: m, md: md, key: driftKey(md, art), b: newBaseline(ds, pred)}
}

// track starts sampling scored rows against the baseline. It runs before
// the model is marked READY, so that no scored row goes uncounted.
func (d *driftBaseline) track() {
	if d != nil {
		d.m.Drift.Add(d.key, d.b)
	}
}

// untrack forgets the baseline of a model dropped while it trained.
func (d *driftBaseline) untrack() {
	if d != nil {
		d.m.Drift.Remove(d.key)
	}
}

// store persists the baseline, so drift survives restarts. Failures are
// logged: a model without a stored baseline works, and reports no drift
// after a restart.
func (d *driftBaseline) store() {
	if d == nil {
		return
	}
	def, err := json.Marshal(d.b)
	if err == nil {
		err = d.m.storeDrift(d.key, string(def))
	}
	if err != nil {
		d.m.Log.WithError(err).Warnf("model %s: storing the drift baseline", d.md.key())
	}
}

// newBaseline bins the training rows of ds and pred's predictions on them.
func newBaseline(ds *automl.Dataset, pred *model.Predictor) *drift.Baseline {
	b := &drift.Baseline{Rows: len(ds.Rows), Created: time.Now().UTC()}
	col := make([]any, len(ds.Rows))
	for f, feat := range ds.Features {
		for r, row := range ds.Rows {
			col[r] = row[f]
		}
		b.Features = append(b.Features, drift.Fit(feat.Name, drift.KindOf(feat.Kind), col))
	}
	rows := ds.Rows
	if len(rows) > baselineRows {
		rng := rand.New(rand.NewSource(42))
		idx := rng.Perm(len(rows))[:baselineRows]
		rows = make([][]any, len(idx))
		for k, i := range idx {
			rows[k] = ds.Rows[i]
		}
	}
	preds := make([]any, 0, len(rows))
	x := make([]float64, pred.Width())
	scores := make([]float64, pred.NumOutputs())
	for _, row := range rows {
		if v, err := result(pred, outPredict, row, x, scores); err == nil {
			preds = append(preds, v)
		}
	}
	p := drift.Fit("prediction", drift.PredictionKind(pred.Artifact.Problem), preds)
	b.Prediction = &p
	return b
}

// storeDrift writes a baseline in its own committed transaction, as the
// training result is.
func (m *Manager) storeDrift(key, def string) error {
	ctx, err := m.NewContext(context.Background())
	if err != nil {
		return err
	}
	defer sql.SessionEnd(ctx.Session)
	return m.catalog.PutCommitted(ctx, catalog.Object{Kind: kindDrift, Name: key, Definition: def})
}

// loadBaselines restores the stored baselines at start-up.
func (m *Manager) loadBaselines(ctx *sql.Context) error {
	if m.Drift == nil {
		return nil
	}
	objs, err := m.catalog.List(ctx, kindDrift)
	if err != nil {
		return err
	}
	for _, o := range objs {
		b := &drift.Baseline{}
		if err := json.Unmarshal([]byte(o.Definition), b); err != nil {
			m.Log.WithError(err).Errorf("drift baseline %s is unreadable; skipping it", o.Name)
			continue
		}
		m.Drift.Add(o.Name, b)
	}
	return nil
}

// dropBaselines removes a dropped model's baselines, in ctx's transaction.
func (m *Manager) dropBaselines(ctx *sql.Context, md *Model) error {
	if m.Drift == nil {
		return nil
	}
	objs, err := m.catalog.List(ctx, kindDrift)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if strings.HasPrefix(o.Name, md.key()+"@") {
			if _, err := m.catalog.Delete(ctx, kindDrift, o.Name); err != nil {
				return err
			}
			m.Drift.Remove(o.Name)
		}
	}
	return nil
}

// observe samples a batch scored by the prediction function into the
// artifact's drift counters.
func (m *Manager) observe(md *Model, p *model.Predictor, rows [][]any, preds []any) {
	if m.Drift == nil {
		return
	}
	if t, ok := m.Drift.Get(driftKey(md, p.Artifact)); ok {
		t.Observe(rows, preds)
	}
}

// DriftReport is the drift of the deployed artifact of md over the rows
// scored since the given time.
func (m *Manager) DriftReport(md *Model, since time.Time) (drift.Report, error) {
	p, err := m.predictor(md)
	if err != nil {
		return drift.Report{}, err
	}
	if m.Drift == nil {
		return drift.Report{}, fmt.Errorf("model '%s': drift monitoring is off", md.Name)
	}
	t, ok := m.Drift.Get(driftKey(md, p.Artifact))
	if !ok {
		return drift.Report{}, fmt.Errorf("model '%s' has no training distribution (only models trained by CREATE MODEL FROM a query or table record one)", md.Name)
	}
	t.Refresh(time.Now())
	return t.Report(since), nil
}
