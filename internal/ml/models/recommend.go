package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/sibyldb/sibyldb/internal/ml/mlfunc"
	"github.com/sibyldb/sibyldb/internal/ml/model"
	"github.com/sibyldb/sibyldb/internal/ml/recommend"
)

// RecommendSpec describes a recommendation model's data (HeatWave's
// 'recommendation' task): the user and item columns and the feedback
// kind; the target holds ratings (explicit) or interaction strengths
// (implicit; NULL counts as 1).
type RecommendSpec struct {
	UserColumn string `json:"users"`
	ItemColumn string `json:"items"`
	Feedback   string `json:"feedback"` // "explicit" or "implicit"
}

// Recommender is a trained recommendation model: ALS factors, the ids
// they index and what each user has already seen.
type Recommender struct {
	Users []string         `json:"users"`
	Items []string         `json:"items"`
	ALS   *recommend.Model `json:"als"`
	// Seen lists each user's training items (sorted indexes).
	Seen [][]int `json:"seen"`

	once             sync.Once
	userIdx, itemIdx map[string]int
}

// index builds the id maps of a recommender loaded from the catalog.
func (r *Recommender) index() {
	r.userIdx = make(map[string]int, len(r.Users))
	for i, u := range r.Users {
		r.userIdx[u] = i
	}
	r.itemIdx = make(map[string]int, len(r.Items))
	for i, it := range r.Items {
		r.itemIdx[it] = i
	}
}

// Score is the model's score of user for item (ok false for a user or
// item it never saw).
func (r *Recommender) Score(user, item any) (float64, bool) {
	u, ok1 := r.userIdx[model.Label(user)]
	i, ok2 := r.itemIdx[model.Label(item)]
	if !ok1 || !ok2 {
		return 0, false
	}
	return r.ALS.Score(u, i), true
}

func (r *Recommender) seen(u, i int) bool {
	s := r.Seen[u]
	k := sort.SearchInts(s, i)
	return k < len(s) && s[k] == i
}

// TopItems recommends k items to user, best first, optionally without
// the items the user rated in training.
func (r *Recommender) TopItems(user any, k int, removeSeen bool) ([]string, []float64, bool) {
	u, ok := r.userIdx[model.Label(user)]
	if !ok {
		return nil, nil, false
	}
	var skip func(int) bool
	if removeSeen {
		skip = func(i int) bool { return r.seen(u, i) }
	}
	top := r.ALS.TopItems(u, k, skip)
	ids, scores := make([]string, len(top)), make([]float64, len(top))
	for n, s := range top {
		ids[n], scores[n] = r.Items[s.Index], s.Score
	}
	return ids, scores, true
}

// TopUsers recommends item to k users, best first.
func (r *Recommender) TopUsers(item any, k int, removeSeen bool) ([]string, []float64, bool) {
	i, ok := r.itemIdx[model.Label(item)]
	if !ok {
		return nil, nil, false
	}
	var skip func(int) bool
	if removeSeen {
		skip = func(u int) bool { return r.seen(u, i) }
	}
	top := r.ALS.TopUsers(i, k, skip)
	ids, scores := make([]string, len(top)), make([]float64, len(top))
	for n, s := range top {
		ids[n], scores[n] = r.Users[s.Index], s.Score
	}
	return ids, scores, true
}

// IsRecommender reports whether md is a recommendation model.
func (md *Model) IsRecommender() bool { return md.Recommend != nil }

// CreateRecommend starts training a recommendation model: it reads the
// interactions in the creating session and trains ALS in the background.
func (m *Manager) CreateRecommend(ctx *sql.Context, spec *Spec, owner string) error {
	md := newModel(ctx, spec, owner)
	md.Problem = model.Regression
	keep, release, err := m.reserve(md)
	if err != nil {
		return err
	}
	defer release()
	rec, data, err := m.readInteractions(ctx, md)
	if err != nil {
		return err
	}
	if err := m.register(ctx, md); err != nil {
		return err
	}
	if err := m.persist(md); err != nil {
		m.unregister(md)
		return err
	}
	keep()
	m.startJob(md, func(ctx context.Context) { m.trainRecommend(ctx, md, rec, data) })
	return nil
}

// ErrBadRecommend reports unusable recommendation data.
var ErrBadRecommend = errors.New("invalid recommendation data")

func (m *Manager) readInteractions(ctx *sql.Context, md *Model) (*Recommender, []recommend.Interaction, error) {
	schema, iter, err := m.Query(ctx, md.FromQuery)
	if err != nil {
		return nil, nil, err
	}
	defer iter.Close(ctx)
	col := func(name string) int {
		for i, c := range schema {
			if strings.EqualFold(c.Name, name) {
				return i
			}
		}
		return -1
	}
	rs := md.Recommend
	ui, ii, ri := col(rs.UserColumn), col(rs.ItemColumn), -1
	if ui < 0 {
		return nil, nil, sql.ErrColumnNotFound.New(rs.UserColumn)
	}
	if ii < 0 {
		return nil, nil, sql.ErrColumnNotFound.New(rs.ItemColumn)
	}
	if md.Target != "" {
		if ri = col(md.Target); ri < 0 {
			return nil, nil, sql.ErrColumnNotFound.New(md.Target)
		}
	}
	md.Params = []mlfunc.Param{{Name: schema[ui].Name, Type: schema[ui].Type.String()}, {Name: schema[ii].Name, Type: schema[ii].Type.String()}}
	rec := &Recommender{}
	ids := struct{ users, items map[string]int }{map[string]int{}, map[string]int{}}
	var data []recommend.Interaction
	for {
		row, err := iter.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		uv, iv := plain(ctx, row[ui]), plain(ctx, row[ii])
		if uv == nil || iv == nil {
			continue
		}
		r := 1.0
		if ri >= 0 {
			if v := plain(ctx, row[ri]); v != nil {
				f, ok := model.Float(v)
				if !ok {
					return nil, nil, fmt.Errorf("%w: rating %v of column '%s' is not a number", ErrBadRecommend, v, md.Target)
				}
				r = f
			}
		}
		u, i := model.Label(uv), model.Label(iv)
		un, ok := ids.users[u]
		if !ok {
			un = len(rec.Users)
			ids.users[u] = un
			rec.Users = append(rec.Users, u)
		}
		in, ok := ids.items[i]
		if !ok {
			in = len(rec.Items)
			ids.items[i] = in
			rec.Items = append(rec.Items, i)
		}
		data = append(data, recommend.Interaction{User: un, Item: in, Rating: r})
	}
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%w: the training table has no interactions", ErrBadRecommend)
	}
	md.Rows = len(data)
	return rec, data, nil
}

func (m *Manager) trainRecommend(ctx context.Context, md *Model, rec *Recommender, data []recommend.Interaction) {
	defer m.jobs.Done()
	defer listJob(md, "CREATE MODEL "+md.key(), md.progressText)()
	defer close(md.done)
	defer md.cancel()
	start := time.Now()
	md.progress.Store("training ALS")
	// Fewer factors than the default 64 for small catalogues: more would
	// only fit noise.
	k := min(64, max(4, min(len(rec.Users), len(rec.Items))/4))
	als, err := recommend.Train(ctx, len(rec.Users), len(rec.Items), data, recommend.Config{Factors: k, Lambda: 1, Seed: 1})
	if errors.Is(err, context.Canceled) && m.ctx.Err() == nil {
		return
	}
	if err == nil {
		rec.ALS = als
		rec.Seen = make([][]int, len(rec.Users))
		for _, d := range data {
			rec.Seen[d.User] = append(rec.Seen[d.User], d.Item)
		}
		for _, s := range rec.Seen {
			sort.Ints(s)
		}
	}
	m.finishJob(md, start, err, func() { md.Recommender = rec })
}

// Recommender returns a ready recommendation model after checking the
// session may use it.
func (m *Manager) Recommender(ctx *sql.Context, md *Model) (*Recommender, error) {
	m.mu.RLock()
	state, reason, rec := md.State, md.Reason, md.Recommender
	m.mu.RUnlock()
	if err := m.usable(ctx, md, state, reason); err != nil {
		return nil, err
	}
	rec.once.Do(rec.index)
	return rec, nil
}
