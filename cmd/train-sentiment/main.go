// Command train-sentiment trains the local sentiment model embedded in
// internal/ml/nlp/sentiment (aws_comprehend_detect_sentiment).
//
//	go run -tags gms_pure_go ./cmd/train-sentiment --out internal/ml/nlp/sentiment/model.bin.gz
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
// stage-1 scores and the hashed MIXED margin, fitted on MAMS-ATSA val
// (has_pos_and_neg) plus SST-2 dev and TweetEval val as non-mixed texts; its
// bias offset is then chosen on the same dev pool (highest MAMS val recall
// with weighted precision >= --min-mixed-precision). No test split is read.
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
	minPrec     float64
	mixL2       float64
	quantClip   float64
	neutralPush float64
	wMixed      float64
	fpWeight    float64
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
	flag.Float64Var(&o.minPrec, "min-mixed-precision", 0.7, "minimum weighted dev-pool MIXED precision when choosing the MIXED bias")
	flag.Float64Var(&o.fpWeight, "mixed-fp-weight", 6, "weight of MIXED false positives on ordinary (non-MAMS) dev texts")
	flag.Float64Var(&o.mixL2, "mix-l2", 1e-3, "L2 of the stage-2 MIXED regression")
	flag.Float64Var(&o.quantClip, "quant-clip", 0.9999, "quantile of |w| mapped to int8 127 (larger weights are clipped)")
	flag.Float64Var(&o.neutralPush, "neutral-push", 0, "weight of the full 3-class loss (vs the NEG/POS-only loss) on binary sources")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "train-sentiment:", err)
		os.Exit(1)
	}
}

type sample struct {
	keys  []uint32
	dense [sentiment.NumDense]float32
	y     int
	w     float32
	bin   bool // from a binary (pos/neg only) source
}

func featurize(exs []sentdata.Example, bits int, w func(sentdata.Example) float64) []sample {
	return featurizeB(exs, bits, w, false)
}

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
				sentiment.Extract(exs[i].Text, &f)
				s := sample{y: exs[i].Label, w: float32(w(exs[i])), bin: bin}
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
	glue := must(sentdata.SST2(dir, "glue_SST-2_train.tsv"))
	tweets := must(sentdata.Tweets(dir, "sentiment_semeval2017_4a_tweets/train.tsv"))
	imdb := must(sentdata.IMDb(dir, "train"))
	mamsTrain := must(sentdata.MAMS(dir, "ATSA", "train"))
	sstDev := must(sentdata.SST2(dir, "sst2_dev.tsv"))
	twVal := must(sentdata.Tweets(dir, "sentiment_tweeteval/val.tsv"))
	mamsVal := must(sentdata.MAMS(dir, "ATSA", "val"))

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
	train = append(train, featurizeB(glue, o.bits, func(sentdata.Example) float64 { return o.wGlue }, true)...)
	train = append(train, featurize(tweets, o.bits, twW)...)
	train = append(train, featurizeB(imdb, o.bits, func(sentdata.Example) float64 { return o.wIMDb }, true)...)
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
	devSST := featurize(sstDev, o.bits, func(sentdata.Example) float64 { return 1 })
	devTw := featurize(twVal, o.bits, func(sentdata.Example) float64 { return 1 })
	fmt.Printf("stage 1: %d training texts (glue %d, tweets %d, imdb %d), featurised in %s\n",
		len(train), len(glue), len(tweets), len(imdb), time.Since(start).Round(time.Millisecond))

	m := &stage1{bits: o.bits, W: make([]float32, K<<o.bits), G: make([]float32, K<<o.bits)}
	rng := rand.New(rand.NewSource(o.seed))
	for ep := 0; ep < o.epochs; ep++ {
		perm := rng.Perm(len(train))
		for _, i := range perm {
			m.step(&train[i], float32(o.lr), o.neutralPush)
		}
		fmt.Printf("  epoch %d: SST-2 dev acc %.4f  TweetEval val macro-F1 %.4f  (%s)\n", ep+1,
			binAcc(m, devSST), macroF1(m, devTw), time.Since(start).Round(time.Millisecond))
	}

	// Quantise to int8 per class.
	p := &sentiment.Params{Bits: o.bits, Temp: 1, MixB: -30, Bias: m.B, Dense: m.D}
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
		return err
	}

	// Temperature on SST-2 dev + TweetEval val.
	var calTexts []sentdata.Example
	calTexts = append(calTexts, sstDev...)
	calTexts = append(calTexts, twVal...)
	logits := make([][3]float64, len(calTexts))
	for i, e := range calTexts {
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
			s -= math.Log(math.Max(softmax(zz)[calTexts[i].Label], 1e-12))
		}
		return s / float64(len(logits))
	}
	temp := goldenMin(nll, 0.2, 5)
	fmt.Printf("temperature %.4f (dev NLL %.4f -> %.4f)\n", temp, nll(1), nll(temp))
	p.Temp = float32(temp)
	model = must(sentiment.New(p))

	// Stage 2: MIXED, fitted on MAMS-ATSA val + SST-2 dev + TweetEval val
	// (stage 1 saw MAMS train, so its MIXED logit is optimistic there).
	type mixEx struct {
		x [sentiment.NumMix]float64
		y float64
	}
	var mix []mixEx
	for _, e := range mamsVal {
		a := model.Analyze(e.Text)
		y := 0.0
		if e.HasPosAndNeg {
			y = 1
		}
		mix = append(mix, mixEx{a.Mix, y})
	}
	for _, e := range calTexts {
		mix = append(mix, mixEx{model.Analyze(e.Text).Mix, 0})
	}
	var wv [sentiment.NumMix]float64
	bv := 0.0
	{
		// full-batch Adam on the logistic loss
		var mw, vw [sentiment.NumMix + 1]float64
		const lr, b1, b2 = 0.05, 0.9, 0.999
		for it := 1; it <= 3000; it++ {
			var g [sentiment.NumMix + 1]float64
			for _, ex := range mix {
				z := bv
				for k, v := range ex.x {
					z += wv[k] * v
				}
				d := 1/(1+math.Exp(-z)) - ex.y
				for k, v := range ex.x {
					g[k] += d * v
				}
				g[sentiment.NumMix] += d
			}
			for k := range g {
				g[k] /= float64(len(mix))
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
	}
	for k := range wv {
		p.MixW[k] = float32(wv[k])
	}
	p.MixB = float32(bv)
	fmt.Printf("stage 2 MIXED weights %.3f bias %.3f\n", wv, bv)

	// MIXED threshold: the bias offset with the highest MAMS-ATSA val recall
	// whose weighted dev-pool precision TP/(TP + FP_mams + fpWeight*FP_other)
	// reaches --min-mixed-precision. Ordinary (non-MAMS) dev texts are
	// up-weighted because an evaluation pool holds far more of them.
	type mixScore struct {
		m      float64 // P(MIXED) before the offset, as a logit
		mixed  bool
		isMAMS bool
	}
	var scores []mixScore
	model = must(sentiment.New(p))
	for _, e := range mamsVal {
		a := model.Analyze(e.Text)
		scores = append(scores, mixScore{mixMargin(a), e.HasPosAndNeg, true})
	}
	for _, e := range calTexts {
		a := model.Analyze(e.Text)
		scores = append(scores, mixScore{mixMargin(a), false, false})
	}
	bestD, bestRec := 0.0, -1.0
	for d := -2.0; d <= 2.0001; d += 0.05 {
		tp, fpM, fpO, pos := 0, 0, 0, 0
		for _, s := range scores {
			pred := s.m+d > 0
			if s.mixed {
				pos++
				if pred {
					tp++
				}
			} else if pred {
				if s.isMAMS {
					fpM++
				} else {
					fpO++
				}
			}
		}
		prec := float64(tp) / math.Max(1, float64(tp+fpM)+o.fpWeight*float64(fpO))
		rec := float64(tp) / float64(pos)
		if prec >= o.minPrec && rec > bestRec {
			bestD, bestRec = d, rec
		}
		if math.Abs(d-math.Round(d*2)/2) < 1e-9 {
			fmt.Printf("  MIXED offset %+.2f: MAMS val recall %.3f (%d/%d), FP MAMS %d, FP other %d, weighted precision %.3f\n", d, rec, tp, pos, fpM, fpO, prec)
		}
	}
	fmt.Printf("MIXED bias offset %+.2f (val recall %.3f)\n", bestD, bestRec)
	p.MixB += float32(bestD)

	// Dev report with the final model, through the encoded bytes.
	var buf bytes.Buffer
	if err := p.Encode(&buf); err != nil {
		return err
	}
	final, err := sentiment.Load(bytes.NewReader(buf.Bytes()))
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

// mixMargin is the stage-2 MIXED logit minus the logit at which MIXED
// becomes the arg-max label.
func mixMargin(a sentiment.Analysis) float64 {
	sc := a.Result.Scores
	m := sc.Mixed
	rest := 1 - m
	if rest <= 0 {
		return 50
	}
	pmax := math.Max(sc.Positive, math.Max(sc.Negative, sc.Neutral)) / rest
	// MIXED wins iff m > (1-m)*pmax iff logit(m) > log(pmax)
	return math.Log(m/rest) - math.Log(pmax)
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
