package heatwave

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/catalog"
	"github.com/sibyldb/sibyldb/internal/ml/forecast"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// catalogTable is HeatWave's model catalog, with its documented columns.
const catalogTable = "MODEL_CATALOG"

const catalogDDL = ` (
	model_id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
	model_handle VARCHAR(255) NOT NULL,
	model_object JSON NULL,
	model_owner VARCHAR(255) NOT NULL,
	build_timestamp INT UNSIGNED NOT NULL,
	target_column_name VARCHAR(255) NULL,
	train_table_name VARCHAR(255) NOT NULL,
	model_object_size INT UNSIGNED NOT NULL,
	model_type VARCHAR(255) NOT NULL,
	task VARCHAR(64) NOT NULL,
	column_names JSON NOT NULL,
	model_explanation JSON NULL,
	last_accessed TIMESTAMP NULL,
	model_metadata JSON NULL,
	notes TEXT NULL,
	UNIQUE KEY model_handle (model_handle)
)`

// catalogMu serialises the creation of catalog schemas.
var catalogMu sync.Mutex

// ensureCatalog creates ML_SCHEMA_<user> and its MODEL_CATALOG when
// missing, in an internal session (users need not hold CREATE), and gives
// the calling account SELECT on its catalog schema, as HeatWave makes the
// catalog accessible to its owning user.
func (r *Routines) ensureCatalog(ctx *sql.Context, schema string) error {
	catalogMu.Lock()
	defer catalogMu.Unlock()
	ictx, err := r.NewContext(ctx)
	if err != nil {
		return err
	}
	defer sql.SessionEnd(ictx.Session)
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS " + quoteIdent(schema),
		"CREATE TABLE IF NOT EXISTS " + quoteIdent(schema) + "." + catalogTable + catalogDDL,
	} {
		if err := catalog.Exec(ictx, r.Engine(), q); err != nil {
			return fmt.Errorf("model catalog %s: %w", schema, err)
		}
	}
	if r.Privileges != nil && !r.Privileges.HasOn(ctx, schema, sql.PrivilegeType_Select) {
		return r.Privileges.GrantSchema(ctx, schema, sql.PrivilegeType_Select)
	}
	return nil
}

// heatwaveModelType names the algorithm as HeatWave's model_type does.
func heatwaveModelType(md *models.Model) string {
	if md.IsForecast() && len(md.Series) > 0 {
		return md.Series[0].Model
	}
	if md.IsRecommender() {
		return "ALS"
	}
	if md.Artifact == nil {
		return ""
	}
	cls := md.Problem.Classification()
	switch md.Artifact.Algorithm {
	case model.XGBoost:
		if cls {
			return "XGBClassifier"
		}
		return "XGBRegressor"
	case model.LinearLearner:
		if cls {
			return "LogisticRegression"
		}
		return "LinearRegression"
	case model.MLP:
		if cls {
			return "MLPClassifier"
		}
		return "MLPRegressor"
	}
	return md.Artifact.Algorithm
}

// recordModel inserts the trained model's MODEL_CATALOG row.
func (r *Routines) recordModel(ctx *sql.Context, schema string, md *models.Model, trainTable, task string, took time.Duration) error {
	cols := make([]string, len(md.Params))
	for i, p := range md.Params {
		cols[i] = p.Name
	}
	colJSON, _ := json.Marshal(cols)
	size := 0
	if md.Artifact != nil {
		if b, err := json.Marshal(md.Artifact); err == nil {
			size = len(b)
		}
	}
	meta := map[string]any{
		"task": task, "status": "Ready", "algorithm_name": heatwaveModelType(md),
		"column_names": cols, "target_column_name": md.Target, "train_table_name": trainTable,
		"n_rows": md.Rows, "n_columns": len(cols), "training_time": took.Seconds(),
		"build_timestamp": md.Finished.Unix(), "model_handle": md.Handle,
		"sibyl_model": md.DB + "." + md.Name,
	}
	if md.Report != nil {
		meta["optimization_metric"] = strings.ToLower(md.Report.Objective)
		meta["train_score"] = md.Report.Score
	}
	if md.IsForecast() && md.Forecast != nil {
		metric := md.Forecast.Metric
		if metric == "" {
			metric = forecast.MetricMAE // the choice's default
		}
		meta["optimization_metric"] = metric
	}
	if md.Options != "" {
		var opts any
		if json.Unmarshal([]byte(md.Options), &opts) == nil {
			meta["options"] = opts
		}
	}
	var expl any
	if md.Artifact != nil && len(md.Artifact.Importance) > 0 {
		imp := map[string]float64{}
		for _, i := range md.Artifact.Importance {
			imp[i.Feature] = i.Value
		}
		expl = map[string]any{"permutation_importance": imp}
	}
	metaJSON, _ := json.Marshal(meta)
	explJSON, _ := json.Marshal(expl)
	notes := "NULL"
	if md.Options != "" {
		var o map[string]any
		if json.Unmarshal([]byte(md.Options), &o) == nil {
			if n, ok := o["notes"].(string); ok {
				notes = quoteString(n)
			}
		}
	}
	q := fmt.Sprintf("INSERT INTO %s.%s (model_handle, model_object, model_owner, build_timestamp, target_column_name, "+
		"train_table_name, model_object_size, model_type, task, column_names, model_explanation, model_metadata, notes) "+
		"VALUES (%s, NULL, %s, %d, %s, %s, %d, %s, %s, %s, %s, %s, %s)",
		quoteIdent(schema), catalogTable, quoteString(md.Handle), quoteString(ctx.Session.Client().User), md.Finished.Unix(),
		quoteString(md.Target), quoteString(trainTable), size, quoteString(heatwaveModelType(md)), quoteString(task),
		quoteString(string(colJSON)), quoteString(string(explJSON)), quoteString(string(metaJSON)), notes)
	ictx, err := r.NewContext(ctx)
	if err != nil {
		return err
	}
	defer sql.SessionEnd(ictx.Session)
	if err := catalog.Exec(ictx, r.Engine(), q); err != nil {
		return fmt.Errorf("model catalog %s: %w", schema, err)
	}
	return nil
}

// ForgetModel deletes a dropped model's row from its owner's
// MODEL_CATALOG, so the catalog lists only models that exist (a DROP MODEL
// of a model ML_TRAIN made). Models without a handle have no row. A
// failure is logged by the caller's server log only: the model is gone
// either way, and the row then names a handle nothing answers to.
func (r *Routines) ForgetModel(ctx *sql.Context, md *models.Model) {
	if md.Handle == "" {
		return
	}
	schema := Schema(privilege.ParseAccount(md.Owner).User)
	ictx, err := r.NewContext(ctx)
	if err != nil {
		return
	}
	defer sql.SessionEnd(ictx.Session)
	q := fmt.Sprintf("DELETE FROM %s.%s WHERE model_handle = %s", quoteIdent(schema), catalogTable, quoteString(md.Handle))
	if err := catalog.Exec(ictx, r.Engine(), q); err != nil {
		ctx.GetLogger().WithError(err).Warnf("model catalog %s: removing %s", schema, md.Handle)
	}
}
