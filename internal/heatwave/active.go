package heatwave

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/privilege"
)

// modelSize is a model's size in bytes: its trained state as stored.
func modelSize(md *models.Model) int {
	var v any
	switch {
	case md.Artifact != nil:
		v = md.Artifact
	case len(md.Series) > 0:
		v = md.Series
	case md.Recommender != nil:
		v = md.Recommender
	default:
		return 0
	}
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}

// taskOf is HeatWave's task name for a model.
func taskOf(md *models.Model) string {
	switch {
	case md.IsForecast():
		return "forecasting"
	case md.IsRecommender():
		return "recommendation"
	case md.Problem.Classification():
		return "classification"
	}
	return strings.ToLower(string(md.Problem))
}

// activeMetadata is a model's model_metadata as ML_MODEL_ACTIVE reports
// it for the current user.
func activeMetadata(md *models.Model, explainer string) map[string]any {
	cols := make([]string, len(md.Params))
	for i, p := range md.Params {
		cols[i] = p.Name
	}
	meta := map[string]any{
		"task": taskOf(md), "status": "Ready", "format": "SibylDB", "algorithm_name": heatwaveModelType(md),
		"column_names": cols, "n_columns": len(cols), "n_rows": md.Rows, "target_column_name": md.Target,
		"build_timestamp": md.Finished.Unix(), "model_size(byte)": modelSize(md), "sibyl_model": md.DB + "." + md.Name,
	}
	if md.Options != "" {
		var opts map[string]any
		if json.Unmarshal([]byte(md.Options), &opts) == nil {
			meta["options"] = opts
		}
	}
	if explainer != "" {
		opts, _ := meta["options"].(map[string]any)
		if opts == nil {
			opts = map[string]any{}
		}
		opts["prediction_explainer"] = explainer
		meta["options"] = opts
	}
	return meta
}

// active is CALL sys.ML_MODEL_ACTIVE(user, @model_info): the ready
// (always loaded) models of the current user, or with 'all' of every
// user whose model catalog the session may read, as HeatWave's JSON
// array: [{"total model size(bytes)": n}, {...}].
func (r *Routines) active(ctx *sql.Context, args []any, outVars []string) error {
	who, err := stringArg(args[0], "user")
	if err != nil {
		return err
	}
	who = strings.ToLower(strings.TrimSpace(who))
	if who != "" && who != "current" && who != "all" {
		return mlError("Invalid user '%s' for ML_MODEL_ACTIVE (use 'current', 'all' or NULL)", args[0])
	}
	me := ctx.Session.Client().User
	total := 0
	current := map[string]any{}
	byUser := map[string][]any{}
	for _, md := range r.Models.All() {
		if r.Models.State(md) != models.Ready {
			continue
		}
		owner := privilege.ParseAccount(md.Owner).User
		handle := models.HandleOf(md)
		if who == "all" {
			if owner != me && (r.Privileges == nil || !r.Privileges.HasOn(ctx, Schema(owner), sql.PrivilegeType_Select)) {
				continue
			}
			size := modelSize(md)
			total += size
			byUser[owner] = append(byUser[owner], map[string]any{handle: map[string]any{"format": "SibylDB", "model_size(byte)": size}})
			continue
		}
		if owner != me {
			continue
		}
		explainer := ""
		if st := r.Models.ExplainerState(md); st != nil {
			explainer = st.PredictionExplainer
		}
		meta := activeMetadata(md, explainer)
		total += meta["model_size(byte)"].(int)
		current[handle] = meta
	}
	second := current
	if who == "all" {
		second = map[string]any{}
		users := make([]string, 0, len(byUser))
		for u := range byUser {
			users = append(users, u)
		}
		sort.Strings(users)
		for _, u := range users {
			second[u] = byUser[u]
		}
	}
	doc := []any{map[string]any{"total model size(bytes)": total}, second}
	if _, err := json.Marshal(doc); err != nil {
		return fmt.Errorf("ML_MODEL_ACTIVE: %w", err)
	}
	return setVariable(ctx, outVars[1], types.JSONDocument{Val: doc}, types.JSON)
}
