package heatwave

import (
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/models"
	"github.com/sibyldb/sibyldb/internal/ml/recommend"
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

// rankMetrics are ML_SCORE's metrics of a recommendation model: the
// ranking of each user's top-k recommended items (SibylDB trains
// implicit ALS, whose scores are preferences, not ratings).
var rankMetrics = map[string]func(recommend.RankScores) float64{
	"precision_at_k": func(s recommend.RankScores) float64 { return s.Precision },
	"recall_at_k":    func(s recommend.RankScores) float64 { return s.Recall },
	"hit_ratio_at_k": func(s recommend.RankScores) float64 { return s.Hit },
	"ndcg_at_k":      func(s recommend.RankScores) float64 { return s.NDCG },
}

// scoreRecommend is ML_SCORE of a recommendation model: the table's rows
// are each user's relevant items (those rated at least the 'threshold'
// option when it is given), and the metric is the mean over its users of
// the metric of their top-k recommendations ('topk', default 3; without
// the items they rated in training unless 'remove_seen' is false).
// Users the model never saw are left out, with a warning.
func (r *Routines) scoreRecommend(ctx *sql.Context, md *models.Model, db, table, target, metricName string, opts map[string]any, scoreVar string) error {
	metric, ok := rankMetrics[strings.ToLower(metricName)]
	if !ok {
		names := make([]string, 0, len(rankMetrics))
		for n := range rankMetrics {
			names = append(names, n)
		}
		slices.Sort(names)
		return mlError("Invalid metric '%s' for the recommendation task (supported: %s)", metricName, strings.Join(names, ", "))
	}
	threshold, hasThreshold := 0.0, false
	rest := map[string]any{}
	for k, v := range opts {
		if k != "threshold" {
			rest[k] = v
			continue
		}
		if threshold, hasThreshold = model.Float(v); !hasThreshold {
			return mlError("threshold must be a number, got %v", v)
		}
	}
	ro, err := recommendOptions(rest)
	if err != nil {
		return err
	}
	rec, err := r.Models.Recommender(ctx, md)
	if err != nil {
		return modelError(err)
	}
	if target == "" {
		target = md.Target
	}
	rs := md.Recommend
	cols := []string{rs.UserColumn, rs.ItemColumn}
	if hasThreshold {
		if target == "" {
			return mlError("ML_SCORE: the threshold option needs a target column of ratings")
		}
		cols = append(cols, target)
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = quoteIdent(c)
	}
	_, iter, _, err := r.Engine().Query(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM "+quoteIdent(db)+"."+quoteIdent(table))
	if err != nil {
		return err
	}
	defer iter.Close(ctx)
	relevant := map[string]map[string]bool{}
	for {
		row, err := iter.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		vals := make([]any, len(row))
		for i := range row {
			if vals[i], err = sql.UnwrapAny(ctx, row[i]); err != nil {
				return err
			}
		}
		if vals[0] == nil || vals[1] == nil {
			continue
		}
		if hasThreshold {
			if f, ok := model.Float(vals[2]); !ok || f < threshold {
				continue
			}
		}
		u := model.Label(vals[0])
		if relevant[u] == nil {
			relevant[u] = map[string]bool{}
		}
		relevant[u][model.Label(vals[1])] = true
	}
	sum, users, unknown := 0.0, 0, 0
	for u, items := range relevant {
		ids, _, ok := rec.TopItems(u, ro.topk, ro.removeSeen)
		if !ok {
			unknown++
			continue
		}
		sum += metric(recommend.Rank(ids, items, ro.topk))
		users++
	}
	if unknown > 0 {
		ctx.Warn(mysql.ERUnknownError, "ML_SCORE: %d users of %s.%s the model never saw are left out", unknown, db, table)
	}
	if users == 0 {
		return mlError("ML_SCORE: table %s.%s has no relevant item of a user the model knows", db, table)
	}
	return setVariable(ctx, scoreVar, sum/float64(users), types.Float64)
}
