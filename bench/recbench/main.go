// Command recbench measures SibylDB's recommender (implicit ALS) on
// MovieLens ml-latest-small with leave-last-out: for every user, the
// latest rating of at least 4 is held out and every item the user has not
// rated in training is ranked. It prints HR@10 and NDCG@10 for ALS and
// for the popularity baseline, and ALS's training time.
//
//	go run ./bench/recbench [-data .../ratings.csv]
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/sibyldb/sibyldb/internal/ml/recommend"
)

type rating struct {
	user, item int
	r          float64
	ts         int64
}

func main() {
	path := flag.String("data", "/work/shared/datasets/movielens_ml_latest_small/ratings.csv", "MovieLens ratings.csv")
	factors := flag.Int("factors", 64, "ALS factors")
	iters := flag.Int("iterations", 15, "ALS iterations")
	lambda := flag.Float64("lambda", 1, "ALS regularisation")
	alpha := flag.Float64("alpha", 2, "ALS confidence per rating unit")
	flag.Parse()
	data, users, items, err := load(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Hold out each user's latest rating >= 4 (ties: the larger item id).
	held := make([]int, users)
	heldTS := make([]int64, users)
	for u := range held {
		held[u] = -1
	}
	for _, d := range data {
		if d.r >= 4 && (d.ts > heldTS[d.user] || (d.ts == heldTS[d.user] && d.item > held[d.user]) || held[d.user] < 0) {
			held[d.user], heldTS[d.user] = d.item, d.ts
		}
	}
	seen := make([]map[int]bool, users)
	for u := range seen {
		seen[u] = map[int]bool{}
	}
	var train []recommend.Interaction
	pop := make([]float64, items)
	for _, d := range data {
		if held[d.user] == d.item {
			continue
		}
		train = append(train, recommend.Interaction{User: d.user, Item: d.item, Rating: d.r})
		seen[d.user][d.item] = true
		pop[d.item]++
	}
	start := time.Now()
	m, err := recommend.Train(context.Background(), users, items, train, recommend.Config{Factors: *factors, Iterations: *iters, Lambda: *lambda, Alpha: *alpha, Seed: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	took := time.Since(start)
	popRank := make([]recommend.Scored, items)
	for i := range popRank {
		popRank[i] = recommend.Scored{Index: i, Score: pop[i]}
	}
	sort.Slice(popRank, func(a, b int) bool {
		if popRank[a].Score != popRank[b].Score {
			return popRank[a].Score > popRank[b].Score
		}
		return popRank[a].Index < popRank[b].Index
	})
	var hrALS, ndcgALS, hrPop, ndcgPop, n float64
	for u := 0; u < users; u++ {
		if held[u] < 0 {
			continue
		}
		n++
		rel := map[int]bool{held[u]: true}
		var alsList, popList []int
		for _, s := range m.TopItems(u, 10, func(i int) bool { return seen[u][i] }) {
			alsList = append(alsList, s.Index)
		}
		for _, s := range popRank {
			if len(popList) == 10 {
				break
			}
			if !seen[u][s.Index] {
				popList = append(popList, s.Index)
			}
		}
		als, popular := recommend.Rank(alsList, rel, 10), recommend.Rank(popList, rel, 10)
		hrALS, ndcgALS = hrALS+als.Hit, ndcgALS+als.NDCG
		hrPop, ndcgPop = hrPop+popular.Hit, ndcgPop+popular.NDCG
	}
	fmt.Printf("MovieLens ml-latest-small: %d users, %d items, %d training ratings, %d held out (leave-last-out, rating >= 4)\n\n", users, items, len(train), int(n))
	fmt.Printf("%-12s %8s %9s\n", "model", "HR@10", "NDCG@10")
	fmt.Printf("%-12s %8.4f %9.4f\n", "popularity", hrPop/n, ndcgPop/n)
	fmt.Printf("%-12s %8.4f %9.4f   (%.2fx / %.2fx popularity; trained in %.1f s, %d factors, %d iterations)\n", "ALS", hrALS/n, ndcgALS/n,
		hrALS/hrPop, ndcgALS/ndcgPop, took.Seconds(), *factors, *iters)
}

func load(path string) ([]rating, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, 0, 0, err
	}
	uid, iid := map[string]int{}, map[string]int{}
	idx := func(m map[string]int, k string) int {
		if v, ok := m[k]; ok {
			return v
		}
		m[k] = len(m)
		return m[k]
	}
	var out []rating
	for _, r := range recs[1:] {
		v, err1 := strconv.ParseFloat(r[2], 64)
		ts, err2 := strconv.ParseInt(r[3], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, 0, 0, fmt.Errorf("%s: bad row %v", path, r)
		}
		out = append(out, rating{user: idx(uid, r[0]), item: idx(iid, r[1]), r: v, ts: ts})
	}
	return out, len(uid), len(iid), nil
}
