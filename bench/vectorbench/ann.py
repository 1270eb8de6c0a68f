#!/usr/bin/env python3
"""hnswlib and FAISS HNSW over the same vectors vectorbench measures.

Usage: ann.py base.f32 queries.f32 truth.i32 dim M efC ef1,ef2,... threads [hnswlib,faiss]
Prints one JSON object per line: {"lib", "ef", "recall", "qps", "build_s"}.
Needs Debian's python3-hnswlib and python3-faiss (run with /usr/bin/python3).
"""
import json, os, sys, tempfile, time
import numpy as np

base_p, q_p, t_p, dim, M, efc, efs, threads = sys.argv[1:9]
libs = sys.argv[9].split(",") if len(sys.argv) > 9 else ["hnswlib", "faiss"]
dim, M, efc, threads = int(dim), int(M), int(efc), int(threads)
efs = [int(e) for e in efs.split(",")]
base = np.fromfile(base_p, dtype=np.float32).reshape(-1, dim)
qs = np.fromfile(q_p, dtype=np.float32).reshape(-1, dim)
truth = np.fromfile(t_p, dtype=np.int32).reshape(len(qs), -1)[:, :10]

def recall(labels):
    hit = sum(len(set(labels[i][:10]) & set(truth[i])) for i in range(len(qs)))
    return hit / truth.size

try:
    import hnswlib
    idx = hnswlib.Index(space="cosine", dim=dim)
    idx.init_index(max_elements=len(base), M=M, ef_construction=efc, random_seed=42)
    idx.set_num_threads(threads)
    t0 = time.time(); idx.add_items(base, np.arange(len(base))); build = time.time() - t0
    size = ""
    with tempfile.TemporaryDirectory() as d:
        idx.save_index(os.path.join(d, "i")); size = "%.0f MB" % (os.path.getsize(os.path.join(d, "i")) / 1e6)
    for ef in efs:
        idx.set_ef(ef)
        t0 = time.time(); labels, _ = idx.knn_query(qs, k=10, num_threads=threads); dt = time.time() - t0
        print(json.dumps({"lib": "hnswlib", "ef": ef, "recall": recall(labels), "qps": len(qs) / dt, "build_s": build, "size": size}), flush=True)
except ImportError:
    print(json.dumps({"lib": "hnswlib", "error": "not installed"}), flush=True)

if "faiss" in libs:
    try:
        import faiss
        faiss.omp_set_num_threads(threads)
        nb = base / np.linalg.norm(base, axis=1, keepdims=True)
        nq = qs / np.linalg.norm(qs, axis=1, keepdims=True)
        idx = faiss.IndexHNSWFlat(dim, M, faiss.METRIC_INNER_PRODUCT)
        idx.hnsw.efConstruction = efc
        t0 = time.time(); idx.add(nb.astype(np.float32)); build = time.time() - t0
        size = "%.0f MB" % (faiss.serialize_index(idx).nbytes / 1e6)
        for ef in efs:
            idx.hnsw.efSearch = ef
            t0 = time.time(); _, labels = idx.search(nq.astype(np.float32), 10); dt = time.time() - t0
            print(json.dumps({"lib": "faiss", "ef": ef, "recall": recall(labels), "qps": len(qs) / dt, "build_s": build, "size": size}), flush=True)
    except ImportError:
        print(json.dumps({"lib": "faiss", "error": "not installed"}), flush=True)
