package heatwave

import (
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
)

// trainRecommend is ML_TRAIN's 'recommendation' task: users and items
// name the columns, the target holds ratings (feedback 'explicit', the
// default) or interaction strengths (feedback 'implicit').
func (r *Routines) trainRecommend(ctx *sql.Context, db, table, target string, opts map[string]any, handleVar string) error {
	rs := &models.RecommendSpec{Feedback: "explicit"}
	for k, v := range opts {
		switch k {
		case "task":
		case "users":
			rs.UserColumn, _ = v.(string)
		case "items":
			rs.ItemColumn, _ = v.(string)
		case "feedback":
			f, _ := v.(string)
			f = strings.ToLower(f)
			if f != "explicit" && f != "implicit" {
				return mlError("feedback must be 'explicit' or 'implicit', got %v", v)
			}
			rs.Feedback = f
		case "model_list", "exclude_model_list", "optimization_metric", "notes", "feedback_threshold":
			ctx.Warn(mysql.ERUnknownError, "ML_TRAIN option %s is accepted and ignored for recommendation (SibylDB trains implicit ALS)", k)
		default:
			return mlError("Invalid option '%s' for ML_TRAIN with the recommendation task", k)
		}
	}
	if rs.UserColumn == "" || rs.ItemColumn == "" {
		return mlError("The recommendation task needs the 'users' and 'items' options.")
	}
	cols, err := r.columns(ctx, db, table)
	if err != nil {
		return err
	}
	sel := []string{quoteIdent(rs.UserColumn), quoteIdent(rs.ItemColumn)}
	need := []string{rs.UserColumn, rs.ItemColumn}
	if target != "" {
		sel, need = append(sel, quoteIdent(target)), append(need, target)
	}
	for _, c := range need {
		if !containsFold(cols, c) {
			return mlError("ML003018: The column '%s' does not exist in table %s.%s.", c, db, table)
		}
	}
	spec := &models.Spec{Target: target, Recommend: rs,
		FromQuery: "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(db) + "." + quoteIdent(table)}
	return r.trainModel(ctx, spec, db, table, "recommendation", handleVar, r.Models.CreateRecommend)
}

// recOptions are ML_PREDICT_ROW/TABLE's recommendation options.
type recOptions struct {
	recommend  string // "ratings", "items" or "users"
	topk       int
	removeSeen bool
}

func recommendOptions(opts map[string]any) (recOptions, error) {
	ro := recOptions{recommend: "ratings", topk: 3, removeSeen: true}
	for k, v := range opts {
		switch k {
		case "recommend":
			if v == nil {
				continue
			}
			s, _ := v.(string)
			switch s = strings.ToLower(s); s {
			case "ratings", "items", "users":
				ro.recommend = s
			default:
				return ro, mlError("recommend must be 'ratings', 'items' or 'users' (SibylDB), got %v", v)
			}
		case "topk":
			f, ok := model.Float(v)
			if !ok || f < 1 || f != float64(int(f)) {
				return ro, mlError("topk must be a positive integer, got %v", v)
			}
			ro.topk = int(f)
		case "remove_seen":
			switch strings.ToLower(strings.Trim(sprint(v), "\"")) {
			case "true", "1":
				ro.removeSeen = true
			case "false", "0":
				ro.removeSeen = false
			default:
				return ro, mlError("remove_seen must be 'true' or 'false', got %v", v)
			}
		case "additional_details", "threshold":
		default:
			return ro, mlError("Invalid option '%s' for a recommendation model", k)
		}
	}
	return ro, nil
}

// recommendRow predicts one row: the rating of (user, item), or the
// top-k items for the user, or the top-k users for the item.
func recommendRow(md *models.Model, rec *models.Recommender, ro recOptions, get func(string) any) (any, map[string]any) {
	rs := md.Recommend
	rating := md.Target
	if rating == "" {
		rating = "rating"
	}
	switch ro.recommend {
	case "items":
		ids, scores, ok := rec.TopItems(get(rs.UserColumn), ro.topk, ro.removeSeen)
		if !ok {
			return nil, map[string]any{"predictions": map[string]any{rs.ItemColumn: nil}}
		}
		return strings.Join(ids, ","), map[string]any{"predictions": map[string]any{rs.ItemColumn: anyStrings(ids), rating: anyFloats(scores)}}
	case "users":
		ids, scores, ok := rec.TopUsers(get(rs.ItemColumn), ro.topk, ro.removeSeen)
		if !ok {
			return nil, map[string]any{"predictions": map[string]any{rs.UserColumn: nil}}
		}
		return strings.Join(ids, ","), map[string]any{"predictions": map[string]any{rs.UserColumn: anyStrings(ids), rating: anyFloats(scores)}}
	}
	s, ok := rec.Score(get(rs.UserColumn), get(rs.ItemColumn))
	if !ok {
		return nil, map[string]any{"predictions": map[string]any{rating: nil}}
	}
	return s, map[string]any{"predictions": map[string]any{rating: s}}
}

func anyStrings(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func anyFloats(xs []float64) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func lookupFold(doc map[string]any, name string) any {
	if v, ok := doc[name]; ok {
		return v
	}
	for k, v := range doc {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// recommendScorer is ML_PREDICT_TABLE's scorer for a recommendation
// model. Prediction is the rating (recommend 'ratings') or the
// comma-separated top-k ids; ml_results has the lists.
func (r *Routines) recommendScorer(ctx *sql.Context, md *models.Model, schema sql.Schema, opts map[string]any) (func([]sql.Row) ([]any, []map[string]any, error), error) {
	rec, err := r.Models.Recommender(ctx, md)
	if err != nil {
		return nil, modelError(err)
	}
	ro, err := recommendOptions(opts)
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, c := range schema {
		col[strings.ToLower(c.Name)] = i
	}
	return func(batch []sql.Row) ([]any, []map[string]any, error) {
		preds := make([]any, len(batch))
		mls := make([]map[string]any, len(batch))
		for k, row := range batch {
			get := func(name string) any {
				i, ok := col[strings.ToLower(name)]
				if !ok {
					return nil
				}
				v, _ := sql.UnwrapAny(ctx, row[i])
				return v
			}
			preds[k], mls[k] = recommendRow(md, rec, ro, get)
		}
		return preds, mls, nil
	}, nil
}
